// AVX-512 BF16 sparse attention with sink (spec §4.7), one query row and 16 heads per task.
// Same block structure as the reference: the index list is cut into 64-slot blocks; per block the
// scores are taken, the running max updated, P = exp(s − m) rounded to bf16 for P·V, the sums
// rescaled by exp(m_old − m_new). q, K = V and the bf16 P are exact in bf16, so every product is
// exact; only the fp32 summation order differs from the reference (which sums in Double).
//
// Layouts (16 heads in the 16 fp32 lanes of a zmm):
//   qt [d/2][16]   bf16 pairs (q[h][2i], q[h][2i+1]) per head lane       — QKᵀ: broadcast K pairs
//   kb [64][d]     bf16 rows of the block's valid entries
//   vt [32][d]     bf16 pairs (kb[2j][c], kb[2j+1][c]) per output lane c  — PV: broadcast P pairs
//   st [64][16]    fp32 scores → probabilities, one row per entry
//   pp [32][16]    bf16 pairs (p[2j][h], p[2j+1][h])
//   o  [16][d]     fp32 running output
#include "riptide_kernels.h"
#include "attention_common.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512bf16,avx512vnni")))
#define INLINE static inline __attribute__((always_inline))
enum { BLOCK = 64, LANES = 16 };

// e^x in fp32 lanes (RK_EXP_*, attention_common.h); −inf → 0.
INLINE T512 __m512 exp_ps(__m512 x) {
    __mmask16 finite = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(RK_EXP_LOG2E)), _MM_FROUND_TO_NEAREST_INT);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(RK_EXP_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(RK_EXP_LN2_LO), r);
    __m512 p = _mm512_set1_ps(RK_EXP_P[0]);
    for (int k = 1; k < 6; k++) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RK_EXP_P[k]));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_mov_ps(finite, _mm512_scalef_ps(p, n));
}

// bf16 (round to nearest even) of 32 floats, in order.
INLINE T512 __m512i bf16x32(const float *x) {
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x));
}

// fp32 rounded to bf16 and back.
INLINE T512 __m512 round_bf16_ps(__m512 x) {
    __m256i b = (__m256i)_mm512_cvtneps_pbh(x);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
}

// In-register transpose of a 16×16 matrix of 32-bit elements: r[i] row i → r[j] column j.
INLINE T512 void transpose16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {  // r[4i + c]: rows 4i..4i+3, column 4L + c in 128-bit lane L
        r[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
        r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int c = 0; c < 4; c++) {
        __m512i a = _mm512_shuffle_i32x4(r[c], r[4 + c], 0x88), b = _mm512_shuffle_i32x4(r[c], r[4 + c], 0xdd);
        __m512i e = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0x88), f = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], 0xdd);
        t[c] = _mm512_shuffle_i32x4(a, e, 0x88);
        t[8 + c] = _mm512_shuffle_i32x4(a, e, 0xdd);
        t[4 + c] = _mm512_shuffle_i32x4(b, f, 0x88);
        t[12 + c] = _mm512_shuffle_i32x4(b, f, 0xdd);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

typedef struct {
    uint32_t *qt, *vt, *pp;
    uint16_t *kb;
    float *st, *o;
} attention_scratch;

long rk_attention_scratch_avx512(long d) {
    return (d / 2) * LANES * 4 + BLOCK * d * 2 + (BLOCK / 2) * d * 4 + BLOCK * LANES * 4 + (BLOCK / 2) * LANES * 4 + LANES * d * 4 + 256;
}

static attention_scratch carve(void *scratch, long d) {
    char *p = (char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    attention_scratch s;
    s.qt = (uint32_t *)p; p += (d / 2) * LANES * 4;
    s.kb = (uint16_t *)p; p += BLOCK * d * 2;
    s.vt = (uint32_t *)p; p += (BLOCK / 2) * d * 4;
    s.st = (float *)p; p += BLOCK * LANES * 4;
    s.pp = (uint32_t *)p; p += (BLOCK / 2) * LANES * 4;
    s.o = (float *)p;
    return s;
}

// S[j][h] = scale · Σ_k q[h][k]·kb[j][k] for the block's nb entries (8 at a time).
INLINE T512 void scores(const attention_scratch *s, long d, int nb, float scale) {
    for (int j0 = 0; j0 < nb; j0 += 8) {
        __m512 acc[8];
        for (int j = 0; j < 8; j++) acc[j] = _mm512_setzero_ps();
        const uint32_t *k = (const uint32_t *)s->kb + j0 * (d / 2);
        for (long i = 0; i < d / 2; i++) {
            __m512bh q = (__m512bh)_mm512_load_si512(s->qt + i * LANES);
            for (int j = 0; j < 8; j++)
                acc[j] = _mm512_dpbf16_ps(acc[j], q, (__m512bh)_mm512_set1_epi32((int)k[j * (d / 2) + i]));
        }
        for (int j = 0; j < 8 && j0 + j < nb; j++) _mm512_store_ps(s->st + (j0 + j) * LANES, _mm512_mul_ps(acc[j], _mm512_set1_ps(scale)));
    }
}

// o[h][:] = o[h][:]·alpha[h] + Σ_j p[j][h]·v[j][:] over np pairs of entries; tiles of 4 heads × 64 outputs.
INLINE T512 void accumulate(const attention_scratch *s, long d, int np, const float *alpha) {
    for (long c0 = 0; c0 < d; c0 += 64) {
        for (int h0 = 0; h0 < LANES; h0 += 4) {
            __m512 acc[4][4];
            for (int h = 0; h < 4; h++) {
                __m512 a = _mm512_set1_ps(alpha[h0 + h]);
                for (int c = 0; c < 4; c++) acc[h][c] = _mm512_mul_ps(_mm512_load_ps(s->o + (h0 + h) * d + c0 + 16 * c), a);
            }
            for (int j = 0; j < np; j++) {
                __m512bh v[4];
                for (int c = 0; c < 4; c++) v[c] = (__m512bh)_mm512_load_si512(s->vt + j * d + c0 + 16 * c);
                for (int h = 0; h < 4; h++) {
                    __m512bh p = (__m512bh)_mm512_set1_epi32((int)s->pp[j * LANES + h0 + h]);
                    for (int c = 0; c < 4; c++) acc[h][c] = _mm512_dpbf16_ps(acc[h][c], p, v[c]);
                }
            }
            for (int h = 0; h < 4; h++)
                for (int c = 0; c < 4; c++) _mm512_store_ps(s->o + (h0 + h) * d + c0 + 16 * c, acc[h][c]);
        }
    }
}

// One query row, heads [h0, h0 + 16) (lanes past `heads` are zero and discarded).
static T512 void attend_row(const rk_attention_args *a, long row, long h0, const attention_scratch *s) {
    const long d = a->d, nh = a->heads - h0 < LANES ? a->heads - h0 : LANES;
    const float *q = a->q + row * a->heads * d;
    // qt: 16 pair-columns of the 16 heads at a time, transposed.
    for (long c0 = 0; c0 < d / 2; c0 += 16) {
        __m512i r[16];
        for (int h = 0; h < LANES; h++) r[h] = h < nh ? bf16x32(q + (h0 + h) * d + 2 * c0) : _mm512_setzero_si512();
        transpose16(r);
        for (int i = 0; i < 16; i++) _mm512_store_si512(s->qt + (c0 + i) * LANES, r[i]);
    }
    memset(s->o, 0, sizeof(float) * LANES * d);
    float m[LANES], den[LANES], alpha[LANES];
    for (int h = 0; h < LANES; h++) { m[h] = -INFINITY; den[h] = 0; }
    const int32_t *list = a->idx + row * a->n;
    const __m512i interleave_lo = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8,
                                                   39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i interleave_hi = _mm512_add_epi16(interleave_lo, _mm512_set1_epi16(16));
    const __m512i interleave_halves = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                       23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (long b0 = 0; b0 < a->n; b0 += BLOCK) {
        // Gather the block's valid entries as bf16 rows; pad to an even count with a zero row.
        int nb = 0;
        for (long i = b0; i < b0 + BLOCK && i < a->n; i++) {
            if (list[i] < 0) continue;
            const float *src = a->table + (long)list[i] * d;
            for (long c = 0; c < d; c += 32) _mm512_store_si512(s->kb + nb * d + c, bf16x32(src + c));
            nb++;
        }
        if (nb == 0) continue;  // an empty block changes nothing
        if (nb & 1) memset(s->kb + nb * d, 0, 2 * d);
        const int np = (nb + 1) / 2;
        for (int j = 0; j < np; j++)
            for (long c = 0; c < d; c += 32) {
                __m512i x = _mm512_load_si512(s->kb + 2 * j * d + c), y = _mm512_load_si512(s->kb + (2 * j + 1) * d + c);
                _mm512_store_si512(s->vt + j * d + c, _mm512_permutex2var_epi16(x, interleave_lo, y));
                _mm512_store_si512(s->vt + j * d + c + 16, _mm512_permutex2var_epi16(x, interleave_hi, y));
            }
        scores(s, d, nb, a->scale);
        // Online softmax over the block, all 16 heads at once.
        __m512 mOld = _mm512_loadu_ps(m), mNew = mOld;
        for (int j = 0; j < nb; j++) mNew = _mm512_max_ps(mNew, _mm512_load_ps(s->st + j * LANES));
        __m512 sum = _mm512_setzero_ps();
        for (int j = 0; j < 2 * np; j++) {
            __m512 p = j < nb ? exp_ps(_mm512_sub_ps(_mm512_load_ps(s->st + j * LANES), mNew)) : _mm512_setzero_ps();
            sum = _mm512_add_ps(sum, p);
            _mm512_store_ps(s->st + j * LANES, p);
        }
        __m512 al = exp_ps(_mm512_sub_ps(mOld, mNew));
        _mm512_storeu_ps(den, _mm512_fmadd_ps(_mm512_loadu_ps(den), al, sum));
        _mm512_storeu_ps(alpha, al);
        _mm512_storeu_ps(m, mNew);
        for (int j = 0; j < np; j++) {  // bf16 pairs (p[2j][h], p[2j+1][h])
            __m512i pb = (__m512i)_mm512_cvtne2ps_pbh(_mm512_load_ps(s->st + (2 * j + 1) * LANES), _mm512_load_ps(s->st + 2 * j * LANES));
            _mm512_store_si512(s->pp + j * LANES, _mm512_permutexvar_epi16(interleave_halves, pb));
        }
        accumulate(s, d, np, alpha);
    }
    for (int h = 0; h < nh; h++) {
        __m512 sinkTerm = exp_ps(_mm512_set1_ps(a->sink[h0 + h] - m[h]));
        __m512 total = _mm512_add_ps(_mm512_set1_ps(den[h]), sinkTerm);
        float *out = a->out + (row * a->heads + h0 + h) * d;
        for (long c = 0; c < d; c += 16)
            _mm512_storeu_ps(out + c, round_bf16_ps(_mm512_div_ps(_mm512_load_ps(s->o + h * d + c), total)));
    }
}

T512 void rk_attention_row_avx512(const rk_attention_args *a, long row, long h0, void *scratch) {
    attention_scratch s = carve(scratch, a->d);
    attend_row(a, row, h0, &s);
}

// ---- lightning indexer scores (spec §4.5): score[j] = bf16(Σ_h bf16(relu(bf16(q_h·k_j))·w_h)) ----
// q and the keys are FP4-simulated (exact in bf16), so vdpbf16ps products are exact; dots sum in
// fp32 and the head sum in fp32 (the reference uses Double), so near-ties can round differently.

T512 void rk_indexer_chunk_avx512(const rk_indexer_args *a, long j0, long j1, void *scratch) {
    const long hd = a->head_dim, groups = (a->heads + LANES - 1) / LANES;
    uint32_t *qt = (uint32_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);   // [groups][hd/2][16]
    for (long g = 0; g < groups; g++)
        for (long c0 = 0; c0 < hd / 2; c0 += 16) {
            __m512i r[16];
            for (int h = 0; h < LANES; h++)
                r[h] = g * LANES + h < a->heads ? bf16x32(a->q + (g * LANES + h) * hd + 2 * c0) : _mm512_setzero_si512();
            transpose16(r);
            for (int i = 0; i < 16; i++) _mm512_store_si512(qt + (g * (hd / 2) + c0 + i) * LANES, r[i]);
        }
    uint32_t key[512];   // one key row as bf16 pairs (head_dim ≤ 1024)
    for (long j = j0; j < j1; j++) {
        for (long c = 0; c < hd; c += 32) _mm512_storeu_si512(key + c / 2, bf16x32(a->keys + j * hd + c));
        __m512 total = _mm512_setzero_ps();
        for (long g = 0; g < groups; g++) {
            __m512 dot0 = _mm512_setzero_ps(), dot1 = _mm512_setzero_ps();
            const uint32_t *qg = qt + g * (hd / 2) * LANES;
            for (long i = 0; i < hd / 2; i += 2) {
                dot0 = _mm512_dpbf16_ps(dot0, (__m512bh)_mm512_load_si512(qg + i * LANES), (__m512bh)_mm512_set1_epi32((int)key[i]));
                dot1 = _mm512_dpbf16_ps(dot1, (__m512bh)_mm512_load_si512(qg + (i + 1) * LANES), (__m512bh)_mm512_set1_epi32((int)key[i + 1]));
            }
            __m512 s = _mm512_max_ps(round_bf16_ps(_mm512_add_ps(dot0, dot1)), _mm512_setzero_ps());
            __mmask16 live = g * LANES + LANES <= a->heads ? 0xFFFF : (__mmask16)((1u << (a->heads - g * LANES)) - 1);
            __m512 w = _mm512_maskz_loadu_ps(live, a->weights + g * LANES);
            total = _mm512_add_ps(total, round_bf16_ps(_mm512_mul_ps(s, w)));
        }
        __m512 one = round_bf16_ps(_mm512_set1_ps(_mm512_reduce_add_ps(total)));
        a->out[j] = _mm512_cvtss_f32(one);
    }
}

long rk_indexer_scratch_avx512(long heads, long head_dim) {
    return ((heads + LANES - 1) / LANES) * (head_dim / 2) * LANES * 4 + 64;
}

// ---- Walsh–Hadamard transform of rows (indexer queries and keys, spec §4.5) ----
// Stages with a partner 16 or more lanes away add/subtract whole vectors; the first four pair
// lanes inside a vector (lane ^ h) with one permute and a masked subtract.
static T512 void hadamard_row(float *v, long n, float scale, int round) {
    static const __mmask16 upper[4] = {0xAAAA, 0xCCCC, 0xF0F0, 0xFF00};   // lanes with bit h set
    for (long c = 0; c < n; c += 16) {
        __m512 x = _mm512_loadu_ps(v + c);
        for (int s = 0; s < 4; s++) {
            __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            __m512 p = _mm512_permutexvar_ps(_mm512_xor_si512(lane, _mm512_set1_epi32(1 << s)), x);
            x = _mm512_mask_sub_ps(_mm512_add_ps(x, p), upper[s], p, x);   // low: x + p; high: p − x
        }
        _mm512_storeu_ps(v + c, x);
    }
    for (long h = 16; h < n; h *= 2)
        for (long i = 0; i < n; i += 2 * h)
            for (long j = i; j < i + h; j += 16) {
                __m512 a = _mm512_loadu_ps(v + j), b = _mm512_loadu_ps(v + j + h);
                _mm512_storeu_ps(v + j, _mm512_add_ps(a, b));
                _mm512_storeu_ps(v + j + h, _mm512_sub_ps(a, b));
            }
    for (long c = 0; c < n; c += 16) {
        __m512 x = _mm512_mul_ps(_mm512_loadu_ps(v + c), _mm512_set1_ps(scale));
        _mm512_storeu_ps(v + c, round ? round_bf16_ps(x) : x);
    }
}

T512 void rk_hadamard_rows(float *v, long rows, long n, float scale, int round_bf16) {
    for (long r = 0; r < rows; r++) hadamard_row(v + r * n, n, scale, round_bf16);
}

// ---- compressor pooling (spec §4.4): per channel, softmax of the scores over the rows, Σ w·kv ----
T512 void rk_softmax_pool(const float *kv, const float *score, long rows, long dim, float *out) {
    for (long c = 0; c < dim; c += 16) {
        __mmask16 live = dim - c >= 16 ? 0xFFFF : (__mmask16)((1u << (dim - c)) - 1);
        __m512 m = _mm512_set1_ps(-INFINITY);
        for (long r = 0; r < rows; r++) m = _mm512_max_ps(m, _mm512_maskz_loadu_ps(live, score + r * dim + c));
        __m512 total = _mm512_setzero_ps(), acc = _mm512_setzero_ps();
        for (long r = 0; r < rows; r++) {
            __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, score + r * dim + c), m));
            total = _mm512_add_ps(total, e);
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(live, kv + r * dim + c), e, acc);
        }
        _mm512_mask_storeu_ps(out + c, live, _mm512_div_ps(acc, total));
    }
}
