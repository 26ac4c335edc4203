import Foundation
import Testing
import RiptideCheckpoint
@testable import RiptideModel

/// A fresh directory for a test checkpoint, under one per test process that is removed when the process exits.
func temporaryCheckpointDirectory(_ kind: String) -> URL {
    removeAtExit
    return processDirectory().appendingPathComponent("\(kind)-\(UUID().uuidString)")
}
private func processDirectory() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("riptide-tests-\(getpid())") }
private let removeAtExit: Void = { atexit { try? FileManager.default.removeItem(at: processDirectory()) } }()

/// Writes a sharded checkpoint with every tensor `config` implies (zero-filled) and returns its directory.
func writeZeroCheckpoint(_ config: ModelConfig, maxShardBytes: Int, skipping: Set<String> = []) throws -> URL {
    let dir = temporaryCheckpointDirectory("report")
    let specs = config.expectedTensors.filter { !skipping.contains($0.name) }
    try SafetensorsWriter.writeSharded(specs, to: dir, maxShardBytes: maxShardBytes) { [UInt8](repeating: 0, count: $0.byteCount) }
    return dir
}

@Test func shardedCheckpointReportListsEveryTensor() throws {
    var config = try ModelConfig(contentsOf: fixtureURL("tiny-config"))
    config.vocabSize = 1024  // keep the test checkpoint small
    let dir = try writeZeroCheckpoint(config, maxShardBytes: 1 << 20)
    let checkpoint = try Checkpoint(directory: dir)
    #expect(checkpoint.files.count > 1)
    let report = CheckpointReport(checkpoint: checkpoint, config: config)
    let expected = config.expectedTensors.sorted { $0.name < $1.name }
    #expect(report.entries.map(\.name) == expected.map(\.name))
    #expect(report.entries.map(\.dtype) == expected.map(\.dtype))
    #expect(report.entries.map(\.shape) == expected.map(\.shape))
    #expect(report.mismatches == [])
    #expect(report.totalBytes == expected.reduce(0) { $0 + $1.byteCount })
    // FP4 experts: 5 blocks (4 layers + MTP) × 8 experts × 3 matrices × 128×256 values, two per I8 byte.
    let i8 = try #require(report.totals.first { $0.dtype == .i8 })
    #expect(i8.parameters == 5 * 8 * 3 * 128 * 256 && i8.bytes == i8.parameters / 2)
}

@Test func reportFindsMissingAndMisshapenTensors() throws {
    var config = try ModelConfig(contentsOf: fixtureURL("tiny-config"))
    config.vocabSize = 1024
    let dir = try writeZeroCheckpoint(config, maxShardBytes: 1 << 22, skipping: ["layers.1.attn.indexer.wq_b.scale"])
    var other = config
    other.nRoutedExperts = 9
    let report = CheckpointReport(checkpoint: try Checkpoint(directory: dir), config: other)
    let text = (report.mismatches ?? []).map(\.description)
    #expect(text.contains("missing layers.1.attn.indexer.wq_b.scale (F8_E8M0 [4, 1])"))
    #expect(text.contains("missing layers.0.ffn.experts.8.w1.weight (I8 [128, 128])"))
    #expect(text.contains("layers.3.ffn.gate.bias: expected F32 [9], found F32 [8]"))
}

/// Writes synthetic weights for `config`, leaving out `skipping` and letting `override` replace bytes.
func writeSyntheticCheckpoint(_ config: ModelConfig, skipping: Set<String> = [], override: (TensorSpec, [UInt8]) -> [UInt8] = { $1 }) throws -> URL {
    let dir = temporaryCheckpointDirectory("load")
    let weights = SyntheticWeights(config: config, seed: 3)
    let specs = config.expectedTensors.filter { !skipping.contains($0.name) }
    try SafetensorsWriter.writeSharded(specs, to: dir, maxShardBytes: 1 << 22) { override($0, weights.bytes(for: $0)) }
    return dir
}

/// Loading validates every tensor against the config; the error names the tensor.
@Test func loadingNamesMissingMisshapenAndCorruptTensors() throws {
    var config = try ModelConfig(contentsOf: fixtureURL("tiny-config"))
    config.vocabSize = 1024
    let missing = try writeSyntheticCheckpoint(config, skipping: ["layers.2.attn.compressor.ape"])
    let e1 = #expect(throws: CheckpointError.self) { try Transformer(checkpoint: try Checkpoint(directory: missing), config: config) }
    #expect(e1?.tensor == "layers.2.attn.compressor.ape")

    var wider = config
    wider.moeInterDim = 256
    let e2 = #expect(throws: CheckpointError.self) { try Transformer(checkpoint: try Checkpoint(directory: missing), config: wider) }
    #expect(e2?.problem.contains("shape") == true)

    // A NaN (0xFF) E8M0 scale byte is refused at load.
    let nan = try writeSyntheticCheckpoint(config) { spec, bytes in spec.name == "layers.0.attn.wkv.scale" ? bytes.map { _ in 0xFF } : bytes }
    let e3 = #expect(throws: CheckpointError.self) { try Transformer(checkpoint: try Checkpoint(directory: nan), config: config) }
    #expect(e3?.tensor == "layers.0.attn.wkv.scale" && e3?.problem.contains("NaN") == true)

    // A hash-routing row naming one expert twice (spec §11.1.8) is refused too.
    let duplicate = try writeSyntheticCheckpoint(config) { spec, bytes in
        spec.name == "layers.0.ffn.gate.tid2eid" ? [UInt8](repeating: 0, count: bytes.count) : bytes
    }
    #expect(throws: RiptideModelError.self) { try Transformer(checkpoint: try Checkpoint(directory: duplicate), config: config) }

    // And the intact checkpoint loads.
    _ = try Transformer(checkpoint: try Checkpoint(directory: try writeSyntheticCheckpoint(config)), config: config)
}
