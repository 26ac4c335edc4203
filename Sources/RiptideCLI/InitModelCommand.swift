import ArgumentParser
import Foundation
import RiptideCheckpoint
import RiptideModel

struct InitModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-model",
        abstract: "Write a synthetic DeepSeek-V4 checkpoint in the official Hugging Face layout.",
        discussion: """
            Writes config.json, sharded safetensors with model.safetensors.index.json (FP8 e4m3 weights \
            with E8M0 128×128 scales, FP4 experts packed in I8 with E8M0 scales per 32 inputs), and \
            tokenizer.json. Presets: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).
            """)

    @Option(help: "Model shape: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: String = "tiny"

    @Option(help: "Random seed for the weights.")
    var seed: UInt64 = 0

    @Option(help: "Output directory (created; must be empty or absent).")
    var out: String

    @Option(help: "flash only: number of layers (pattern 0, 0, 4, 128, 4, …).")
    var layers: Int?

    @Option(help: "Routed experts per layer (fewer than the preset's, to save memory).")
    var experts: Int?

    @Flag(help: "After writing, run 512 tokens through the model and print the SwiGLU clamp rate, the load per routed expert and the residual RMS per layer.")
    var stats = false

    @Option(help: "Largest shard size in MiB.")
    var shardMiB: Int = 2048

    func run() throws {
        guard let modelPreset = ModelPreset(rawValue: preset) else {
            throw CLIError("unknown preset '\(preset)'; choose one of \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if layers != nil && modelPreset != .flash { throw CLIError("--layers applies only to the flash preset") }
        if let layers, layers < 1 { throw CLIError("--layers must be at least 1") }
        if let experts, experts < 1 { throw CLIError("--experts must be at least 1") }
        let config = modelPreset.config(layers: layers, experts: experts)
        do { try config.validate() } catch { throw CLIError("preset \(preset): \(error.message)") }

        let dir = URL(fileURLWithPath: out)
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: dir.path), !existing.isEmpty {
            throw CLIError("\(dir.path): directory is not empty; choose a new --out")
        }
        try writeCheckpoint(config: config, to: dir)
        if stats {
            let transformer = try loadModel(dir.path)
            let tokens = ModelStats.sampleTokens(count: 512, vocabulary: config.vocabSize)
            print(try ModelStats(transformer: transformer, tokens: tokens).report)
        }
    }

    func writeCheckpoint(config: ModelConfig, to dir: URL) throws {
        let start = ContinuousClock.now
        try writeSyntheticCheckpoint(config: config, seed: seed, to: dir, shardBytes: shardMiB << 20)
        let bytes = config.expectedTensors.reduce(0) { $0 + $1.byteCount }
        print("wrote \(preset) (seed \(seed)): \(config.expectedTensors.count) tensors, \(humanBytes(bytes)) to \(dir.path) in \(String(format: "%.1f", secondsSince(start))) s")
    }
}
