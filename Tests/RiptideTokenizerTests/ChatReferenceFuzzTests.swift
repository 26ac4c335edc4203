import Foundation
import Testing
@testable import RiptideTokenizer

/// Cases made by running DeepSeek's reference encoder/parser on random inputs
/// (tools/chat/reference_cases.py). An environment variable can point at a bigger file.
func referenceCaseLines(_ resource: String, env: String) throws -> [Substring] {
    let url: URL
    if let path = ProcessInfo.processInfo.environment[env] {
        url = URL(fileURLWithPath: path)
    } else {
        url = try #require(Bundle.module.url(forResource: resource, withExtension: "jsonl", subdirectory: "Fixtures"))
    }
    return try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
}

@Test func chatEncoderMatchesReferenceOnRandomConversations() throws {
    var passed = 0, total = 0
    for line in try referenceCaseLines("chat-reference-encode", env: "RIPTIDE_CHAT_ENCODE_CASES") {
        total += 1
        let json = try OrderedJSON.parse(String(line))
        let name = json["name"]?.stringValue ?? "?"
        let want = try #require(json["prompt"]?.stringValue)
        do {
            let messages = try ChatMessage.decodeList(try #require(json["messages"]))
            let options = try ChatEncodingOptions(json: try #require(json["options"]))
            let got = try DSV4ChatEncoder.encode(messages, options: options)
            if Array(got.utf8) == Array(want.utf8) {
                passed += 1
            } else {
                Issue.record("\(name): got \(got.debugDescription)\nwant \(want.debugDescription)")
            }
        } catch {
            Issue.record("\(name): threw \(error)")
        }
    }
    print("chat reference encode cases: \(passed)/\(total) prompts match")
    #expect(passed == total && total > 0)
}

/// Completions (well-formed, truncated, mutated) with the reference parser's verdict: where the
/// reference parses, the strict parser must give the same parts; where it fails, it must throw.
/// Known difference: text cut off inside a tool-call block is an error here, while the reference
/// accepts a few such truncation points.
@Test func chatParserAgreesWithReferenceOnMutatedCompletions() throws {
    var agree = 0, total = 0, truncatedBlocks = 0
    for line in try referenceCaseLines("chat-reference-parse", env: "RIPTIDE_CHAT_PARSE_CASES") {
        total += 1
        let json = try OrderedJSON.parse(String(line))
        let mode = try #require(ThinkingMode(rawValue: json["mode"]?.stringValue ?? ""))
        let completion = try #require(json["text"]?.stringValue)
        let want = try #require(json["result"])
        let got = Result { try DSV4CompletionParser.parse(completion, thinkingMode: mode) }
        var same = false
        switch (want["ok"], got) {
        case (.bool(true)?, .success(let r)):
            let calls: [OrderedJSON] = r.toolCalls.map { [.string($0.name), .string($0.arguments)] }
            same = want["reasoning"] == .string(r.reasoningContent) && want["content"] == .string(r.content)
                && want["calls"] == .array(calls)
        case (.bool(false)?, .failure):
            same = true
        case (.bool(true)?, .failure(let e)) where "\(e)".contains("ended inside a tool-call block"):
            truncatedBlocks += 1
            same = true
        default:
            same = false
        }
        if same {
            agree += 1
        } else {
            Issue.record("\(mode) \(completion.debugDescription)\nreference: \(PythonJSONWriter.string(want))\nours: \(got)")
        }
    }
    print("chat parser vs reference: \(agree)/\(total) agree (\(truncatedBlocks) truncated tool blocks rejected on purpose)")
    #expect(agree == total && total > 0)
}

/// On the same well-formed and broken completions, streaming in random chunks must give exactly
/// what the whole-text lenient parse gives, issues and fallbacks included.
@Test func chatStreamingMatchesWholeParseOnMutatedCompletions() throws {
    var rng = SplitMix64(state: 7)
    var checked = 0
    for line in try referenceCaseLines("chat-reference-parse", env: "RIPTIDE_CHAT_PARSE_CASES") {
        let json = try OrderedJSON.parse(String(line))
        let mode = try #require(ThinkingMode(rawValue: json["mode"]?.stringValue ?? ""))
        let completion = try #require(json["text"]?.stringValue)
        let whole = DSV4CompletionParser.parseLenient(completion, thinkingMode: mode)
        for maxChunk in [1, 3, 17] {
            let chunks = scalarChunks(completion) { Int.random(in: 1...maxChunk, using: &rng) }
            let got = streamed(chunks, mode: mode).0
            #expect(got == whole, "\(mode) \(completion.debugDescription) chunks of ≤\(maxChunk)")
        }
        checked += 1
    }
    #expect(checked > 0)
}
