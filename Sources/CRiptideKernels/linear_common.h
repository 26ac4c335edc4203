// Helpers shared by the linear kernels (not part of the public header).
#ifndef RIPTIDE_LINEAR_COMMON_H
#define RIPTIDE_LINEAR_COMMON_H
#include "riptide_kernels.h"
#include <string.h>

#define RK_SEG_PAIRS 512   // inputs per segment / 2: an FP8 panel segment is 32 KiB, the AVX2 fp32 one 128 KiB

static inline float rk_e4m3_value(uint8_t c) {      // exact; 0x7F/0xFF (NaN) are not used here
    int e = (c >> 3) & 15, m = c & 7;
    float v = e == 0 ? (float)m * 0x1p-9f : (1.0f + (float)m / 8) * __builtin_ldexpf(1.0f, e - 7);
    return (c & 0x80) ? -v : v;
}
static inline float rk_e2m1_value(uint8_t c) {
    static const float mag[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    return (c & 8) ? -mag[c & 7] : mag[c & 7];
}
static inline float rk_e8m0_value(uint8_t e) {   // 2^(e-127) from its bits; byte 0 is the subnormal 2^-127
    uint32_t b = e == 0 ? 0x00400000u : (uint32_t)e << 23; float f; memcpy(&f, &b, 4); return f;
}
static inline uint16_t rk_bf16_of(float f) {        // round to nearest even (finite f)
    uint32_t b; memcpy(&b, &f, 4);
    return (uint16_t)((b + 0x7FFFu + ((b >> 16) & 1)) >> 16);
}
static inline float rk_bf16_round(float f) {
    uint32_t b = (uint32_t)rk_bf16_of(f) << 16; float r; memcpy(&r, &b, 4); return r;
}
static inline long rk_step_bytes(int format) {
    return format == RK_FP8 ? 64 : format == RK_FP4 ? 32 : 128;   // per input pair; F32: per input
}
void rk_store_panel(const rk_weights *w, const rk_activations *a, long p, const float *tot);
#endif
