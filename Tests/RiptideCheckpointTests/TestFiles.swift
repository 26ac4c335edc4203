import Foundation
@testable import RiptideCheckpoint

/// This test process's directory for files, removed when the process exits (tests make dozens).
func testProcessDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("riptide-tests-\(getpid())")
}
private let removeAtExit: Void = { atexit { try? FileManager.default.removeItem(at: testProcessDirectory()) } }()

/// A fresh temporary directory per test.
func temporaryDirectory(_ tag: String = #function) -> URL {
    removeAtExit
    let url = testProcessDirectory().appendingPathComponent("\(tag.filter(\.isLetter))-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Raw safetensors bytes from a header string and a data section, for hand-made corrupt files.
func safetensorsBytes(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    let n = declaredLength ?? UInt64(h.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
}

/// Writes `bytes` to a file in a new temporary directory and returns its URL.
func writeTemporaryFile(_ bytes: [UInt8], name: String = "model.safetensors", tag: String = #function) -> URL {
    let url = temporaryDirectory(tag).appendingPathComponent(name)
    try! Data(bytes).write(to: url)
    return url
}

/// Deterministic bytes for tensor contents.
func patternBytes(_ spec: TensorSpec) -> [UInt8] {
    var h = UInt32(truncatingIfNeeded: spec.name.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) })
    return (0..<spec.byteCount).map { _ in
        h = h &* 1_664_525 &+ 1_013_904_223
        return UInt8(truncatingIfNeeded: h >> 24)
    }
}
