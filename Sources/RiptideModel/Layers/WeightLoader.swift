import RiptideCheckpoint
import RiptideKernels

/// Which linear kernels the model runs: the plain reference twins (Double accumulation, bit-exact
/// with the oracle, one thread) or the packed fast kernels (fp32 accumulation, all threads).
public enum KernelChoice: String, Sendable, CaseIterable {
    case reference, fast
}

/// Reads the model's tensors from a checkpoint, checking each against the layout its config
/// implies (spec §7): a missing or mis-shaped tensor fails with its name and shard.
public struct WeightLoader {
    public let checkpoint: Checkpoint
    public let config: ModelConfig
    public let kernels: KernelChoice
    private let expected: [String: TensorSpec]

    public init(checkpoint: Checkpoint, config: ModelConfig, kernels: KernelChoice = .reference) {
        self.checkpoint = checkpoint
        self.config = config
        self.kernels = kernels
        expected = Dictionary(uniqueKeysWithValues: config.expectedTensors.map { ($0.name, $0) })
    }

    /// Repacks `w` for the fast kernels when they are chosen.
    func prepared(_ w: WeightMatrix, _ name: String) throws(CheckpointError) -> WeightMatrix {
        guard kernels == .fast else { return w }
        do {
            let packed = try w.packing()
            // The kernels read the packed copy from now on: let the mapped originals leave memory.
            for source in w.sources { source.file.dropPages(of: source.info) }
            return packed
        } catch {
            throw CheckpointError(file: checkpoint.directory.path, tensor: name, "cannot repack for the fast kernels: \(error)")
        }
    }

    /// The tensor, after checking name, dtype and shape against the layout.
    public func tensor(_ name: String) throws(CheckpointError) -> TensorRef {
        guard let spec = expected[name] else { throw CheckpointError(file: checkpoint.directory.path, tensor: name, "not part of this config's layout") }
        return try checkpoint.tensor(name, dtype: spec.dtype, shape: spec.shape)
    }

    /// Any BF16 / F32 tensor as Float values.
    public func floats(_ name: String) throws(CheckpointError) -> [Float] {
        let t = try tensor(name)
        let data = t.data
        switch t.dtype {
        case .f32: return (0..<t.info.elementCount).map { data.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
        case .bf16: return (0..<t.info.elementCount).map { bf16ToFloat(data.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
        default: throw CheckpointError(file: t.file.path, tensor: name, "expected a float tensor, found \(t.dtype.rawValue)")
        }
    }

    /// A BF16 or F32 matrix; BF16 stays in the mapping, F32 is copied (it is small). `packed: false`
    /// for matrices that are only looked up by row (the embedding).
    public func matrix(_ name: String, packed: Bool = true) throws(CheckpointError) -> WeightMatrix {
        let t = try tensor(name)
        let rows = t.shape[0], cols = t.shape.dropFirst().reduce(1, *)
        let w = t.dtype == .bf16
            ? WeightMatrix(rows: rows, cols: cols, storage: .bf16(t.data), sources: [t])
            : WeightMatrix(rows: rows, cols: cols, values: try floats(name))
        return packed ? try prepared(w, name) : w
    }

    public func int64s(_ name: String) throws(CheckpointError) -> [Int] {
        let t = try tensor(name)
        return (0..<t.info.elementCount).map { Int(t.data.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
    }

    /// E8M0 scales, left in the mapping; a NaN byte (0xFF) is a corrupt checkpoint.
    private func scales(_ name: String) throws(CheckpointError) -> TensorRef {
        let t = try tensor(name)
        if let bad = t.data.firstIndex(of: 0xFF) {
            throw CheckpointError(file: t.file.path, tensor: name, "scale byte \(bad) is 0xFF (NaN)")
        }
        return t
    }

    /// An FP8 e4m3 weight with its 128×128 block scales (spec §6.2), left in the mapping.
    public func fp8Weight(_ base: String) throws(CheckpointError) -> WeightMatrix {
        let w = try tensor(base + ".weight"), s = try scales(base + ".scale")
        return try prepared(WeightMatrix(rows: w.shape[0], cols: w.shape[1], storage: .fp8(w.data, scales: s.data), sources: [w, s]), base)
    }

    /// An FP4 e2m1 weight (two per I8 byte, low nibble first) with scales per 32 inputs.
    public func fp4Weight(_ base: String) throws(CheckpointError) -> WeightMatrix {
        let w = try tensor(base + ".weight"), s = try scales(base + ".scale")
        return try prepared(WeightMatrix(rows: w.shape[0], cols: 2 * w.shape[1], storage: .fp4(w.data, scales: s.data), sources: [w, s]), base)
    }

    /// The expert weight in whichever format the config declares.
    public func expertWeight(_ base: String) throws(CheckpointError) -> WeightMatrix {
        config.expertDType == .fp4 ? try fp4Weight(base) : try fp8Weight(base)
    }

    /// `wo_a`: FP8 dequantized to bf16 once, as the reference's converter does (spec §4.8). Not
    /// packed: the grouped einsum packs one matrix per group (`groupedBF16`).
    public func fp8WeightAsBF16(_ base: String) throws(CheckpointError) -> WeightMatrix {
        let w = try tensor(base + ".weight"), s = try scales(base + ".scale")
        let fp8 = WeightMatrix(rows: w.shape[0], cols: w.shape[1], storage: .fp8(w.data, scales: s.data), sources: [w, s])
        return WeightMatrix(rows: fp8.rows, cols: fp8.cols, values: fp8.dequantized().map(roundBF16))
    }

    /// Row blocks of a bf16-valued matrix as separate matrices; with the fast kernels each is packed
    /// as bf16 (the values are exact in bf16) and the Float copy is not kept.
    func groups(of w: WeightMatrix, count: Int, name: String) throws(CheckpointError) -> [WeightMatrix] {
        let rows = w.rows / count, size = rows * w.cols, values = w.dequantized()
        return try (0..<count).map { g throws(CheckpointError) in
            let block = Array(values[(g * size)..<((g + 1) * size)])
            guard kernels == .fast else { return WeightMatrix(rows: rows, cols: w.cols, values: block) }
            let bits = block.map(bf16Bits)
            do {
                let packed = try bits.withUnsafeBytes { try PackedLinear(bf16Bits: $0, rows: rows, cols: w.cols) }
                return WeightMatrix(rows: rows, cols: w.cols, storage: .float([]), sources: [], packed: packed)
            } catch {
                throw CheckpointError(file: checkpoint.directory.path, tensor: name, "cannot repack for the fast kernels: \(error)")
            }
        }
    }
}
