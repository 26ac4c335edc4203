// C kernels for Riptide (issue 4). The target is compiled for the AVX2 baseline; AVX-512 code
// carries function-level target attributes and is only called after rk_cpu_features() says so.
#ifndef RIPTIDE_KERNELS_H
#define RIPTIDE_KERNELS_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- CPU features (cpuid + xgetbv) ----
enum { RK_CPU_AVX2 = 1, RK_CPU_AVX512 = 2 /* f,bw,vl,vbmi,bf16,vnni and OS zmm state */ };
int rk_cpu_features(void);

// ---- process allocator ----
// glibc hands every allocation over 128 KiB-32 MiB to mmap and unmaps it on free, so each forward
// pass page-faults and zeroes its activations afresh (~10% of a 460-token prefill). This keeps
// freed memory in the heap instead: the process holds the high-water mark of its buffers. A thread
// other than the first gets its own arena, whose heaps are mmapped and shrunk again, so all share
// the main one (`serve`, whose forward pass runs on its own thread: a 721-token flash4 prompt took
// 184,625 page faults and 6.8-7.4 s, and with one arena none and 6.2-6.3 s). Call it before any
// other thread allocates.
void rk_keep_freed_memory(void);

// ---- worker pool: persistent threads, spin then park (futex) ----
typedef struct rk_pool rk_pool;
typedef void (*rk_task_fn)(void *ctx, int task, int worker);
rk_pool *rk_pool_create(int threads);          // threads in total, the caller included
int rk_pool_threads(const rk_pool *pool);
// Runs fn(ctx, t, worker) for t in 0..<tasks; the caller takes part (worker 0). Tasks are handed
// out dynamically, so a descheduled vCPU only delays the tasks it already took. A call that finds
// the pool busy (another thread, or nested) runs all tasks inline with worker = -1.
void rk_pool_run(rk_pool *pool, int tasks, rk_task_fn fn, void *ctx);
// Grow-only scratch owned by `worker` (64-byte aligned); worker -1 gets a thread-local buffer.
void *rk_pool_scratch(rk_pool *pool, int worker, long bytes);
void rk_pool_destroy(rk_pool *pool);

// ---- packed linear layers ----
// Weights W [n, k] are repacked in panels of 32 output rows; kpad = k rounded up to 128,
// npad = n rounded up to 32 (padding is zero). Inside a panel, step kp covers inputs 2kp, 2kp+1:
//   FP8 : 64 bytes per step (e4m3 codes, byte order = rk_slot_row/rk_slot_parity)
//   FP4 : 32 bytes per step: byte j holds row j/2 (low nibble) and row 16 + j/2 (high nibble),
//         input parity j%2 (so a zero-extend + vpermw gives the bf16 pairs directly)
//   BF16: 128 bytes per step: [2][16 rows][2 inputs] bf16, rows 0..15 then 16..31
//   F32 : 128 bytes per input k: [32 rows] fp32 (no pairing)
// Scales: FP8 fp32 [ceil(n/128)][kpad/128] (2^(e-127)); FP4 E8M0 bytes [npad/32][kpad/32][32 rows].
enum { RK_FP8 = 0, RK_FP4 = 1, RK_BF16 = 2, RK_F32 = 3 };
enum { RK_PATH_AVX512 = 0, RK_PATH_AVX2 = 1 };

// Slot s (0..63) of a 64-slot step holds row rk_slot_row(s) and input parity rk_slot_parity(s).
static inline int rk_slot_row(int s) { return 16 * ((s & 15) >= 8) + (8 * (s >> 4) + (s & 7)) / 2; }
static inline int rk_slot_parity(int s) { return (8 * (s >> 4) + (s & 7)) & 1; }

typedef struct {
    int format;            // RK_FP8 ...
    long n, k, kpad;       // logical rows, inputs; padded inputs
    const void *weights;   // packed panels, npad/32 of them
    const void *scales;    // see above; NULL for BF16/F32
    const uint8_t *blocks; // FP4: [npad/32] 1 where all of a panel's scale bytes lie in 87..167; else NULL
} rk_weights;

typedef struct {
    long m;                // activation rows
    const uint16_t *xq;    // [m][kpad] bf16: e4m3 values (FP8/FP4) or bf16(x) (BF16); AVX-512 path
    const float *xs;       // [m][kpad/128] activation scales (FP8/FP4)
    const float *xf;       // [m][kpad] fp32: q·s (FP8/FP4) or x (BF16/F32); AVX2 path and F32
    float *y;              // [m][n] output
    int round_bf16;        // 1: round y to bf16 (returned as fp32)
} rk_activations;

// Computes panels [p0, p1) of y for all m rows. `scratch` needs rk_linear_scratch_bytes bytes.
void rk_linear_avx512(const rk_weights *w, const rk_activations *a, long p0, long p1, void *scratch);
void rk_linear_avx2(const rk_weights *w, const rk_activations *a, long p0, long p1, void *scratch);
long rk_linear_scratch_bytes(const rk_weights *w, long m);

// Splits the panels over the pool and runs the chosen path.
void rk_linear_run(rk_pool *pool, int path, const rk_weights *w, const rk_activations *a);
// Runs many products in one pool job (a MoE layer's experts), each exactly as rk_linear_run would.
typedef struct { const rk_weights *w; const rk_activations *a; } rk_linear_job;
void rk_linear_run_many(rk_pool *pool, int path, const rk_linear_job *jobs, int count);

// Activation quantization of spec §6.3, bit-exact with RiptideKernels.quantizeFP8 (block 128):
// x [m][k] → xq (may be NULL) [m][kpad] bf16 bits of the e4m3 values (zero padded), xs [m][kpad/128];
// xf (may be NULL) [m][kpad] = q·s in fp32.
void rk_quantize_fp8_rows(const float *x, long m, long k, long kpad, uint16_t *xq, float *xs, float *xf);
// x [m][k] fp32 → xq (may be NULL) [m][kpad] bf16 (round to nearest even) and xf (may be NULL)
// [m][kpad]: x, or bf16(x) when round_xf (zero padded).
void rk_convert_rows(const float *x, long m, long k, long kpad, uint16_t *xq, float *xf, int round_xf);

// ---- sparse attention with sink (spec §4.7) and the indexer's scores (§4.5) ----
typedef struct {
    long rows, heads, d;   // query rows, heads, head dim (a multiple of 64)
    const float *q;        // [rows][heads][d] bf16 values
    const float *table;    // [*][d] KV entries (K = V), bf16 values
    const int32_t *idx;    // [rows][n] table rows, -1 for an empty slot
    long n;                // list length
    const float *sink;     // [heads]
    float scale;
    float *out;            // [rows][heads][d], rounded to bf16
} rk_attention_args;
// Spreads (row, 16-head group) tasks over the pool. path: RK_PATH_AVX512 (bf16 products with
// vdpbf16ps) or RK_PATH_AVX2 (fp32 FMA).
void rk_sparse_attention_run(rk_pool *pool, int path, const rk_attention_args *a);

// Lightning indexer scores of one query (spec §4.5):
// out[j] = bf16(Σ_h bf16(relu(bf16(q[h]·keys[j])) · weights[h])).
typedef struct {
    long heads, head_dim;   // head_dim a multiple of 32, at most 1024
    const float *q;         // [heads][head_dim] bf16 values
    const float *weights;   // [heads]
    const float *keys;      // [n][head_dim] bf16 values
    long n;
    float *out;             // [n]
} rk_indexer_args;
// Splits the keys in chunks over the pool (runs inline when called from inside a pool task).
void rk_indexer_scores_run(rk_pool *pool, int path, const rk_indexer_args *a);

// Walsh–Hadamard transform (Sylvester order) of `rows` rows of n values (n a power of two ≥ 16),
// in place, times `scale`; rounded to bf16 when round_bf16. AVX-512 only.
void rk_hadamard_rows(float *v, long rows, long n, float scale, int round_bf16);
// Compressor pooling: out[c] = Σ_r kv[r][c]·softmax_r(score[·][c]) for kv, score [rows][dim].
// Rows whose score is -inf drop out. AVX-512 only.
void rk_softmax_pool(const float *kv, const float *score, long rows, long dim, float *out);

// ---- roofline probes ----
double rk_probe_read(const float *p, long count, int passes);  // returns a checksum; streams p (ymm)
double rk_probe_read512(const float *p, long count, int passes); // same with zmm loads (AVX-512 only)
double rk_probe_fma_f32(long iters);      // 12 chains of 8-lane FMA; returns checksum
double rk_probe_dot_bf16(long iters);     // 12 chains of vdpbf16ps zmm (AVX-512 only)

#ifdef __cplusplus
}
#endif
#endif
