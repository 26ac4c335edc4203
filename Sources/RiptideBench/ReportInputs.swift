import Foundation

/// Loads report inputs: the SQLite store, our JSON rows, InferenceX `agg_*.json` (one object) or
/// `agg_bmk.json` (an array), and CSVs with header `group,conc,tput_per_gpu,median_intvty`.
public enum ReportInputs {
    public static func load(path: String) throws -> [ResultRow] {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        switch ext {
        case "sqlite", "sqlite3", "db":
            return try ResultStore(path: path).allRows()
        case "csv":
            return try csvRows(String(contentsOfFile: path, encoding: .utf8))
        default:
            return try jsonRows(Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    public static func jsonRows(_ data: Data) throws -> [ResultRow] {
        let decoder = JSONDecoder()
        if let rows = try? decoder.decode([ResultRow].self, from: data) { return rows }
        if let row = try? decoder.decode(ResultRow.self, from: data) { return [row] }
        struct Wrapped: Decodable { var rows: [ResultRow] }
        if let w = try? decoder.decode(Wrapped.self, from: data) { return w.rows }
        throw BenchError.input("not a result row, a row array or an InferenceX agg file")
    }

    /// Minimal RFC-4180 reader (quoted fields, doubled quotes); the columns may come in any order.
    public static func csvRows(_ text: String) throws -> [ResultRow] {
        let records = parseCSV(text).filter { !($0.count == 1 && $0[0].isEmpty) }
        guard let header = records.first?.map({ $0.trimmingCharacters(in: .whitespaces) }) else { return [] }
        let need = ["group", "conc", "tput_per_gpu", "median_intvty"]
        let idx = try need.map { name -> Int in
            guard let i = header.firstIndex(of: name) else { throw BenchError.input("CSV lacks column \(name)") }
            return i
        }
        return try records.dropFirst().enumerated().map { n, rec in
            func field(_ k: Int) throws -> String {
                guard idx[k] < rec.count else { throw BenchError.input("CSV line \(n + 2): too few fields") }
                return rec[idx[k]].trimmingCharacters(in: .whitespaces)
            }
            let g = try field(0)
            guard let conc = Double(try field(1)), let y = Double(try field(2)), let x = Double(try field(3)) else {
                throw BenchError.input("CSV line \(n + 2): bad number")
            }
            return ResultRow(label: g, date: "", hardware: g, framework: "", isl: 0, osl: 0, conc: Int(conc),
                             group: g, values: ["tput_per_gpu": y, "median_intvty": x])
        }
    }

    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var inQuotes = false
        var it = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        while let c = pending ?? it.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let n = it.next() { if n == "\"" { field.unicodeScalars.append(c) } else { inQuotes = false; pending = n } }
                    else { inQuotes = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" { inQuotes = true }
            else if c == "," { fields.append(field); field = "" }
            else if c == "\n" { fields.append(field); records.append(fields); fields = []; field = "" }
            else if c != "\r" { field.unicodeScalars.append(c) }
        }
        if !field.isEmpty || !fields.isEmpty { fields.append(field); records.append(fields) }
        return records
    }
}
