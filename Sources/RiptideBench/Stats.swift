import Foundation

/// Summary statistics with numpy's conventions (population std, linear-interpolated percentiles),
/// so our numbers line up with InferenceX's `benchmark_serving.py` output.
public struct Summary: Codable, Sendable, Equatable {
    public var mean: Double
    public var median: Double
    public var std: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double

    public static let zero = Summary(mean: 0, median: 0, std: 0, p90: 0, p99: 0, p999: 0)

    public init(mean: Double, median: Double, std: Double, p90: Double, p99: Double, p999: Double) {
        self.mean = mean; self.median = median; self.std = std
        self.p90 = p90; self.p99 = p99; self.p999 = p999
    }

    /// numpy returns NaN/warns on empty input; we report zeros, as InferenceX does (`np.mean(x or 0)`).
    public init(_ values: [Double]) {
        guard !values.isEmpty else { self = .zero; return }
        let sorted = values.sorted()
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        let variance = sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(sorted.count)
        self.init(
            mean: mean,
            median: Stats.percentile(sorted: sorted, 50),
            std: variance.squareRoot(),
            p90: Stats.percentile(sorted: sorted, 90),
            p99: Stats.percentile(sorted: sorted, 99),
            p999: Stats.percentile(sorted: sorted, 99.9))
    }

    /// The same summary with every field multiplied (ms → s conversions).
    public func scaled(by k: Double) -> Summary {
        Summary(mean: mean * k, median: median * k, std: std * k, p90: p90 * k, p99: p99 * k, p999: p999 * k)
    }
}

public enum Stats {
    /// numpy.percentile(method="linear"): position (n-1)·q/100 between the two nearest order statistics.
    public static func percentile(sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty)
        let pos = Double(sorted.count - 1) * q / 100
        let lo = Int(pos.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        let frac = pos - Double(lo)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac
    }
}
