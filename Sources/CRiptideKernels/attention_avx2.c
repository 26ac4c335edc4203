// AVX2/FMA sparse attention and indexer scores (for CPUs without AVX-512 BF16), and the pool
// drivers of both paths. Same block structure and roundings as the reference (spec §4.5, §4.7):
// scores in fp32 (here plain fp32 FMA dots), P rounded to bf16 against the running max, sums
// rescaled per 64-slot block, the sink only in the denominator.
#include "attention_common.h"
#include "linear_common.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

enum { BLOCK = 64, GROUP = 16 };

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

static inline float dot8(const float *a, const float *b, long n) {   // n a multiple of 32
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (long i = 0; i < n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// e^x in 8 lanes (RK_EXP_*, attention_common.h); −inf → 0.
static inline __m256 exp8(__m256 x) {
    __m256 finite = _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.3762626647949f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(RK_EXP_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(RK_EXP_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(RK_EXP_LN2_LO), r);
    __m256 p = _mm256_set1_ps(RK_EXP_P[0]);
    for (int k = 1; k < 6; k++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RK_EXP_P[k]));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), finite);
}

static long attention_scratch_avx2(long d) { return (GROUP * d + GROUP * BLOCK + GROUP * BLOCK * 8) * 4 + BLOCK * sizeof(void *) + 64; }

// Scores of heads [h, h + 4) against entries j, j + 1: eight dots sharing their loads (a dot alone
// loads twice per FMA, more than Zen 3's load ports feed).
static inline void scores_4x2(const float *q, long d, const float *k0, const float *k1, float scale, float *s, long h) {
    __m256 acc[4][2];
    for (int i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (long c = 0; c < d; c += 8) {
        __m256 a = _mm256_loadu_ps(k0 + c), b = _mm256_loadu_ps(k1 + c);
        for (int i = 0; i < 4; i++) {
            __m256 qv = _mm256_loadu_ps(q + (h + i) * d + c);
            acc[i][0] = _mm256_fmadd_ps(qv, a, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(qv, b, acc[i][1]);
        }
    }
    for (int i = 0; i < 4; i++) { s[(h + i) * BLOCK] = hsum8(acc[i][0]) * scale; s[(h + i) * BLOCK + 1] = hsum8(acc[i][1]) * scale; }
}

// Query row `row`, heads [h0, h0 + 16). Per 64-entry block: all heads' scores (4 heads × 2 entries a
// tile), then per head the running max, e^, sum and bf16 probabilities (laid out broadcast, since
// a broadcast load takes an FP slot on Zen 3), then o·α + Σ p·V for 4 heads × 16 columns a tile, so
// that each entry's values are loaded once for 4 heads. Each output lane still sums its entries in
// order, as the reference does.
static void attention_row_avx2(const rk_attention_args *a, long row, long h0, void *scratch) {
    const long d = a->d, nh = a->heads - h0 < GROUP ? a->heads - h0 : GROUP, nh4 = (nh + 3) / 4 * 4;
    float *o = (float *)scratch;          // [16][d] running output
    float *s = o + GROUP * d;             // [16][64] scores, then probabilities
    float *pb = s + GROUP * BLOCK;        // [16][64][8] bf16-rounded probabilities, broadcast
    const float **k = (const float **)(pb + GROUP * BLOCK * 8);   // [64] the block's entries
    float m[GROUP], den[GROUP], alpha[GROUP];
    memset(o, 0, sizeof(float) * GROUP * d);
    for (int h = 0; h < GROUP; h++) { m[h] = -INFINITY; den[h] = 0; }
    const float *q = a->q + (row * a->heads + h0) * d;
    for (long b0 = 0; b0 < a->n; b0 += BLOCK) {
        const int32_t *list = a->idx + row * a->n;
        int nb = 0;
        for (long i = b0; i < b0 + BLOCK && i < a->n; i++)
            if (list[i] >= 0) k[nb++] = a->table + (long)list[i] * d;
        if (nb == 0) continue;   // an empty block changes nothing
        for (long h = 0; h + 4 <= nh; h += 4)
            for (int j = 0; j < nb; j += 2)   // an odd last entry pairs with itself; slot nb is reset to −inf below
                scores_4x2(q, d, k[j], k[j + 1 < nb ? j + 1 : j], a->scale, s + j, h);
        for (long h = nh / 4 * 4; h < nh; h++)
            for (int j = 0; j < nb; j++) s[h * BLOCK + j] = dot8(q + h * d, k[j], d) * a->scale;
        for (long h = 0; h < nh; h++) {
            float *sh = s + h * BLOCK, mNew = m[h];
            for (int j = 0; j < nb; j++) mNew = sh[j] > mNew ? sh[j] : mNew;
            for (int j = nb; j < BLOCK; j++) sh[j] = -INFINITY;
            __m256 sum = _mm256_setzero_ps();
            for (int j = 0; j < BLOCK; j += 8) {
                __m256 p = exp8(_mm256_sub_ps(_mm256_loadu_ps(sh + j), _mm256_set1_ps(mNew)));
                sum = _mm256_add_ps(sum, p);
                _mm256_storeu_ps(sh + j, p);
            }
            alpha[h] = _mm256_cvtss_f32(exp8(_mm256_set1_ps(m[h] - mNew)));
            den[h] = den[h] * alpha[h] + hsum8(sum);
            m[h] = mNew;
            for (int j = 0; j < nb; j++) _mm256_storeu_ps(pb + (h * BLOCK + j) * 8, _mm256_set1_ps(rk_bf16_round(sh[j])));
        }
        for (long h = nh; h < nh4; h++) {   // padding heads of the last tile: zeros, never stored
            alpha[h] = 0;
            for (int j = 0; j < nb; j++) _mm256_storeu_ps(pb + (h * BLOCK + j) * 8, _mm256_setzero_ps());
        }
        for (long h = 0; h < nh4; h += 4)
            for (long c = 0; c < d; c += 16) {
                __m256 acc[4][2];
                for (int i = 0; i < 4; i++) {
                    __m256 al = _mm256_set1_ps(alpha[h + i]);
                    acc[i][0] = _mm256_mul_ps(_mm256_loadu_ps(o + (h + i) * d + c), al);
                    acc[i][1] = _mm256_mul_ps(_mm256_loadu_ps(o + (h + i) * d + c + 8), al);
                }
                for (int j = 0; j < nb; j++) {
                    __m256 v0 = _mm256_loadu_ps(k[j] + c), v1 = _mm256_loadu_ps(k[j] + c + 8);
                    for (int i = 0; i < 4; i++) {
                        __m256 p = _mm256_loadu_ps(pb + ((h + i) * BLOCK + j) * 8);
                        acc[i][0] = _mm256_fmadd_ps(p, v0, acc[i][0]);
                        acc[i][1] = _mm256_fmadd_ps(p, v1, acc[i][1]);
                    }
                }
                for (int i = 0; i < 4; i++) {
                    _mm256_storeu_ps(o + (h + i) * d + c, acc[i][0]);
                    _mm256_storeu_ps(o + (h + i) * d + c + 8, acc[i][1]);
                }
            }
    }
    for (long h = 0; h < nh; h++) {
        float total = den[h] + _mm256_cvtss_f32(exp8(_mm256_set1_ps(a->sink[h0 + h] - m[h])));
        float *out = a->out + (row * a->heads + h0 + h) * d;
        for (long c = 0; c < d; c++) out[c] = rk_bf16_round(o[h * d + c] / total);
    }
}

static void indexer_chunk_avx2(const rk_indexer_args *a, long j0, long j1) {
    const long hd = a->head_dim;
    for (long j = j0; j < j1; j++) {
        float total = 0;
        for (long h = 0; h < a->heads; h++) {
            float dot = rk_bf16_round(dot8(a->q + h * hd, a->keys + j * hd, hd));
            total += rk_bf16_round((dot > 0 ? dot : 0) * a->weights[h]);
        }
        a->out[j] = rk_bf16_round(total);
    }
}

// ---- pool drivers ----

typedef struct { const rk_attention_args *a; rk_pool *pool; int path; long groups; } attention_job;

static void attention_task(void *ctx, int task, int worker) {
    const attention_job *job = ctx;
    long row = task / job->groups, h0 = (task % job->groups) * GROUP, d = job->a->d;
    if (job->path == RK_PATH_AVX512)
        rk_attention_row_avx512(job->a, row, h0, rk_pool_scratch(job->pool, worker, rk_attention_scratch_avx512(d)));
    else
        attention_row_avx2(job->a, row, h0, rk_pool_scratch(job->pool, worker, attention_scratch_avx2(d)));
}

void rk_sparse_attention_run(rk_pool *pool, int path, const rk_attention_args *a) {
    attention_job job = { a, pool, path, (a->heads + GROUP - 1) / GROUP };
    rk_pool_run(pool, (int)(a->rows * job.groups), attention_task, &job);
}

typedef struct { const rk_indexer_args *a; rk_pool *pool; int path; long chunk; } indexer_job;

static void indexer_task(void *ctx, int task, int worker) {
    const indexer_job *job = ctx;
    long j0 = task * job->chunk, j1 = j0 + job->chunk < job->a->n ? j0 + job->chunk : job->a->n;
    if (job->path == RK_PATH_AVX512)
        rk_indexer_chunk_avx512(job->a, j0, j1, rk_pool_scratch(job->pool, worker, rk_indexer_scratch_avx512(job->a->heads, job->a->head_dim)));
    else
        indexer_chunk_avx2(job->a, j0, j1);
}

void rk_indexer_scores_run(rk_pool *pool, int path, const rk_indexer_args *a) {
    if (a->n <= 0) return;
    // Chunks of keys big enough to amortise preparing q (heads·head_dim values) per chunk.
    indexer_job job = { a, pool, path, 256 };
    rk_pool_run(pool, (int)((a->n + job.chunk - 1) / job.chunk), indexer_task, &job);
}
