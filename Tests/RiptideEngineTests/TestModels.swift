import Foundation
import RiptideCheckpoint
import RiptideEngine
import RiptideModel
import RiptideTokenizer

/// Synthetic checkpoints written once per test process (as `riptide init-model --seed 0` does),
/// loaded with the default fast kernels.
enum TestModels {
    static let tiny = load(.tiny)
    static let tinyReal = load(.tinyReal)
    static let tokenizer = try! Tokenizer.bundled()

    private static func load(_ preset: ModelPreset) -> Transformer {
        let config = preset.config()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("riptide-engine-\(preset.rawValue)-\(UUID().uuidString)")
        let weights = SyntheticWeights(config: config, seed: 0)
        try! SafetensorsWriter.writeSharded(config.expectedTensors, to: dir, maxShardBytes: 2048 << 20, metadata: ["format": "pt"], produce: weights.bytes)
        try! config.huggingFaceJSON().write(to: dir.appendingPathComponent("config.json"))
        let model = try! Transformer(directory: dir, kernels: .fast)
        try? FileManager.default.removeItem(at: dir)
        return model
    }
}

/// What one request produced, gathered from its event stream.
struct Collected: Equatable {
    var tokens: [[Int]] = []
    var text: [String] = []
    var logprobs: [[TokenLogprob]] = []
    var finish: [FinishReason?] = []
    var usage: Usage?
    var failed: EngineError?

    init(n: Int) {
        tokens = Array(repeating: [], count: n)
        text = Array(repeating: "", count: n)
        logprobs = Array(repeating: [], count: n)
        finish = Array(repeating: nil, count: n)
    }

    static func == (a: Collected, b: Collected) -> Bool {
        a.tokens == b.tokens && a.text == b.text && a.logprobs == b.logprobs && a.finish == b.finish
    }
}

func collect(_ stream: AsyncStream<EngineEvent>, n: Int = 1) async -> Collected {
    var c = Collected(n: n)
    for await e in stream {
        switch e {
        case .started: break
        case .delta(let d):
            c.tokens[d.choice] += d.tokens
            c.text[d.choice] += d.text
            c.logprobs[d.choice] += d.logprobs
        case .finished(let choice, let reason, _): c.finish[choice] = reason
        case .completed(let u, _): c.usage = u
        case .failed(let e): c.failed = e
        }
    }
    return c
}

/// Deterministic pseudo-random token ids (SplitMix64), away from the special ids.
func randomTokens(seed: UInt64, count: Int) -> [Int] {
    var state = seed
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return 1000 + Int((z ^ (z >> 31)) % 120_000)
    }
}

func greedy(_ maxTokens: Int, logprobs: Int? = 8) -> SamplingParams {
    var p = SamplingParams()
    p.temperature = 0
    p.maxTokens = maxTokens
    p.ignoreEOS = true
    p.logprobs = logprobs
    return p
}

extension EngineConfig {
    static func with(_ edit: (inout EngineConfig) -> Void) -> EngineConfig {
        var c = EngineConfig()
        c.stateMemoryBytes = 1 << 30
        edit(&c)
        return c
    }
}
