import Foundation

/// Name, dtype and shape of a tensor to be written.
public struct TensorSpec: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]

    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var byteCount: Int { shape.reduce(1, *) * dtype.byteWidth }
}

/// Writes safetensors files and sharded checkpoints. Tensor bytes are produced one tensor at a time
/// by a callback, so multi-GiB synthetic checkpoints never sit in memory whole.
public enum SafetensorsWriter {
    /// Writes one file with `tensors` in the given order. `produce` returns each tensor's bytes
    /// (little-endian, exactly `spec.byteCount` of them).
    public static func write(
        _ tensors: [TensorSpec], to url: URL, metadata: [String: String] = [:],
        produce: (TensorSpec) throws -> [UInt8]
    ) throws {
        var offset = 0
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        for t in tensors {
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.byteCount)]}")
            offset += t.byteCount
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }  // pad with spaces so data starts 8-aligned

        guard let out = fopen(url.path, "wb") else {
            throw CheckpointError(file: url.path, "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { fclose(out) }
        var length = UInt64(header.count).littleEndian
        try put(&length, 8, out, url)
        try put(header, header.count, out, url)
        for t in tensors {
            let bytes = try produce(t)
            guard bytes.count == t.byteCount else {
                throw CheckpointError(file: url.path, tensor: t.name, "produced \(bytes.count) bytes, shape needs \(t.byteCount)")
            }
            try put(bytes, bytes.count, out, url)
        }
    }

    /// Writes `model-0000K-of-0000N.safetensors` shards of at most `maxShardBytes` each (a larger
    /// tensor gets a shard to itself) plus `model.safetensors.index.json`, in the official layout.
    public static func writeSharded(
        _ tensors: [TensorSpec], to directory: URL, maxShardBytes: Int, metadata: [String: String] = [:],
        produce: (TensorSpec) throws -> [UInt8]
    ) throws {
        var shards: [[TensorSpec]] = [[]]
        var shardBytes = 0
        for t in tensors {
            if shardBytes > 0, shardBytes + t.byteCount > maxShardBytes {
                shards.append([])
                shardBytes = 0
            }
            shards[shards.count - 1].append(t)
            shardBytes += t.byteCount
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var weightMap: [(String, String)] = []
        for (k, shard) in shards.enumerated() {
            let name = String(format: "model-%05d-of-%05d.safetensors", k + 1, shards.count)
            try write(shard, to: directory.appendingPathComponent(name), metadata: metadata, produce: produce)
            weightMap += shard.map { ($0.name, name) }
        }
        let total = tensors.reduce(0) { $0 + $1.byteCount }
        let mapJSON = weightMap.sorted { $0.0 < $1.0 }.map { "    \(jsonString($0.0)): \(jsonString($0.1))" }.joined(separator: ",\n")
        let index = "{\n  \"metadata\": {\n    \"total_size\": \(total)\n  },\n  \"weight_map\": {\n\(mapJSON)\n  }\n}\n"
        try Data(index.utf8).write(to: directory.appendingPathComponent(Checkpoint.indexFileName))
    }

    private static func put(_ p: UnsafeRawPointer, _ count: Int, _ out: UnsafeMutablePointer<FILE>, _ url: URL) throws {
        guard count == 0 || fwrite(p, 1, count, out) == count else {
            throw CheckpointError(file: url.path, "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// A JSON string literal (quotes, backslashes and control characters escaped).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
