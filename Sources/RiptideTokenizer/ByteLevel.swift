/// GPT-2 style byte-level alphabet: every byte 0...255 gets a printable Unicode character so that
/// BPE vocabularies can be stored as text. Printable Latin-1 bytes map to themselves; the other 68
/// bytes (controls, space, 0x7F-0xA0, 0xAD) map to U+0100, U+0101, ... in byte order.
enum ByteLevel {
    /// byte → the scalar that represents it in vocab strings.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if isPrintable(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// scalar value → byte + 1 for the 256 scalars above (all below U+0144); 0 means absent.
    static let scalarToByte: [UInt16] = {
        var map = [UInt16](repeating: 0, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { map[Int(s.value)] = UInt16(b) + 1 }
        return map
    }()

    private static func isPrintable(_ b: Int) -> Bool {
        (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
    }

    /// Bytes of a vocab string written in the byte-level alphabet, or nil if some character is
    /// outside it (added tokens like `<｜User｜>` are plain text, not byte-level encoded).
    static func bytes(ofEncoded token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for s in token.unicodeScalars {
            guard s.value < 0x144, scalarToByte[Int(s.value)] != 0 else { return nil }
            out.append(UInt8(scalarToByte[Int(s.value)] - 1))
        }
        return out
    }

    /// What HF's ByteLevel decoder produces for one token: the mapped bytes when every character
    /// is in the alphabet, otherwise the token's own UTF-8 bytes.
    static func decodedBytes(ofToken token: String) -> [UInt8] {
        bytes(ofEncoded: token) ?? Array(token.utf8)
    }
}
