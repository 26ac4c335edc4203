// AVX2/FMA linear path and the panel driver. Quantized and bf16 weights are decoded exactly and
// multiplied in fp32 by FMA: for few activation rows (bf16 one; FP8 up to 32 and FP4 up to 16, in
// passes of up to 6 rows) straight from registers, for more rows chunk by chunk, either decoded in
// registers by each row tile (one tile, or bf16) or decoded once into L1 for several tiles to read
// (decoding must not be repeated per tile where it costs more than the FMAs it feeds). fp32 weights
// run the FMA tiles over [inputs][32 rows] segments.
// Activations are fp32 (q·s for FP8/FP4, exact).
#include "decode_avx2.h"
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

// Every path below computes a row's output in the same order: per scale group, each lane sums its
// weight · input products by FMA over the group's pairs in order; the lane sums are scaled into
// running sums (one FMA per group); the two parities are added last. So a row's bits do not depend
// on M or on the path taken (batch invariance).

// Lane sums [rows][64] of panel p → y rows m0 .. m0+rows−1: the two parities added, rounded if asked.
static void store_rows(const rk_weights *w, const rk_activations *a, long p, long m0, long rows, const float *sums) {
    for (long m = 0; m < rows; m++)
        for (int i = 0; i < 8; i++)
            for (int l = 0; l < 8; l += 2) {
                long n = p * 32 + lane_row(w->format, i, l);
                float v = sums[m * 64 + 8 * i + l] + sums[m * 64 + 8 * i + l + 1];
                if (n < w->n) a->y[(m0 + m) * w->n + n] = a->round_bf16 ? rk_bf16_round(v) : v;
            }
}

// Up to these rows, FP8 and FP4 run passes of up to 6 rows (rows_avx2.c) over each panel, the later
// passes reading it from L2: re-decoding costs less there than the chunk path's decoded fp32 weights
// streamed from L1/L2. One thread, 256×7168 in cache, FP8 chunk or direct tiles → passes: M = 2
// 45 → 61% of the FMA peak, M = 6 53–70 → 82%, M = 16 71 → 80%, M = 32 76 → 79%, M = 96 even; FP4
// (passes of 3 → of up to 6): M = 4 57 → 68%, M = 12 62 → 71%, M = 24 even with the chunk path.
#define RK_FP4_ROWS_MAX 16
#define RK_FP8_ROWS_MAX 32

// Two rows and more, chunk by chunk of RK_CHUNK_PAIRS input pairs: register tiles of MT rows × NV
// vectors run FMAs from the weights and each row's broadcast input pair (x[2kp], x[2kp+1] four
// times), gp pairs (a scale group) at a time. From seven rows (FP8, FP4; bf16 from 49) a chunk of
// each panel is first decoded once into fp32 (dec [4][pairs][2 vectors][8], so that a tile of two
// vectors streams 4 KiB in order), and the tiles broadcast the inputs straight from the rows.
// Tiles that decode in registers (direct_tile) read them laid out broadcast (xb [rows][pairs][8],
// FP8's · 2^60 applied) instead. acc [M][64] carries lane sums from chunk to chunk
// of a group longer than a chunk (bf16's single group), sums [M][64] the scaled running sums;
// sc [chunk groups][8] the chunk's scales.

// A tile's accumulators at the start of group g of a chunk: carried lane sums or zero.
INLINE void tile_start(const int MT, const int NV, __m256 acc[6][4], const float *acc_mem, int v0, long g, int first) {
    for (int m = 0; m < MT; m++)
        for (int j = 0; j < NV; j++) acc[m][j] = g == 0 && !first ? _mm256_loadu_ps(acc_mem + 64 * m + 8 * (v0 + j)) : _mm256_setzero_ps();
}
// How a group's lane sums join the running sums: scaled (by FMA), first multiplied by FP8's 2^60,
// or added where the chunk was decoded with its scales folded in (decode_chunk): an add runs beside
// the tile's FMAs on Zen 3, where an FMA would take one of their two pipes.
enum { END_SCALE, END_UP_SCALE, END_ADD };

// At the end of a group: lane sums into the running sums, or carried to the next chunk.
INLINE void tile_end(const int MT, const int NV, __m256 acc[6][4], float *acc_mem, float *sums, const __m256 *sc, int v0,
                     long g, int how, int ends) {
    for (int m = 0; m < MT; m++)
        for (int j = 0; j < NV; j++) {
            float *s = sums + 64 * m + 8 * (v0 + j);
            if (!ends) _mm256_storeu_ps(acc_mem + 64 * m + 8 * (v0 + j), acc[m][j]);
            else if (how == END_ADD) _mm256_storeu_ps(s, _mm256_add_ps(acc[m][j], _mm256_loadu_ps(s)));
            else _mm256_storeu_ps(s, _mm256_fmadd_ps(how == END_UP_SCALE ? _mm256_mul_ps(acc[m][j], decode_up(RK_FP8)) : acc[m][j],
                                                     sc[8 * g + v0 + j], _mm256_loadu_ps(s)));
        }
}

// Vectors per tile call: 4 for tiles of few rows, so that they still keep 8 accumulators or more.
INLINE int tile_vectors(int mt, int direct) { return mt <= (direct ? 2 : 3) ? 4 : 2; }

#define RK_CHUNK_PAIRS 64   // 16 KiB decoded per panel: 1 FP8 group, 4 FP4 groups, 1/16 of a bf16 row of 4096

// Lines [0, n) from pf (the next round's weights), n ≤ RK_CHUNK_PAIRS / 2, prefetched evenly over a
// chunk's steps: one prefetch every step or two (a line again until the next is due), with no branch
// that would cost the tile its registers. Without it the bus idles while the rows multiply a chunk
// in L1.
INLINE void prefetch_ahead(const uint8_t *pf, unsigned long n, unsigned long kp) {
    _mm_prefetch((const char *)pf + (kp * n / RK_CHUNK_PAIRS) * 64, _MM_HINT_T0);
}

INLINE void chunk_tile(const int MT, const int NV, const float *dec, long n, long gp, const float *x, long xs, int v0,
                       const uint8_t *pf, long pf_lines, float *acc_mem, float *sums, const __m256 *sc, int how, int first, int last) {
    const double *xr[6];   // the rows' input pairs
    for (int m = 0; m < MT; m++) xr[m] = (const double *)(x + m * xs);
    const float *wp[4];    // the tile's vectors of each decoded step, 16 floats apart
    for (int j = 0; j < NV; j++) wp[j] = dec + (v0 + j) / 2 * n * 16 + 8 * ((v0 + j) % 2);
    for (int m = 0; m < MT; m++) _mm_prefetch((const char *)(sums + 64 * m + 8 * v0), _MM_HINT_T0);   // from L2
    for (long g = 0; g < n / gp; g++) {
        __m256 acc[6][4];
        tile_start(MT, NV, acc, acc_mem, v0, g, first);
        for (long kp = g * gp; kp < (g + 1) * gp; kp += 2) {   // two steps a turn: fewer loop and prefetch ops
            prefetch_ahead(pf, pf_lines, kp);
            for (int u = 0; u < 2; u++) {
                __m256 wv[4];
                for (int j = 0; j < NV; j++) wv[j] = _mm256_loadu_ps(wp[j] + 16 * (kp + u));
                for (int m = 0; m < MT; m++) {
                    __m256 xv = _mm256_castpd_ps(_mm256_broadcast_sd(xr[m] + kp + u));
                    for (int j = 0; j < NV; j++) acc[m][j] = _mm256_fmadd_ps(wv[j], xv, acc[m][j]);
                }
            }
        }
        tile_end(MT, NV, acc, acc_mem, sums, sc, v0, g, how, g < n / gp - 1 || last);
    }
}
typedef void (*chunk_fn)(const float *, long, const float *, long, int, const uint8_t *, long, float *, float *, const __m256 *, int, int, int);
#define DEFC(MT, NV) static __attribute__((noinline)) void chunk_tile_##MT(const float *d, long gp, const float *x, long xs, \
    int v0, const uint8_t *pf, long pl, float *am, float *s, const __m256 *sc, int how, int fi, int la) { chunk_tile(MT, NV, d, RK_CHUNK_PAIRS, gp, x, xs, v0, pf, pl, am, s, sc, how, fi, la); }
DEFC(3, 4) DEFC(4, 2) DEFC(5, 2) DEFC(6, 2)   // tile_vectors(MT, 0); two tiles or more have at least 3 rows each
static const chunk_fn chunk_tiles[7] = {0, 0, 0, chunk_tile_3, chunk_tile_4, chunk_tile_5, chunk_tile_6};

// One tile (the last 1–6 rows of a long M), or bf16 up to 48 rows: decoding a chunk into
// memory would cost more than it saves, so each tile decodes its quarter (NV = 2) or half panel
// (NV = 4, for ≤ 2 rows: 8 accumulators hide the FMA latency) in registers straight from the packed
// chunk pw, which stays in L1 for the other passes and tiles; the FMAs and their order are
// chunk_tile's. FP8 and FP4 over several tiles were slower than the shared decoded chunk.
INLINE void direct_tile(const int MT, const int NV, const int f, const uint8_t *pw, long n, long gp, const float *xb, int v0,
                        int fetch, const uint8_t *pf, long pf_lines, float *acc_mem, float *sums, const __m256 *sc, int first, int last) {
    const long step = rk_step_bytes(f);
    for (long g = 0; g < n / gp; g++) {
        __m256 acc[6][4];
        tile_start(MT, NV, acc, acc_mem, v0, g, first);
        for (long kp = g * gp; kp < (g + 1) * gp; kp++) {
            if (fetch) prefetch_step(pw + kp * step, step);   // a block's first chunk: a task's first block has no round before it
            prefetch_ahead(pf, pf_lines, kp);
            __m256 wv[4];
            if (NV == 4) decode_half(f, pw + kp * step, v0 / 4, wv);
            else decode_quarter(f, pw + kp * step, v0 / 2, wv);
            for (int m = 0; m < MT; m++) {
                __m256 xv = _mm256_loadu_ps(xb + 8 * (m * n + kp));
                for (int j = 0; j < NV; j++) acc[m][j] = _mm256_fmadd_ps(wv[j], xv, acc[m][j]);
            }
        }
        tile_end(MT, NV, acc, acc_mem, sums, sc, v0, g, f == RK_FP8 ? END_UP_SCALE : END_SCALE, g < n / gp - 1 || last);
    }
}
typedef void (*direct_fn)(const uint8_t *, long, const float *, int, int, const uint8_t *, long, float *, float *, const __m256 *, int, int);
#define DEFT(MT, F, NAME) static __attribute__((noinline)) void direct_tile_##NAME##_##MT(const uint8_t *pw, long gp, \
    const float *xb, int v0, int fe, const uint8_t *pf, long pl, float *am, float *s, const __m256 *sc, int fi, int la) { \
    direct_tile(MT, tile_vectors(MT, 1), F, pw, RK_CHUNK_PAIRS, gp, xb, v0, fe, pf, pl, am, s, sc, fi, la); }
#define DEFT_ALL(F, NAME) DEFT(1, F, NAME) DEFT(2, F, NAME) DEFT(3, F, NAME) DEFT(4, F, NAME) DEFT(5, F, NAME) DEFT(6, F, NAME)
DEFT_ALL(RK_FP8, fp8) DEFT_ALL(RK_FP4, fp4) DEFT_ALL(RK_BF16, bf16)
#define DIRECT_ROW(NAME) {0, direct_tile_##NAME##_1, direct_tile_##NAME##_2, direct_tile_##NAME##_3, direct_tile_##NAME##_4, direct_tile_##NAME##_5, direct_tile_##NAME##_6}
static const direct_fn direct_tiles[3][7] = {DIRECT_ROW(fp8), DIRECT_ROW(fp4), DIRECT_ROW(bf16)};   // [format][rows]

// Pairs [0, RK_CHUNK_PAIRS) from pw into dec [4][RK_CHUNK_PAIRS][16]: FP8 as value · 2^-60 (the
// tiles multiply unscaled inputs, and lane sums by 2^60), FP4 as value, or value · scale where sc
// (the chunk's scales, or NULL) is given. A scale 2^-63 … 2^63 folded in changes no bit: each product
// and partial sum is the unfolded one times that power of two, and stays a normal float (inputs are
// multiples of 2^-31: e4m3 with an activation scale of at least 2^-22).
INLINE void decode_chunk(const int f, const uint8_t *pw, const __m256 *sc, float *dec) {
    const long step = rk_step_bytes(f);
    for (long kp = 0; kp < RK_CHUNK_PAIRS; kp++) {
        __m256 v[8];
        prefetch_step(pw + kp * step, step);
        decode_step(f, pw + kp * step, v);
        if (f == RK_FP8) for (int i = 0; i < 8; i++) v[i] = _mm256_mul_ps(v[i], x_up(RK_FP8));
        if (f == RK_FP4 && sc) for (int i = 0; i < 8; i++) v[i] = _mm256_mul_ps(v[i], sc[8 * (kp / 16) + i]);
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(dec + (i / 2 * RK_CHUNK_PAIRS + kp) * 16 + 8 * (i % 2), v[i]);
    }
}
typedef void (*decode_fn)(const uint8_t *, const __m256 *, float *);
#define DEFD(F, NAME) static __attribute__((noinline)) void decode_chunk_##NAME(const uint8_t *pw, const __m256 *sc, float *dec) { decode_chunk(F, pw, sc, dec); }
DEFD(RK_FP8, fp8) DEFD(RK_FP4, fp4) DEFD(RK_BF16, bf16)
static const decode_fn decode_chunks[3] = {decode_chunk_fp8, decode_chunk_fp4, decode_chunk_bf16};   // by format

#define RK_BLOCK_PANELS 8   // panels whose chunks are decoded together, so that a row tile's inputs serve them all
#define RK_BLOCK_ROWS 96    // rows per block, which bounds acc and sums

// Whether FP4 panel p's scales over the chunk from input pair c0 lie in 2^-63 … 2^63 (decode_chunk).
INLINE int fp4_scales_foldable(const rk_weights *w, long p, long c0) {
    const __m256i *e = (const __m256i *)((const uint8_t *)w->scales + (p * (w->kpad / 32) + c0 / 16) * 32);
    __m256i lo = _mm256_loadu_si256(e), hi = lo;
    for (int g = 1; g < RK_CHUNK_PAIRS / 16; g++) {
        lo = _mm256_min_epu8(lo, _mm256_loadu_si256(e + g));
        hi = _mm256_max_epu8(hi, _mm256_loadu_si256(e + g));
    }
    const __m256i ok = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_max_epu8(lo, _mm256_set1_epi8(64)), lo),
                                        _mm256_cmpeq_epi8(_mm256_min_epu8(hi, _mm256_set1_epi8((char)190)), hi));
    return _mm256_movemask_epi8(ok) == -1;
}

// The packed weights of panel p from input pair c0 on.
INLINE const uint8_t *chunk_at(const rk_weights *w, long p, long c0) {
    return (const uint8_t *)w->weights + (p * (w->kpad / 2) + c0) * rk_step_bytes(w->format);
}

// Panels p0 .. p0+np−1 for rows m0 .. m0+mb−1, chunk by chunk over the inputs: the panels' chunks are
// decoded once into dec [np][4][RK_CHUNK_PAIRS][16] and read by every row tile (or, see `direct`,
// each tile decodes its quarters in registers, from the rows laid out in xb [6][pairs][8]); a tile's
// inputs serve all np panels. acc and sums: [np][mb][64].
static void block_rows(const rk_weights *w, const rk_activations *a, long p0, long np, long m0, long mb,
                       float *dec, float *xb, float *acc_mem, float *sums) {
    const int f = w->format;
    const long pairs = w->kpad / 2, G = group_pairs(w), C = RK_CHUNK_PAIRS, gp = G < C ? G : C;
    const long tiles = (mb + 5) / 6;   // balanced: 8 rows → 4 + 4
    // Decode in registers where no other tile would reuse a decoded chunk (one tile), and for bf16,
    // whose decoding is one unpack a vector, up to 48 rows (8 tiles).
    const int direct = tiles == 1 || (f == RK_BF16 && mb <= 48);
    const long panels = (w->n + 31) / 32, lines = C * rk_step_bytes(f) / 64;
    int mts[RK_BLOCK_ROWS / 3 + 1], nvs[RK_BLOCK_ROWS / 3 + 1], calls = 0;   // per tile: rows, vectors a call
    for (long t = 0, r = 0; t < tiles; r += mts[t++]) {
        mts[t] = (int)((mb - r + (tiles - t) - 1) / (tiles - t));
        nvs[t] = tile_vectors(mts[t], direct);
        calls += 8 / nvs[t];
    }
    long first_line[RK_BLOCK_ROWS / 3 * 4 + 1];   // per call (tile, vectors): the first of its share of the prefetch lines
    for (int c = 0; c <= calls; c++) first_line[c] = c * lines / calls;
    __m256 sc[RK_BLOCK_PANELS][8 * (RK_CHUNK_PAIRS / 16)];
    int fold[RK_BLOCK_PANELS];   // per panel: its chunk was decoded with the scales folded in
    memset(sums, 0, sizeof(float) * 64 * (size_t)(np * mb));
    for (long c0 = 0; c0 < pairs; c0 += C) {
        const int first = c0 % G == 0, last = (c0 + C) % G == 0;
        const uint8_t *next[RK_BLOCK_PANELS];   // each panel's next chunk, or the next block's panel: the calls share its lines
        for (long pi = 0; pi < np; pi++) {
            for (long g = 0; g < C / gp; g++) if (g < C / gp - 1 || last) group_scales(w, p0 + pi, (c0 + g * gp) / G, sc[pi] + 8 * g);
            fold[pi] = !direct && f == RK_FP4 && fp4_scales_foldable(w, p0 + pi, c0);
            if (!direct) decode_chunks[f](chunk_at(w, p0 + pi, c0), fold[pi] ? sc[pi] : NULL, dec + 64 * C * pi);
            next[pi] = c0 + C < pairs ? chunk_at(w, p0 + pi, c0 + C) : p0 + np + pi < panels ? chunk_at(w, p0 + np + pi, 0) : NULL;
        }
        for (long t = 0, r = 0, call = 0; t < tiles; r += mts[t++]) {
            const int mt = mts[t], nv = nvs[t];
            // The next tile's x (the next round's first tile after the last): it comes from L3.
            const long nr = t + 1 < tiles ? r + mt : 0, nc = t + 1 < tiles ? c0 : c0 + C, nmt = mts[t + 1 < tiles ? t + 1 : 0];
            for (long m = nr; m < nr + nmt && nc < pairs; m++)
                for (long kp = 0; kp < C; kp += 8) _mm_prefetch((const char *)(a->xf + (m0 + m) * w->kpad + 2 * (nc + kp)), _MM_HINT_T0);
            for (int m = 0; m < mt && direct; m++) {
                const double *xr = (const double *)(a->xf + (m0 + r + m) * w->kpad + 2 * c0);
                for (long kp = 0; kp < C; kp++)
                    _mm256_storeu_ps(xb + 8 * (m * C + kp), _mm256_mul_ps(_mm256_castpd_ps(_mm256_broadcast_sd(xr + kp)), x_up(f)));
            }
            for (long pi = 0; pi < np; pi++) {
                long o = 64 * (pi * mb + r);
                for (long v0 = 0, c = call; v0 < 8; v0 += nv, c++) {
                    const long l0 = first_line[c], nl = first_line[c + 1] - l0;
                    const uint8_t *pf = next[pi] ? next[pi] + 64 * l0 : chunk_at(w, p0 + pi, c0);
                    if (direct) direct_tiles[f][mt](chunk_at(w, p0 + pi, c0), gp, xb, v0, c0 == 0 && t == 0 && v0 == 0,
                                                    pf, nl, acc_mem + o, sums + o, sc[pi], first, last);
                    else chunk_tiles[mt](dec + 64 * C * pi, gp, a->xf + (m0 + r) * w->kpad + 2 * c0, w->kpad, v0, pf, nl, acc_mem + o, sums + o, sc[pi],
                                                 fold[pi] ? END_ADD : f == RK_FP8 ? END_UP_SCALE : END_SCALE, first, last);
                }
            }
            call += 8 / nv;
        }
    }
    for (long pi = 0; pi < np; pi++) store_rows(w, a, p0 + pi, m0, mb, sums + 64 * pi * mb);
}

void rk_linear_avx2(const rk_weights *w, const rk_activations *a, long p0, long p1, void *scratch) {
    const long M = a->m, K = w->kpad;
    float *tot = (float *)scratch;                                   // [M][32]
    float *buf = tot + (M * 32 + 15) / 16 * 16;
    if (w->format == RK_F32) {                                       // weights are fp32 [k][32] already
        for (long p = p0; p < p1; p++) {
            for (long s0 = 0; s0 < K / 2; s0 += RK_SEG_PAIRS) {
                long pairs = K / 2 - s0 < RK_SEG_PAIRS ? K / 2 - s0 : RK_SEG_PAIRS;
                const float *src = (const float *)w->weights + (p * K + 2 * s0) * 32;
                for (long m0 = 0; m0 < M; m0 += 6) {
                    long n = M - m0 < 6 ? M - m0 : 6;
                    f32_tiles[n](src, 2 * pairs, a->xf + m0 * K + 2 * s0, K, tot + m0 * 32, s0 == 0);
                }
            }
            rk_store_panel(w, a, p, tot);
        }
    } else if ((w->format == RK_FP4 && M <= RK_FP4_ROWS_MAX) || (w->format == RK_FP8 && M <= RK_FP8_ROWS_MAX)) {   // buf: sums [M][64]
        void (*rows_pass)(const rk_weights *, const float *, long, long, long, float *) = w->format == RK_FP4 ? rk_avx2_fp4_rows : rk_avx2_fp8_rows;
        for (long p = p0; p < p1; p++) {
            for (long m0 = 0, r; m0 < M; m0 += r) {
                r = (M - m0 + (M - m0 + 5) / 6 - 1) / ((M - m0 + 5) / 6);   // passes of up to 6 rows, balanced
                rows_pass(w, a->xf + m0 * K, K, r, p, buf + 64 * m0);
            }
            store_rows(w, a, p, 0, M, buf);
        }
    } else if (M == 1) {                                             // bf16; buf: sums [64]
        for (long p = p0; p < p1; p++) {
            rk_avx2_bf16_row(w, a->xf, p, buf);
            store_rows(w, a, p, 0, 1, buf);
        }
    } else {                                                         // buf: dec, xb, then acc and sums [panels][rows][64]
        const long mb_max = M < RK_BLOCK_ROWS ? M : RK_BLOCK_ROWS;   // whole 6-row tiles but in the last block
        for (long pb = p0; pb < p1; pb += RK_BLOCK_PANELS) {
            long np = p1 - pb < RK_BLOCK_PANELS ? p1 - pb : RK_BLOCK_PANELS;
            for (long m0 = 0; m0 < M;) {
                long mb = M - m0 < RK_BLOCK_ROWS ? M - m0 : RK_BLOCK_ROWS;
                float *xb = buf + 64 * RK_CHUNK_PAIRS * RK_BLOCK_PANELS, *acc_mem = xb + 8 * 6 * RK_CHUNK_PAIRS;
                block_rows(w, a, pb, np, m0, mb, buf, xb, acc_mem, acc_mem + 64 * RK_BLOCK_PANELS * mb_max);
                m0 += mb;
            }
        }
    }
}

long rk_linear_scratch_bytes(const rk_weights *w, long m) {
    (void)w;
    long mb = m < RK_BLOCK_ROWS ? m : RK_BLOCK_ROWS;
    return (m * 32 * 4 + 64) + (RK_CHUNK_PAIRS * (64 * RK_BLOCK_PANELS + 8 * 6) + 2 * 64 * RK_BLOCK_PANELS * mb) * 4 + 128;
}

typedef struct { int path; const rk_weights *w; const rk_activations *a; long panels, per, rows; rk_pool *pool; } run_ctx;

static void run_task(void *c, int task, int worker) {
    run_ctx *r = c;
    const rk_activations *a = r->a;
    long blocks = (r->panels + r->per - 1) / r->per, p0 = task % blocks * r->per;
    long p1 = p0 + r->per < r->panels ? p0 + r->per : r->panels;
    rk_activations rows = *a;   // this task's rows [m0, m0 + rows.m): rows are independent
    long m0 = task / blocks * r->rows, kp = r->w->kpad;
    rows.m = a->m - m0 < r->rows ? a->m - m0 : r->rows;
    if (a->xq) rows.xq = a->xq + m0 * kp;
    if (a->xs) rows.xs = a->xs + m0 * (kp / 128);
    if (a->xf) rows.xf = a->xf + m0 * kp;
    rows.y = a->y + m0 * r->w->n;
    void *s = rk_pool_scratch(r->pool, worker, rk_linear_scratch_bytes(r->w, rows.m));
    if (r->path == RK_PATH_AVX512) rk_linear_avx512(r->w, &rows, p0, p1, s);
    else rk_linear_avx2(r->w, &rows, p0, p1, s);
}

void rk_linear_run(rk_pool *pool, int path, const rk_weights *w, const rk_activations *a) {
    run_ctx r = {path, w, a, (w->n + 31) / 32, 1, a->m > 0 ? a->m : 1, pool};
    // About 16 tasks per thread: a task claimed by a vCPU that the hypervisor then deschedules holds
    // up the whole call, so tasks are kept small (a CAS each; panels are 7–230 KiB of weights). Many
    // rows (prefill) take at least RK_BLOCK_PANELS panels a task on AVX2, so that its tiles share x.
    long threads = rk_pool_threads(pool), want = 16L * threads;
    r.per = (r.panels + want - 1) / want;
    if (path == RK_PATH_AVX2 && a->m >= 32 && r.per < RK_BLOCK_PANELS) r.per = RK_BLOCK_PANELS;
    if (r.per < 1) r.per = 1;
    long blocks = (r.panels + r.per - 1) / r.per;
    // Too few panels to share (a prefill's hyper-connection mix is one): the rows are split as well,
    // in blocks of at least 32, four tasks a thread.
    if (blocks < 2 * threads && a->m >= 64) {
        long split = (4 * threads + blocks - 1) / blocks, per_rows = (a->m + split - 1) / split;
        r.rows = per_rows < 32 ? 32 : per_rows;
    }
    rk_pool_run(pool, (int)(blocks * ((a->m + r.rows - 1) / r.rows)), run_task, &r);
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
    long want = 16L * rk_pool_threads(pool), per = (total + want - 1) / want, m = 0;
    for (int i = 0; i < count; i++) if (jobs[i].a->m > m) m = jobs[i].a->m;
    if (path == RK_PATH_AVX2 && m >= 32 && per < RK_BLOCK_PANELS) per = RK_BLOCK_PANELS;   // as rk_linear_run
    if (per < 1) per = 1;
    long *first = malloc(sizeof(long) * (size_t)count), tasks = 0;  // first task of each job
    for (int i = 0; i < count; i++) { first[i] = tasks; tasks += ((jobs[i].w->n + 31) / 32 + per - 1) / per; }
    many_ctx r = {path, jobs, first, count, per, scratch, pool};
    rk_pool_run(pool, (int)tasks, many_task, &r);
    free(first);
}
