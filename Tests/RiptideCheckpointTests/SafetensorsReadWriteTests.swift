import Foundation
import Testing
@testable import RiptideCheckpoint

let sampleSpecs = [
    TensorSpec(name: "embed.weight", dtype: .bf16, shape: [10, 4]),
    TensorSpec(name: "layers.0.attn.wq_a.weight", dtype: .f8e4m3, shape: [4, 6]),
    TensorSpec(name: "layers.0.attn.wq_a.scale", dtype: .f8e8m0, shape: [1, 1]),
    TensorSpec(name: "layers.0.ffn.gate.tid2eid", dtype: .i64, shape: [10, 2]),
    TensorSpec(name: "hc_head_scale", dtype: .f32, shape: [1]),
    TensorSpec(name: "experts.packed", dtype: .i8, shape: [3, 5]),
    TensorSpec(name: "mask", dtype: .bool, shape: [7]),
    TensorSpec(name: "counts", dtype: .i32, shape: [2, 2]),
    TensorSpec(name: "bytes", dtype: .u8, shape: [3]),
    TensorSpec(name: "half", dtype: .f16, shape: [2]),
    TensorSpec(name: "scalar", dtype: .f32, shape: []),
    TensorSpec(name: "empty", dtype: .f32, shape: [0, 3]),
]

@Test func singleFileRoundTrip() throws {
    let dir = temporaryDirectory()
    let url = dir.appendingPathComponent("model.safetensors")
    try SafetensorsWriter.write(sampleSpecs, to: url, metadata: ["format": "pt"], produce: patternBytes)
    let file = try SafetensorsFile(path: url.path)
    #expect(file.header.metadata == ["format": "pt"])
    #expect(file.header.dataStart % 8 == 0)
    #expect(file.tensors.count == sampleSpecs.count)
    for spec in sampleSpecs {
        let info = try #require(file.info(spec.name))
        #expect(info.dtype == spec.dtype)
        #expect(info.shape == spec.shape)
        #expect(Array(file.data(info)) == patternBytes(spec))
    }
    let checkpoint = try Checkpoint(directory: dir)
    #expect(checkpoint.tensorNames == sampleSpecs.map(\.name).sorted())
}

@Test func shardedRoundTrip() throws {
    let dir = temporaryDirectory()
    try SafetensorsWriter.writeSharded(sampleSpecs, to: dir, maxShardBytes: 64, produce: patternBytes)
    let shardNames = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".safetensors") }
    #expect(shardNames.count > 2)
    #expect(shardNames.allSatisfy { $0.hasPrefix("model-0000") && $0.contains("-of-") })
    let checkpoint = try Checkpoint(directory: dir)
    #expect(checkpoint.files.count == shardNames.count)
    for spec in sampleSpecs {
        let ref = try checkpoint.tensor(spec.name, dtype: spec.dtype, shape: spec.shape)
        #expect(Array(ref.data) == patternBytes(spec))
    }
    #expect(throws: CheckpointError.self) { try checkpoint.tensor("embed.weight", dtype: .f32, shape: [10, 4]) }
    #expect(throws: CheckpointError.self) { try checkpoint.tensor("embed.weight", dtype: .bf16, shape: [4, 10]) }
    let missing = #expect(throws: CheckpointError.self) { try checkpoint.tensor("nope", dtype: .bf16, shape: [1]) }
    #expect(missing?.tensor == "nope")
}

@Test func headerIsParsedAsSafetensorsDefines() throws {
    // Whitespace padding after the JSON, keys in any order, __metadata__ anywhere.
    let header = #"{"b":{"data_offsets":[0,4],"shape":[2],"dtype":"BF16"},"__metadata__":{"k":"v"},"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}    "#
    let url = writeTemporaryFile(safetensorsBytes(header: header, data: [1, 2, 3, 4, 5, 6]))
    let file = try SafetensorsFile(path: url.path)
    #expect(file.tensors.map(\.name) == ["b", "a"])  // data-offset order
    #expect(Array(file.data(try #require(file.info("a")))) == [5, 6])
}
