// Activation preparation: FP8 quantization per 128-block (spec §6.3) and bf16 conversion.
// Bit-exact with the Swift reference quantizeFP8: same fp32 operations (x / s, clamp), and e4m3
// rounding done with integer/float tricks that give the same round-to-nearest-even result.
#include "riptide_kernels.h"
#include <string.h>

static inline uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// Rounds v (|v| ≤ 448) to e4m3 and returns it as fp32. Normals: round the fp32 mantissa to 3 bits
// (carry into the exponent is right). Below 2^-6 the grid step is 2^-9: adding 2^14 makes the fp32
// ulp 2^-9, so the addition itself rounds to nearest even. The sign follows `v < 0` as in Swift
// (−0 gives +0, a tiny negative that rounds to zero gives −0).
static inline float round_e4m3(float v) {
    uint32_t sign = v < 0.0f ? 0x80000000u : 0;
    float a = v < 0.0f ? -v : v;
    uint32_t b = fbits(a);
    float normal = bitsf((b + 0x7FFFFu + ((b >> 20) & 1)) & 0xFFF00000u);
    float sub = (a + 16384.0f) - 16384.0f;   // no -ffast-math here, so this stays two rounded ops
    float r = a >= 0x1p-6f ? normal : sub;   // branch-free: the loop vectorizes
    return bitsf(fbits(r) | sign);
}

static inline float pow2_ceil_scale(float amax) {
    float v = (amax > 1e-4f ? amax : 1e-4f) * (float)(1.0 / 448.0);
    uint32_t b = fbits(v);
    int e = (int)((b >> 23) & 0xFF) - 127 + ((b & 0x7FFFFF) != 0);
    return bitsf((uint32_t)(e + 127) << 23);
}

void rk_quantize_fp8_rows(const float *x, long m, long k, long kpad, uint16_t *xq, float *xs, float *xf) {
    long blocks = kpad / 128;
    for (long r = 0; r < m; r++) {
        const float *xr = x + r * k;
        for (long b = 0; b < blocks; b++) {
            long s0 = b * 128, s1 = s0 + 128 < k ? s0 + 128 : k;
            float amax = 0;
            for (long i = s0; i < s1; i++) { float a = xr[i] < 0 ? -xr[i] : xr[i]; amax = a > amax ? a : amax; }
            float s = pow2_ceil_scale(amax);
            float inv = 1.0f / s;   // exact (s is a normal power of two), so x·inv rounds exactly as x / s
            xs[r * blocks + b] = s;
            float q[128];
            for (long i = 0; i < 128; i++) {
                float v = s0 + i < s1 ? xr[s0 + i] * inv : 0.0f;
                v = v < -448.0f ? -448.0f : (v > 448.0f ? 448.0f : v);
                q[i] = round_e4m3(v);
            }
            if (s1 < s0 + 128) for (long i = s1 - s0; i < 128; i++) q[i] = 0.0f;
            if (xq) for (long i = 0; i < 128; i++) xq[r * kpad + s0 + i] = (uint16_t)(fbits(q[i]) >> 16);  // exact in bf16
            if (xf) for (long i = 0; i < 128; i++) xf[r * kpad + s0 + i] = q[i] * s;
        }
    }
}

void rk_convert_rows(const float *x, long m, long k, long kpad, uint16_t *xq, float *xf, int round_xf) {
    for (long r = 0; r < m; r++) {
        for (long i = 0; i < kpad; i++) {
            float v = i < k ? x[r * k + i] : 0.0f;
            uint32_t b = fbits(v);
            uint16_t h = (uint16_t)((b + 0x7FFFu + ((b >> 16) & 1)) >> 16);   // RNE (finite x)
            if (xq) xq[r * kpad + i] = h;
            if (xf) xf[r * kpad + i] = round_xf ? bitsf((uint32_t)h << 16) : v;
        }
    }
}
