// The attention-side kernels' per-path entry points (not part of the public header); the pool
// drivers in attention_avx2.c pick one per call.
#ifndef RIPTIDE_ATTENTION_COMMON_H
#define RIPTIDE_ATTENTION_COMMON_H
#include "riptide_kernels.h"

// Query row `row`, heads [h0, h0 + 16), into a->out. Scratch of the matching _scratch size.
void rk_attention_row_avx512(const rk_attention_args *a, long row, long h0, void *scratch);
long rk_attention_scratch_avx512(long d);
// Scores of keys [j0, j1) into a->out.
void rk_indexer_chunk_avx512(const rk_indexer_args *a, long j0, long j1, void *scratch);
long rk_indexer_scratch_avx512(long heads, long head_dim);

// Cephes expf, shared by both paths: x = n·ln2 + r (ln2 split in two), |r| ≤ ln2/2,
// e^r ≈ 1 + r + r²·P(r) with P of degree 5 (RK_EXP_P[0] highest); about 1 ulp.
#define RK_EXP_LOG2E 1.44269504088896341f
#define RK_EXP_LN2_HI 0.693359375f
#define RK_EXP_LN2_LO -2.12194440e-4f
static const float RK_EXP_P[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                  4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
#endif
