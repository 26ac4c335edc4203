import CRiptideKernels
#if canImport(Glibc)
import Glibc
#endif

/// A persistent pool of worker threads (spin ~50–100 µs, then park on a futex); the calling thread
/// works too. No thread is created per call. One job runs at a time: a call made while the pool is
/// busy (from another thread, or nested inside a task) runs its tasks inline on the caller.
public final class WorkerPool: @unchecked Sendable {
    let raw: OpaquePointer
    /// Threads including the caller.
    public let threads: Int

    public init(threads: Int) {
        raw = rk_pool_create(Int32(max(1, threads)))
        self.threads = Int(rk_pool_threads(raw))
    }

    deinit { rk_pool_destroy(raw) }

    /// `RIPTIDE_THREADS`, else the number of online CPUs.
    public static let shared = WorkerPool(threads: {
        if let s = ProcessInfoLite.environment("RIPTIDE_THREADS"), let n = Int(s), n > 0 { return n }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }())

    /// Runs `body(task, worker)` for every task in 0..<tasks, spread over the pool. `worker` is in
    /// 0..<threads, or −1 when the tasks ran inline (pool busy); use it to pick per-worker scratch.
    public func parallelFor(_ tasks: Int, _ body: (Int, Int) -> Void) {
        guard tasks > 0 else { return }
        withoutActuallyEscaping(body) { escaping in
            var closure = escaping
            withUnsafeMutablePointer(to: &closure) { ctx in
                rk_pool_run(raw, Int32(tasks), { ctx, task, worker in
                    ctx!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(Int(task), Int(worker))
                }, ctx)
            }
        }
    }
}
