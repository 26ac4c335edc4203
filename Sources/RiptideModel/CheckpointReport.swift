import RiptideCheckpoint

/// What `riptide inspect` prints: every tensor, totals by dtype, and how the checkpoint compares
/// with the tensor layout its config implies.
public struct CheckpointReport: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let bytes: Int
        public let file: String
        /// Logical parameters: packed FP4 expert weights hold two per I8 byte.
        public let parameters: Int
    }

    public struct Total: Sendable {
        public let dtype: DType
        public var tensors = 0
        public var parameters = 0
        public var bytes = 0
    }

    public enum Mismatch: Sendable, Equatable, CustomStringConvertible {
        case missing(TensorSpec)
        case unexpected(String)
        case wrongType(name: String, expected: TensorSpec, found: (DType, [Int]))

        public static func == (a: Mismatch, b: Mismatch) -> Bool { a.description == b.description }

        public var description: String {
            switch self {
            case .missing(let s): "missing \(s.name) (\(s.dtype.rawValue) \(s.shape))"
            case .unexpected(let name): "unexpected \(name)"
            case .wrongType(let name, let s, let found):
                "\(name): expected \(s.dtype.rawValue) \(s.shape), found \(found.0.rawValue) \(found.1)"
            }
        }
    }

    public let entries: [Entry]          // sorted by name
    public let totals: [Total]           // one per dtype present, largest first
    public let mismatches: [Mismatch]?   // nil when there is no config to compare with

    public init(checkpoint: Checkpoint, config: ModelConfig?) {
        let expected = config.map { Dictionary(uniqueKeysWithValues: $0.expectedTensors.map { ($0.name, $0) }) }
        entries = checkpoint.tensors.map { ref in
            let elements = ref.info.elementCount
            let packedFP4 = ref.dtype == .i8 && (expected?[ref.name].map { $0.dtype == .i8 } ?? ref.name.contains(".experts."))
            return Entry(name: ref.name, dtype: ref.dtype, shape: ref.shape, bytes: ref.info.byteCount,
                         file: String(ref.file.path.split(separator: "/").last ?? ""),
                         parameters: packedFP4 ? 2 * elements : elements)
        }
        var byType: [DType: Total] = [:]
        for e in entries {
            byType[e.dtype, default: Total(dtype: e.dtype)].tensors += 1
            byType[e.dtype]!.parameters += e.parameters
            byType[e.dtype]!.bytes += e.bytes
        }
        totals = byType.values.sorted { ($0.bytes, $0.dtype.rawValue) > ($1.bytes, $1.dtype.rawValue) }

        guard let expected else {
            mismatches = nil
            return
        }
        var found: [Mismatch] = []
        let present = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
        for spec in expected.values.sorted(by: { $0.name < $1.name }) {
            guard let e = present[spec.name] else { found.append(.missing(spec)); continue }
            if e.dtype != spec.dtype || e.shape != spec.shape { found.append(.wrongType(name: spec.name, expected: spec, found: (e.dtype, e.shape))) }
        }
        for e in entries where expected[e.name] == nil { found.append(.unexpected(e.name)) }
        mismatches = found
    }

    public var totalParameters: Int { totals.reduce(0) { $0 + $1.parameters } }
    public var totalBytes: Int { totals.reduce(0) { $0 + $1.bytes } }
}
