import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The client's own cost: process CPU time (user + sys) over a run. A single-core closed-loop
/// client saturates when CPU/wall → 1, so completed / cpu-seconds is the request rate it can
/// sustain on one core; report both so a run can show it was not client-bound.
public struct ClientOverhead: Codable, Sendable {
    public var cpuSeconds: Double
    public var wallSeconds: Double
    public var requests: Int
    public var chunks: Int
    /// Fraction of one core the client used.
    public var cpuUtilization: Double { wallSeconds > 0 ? cpuSeconds / wallSeconds : 0 }
    /// Requests per second the client could issue on one core at this request shape.
    public var sustainableRequestRate: Double { cpuSeconds > 0 ? Double(requests) / cpuSeconds : .infinity }
    /// Client CPU time per streamed chunk, µs.
    public var cpuMicrosPerChunk: Double { chunks > 0 ? cpuSeconds * 1e6 / Double(chunks) : 0 }

    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }
}
