// AVX2 paths for one to six activation rows of a pass (decode, a batched step's dense layers and
// routed experts), where decoding the weights is the limit: each panel is decoded in registers, in
// one pass for one row and in passes of part of each step for more, and the (row, parity) sums are
// put back in the common lane order that store_rows reads (linear_avx2.c). Every sum is
// computed in the order every other path computes it (batch invariance).
#include "decode_avx2.h"

// BF16 at one row: the whole panel in one pass, decoded in registers. bf16 has no scales and one
// group, so the lane sums are the running sums.
static __attribute__((noinline)) void bf16_row(const rk_weights *w, const float *x, long p, float *out) {
    const long pairs = w->kpad / 2, step = rk_step_bytes(RK_BF16);
    const uint8_t *pw = (const uint8_t *)w->weights + p * pairs * step;
    __m256 acc[8];
    for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_ps();
    for (long kp = 0; kp < pairs; kp++) {
        prefetch_step(pw + kp * step, step);
        __m256 xv = _mm256_castpd_ps(_mm256_broadcast_sd((const double *)(x + 2 * kp))), v[8];
        decode_step(RK_BF16, pw + kp * step, v);
        for (int i = 0; i < 8; i++) acc[i] = _mm256_fmadd_ps(v[i], xv, acc[i]);
    }
    for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + 8 * i, acc[i]);
}

// x broadcast: where the pass keeps 12 sums, each use broadcasts again (volatile, so that the
// compiler does not keep them in registers, which would spill sums); fewer rows share theirs.
INLINE __m256 broadcast_input(const int MT, const float *x) {
    if (MT < 3) return _mm256_broadcast_ss(x);
    __m256 v;
    __asm__ volatile("vbroadcastss %1, %0" : "=x"(v) : "m"(*x));
    return v;
}

// FP8 at one to six rows of a pass: fp8_words, so vector 4h + 2u + j holds, in lane d, slot
// 32h + 4d + t of the step with t = 3 − u − 2j (input parity 1 − u), multiplied by a broadcast
// single input (the group's inputs · 2^60, staged in xg). A pass takes loads (quarters q = 2h + u)
// of each step: one row all four (8 accumulators), two or three rows a half h, four to six rows one
// load; the later passes read the group's 4 KiB again from L1. Decoding takes 2 ops per 8 weights
// where the tiles' sign extension takes 3, and six rows share them. The (row, parity) sums are
// computed as in every other path and put back in the common lane order in out [MT][64].
INLINE void fp8_rows(const int MT, const rk_weights *w, const float *x, long xs, long p, float *out) {
    const int NQ = MT == 1 ? 4 : MT <= 3 ? 2 : 1;   // loads (quarters q = 2h + u of a step) a pass: 8 or 12 accumulators
    const long pairs = w->kpad / 2;
    const uint8_t *pw = (const uint8_t *)w->weights + p * pairs * 64;
    const __m256 up = x_up(RK_FP8);
    __m256 sums[6][8];
    for (int m = 0; m < MT; m++) for (int i = 0; i < 8; i++) sums[m][i] = _mm256_setzero_ps();
    for (long g0 = 0; g0 < pairs; g0 += 64) {
        float xg[6][128] __attribute__((aligned(32)));   // the group's inputs · 2^60
        for (int m = 0; m < MT; m++)
            for (int j = 0; j < 16; j++) _mm256_store_ps(xg[m] + 8 * j, _mm256_mul_ps(_mm256_loadu_ps(x + m * xs + 2 * g0 + 8 * j), up));
        const __m256 sc = _mm256_set1_ps(((const float *)w->scales)[(p / 4) * (w->kpad / 128) + g0 / 64]);
        for (int q0 = 0; q0 < 4; q0 += NQ) {
            __m256 acc[6][8];
            for (int m = 0; m < MT; m++) for (int i = 0; i < 2 * NQ; i++) acc[m][i] = _mm256_setzero_ps();
            for (long kp = g0; kp < g0 + 64; kp++) {
                if (q0 == 0) prefetch_step(pw + kp * 64, 64);
                for (int q = q0; q < q0 + NQ; q++) {
                    __m256 v[2];
                    fp8_words(pw + kp * 64 + 32 * (q >> 1), q & 1, v);
                    for (int m = 0; m < MT; m++) {
                        const __m256 xv = broadcast_input(MT, &xg[m][2 * (kp - g0) + 1 - (q & 1)]);
                        for (int j = 0; j < 2; j++) acc[m][2 * (q - q0) + j] = _mm256_fmadd_ps(v[j], xv, acc[m][2 * (q - q0) + j]);
                    }
                }
            }
            for (int m = 0; m < MT; m++)
                for (int i = 0; i < 2 * NQ; i++)
                    sums[m][2 * q0 + i] = _mm256_fmadd_ps(_mm256_mul_ps(acc[m][i], decode_up(RK_FP8)), sc, sums[m][2 * q0 + i]);
        }
    }
    for (int m = 0; m < MT; m++) {
        float s[64];
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(s + 8 * i, sums[m][i]);
        for (int i = 0; i < 8; i++)   // back to lane_row's order: vector 2(row%16 / 4) + row/16, lane 2(row%4) + parity
            for (int d = 0; d < 8; d++) {
                const int slot = 32 * (i >> 2) + 4 * d + 3 - ((i >> 1) & 1) - 2 * (i & 1), row = rk_slot_row(slot), par = slot & 1;
                out[64 * m + 8 * (2 * (row % 16 / 4) + row / 16) + 2 * (row % 4) + par] = s[8 * i + d];
            }
    }
}
#define DEF8(MT) static __attribute__((noinline)) void fp8_rows_##MT(const rk_weights *w, const float *x, long xs, long p, float *o) { fp8_rows(MT, w, x, xs, p, o); }
DEF8(1) DEF8(2) DEF8(3) DEF8(4) DEF8(5) DEF8(6)

// FP4 at one to six rows of a pass, where decoding is the limit: fp4_words, so vector 4u + j holds
// in lane d row 2d + t/2 + 16(j%2) with t = 3 − u − 2(j/2), input parity 1 − u, and is multiplied by
// a broadcast single input (the group's inputs · 2^63, staged in xg). A pass takes quarters q =
// 2u + high of each step (the high or low nibbles of load u, vectors j = high, high + 2): one row all
// four (8 accumulators), two or three rows one load, four to six rows one quarter; the later passes
// read the group's 512 bytes again from L1. Each (row, parity) sum is computed as in every other
// path, exactly (the 2^63 factors are powers of two); only where it lies differs, and the sums are
// put back in the common lane order in out [MT][64].
INLINE void fp4_rows(const int MT, const rk_weights *w, const float *x, long xs, long p, float *out) {
    const int NQ = MT == 1 ? 4 : MT <= 3 ? 2 : 1;   // quarters a pass: 8 or 12 accumulators
    const long pairs = w->kpad / 2;
    const uint8_t *pw = (const uint8_t *)w->weights + p * pairs * 32, *sp = (const uint8_t *)w->scales + p * (pairs / 16) * 32;
    const __m256 up = _mm256_set1_ps(RK_FP4_UP);
    __m256 sums[6][8];
    for (int m = 0; m < MT; m++) for (int i = 0; i < 8; i++) sums[m][i] = _mm256_setzero_ps();
    for (long g0 = 0; g0 < pairs; g0 += 16) {
        float xg[6][32] __attribute__((aligned(32)));   // the group's inputs · 2^63
        for (int m = 0; m < MT; m++)
            for (int j = 0; j < 4; j++) _mm256_store_ps(xg[m] + 8 * j, _mm256_mul_ps(_mm256_loadu_ps(x + m * xs + 2 * g0 + 8 * j), up));
        // sc[2a + c]: the scales of rows 2d + a + 16c, from bytes a, a + 2, … of half c. Where every
        // byte of the group is at most 191, the 2^63 comes with them (2^(e − 64), a normal float), so
        // a lane sum needs one FMA, not a multiply on the FMA pipes first: the same product, so the
        // same bits.
        const __m128i half[2] = {_mm_loadu_si128((const __m128i *)(sp + (g0 / 16) * 32)), _mm_loadu_si128((const __m128i *)(sp + (g0 / 16) * 32 + 16))};
        const __m128i top = _mm_set1_epi8((char)191);
        const int up_in_scale = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(_mm_max_epu8(half[0], half[1]), top), top)) == 0xFFFF;
        __m256 sc[4];
        for (int c = 0; c < 2; c++) {
            const __m256i bytes = _mm256_broadcastsi128_si256(half[c]);
            for (int a = 0; a < 2; a++) {
                const char z = (char)0x80;
                const __m256i idx = _mm256_setr_epi8(a, z, z, z, a + 2, z, z, z, a + 4, z, z, z, a + 6, z, z, z,
                                                     a + 8, z, z, z, a + 10, z, z, z, a + 12, z, z, z, a + 14, z, z, z);
                const __m256i e = _mm256_shuffle_epi8(bytes, idx);
                sc[2 * a + c] = up_in_scale ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(63)), 23))
                                            : e8m0_values(e);
            }
        }
        for (int q0 = 0; q0 < 4; q0 += NQ) {
            __m256 acc[6][8];   // [row][2(q − q0) + jj]: vector 4u + high + 2jj
            for (int m = 0; m < MT; m++) for (int i = 0; i < 2 * NQ; i++) acc[m][i] = _mm256_setzero_ps();
            for (long kp = g0; kp < g0 + 16; kp++) {
                if (q0 == 0) _mm_prefetch((const char *)pw + kp * 32 + 2048, _MM_HINT_T0);
                for (int q = q0; q < q0 + NQ; q++) {   // two vectors live at a time: 12 sums and no spill
                    __m256 v[2];
                    fp4_nibbles(pw + kp * 32, q >> 1, q & 1, v);
                    for (int m = 0; m < MT; m++) {
                        const __m256 xv = broadcast_input(MT, &xg[m][2 * (kp - g0) + 1 - (q >> 1)]);
                        for (int jj = 0; jj < 2; jj++) acc[m][2 * (q - q0) + jj] = _mm256_fmadd_ps(v[jj], xv, acc[m][2 * (q - q0) + jj]);
                    }
                }
            }
            for (int q = q0; q < q0 + NQ; q++)
                for (int jj = 0; jj < 2; jj++) {
                    const int i = 4 * (q >> 1) + (q & 1) + 2 * jj;
                    for (int m = 0; m < MT; m++) {
                        const __m256 a = acc[m][2 * (q - q0) + jj];
                        sums[m][i] = _mm256_fmadd_ps(up_in_scale ? a : _mm256_mul_ps(a, up), sc[2 * (jj == 0) + (q & 1)], sums[m][i]);
                    }
                }
        }
    }
    for (int m = 0; m < MT; m++) {
        float s[64];
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(s + 8 * i, sums[m][i]);
        for (int i = 0; i < 8; i++)   // back to lane_row's order: vector 4(row/16) + 2(row/4 % 2) + row/2 % 2, lane 4(row/8 % 2) + 2(row % 2) + parity
            for (int d = 0; d < 8; d++) {
                const int u = i >> 2, j = i & 3, t = 3 - u - 2 * (j >> 1), row = 2 * d + t / 2 + 16 * (j & 1), par = t & 1;
                const int vec = 4 * (row >> 4) + 2 * ((row >> 2) & 1) + ((row >> 1) & 1), lane = 4 * ((row >> 3) & 1) + 2 * (row & 1) + par;
                out[64 * m + 8 * vec + lane] = s[8 * i + d];
            }
    }
}
#define DEF4(MT) static __attribute__((noinline)) void fp4_rows_##MT(const rk_weights *w, const float *x, long xs, long p, float *o) { fp4_rows(MT, w, x, xs, p, o); }
DEF4(1) DEF4(2) DEF4(3) DEF4(4) DEF4(5) DEF4(6)

void rk_avx2_bf16_row(const rk_weights *w, const float *x, long p, float *out) { bf16_row(w, x, p, out); }

void rk_avx2_fp8_rows(const rk_weights *w, const float *x, long xs, long rows, long p, float *out) {
    static void (*const by_rows[7])(const rk_weights *, const float *, long, long, float *) = {0, fp8_rows_1, fp8_rows_2, fp8_rows_3, fp8_rows_4, fp8_rows_5, fp8_rows_6};
    by_rows[rows](w, x, xs, p, out);
}

void rk_avx2_fp4_rows(const rk_weights *w, const float *x, long xs, long rows, long p, float *out) {
    static void (*const by_rows[7])(const rk_weights *, const float *, long, long, float *) = {0, fp4_rows_1, fp4_rows_2, fp4_rows_3, fp4_rows_4, fp4_rows_5, fp4_rows_6};
    by_rows[rows](w, x, xs, p, out);
}
