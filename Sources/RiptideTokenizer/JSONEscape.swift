/// The JSON string escapes, shared by the tokenizer.json reader and the chat format's
/// order-keeping parser. `i` points just past the backslash; on success the escape's UTF-8 is
/// appended to `out` and `i` moves past it. A high surrogate followed by a low one becomes one
/// scalar; a lone surrogate becomes U+FFFD (a Swift String cannot hold it). Returns an error
/// message, or nil.
func decodeJSONEscape<Bytes: RandomAccessCollection>(_ b: Bytes, at i: inout Int, into out: inout [UInt8]) -> String?
where Bytes.Element == UInt8, Bytes.Index == Int {
    guard i < b.count else { return "unterminated escape" }
    let e = b[i]
    i += 1
    switch e {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
    case UInt8(ascii: "b"): out.append(0x08)
    case UInt8(ascii: "f"): out.append(0x0C)
    case UInt8(ascii: "n"): out.append(0x0A)
    case UInt8(ascii: "r"): out.append(0x0D)
    case UInt8(ascii: "t"): out.append(0x09)
    case UInt8(ascii: "u"):
        guard var v = hex4(b, at: &i) else { return i + 4 <= b.count ? "invalid \\u escape" : "truncated \\u escape" }
        if v >= 0xD800 && v < 0xDC00, i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
            var j = i + 2
            if let low = hex4(b, at: &j), low >= 0xDC00 && low < 0xE000 {
                v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                i = j
            }  // otherwise the second escape is read on its own
        }
        out.append(contentsOf: String(Character(Unicode.Scalar(v) ?? "\u{FFFD}")).utf8)
    default: return "invalid escape"
    }
    return nil
}

/// Four hex digits at `i` (advanced past them), or nil with `i` unchanged.
private func hex4<Bytes: RandomAccessCollection>(_ b: Bytes, at i: inout Int) -> UInt32? where Bytes.Element == UInt8, Bytes.Index == Int {
    guard i + 4 <= b.count else { return nil }
    var v: UInt32 = 0
    for k in i..<(i + 4) {
        let c = b[k], d: UInt32
        switch c {
        case 0x30...0x39: d = UInt32(c - 0x30)
        case 0x41...0x46: d = UInt32(c - 0x41 + 10)
        case 0x61...0x66: d = UInt32(c - 0x61 + 10)
        default: return nil
        }
        v = v << 4 | d
    }
    i += 4
    return v
}
