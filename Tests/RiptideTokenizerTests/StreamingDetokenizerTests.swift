import Foundation
import Testing
import RiptideTokenizer

private func stream(_ tok: Tokenizer, _ ids: [Int]) -> (pieces: [String], total: String) {
    var s = StreamingDetokenizer(tokenizer: tok)
    var pieces = ids.map { s.append($0) }
    pieces.append(s.finish())
    return (pieces, pieces.joined())
}

/// Byte-level BPE splits multi-byte characters across tokens; the stream must never emit half of one.
@Test func streamingHoldsBackSplitCharacters() throws {
    let tok = try Shared.get()
    // Each single-byte token of a 4-byte emoji: nothing until the last byte.
    let emoji = "😀"
    let ids = Array(emoji.utf8).map { byteId(tok, $0) }
    var s = StreamingDetokenizer(tokenizer: tok)
    #expect(s.append(ids[0]) == "")
    #expect(s.append(ids[1]) == "")
    #expect(s.append(ids[2]) == "")
    #expect(s.append(ids[3]) == emoji)
    #expect(s.finish() == "")
}

@Test func streamingEqualsDecode() throws {
    let tok = try Shared.get()
    let texts = [
        "Hello, world! 你好，世界。こんにちは 안녕하세요",
        "👨‍👩‍👧‍👦 family, 👍🏽 thumbs, 🇺🇸 flag, é (e + U+0301)",
        "<｜User｜>Explain 𝔘𝔫𝔦𝔠𝔬𝔡𝔢<｜Assistant｜><think>ok</think>",
        "龘𠀀𠮷 rare CJK, Z͓͑͒a͔l͕g͖o",
    ]
    for text in texts {
        let ids = tok.encode(text)
        let (pieces, total) = stream(tok, ids)
        #expect(total == tok.decode(ids))
        #expect(total == text)
        // No piece may contain a replacement character that the full text lacks.
        #expect(!pieces.contains { $0.contains("\u{FFFD}") })
    }
}

@Test func streamingInvalidBytesMatchDecode() throws {
    let tok = try Shared.get()
    let cases: [[UInt8]] = [
        [0xF0, 0x9F, 0x98],              // truncated emoji: flushed by finish() as U+FFFD
        [0xE2, 0xF0, 0x9F, 0x98, 0x80],  // broken 3-byte lead, then a full emoji
        [0x80, 0x80, 0x41],              // stray continuation bytes
        [0xE0, 0x80, 0x41],              // overlong prefix
        [0xED, 0xA0, 0x80],              // surrogate encoding
        [0xC3],                          // lone lead byte at the end
    ]
    for bytes in cases {
        let ids = bytes.map { byteId(tok, $0) }
        let total = stream(tok, ids).total
        #expect(total == tok.decode(ids), "\(bytes)")
        #expect(total == String(decoding: bytes, as: UTF8.self), "\(bytes)")
    }
    var s = StreamingDetokenizer(tokenizer: tok)
    for id in [0xF0, 0x9F, 0x98].map({ byteId(tok, UInt8($0)) }) { #expect(s.append(id) == "") }
    #expect(s.finish() == "\u{FFFD}")
}

@Test func streamingRandomIdsEqualDecode() throws {
    let tok = try Shared.get()
    var rng = SplitMix64(state: 7)  // same sequence as the former SplitMix(seed: 7)
    for _ in 0..<300 {
        let ids = (0..<Int(rng.next() % 20 + 1)).map { _ in
            rng.next() % 2 == 0 ? byteId(tok, UInt8(0x80 + rng.next() % 0x80)) : Int(rng.next() % UInt64(tok.vocabularySize))
        }
        #expect(stream(tok, ids).total == tok.decode(ids), "\(ids)")
    }
}

/// Id of the single-byte token for `byte` (its byte-level alphabet character).
func byteId(_ tok: Tokenizer, _ byte: UInt8) -> Int {
    var scalar = UInt32(byte)
    let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    if !printable {
        var n: UInt32 = 0
        for b in 0..<UInt32(byte) {
            let p = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if !p { n += 1 }
        }
        scalar = 256 + n
    }
    return tok.id(forToken: String(Character(Unicode.Scalar(scalar)!)))!
}
