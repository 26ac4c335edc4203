// Roofline probes: DRAM read stream, fp32 FMA peak (ymm; Zen 4 reaches the same FLOPs as zmm)
// and bf16 dot peak (vdpbf16ps zmm). Each returns a checksum so nothing is optimized away.
#include "riptide_kernels.h"
#include <immintrin.h>

double rk_probe_read(const float *p, long count, int passes) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int pass = 0; pass < passes; pass++) {
        for (long i = 0; i + 32 <= count; i += 32) {
            a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
            a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
            a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
            a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
        }
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    float t[8]; _mm256_storeu_ps(t, s);
    return (double)t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

__attribute__((target("avx512f")))
double rk_probe_read512(const float *p, long count, int passes) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int pass = 0; pass < passes; pass++)
        for (long i = 0; i + 64 <= count; i += 64) {
            a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
            a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
            a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
            a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
        }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

double rk_probe_fma_f32(long iters) {
    __m256 acc[12], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
    }
    double s = 0; float t[8];
    for (int i = 0; i < 12; i++) { _mm256_storeu_ps(t, acc[i]); s += t[0]; }
    return s;
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
double rk_probe_dot_bf16(long iters) {
    __m512 acc[12];
    __m512bh a = (__m512bh)_mm512_set1_epi16(0x3F80), b = (__m512bh)_mm512_set1_epi16(0x3380);
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
    }
    double s = 0;
    for (int i = 0; i < 12; i++) s += _mm512_reduce_add_ps(acc[i]);
    return s;
}
