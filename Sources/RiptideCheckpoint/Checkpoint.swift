import Foundation

/// A tensor found in a checkpoint: its header entry and where its bytes live.
public struct TensorRef: Sendable {
    public let info: TensorInfo
    public let file: SafetensorsFile

    public var name: String { info.name }
    public var dtype: DType { info.dtype }
    public var shape: [Int] { info.shape }
    /// Zero-copy view of the tensor's bytes; valid while `file` lives (this ref keeps it alive).
    public var data: UnsafeRawBufferPointer { file.data(info) }
}

/// A Hugging Face model directory's weights: either one `model.safetensors` or the shards listed in
/// `model.safetensors.index.json` (`{"weight_map": {tensor: shard file}}`).
public struct Checkpoint: Sendable {
    public let directory: URL
    public let files: [SafetensorsFile]
    private let refs: [String: TensorRef]

    public static let indexFileName = "model.safetensors.index.json"
    public static let singleFileName = "model.safetensors"

    public init(directory: URL) throws(CheckpointError) {
        self.directory = directory
        let indexURL = directory.appendingPathComponent(Self.indexFileName)
        let singleURL = directory.appendingPathComponent(Self.singleFileName)
        if FileManager.default.fileExists(atPath: indexURL.path) {
            (files, refs) = try Self.openSharded(indexURL: indexURL, directory: directory)
        } else if FileManager.default.fileExists(atPath: singleURL.path) {
            let file = try SafetensorsFile(path: singleURL.path)
            files = [file]
            refs = Dictionary(file.tensors.map { ($0.name, TensorRef(info: $0, file: file)) }, uniquingKeysWith: { a, _ in a })
        } else {
            throw CheckpointError(file: directory.path, "no \(Self.indexFileName) or \(Self.singleFileName) in this directory")
        }
    }

    /// All tensors, sorted by name.
    public var tensors: [TensorRef] { refs.values.sorted { $0.name < $1.name } }
    public var tensorNames: [String] { refs.keys.sorted() }

    public func tensor(_ name: String) -> TensorRef? { refs[name] }

    /// Looks a tensor up and checks its dtype and shape; the error names the tensor and its shard.
    public func tensor(_ name: String, dtype: DType, shape: [Int]) throws(CheckpointError) -> TensorRef {
        guard let ref = refs[name] else { throw CheckpointError(file: directory.path, tensor: name, "missing from the checkpoint") }
        guard ref.dtype == dtype else {
            throw CheckpointError(file: ref.file.path, tensor: name, "dtype is \(ref.dtype.rawValue), expected \(dtype.rawValue)")
        }
        guard ref.shape == shape else { throw CheckpointError(file: ref.file.path, tensor: name, "shape is \(ref.shape), expected \(shape)") }
        return ref
    }

    private static func openSharded(indexURL: URL, directory: URL) throws(CheckpointError) -> ([SafetensorsFile], [String: TensorRef]) {
        let map = try readWeightMap(indexURL)
        var files: [SafetensorsFile] = []
        var refs: [String: TensorRef] = [:]
        for shard in Set(map.values).sorted() {
            let shardURL = directory.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: shardURL.path) else {
                throw CheckpointError(file: shardURL.path, "shard listed in \(indexFileName) is missing")
            }
            let file = try SafetensorsFile(path: shardURL.path)
            for info in file.tensors {
                if let other = refs[info.name] {
                    throw CheckpointError(file: file.path, tensor: info.name, "duplicate: also stored in \(other.file.path)")
                }
                guard map[info.name] == shard else {
                    throw CheckpointError(file: file.path, tensor: info.name, "stored here but \(indexFileName) maps it to \(map[info.name] ?? "nothing")")
                }
                refs[info.name] = TensorRef(info: info, file: file)
            }
            files.append(file)
        }
        for (name, shard) in map where refs[name] == nil {
            throw CheckpointError(file: directory.appendingPathComponent(shard).path, tensor: name, "listed in \(indexFileName) but not in this shard")
        }
        return (files, refs)
    }

    private static func readWeightMap(_ url: URL) throws(CheckpointError) -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw CheckpointError(file: url.path, "cannot read: \(error.localizedDescription)") }
        let json: HeaderJSON
        do { json = try data.withUnsafeBytes { raw throws(HeaderJSONError) in try HeaderJSON.parse(raw) } } catch {
            throw CheckpointError(file: url.path, "invalid JSON: \(error)")
        }
        guard case .object(let top) = json, case .object(let entries)? = top.first(where: { $0.key == "weight_map" })?.value else {
            throw CheckpointError(file: url.path, "no \"weight_map\" object")
        }
        var map: [String: String] = [:]
        for (name, value) in entries {
            guard case .string(let shard) = value else { throw CheckpointError(file: url.path, tensor: name, "weight_map value is not a string") }
            guard !shard.contains("/"), !shard.hasPrefix(".") else {
                throw CheckpointError(file: url.path, tensor: name, "shard name '\(shard)' must be a plain file name")
            }
            map[name] = shard
        }
        return map
    }
}
