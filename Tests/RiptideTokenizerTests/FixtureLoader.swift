import Foundation
import RiptideTokenizer

/// One tokenizer for the whole test run (loading parses a 6 MB JSON file).
enum Shared {
    static let tokenizer: Result<Tokenizer, any Error> = Result { try Tokenizer.bundled() }
    static func get() throws -> Tokenizer { try tokenizer.get() }
}

/// Reads a JSON-lines fixture from the test bundle's Fixtures folder.
func loadJSONLines(_ name: String) throws -> [[String: Any]] {
    guard let url = Bundle.module.url(forResource: name, withExtension: "jsonl", subdirectory: "Fixtures") else {
        throw TokenizerError(.unreadable, path: "Fixtures/\(name).jsonl", "missing from test bundle")
    }
    return try loadJSONLines(at: url)
}

func loadJSONLines(at url: URL) throws -> [[String: Any]] {
    let data = try Data(contentsOf: url)
    var rows: [[String: Any]] = []
    for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
        guard let row = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw TokenizerError(.invalidFormat, path: url.path, "line \(rows.count + 1) is not an object")
        }
        rows.append(row)
    }
    return rows
}

func ints(_ value: Any?) -> [Int] { (value as? [Any])?.compactMap { $0 as? Int } ?? [] }

/// Escapes control and non-ASCII characters so failure messages show exactly what differed.
func visible(_ s: String) -> String {
    s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
}
