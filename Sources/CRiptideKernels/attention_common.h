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
#endif
