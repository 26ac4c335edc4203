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
    }

    var vocab: [String: Int] = [:]
    var merges: [(String, String)] = []
    var addedTokens: [AddedToken] = []

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
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            // Foundation keeps the useful part ("Unexpected character at line 1…") in the debug text.
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw TokenizerError(.invalidJSON, path: path, detail ?? error.localizedDescription)
        }
        guard let root = json as? [String: Any] else { throw bad("top level is not a JSON object") }

        // Model: byte-level BPE without byte fallback or subword affixes.
        guard let model = root["model"] as? [String: Any] else { throw bad("missing \"model\" object") }
        if let type = model["type"] as? String, type != "BPE" {
            throw unsupported("model type \"\(type)\" (only BPE)")
        }
        if model["byte_fallback"] as? Bool == true { throw unsupported("model.byte_fallback = true") }
        if model["ignore_merges"] as? Bool == true { throw unsupported("model.ignore_merges = true") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = model[key] as? String, !s.isEmpty { throw unsupported("model.\(key) = \"\(s)\"") }
        }
        if let dropout = model["dropout"] as? Double, dropout > 0 { throw unsupported("model.dropout") }
        guard let rawVocab = model["vocab"] as? [String: Any] else { throw bad("missing model.vocab object") }
        vocab.reserveCapacity(rawVocab.count)
        for (token, value) in rawVocab {
            guard let id = value as? Int, id >= 0 else { throw bad("model.vocab[\"\(token)\"] is not a non-negative integer") }
            vocab[token] = id
        }
        guard let rawMerges = model["merges"] as? [Any] else { throw bad("missing model.merges array") }
        merges.reserveCapacity(rawMerges.count)
        for (i, entry) in rawMerges.enumerated() {
            if let s = entry as? String {  // "left right"
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw bad("model.merges[\(i)] \"\(s)\" is not two tokens separated by one space") }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = entry as? [String], pair.count == 2 {  // newer ["left", "right"] form
                merges.append((pair[0], pair[1]))
            } else {
                throw bad("model.merges[\(i)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }

        // Added tokens.
        if let rawAdded = root["added_tokens"] {
            guard let list = rawAdded as? [[String: Any]] else { throw bad("added_tokens is not an array of objects") }
            for (i, t) in list.enumerated() {
                guard let id = t["id"] as? Int, id >= 0, let content = t["content"] as? String, !content.isEmpty else {
                    throw bad("added_tokens[\(i)] needs an integer \"id\" and a non-empty \"content\"")
                }
                for flag in ["lstrip", "rstrip", "single_word"] where t[flag] as? Bool == true {
                    throw unsupported("added_tokens[\(i)] (\(content)) has \(flag) = true")
                }
                let special = t["special"] as? Bool ?? false
                addedTokens.append(AddedToken(id: id, content: content, normalized: t["normalized"] as? Bool ?? !special))
            }
        }

        try Self.checkPipeline(root, unsupported)
    }

    /// Normalizer, pre-tokenizer and decoder must be the DeepSeek-V4 ones.
    private static func checkPipeline(_ root: [String: Any], _ unsupported: (String) -> TokenizerError) throws {
        if let norm = root["normalizer"] as? [String: Any] {
            let empty = norm["type"] as? String == "Sequence" && (norm["normalizers"] as? [Any])?.isEmpty == true
            guard empty else { throw unsupported("normalizer (only none or an empty Sequence)") }
        }
        guard let pre = root["pre_tokenizer"] as? [String: Any], pre["type"] as? String == "Sequence",
              let steps = pre["pretokenizers"] as? [[String: Any]], steps.count == 4 else {
            throw unsupported("pre_tokenizer (expected the DeepSeek-V4 Sequence of 3 Splits + ByteLevel)")
        }
        for (i, expected) in expectedSplits.enumerated() {
            let step = steps[i]
            let pattern = (step["pattern"] as? [String: Any])?["Regex"] as? String
            guard step["type"] as? String == "Split", pattern == expected,
                  step["behavior"] as? String == "Isolated", step["invert"] as? Bool != true else {
                throw unsupported("pre_tokenizer step \(i) is not the expected Split (pattern \(pattern ?? "none"))")
            }
        }
        let byteLevel = steps[3]
        guard byteLevel["type"] as? String == "ByteLevel", byteLevel["add_prefix_space"] as? Bool != true,
              byteLevel["use_regex"] as? Bool == false else {
            throw unsupported("pre_tokenizer step 3 (expected ByteLevel, add_prefix_space false, use_regex false)")
        }
        guard (root["decoder"] as? [String: Any])?["type"] as? String == "ByteLevel" else {
            throw unsupported("decoder (only ByteLevel)")
        }
        if let post = root["post_processor"] as? [String: Any], post["type"] as? String != "ByteLevel" {
            throw unsupported("post_processor \(post["type"] ?? "?") (only ByteLevel, which adds no tokens)")
        }
    }
}
