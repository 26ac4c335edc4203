import Foundation
import Testing
import RiptideTokenizer

@Test func vocabularyAndLookups() throws {
    let tok = try Shared.get()
    #expect(tok.vocabularySize == 129_280)
    #expect(tok.id(forToken: "<｜begin▁of▁sentence｜>") == 0)
    #expect(tok.id(forToken: "<｜User｜>") == 128_803)
    #expect(tok.id(forToken: "<think>") == 128_821)
    #expect(tok.token(forId: 128_822) == "</think>")
    #expect(tok.token(forId: -1) == nil)
    #expect(tok.token(forId: 129_280) == nil)
    #expect(tok.id(forToken: "definitely not a token") == nil)
}

@Test func encodeBasics() throws {
    let tok = try Shared.get()
    #expect(tok.encode("") == [])
    #expect(tok.encode("Hello <think> world") == [19923, 223, 128821, 2058])
    #expect(tok.encode("<｜begin▁of▁sentence｜><｜User｜>Hello!<｜Assistant｜></think>") == [0, 128803, 19923, 3, 128804, 128822])
    // Invalid and out-of-range ids are skipped by decode, like HF.
    #expect(tok.decode([19923, -5, 10_000_000]) == "Hello")
    #expect(tok.decodeBytes(tok.encode("né")) == Array("né".utf8))
}

@Test func concurrentEncodesAgree() async throws {
    let tok = try Shared.get()
    let text = String(repeating: "Streaming tokenizers 流式分词 🙂 need thread safety. ", count: 50)
    let expected = tok.encode(text)
    let results = await withTaskGroup(of: [Int].self) { group in
        for _ in 0..<8 { group.addTask { tok.encode(text) } }
        var all: [[Int]] = []
        for await r in group { all.append(r) }
        return all
    }
    #expect(results.allSatisfy { $0 == expected })
}

// MARK: Errors name the file and never crash

private func tempFile(_ contents: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("riptide-tok-\(UUID().uuidString).json")
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url
}

private func loadError(_ url: URL) -> TokenizerError? {
    do {
        _ = try Tokenizer(contentsOf: url)
        return nil
    } catch let e as TokenizerError {
        return e
    } catch {
        return nil
    }
}

@Test func missingFileError() {
    let url = URL(fileURLWithPath: "/nonexistent/dir/tokenizer.json")
    let err = loadError(url)
    #expect(err?.kind == .unreadable)
    #expect(err?.description.contains("/nonexistent/dir/tokenizer.json") == true)
}

@Test func badJSONError() throws {
    let url = try tempFile("{ \"model\": [1, 2,, }")
    defer { try? FileManager.default.removeItem(at: url) }
    let err = loadError(url)
    #expect(err?.kind == .invalidJSON)
    #expect(err?.description.contains(url.path) == true)
}

@Test func wrongStructureErrors() throws {
    let cases: [(String, TokenizerError.Kind, String)] = [
        ("[1, 2, 3]", .invalidFormat, "top level"),
        ("{}", .invalidFormat, "model"),
        (#"{"model": {"type": "WordPiece", "vocab": {}}}"#, .unsupported, "WordPiece"),
        (#"{"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}}"#, .invalidFormat, "vocab"),
        (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}}"#, .invalidFormat, "merges[0]"),
        (#"{"model": {"type": "BPE", "vocab": {"a": 99999999999}, "merges": []}}"#, .invalidFormat, "vocab"),
        (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": null}"#, .unsupported, "pre_tokenizer"),
    ]
    for (json, kind, mention) in cases {
        let url = try tempFile(json)
        defer { try? FileManager.default.removeItem(at: url) }
        let err = loadError(url)
        #expect(err?.kind == kind, "\(json)")
        #expect(err?.description.contains(url.path) == true, "\(json)")
        #expect(err?.description.contains(mention) == true, "\(json): \(err?.description ?? "no error")")
    }
}

@Test func plainEncodingAndSpecialIds() throws {
    let tok = try Shared.get()
    let plain = tok.encodePlain("Hello <think> world")
    #expect(!plain.contains(128_821))
    #expect(tok.decode(plain) == "Hello <think> world")
    #expect(tok.encodePlain("Hello world") == tok.encode("Hello world"))
    var pieces: [String] = [], ids: [Int?] = []
    tok.splitAddedTokens("a<think>b</think>") { piece, id in pieces.append(String(piece)); ids.append(id) }
    #expect(pieces == ["a", "<think>", "b", "</think>"])
    #expect(ids == [nil, 128_821, nil, 128_822])
    #expect(tok.isSpecial(0) && tok.isSpecial(1))
    #expect(!tok.isSpecial(19923))
}
