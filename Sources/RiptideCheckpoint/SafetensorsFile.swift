/// One memory-mapped `.safetensors` file with its validated header.
public final class SafetensorsFile: Sendable {
    public let mapping: MappedFile
    public let header: SafetensorsHeader
    private let byName: [String: TensorInfo]

    public var path: String { mapping.path }
    public var tensors: [TensorInfo] { header.tensors }

    public init(path: String) throws(CheckpointError) {
        mapping = try MappedFile(path: path)
        header = try SafetensorsHeader(file: mapping.bytes, fileName: path)
        byName = Dictionary(header.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func info(_ name: String) -> TensorInfo? { byName[name] }

    /// Lets the kernel drop the tensor's resident pages (see `MappedFile.dropPages`).
    public func dropPages(of info: TensorInfo) {
        let start = header.dataStart + info.dataRange.lowerBound
        mapping.dropPages(start..<(start + info.byteCount))
    }

    /// The tensor's bytes, in place in the mapping. Valid as long as this file object lives.
    public func data(_ info: TensorInfo) -> UnsafeRawBufferPointer {
        let start = header.dataStart + info.dataRange.lowerBound
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[start..<(start + info.byteCount)])
    }
}
