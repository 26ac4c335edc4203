// AVX-512 (BF16 + VBMI) linear kernels. Weights are expanded to bf16 in registers — e4m3 with two
// 128-entry byte lookups (vpermt2b), e2m1 with a 16-entry word lookup (vpermw) — and multiplied with
// vdpbf16ps (fp32 accumulation). FP8/FP4 values and the FP8-quantized activation are exact in bf16,
// so every product is exact; scales are applied per group in fp32 (FP8: 128 inputs, FP4: 32).
// Output tile: 32 rows (two zmm of 16 fp32 lanes) × MT activation rows; x pairs are broadcast.
// With many activation rows, FP8/FP4 segments are first expanded to bf16 once for all row tiles.
#include "riptide_kernels.h"
#include "linear_common.h"
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512bf16,avx512vnni")))
enum { SF_NONE = 9 };
// FP4 in 128-input blocks. Scaling the sums once per 32-input group cost ~1/5 of the FP pipe of an
// FP4 tile at 6 rows. For a panel whose scale bytes all lie in 87..167 (2^±40; real checkpoints sit
// near 2^-8), the sums instead run over a whole 128-input block, as if every weight carried its
// group's scale, and are scaled once per block:
// - decoded once (RK_FP4S): the E8M0 exponent is added to each decoded bf16 weight (exact: e2m1 has
//   one mantissa bit);
// - decoded per tile (SF_FP4_BLOCK): the running sums are rescaled by 2^(e_prev − e) at each group
//   boundary, and the weights stay unscaled.
// Multiplying by a power of two commutes with fp32 rounding while every value stays normal, which
// that range guarantees, so both give bit-identical sums and batch invariance holds.
enum { RK_FP4S = 8, SF_FP4_BLOCK = 10 };
// Prefetch distance in bytes. Measured on the Zen 4 VM when its DRAM gives ~75 GB/s: 8 KiB beats
// 3 KiB by ~8% (FP8 M = 1: 59 → 64 GB/s); when it gives ~45 GB/s every distance reaches it.
#define RK_PREFETCH_BYTES 8192
// From these row counts a panel segment is decoded to bf16 once and shared by all its row tiles,
// which then run the bf16 tile (Zen 4, two threads, 128-pair segments with the next one prefetched
// meanwhile: FP8 M = 12 2.73 → 2.49 ms, M = 32 272–287 → 313–364 GFLOP/s, M = 512 278–292 → 352–388;
// FP4 M = 32 266–291 → 298–339, M = 512 272–292 → 302–345). Below them re-decoding per tile is faster.
// FP4 in 128-input blocks (above) moved its point to 7 rows, the first count with two tiles: a 460-
// token flash4 prefill, whose experts see ~12 rows each, took 4.28 s from 16 rows, 4.14–4.17 from 6–7.
// Not re-measured on the README's faster-dot VM, where an expansion into L2 had lost at M = 512.
// FP8 from 11 rows, where fused tiles of at most 5 rows need three decodes (2048x4096 from DRAM,
// interleaved: M = 11 0.73-0.77 -> 0.61-0.66 ms; at 7-8 rows decoding once lost 5-10%, at 9-10 even).
#define RK_FP8_DECODE_ONCE_ROWS 11
#define RK_FP4_DECODE_ONCE_ROWS 7
#define RK_DECODED_PAIRS 128   // 16 KiB of bf16: stays in L1 beside x and the next segment's 8 KiB

static uint8_t fp8_lo[128], fp8_hi[128];   // bf16 bytes of e4m3 magnitude codes 0..127
static uint16_t fp4_bf16[32];              // bf16 of the 16 signed e2m1 codes, twice (vpermw reads 5 bits)

__attribute__((constructor)) static void init_tables(void) {
    for (int c = 0; c < 128; c++) {
        uint16_t b = c == 127 ? 0x7FC0 : rk_bf16_of(rk_e4m3_value((uint8_t)c));
        fp8_lo[c] = (uint8_t)b; fp8_hi[c] = (uint8_t)(b >> 8);
    }
    for (int c = 0; c < 32; c++) fp4_bf16[c] = rk_bf16_of(rk_e2m1_value((uint8_t)(c & 15)));
}

typedef struct {
    const uint8_t *w;      // packed step data at the segment start (or decoded bf16 scratch)
    long pairs;            // input pairs in the segment (a multiple of 64)
    long kb0;              // first 128-block of the segment
    const float *sw8;      // FP8: this panel's block-row of weight scales [kpad/128]
    const uint8_t *sw4;    // FP4: this panel's scale bytes [kpad/32][32]
    const uint16_t *x;     // activation row m0 at input 0; row stride kpad
    const float *xs;       // activation scales of row m0 [kpad/128]
    long kpad;
    float *tot;            // [MT][32] running sums
    int first;             // 1: start the sums at zero
    const uint8_t *pf;     // decoded tiles: the packed steps to prefetch meanwhile (the next segment), or 0
    long pfstep;           // bytes per step of pf
} tile_args;

typedef struct { __m512i lo8[2], hi8[2], t4, d0, d1; } luts;   // d0/d1: RK_FP4S exponent offsets, rows 0-15/16-31

static inline __attribute__((always_inline)) T512 void load_luts(luts *L) {
    L->lo8[0] = _mm512_loadu_si512(fp8_lo); L->lo8[1] = _mm512_loadu_si512(fp8_lo + 64);
    L->hi8[0] = _mm512_loadu_si512(fp8_hi); L->hi8[1] = _mm512_loadu_si512(fp8_hi + 64);
    L->t4 = _mm512_loadu_si512(fp4_bf16);
}

// One step (2 inputs × 32 rows) → w0 (rows 0..15), w1 (rows 16..31) as bf16 pairs.
static inline __attribute__((always_inline)) T512 void decode(int wf, const luts *L, const uint8_t *p, __m512i *w0, __m512i *w1) {
    __m512i lo, hi;
    if (wf == RK_FP8) {
        __m512i b = _mm512_loadu_si512(p);
        lo = _mm512_permutex2var_epi8(L->lo8[0], b, L->lo8[1]);
        hi = _mm512_permutex2var_epi8(L->hi8[0], b, L->hi8[1]);
        hi = _mm512_ternarylogic_epi32(hi, b, _mm512_set1_epi8((char)0x80), 0xF8);  // hi | (b & 0x80)
    } else if (wf == RK_FP4 || wf == RK_FP4S) {
        // byte j → word j. vpermw reads an index's low 5 bits and the table holds the 16 codes twice,
        // so the high nibble in bits 4-7 needs no mask (one op fewer a step: FP4 M = 1 +5% from L2).
        __m512i v = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)p));
        *w0 = _mm512_permutexvar_epi16(v, L->t4);
        *w1 = _mm512_permutexvar_epi16(_mm512_srli_epi16(v, 4), L->t4);
        if (wf == RK_FP4S) {   // ±0 stays zero; every other value gains its row's exponent offset
            *w0 = _mm512_mask_add_epi16(*w0, _mm512_test_epi16_mask(*w0, _mm512_set1_epi16(0x7FFF)), *w0, L->d0);
            *w1 = _mm512_mask_add_epi16(*w1, _mm512_test_epi16_mask(*w1, _mm512_set1_epi16(0x7FFF)), *w1, L->d1);
        }
        return;
    } else {
        *w0 = _mm512_loadu_si512(p); *w1 = _mm512_loadu_si512(p + 64);
        return;
    }
    *w0 = _mm512_unpacklo_epi8(lo, hi);
    *w1 = _mm512_unpackhi_epi8(lo, hi);
}

// RK_FP4S: bf16 exponent offsets (e − 127) << 7 of one 32-input group's 32 row scales, as words
// 2r and 2r + 1 for row r (the two inputs of a pair).
static inline __attribute__((always_inline)) T512 void load_offsets(luts *L, const uint8_t *sb) {
    __m512i e0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)sb));
    __m512i e1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(sb + 16)));
    e0 = _mm512_slli_epi32(_mm512_sub_epi32(e0, _mm512_set1_epi32(127)), 7);
    e1 = _mm512_slli_epi32(_mm512_sub_epi32(e1, _mm512_set1_epi32(127)), 7);
    L->d0 = _mm512_or_si512(_mm512_and_si512(e0, _mm512_set1_epi32(0xFFFF)), _mm512_slli_epi32(e0, 16));
    L->d1 = _mm512_or_si512(_mm512_and_si512(e1, _mm512_set1_epi32(0xFFFF)), _mm512_slli_epi32(e1, 16));
}

static inline __attribute__((always_inline)) T512 __m512 e8m0_vec(const uint8_t *p) {
    __m512i e = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
    __m512i b = _mm512_slli_epi32(e, 23);
    b = _mm512_mask_mov_epi32(b, _mm512_testn_epi32_mask(e, e), _mm512_set1_epi32(0x00400000));  // 2^-127
    return _mm512_castsi512_ps(b);
}

static inline __attribute__((always_inline)) T512 void tile(const int wf, const int sf, const int MT, const tile_args *t) {
    luts L; load_luts(&L);
    const long step = wf == RK_FP8 ? 64 : wf == RK_FP4 ? 32 : 128;
    const long G = sf == RK_FP4 ? 16 : 64;           // pairs per scale group
    __m512i e0 = _mm512_setzero_si512(), e1 = e0;    // SF_FP4_BLOCK: the current group's scale bytes, rows 0-15/16-31
    const long xb = t->kpad / 128;
    __m512 tot[2][8];   // with MT > 6 the compiler keeps some in L1 (touched once per scale group)
    for (int m = 0; m < MT; m++) {
        tot[0][m] = t->first ? _mm512_setzero_ps() : _mm512_loadu_ps(t->tot + 32 * m);
        tot[1][m] = t->first ? _mm512_setzero_ps() : _mm512_loadu_ps(t->tot + 32 * m + 16);
    }
    const int32_t *x32 = (const int32_t *)t->x + t->kb0 * 64;   // pairs as 32-bit words
    for (long g0 = 0; g0 < t->pairs; g0 += G) {
        // Two sets of sums alternate by pair at every MT: with few rows the vdpbf16ps latency chains
        // would limit, and one summation order for every MT keeps a row's result independent of the
        // rows that share its tile (batch invariance).
        const int SETS = 2;
        __m512 acc[2][2][8];
        for (int u = 0; u < SETS; u++)
            for (int m = 0; m < MT; m++) { acc[u][0][m] = _mm512_setzero_ps(); acc[u][1][m] = _mm512_setzero_ps(); }
        const long GS = sf == SF_FP4_BLOCK ? 16 : G;   // pairs of one weight scale
        for (long k0 = g0; k0 < g0 + G; k0 += GS) {
            if (sf == SF_FP4_BLOCK) {   // a 32-input group starts
                const uint8_t *sb = t->sw4 + (t->kb0 * 4 + k0 / 16) * 32;
                __m512i n0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)sb));
                __m512i n1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(sb + 16)));
                if (k0 != g0) {   // the sums so far are in units of the last group's scale: move them to this one's
                    __m512 r0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(e0, n0), _mm512_set1_epi32(127)), 23));
                    __m512 r1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(e1, n1), _mm512_set1_epi32(127)), 23));
                    for (int u = 0; u < SETS; u++)
                        for (int m = 0; m < MT; m++) {
                            acc[u][0][m] = _mm512_mul_ps(acc[u][0][m], r0);
                            acc[u][1][m] = _mm512_mul_ps(acc[u][1][m], r1);
                        }
                }
                e0 = n0; e1 = n1;
            }
            for (long kp = k0; kp < k0 + GS; kp += SETS) {
                // Software prefetch: the decode keeps the core busy enough that the hardware prefetcher alone
                // does not keep enough lines in flight (weights streamed from DRAM; +10–20% at M = 1).
                for (int u = 0; u < SETS; u++) {
                    if (t->pf) {   // decoded segment: its first tile fetches the next one's packed steps
                        if (t->pfstep == 64 || u == 0) _mm_prefetch((const char *)(t->pf + (kp + u) * t->pfstep), _MM_HINT_T0);
                    } else if ((wf != RK_BF16 || (sf == SF_NONE && MT <= 2)) && (step >= 64 || u == 0)) {   // one per 64-byte line
                        _mm_prefetch((const char *)(t->w + (kp + u) * step) + RK_PREFETCH_BYTES, _MM_HINT_T0);
                        if (step == 128) _mm_prefetch((const char *)(t->w + (kp + u) * step) + RK_PREFETCH_BYTES + 64, _MM_HINT_T0);
                    }
                    __m512i w0, w1;
                    decode(wf, &L, t->w + (kp + u) * step, &w0, &w1);
                    for (int m = 0; m < MT; m++) {
                        __m512i xv = _mm512_set1_epi32(x32[m * (t->kpad / 2) + kp + u]);
                        acc[u][0][m] = _mm512_dpbf16_ps(acc[u][0][m], (__m512bh)w0, (__m512bh)xv);
                        acc[u][1][m] = _mm512_dpbf16_ps(acc[u][1][m], (__m512bh)w1, (__m512bh)xv);
                    }
                }
            }
        }
        if (SETS == 2)
            for (int m = 0; m < MT; m++) {
                acc[0][0][m] = _mm512_add_ps(acc[0][0][m], acc[SETS - 1][0][m]);
                acc[0][1][m] = _mm512_add_ps(acc[0][1][m], acc[SETS - 1][1][m]);
            }
        long kb = t->kb0 + g0 / 64;
        if (sf == RK_FP8) {
            float s = t->sw8 ? t->sw8[kb] : 1.0f;   // none for RK_FP4S: its scales are in the bf16 weights
            for (int m = 0; m < MT; m++) {
                __m512 sc = _mm512_set1_ps(s * t->xs[m * xb + kb]);
                tot[0][m] = _mm512_fmadd_ps(acc[0][0][m], sc, tot[0][m]);
                tot[1][m] = _mm512_fmadd_ps(acc[0][1][m], sc, tot[1][m]);
            }
        } else if (sf == SF_FP4_BLOCK) {
            __m512 s0 = _mm512_castsi512_ps(_mm512_slli_epi32(e0, 23)), s1 = _mm512_castsi512_ps(_mm512_slli_epi32(e1, 23));
            for (int m = 0; m < MT; m++) {
                __m512 a = _mm512_set1_ps(t->xs[m * xb + kb]);
                tot[0][m] = _mm512_fmadd_ps(acc[0][0][m], _mm512_mul_ps(s0, a), tot[0][m]);
                tot[1][m] = _mm512_fmadd_ps(acc[0][1][m], _mm512_mul_ps(s1, a), tot[1][m]);
            }
        } else if (sf == RK_FP4) {
            const uint8_t *sb = t->sw4 + (t->kb0 * 4 + g0 / 16) * 32;
            __m512 s0 = e8m0_vec(sb), s1 = e8m0_vec(sb + 16);
            for (int m = 0; m < MT; m++) {
                __m512 a = _mm512_set1_ps(t->xs[m * xb + kb]);
                tot[0][m] = _mm512_fmadd_ps(acc[0][0][m], _mm512_mul_ps(s0, a), tot[0][m]);
                tot[1][m] = _mm512_fmadd_ps(acc[0][1][m], _mm512_mul_ps(s1, a), tot[1][m]);
            }
        } else {
            for (int m = 0; m < MT; m++) {
                tot[0][m] = _mm512_add_ps(acc[0][0][m], tot[0][m]);
                tot[1][m] = _mm512_add_ps(acc[0][1][m], tot[1][m]);
            }
        }
    }
    for (int m = 0; m < MT; m++) {
        _mm512_storeu_ps(t->tot + 32 * m, tot[0][m]);
        _mm512_storeu_ps(t->tot + 32 * m + 16, tot[1][m]);
    }
}

typedef void (*tile_fn)(const tile_args *);
#define DEF(WF, SF, MT) static T512 __attribute__((noinline)) void tile_##WF##_##SF##_##MT(const tile_args *t) { tile(WF, SF, MT, t); }
#define DEF4(WF, SF) DEF(WF, SF, 1) DEF(WF, SF, 2) DEF(WF, SF, 3) DEF(WF, SF, 4)
#define DEF6(WF, SF) DEF4(WF, SF) DEF(WF, SF, 5) DEF(WF, SF, 6)
#define DEF8(WF, SF) DEF6(WF, SF) DEF(WF, SF, 7) DEF(WF, SF, 8)
DEF8(RK_FP8, RK_FP8)
DEF8(RK_FP4, RK_FP4)
DEF8(RK_FP4, SF_FP4_BLOCK)
DEF6(RK_BF16, SF_NONE)
DEF6(RK_BF16, RK_FP8)
DEF6(RK_BF16, RK_FP4)
#define ROW6(WF, SF) {0, tile_##WF##_##SF##_1, tile_##WF##_##SF##_2, tile_##WF##_##SF##_3, tile_##WF##_##SF##_4, \
                      tile_##WF##_##SF##_5, tile_##WF##_##SF##_6}
#define ROW8(WF, SF) {0, tile_##WF##_##SF##_1, tile_##WF##_##SF##_2, tile_##WF##_##SF##_3, tile_##WF##_##SF##_4, \
                      tile_##WF##_##SF##_5, tile_##WF##_##SF##_6, tile_##WF##_##SF##_7, tile_##WF##_##SF##_8}
static const tile_fn fused8[9] = ROW8(RK_FP8, RK_FP8), fused4[9] = ROW8(RK_FP4, RK_FP4), fused4b[9] = ROW8(RK_FP4, SF_FP4_BLOCK);
static const tile_fn plain[7] = ROW6(RK_BF16, SF_NONE);
static const tile_fn decoded8[7] = ROW6(RK_BF16, RK_FP8), decoded4[7] = ROW6(RK_BF16, RK_FP4);

// Expands `pairs` FP8/FP4 steps of one panel to bf16 pairs [pairs][2][16 pairs], the layout the
// bf16 tile reads, so that many row tiles share one decode.
// sb: RK_FP4S scale bytes of the segment's first group.
static T512 __attribute__((noinline)) void decode_segment(int wf, const uint8_t *src, const uint8_t *sb, long pairs, uint8_t *dst) {
    luts L; load_luts(&L);
    const long step = wf == RK_FP8 ? 64 : 32;
    for (long kp = 0; kp < pairs; kp++) {
        __m512i w0, w1;
        if (wf == RK_FP4S && kp % 16 == 0) load_offsets(&L, sb + kp / 16 * 32);
        decode(wf, &L, src + kp * step, &w0, &w1);
        _mm512_storeu_si512(dst + kp * 128, w0);
        _mm512_storeu_si512(dst + kp * 128 + 64, w1);
    }
}

T512 void rk_linear_avx512(const rk_weights *w, const rk_activations *a, long p0, long p1, void *scratch) {
    const int f = w->format;
    const long M = a->m, pairs = w->kpad / 2, kb = w->kpad / 128, step = rk_step_bytes(f);
    // Few rows: each tile decodes FP8/FP4 steps in registers. Many: a segment is decoded once (above).
    float *tot = (float *)scratch;                                    // [M][32]
    uint8_t *dec = (uint8_t *)scratch + ((M * 32 * 4 + 63) & ~63L);  // [seg pairs][128] bf16 when decoding once
    const int once = (f == RK_FP8 && M >= RK_FP8_DECODE_ONCE_ROWS) || (f == RK_FP4 && M >= RK_FP4_DECODE_ONCE_ROWS);
    const long seg = once ? RK_DECODED_PAIRS : RK_SEG_PAIRS;
    for (long p = p0; p < p1; p++) {
        const uint8_t *pw = (const uint8_t *)w->weights + p * pairs * step;
        tile_args t;
        t.pf = 0;
        t.pfstep = step;
        t.sw4 = f == RK_FP4 ? (const uint8_t *)w->scales + p * (w->kpad / 32) * 32 : 0;
        // Per panel (found at packing), so that a row's summation order never depends on how many rows share the call.
        const int blocks = f == RK_FP4 && w->blocks && w->blocks[p];   // no flags: per-group scaling, same bits
        t.sw8 = f == RK_FP8 ? (const float *)w->scales + (p / 4) * kb : 0;
        const tile_fn *fns = f == RK_FP8 ? (once ? decoded8 : fused8)
                           : f == RK_FP4 ? (once ? (blocks ? decoded8 : decoded4) : blocks ? fused4b : fused4) : plain;
        const int wf = blocks && once ? RK_FP4S : f;   // how decode_segment expands
        const int mt = f == RK_FP8 && !once ? 5 : 6;   // 2 sets × 2 halves × mt rows of sums, next to weights and lookup tables
        t.kpad = w->kpad;
        for (long s0 = 0; s0 < pairs; s0 += seg) {
            t.pairs = pairs - s0 < seg ? pairs - s0 : seg;
            t.kb0 = s0 / 64;
            t.first = s0 == 0;
            t.w = pw + s0 * step;
            if (once) {
                decode_segment(wf, t.w, wf == RK_FP4S ? t.sw4 + s0 / 16 * 32 : 0, t.pairs, dec);
                t.pf = t.w + t.pairs * step;
                t.w = dec;
            }
            long tiles = (M + mt - 1) / mt;                      // balanced tiles: 12 rows → 6 + 6, not 8 + 4
            for (long i = 0, m0 = 0; i < tiles; i++) {
                long n = (M - m0) / (tiles - i) + ((M - m0) % (tiles - i) != 0);
                t.x = a->xq + m0 * w->kpad;
                t.xs = a->xs ? a->xs + m0 * kb : 0;
                t.tot = tot + m0 * 32;
                fns[n](&t);
                t.pf = 0;
                m0 += n;
            }
        }
        rk_store_panel(w, a, p, tot);
    }
}
