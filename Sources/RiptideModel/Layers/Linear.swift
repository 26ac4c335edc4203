import RiptideCheckpoint
import RiptideKernels

// The model's linear layers in their plain reference form: weights stay in the checkpoint's
// format (memory-mapped) and are dequantized one row at a time, exactly; products accumulate in
// Double and are rounded once to Float. Summation-order noise is thereby gone, so a row's result
// never depends on the batch it is in. The fast kernels (issue 4) are held to tolerance against these.

/// A weight matrix [rows, cols] in its stored format.
public struct WeightMatrix: @unchecked Sendable {  // immutable; `sources` keep the mappings alive
    public enum Storage {
        case float([Float])                       // fp32, copied (small tensors)
        case bf16(UnsafeRawBufferPointer)         // [rows, cols] bf16, in the mapping
        /// e4m3 codes [rows, cols] and E8M0 scales [⌈rows/128⌉, ⌈cols/128⌉], in the mapping.
        case fp8(UnsafeRawBufferPointer, scales: UnsafeRawBufferPointer)
        /// e2m1 pairs [rows, cols/2] (low nibble first) and E8M0 scales [rows, cols/32], in the mapping.
        case fp4(UnsafeRawBufferPointer, scales: UnsafeRawBufferPointer)
    }

    public let rows: Int, cols: Int
    public let storage: Storage
    let sources: [TensorRef]
    /// The same weight repacked for the fast kernels (`KernelChoice.fast`), or nil: the plain path.
    public let packed: PackedLinear?

    public init(rows: Int, cols: Int, storage: Storage, sources: [TensorRef], packed: PackedLinear? = nil) {
        self.rows = rows
        self.cols = cols
        self.storage = storage
        self.sources = sources
        self.packed = packed
    }

    /// This matrix with a packed copy for the fast kernels.
    public func packing() throws -> WeightMatrix {
        let p: PackedLinear
        switch storage {
        case .fp8(let codes, let scales): p = try PackedLinear(fp8Codes: codes, scaleBytes: Array(scales), rows: rows, cols: cols)
        case .fp4(let codes, let scales): p = try PackedLinear(fp4Codes: codes, scaleBytes: Array(scales), rows: rows, cols: cols)
        case .bf16(let raw): p = try PackedLinear(bf16Bits: raw, rows: rows, cols: cols)
        case .float(let v): p = try v.withUnsafeBufferPointer { try PackedLinear(f32: $0, rows: rows, cols: cols) }
        }
        return WeightMatrix(rows: rows, cols: cols, storage: storage, sources: sources, packed: p)
    }

    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols)
        self.init(rows: rows, cols: cols, storage: .float(values), sources: [])
    }

    /// Writes row `r`, exactly dequantized, to `out[0..<cols]`.
    public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        switch storage {
        case .float(let v):
            v.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + r * cols, count: cols) }
        case .bf16(let raw):
            for c in 0..<cols { out[c] = bf16ToFloat(raw.loadUnaligned(fromByteOffset: 2 * (r * cols + c), as: UInt16.self)) }
        case .fp8(let codes, let scales):
            let blockCols = (cols + 127) / 128, rowScales = (r / 128) * blockCols
            for c in 0..<cols { out[c] = e4m3ToFloat(codes[r * cols + c]) * e8m0ToFloat(scales[rowScales + c / 128]) }
        case .fp4(let codes, let scales):
            let groups = cols / 32
            for c in stride(from: 0, to: cols, by: 2) {
                let byte = codes[(r * cols + c) / 2], scale = e8m0ToFloat(scales[r * groups + c / 32])
                out[c] = e2m1ToFloat(byte & 0xF) * scale
                out[c + 1] = e2m1ToFloat(byte >> 4) * scale
            }
        }
    }

    /// The whole matrix as Float values (for small matrices and tests).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer { p in for r in 0..<rows { dequantizeRow(r, into: p.baseAddress! + r * cols) } }
        return out
    }

    /// y[t, r] = Float(Σ_k x[t, k] · W[r, k]) for x [T, cols]; y is [T, rows]. No output rounding.
    /// (The fast path sums in fp32 in its own order; bf16 weights then need bf16 inputs, which every
    /// caller of a bf16 matrix passes.)
    public func apply(_ x: [Float], count t: Int) -> [Float] {
        precondition(x.count == t * cols, "input is not [\(t), \(cols)]")
        if let packed { return packed.apply(x, count: t, roundOutput: false) }
        var y = [Float](repeating: 0, count: t * rows)
        var row = [Float](repeating: 0, count: cols)
        x.withUnsafeBufferPointer { xp in row.withUnsafeMutableBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
            for r in 0..<rows {
                dequantizeRow(r, into: wp.baseAddress!)
                for i in 0..<t { yp[i * rows + r] = dotDouble(xp.baseAddress! + i * cols, wp.baseAddress!, cols) }
            }
        } } }
        return y
    }
}

/// Σ x[k]·w[k] accumulated in Double, rounded once to Float.
@inline(__always) func dotDouble(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = 0.0, acc1 = 0.0, acc2 = 0.0, acc3 = 0.0
    var k = 0
    while k + 4 <= n {
        acc0 += Double(x[k]) * Double(w[k])
        acc1 += Double(x[k + 1]) * Double(w[k + 1])
        acc2 += Double(x[k + 2]) * Double(w[k + 2])
        acc3 += Double(x[k + 3]) * Double(w[k + 3])
        k += 4
    }
    while k < n { acc0 += Double(x[k]) * Double(w[k]); k += 1 }
    return Float((acc0 + acc1) + (acc2 + acc3))
}

/// An FP8- or FP4-weight linear (spec §6.3): the input is FP8-quantized per 128-block, the product
/// taken against the exact weight, and the output rounded to bf16.
public func quantizedLinear(_ w: WeightMatrix, _ x: [Float], count t: Int) -> [Float] {
    if let packed = w.packed { return packed.apply(x, count: t, roundOutput: true) }  // quantizes x itself
    return w.apply(quantizeActivations(x, count: t, width: w.cols), count: t).map(roundBF16)
}

/// A bf16 linear with bf16 output (`indexer.weights_proj`).
public func bf16Linear(_ w: WeightMatrix, _ x: [Float], count t: Int) -> [Float] {
    if let packed = w.packed { return packed.apply(x, count: t, roundOutput: true) }
    return w.apply(x, count: t).map(roundBF16)
}

/// What an FP8/FP4 linear sees of its input: e4m3 values times their pow2 block scale (exact).
public func quantizeActivations(_ x: [Float], count t: Int, width: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    let blocks = (width + 127) / 128
    var values = [Float](repeating: 0, count: width), scales = [Float](repeating: 0, count: blocks)
    x.withUnsafeBufferPointer { xp in
        for i in 0..<t {
            values.withUnsafeMutableBufferPointer { v in scales.withUnsafeMutableBufferPointer { s in
                quantizeFP8(UnsafeBufferPointer(rebasing: xp[(i * width)..<((i + 1) * width)]), block: 128, values: v, scales: s)
            } }
            for k in 0..<width { out[i * width + k] = values[k] * scales[k / 128] }
        }
    }
    return out
}
