import Foundation
import Testing
import RiptideCheckpoint
@testable import RiptideModel

/// Writes a sharded checkpoint with every tensor `config` implies (zero-filled) and returns its directory.
func writeZeroCheckpoint(_ config: ModelConfig, maxShardBytes: Int, skipping: Set<String> = []) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("riptide-report-\(UUID().uuidString)")
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
