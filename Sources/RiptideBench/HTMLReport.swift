import Foundation

/// A self-contained HTML report: the chart, the iso-interactivity table and every input point
/// (method §6: publish every point that fed a frontier so the table can be reproduced).
public struct HTMLReport: Sendable {
    public var title = "Riptide serving benchmark"
    public var chart: SVGChart

    public init(chart: SVGChart = SVGChart()) { self.chart = chart }

    public func render(_ g: GroupedFrontiers, table: IsoTable, generated: Date = Date()) -> String {
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
        <style>
        body{font-family:sans-serif;margin:24px;color:#222}
        table{border-collapse:collapse;margin:12px 0 28px}
        th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}
        th:first-child,td:first-child{text-align:left}
        td.unreachable{color:#999;font-style:italic}
        caption{text-align:left;font-weight:bold;padding-bottom:6px}
        </style></head><body>
        <h1>\(esc(title))</h1>
        <p>Generated \(ISO8601DateFormatter().string(from: generated)). Throughput per device counts input + output tokens;
        interactivity is 1000 / median TPOT. Curves are the pooled Pareto front per group (monotone cubic, Steffen slopes);
        table values outside a front's interactivity range are unreachable.</p>
        <div id="chart">
        \(chart.render(g))</div>

        """
        h += "<table id=\"iso\"><caption>Throughput per device (tok/s) at fixed interactivity</caption>\n<tr><th>tok/s/user</th>"
        h += table.groups.map { "<th>\(esc($0))</th>" }.joined()
        if let t = table.ratioTitle { h += "<th>\(esc(t))</th>" }
        h += "</tr>\n"
        for r in table.rows {
            h += "<tr><td>\(IsoTable.num(r.interactivity))</td>"
            for name in table.groups {
                if let v = r.values[name] ?? nil { h += "<td>\(String(format: "%.1f", v))</td>" }
                else { h += "<td class=\"unreachable\">unreachable</td>" }
            }
            if table.ratioTitle != nil { h += "<td>\(r.ratio.map { String(format: "%.2f×", $0) } ?? "–")</td>" }
            h += "</tr>\n"
        }
        h += "</table>\n"
        h += "<table id=\"points\"><caption>All points</caption>\n<tr><th>group</th><th>conc</th><th>tok/s/device</th><th>tok/s/user</th><th>median TTFT (ms)</th><th>median TPOT (ms)</th><th>on front</th></tr>\n"
        for name in g.groups {
            let front = Set((g.frontiers[name]?.points ?? []).map { "\($0.x),\($0.y)" })
            for r in (g.rows[name] ?? []).sorted(by: { $0.conc < $1.conc }) {
                let x = r.medianInteractivity, y = r.tputPerGPU
                let on = x != nil && y != nil && front.contains("\(x!),\(y!)")
                h += "<tr><td>\(esc(name))</td><td>\(r.conc)</td><td>\(fmt(y, "%.1f"))</td><td>\(fmt(x, "%.2f"))</td>"
                h += "<td>\(fmt(r.values["median_ttft"].map { $0 * 1000 }, "%.1f"))</td><td>\(fmt(r.values["median_tpot"].map { $0 * 1000 }, "%.2f"))</td><td>\(on ? "yes" : "")</td></tr>\n"
            }
        }
        h += "</table>\n</body></html>\n"
        return h
    }

    func fmt(_ v: Double?, _ f: String) -> String { v.map { String(format: f, $0) } ?? "" }
}
