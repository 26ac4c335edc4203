// AVX2/FMA linear path and the panel driver. Quantized and bf16 weights are decoded exactly
// (through F16C, see below) and multiplied in fp32 by FMA tiles straight from registers, at every
// M; fp32 weights run the FMA tiles over [inputs][32 rows] segments. Activations are fp32 (q·s for
// FP8/FP4, exact).
#include "linear_common.h"
#include <immintrin.h>
#include <stdlib.h>

// Decoding once per segment into fp32 for the FMA tiles was faster above 8 rows (2 threads, FP8
// 4096×7168, M = 16: 4.9 vs 3.7 GB/s), but it sums in another order than the register tiles, so a
// row's result would change with the batch; it is used for fp32 weights only (dequant_segment
// stays for issue 11's prefill kernel, which must keep the register tiles' order).

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

// e4m3 and e2m1 codes become fp16 bit patterns that F16C converts exactly: e4m3 s.eeee.mmm →
// s.0eeee.mmm0000000 is the value · 2^-8, e2m1 s.ee.m → s.000ee.m000000000 the value · 2^-14
// (subnormals included, since fp16 has them too). Multiplying back by 2^8 / 2^14 is exact, and then
// by the scale gives what a scalar table lookup would.
static const uint8_t e2m1_fp16_hi[32] = {   // high byte of the fp16 pattern per code, both 128-bit lanes
    0x00, 0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0E, 0x80, 0x82, 0x84, 0x86, 0x88, 0x8A, 0x8C, 0x8E,
    0x00, 0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0E, 0x80, 0x82, 0x84, 0x86, 0x88, 0x8A, 0x8C, 0x8E};

// Step decoders: one input pair of a 32-row panel as 8 vectors of 8 lanes. Lane l of vector i
// holds row row_of(i) + l/2 and input 2k + l%2, so a broadcast pair (x[2k], x[2k+1]) multiplies it.
// FP8 values come out as value · 2^-8, FP4 as value · 2^-14 (exact), BF16 exact.
#define INLINE static inline __attribute__((always_inline))
INLINE long fp8_row(int i) { return 16 * (i & 1) + 4 * (i >> 1); }            // slots 8i..8i+7
INLINE long fp4_row(int i) { static const int r[4] = {0, 8, 4, 12}; return 16 * (i >> 2) + r[i & 3]; }
INLINE long bf16_row(int i) { return 16 * (i >> 2) + 4 * (i & 3); }

INLINE void decode_fp8(const uint8_t *b, __m256 v[8]) {
    for (int q = 0; q < 4; q++) {
        __m256i h = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + 16 * q)));
        h = _mm256_and_si256(_mm256_slli_epi16(h, 7), _mm256_set1_epi16((short)0xBFFF));
        v[2 * q] = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
        v[2 * q + 1] = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
    }
}

INLINE void decode_fp4(const uint8_t *b, __m256 v[8]) {
    const __m256i lut = _mm256_loadu_si256((const __m256i *)e2m1_fp16_hi), low4 = _mm256_set1_epi8(15);
    __m256i bytes = _mm256_loadu_si256((const __m256i *)b);
    __m256i nib[2] = {_mm256_and_si256(bytes, low4), _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4)};
    for (int n = 0; n < 2; n++) {   // low nibbles: rows 0..15; high: rows 16..31
        __m256i hi = _mm256_shuffle_epi8(lut, nib[n]), z = _mm256_setzero_si256();
        __m256i lo16 = _mm256_unpacklo_epi8(z, hi), hi16 = _mm256_unpackhi_epi8(z, hi);   // bytes 0-7|16-23, 8-15|24-31
        v[4 * n] = _mm256_cvtph_ps(_mm256_castsi256_si128(lo16));
        v[4 * n + 1] = _mm256_cvtph_ps(_mm256_extracti128_si256(lo16, 1));
        v[4 * n + 2] = _mm256_cvtph_ps(_mm256_castsi256_si128(hi16));
        v[4 * n + 3] = _mm256_cvtph_ps(_mm256_extracti128_si256(hi16, 1));
    }
}

INLINE void decode_bf16(const uint8_t *b, __m256 v[8]) {
    for (int q = 0; q < 8; q++)
        v[q] = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + 16 * q))), 16));
}

INLINE long step_row(int f, int i) { return f == RK_FP8 ? fp8_row(i) : f == RK_FP4 ? fp4_row(i) : bf16_row(i); }

// FP4 scales of one 32-input group in lane order: row_of(i) + l/2 for each vector i.
INLINE void fp4_scales(const rk_weights *w, long p, long k, __m256 sc[8]) {
    const uint8_t *sb = (const uint8_t *)w->scales + (p * (w->kpad / 32) + k / 32) * 32;
    for (int i = 0; i < 8; i++) {
        long r = fp4_row(i);
        float a = rk_e8m0_value(sb[r]), b = rk_e8m0_value(sb[r + 1]), c = rk_e8m0_value(sb[r + 2]), d = rk_e8m0_value(sb[r + 3]);
        sc[i] = _mm256_setr_ps(a, a, b, b, c, c, d, d);
    }
}

// Dequantizes inputs [2·s0, 2·s0 + 2·pairs) of panel p into ws[k][32] (scales applied) for the FMA tiles.
static void dequant_segment(const rk_weights *w, long p, long s0, long pairs, float *ws) {
    const int f = w->format;
    const long step = rk_step_bytes(f);
    const uint8_t *pw = (const uint8_t *)w->weights + (p * (w->kpad / 2) + s0) * step;
    const __m256 up = _mm256_set1_ps(f == RK_FP8 ? 256.0f : f == RK_FP4 ? 16384.0f : 1.0f);
    __m256 sc[8];
    for (long kp = 0; kp < pairs; kp++) {
        long k = 2 * (s0 + kp);
        if (f == RK_FP8) for (int i = 0; i < 8; i++) sc[i] = _mm256_set1_ps(((const float *)w->scales)[(p / 4) * (w->kpad / 128) + k / 128]);
        else if (f == RK_FP4 && k % 32 == 0) fp4_scales(w, p, k, sc);
        else if (f == RK_BF16) for (int i = 0; i < 8; i++) sc[i] = _mm256_set1_ps(1.0f);
        __m256 v[8];
        if (f == RK_FP8) decode_fp8(pw + kp * step, v); else if (f == RK_FP4) decode_fp4(pw + kp * step, v); else decode_bf16(pw + kp * step, v);
        for (int i = 0; i < 8; i++) {   // deinterleave the two inputs: ws[2k][rows], ws[2k+1][rows]
            __m256 x = _mm256_permutevar8x32_ps(_mm256_mul_ps(_mm256_mul_ps(v[i], up), sc[i]), _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
            _mm_storeu_ps(ws + (2 * kp) * 32 + step_row(f, i), _mm256_castps256_ps128(x));
            _mm_storeu_ps(ws + (2 * kp + 1) * 32 + step_row(f, i), _mm256_extractf128_ps(x, 1));
        }
    }
}

// Few activation rows (decode): each step's weights are decoded in registers and multiplied at
// once, half a panel (16 rows: 4 vectors) at a time so that up to 3 rows' sums fit the 16 ymm
// registers; per scale group (FP8: 128 inputs, FP4: 32) the sums are scaled into tot.
// Half h, vector q covers rows half_row(q) + l/2 of half h; lane l holds input 2k + l%2.
INLINE long half_row(int f, int h, int q) { static const int r4[4] = {0, 8, 4, 12}; return 16 * h + (f == RK_FP4 ? r4[q] : 4 * q); }

INLINE void decode_half(int f, const uint8_t *b, int h, __m256 v[4]) {
    if (f == RK_FP8) {
        for (int q = 0; q < 4; q++) {   // slots 16q + 8h .. +7
            __m128i w = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b + 16 * q + 8 * h)));
            v[q] = _mm256_cvtph_ps(_mm_and_si128(_mm_slli_epi16(w, 7), _mm_set1_epi16((short)0xBFFF)));
        }
    } else if (f == RK_FP4) {
        const __m256i lut = _mm256_loadu_si256((const __m256i *)e2m1_fp16_hi), low4 = _mm256_set1_epi8(15);
        __m256i bytes = _mm256_loadu_si256((const __m256i *)b);
        __m256i nib = _mm256_and_si256(h ? _mm256_srli_epi16(bytes, 4) : bytes, low4);
        __m256i hi = _mm256_shuffle_epi8(lut, nib), z = _mm256_setzero_si256();
        __m256i lo16 = _mm256_unpacklo_epi8(z, hi), hi16 = _mm256_unpackhi_epi8(z, hi);
        v[0] = _mm256_cvtph_ps(_mm256_castsi256_si128(lo16));
        v[1] = _mm256_cvtph_ps(_mm256_extracti128_si256(lo16, 1));
        v[2] = _mm256_cvtph_ps(_mm256_castsi256_si128(hi16));
        v[3] = _mm256_cvtph_ps(_mm256_extracti128_si256(hi16, 1));
    } else {
        for (int q = 0; q < 4; q++)
            v[q] = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + 64 * h + 16 * q))), 16));
    }
}

// Rows m0 .. m0+MT−1 of half h of panel p; sums[MT][4][8] lanes in vector order.
INLINE void half_tile(const int MT, const rk_weights *w, const float *x, long xstride, long p, int h, float *sums) {
    const int f = w->format;
    const long step = rk_step_bytes(f), pairs = w->kpad / 2, G = f == RK_FP4 ? 16 : f == RK_FP8 ? 64 : pairs;
    const uint8_t *pw = (const uint8_t *)w->weights + p * pairs * step;
    const __m256 up = _mm256_set1_ps(f == RK_FP8 ? 256.0f : f == RK_FP4 ? 16384.0f : 1.0f);
    for (int i = 0; i < MT * 32; i += 8) _mm256_storeu_ps(sums + i, _mm256_setzero_ps());
    for (long g0 = 0; g0 < pairs; g0 += G) {
        __m256 acc[3][4];
        for (int m = 0; m < MT; m++) for (int q = 0; q < 4; q++) acc[m][q] = _mm256_setzero_ps();
        for (long kp = g0; kp < g0 + G; kp++) {
            _mm_prefetch((const char *)(pw + kp * step) + 4096, _MM_HINT_T0);
            __m256 xv[3], v[4];
            for (int m = 0; m < MT; m++) xv[m] = _mm256_castpd_ps(_mm256_broadcast_sd((const double *)(x + m * xstride + 2 * kp)));
            decode_half(f, pw + kp * step, h, v);
            for (int q = 0; q < 4; q++)
                for (int m = 0; m < MT; m++) acc[m][q] = _mm256_fmadd_ps(v[q], xv[m], acc[m][q]);
        }
        for (int q = 0; q < 4; q++) {
            __m256 sc;
            if (f == RK_FP8) sc = _mm256_set1_ps(((const float *)w->scales)[(p / 4) * (w->kpad / 128) + g0 / 64]);
            else if (f == RK_FP4) {
                const uint8_t *sb = (const uint8_t *)w->scales + (p * (w->kpad / 32) + 2 * g0 / 32) * 32 + half_row(f, h, q);
                float a = rk_e8m0_value(sb[0]), b = rk_e8m0_value(sb[1]), c = rk_e8m0_value(sb[2]), d = rk_e8m0_value(sb[3]);
                sc = _mm256_setr_ps(a, a, b, b, c, c, d, d);
            } else sc = _mm256_set1_ps(1.0f);
            for (int m = 0; m < MT; m++) {
                float *s = sums + (m * 4 + q) * 8;
                _mm256_storeu_ps(s, _mm256_fmadd_ps(_mm256_mul_ps(acc[m][q], up), sc, _mm256_loadu_ps(s)));
            }
        }
    }
}

typedef void (*half_fn)(const rk_weights *, const float *, long, long, int, float *);
#define DEFH(MT) static __attribute__((noinline)) void half_tile_##MT(const rk_weights *w, const float *x, long xs, long p, int h, float *s) { half_tile(MT, w, x, xs, p, h, s); }
DEFH(1) DEFH(2) DEFH(3)
static const half_fn half_tiles[4] = {0, half_tile_1, half_tile_2, half_tile_3};

// All M rows of panel p into tot[M][32], by tiles of ≤ 3 rows and half panels.
static void panel_fused(const rk_weights *w, const rk_activations *a, long p, float *tot) {
    float sums[3 * 4 * 8];
    const long tiles = (a->m + 2) / 3;   // balanced: 4 rows → 2 + 2, not 3 + 1
    for (long i = 0, m0 = 0; i < tiles; i++) {
        int mt = (int)((a->m - m0 + (tiles - i) - 1) / (tiles - i));
        for (int h = 0; h < 2; h++) {
            half_tiles[mt](w, a->xf + m0 * w->kpad, w->kpad, p, h, sums);
            for (int m = 0; m < mt; m++)
                for (int q = 0; q < 4; q++)
                    for (int l = 0; l < 8; l += 2)
                        tot[(m0 + m) * 32 + half_row(w->format, h, q) + l / 2] = sums[(m * 4 + q) * 8 + l] + sums[(m * 4 + q) * 8 + l + 1];
        }
        m0 += mt;
    }
}

void rk_linear_avx2(const rk_weights *w, const rk_activations *a, long p0, long p1, void *scratch) {
    const long M = a->m, K = w->kpad;
    float *tot = (float *)scratch;                                   // [M][32]
    float *ws = tot + (M * 32 + 15) / 16 * 16;                       // [2·RK_SEG_PAIRS][32]
    for (long p = p0; p < p1; p++) {
        // Quantized and bf16 weights take the fused tiles at every M: their per-row summation order
        // does not depend on M, so a row's result does not depend on its batch (batch invariance).
        if (w->format != RK_F32) {
            panel_fused(w, a, p, tot);
            rk_store_panel(w, a, p, tot);
            continue;
        }
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

// One pool job for many products (a layer's experts): tasks are (product, panel range) pairs,
// sized as rk_linear_run sizes them over all the panels together. Each product runs exactly the
// code rk_linear_run would, so its rows come out the same bits.
typedef struct { int path; const rk_linear_job *jobs; const long *first; int count; long per; long scratch; rk_pool *pool; } many_ctx;

static void many_task(void *c, int task, int worker) {
    many_ctx *r = c;
    int lo = 0, hi = r->count - 1;          // the job whose task range holds `task`
    while (lo < hi) { int mid = (lo + hi + 1) / 2; if (r->first[mid] <= task) lo = mid; else hi = mid - 1; }
    const rk_linear_job *j = &r->jobs[lo];
    long panels = (j->w->n + 31) / 32, p0 = (task - r->first[lo]) * r->per;
    long p1 = p0 + r->per < panels ? p0 + r->per : panels;
    void *s = rk_pool_scratch(r->pool, worker, r->scratch);
    if (r->path == RK_PATH_AVX512) rk_linear_avx512(j->w, j->a, p0, p1, s);
    else rk_linear_avx2(j->w, j->a, p0, p1, s);
}

void rk_linear_run_many(rk_pool *pool, int path, const rk_linear_job *jobs, int count) {
    if (count <= 0) return;
    long total = 0, scratch = 0;
    for (int i = 0; i < count; i++) {
        total += (jobs[i].w->n + 31) / 32;
        long b = rk_linear_scratch_bytes(jobs[i].w, jobs[i].a->m);
        if (b > scratch) scratch = b;
    }
    long want = 16L * rk_pool_threads(pool), per = (total + want - 1) / want;
    if (per < 1) per = 1;
    long *first = malloc(sizeof(long) * (size_t)count), tasks = 0;  // first task of each job
    for (int i = 0; i < count; i++) { first[i] = tasks; tasks += ((jobs[i].w->n + 31) / 32 + per - 1) / per; }
    many_ctx r = {path, jobs, first, count, per, scratch, pool};
    rk_pool_run(pool, (int)tasks, many_task, &r);
    free(first);
}
