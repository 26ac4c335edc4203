import Foundation
import RiptideCheckpoint
@testable import RiptideModel

/// Synthetic checkpoints written once per test process, exactly as `riptide init-model --preset P
/// --seed 0` writes them (the fixtures were produced from those).
enum ReferenceModels {
    static let tiny = load(.tiny)
    static let tinyReal = load(.tinyReal)
    static let tinyStress = load(.tinyStress)
    static let tinyFast = load(.tiny, kernels: .fast)
    static let tinyRealFast = load(.tinyReal, kernels: .fast)
    static let tinyStressFast = load(.tinyStress, kernels: .fast)

    static func model(_ preset: String, kernels: KernelChoice = .reference) -> Transformer {
        switch (preset, kernels) {
        case ("tiny", .reference): tiny
        case ("tiny-real", .reference): tinyReal
        case ("tiny-stress", .reference): tinyStress
        case ("tiny", .fast): tinyFast
        case ("tiny-real", .fast): tinyRealFast
        case ("tiny-stress", .fast): tinyStressFast
        default: fatalError("no test model for preset \(preset)")
        }
    }

    private static func load(_ preset: ModelPreset, kernels: KernelChoice = .reference) -> Transformer {
        let config = preset.config()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("riptide-\(preset.rawValue)-\(UUID().uuidString)")
        let weights = SyntheticWeights(config: config, seed: 0)
        try! SafetensorsWriter.writeSharded(config.expectedTensors, to: dir, maxShardBytes: 2048 << 20, metadata: ["format": "pt"], produce: weights.bytes)
        try! config.huggingFaceJSON().write(to: dir.appendingPathComponent("config.json"))
        let model = try! Transformer(directory: dir, kernels: kernels)
        try? FileManager.default.removeItem(at: dir)  // the mappings stay valid after unlinking
        return model
    }
}

/// A reference fixture made by tools/fixtures/make_model_fixtures.py from the Python oracle.
struct ReferenceFixture: Decodable {
    struct Logits: Decodable {
        let greedy: Int
        let max_abs: Float
        let top: [[Double]]
        let sample: String
        let fnv1a: String
        let mtp: MTPLogits?

        var samples: [Float] {
            let data = Data(base64Encoded: sample)!
            return data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        }
        var topIds: [Int] { top.map { Int($0[0]) } }
        var topValues: [Float] { top.map { Float($0[1]) } }
    }
    typealias MTPLogits = GreedyStep
    struct GreedyStep: Decodable {
        let greedy: Int
        let max_abs: Float
        let top: [[Double]]
        let sample: String
    }
    struct Greedy: Decodable {
        let generated: [Int]
        let steps: [GreedyStep]
    }

    let preset: String
    let prompt: [Int]
    let teacher: [Int]
    let sample_ids: [Int]
    let steps: [Logits]
    let greedy: Greedy

    static func load(_ name: String) throws -> ReferenceFixture {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/reference") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/reference/\(name).json"])
        }
        return try JSONDecoder().decode(ReferenceFixture.self, from: Data(contentsOf: url))
    }
}

/// How one step of our logits compares with the reference's.
struct StepComparison {
    let relativeError: Float      // max|Δlogit| / max|logit| over the sample ids and both top-32 lists
    let sameTop1: Bool
    let referenceGap: Float       // reference top-1 minus top-2, relative to max|logit|
}

func compare(_ ours: [Float], with ref: ReferenceFixture.Logits, sampleIds: [Int]) -> StepComparison {
    let samples = ref.samples
    var maxDelta: Float = 0
    for (k, id) in sampleIds.enumerated() { maxDelta = max(maxDelta, abs(ours[id] - samples[k])) }
    for (id, value) in zip(ref.topIds, ref.topValues) { maxDelta = max(maxDelta, abs(ours[id] - value)) }
    let ourTop1 = ours.indices.max { ours[$0] < ours[$1] || (ours[$0] == ours[$1] && $0 > $1) }!
    let gap = (ref.topValues[0] - ref.topValues[1]) / ref.max_abs
    return StepComparison(relativeError: maxDelta / ref.max_abs, sameTop1: ourTop1 == ref.greedy, referenceGap: gap)
}

func percentile(_ v: [Float], _ p: Double) -> Float {
    let s = v.sorted()
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}

/// 64-bit FNV-1a of the little-endian fp32 bytes, hex (as the fixture script computes it).
func fnv1aHex(_ v: [Float]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    v.withUnsafeBytes { for b in $0 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
    return String(h, radix: 16).leftPadded(to: 16)
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
