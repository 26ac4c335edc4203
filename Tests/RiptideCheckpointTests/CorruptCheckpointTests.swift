import Foundation
import Testing
@testable import RiptideCheckpoint

/// Opens hand-made bytes and returns the error, which must exist and mention `expected`.
@discardableResult
func expectCorrupt(_ bytes: [UInt8], mentions expected: String, tensor: String? = nil, tag: String = #function) -> CheckpointError? {
    let url = writeTemporaryFile(bytes, tag: tag)
    do {
        _ = try SafetensorsFile(path: url.path)
        Issue.record("expected an error mentioning '\(expected)'")
        return nil
    } catch {
        #expect(error.file == url.path, "error must name the file")
        #expect(error.description.contains(expected), "\(error.description) should mention \(expected)")
        if let tensor { #expect(error.tensor == tensor) }
        return error
    }
}

let goodHeader = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

@Test func truncatedFile() {
    let bytes = safetensorsBytes(header: goodHeader, data: [UInt8](repeating: 0, count: 8))
    expectCorrupt(Array(bytes.prefix(5)), mentions: "too short")
    expectCorrupt(Array(bytes.dropLast(3)), mentions: "run past the data section", tensor: "w")
}

@Test func headerLengthPastEOF() {
    expectCorrupt(safetensorsBytes(header: goodHeader, data: [], declaredLength: 1 << 40), mentions: "runs past the end of the file")
}

@Test func invalidHeaderJSON() {
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"F32","#, data: []), mentions: "invalid header JSON")
    expectCorrupt(safetensorsBytes(header: "[1,2]", data: []), mentions: "not an object")
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} x"#, data: []), mentions: "trailing")
    expectCorrupt(safetensorsBytes(header: "{\"\u{01}\":1}", data: []), mentions: "control character")
}

@Test func unknownDtype() {
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}"#, data: [0]),
                  mentions: "unknown dtype 'F4'", tensor: "w")
}

@Test func offsetsOutOfRangeOrOverlapping() {
    let data = [UInt8](repeating: 0, count: 16)
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}"#, data: data),
                  mentions: "run past the data section", tensor: "w")
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#, data: data),
                  mentions: "end before they begin", tensor: "w")
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, data: data),
                  mentions: "not a pair of non-negative integers", tensor: "w")
    expectCorrupt(safetensorsBytes(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: data),
                  mentions: "overlap tensor 'a'", tensor: "b")
}

@Test func sizeMismatch() {
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
                  mentions: "needs 3 × 2 bytes but data_offsets give 8", tensor: "w")
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"BF16","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
                  mentions: "overflows", tensor: "w")
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"BF16","shape":[1.5],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
                  mentions: "not a non-negative integer", tensor: "w")
}

@Test func duplicateNameInOneFile() {
    expectCorrupt(safetensorsBytes(header: #"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, data: [0, 0]),
                  mentions: "duplicate key \"w\"")
}

@Test func shardedCheckpointErrors() throws {
    let specs = [TensorSpec(name: "a", dtype: .f32, shape: [4]), TensorSpec(name: "b", dtype: .f32, shape: [4])]

    // A missing shard names the shard file.
    let dir = temporaryDirectory()
    try SafetensorsWriter.writeSharded(specs, to: dir, maxShardBytes: 16, produce: patternBytes)
    let second = dir.appendingPathComponent("model-00002-of-00002.safetensors")
    try FileManager.default.removeItem(at: second)
    let missing = #expect(throws: CheckpointError.self) { try Checkpoint(directory: dir) }
    #expect(missing?.file == second.path)
    #expect(missing?.problem.contains("missing") == true)

    // The same tensor stored in two shards.
    let dup = temporaryDirectory()
    try SafetensorsWriter.write([specs[0]], to: dup.appendingPathComponent("s1.safetensors"), produce: patternBytes)
    try SafetensorsWriter.write([specs[0]], to: dup.appendingPathComponent("s2.safetensors"), produce: patternBytes)
    try Data(#"{"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}}"#.utf8).write(to: dup.appendingPathComponent(Checkpoint.indexFileName))
    let duplicate = #expect(throws: CheckpointError.self) { try Checkpoint(directory: dup) }
    #expect(duplicate?.tensor == "a")

    // Index JSON that is broken, and a shard path that escapes the directory.
    try Data("{not json".utf8).write(to: dup.appendingPathComponent(Checkpoint.indexFileName))
    #expect(throws: CheckpointError.self) { try Checkpoint(directory: dup) }
    try Data(#"{"weight_map":{"a":"../s1.safetensors"}}"#.utf8).write(to: dup.appendingPathComponent(Checkpoint.indexFileName))
    let escape = #expect(throws: CheckpointError.self) { try Checkpoint(directory: dup) }
    #expect(escape?.problem.contains("plain file name") == true)

    // No weights at all.
    let empty = temporaryDirectory()
    let none = #expect(throws: CheckpointError.self) { try Checkpoint(directory: empty) }
    #expect(none?.problem.contains("no model.safetensors.index.json") == true)
}
