// AVX2/FMA linear path and the panel driver. Quantized weights are dequantized exactly into an
// fp32 segment [inputs][32 rows] with their scales applied (e4m3/e2m1 × 2^k is exact in fp32, also
// at the extreme scale bytes), then multiplied with fp32 activations (q·s, exact) by an FMA tile.
#include "linear_common.h"
#include <immintrin.h>
#include <stdlib.h>

void rk_store_panel(const rk_weights *w, const rk_activations *a, long p, const float *tot) {
    long rows = w->n - p * 32 < 32 ? w->n - p * 32 : 32;
    for (long m = 0; m < a->m; m++)
        for (long j = 0; j < rows; j++) {
            float v = tot[m * 32 + j];
            a->y[m * w->n + p * 32 + j] = a->round_bf16 ? rk_bf16_round(v) : v;
        }
}

// tot[m][32] += Σ_k ws[k][32] · x[m][k] for MT rows. 16 ymm: 12 sums + 2 weights + 1 broadcast.
static inline __attribute__((always_inline)) void f32_tile(const int MT, const float *ws, long count, const float *x,
                                                           long xstride, float *tot, int first) {
    for (int h = 0; h < 2; h++) {
        __m256 acc[2][6];
        for (int m = 0; m < MT; m++) {
            acc[0][m] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(tot + 32 * m + 16 * h);
            acc[1][m] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(tot + 32 * m + 16 * h + 8);
        }
        for (long k = 0; k < count; k++) {
            __m256 w0 = _mm256_loadu_ps(ws + 32 * k + 16 * h), w1 = _mm256_loadu_ps(ws + 32 * k + 16 * h + 8);
            for (int m = 0; m < MT; m++) {
                __m256 xv = _mm256_broadcast_ss(x + m * xstride + k);
                acc[0][m] = _mm256_fmadd_ps(w0, xv, acc[0][m]);
                acc[1][m] = _mm256_fmadd_ps(w1, xv, acc[1][m]);
            }
        }
        for (int m = 0; m < MT; m++) {
            _mm256_storeu_ps(tot + 32 * m + 16 * h, acc[0][m]);
            _mm256_storeu_ps(tot + 32 * m + 16 * h + 8, acc[1][m]);
        }
    }
}
typedef void (*f32_fn)(const float *, long, const float *, long, float *, int);
#define DEFF(MT) static __attribute__((noinline)) void f32_tile_##MT(const float *ws, long c, const float *x, long xs, float *t, int f) { f32_tile(MT, ws, c, x, xs, t, f); }
DEFF(1) DEFF(2) DEFF(3) DEFF(4) DEFF(5) DEFF(6)
static const f32_fn f32_tiles[7] = {0, f32_tile_1, f32_tile_2, f32_tile_3, f32_tile_4, f32_tile_5, f32_tile_6};

static float e4m3_lut[256], e2m1_lut[16];   // exact values (NaN codes decode as their neighbours' pattern; unused)
static uint8_t slot_off[64];                 // FP8 slot q → parity·32 + row inside a [2][32] pair block

__attribute__((constructor)) static void init_luts(void) {
    for (int c = 0; c < 256; c++) e4m3_lut[c] = rk_e4m3_value((uint8_t)c);
    for (int c = 0; c < 16; c++) e2m1_lut[c] = rk_e2m1_value((uint8_t)c);
    for (int q = 0; q < 64; q++) slot_off[q] = (uint8_t)(rk_slot_parity(q) * 32 + rk_slot_row(q));
}

// Dequantizes inputs [2·s0, 2·s0 + 2·pairs) of panel p into ws[k][32] (scales applied).
static void dequant_segment(const rk_weights *w, long p, long s0, long pairs, float *ws) {
    const int f = w->format;
    const uint8_t *pw = (const uint8_t *)w->weights + (p * (w->kpad / 2) + s0) * rk_step_bytes(f);
    for (long kp = 0; kp < pairs; kp++) {
        long k = 2 * (s0 + kp);
        const uint8_t *b = pw + kp * rk_step_bytes(f);
        if (f == RK_FP8) {
            float s = ((const float *)w->scales)[(p / 4) * (w->kpad / 128) + k / 128];
            float *o = ws + 2 * kp * 32;
            for (int q = 0; q < 64; q++) o[slot_off[q]] = e4m3_lut[b[q]] * s;
        } else if (f == RK_FP4) {
            const uint8_t *sb = (const uint8_t *)w->scales + (p * (w->kpad / 32) + k / 32) * 32;
            float sc[32];
            for (int r = 0; r < 32; r++) sc[r] = rk_e8m0_value(sb[r]);
            float *o = ws + 2 * kp * 32;
            for (int j = 0; j < 32; j++) {
                int r = j / 2, par = j & 1;
                o[par * 32 + r] = e2m1_lut[b[j] & 15] * sc[r];
                o[par * 32 + r + 16] = e2m1_lut[b[j] >> 4] * sc[r + 16];
            }
        } else {   // BF16: [2][16 rows][2 inputs]
            const uint16_t *h = (const uint16_t *)b;
            for (int i = 0; i < 64; i++) {
                uint32_t u = (uint32_t)h[i] << 16; float v; memcpy(&v, &u, 4);
                ws[(2 * kp + (i & 1)) * 32 + 16 * (i >= 32) + (i & 31) / 2] = v;
            }
        }
    }
}

void rk_linear_avx2(const rk_weights *w, const rk_activations *a, long p0, long p1, void *scratch) {
    const long M = a->m, K = w->kpad;
    float *tot = (float *)scratch;                                   // [M][32]
    float *ws = tot + (M * 32 + 15) / 16 * 16;                       // [2·RK_SEG_PAIRS][32]
    for (long p = p0; p < p1; p++) {
        for (long s0 = 0; s0 < K / 2; s0 += RK_SEG_PAIRS) {
            long pairs = K / 2 - s0 < RK_SEG_PAIRS ? K / 2 - s0 : RK_SEG_PAIRS;
            const float *src;
            if (w->format == RK_F32) src = (const float *)w->weights + (p * K + 2 * s0) * 32;
            else { dequant_segment(w, p, s0, pairs, ws); src = ws; }
            for (long m0 = 0; m0 < M; m0 += 6) {
                long n = M - m0 < 6 ? M - m0 : 6;
                f32_tiles[n](src, 2 * pairs, a->xf + m0 * K + 2 * s0, K, tot + m0 * 32, s0 == 0);
            }
        }
        rk_store_panel(w, a, p, tot);
    }
}

long rk_linear_scratch_bytes(const rk_weights *w, long m) {
    (void)w;
    return (m * 32 * 4 + 64) + RK_SEG_PAIRS * 2 * 32 * 4 + 128;   // sums + the larger (fp32) segment
}

typedef struct { int path; const rk_weights *w; const rk_activations *a; long panels, per; rk_pool *pool; } run_ctx;

static void run_task(void *c, int task, int worker) {
    run_ctx *r = c;
    long p0 = task * r->per, p1 = p0 + r->per < r->panels ? p0 + r->per : r->panels;
    void *s = rk_pool_scratch(r->pool, worker, rk_linear_scratch_bytes(r->w, r->a->m));
    if (r->path == RK_PATH_AVX512) rk_linear_avx512(r->w, r->a, p0, p1, s);
    else rk_linear_avx2(r->w, r->a, p0, p1, s);
}

void rk_linear_run(rk_pool *pool, int path, const rk_weights *w, const rk_activations *a) {
    run_ctx r = {path, w, a, (w->n + 31) / 32, 1, pool};
    // About 16 tasks per thread: a task claimed by a vCPU that the hypervisor then deschedules holds
    // up the whole call, so tasks are kept small (a CAS each; panels are 7–230 KiB of weights).
    long want = 16L * rk_pool_threads(pool);
    r.per = (r.panels + want - 1) / want;
    if (r.per < 1) r.per = 1;
    rk_pool_run(pool, (int)((r.panels + r.per - 1) / r.per), run_task, &r);
}
