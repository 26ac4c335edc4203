import CRiptideKernels

/// The sparse attention with sink (spec §4.7; `attention_avx512.c` with vdpbf16ps, `attention_avx2.c`
/// with fp32 FMA): many query rows over one KV table, rows × 16-head groups spread over the pool.
/// The plain Swift twin is `sparseAttention` in RiptideModel, bit-exact with the reference; these
/// sum in fp32.
public enum SparseAttentionKernel {
    /// Whether this CPU (and `RIPTIDE_KERNELS`) allows a C path (AVX-512 or AVX2).
    public static var isAvailable: Bool { KernelPath.best != .portable }

    /// q [rows, heads, dim] and table [*, dim] hold bf16 values (dim a multiple of 64); `indices`
    /// [rows, listLength] name table rows (−1: empty slot); sink [heads]. Writes out [rows, heads, dim]
    /// (bf16 values).
    public static func run(q: UnsafePointer<Float>, rows: Int, heads: Int, dim: Int, table: UnsafePointer<Float>,
                           indices: UnsafePointer<Int32>, listLength: Int, sink: UnsafePointer<Float>, scale: Float,
                           out: UnsafeMutablePointer<Float>, path: KernelPath = .best, pool: WorkerPool = .shared) {
        precondition(path != .portable && KernelPath.available.contains(path) && dim % 64 == 0,
                     "the attention kernel needs AVX2 or AVX-512 and a head dim that is a multiple of 64")
        var args = rk_attention_args(rows: rows, heads: heads, d: dim, q: q, table: table, idx: indices, n: listLength,
                                     sink: sink, scale: scale, out: out)
        rk_sparse_attention_run(pool.raw, path.cPath, &args)
    }
}

/// The lightning-indexer scores (spec §4.5) of one query against `count` keys, AVX-512 BF16 or AVX2.
/// The plain twin is `indexerScores` in RiptideModel (Double sums, bit-exact with the reference).
public enum IndexerScoreKernel {
    public static var isAvailable: Bool { KernelPath.best != .portable }

    /// q [heads, headDim] and keys [count, headDim] hold bf16 values; weights [heads]. Writes out [count].
    public static func run(q: UnsafePointer<Float>, heads: Int, headDim: Int, weights: UnsafePointer<Float>,
                           keys: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>,
                           path: KernelPath = .best, pool: WorkerPool = .shared) {
        precondition(path != .portable && KernelPath.available.contains(path) && headDim % 32 == 0 && headDim <= 1024,
                     "the indexer kernel needs AVX2 or AVX-512 and a head dim that is a multiple of 32, at most 1024")
        var args = rk_indexer_args(heads: heads, head_dim: headDim, q: q, weights: weights, keys: keys, n: count, out: out)
        rk_indexer_scores_run(pool.raw, path.cPath, &args)
    }
}

/// The AVX-512 Walsh–Hadamard transform and compressor pooling (`attention_avx512.c`). Plain
/// twins: `hadamardBF16` and `softmaxPool` in RiptideModel (Double sums, bit-exact with the
/// reference); these sum in fp32. Without AVX-512 the model runs the twins (under 1% of a prefill).
public enum CompressorKernels {
    public static var isAvailable: Bool { KernelPath.best == .avx512 }

    /// Each row of v [rows, n] (n a power of two ≥ 16) becomes bf16(H·row · scale), in place.
    public static func hadamardBF16(_ v: UnsafeMutableBufferPointer<Float>, rowLength n: Int, scale: Float) {
        precondition(isAvailable && n >= 16 && n & (n - 1) == 0 && v.count % n == 0, "Hadamard rows must be a power of two ≥ 16 long")
        rk_hadamard_rows(v.baseAddress, v.count / n, n, scale, 1)
    }

    /// out [dim]: per channel, Σ_r kv[r]·softmax over r of score[r], for kv and score [rows, dim].
    public static func softmaxPool(kv: UnsafePointer<Float>, score: UnsafePointer<Float>, rows: Int, dim: Int,
                                   into out: UnsafeMutablePointer<Float>) {
        precondition(isAvailable, "the pooling kernel needs AVX-512")
        rk_softmax_pool(kv, score, rows, dim, out)
    }
}

extension KernelPath {
    /// RK_PATH_AVX512 or RK_PATH_AVX2 for the C drivers (not for `.portable`).
    var cPath: Int32 { self == .avx512 ? Int32(RK_PATH_AVX512) : Int32(RK_PATH_AVX2) }
}
