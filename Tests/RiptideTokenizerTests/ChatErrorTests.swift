import Testing
@testable import RiptideTokenizer

private func decode(_ json: String) throws -> ChatMessage {
    try ChatMessage(json: try OrderedJSON.parse(json))
}

private func encodeChat(_ messages: [ChatMessage]) throws -> String {
    try DSV4ChatEncoder.encode(messages, options: ChatEncodingOptions(thinkingMode: .chat))
}

@Test func chatDecodingErrorsAreClear() throws {
    #expect(throws: ChatFormatError.unknownRole("robot")) { try decode(#"{"role": "robot", "content": "x"}"#) }
    #expect(throws: ChatFormatError.missingField(path: "message.role")) { try decode(#"{"content": "x"}"#) }
    #expect(throws: ChatFormatError.invalidField(path: "message.content", expected: "a string, an array of parts or null")) {
        try decode(#"{"role": "user", "content": 5}"#)
    }
    #expect(throws: ChatFormatError.invalidField(path: "message.tool_calls[0].function.arguments", expected: "a JSON-encoded string")) {
        try decode(#"{"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}"#)
    }
    #expect(throws: ChatFormatError.self) { try decode(#"{"role": "user", "content": "x", "task": "summarize"}"#) }
    #expect(throws: ChatFormatError.self) { try ChatEncodingOptions(json: ["thinking_mode": "thinking", "reasoning_effort": "low"]) }
    #expect(throws: ChatFormatError.self) { try ChatEncodingOptions(json: ["thinking_mode": "fast"]) }
    #expect(throws: ChatFormatError.self) { try ChatTool(json: ["type": "function", "function": ["description": "no name"]]) }
    let error = ChatFormatError.toolMessageWithoutID(index: 3)
    #expect(error.description == "messages[3]: a tool message needs 'tool_call_id'")
}

@Test func chatDecodesOpenAIShapes() throws {
    let msg = try decode(#"""
        {"role": "assistant", "content": null, "reasoning_content": "r", "name": "bot",
         "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]}
        """#)
    #expect(msg == ChatMessage.assistant(nil, reasoning: "r", toolCalls: [ChatToolCall(id: "call_1", name: "f", arguments: #"{"a": 1}"#)]))
    #expect(PythonJSONWriter.string(msg.jsonValue)
        == #"{"role": "assistant", "content": null, "reasoning_content": "r", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]}"#)
    let parts = try decode(#"{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}"#)
    #expect(try encodeChat([parts]) == "<｜begin▁of▁sentence｜><｜User｜>a\n\nb<｜Assistant｜></think>")
}

@Test func chatEncoderErrors() throws {
    #expect(throws: ChatFormatError.emptyDeveloperContent(index: 0)) {
        try encodeChat([ChatMessage(role: .developer, content: .text(""))])
    }
    #expect(throws: ChatFormatError.toolArgumentsNotObject(toolName: "f")) {
        try encodeChat([.user("q"), .assistant("", toolCalls: [ChatToolCall(id: "1", name: "f", arguments: "[1]")])])
    }
    #expect(throws: ChatFormatError.unsupportedContentPart(index: 0, type: "image_url")) {
        try encodeChat([ChatMessage(role: .user, content: .parts([.text("a"), ChatContentPart(type: "image_url")]))])
    }
}

@Test func chatEncoderEdgeCases() throws {
    // Arguments that are not JSON become one string parameter named `arguments`, as in the reference.
    let raw = try encodeChat([.user("q"), .assistant("", toolCalls: [ChatToolCall(id: "1", name: "f", arguments: "oops")])])
    #expect(raw.contains("<｜DSML｜parameter name=\"arguments\" string=\"true\">oops</｜DSML｜parameter>"))
    // Tool results: parts are joined, non-text parts are named, null is empty.
    let tool = try encodeChat([
        .user("q"),
        ChatMessage(role: .tool, content: .parts([.text("a"), ChatContentPart(type: "image_url")]), toolCallID: "x"),
        ChatMessage(role: .tool, content: nil, toolCallID: "y"),
    ])
    #expect(tool.hasSuffix("<｜User｜>q\n\n<tool_result>a\n\n[Unsupported image_url]</tool_result>\n\n<tool_result></tool_result><｜Assistant｜></think>"))
    // A falsy response format ({}) is not rendered, like Python's `if response_format:`.
    var system = ChatMessage.system("S")
    system.responseFormat = [:]
    #expect(try encodeChat([system, .user("u")]) == "<｜begin▁of▁sentence｜>S<｜User｜>u<｜Assistant｜></think>")
}

@Test func chatRequestRules() throws {
    let good: [ChatMessage] = [
        .user("q"), .assistant("", toolCalls: [ChatToolCall(id: "c1", name: "f", arguments: "{}")]), .tool("r", callID: "c1"),
    ]
    try DSV4ChatEncoder.validateForPublicAPI(good)
    #expect(throws: ChatFormatError.toolMessageWithoutID(index: 1)) {
        try DSV4ChatEncoder.validateForPublicAPI([.user("q"), .tool("r", callID: nil)])
    }
    #expect(throws: ChatFormatError.roleNotAllowed(index: 0, role: .developer)) {
        try DSV4ChatEncoder.validateForPublicAPI([ChatMessage(role: .developer, content: .text("d"))])
    }
    #expect(throws: ChatFormatError.invalidToolArgumentsJSON(toolName: "f")) {
        try DSV4ChatEncoder.validateForPublicAPI([.assistant("", toolCalls: [ChatToolCall(id: "1", name: "f", arguments: "{")])])
    }
    #expect(throws: ChatFormatError.toolCallWithoutID(index: 0, toolName: "f")) {
        try DSV4ChatEncoder.validateForPublicAPI([.assistant("", toolCalls: [ChatToolCall(name: "f", arguments: "{}")])])
    }
}

@Test func chatRequestToolsGoWhereTheVectorsPutThem() throws {
    let vector = try #require(try ChatVector.loadAll().first { $0.name == "tools_on_inserted_empty_system_chat" })
    let tools = vector.messages[0].tools
    let request = Array(vector.messages.dropFirst())  // the client's messages, without the system turn
    let prompt = try DSV4ChatEncoder.encode(
        DSV4ChatEncoder.attachingRequestTools(tools, to: request), options: vector.options)
    #expect(Array(prompt.utf8) == Array(vector.prompt.utf8))
    let withSystem = DSV4ChatEncoder.attachingRequestTools(tools, to: [.system("S"), .user("u")])
    #expect(withSystem.count == 2 && withSystem[0].tools == tools)
}
