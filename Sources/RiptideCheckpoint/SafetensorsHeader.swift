/// The parsed and validated header of one safetensors file.
///
/// Layout: `u64 little-endian N`, then N bytes of JSON, then the data section. The JSON maps tensor
/// names to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data section)
/// plus an optional `"__metadata__"` string map.
public struct SafetensorsHeader: Sendable {
    /// Tensors in data-offset order.
    public let tensors: [TensorInfo]
    public let metadata: [String: String]
    /// Absolute file offset of the data section.
    public let dataStart: Int

    /// Largest header we accept; the official shards' headers are well under 1 MiB.
    public static let maxHeaderBytes = 100 << 20

    /// Parses the header at the start of `file` (the whole mapped file) and checks every entry
    /// against the file's size. `fileName` is used only in error messages.
    public init(file: UnsafeRawBufferPointer, fileName: String) throws(CheckpointError) {
        func fail(_ tensor: String?, _ problem: String) -> CheckpointError {
            CheckpointError(file: fileName, tensor: tensor, problem)
        }
        guard file.count >= 8 else { throw fail(nil, "file is \(file.count) bytes, too short for the 8-byte header length") }
        var length: UInt64 = 0
        for k in 0..<8 { length |= UInt64(file[k]) << (8 * UInt64(k)) }
        guard length <= UInt64(file.count - 8) else {
            throw fail(nil, "header length \(length) runs past the end of the file (\(file.count) bytes)")
        }
        guard length <= UInt64(Self.maxHeaderBytes) else { throw fail(nil, "header length \(length) exceeds \(Self.maxHeaderBytes) bytes") }
        let headerBytes = UnsafeRawBufferPointer(rebasing: file[8..<(8 + Int(length))])
        let json: HeaderJSON
        do { json = try HeaderJSON.parse(headerBytes) } catch { throw fail(nil, "invalid header JSON: \(error)") }
        guard case .object(let members) = json else { throw fail(nil, "header JSON is not an object") }

        let dataStart = 8 + Int(length)
        let dataSize = file.count - dataStart
        var tensors: [TensorInfo] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try Self.parseMetadata(value, fail: { fail(nil, $0) })
                continue
            }
            tensors.append(try Self.parseEntry(name: name, value, dataSize: dataSize, fail: { fail(name, $0) }))
        }
        tensors.sort { ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound) }
        for (a, b) in zip(tensors, tensors.dropFirst()) where b.dataRange.lowerBound < a.dataRange.upperBound {
            throw fail(b.name, "data bytes \(b.dataRange) overlap tensor '\(a.name)' at \(a.dataRange)")
        }
        self.tensors = tensors
        self.metadata = metadata
        self.dataStart = dataStart
    }

    private static func parseMetadata(_ value: HeaderJSON, fail: (String) -> CheckpointError) throws(CheckpointError) -> [String: String] {
        guard case .object(let entries) = value else { throw fail("__metadata__ is not an object") }
        var out: [String: String] = [:]
        for (k, v) in entries {
            guard case .string(let s) = v else { throw fail("__metadata__ value for '\(k)' is not a string") }
            out[k] = s
        }
        return out
    }

    private static func parseEntry(
        name: String, _ value: HeaderJSON, dataSize: Int, fail: (String) -> CheckpointError
    ) throws(CheckpointError) -> TensorInfo {
        guard case .object(let fields) = value else { throw fail("entry is not an object") }
        var dtypeName: String?, shapeJSON: [HeaderJSON]?, offsetsJSON: [HeaderJSON]?
        for (k, v) in fields {
            switch (k, v) {
            case ("dtype", .string(let s)): dtypeName = s
            case ("shape", .array(let a)): shapeJSON = a
            case ("data_offsets", .array(let a)): offsetsJSON = a
            case ("dtype", _), ("shape", _), ("data_offsets", _): throw fail("field '\(k)' has the wrong JSON type")
            default: throw fail("unknown field '\(k)'")
            }
        }
        guard let dtypeName else { throw fail("missing 'dtype'") }
        guard let dtype = DType(rawValue: dtypeName) else { throw fail("unknown dtype '\(dtypeName)'") }
        guard let shapeJSON else { throw fail("missing 'shape'") }
        guard let offsetsJSON else { throw fail("missing 'data_offsets'") }
        let shape = try shapeJSON.map { v throws(CheckpointError) in
            guard let n = nonNegativeInt(v) else { throw fail("shape \(render(shapeJSON)) has an entry that is not a non-negative integer") }
            return n
        }
        guard offsetsJSON.count == 2, let begin = nonNegativeInt(offsetsJSON[0]), let end = nonNegativeInt(offsetsJSON[1]) else {
            throw fail("data_offsets \(render(offsetsJSON)) is not a pair of non-negative integers")
        }
        guard begin <= end else { throw fail("data_offsets [\(begin), \(end)] end before they begin") }
        guard end <= dataSize else {
            throw fail("data_offsets [\(begin), \(end)] run past the data section (\(dataSize) bytes): file truncated?")
        }
        var elements = 1
        for d in shape {
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("shape \(shape) overflows") }
            elements = p
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteWidth)
        guard !overflow, expected == end - begin else {
            throw fail("shape \(shape) × \(dtype.rawValue) needs \(elements) × \(dtype.byteWidth) bytes but data_offsets give \(end - begin)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    private static func nonNegativeInt(_ v: HeaderJSON) -> Int? {
        guard case .number(let d, true) = v, d >= 0, d <= 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    private static func render(_ a: [HeaderJSON]) -> String {
        "[" + a.map { v in
            switch v {
            case .number(let d, _): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
            case .string(let s): "\"\(s)\""
            default: "…"
            }
        }.joined(separator: ", ") + "]"
    }
}
