import ArgumentParser
import Foundation
import RiptideBench

/// `riptide report`: Pareto frontiers, iso-interactivity tables and charts (method §1).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Frontier + iso-interactivity report from the store, JSON rows, InferenceX agg rows or a CSV.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv, html, svg }

    @Argument(help: "Inputs: *.sqlite store, our JSON rows, InferenceX agg_*.json, or CSV (group,conc,tput_per_gpu,median_intvty). Default: the store.")
    var inputs: [String] = []
    @Option(help: "Comma-separated interactivity targets (tok/s/user); default every 10 up to the widest front.")
    var iso: String?
    @Option(help: "Group rows by date, label or hardware (CSV rows carry their own group).")
    var groupBy: String = "label"
    @Option(help: "table, json, csv, html or svg.") var format: Format = .table
    @Option(help: "Write here instead of stdout.") var out: String?
    @Option(help: "SQLite store read when no inputs are given, and written by --import.") var store: String = "riptide-bench.sqlite"
    @Flag(help: "Append the rows of the given inputs to the store (e.g. to import InferenceX agg rows).")
    var `import` = false
    @Option(help: "Keep only rows with this ISL.") var isl: Int?
    @Option(help: "Keep only rows with this OSL.") var osl: Int?
    @Flag(help: "Log-scale y axis in charts.") var logY = false

    func run() async throws {
        guard let groupBy = GroupBy(rawValue: groupBy) else {
            throw ValidationError("--group-by must be one of date, label, hardware")
        }
        var rows: [ResultRow] = []
        for path in inputs.isEmpty ? [store] : inputs {
            do { rows += try ReportInputs.load(path: path) } catch {
                throw ValidationError("\(path): \(error)")
            }
        }
        if let isl { rows = rows.filter { $0.isl == isl } }
        if let osl { rows = rows.filter { $0.osl == osl } }
        if `import` {
            let n = try ResultStore(path: store).append(rows)
            FileHandle.standardError.write(Data("imported \(n) rows into \(store)\n".utf8))
        }
        let grouped = GroupedFrontiers(rows: rows, by: groupBy)
        let targets = try iso.map { s in
            try s.split(separator: ",").map { t -> Double in
                guard let v = Double(t.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("bad --iso value '\(t)'") }
                return v
            }
        } ?? grouped.defaultTargets()
        let table = IsoTable(grouped, targets: targets)
        let text: String
        switch format {
        case .table: text = table.text()
        case .json: text = try table.json() + "\n"
        case .csv: text = table.csv()
        case .svg: text = SVGChart(logY: logY).render(grouped)
        case .html: text = HTMLReport(chart: SVGChart(logY: logY)).render(grouped, table: table)
        }
        if let out {
            try Data(text.utf8).write(to: URL(fileURLWithPath: out))
        } else {
            print(text, terminator: "")
        }
    }
}
