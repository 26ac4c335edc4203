import Foundation

/// What the prompt generator needs from a tokenizer. `RiptideTokenizer.Tokenizer` satisfies it
/// as-is (`extension Tokenizer: PromptCodec {}`); tests use `WordStandInCodec`.
public protocol PromptCodec: Sendable {
    var vocabularySize: Int { get }
    func encode(_ text: String) -> [Int]
    func decode(_ ids: [Int]) -> String
}

/// A trivial tokenizer: token id n ⇄ the word "tn". Round-trips exactly, so tests can check lengths.
public struct WordStandInCodec: PromptCodec {
    public let vocabularySize: Int
    public init(vocabularySize: Int = 32_000) { self.vocabularySize = vocabularySize }
    public func encode(_ text: String) -> [Int] {
        text.split(separator: " ").compactMap { $0.hasPrefix("t") ? Int($0.dropFirst()) : nil }
    }
    public func decode(_ ids: [Int]) -> String { ids.map { "t\($0)" }.joined(separator: " ") }
}

/// One request of the random dataset.
public struct BenchPrompt: Sendable, Equatable {
    public var text: String
    /// Client-side token count of `text` (re-encoded), used for input throughput.
    public var promptLength: Int
    /// `max_tokens` to request (sampled OSL).
    public var outputLength: Int
}

/// SplitMix64: tiny, seedable, good enough for benchmark workloads. (numpy's MT19937 stream is not
/// reproduced; prompts are deterministic for a seed but not identical to InferenceX's.)
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The InferenceX "random" dataset (method §3): lengths ~ U[floor(L·ratio), L], consecutive token
/// ids from a random per-request offset (no shared prefix), decoded to text, then re-encoded and
/// padded/truncated up to 10 times until the text re-encodes to the target length.
public struct PromptGenerator: Sendable {
    public var inputLength: Int
    public var outputLength: Int
    public var rangeRatio: Double
    public var seed: UInt64

    public init(inputLength: Int, outputLength: Int, rangeRatio: Double = 0.8, seed: UInt64 = 0) {
        self.inputLength = inputLength; self.outputLength = outputLength
        self.rangeRatio = rangeRatio; self.seed = seed
    }

    public static func lengthRange(_ length: Int, ratio: Double) -> ClosedRange<Int> {
        let lo = Int((Double(length) * ratio).rounded(.down))
        return min(lo, length)...length
    }

    public func make(count: Int, codec: some PromptCodec) -> [BenchPrompt] {
        var rng = SplitMix64(seed: seed)
        let vocab = max(codec.vocabularySize, 1)
        // Draw all lengths first, then offsets, as the reference does.
        let inLens = (0..<count).map { _ in Int.random(in: Self.lengthRange(inputLength, ratio: rangeRatio), using: &rng) }
        let outLens = (0..<count).map { _ in Int.random(in: Self.lengthRange(outputLength, ratio: rangeRatio), using: &rng) }
        let offsets = (0..<count).map { _ in Int.random(in: 0..<vocab, using: &rng) }
        // Decode/re-encode dominates with a real tokenizer (conc×10 prompts of up to ISL tokens), so
        // prompts are built in parallel; each gets its own padding RNG so the result doesn't depend
        // on scheduling.
        let out = UnsafeMutableBufferPointer<BenchPrompt>.allocate(capacity: count)
        out.initialize(repeating: BenchPrompt(text: "", promptLength: 0, outputLength: 0))
        defer { out.deallocate() }
        nonisolated(unsafe) let slots = out
        let base = seed
        DispatchQueue.concurrentPerform(iterations: count) { i in
            var padRNG = SplitMix64(seed: base &+ 0x5EED_0000_0000 &+ UInt64(i))
            let target = max(inLens[i], 1)
            let ids = (0..<target).map { j in (offsets[i] + i + j) % vocab }
            let (text, length) = Self.fit(ids: ids, target: target, codec: codec, rng: &padRNG)
            slots[i] = BenchPrompt(text: text, promptLength: length, outputLength: max(outLens[i], 1))
        }
        return Array(out)
    }

    /// Decode → re-encode; truncate if the text grew, pad with random ids if it shrank.
    static func fit(ids start: [Int], target: Int, codec: some PromptCodec,
                    rng: inout SplitMix64) -> (String, Int) {
        var ids = start
        var text = codec.decode(ids)
        var length = codec.encode(text).count
        for _ in 0..<10 where length != target {
            let encoded = codec.encode(text)
            if encoded.count > target {
                ids = Array(encoded.prefix(target))
            } else {
                ids = encoded + (0..<(target - encoded.count)).map { _ in
                    Int.random(in: 0..<codec.vocabularySize, using: &rng)
                }
            }
            text = codec.decode(ids)
            length = codec.encode(text).count
        }
        return (text, length)
    }
}
