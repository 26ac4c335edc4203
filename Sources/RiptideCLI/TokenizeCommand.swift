import ArgumentParser
import Foundation
import RiptideTokenizer

/// `riptide tokenize`: text → comma-separated ids, or ids → text with --decode.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text to token ids (comma-separated), or decode ids to text.",
        discussion: "Added/special tokens written in TEXT (e.g. <｜User｜>) become their ids. No BOS is added.")

    @Option(help: "Path to a tokenizer.json (default: the bundled DeepSeek-V4 tokenizer).")
    var tokenizer: String?

    @Flag(help: "Decode: TEXT is a list of ids such as \"1,2,3\"; prints the text.")
    var decode = false

    @Argument(help: "Text to encode, or comma-separated ids with --decode.")
    var text: String

    func run() throws {
        let tok = try loadTokenizer(tokenizer)
        if decode {
            let ids = try parseIds(text)
            print(tok.decode(ids))
        } else {
            print(tok.encode(text).map(String.init).joined(separator: ","))
        }
    }

    private func parseIds(_ s: String) throws -> [Int] {
        try s.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map { field in
            guard let id = Int(field) else { throw ValidationError("not a token id: '\(field)'") }
            return id
        }
    }
}

/// The tokenizer at `path`, or the bundled one. Load errors surface as a one-line message that
/// names the file (ArgumentParser prints "Error: …" and exits non-zero).
func loadTokenizer(_ path: String?) throws -> Tokenizer {
    guard let path else { return try Tokenizer.bundled() }
    return try Tokenizer(contentsOf: URL(fileURLWithPath: path))
}

/// The model directory's tokenizer.json, or the bundled one when it has none.
func modelTokenizer(_ directory: String) throws -> Tokenizer {
    let url = URL(fileURLWithPath: directory).appendingPathComponent("tokenizer.json")
    guard FileManager.default.fileExists(atPath: url.path) else { return try Tokenizer.bundled() }
    do { return try Tokenizer(contentsOf: url) } catch { throw CLIError("\(url.path): \(error)") }
}
