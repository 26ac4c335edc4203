// Run-time CPU feature detection (cpuid leaf 7 and xgetbv for the OS-enabled register state), and
// the allocator setting the forward pass wants.
#include "riptide_kernels.h"
#include <cpuid.h>
#include <limits.h>
#include <malloc.h>

static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int rk_cpu_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave) return 0;
    unsigned long long xcr0 = xgetbv0();
    int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xE6) == 0xE6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1;
    int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vbmi = (c >> 1) & 1, vnni = (c >> 11) & 1;
    unsigned a1 = 0, b1, c1, d1;
    __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    int bf16 = (a1 >> 5) & 1;
    int out = 0;
    if (ymm && avx2 && fma && f16c) out |= RK_CPU_AVX2;
    if ((out & RK_CPU_AVX2) && zmm && f && bw && vl && vbmi && vnni && bf16) out |= RK_CPU_AVX512;
    return out;
}

void rk_keep_freed_memory(void) {
    mallopt(M_ARENA_MAX, 1);              // every thread in the main heap (others are mmapped 64 MiB heaps)
    mallopt(M_MMAP_MAX, 0);               // no mmap for large blocks: they come from the heap
    mallopt(M_TRIM_THRESHOLD, INT_MAX);   // and stay there when freed (up to 2 GiB free at the top)
}
