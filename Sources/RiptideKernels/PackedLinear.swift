import CRiptideKernels
#if canImport(Glibc)
import Glibc
#endif

/// Errors from repacking a checkpoint tensor.
public enum PackError: Error, Equatable {
    case nanScale(index: Int)              // E8M0 byte 0xFF
    case shape(String)
}

/// A linear layer's weight W [rows, cols], repacked once at load into the kernels' panel layout
/// (see riptide_kernels.h: panels of 32 rows, inputs padded to 128). Immutable and thread-safe to
/// apply. The same layout serves every path (AVX-512, AVX2, portable), so the path can be chosen
/// per call.
///
/// Numerics (spec §6.3): `.fp8`/`.fp4` quantize each input row to e4m3 per 128-block (pow2 scale,
/// bit-exact with `quantizeFP8`), sum q·w in fp32 per scale group and apply s_act·s_w in fp32;
/// `.bf16` multiplies bf16(x) by bf16 weights; `.f32` is a plain fp32 product. Outputs of fp8,
/// fp4 and bf16 are rounded to bf16 by default.
public final class PackedLinear: @unchecked Sendable {
    public enum Format: Int32, Sendable { case fp8 = 0, fp4 = 1, bf16 = 2, f32 = 3 }

    public let format: Format
    public let rows: Int, cols: Int
    /// Inputs padded to a multiple of 128; rows padded to a multiple of 32.
    public let paddedCols: Int, paddedRows: Int
    let weights: UnsafeMutableRawPointer      // packed panels (2 MiB aligned inside `mapping` when large)
    let weightBytes: Int
    private let mapping: UnsafeMutableRawPointer, mappedBytes: Int
    let scales: UnsafeMutableRawPointer?      // fp8: Float [ceil(rows/128)][paddedCols/128]; fp4: UInt8 [panels][paddedCols/32][32]
    let scaleBytes: Int
    /// fp4: per panel, 1 where all its scale bytes lie in 87...167, so the AVX-512 tiles may sum
    /// 128-input blocks (linear_avx512.c); set once the scales are packed.
    var fp4BlockPanels: UnsafeMutablePointer<UInt8>?

    /// Bytes held after repacking (weights + scales).
    public var packedBytes: Int { weightBytes + scaleBytes }
    var panels: Int { paddedRows / 32 }

    init(format: Format, rows: Int, cols: Int, scaleBytes: Int) {
        self.format = format
        self.rows = rows
        self.cols = cols
        paddedCols = (cols + 127) / 128 * 128
        paddedRows = (rows + 31) / 32 * 32
        let perPair = format == .fp8 ? 64 : format == .fp4 ? 32 : 128   // bytes per input pair in a panel
        weightBytes = format == .f32 ? paddedRows * paddedCols * 4 : (paddedRows / 32) * (paddedCols / 2) * perPair
        // Fresh anonymous pages are zero (the padding must be) without a memset pass over GBs of
        // weights. Large tensors ask for 2 MiB pages (THP): fewer faults at load and TLB misses while
        // the kernels stream them, and a quicker unmap.
        // The AVX2 FP4 decoder also loads a step from one byte before it: `lead` bytes stay mapped there.
        let huge = weightBytes >= 1 << 21, lead = 64
        mappedBytes = (huge ? weightBytes + (1 << 21) : weightBytes) + lead
        let mapped = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            preconditionFailure("cannot map \(weightBytes) bytes for packed weights (out of memory)")
        }
        mapping = mapped
        if huge {
            let aligned = (Int(bitPattern: mapped) + lead + (1 << 21) - 1) & ~((1 << 21) - 1)
            weights = UnsafeMutableRawPointer(bitPattern: aligned)!
            _ = madvise(weights, weightBytes, 14 /* MADV_HUGEPAGE */)
        } else {
            weights = mapped + lead
        }
        self.scaleBytes = scaleBytes
        scales = scaleBytes > 0 ? UnsafeMutableRawPointer.allocate(byteCount: scaleBytes, alignment: 64) : nil
    }

    deinit {
        munmap(mapping, mappedBytes)
        scales?.deallocate()
        fp4BlockPanels?.deallocate()
    }

    /// The C view of the weights.
    var cWeights: rk_weights {
        rk_weights(format: format.rawValue, n: rows, k: cols, kpad: paddedCols,
                   weights: UnsafeRawPointer(weights), scales: scales.map { UnsafeRawPointer($0) },
                   blocks: fp4BlockPanels.map { UnsafePointer($0) })
    }

    // MARK: Applying

    /// y [count, rows] = x [count, cols] · Wᵀ. `roundOutput` defaults to true except for `.f32`.
    public func apply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>,
                      roundOutput: Bool? = nil, path: KernelPath = .best, pool: WorkerPool = .shared) {
        let round = roundOutput ?? (format != .f32)
        if count == 0 { return }
        if path == .portable {
            portableApply(x, count: count, into: y, round: round)
            return
        }
        Self.withActivations(x, count: count, cols: cols, format: format, path: path, pool: pool) { a in
            var w = cWeights
            var act = a.rows(0, count, output: y, round: round)
            rk_linear_run(pool.raw, a.cPath, &w, &act)
        }
    }

    /// Activations x [count, cols] prepared for weights of `format` on `path` (AVX-512: e4m3 or bf16
    /// codes and block scales; AVX2: fp32 values), valid inside `withActivations`.
    struct PreparedActivations {
        let xq: UnsafeMutablePointer<UInt16>?    // [count][kp]
        let xs: UnsafeMutablePointer<Float>?     // [count][kp/128]
        let xf: UnsafeMutablePointer<Float>?     // [count][kp]
        let kp: Int
        let cPath: Int32

        /// The C view of rows [first, first + count) writing y [count][n].
        func rows(_ first: Int, _ count: Int, output y: UnsafeMutablePointer<Float>, round: Bool) -> rk_activations {
            rk_activations(m: count, xq: xq.map { UnsafePointer($0 + first * kp) },
                           xs: xs.map { UnsafePointer($0 + first * (kp / 128)) },
                           xf: xf.map { UnsafePointer($0 + first * kp) }, y: y, round_bf16: round ? 1 : 0)
        }
    }

    static func withActivations<R>(_ x: UnsafePointer<Float>, count: Int, cols: Int, format: Format, path: KernelPath,
                                   pool: WorkerPool, _ body: (PreparedActivations) -> R) -> R {
        let kp = (cols + 127) / 128 * 128, quantized = format == .fp8 || format == .fp4
        let needQ = path == .avx512 && format != .f32
        let needF = path == .avx2 || format == .f32
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: needQ ? count * kp : 0) { xq in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: quantized ? count * kp / 128 : 0) { xs in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: needF ? count * kp : 0) { xf in
            // Prepare activations in parallel by rows (quantization is ~5% of an M=512 product); a few
            // rows (decode) are quicker done here than handed to the pool.
            let chunk = count * kp <= 1 << 15 ? count : max(1, (count + 4 * pool.threads - 1) / (4 * pool.threads))
            let roundToBF16: Int32 = format == .bf16 ? 1 : 0
            let prepare = { (t: Int) in
                let r0 = t * chunk, n = min(chunk, count - r0)
                let q = needQ ? xq.baseAddress! + r0 * kp : nil, f = needF ? xf.baseAddress! + r0 * kp : nil
                if quantized {
                    rk_quantize_fp8_rows(x + r0 * cols, n, cols, kp, q, xs.baseAddress! + r0 * (kp / 128), f)
                } else {
                    rk_convert_rows(x + r0 * cols, n, cols, kp, q, f, roundToBF16)
                }
            }
            if chunk == count { prepare(0) } else { pool.parallelFor((count + chunk - 1) / chunk) { t, _ in prepare(t) } }
            return body(PreparedActivations(
                xq: needQ ? xq.baseAddress : nil, xs: quantized ? xs.baseAddress : nil, xf: needF ? xf.baseAddress : nil,
                kp: kp, cPath: needQ ? Int32(RK_PATH_AVX512) : Int32(RK_PATH_AVX2)))
        } } }
    }

    /// Array convenience: x [count, cols] → y [count, rows].
    public func apply(_ x: [Float], count: Int, roundOutput: Bool? = nil, path: KernelPath = .best,
                      pool: WorkerPool = .shared) -> [Float] {
        precondition(x.count == count * cols, "input is not [\(count), \(cols)]")
        var y = [Float](repeating: 0, count: count * rows)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            apply(xp.baseAddress!, count: count, into: yp.baseAddress!, roundOutput: roundOutput, path: path, pool: pool)
        } }
        return y
    }
}
