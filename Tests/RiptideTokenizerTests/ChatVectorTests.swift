import Foundation
import Testing
@testable import RiptideTokenizer

/// One line of dsv4-chat-vectors.jsonl (prompts made by DeepSeek's own encoder).
struct ChatVector {
    var name: String
    var messages: [ChatMessage]
    var options: ChatEncodingOptions
    var prompt: String
    var ids: [Int]

    static func loadAll() throws -> [ChatVector] {
        let url = try #require(
            Bundle.module.url(forResource: "dsv4-chat-vectors", withExtension: "jsonl", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let json = try OrderedJSON.parse(String(line))
            return ChatVector(
                name: json["name"]?.stringValue ?? "?",
                messages: try ChatMessage.decodeList(try #require(json["messages"])),
                options: try ChatEncodingOptions(json: try #require(json["options"])),
                prompt: try #require(json["prompt"]?.stringValue),
                ids: try idList(try #require(json["ids"])))
        }
    }
}

@Test func chatVectorsEncodeExactly() throws {
    let vectors = try ChatVector.loadAll()
    #expect(vectors.count == 36)
    var passed = 0
    for vector in vectors {
        let prompt = try DSV4ChatEncoder.encode(vector.messages, options: vector.options)
        // Compare bytes: Swift's String == uses canonical equivalence, which is too lenient here.
        if Array(prompt.utf8) == Array(vector.prompt.utf8) {
            passed += 1
        } else {
            Issue.record("\(vector.name): prompt differs\n got: \(prompt.debugDescription)\nwant: \(vector.prompt.debugDescription)")
        }
    }
    print("chat vectors: \(passed)/\(vectors.count) prompts match")
    #expect(passed == vectors.count)
}

/// The encoder's prompt, tokenized, gives exactly DeepSeek's ids for every vector.
@Test func chatVectorsTokenizeToTheReferenceIds() throws {
    let tokenizer = try Tokenizer.bundled()
    let vectors = try ChatVector.loadAll()
    var passed = 0
    for vector in vectors {
        let ids = tokenizer.encode(try DSV4ChatEncoder.encode(vector.messages, options: vector.options))
        if ids == vector.ids { passed += 1 } else { Issue.record("\(vector.name): ids differ") }
    }
    print("chat vectors: \(passed)/\(vectors.count) id sequences match")
    #expect(passed == 36)
}

private func idList(_ json: OrderedJSON) throws -> [Int] {
    guard case .array(let items) = json else { throw ChatFormatError.invalidField(path: "ids", expected: "array") }
    return try items.map { item in
        guard case .integer(let text) = item, let id = Int(text) else { throw ChatFormatError.invalidField(path: "ids[]", expected: "integer") }
        return id
    }
}
