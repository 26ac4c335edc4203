import Foundation
import GRDB

/// Local history of benchmark rows (SQLite via GRDB). One row per
/// (label, date, hardware, framework, isl, osl, conc): re-running a point the same day replaces it,
/// so the store always holds the latest measurement of every point that can feed a frontier.
public struct ResultStore: Sendable {
    let dbQueue: DatabaseQueue

    public init(path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dbQueue = try DatabaseQueue(path: path)
        try Self.migrator.migrate(dbQueue)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "bench_result") { t in
                t.column("label", .text).notNull()
                t.column("date", .text).notNull()
                t.column("hardware", .text).notNull()
                t.column("framework", .text).notNull()
                t.column("isl", .integer).notNull()
                t.column("osl", .integer).notNull()
                t.column("conc", .integer).notNull()
                // Denormalised for SQL queries; `row` holds every field.
                t.column("tput_per_gpu", .double)
                t.column("median_intvty", .double)
                t.column("row", .text).notNull()
                t.primaryKey(["label", "date", "hardware", "framework", "isl", "osl", "conc"])
            }
        }
        return m
    }

    /// Insert or replace by key. Returns the number of rows written.
    @discardableResult
    public func append(_ rows: [ResultRow]) throws -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try dbQueue.write { db in
            for r in rows {
                let json = String(decoding: try encoder.encode(r), as: UTF8.self)
                try db.execute(sql: """
                    INSERT OR REPLACE INTO bench_result
                    (label, date, hardware, framework, isl, osl, conc, tput_per_gpu, median_intvty, row)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [r.label, r.date, r.hardware, r.framework, r.isl, r.osl, r.conc,
                                     r.tputPerGPU, r.medianInteractivity, json])
            }
        }
        return rows.count
    }

    public func allRows() throws -> [ResultRow] {
        let texts = try dbQueue.read { db in
            try String.fetchAll(db, sql: "SELECT row FROM bench_result ORDER BY date, label, hardware, framework, isl, osl, conc")
        }
        let decoder = JSONDecoder()
        return try texts.map { try decoder.decode(ResultRow.self, from: Data($0.utf8)) }
    }

    public func count() throws -> Int {
        try dbQueue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bench_result") ?? 0 }
    }
}
