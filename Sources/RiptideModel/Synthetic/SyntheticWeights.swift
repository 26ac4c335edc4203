import Dispatch
import Foundation
import RiptideCheckpoint
import RiptideKernels

/// Seeded random weights for a config, in the checkpoint's own formats (FP8 e4m3 with 128×128 E8M0
/// block scales, FP4 e2m1 packed low-nibble-first with E8M0 scales per 32 inputs, BF16, F32, I64).
///
/// Scales are chosen the way a trained model has them (issue 3): RMS-normalised inputs give unit
/// outputs, residual branches (`wo_b`, expert `w2`) are small next to the residual stream, the
/// mHC maps start near "average the streams, add the branch", and routing spreads over all experts.
/// Each tensor's values depend only on (seed, name), so shards can be produced in any order.
public final class SyntheticWeights: @unchecked Sendable {  // pendingScales is guarded by `lock`
    public let config: ModelConfig
    public let seed: UInt64
    /// Scales computed while quantizing a weight, handed out when the writer asks for `.scale` next.
    private var pendingScales: [String: [UInt8]] = [:]
    private let lock = NSLock()

    public init(config: ModelConfig, seed: UInt64) {
        self.config = config
        self.seed = seed
    }

    /// The bytes of one tensor of `config.expectedTensors`.
    public func bytes(for spec: TensorSpec) -> [UInt8] {
        let name = spec.name
        if name.hasSuffix(".scale"), spec.dtype == .f8e8m0 {
            let weightName = String(name.dropLast(".scale".count)) + ".weight"
            if let scales = lock.withLock({ pendingScales.removeValue(forKey: name) }) { return scales }
            // Asked out of order: quantize the weight again to get its scales.
            let weight = config.expectedTensors.first { $0.name == weightName }!
            _ = bytes(for: weight)
            return lock.withLock { pendingScales.removeValue(forKey: name)! }
        }
        var rng = Xoshiro256(seed: seed ^ fnv1a(name))
        switch spec.dtype {
        case .f8e4m3:
            let (codes, scales) = quantizeFP8Blocks(rows: spec.shape[0], cols: spec.shape[1], std: linearStd(name, inputs: spec.shape[1]), rng: &rng)
            lock.withLock { pendingScales[scaleName(name)] = scales }
            return codes
        case .i8:
            let (codes, scales) = quantizeFP4Rows(rows: spec.shape[0], cols: 2 * spec.shape[1], std: linearStd(name, inputs: 2 * spec.shape[1]), rng: &rng)
            lock.withLock { pendingScales[scaleName(name)] = scales }
            return codes
        case .i64:
            return hashRoutingTable(rows: spec.shape[0], perRow: spec.shape[1], rng: &rng)
        case .bf16:
            return floatValues(spec, rng: &rng).withUnsafeBufferPointer { v in
                var out = [UInt8](repeating: 0, count: v.count * 2)
                for i in 0..<v.count {
                    let b = bf16Bits(v[i])
                    out[2 * i] = UInt8(truncatingIfNeeded: b)
                    out[2 * i + 1] = UInt8(truncatingIfNeeded: b >> 8)
                }
                return out
            }
        case .f32:
            return floatValues(spec, rng: &rng).withUnsafeBytes { Array($0) }
        default:
            preconditionFailure("no synthetic values for \(spec.dtype) tensor \(name)")
        }
    }

    /// `bytes(for:)` for a writer that asks for `specs` in order: the next tensor other than a scale
    /// (scales come out of their weight) is computed on another thread while the current one is
    /// written. The values do not depend on the order, so the checkpoint is the same.
    public func prefetchingProducer(for specs: [TensorSpec]) -> (TensorSpec) -> [UInt8] {
        final class Pending: @unchecked Sendable {  // written once before `done` is signalled
            var bytes: [UInt8] = []
            let done = DispatchSemaphore(value: 0)
        }
        let position = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
        let isScale = { (s: TensorSpec) in s.dtype == .f8e8m0 && s.name.hasSuffix(".scale") }
        var inFlight: [Int: Pending] = [:]
        func start(_ i: Int) {
            guard i < specs.count, inFlight[i] == nil, !isScale(specs[i]) else { return }
            let pending = Pending(), spec = specs[i]
            inFlight[i] = pending
            DispatchQueue.global().async {
                pending.bytes = self.bytes(for: spec)
                pending.done.signal()
            }
        }
        return { spec in
            guard let i = position[spec.name], !isScale(spec) else { return self.bytes(for: spec) }
            start(i)
            start(specs[(i + 1)...].firstIndex { !isScale($0) } ?? specs.count)
            let pending = inFlight.removeValue(forKey: i)!
            pending.done.wait()
            return pending.bytes
        }
    }

    private func scaleName(_ weightName: String) -> String { String(weightName.dropLast(".weight".count)) + ".scale" }

    /// Standard deviation of a linear's weights: unit gain for inputs that are RMS-normalised, a
    /// small gain on the projections that write back into the residual stream.
    private func linearStd(_ name: String, inputs: Int) -> Float {
        let gain: Float = name.contains("wo_b") || name.hasSuffix("w2.weight") ? 0.25 : 1
        return gain / Float(inputs).squareRoot()
    }

    /// Values for the BF16 and F32 tensors (norms, embeddings, mHC maps, compressors, gate).
    private func floatValues(_ spec: TensorSpec, rng: inout Xoshiro256) -> [Float] {
        let n = spec.shape.reduce(1, *)
        let name = spec.name
        let d = Float(config.dim)
        func uniform(_ std: Float) -> [Float] { (0..<n).map { _ in rng.uniform(std: std) } }
        if name.hasSuffix("norm.weight") { return (0..<n).map { _ in 1 + rng.uniform(std: 0.05) } }
        if name == "embed.weight" { return uniform(1) }
        if name == "head.weight" { return uniform(3 / d.squareRoot()) }
        if name.hasSuffix("attn_sink") { return uniform(0.5) }
        if name.hasSuffix("_fn") { return uniform(1 / (4 * d).squareRoot()) }
        if name.hasSuffix("_scale") { return (0..<n).map { _ in 0.1 + rng.uniform(std: 0.02) } }
        if name.hasSuffix("_base") { return hyperConnectionBase(count: n, rng: &rng) }
        if name.hasSuffix("ape") { return uniform(0.3) }
        if name.hasSuffix("gate.bias") { return uniform(0.05) }
        // compressor wkv/wgate, indexer weights_proj, gate.weight: unit gain on normalised inputs.
        return uniform(1 / Float(spec.shape.last!).squareRoot())
    }

    /// mHC biases: pre ≈ 0.25 per stream (average the 4 copies), post ≈ 1 (add the branch once),
    /// comb favouring the identity so Sinkhorn starts near "keep each stream".
    private func hyperConnectionBase(count: Int, rng: inout Xoshiro256) -> [Float] {
        let hc = config.hcMult
        return (0..<count).map { i in
            let noise = rng.uniform(std: 0.05)
            if i < hc { return -1.0986 + noise }          // logit(0.25)
            if count == hc || i < 2 * hc { return noise }  // hc_head has only `pre`; post: 2·sigmoid(0) = 1
            let k = i - 2 * hc
            return (k / hc == k % hc ? 2 : 0) + noise
        }
    }

    /// FP8 e4m3 codes with one E8M0 scale per 128×128 block, row-major.
    private func quantizeFP8Blocks(rows: Int, cols: Int, std: Float, rng: inout Xoshiro256) -> ([UInt8], [UInt8]) {
        let values = (0..<(rows * cols)).map { _ in rng.uniform(std: std) }
        let blockRows = (rows + 127) / 128, blockCols = (cols + 127) / 128
        var codes = [UInt8](repeating: 0, count: rows * cols)
        var scales = [UInt8](repeating: 0, count: blockRows * blockCols)
        for br in 0..<blockRows {
            for bc in 0..<blockCols {
                let r0 = br * 128, r1 = min(r0 + 128, rows), c0 = bc * 128, c1 = min(c0 + 128, cols)
                var amax: Float = 0
                for r in r0..<r1 { for c in c0..<c1 { amax = max(amax, abs(values[r * cols + c])) } }
                let exponent = ceilPow2Exponent(max(amax, 1e-30) * inverseE4M3Max)
                let scale = Float(sign: .plus, exponent: exponent, significand: 1)
                scales[br * blockCols + bc] = UInt8(exponent + 127)
                for r in r0..<r1 { for c in c0..<c1 { codes[r * cols + c] = e4m3Code(values[r * cols + c] / scale) } }
            }
        }
        return (codes, scales)
    }

    /// FP4 e2m1 codes, two per byte (low nibble = even element), one E8M0 scale per 32 inputs.
    private func quantizeFP4Rows(rows: Int, cols: Int, std: Float, rng: inout Xoshiro256) -> ([UInt8], [UInt8]) {
        var codes = [UInt8](repeating: 0, count: rows * cols / 2)
        var scales = [UInt8](repeating: 0, count: rows * cols / 32)
        var block = [Float](repeating: 0, count: 32)
        for r in 0..<rows {
            for g in 0..<(cols / 32) {
                var amax: Float = 0
                for k in 0..<32 { block[k] = rng.uniform(std: std); amax = max(amax, abs(block[k])) }
                let exponent = ceilPow2Exponent(max(amax, 1e-30) * inverseE2M1Max)
                let scale = Float(sign: .plus, exponent: exponent, significand: 1)
                scales[r * (cols / 32) + g] = UInt8(exponent + 127)
                let base = (r * cols + g * 32) / 2
                for k in stride(from: 0, to: 32, by: 2) {
                    codes[base + k / 2] = e2m1Code(block[k] / scale) | e2m1Code(block[k + 1] / scale) << 4
                }
            }
        }
        return (codes, scales)
    }

    /// `tid2eid`: for every token, `perRow` distinct experts, uniformly spread (spec §11.1.8).
    private func hashRoutingTable(rows: Int, perRow: Int, rng: inout Xoshiro256) -> [UInt8] {
        var out = [UInt8](); out.reserveCapacity(rows * perRow * 8)
        let experts = config.nRoutedExperts
        var chosen = [Int](); chosen.reserveCapacity(perRow)
        for _ in 0..<rows {
            chosen.removeAll(keepingCapacity: true)
            while chosen.count < perRow {
                let e = Int(rng.next() % UInt64(experts))
                if !chosen.contains(e) { chosen.append(e) }
            }
            for e in chosen { withUnsafeBytes(of: Int64(e).littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }
}

/// FNV-1a of a string, to derive a per-tensor seed.
func fnv1a(_ s: String) -> UInt64 {
    s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}

/// xoshiro256** seeded by SplitMix64: fast, good enough for synthetic weights.
struct Xoshiro256 {
    var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform on [−std·√3, std·√3): mean 0, standard deviation `std`.
    mutating func uniform(std: Float) -> Float {
        let u = Float(next() >> 40) * 0x1p-24  // [0, 1)
        return (2 * u - 1) * std * 1.7320508
    }
}
