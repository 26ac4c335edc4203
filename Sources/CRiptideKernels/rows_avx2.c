// AVX2 paths for one to three activation rows (decode, and FP4's routed experts in a batched step),
// where decoding the weights is the limit: each panel is decoded in registers, in one pass for one
// row and in passes of a load (one input parity) for FP4's two or three, and the (row, parity)
// sums are put back in the common lane order that store_rows reads (linear_avx2.c). Every sum is
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

// FP8 at one row: fp8_words, so vector 4h + 2u + j holds, in lane d, slot 32h + 4d + t of the step with
// t = 3 − u − 2j (input parity 1 − u), multiplied by a broadcast single input (the group's inputs ·
// 2^60, staged in xg). The (row, parity) sums are computed as in every other path and put back in
// the common lane order in out [64].
static __attribute__((noinline)) void fp8_row(const rk_weights *w, const float *x, long p, float *out) {
    const long pairs = w->kpad / 2;
    const uint8_t *pw = (const uint8_t *)w->weights + p * pairs * 64;
    const __m256 up = x_up(RK_FP8);
    __m256 sums[8];
    for (int i = 0; i < 8; i++) sums[i] = _mm256_setzero_ps();
    for (long g0 = 0; g0 < pairs; g0 += 64) {
        float xg[128] __attribute__((aligned(32)));   // the group's inputs · 2^60
        for (int j = 0; j < 16; j++) _mm256_store_ps(xg + 8 * j, _mm256_mul_ps(_mm256_loadu_ps(x + 2 * g0 + 8 * j), up));
        __m256 acc[8];
        for (int i = 0; i < 8; i++) acc[i] = _mm256_setzero_ps();
        for (long kp = g0; kp < g0 + 64; kp++) {
            prefetch_step(pw + kp * 64, 64);
            const __m256 x0 = _mm256_broadcast_ss(xg + 2 * (kp - g0)), x1 = _mm256_broadcast_ss(xg + 2 * (kp - g0) + 1);
            for (int h = 0; h < 2; h++)
                for (int u = 0; u < 2; u++) {
                    __m256 v[2];
                    fp8_words(pw + kp * 64 + 32 * h, u, v);
                    for (int j = 0; j < 2; j++) acc[4 * h + 2 * u + j] = _mm256_fmadd_ps(v[j], u ? x0 : x1, acc[4 * h + 2 * u + j]);
                }
        }
        const __m256 sc = _mm256_set1_ps(((const float *)w->scales)[(p / 4) * (w->kpad / 128) + g0 / 64]);
        for (int i = 0; i < 8; i++) sums[i] = _mm256_fmadd_ps(_mm256_mul_ps(acc[i], decode_up(RK_FP8)), sc, sums[i]);
    }
    float s[64];
    for (int i = 0; i < 8; i++) _mm256_storeu_ps(s + 8 * i, sums[i]);
    for (int i = 0; i < 8; i++)   // back to lane_row's order: vector 2(row%16 / 4) + row/16, lane 2(row%4) + parity
        for (int d = 0; d < 8; d++) {
            const int slot = 32 * (i >> 2) + 4 * d + 3 - ((i >> 1) & 1) - 2 * (i & 1), row = rk_slot_row(slot), par = slot & 1;
            out[8 * (2 * (row % 16 / 4) + row / 16) + 2 * (row % 4) + par] = s[8 * i + d];
        }
}

// FP4 at one to three rows of a pass, where decoding is the limit: fp4_words, so vector 4u + j holds
// in lane d row 2d + t/2 + 16(j%2) with t = 3 − u − 2(j/2), input parity 1 − u, and is multiplied by
// a broadcast single input (the group's inputs · 2^63, staged in xg). One row takes both loads of a
// step a pass (8 accumulators); more rows one load (4 vectors), the second pass reading the group's
// 512 bytes again from L1. Each (row, parity) sum is computed as in every other path, exactly (the
// 2^63 factors are powers of two); only where it lies differs, and the sums are put back in the
// common lane order in out [MT][64].
INLINE void fp4_rows(const int MT, const rk_weights *w, const float *x, long xs, long p, float *out) {
    const int NU = MT == 1 ? 2 : 1;   // loads a pass
    const long pairs = w->kpad / 2;
    const uint8_t *pw = (const uint8_t *)w->weights + p * pairs * 32, *sp = (const uint8_t *)w->scales + p * (pairs / 16) * 32;
    const __m256 up = _mm256_set1_ps(RK_FP4_UP);
    __m256 sums[3][8];
    for (int m = 0; m < MT; m++) for (int i = 0; i < 8; i++) sums[m][i] = _mm256_setzero_ps();
    for (long g0 = 0; g0 < pairs; g0 += 16) {
        float xg[3][32] __attribute__((aligned(32)));   // the group's inputs · 2^63
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
        for (int u0 = 0; u0 < 2; u0 += NU) {
            __m256 acc[3][8];
            for (int m = 0; m < MT; m++) for (int i = 0; i < 4 * NU; i++) acc[m][i] = _mm256_setzero_ps();
            for (long kp = g0; kp < g0 + 16; kp++) {
                if (u0 == 0) _mm_prefetch((const char *)pw + kp * 32 + 2048, _MM_HINT_T0);
                for (int uu = 0; uu < NU; uu++) {
                    const long xi = 2 * (kp - g0) + 1 - (u0 + uu);
                    if (MT < 3) {
                        __m256 v[4];
                        fp4_words(pw + kp * 32, u0 + uu, v);
                        for (int m = 0; m < MT; m++) {
                            const __m256 xv = _mm256_broadcast_ss(xg[m] + xi);
                            for (int j = 0; j < 4; j++) acc[m][4 * uu + j] = _mm256_fmadd_ps(v[j], xv, acc[m][4 * uu + j]);
                        }
                    } else for (int high = 0; high < 2; high++) {   // 12 sums: two vectors live at a time, or one spills
                        __m256 v[2];
                        fp4_nibbles(pw + kp * 32, u0 + uu, high, v);
                        for (int m = 0; m < MT; m++) {
                            __m256 xv;   // broadcast again for each half (volatile: kept, it would cost a register)
                            __asm__ volatile("vbroadcastss %1, %0" : "=x"(xv) : "m"(xg[m][xi]));
                            for (int j = 0; j < 2; j++) acc[m][high + 2 * j] = _mm256_fmadd_ps(v[j], xv, acc[m][high + 2 * j]);
                        }
                    }
                }
            }
            for (int uu = 0; uu < NU; uu++)
                for (int j = 0; j < 4; j++) {
                    const int i = 4 * (u0 + uu) + j;
                    for (int m = 0; m < MT; m++)
                        sums[m][i] = _mm256_fmadd_ps(up_in_scale ? acc[m][4 * uu + j] : _mm256_mul_ps(acc[m][4 * uu + j], up),
                                                     sc[2 * (j < 2) + (j & 1)], sums[m][i]);
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
DEF4(1) DEF4(2) DEF4(3)

void rk_avx2_one_row(const rk_weights *w, const float *x, long p, float *out) {
    if (w->format == RK_FP8) fp8_row(w, x, p, out);
    else bf16_row(w, x, p, out);
}

void rk_avx2_fp4_rows(const rk_weights *w, const float *x, long xs, long rows, long p, float *out) {
    if (rows == 1) fp4_rows_1(w, x, xs, p, out);
    else if (rows == 2) fp4_rows_2(w, x, xs, p, out);
    else fp4_rows_3(w, x, xs, p, out);
}
