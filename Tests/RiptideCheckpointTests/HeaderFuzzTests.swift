import Foundation
import Testing
@testable import RiptideCheckpoint

/// Mutates valid headers 100,000 times (byte flips, insertions, deletions, splices of JSON tokens,
/// length-field damage) and checks that parsing either succeeds with a consistent result or throws
/// a CheckpointError naming the file: never a trap. Deterministic (fixed seed), bounded in time.
@Test func fuzzHeaderParser() throws {
    let specs = Array(sampleSpecs.prefix(6))
    let dir = temporaryDirectory()
    let url = dir.appendingPathComponent("seed.safetensors")
    try SafetensorsWriter.write(specs, to: url, metadata: ["format": "pt"], produce: patternBytes)
    let seed = try [UInt8](Data(contentsOf: url))
    let headerLength = Int(seed[0]) | Int(seed[1]) << 8 | Int(seed[2]) << 16
    let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "-1", "1e999", "0.5", "null", "true",
                  "\"dtype\"", "\"F8_E4M3\"", "\"shape\"", "\"data_offsets\"", "18446744073709551615", "\u{0}", "\u{FFFF}"].map { Array($0.utf8) }
    var rng = SplitMix64(seed: 0xD5EE_0004)
    var accepted = 0, rejected = 0
    let iterations = 100_000
    for _ in 0..<iterations {
        var bytes = seed
        var headerEnd = 8 + headerLength
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            let at = 8 + Int(rng.next() % UInt64(max(1, headerEnd - 8)))
            switch rng.next() % 6 {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            case 1: bytes[at] ^= UInt8(1 << (rng.next() % 8))
            case 2: bytes.remove(at: at); headerEnd -= 1
            case 3:
                let t = tokens[Int(rng.next() % UInt64(tokens.count))]
                bytes.insert(contentsOf: t, at: at); headerEnd += t.count
            case 4: bytes[Int(rng.next() % 8)] = UInt8(truncatingIfNeeded: rng.next())  // damage the length
            default: bytes.removeLast(Int(rng.next() % 16))  // truncate the data
            }
        }
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(CheckpointError) in try SafetensorsHeader(file: raw, fileName: "fuzz.safetensors") }
        }
        switch result {
        case .success(let header):
            accepted += 1
            for t in header.tensors {
                #expect(header.dataStart + t.dataRange.upperBound <= bytes.count)
                #expect(t.elementCount * t.dtype.byteWidth == t.byteCount)
            }
        case .failure(let error):
            rejected += 1
            #expect(error.file == "fuzz.safetensors")
        }
    }
    #expect(accepted + rejected == iterations)
    #expect(rejected > iterations / 2)  // the mutations really do break headers
}

/// Small deterministic PRNG (SplitMix64) so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
