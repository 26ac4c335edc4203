import CRiptideKernels
#if canImport(Glibc)
import Glibc
#endif

/// Which implementation of a kernel runs. `.best` is chosen once from cpuid.
public enum KernelPath: String, Sendable, CaseIterable {
    case avx512     // AVX-512 F/BW/VL/VBMI/BF16/VNNI (vdpbf16ps on bf16-expanded weights)
    case avx2       // AVX2 + FMA, fp32 on exactly dequantized weights
    case portable   // plain Swift twin (any CPU; slow; also the test reference for the packed layout)

    /// Paths this CPU can run, fastest first.
    public static let available: [KernelPath] = {
        let f = rk_cpu_features()
        var paths: [KernelPath] = []
        if f & Int32(RK_CPU_AVX512) != 0 { paths.append(.avx512) }
        if f & Int32(RK_CPU_AVX2) != 0 { paths.append(.avx2) }
        paths.append(.portable)
        return paths
    }()

    /// The fastest available path; `RIPTIDE_KERNELS=avx2|portable` forces a slower one.
    public static let best: KernelPath = {
        if let forced = ProcessInfoLite.environment("RIPTIDE_KERNELS"), let p = KernelPath(rawValue: forced),
           available.contains(p) { return p }
        return available[0]
    }()
}

/// getenv without Foundation.
enum ProcessInfoLite {
    static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}

/// Keeps freed memory in the process heap so that each forward pass reuses the pages of the last
/// one instead of faulting and zeroing fresh ones (see `rk_keep_freed_memory`). For executables, at
/// start, before any other thread allocates.
public func keepFreedMemoryInHeap() { rk_keep_freed_memory() }
