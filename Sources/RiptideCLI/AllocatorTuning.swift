/// glibc's malloc defaults cost a prefill ~8%: the forward thread gets its own arena, whose heaps
/// stop at 64 MiB, so every step's large activations were fresh mmaps that the kernel zeroed page
/// by page and unmapped again (flash4, a 721-token prompt: 184,625 page faults a request, 6.8–7.4 s;
/// with one arena that keeps what it frees: none, 6.2–6.3 s). One arena also keeps the NIO threads'
/// small allocations out of the forward thread's way no worse than the lock they share costs.
enum AllocatorTuning {
    static func apply() {
        #if os(Linux)
        _ = mallopt(-8, 1)          // M_ARENA_MAX
        _ = mallopt(-3, 32 << 20)   // M_MMAP_THRESHOLD: glibc's largest; bigger blocks are mmapped anyway
        _ = mallopt(-1, 1 << 30)    // M_TRIM_THRESHOLD: up to 1 GiB of freed memory stays for the next step
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32   // <malloc.h>, not in Glibc's module
#endif
