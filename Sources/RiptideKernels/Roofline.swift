import CRiptideKernels
#if canImport(Glibc)
import Glibc
#endif

/// This machine's measured limits (`riptide roofline`): medians over `repeats` runs.
public struct Roofline: Codable, Sendable {
    public var threads: Int
    public var readGBps1T: Double          // DRAM read stream, 1 thread (GB = 1e9 bytes), median
    public var readGBpsAll: Double         // all threads, median
    public var readGBpsAllBest: Double     // all threads, best run: the limit the kernels' %read uses
    public var fmaGflops1T: Double         // fp32 FMA peak (FLOP = mul + add counted as 2)
    public var fmaGflopsAll: Double
    public var bf16DotGflops1T: Double?    // vdpbf16ps peak (2 FLOPs per bf16 product); nil without AVX-512 BF16
    public var bf16DotGflopsAll: Double?
    public var bufferMiB: Int
    public var repeats: Int
}

/// Monotonic seconds.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

public func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// Sink for probe checksums so the optimizer keeps the work.
nonisolated(unsafe) var probeSink = 0.0

public enum RooflineProbe {
    /// Read bandwidth over a `mib` MiB buffer (much larger than L3), 1 thread and all threads.
    public static func readBandwidth(mib: Int, repeats: Int, pool: WorkerPool) -> (one: Double, all: Double, allBest: Double) {
        let count = mib << 18                                      // floats
        let buf = UnsafeMutablePointer<Float>(OpaquePointer(UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)))
        defer { UnsafeMutableRawPointer(buf).deallocate() }
        buf.initialize(repeating: 1, count: count)                 // fault the pages in
        let bytes = Double(count * 4)
        var one: [Double] = [], all: [Double] = []
        for _ in 0..<repeats {
            var t = monotonicSeconds()
            probeSink += read(buf, count)
            one.append(bytes / (monotonicSeconds() - t) / 1e9)
            let parts = pool.threads, per = count / parts / 32 * 32
            t = monotonicSeconds()
            pool.parallelFor(parts) { i, _ in
                let n = i == parts - 1 ? count - i * per : per
                let s = read(buf + i * per, n)
                if s == -1 { probeSink += s }
            }
            all.append(bytes / (monotonicSeconds() - t) / 1e9)
        }
        return (median(one), median(all), all.max()!)
    }

    /// zmm loads where available (as the spec's bw.c), else ymm.
    static func read(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
        KernelPath.available.contains(.avx512) ? rk_probe_read512(p, n, 1) : rk_probe_read(p, n, 1)
    }

    /// Runs `probe(iterations)` on 1 thread and on every thread; returns GFLOP/s (median).
    static func compute(repeats: Int, pool: WorkerPool, flopsPerIteration: Double,
                        _ probe: @escaping (Int) -> Double) -> (one: Double, all: Double) {
        let iters = 40_000_000   // ~0.1 s per run
        var one: [Double] = [], all: [Double] = []
        _ = probe(iters / 10)                                      // warm up (clock ramp)
        for _ in 0..<repeats {
            var t = monotonicSeconds()
            probeSink += probe(iters)
            one.append(Double(iters) * flopsPerIteration / (monotonicSeconds() - t) / 1e9)
            t = monotonicSeconds()
            pool.parallelFor(pool.threads) { _, _ in
                let s = probe(iters)
                if s == -1 { probeSink += s }
            }
            all.append(Double(iters * pool.threads) * flopsPerIteration / (monotonicSeconds() - t) / 1e9)
        }
        return (median(one), median(all))
    }

    /// All threads' product peak of the linears on `path`, GFLOP/s: vdpbf16ps on AVX-512 (the
    /// kernels expand weights to bf16), fp32 FMA otherwise.
    public static func productPeak(path: KernelPath = .best, repeats: Int = 3, pool: WorkerPool = .shared) -> Double {
        if path == .avx512 {
            return compute(repeats: repeats, pool: pool, flopsPerIteration: 12 * 32 * 2) { rk_probe_dot_bf16($0) }.all
        }
        return compute(repeats: repeats, pool: pool, flopsPerIteration: 12 * 8 * 2) { rk_probe_fma_f32($0) }.all
    }

    public static func measure(mib: Int = 512, repeats: Int = 5, pool: WorkerPool = .shared) -> Roofline {
        let bw = readBandwidth(mib: mib, repeats: repeats, pool: pool)
        let fma = compute(repeats: repeats, pool: pool, flopsPerIteration: 12 * 8 * 2) { rk_probe_fma_f32($0) }
        var bf16: (one: Double, all: Double)?
        if KernelPath.available.contains(.avx512) {
            bf16 = compute(repeats: repeats, pool: pool, flopsPerIteration: 12 * 32 * 2) { rk_probe_dot_bf16($0) }
        }
        return Roofline(threads: pool.threads, readGBps1T: bw.one, readGBpsAll: bw.all, readGBpsAllBest: bw.allBest, fmaGflops1T: fma.one,
                        fmaGflopsAll: fma.all, bf16DotGflops1T: bf16?.one, bf16DotGflopsAll: bf16?.all,
                        bufferMiB: mib, repeats: repeats)
    }
}
