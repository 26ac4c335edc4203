import Foundation

/// A runtime failure reported as one "Error: …" line and exit status 1, without usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func leftPad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

func humanBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n), u = 0
    while v >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.2f %@", v, units[u])
}

/// Seconds since `start`, from a monotonic clock.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
