import Testing
@testable import RiptideTokenizer

private let eos = "<｜end▁of▁sentence｜>"

@Test func chatParserSpecExamples() throws {
    var r = try DSV4CompletionParser.parse("Short reasoning.</think>The answer is 4.\(eos)", thinkingMode: .thinking)
    #expect(r.reasoningContent == "Short reasoning." && r.content == "The answer is 4." && r.toolCalls.isEmpty && r.sawEndOfSequence)

    r = try DSV4CompletionParser.parse(
        "Let me check.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"ping\">\n\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>\(eos)",
        thinkingMode: .chat)
    #expect(r.reasoningContent == "" && r.content == "Let me check.")
    #expect(r.toolCalls == [ChatToolCall(name: "ping", arguments: "{}")])

    r = try DSV4CompletionParser.parse(
        "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"w\">\n<｜DSML｜parameter name=\"s\" string=\"true\">line1\nline2 \"q\"</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>\(eos)",
        thinkingMode: .chat)
    #expect(r.content == "" && r.toolCalls == [ChatToolCall(name: "w", arguments: #"{"s": "line1\nline2 \"q\""}"#)])
}

@Test func chatParserEmptyAndMultipleCalls() throws {
    var r = try DSV4CompletionParser.parse(eos, thinkingMode: .chat)
    #expect(r.content == "" && r.sawEndOfSequence)
    r = try DSV4CompletionParser.parse("</think>\(eos)", thinkingMode: .thinking)
    #expect(r.reasoningContent == "" && r.content == "")
    let calls = (1...3).map { ChatToolCall(id: "c\($0)", name: "f\($0)", arguments: #"{"n": \#($0), "s": "x"}"#) }
    let text = try DSV4ChatEncoder.renderCompletion(.assistant("", reasoning: "R", toolCalls: calls), thinkingMode: .thinking)
    r = try DSV4CompletionParser.parse(text, thinkingMode: .thinking)
    #expect(r.toolCalls.map(\.name) == ["f1", "f2", "f3"])
    #expect(r.toolCalls.map(\.arguments) == calls.map(\.arguments))
    #expect(r.message.reasoningContent == "R" && r.message.content == nil && r.message.toolCalls.count == 3)
}

@Test func chatParserFallbacks() throws {
    // Length stop in chat mode: no EOS.
    var r = DSV4CompletionParser.parseLenient("Hello there.", thinkingMode: .chat)
    #expect(r.content == "Hello there." && !r.sawEndOfSequence && r.issues.count == 1)
    #expect(throws: ChatFormatError.self) { try DSV4CompletionParser.parse("Hello there.", thinkingMode: .chat) }
    // Length stop inside the reasoning: everything is reasoning.
    r = DSV4CompletionParser.parseLenient("Still thinking\n", thinkingMode: .thinking)
    #expect(r.reasoningContent == "Still thinking\n" && r.content == "" && r.issues.count == 1)
    // Tool calls without </think>: the calls are still recovered.
    r = DSV4CompletionParser.parseLenient(
        "R\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"p\">\n\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>\(eos)", thinkingMode: .thinking)
    #expect(r.reasoningContent == "R" && r.toolCalls.map(\.name) == ["p"] && r.issues.count == 1)
    // Broken markup: the raw text from the break on becomes content.
    r = DSV4CompletionParser.parseLenient("Hi\n\n<｜DSML｜tool_calls>\noops\(eos)", thinkingMode: .chat)
    #expect(r.content == "Hi\n\n<｜DSML｜tool_calls>\noops" && r.toolCalls.isEmpty && r.sawEndOfSequence && r.issues.count == 1)
    // Text after EOS is ignored (and reported).
    r = DSV4CompletionParser.parseLenient("A\(eos)B", thinkingMode: .chat)
    #expect(r.content == "A" && r.issues.count == 1)
    // Duplicate parameters and special tokens in content are errors for the strict parse only.
    let dup = "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\"a\" string=\"false\">1</｜DSML｜parameter>\n<｜DSML｜parameter name=\"a\" string=\"false\">2</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>\(eos)"
    #expect(DSV4CompletionParser.parseLenient(dup, thinkingMode: .chat).toolCalls == [ChatToolCall(name: "f", arguments: #"{"a": 1, "a": 2}"#)])
    #expect(throws: ChatFormatError.self) { try DSV4CompletionParser.parse(dup, thinkingMode: .chat) }
    #expect(throws: ChatFormatError.self) { try DSV4CompletionParser.parse("a<think>b\(eos)", thinkingMode: .chat) }
}

@Test func chatStreamHandlesMarkersCutAcrossChunks() {
    var s = DSV4CompletionStream(thinkingMode: .thinking)
    #expect(s.feed("abc</thi") == [.reasoning("abc")])
    #expect(s.feed("nk>de") == [.content("de")])
    #expect(s.feed("f\n") == [.content("f")])  // "\n" might start the tool-call marker
    #expect(s.feed("\nok<｜end▁of▁") == [.content("\n\nok")])
    #expect(s.feed("sentence｜>") == [.endOfSequence])
    #expect(s.finish() == [])
}

@Test func chatStreamWorksOnBytesNotGraphemes() throws {
    // "\r" + "\n" form one Character, and so do ">" + a combining accent: markers must still match.
    var r = try DSV4CompletionParser.parse(
        "x\r\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"p\">\n\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>\(eos)", thinkingMode: .chat)
    #expect(Array(r.content.utf8) == Array("x\r".utf8) && r.toolCalls.count == 1)
    r = try DSV4CompletionParser.parse("r</think>\u{301}a\(eos)", thinkingMode: .thinking)
    #expect(r.reasoningContent == "r" && Array(r.content.utf8) == Array("\u{301}a".utf8))
}

@Test func chatStreamCutInsideToolCall() {
    var s = DSV4CompletionStream(thinkingMode: .chat)
    let events = s.feed("\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter name=\"q\" string=\"true\">par")
    #expect(events == [
        .toolCallStart(index: 0, name: "f"),
        .toolCallArguments(index: 0, fragment: "{\"q\": \""),
        .toolCallArguments(index: 0, fragment: "par"),
    ])
    #expect(s.finish() == [.formatIssue("the output ended inside a tool-call block")])
    #expect(s.issues.count == 1)
}

@Test func chatStreamStaysLinearOnLongOutputs() throws {
    // 100 KB of reasoning, content and one long string argument, fed one scalar at a time.
    let long = String(repeating: "let x = a < b && c > d; // 中文\n", count: 1000)
    let call = ChatToolCall(name: "write", arguments: PythonJSONWriter.string(["code": .string(long), "n": 1]))
    let text = try DSV4ChatEncoder.renderCompletion(.assistant(long, reasoning: long, toolCalls: [call]), thinkingMode: .thinking)
    var stream = DSV4CompletionStream(thinkingMode: .thinking)
    var result = ParsedCompletion()
    for scalar in text.unicodeScalars {
        for event in stream.feed(String(scalar)) { result.apply(event) }
    }
    for event in stream.finish() { result.apply(event) }
    #expect(result.reasoningContent == long && result.content == long && result.issues.isEmpty)
    #expect(result.toolCalls == [ChatToolCall(name: "write", arguments: call.arguments)])
}
