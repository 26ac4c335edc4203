import Foundation

/// Throughput per device vs interactivity, one colour per group: the points, plus the monotone
/// frontier curve (the same Hermite spline the iso table evaluates). Hand-written SVG so it needs
/// no JavaScript and renders identically in browsers and CI screenshots.
///
/// Structure (stable, checked by tools/report/render_check.py): one `<path class="frontier">` per
/// group and no other `<path>`; `<g class="axis x-axis">`, `<g class="axis y-axis">`, and a
/// `<g class="legend">` with one `<g class="legend-item">` per group.
public struct SVGChart: Sendable {
    public var width = 900.0
    public var height = 540.0
    public var logY = false
    public var title = "Throughput per device vs interactivity"
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                 "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
    let margin = (top: 48.0, right: 220.0, bottom: 64.0, left: 84.0)

    public init(logY: Bool = false) { self.logY = logY }

    public func render(_ g: GroupedFrontiers) -> String {
        let pts = g.groups.flatMap { name in
            (g.rows[name] ?? []).compactMap { r -> FrontierPoint? in
                guard let x = r.medianInteractivity, let y = r.tputPerGPU, x.isFinite, y.isFinite else { return nil }
                return FrontierPoint(x: x, y: y)
            }
        }
        let maxX = max(pts.map(\.x).max() ?? 1, 1e-9)
        let ys = pts.map(\.y).filter { !logY || $0 > 0 }
        let (minY, maxY) = (ys.min() ?? 0, max(ys.max() ?? 1, 1e-9))
        let plotW = width - margin.left - margin.right, plotH = height - margin.top - margin.bottom
        // Dashboard domains (method §4): x = [0, 1.05·max]; y = [max(0, min − 5% range), 1.05·max].
        let xDomain = (0.0, maxX * 1.05)
        let yDomain = logY ? (max(minY * 0.95, 1e-9), maxY * 1.05)
                           : (max(0, minY - 0.05 * (maxY - minY)), maxY * 1.05)
        func sx(_ x: Double) -> Double { margin.left + (x - xDomain.0) / (xDomain.1 - xDomain.0) * plotW }
        func sy(_ y: Double) -> Double {
            let f = logY ? (log10(max(y, 1e-12)) - log10(yDomain.0)) / (log10(yDomain.1) - log10(yDomain.0))
                         : (y - yDomain.0) / max(yDomain.1 - yDomain.0, 1e-12)
            return margin.top + (1 - f) * plotH
        }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="sans-serif" font-size="12">
        <rect class="background" x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#ffffff"/>
        <text class="title" x="\(f(margin.left))" y="28" font-size="16" font-weight="bold">\(esc(title))</text>

        """
        // Axes with gridlines and ticks.
        s += "<g class=\"axis x-axis\">\n"
        s += line(margin.left, margin.top + plotH, margin.left + plotW, margin.top + plotH, "#333")
        for t in Self.linearTicks(xDomain.0, xDomain.1) {
            let x = sx(t)
            s += line(x, margin.top, x, margin.top + plotH, "#eee")
            s += line(x, margin.top + plotH, x, margin.top + plotH + 5, "#333")
            s += "<text x=\"\(f(x))\" y=\"\(f(margin.top + plotH + 18))\" text-anchor=\"middle\">\(Self.tickLabel(t))</text>\n"
        }
        s += "<text class=\"axis-label\" x=\"\(f(margin.left + plotW / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\" font-size=\"13\">Interactivity (tok/s/user)</text>\n</g>\n"
        s += "<g class=\"axis y-axis\">\n"
        s += line(margin.left, margin.top, margin.left, margin.top + plotH, "#333")
        for t in logY ? Self.logTicks(yDomain.0, yDomain.1) : Self.linearTicks(yDomain.0, yDomain.1) {
            let y = sy(t)
            s += line(margin.left, y, margin.left + plotW, y, "#eee")
            s += line(margin.left - 5, y, margin.left, y, "#333")
            s += "<text x=\"\(f(margin.left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.tickLabel(t))</text>\n"
        }
        let yLabel = "Throughput per device (tok/s)" + (logY ? ", log scale" : "")
        s += "<text class=\"axis-label\" transform=\"translate(20,\(f(margin.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(yLabel)</text>\n</g>\n"

        // Curves and points, one group each.
        for (i, name) in g.groups.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            s += "<g class=\"series\" data-group=\"\(esc(name))\">\n"
            s += "<path class=\"frontier\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" d=\"\(curve(g.frontiers[name], sx, sy))\"/>\n"
            let front = Set((g.frontiers[name]?.points ?? []).map { "\($0.x),\($0.y)" })
            for r in g.rows[name] ?? [] {
                guard let x = r.medianInteractivity, let y = r.tputPerGPU, x.isFinite, y.isFinite, !logY || y > 0 else { continue }
                let onFront = front.contains("\(x),\(y)")
                s += "<circle class=\"point\" cx=\"\(f(sx(x)))\" cy=\"\(f(sy(y)))\" r=\"\(onFront ? 4.5 : 3)\" fill=\"\(onFront ? color : "#fff")\" stroke=\"\(color)\" stroke-width=\"1.5\"><title>\(esc(name)) conc \(r.conc): \(String(format: "%.1f", y)) tok/s @ \(String(format: "%.2f", x)) tok/s/user</title></circle>\n"
            }
            s += "</g>\n"
        }
        // Legend to the right of the plot.
        s += "<g class=\"legend\">\n"
        let lx = margin.left + plotW + 20
        for (i, name) in g.groups.enumerated() {
            let y = margin.top + 10 + Double(i) * 22
            let color = Self.palette[i % Self.palette.count]
            s += "<g class=\"legend-item\">" + line(lx, y, lx + 24, y, color, width: 3)
            s += "<circle cx=\"\(f(lx + 12))\" cy=\"\(f(y))\" r=\"4\" fill=\"\(color)\"/>"
            s += "<text x=\"\(f(lx + 32))\" y=\"\(f(y + 4))\">\(esc(Self.shorten(name)))</text></g>\n"
        }
        s += "</g>\n</svg>\n"
        return s
    }

    /// d3.curveMonotoneX as Bézier segments on a linear axis; sampled polyline on a log axis
    /// (where the Bézier construction is no longer exact).
    func curve(_ fr: Frontier?, _ sx: (Double) -> Double, _ sy: (Double) -> Double) -> String {
        guard let fr, let first = fr.points.first else { return "M0,0" }
        var d = "M\(f(sx(first.x))),\(f(sy(first.y)))"
        if fr.points.count == 1 { return d + "h0.01" }  // a dot: round caps would draw it
        for i in 0..<(fr.points.count - 1) {
            let b = fr.points[i + 1]
            if logY {
                let a = fr.points[i]
                for k in 1...24 {
                    let x = a.x + (b.x - a.x) * Double(k) / 24
                    d += "L\(f(sx(x))),\(f(sy(fr.value(at: min(x, b.x)) ?? b.y)))"
                }
            } else {
                let (c1, c2) = fr.bezierControls(segment: i)
                d += "C\(f(sx(c1.x))),\(f(sy(c1.y))) \(f(sx(c2.x))),\(f(sy(c2.y))) \(f(sx(b.x))),\(f(sy(b.y)))"
            }
        }
        return d
    }

    static func linearTicks(_ lo: Double, _ hi: Double, count: Int = 8) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        var t = ceil(lo / step) * step, out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        var out: [Double] = []
        let decades = Int(floor(log10(lo)))...Int(ceil(log10(hi)))
        let mults: [Double] = decades.count <= 3 ? [1, 2, 5] : [1]
        for e in decades { for m in mults { let v = m * pow(10, Double(e)); if v >= lo && v <= hi { out.append(v) } } }
        return out
    }

    static func tickLabel(_ v: Double) -> String {
        if abs(v) >= 10_000 { return String(format: "%.0fk", v / 1000) }
        return v == v.rounded() ? String(Int(v)) : String(format: "%g", (v * 1000).rounded() / 1000)
    }

    static func shorten(_ s: String) -> String { s.count > 28 ? String(s.prefix(27)) + "…" : s }
    func f(_ v: Double) -> String { String(format: "%.2f", v) }
    func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ c: String, width: Double = 1) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(c)\" stroke-width=\"\(width)\"/>\n"
    }
}

func esc(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
