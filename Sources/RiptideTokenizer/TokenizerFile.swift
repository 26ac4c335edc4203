import Foundation

/// The parts of a Hugging Face `tokenizer.json` this implementation uses, read once and checked.
///
/// The pre-tokenizer regexes are implemented as hand-written scanners (see PreTokenizer.swift),
/// so the file must describe exactly the DeepSeek-V4 pipeline; anything else is rejected with an
/// error rather than silently tokenized differently.
struct TokenizerFile {
    struct AddedToken {
        let id: Int
        let content: String
        let normalized: Bool
        let special: Bool
    }

    var vocab: [(String, Int)] = []
    var merges: [(String, String)] = []
    var addedTokens: [AddedToken] = []

    /// Ids index dense tables; anything this large is a corrupt file, not a real vocabulary.
    static let maxId = 1 << 24

    static let expectedSplits = [
        #"\p{N}{1,3}"#,
        "[\u{4E00}-\u{9FA5}\u{3040}-\u{309F}\u{30A0}-\u{30FF}]+",
        ##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\##r\##n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\##r\##n]*|\s*[\##r\##n]+|\s+(?!\S)|\s+"##,
    ]

    init(url: URL) throws {
        let path = url.path
        func bad(_ problem: String) -> TokenizerError { TokenizerError(.invalidFormat, path: path, problem) }
        func unsupported(_ problem: String) -> TokenizerError { TokenizerError(.unsupported, path: path, problem) }

        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "\(error.localizedDescription)" : "no such file"
            throw TokenizerError(.unreadable, path: path, reason)
        }
        let json: JSONValue
        do {
            json = try data.withUnsafeBytes { try JSONReader.parse($0.bindMemory(to: UInt8.self)) }
        } catch {
            throw TokenizerError(.invalidJSON, path: path, "\(error)")
        }
        guard json.object != nil else { throw bad("top level is not a JSON object") }
        let top = json

        // Model: byte-level BPE without byte fallback or subword affixes.
        guard let model = top["model"], model.object != nil else { throw bad("missing \"model\" object") }
        if let type = model["type"]?.string, type != "BPE" {
            throw unsupported("model type \"\(type)\" (only BPE)")
        }
        if model["byte_fallback"]?.bool == true { throw unsupported("model.byte_fallback = true") }
        if model["ignore_merges"]?.bool == true { throw unsupported("model.ignore_merges = true") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = model[key]?.string, !s.isEmpty { throw unsupported("model.\(key) = \"\(s)\"") }
        }
        if let dropout = model["dropout"]?.double, dropout > 0 { throw unsupported("model.dropout") }
        guard let rawVocab = model["vocab"]?.object else { throw bad("missing model.vocab object") }
        vocab.reserveCapacity(rawVocab.underestimatedCount)
        for (token, value) in rawVocab {
            guard let id = value.int, id >= 0, id < Self.maxId else {
                throw bad("model.vocab[\"\(token)\"] is not an integer id in 0..<\(Self.maxId)")
            }
            vocab.append((token, id))
        }
        guard let rawMerges = model["merges"]?.array else { throw bad("missing model.merges array") }
        merges.reserveCapacity(rawMerges.count)
        for (i, entry) in rawMerges.enumerated() {
            if let s = entry.string {  // "left right"
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw bad("model.merges[\(i)] \"\(s)\" is not two tokens separated by one space") }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = entry.array, pair.count == 2, let l = pair[0].string, let r = pair[1].string {
                merges.append((l, r))  // newer ["left", "right"] form
            } else {
                throw bad("model.merges[\(i)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }

        // Added tokens.
        if let rawAdded = top["added_tokens"], !rawAdded.isNull {
            guard let list = rawAdded.array else { throw bad("added_tokens is not an array") }
            for (i, t) in list.enumerated() {
                guard let id = t["id"]?.int, id >= 0, id < Self.maxId, let content = t["content"]?.string, !content.isEmpty else {
                    throw bad("added_tokens[\(i)] needs an integer \"id\" in 0..<\(Self.maxId) and a non-empty \"content\"")
                }
                for flag in ["lstrip", "rstrip", "single_word"] where t[flag]?.bool == true {
                    throw unsupported("added_tokens[\(i)] (\(content)) has \(flag) = true")
                }
                let special = t["special"]?.bool ?? false
                addedTokens.append(AddedToken(id: id, content: content, normalized: t["normalized"]?.bool ?? !special, special: special))
            }
        }

        try Self.checkPipeline(top, unsupported)
    }

    /// Normalizer, pre-tokenizer and decoder must be the DeepSeek-V4 ones.
    private static func checkPipeline(_ root: JSONValue, _ unsupported: (String) -> TokenizerError) throws {
        if let norm = root["normalizer"], !norm.isNull {
            let empty = norm["type"]?.string == "Sequence" && norm["normalizers"]?.array?.isEmpty == true
            guard empty else { throw unsupported("normalizer (only none or an empty Sequence)") }
        }
        guard let pre = root["pre_tokenizer"], pre["type"]?.string == "Sequence",
              let steps = pre["pretokenizers"]?.array, steps.count == 4 else {
            throw unsupported("pre_tokenizer (expected the DeepSeek-V4 Sequence of 3 Splits + ByteLevel)")
        }
        for (i, expected) in expectedSplits.enumerated() {
            let step = steps[i]
            let pattern = step["pattern"]?["Regex"]?.string
            guard step["type"]?.string == "Split", pattern == expected,
                  step["behavior"]?.string == "Isolated", step["invert"]?.bool != true else {
                throw unsupported("pre_tokenizer step \(i) is not the expected Split (pattern \(pattern ?? "none"))")
            }
        }
        let byteLevel = steps[3]
        guard byteLevel["type"]?.string == "ByteLevel", byteLevel["add_prefix_space"]?.bool != true,
              byteLevel["use_regex"]?.bool == false else {
            throw unsupported("pre_tokenizer step 3 (expected ByteLevel, add_prefix_space false, use_regex false)")
        }
        guard root["decoder"]?["type"]?.string == "ByteLevel" else {
            throw unsupported("decoder (only ByteLevel)")
        }
        if let post = root["post_processor"], !post.isNull, post["type"]?.string != "ByteLevel" {
            throw unsupported("post_processor \(post["type"]?.string ?? "?") (only ByteLevel, which adds no tokens)")
        }
    }
}
