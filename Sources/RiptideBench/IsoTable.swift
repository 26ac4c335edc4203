import Foundation

public enum GroupBy: String, CaseIterable, Sendable {
    case date, label, hardware

    public func key(_ row: ResultRow) -> String {
        if let g = row.group { return g }
        switch self {
        case .date: return row.date
        case .label: return row.label
        case .hardware: return row.hardwareKey
        }
    }
}

/// Rows split into groups, each with its pooled frontier (all recipes and concurrencies of a group
/// go into one pool, method §1).
public struct GroupedFrontiers: Sendable {
    public var groups: [String]
    public var rows: [String: [ResultRow]]
    public var frontiers: [String: Frontier]

    public init(rows all: [ResultRow], by groupBy: GroupBy) {
        var order: [String] = [], rows: [String: [ResultRow]] = [:]
        for r in all {
            let k = groupBy.key(r)
            if rows[k] == nil { order.append(k) }
            rows[k, default: []].append(r)
        }
        // Dates read left-to-right in time; other groups keep input order.
        groups = groupBy == .date && all.allSatisfy({ $0.group == nil }) ? order.sorted() : order
        self.rows = rows
        frontiers = rows.mapValues { rs in
            Frontier(pooling: rs.compactMap { r in
                guard let x = r.medianInteractivity, let y = r.tputPerGPU,
                      (r.values["point_failed"] ?? 0) == 0 else { return nil }
                return FrontierPoint(x: x, y: y)
            })
        }
    }

    /// Default targets: every 10 tok/s/user up to the widest front; a finer 1-2-5 step for slow
    /// fronts, a coarser one (at most 20 rows) for very fast ones.
    public func defaultTargets() -> [Double] {
        let maxX = frontiers.values.compactMap { $0.points.last?.x }.max() ?? 0
        guard maxX > 0 else { return [] }
        var step = 10.0
        if maxX < 20 { step = [0.1, 0.2, 0.5, 1, 2, 5].last { maxX / $0 >= 4 } ?? 0.1 }
        if maxX / step > 20 {
            let coarse = (1...12).flatMap { e in [1.0, 2, 5].map { $0 * pow(10, Double(e)) } }
            step = coarse.first { maxX / $0 <= 20 } ?? step
        }
        let count = Int((maxX / step).rounded(.down))
        return (1...max(count, 1)).map { (Double($0) * step * 1e6).rounded() / 1e6 }
    }
}

/// Iso-interactivity table: throughput per device of each group at fixed tok/s/user.
public struct IsoTable: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var interactivity: Double
        /// nil = unreachable (target outside the group's front).
        public var values: [String: Double?]
        /// last group ÷ first group, when both are reachable.
        public var ratio: Double?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(interactivity, forKey: .interactivity)
            try c.encode(values, forKey: .values)
            if let ratio { try c.encode(ratio, forKey: .ratio) } else { try c.encodeNil(forKey: .ratio) }
        }
    }
    public var groups: [String]
    public var rows: [Row]

    public init(groups: [String], rows: [Row]) { self.groups = groups; self.rows = rows }

    public init(_ g: GroupedFrontiers, targets: [Double]) {
        groups = g.groups
        rows = targets.map { x in
            var values: [String: Double?] = [:]
            for name in g.groups { values[name] = .some(g.frontiers[name]?.value(at: x)) }
            var ratio: Double? = nil
            if g.groups.count >= 2, let a = values[g.groups[0]] ?? nil, let b = values[g.groups.last!] ?? nil, a > 0 {
                ratio = b / a
            }
            return Row(interactivity: x, values: values, ratio: ratio)
        }
    }

    public var ratioTitle: String? {
        groups.count >= 2 ? "\(groups.last!) / \(groups[0])" : nil
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    public func csv() -> String {
        func q(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"\(s.replacingOccurrences(of: "\"", with: "\"\""))\"" : s }
        var header = ["interactivity"] + groups.map(q)
        if let t = ratioTitle { header.append(q("ratio " + t)) }
        var lines = [header.joined(separator: ",")]
        for r in rows {
            var cells = [Self.num(r.interactivity)] + groups.map { (r.values[$0] ?? nil).map { String(format: "%.2f", $0) } ?? "" }
            if ratioTitle != nil { cells.append(r.ratio.map { String(format: "%.3f", $0) } ?? "") }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Aligned plain-text table for the terminal.
    public func text() -> String {
        var header = ["tok/s/user"] + groups
        if let t = ratioTitle { header.append("ratio \(t)") }
        var body: [[String]] = rows.map { r in
            var cells = [Self.num(r.interactivity)] + groups.map { (r.values[$0] ?? nil).map { String(format: "%.1f", $0) } ?? "unreachable" }
            if ratioTitle != nil { cells.append(r.ratio.map { String(format: "%.2fx", $0) } ?? "-") }
            return cells
        }
        body.insert(header, at: 0)
        let widths = header.indices.map { i in body.map { $0[i].count }.max() ?? 0 }
        return body.map { cells in
            cells.enumerated().map { i, c in
                i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func num(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(format: "%g", x)
    }
}
