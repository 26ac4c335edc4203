import Foundation

/// One benchmark point on the throughput-vs-interactivity plane.
public struct FrontierPoint: Codable, Sendable, Equatable {
    /// Interactivity, tok/s/user (`median_intvty`).
    public var x: Double
    /// Throughput per device, tok/s (`tput_per_gpu`, input + output).
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// The InferenceX roofline (inferencex-method.md §1): the upper-right non-dominated set of a pooled
/// group, interpolated with a monotone cubic Hermite spline (Steffen slopes, d3 `slope2` ends) —
/// the same curve `d3.curveMonotoneX` draws, so table values sit exactly on the chart's line.
public struct Frontier: Sendable, Equatable {
    /// Front points, x strictly increasing, y strictly decreasing.
    public let points: [FrontierPoint]
    /// Hermite tangent dy/dx at each front point.
    public let slopes: [Double]

    public init(pooling raw: [FrontierPoint]) {
        let front = Frontier.paretoFront(raw)
        points = front
        slopes = Frontier.monotoneSlopes(front)
    }

    /// Stack walk of `paretoFrontUpperLeft`. Points with x ≤ 0 or non-finite values are not eligible
    /// (the dashboard excludes them; a 0 interactivity means a broken TPOT).
    public static func paretoFront(_ raw: [FrontierPoint]) -> [FrontierPoint] {
        let eligible = raw.filter { $0.x.isFinite && $0.y.isFinite && $0.x > 0 }
        let sorted = eligible.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y > $1.y }
        var stack: [FrontierPoint] = []
        for p in sorted {
            if let top = stack.last, top.x == p.x {
                if p.y > top.y { stack[stack.count - 1] = p }
                continue
            }
            while let top = stack.last, top.y <= p.y { stack.removeLast() }
            stack.append(p)
        }
        return stack
    }

    /// Steffen (1990) interior slopes with d3's three-point end slopes.
    public static func monotoneSlopes(_ pts: [FrontierPoint]) -> [Double] {
        let n = pts.count
        if n < 2 { return Array(repeating: 0, count: n) }
        var h = [Double](), s = [Double]()
        for i in 0..<(n - 1) {
            let w = pts[i + 1].x - pts[i].x
            h.append(w)
            s.append(w == 0 ? 0 : (pts[i + 1].y - pts[i].y) / w)
        }
        // Two points: the end formulas solve to the secant on both ends (a straight line).
        if n == 2 { return [s[0], s[0]] }
        func sign(_ v: Double) -> Double { v < 0 ? -1 : 1 }
        var m = [Double](repeating: 0, count: n)
        for i in 1..<(n - 1) {
            let (s0, s1, h0, h1) = (s[i - 1], s[i], h[i - 1], h[i])
            let p = (s0 * h1 + s1 * h0) / (h0 + h1)
            let v = (sign(s0) + sign(s1)) * min(abs(s0), abs(s1), 0.5 * abs(p))
            m[i] = v.isNaN ? 0 : v
        }
        m[0] = (3 * s[0] - m[1]) / 2
        m[n - 1] = (3 * s[n - 2] - m[n - 2]) / 2
        return m
    }

    /// Throughput at interactivity `x`; nil ("unreachable") outside the front's [min x, max x].
    /// The result is clamped to the front's [min y, max y], as the calculator and blog helper do.
    public func value(at x: Double) -> Double? {
        guard let first = points.first, let last = points.last, x.isFinite else { return nil }
        if points.count == 1 { return abs(x - first.x) <= 1e-6 ? first.y : nil }
        if x < first.x || x > last.x { return nil }
        // Binary search for the bracket [lo, lo+1] containing x.
        var lo = 0, hi = points.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if points[mid].x <= x { lo = mid } else { hi = mid }
        }
        let a = points[lo], b = points[hi]
        let h = b.x - a.x
        let t = (x - a.x) / h
        let t2 = t * t, t3 = t2 * t
        let h00 = 2 * t3 - 3 * t2 + 1
        let h10 = t3 - 2 * t2 + t
        let h01 = -2 * t3 + 3 * t2
        let h11 = t3 - t2
        let y = h00 * a.y + h10 * h * slopes[lo] + h01 * b.y + h11 * h * slopes[hi]
        let ys = points.map(\.y)
        return min(max(y, ys.min()!), ys.max()!)
    }

    /// Cubic Bézier control points of segment i (d3's curveMonotoneX construction), for drawing.
    public func bezierControls(segment i: Int) -> (FrontierPoint, FrontierPoint) {
        let a = points[i], b = points[i + 1]
        let d = (b.x - a.x) / 3
        return (FrontierPoint(x: a.x + d, y: a.y + d * slopes[i]),
                FrontierPoint(x: b.x - d, y: b.y - d * slopes[i + 1]))
    }
}
