import Foundation
import Testing
import RiptideTokenizer

/// Token ids must equal Hugging Face `tokenizers` for every fixture string
/// (Fixtures/tokenizer-parity.jsonl, made by tools/tokenizer/make_parity_fixture.py).
@Test func encodeMatchesHuggingFace() throws {
    let tok = try Shared.get()
    // RIPTIDE_TOKENIZER_PARITY=/path/to/extra.jsonl checks a larger, uncommitted fixture instead.
    let rows: [[String: Any]]
    if let extra = ProcessInfo.processInfo.environment["RIPTIDE_TOKENIZER_PARITY"] {
        rows = try loadJSONLines(at: URL(fileURLWithPath: extra))
    } else {
        rows = try loadJSONLines("tokenizer-parity")
    }
    #expect(rows.count >= 2000)
    var mismatches: [String] = []
    var roundTripFailures: [String] = []
    for (i, row) in rows.enumerated() {
        let text = row["text"] as? String ?? ""
        let expected = ints(row["ids"])
        let got = tok.encode(text)
        if got != expected {
            let at = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
            mismatches.append("""
                line \(i + 1): text "\(visible(text))"
                  first difference at token \(at): expected \(expected[at...].prefix(8)) \
                (\(expected[at...].prefix(8).map { visible(tok.token(forId: $0) ?? "?") })), \
                got \(got[at...].prefix(8)) (\(got[at...].prefix(8).map { visible(tok.token(forId: $0) ?? "?") }))
                """)
        }
        if tok.decode(expected) != text {
            roundTripFailures.append("line \(i + 1): \"\(visible(text))\" decoded as \"\(visible(tok.decode(expected)))\"")
        }
    }
    let matched = rows.count - mismatches.count
    print("tokenizer parity: \(matched)/\(rows.count) strings identical to HF tokenizers")
    #expect(mismatches.isEmpty, "\(matched)/\(rows.count) identical; first mismatches:\n\(mismatches.prefix(5).joined(separator: "\n"))")
    #expect(roundTripFailures.isEmpty, "decode(ids) != text for \(roundTripFailures.count):\n\(roundTripFailures.prefix(5).joined(separator: "\n"))")
}

/// decode of arbitrary id runs (often invalid UTF-8) equals HF decode(skip_special_tokens=False).
@Test func decodeMatchesHuggingFace() throws {
    let tok = try Shared.get()
    let rows = try loadJSONLines("tokenizer-decode")
    #expect(rows.count >= 100)
    var failures: [String] = []
    for (i, row) in rows.enumerated() {
        let ids = ints(row["ids"]), expected = row["text"] as? String ?? ""
        let got = tok.decode(ids)
        if got != expected { failures.append("line \(i + 1) \(ids): expected \"\(visible(expected))\" got \"\(visible(got))\"") }
    }
    #expect(failures.isEmpty, "\(failures.count)/\(rows.count) differ:\n\(failures.prefix(5).joined(separator: "\n"))")
}

/// The chat-template vectors shipped with the package (prompts with BOS and role tokens).
@Test func chatVectorsEncode() throws {
    let tok = try Shared.get()
    let rows = try loadJSONLines("dsv4-chat-vectors")
    #expect(!rows.isEmpty)
    for row in rows {
        let prompt = row["prompt"] as? String ?? ""
        #expect(tok.encode(prompt) == ints(row["ids"]), "\(row["name"] ?? "?")")
    }
}
