// How the AVX2 linear kernels turn packed weights into fp32 vectors: the step decoders (FP8, FP4,
// bf16, by quarter, half or whole step), the lane order they produce, and the group scales.
// Included by linear_avx2.c only.
#ifndef RIPTIDE_DECODE_AVX2_H
#define RIPTIDE_DECODE_AVX2_H
#include "linear_common.h"
#include <immintrin.h>

// Exact decoding. An e4m3 code s.eeee.mmm becomes the fp32 bits s.0000eeee.mmm0…0 by a sign
// extension, a shift and a mask: that is the value · 2^-120, exactly, subnormals included (fp32
// subnormals line up with e4m3's). Three integer ops per 8 weights, where F16C's conversion took
// two cycles per 8 on Zen 3 and was the limit of every FP8 path. The 2^-120 is split: inputs
// are multiplied by 2^60 where they are broadcast (x_up) and the lane sums by 2^60 before their
// scale (decode_up), so each FMA adds the same product · 2^-60 and a lane's sum is the same bits
// · 2^-60 as with plain values, as long as it stays above 2^-66 and its inputs below 2^68.
// e2m1 codes become bf16 patterns through two byte tables (vpshufb), and bf16 becomes fp32 by an
// unpack with zero: both exact.
static const uint8_t e2m1_bf16_lo[32] = {   // per code (both 128-bit lanes): low and high byte of bf16(value)
    0x00, 0x00, 0x80, 0xC0, 0x00, 0x40, 0x80, 0xC0, 0x00, 0x00, 0x80, 0xC0, 0x00, 0x40, 0x80, 0xC0,
    0x00, 0x00, 0x80, 0xC0, 0x00, 0x40, 0x80, 0xC0, 0x00, 0x00, 0x80, 0xC0, 0x00, 0x40, 0x80, 0xC0};
static const uint8_t e2m1_bf16_hi[32] = {
    0x00, 0x3F, 0x3F, 0x3F, 0x40, 0x40, 0x40, 0x40, 0x80, 0xBF, 0xBF, 0xBF, 0xC0, 0xC0, 0xC0, 0xC0,
    0x00, 0x3F, 0x3F, 0x3F, 0x40, 0x40, 0x40, 0x40, 0x80, 0xBF, 0xBF, 0xBF, 0xC0, 0xC0, 0xC0, 0xC0};

// Step decoders: one input pair of a 32-row panel as 8 vectors of 8 lanes. Lane l of vector i holds
// row lane_row(f, i, l) and input 2kp + l%2, so a broadcast pair (x[2kp], x[2kp+1]) multiplies it.
#define INLINE static inline __attribute__((always_inline))
INLINE int lane_row(int f, int i, int l) {
    if (f == RK_FP8) return 16 * (i & 1) + 4 * (i >> 1) + l / 2;   // pmovsxbw of 16-byte quarters
    int r = (l & 3) / 2 + (f == RK_FP4 ? 8 : 4) * (l >> 2);          // unpack lo/hi: lanes 4..7 from the upper 128 bits
    return f == RK_FP4 ? 16 * (i >> 2) + 4 * ((i >> 1) & 1) + 2 * (i & 1) + r : 8 * (i >> 1) + 2 * (i & 1) + r;
}

// Quarter q of a step (vectors 2q, 2q+1): fp8 and bf16 quarters are whole bytes, fp4 quarters
// come from the low (q < 2) or high nibbles of the same 32 bytes.
INLINE void decode_quarter(const int f, const uint8_t *b, int q, __m256 v[2]) {
    if (f == RK_FP4) {
        const __m256i lo = _mm256_loadu_si256((const __m256i *)e2m1_bf16_lo), hi = _mm256_loadu_si256((const __m256i *)e2m1_bf16_hi);
        const __m256i z = _mm256_setzero_si256(), bytes = _mm256_loadu_si256((const __m256i *)b);
        __m256i nib = _mm256_and_si256(q >= 2 ? _mm256_srli_epi16(bytes, 4) : bytes, _mm256_set1_epi8(15));
        __m256i bl = _mm256_shuffle_epi8(lo, nib), bh = _mm256_shuffle_epi8(hi, nib);
        __m256i w = q & 1 ? _mm256_unpackhi_epi8(bl, bh) : _mm256_unpacklo_epi8(bl, bh);
        v[0] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(z, w));
        v[1] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(z, w));
    } else if (f == RK_FP8) {
        const __m256i mask = _mm256_set1_epi32((int)0x87F00000);
        for (int j = 0; j < 2; j++) {
            __m256i c = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + 16 * q + 8 * j)));
            v[j] = _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(c, 20), mask));
        }
    } else {
        const __m256i z = _mm256_setzero_si256(), x = _mm256_loadu_si256((const __m256i *)(b + 32 * q));
        v[0] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(z, x));
        v[1] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(z, x));
    }
}

// Half h of a step (vectors 4h..4h+3); for fp4 the two quarters share their loads and lookups.
INLINE void decode_half(const int f, const uint8_t *b, int h, __m256 v[4]) {
    decode_quarter(f, b, 2 * h, v);
    decode_quarter(f, b, 2 * h + 1, v + 2);
}

INLINE void decode_step(const int f, const uint8_t *b, __m256 v[8]) {
    decode_half(f, b, 0, v);
    decode_half(f, b, 1, v + 4);
}

// FP4 by shifts alone, for the paths of few rows where decoding is the limit. An e2m1 code s.ee.m at
// the top of a 16-bit word, shifted right arithmetically by 6, leaves s in bits 9..15 and ee.m in
// bits 6..8: the bf16 pattern of value · 2^-126 (e = 0 lines up with bf16 subnormals, as e4m3's do
// in fp32), once the word is masked. So one shift decodes the high nibble of a word's upper byte in
// both words of every dword, a shift left by 4 first its low nibble; the upper word is already
// fp32, the lower one moves up by 16. Loading a step from b puts bytes 3 and 1 of each dword at the
// top of its words, from b − 1 bytes 2 and 0. Vector j of the load from b − u (u = 0, 1) holds, in
// lane d, byte t = 3 − u − 2(j/2) of dword d, high nibble if j is odd: row 2d + t/2 + 16(j%2) of the
// step's layout, input parity t%2 = 1 − u. 9 ops per 32 weights against the tables' 10 and
// their shuffles: one row decodes a step in ~3.1 ns against ~4.1 on Zen 3 (one thread, from L2).
// Inputs must be multiplied by 2^63 and lane sums by 2^63 before their scale (fp4_up).
INLINE void fp4_nibbles(const uint8_t *b, int u, int high, __m256 v[2]) {   // vectors j = high, high + 2
    const __m256i mask = _mm256_set1_epi32((int)0x81C00000);
    const __m256i L = _mm256_loadu_si256((const __m256i *)(b - u));
    const __m256i s = _mm256_srai_epi16(high ? L : _mm256_slli_epi16(L, 4), 6);
    v[0] = _mm256_castsi256_ps(_mm256_and_si256(s, mask));
    v[1] = _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(s, 16), mask));
}
INLINE void fp4_words(const uint8_t *b, int u, __m256 v[4]) {
    __m256 lo[2], hi[2];
    fp4_nibbles(b, u, 0, lo);
    fp4_nibbles(b, u, 1, hi);
    v[0] = lo[0], v[1] = hi[0], v[2] = lo[1], v[3] = hi[1];
}
#define RK_FP4_UP 0x1p63f

// FP8 the same way: an e4m3 code at the top of a word, shifted right arithmetically by 4 and masked,
// is the bf16 pattern of value · 2^-120 (x_up, decode_up), so the load from b − u decodes bytes
// 3 − u (upper word, v[0]) and 1 − u (lower word, moved up, v[1]) of each dword: 4 ops per 16
// weights where sign extension from memory, a shift and a mask took 3 per 8.
INLINE void fp8_words(const uint8_t *b, int u, __m256 v[2]) {
    const __m256i mask = _mm256_set1_epi32((int)0x87F00000);
    const __m256i s = _mm256_srai_epi16(_mm256_loadu_si256((const __m256i *)(b - u)), 4);
    v[0] = _mm256_castsi256_ps(_mm256_and_si256(s, mask));
    v[1] = _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(s, 16), mask));
}

// Pairs per scale group: FP8 64 (128 inputs), FP4 16 (32 inputs); bf16 has no scales, one group.
INLINE long group_pairs(const rk_weights *w) { return w->format == RK_FP8 ? 64 : w->format == RK_FP4 ? 16 : w->kpad / 2; }

// E8M0 bytes e (one per 32-bit lane) as fp32: 2^(e−127), bits e << 23; byte 0 is the subnormal 2^-127.
INLINE __m256 e8m0_values(__m256i e) {
    const __m256i sub = _mm256_and_si256(_mm256_cmpeq_epi32(e, _mm256_setzero_si256()), _mm256_set1_epi32(0x00400000));
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_slli_epi32(e, 23), sub));
}

// The scale of group g of panel p for each vector's lanes.
INLINE void group_scales(const rk_weights *w, long p, long g, __m256 sc[8]) {
    if (w->format == RK_FP8) {
        __m256 s = _mm256_set1_ps(((const float *)w->scales)[(p / 4) * (w->kpad / 128) + g]);
        for (int i = 0; i < 8; i++) sc[i] = s;
    } else if (w->format == RK_FP4) {
        // Built in vectors: scalar stores read back as a vector would stall store forwarding once
        // per vector and group.
        const uint8_t *sb = (const uint8_t *)w->scales + (p * (w->kpad / 32) + g) * 32;
        for (int n = 0; n < 2; n++) {   // rows 16n .. 16n+15
            __m256i bytes = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(sb + 16 * n)));
            for (int k = 0; k < 4; k++) {   // vector 4n + k: rows 2k, 2k, 2k+1, 2k+1 | 2k+8, 2k+8, 2k+9, 2k+9
                const char j = (char)(2 * k), z = (char)0x80;
                __m256i idx = _mm256_setr_epi8(j, z, z, z, j, z, z, z, j + 1, z, z, z, j + 1, z, z, z,
                                               j + 8, z, z, z, j + 8, z, z, z, j + 9, z, z, z, j + 9, z, z, z);
                sc[4 * n + k] = e8m0_values(_mm256_shuffle_epi8(bytes, idx));
            }
        }
    } else for (int i = 0; i < 8; i++) sc[i] = _mm256_set1_ps(1.0f);
}

// The FP8 decoder's 2^-120, undone in two halves: x_up on the inputs as they are broadcast,
// decode_up on a lane sum before its scale (folding it into the scale could overflow).
INLINE __m256 x_up(int f) { return _mm256_set1_ps(f == RK_FP8 ? 0x1p60f : 1.0f); }
INLINE __m256 decode_up(int f) { return _mm256_set1_ps(f == RK_FP8 ? 0x1p60f : 1.0f); }

INLINE void prefetch_step(const uint8_t *b, long step) {
    for (long o = 0; o < step; o += 64) _mm_prefetch((const char *)b + o + 2048, _MM_HINT_T0);
}

// rows_avx2.c: lane sums [64] (one row, bf16) or [rows][64] (FP8, FP4: 1–3 rows) of panel p, in
// lane_row's order; x holds the rows' inputs, xs apart.
void rk_avx2_bf16_row(const rk_weights *w, const float *x, long p, float *out);
void rk_avx2_fp8_rows(const rk_weights *w, const float *x, long xs, long rows, long p, float *out);
void rk_avx2_fp4_rows(const rk_weights *w, const float *x, long xs, long rows, long p, float *out);

#endif
