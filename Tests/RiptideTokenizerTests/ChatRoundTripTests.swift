import Foundation
import Testing
@testable import RiptideTokenizer

/// Deterministic RNG so chunk boundaries are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Splits text into chunks of `sizes` unicode scalars each (cycling), so chunk edges can fall
/// anywhere, including inside markers and between "\r" and "\n".
func scalarChunks(_ text: String, sizes: () -> Int) -> [String] {
    let scalars = Array(text.unicodeScalars)
    var chunks: [String] = []
    var i = 0
    while i < scalars.count {
        let n = min(max(1, sizes()), scalars.count - i)
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[i..<i + n])
        chunks.append(String(s))
        i += n
    }
    return chunks
}

func streamed(_ chunks: [String], mode: ThinkingMode) -> (ParsedCompletion, [ChatStreamEvent]) {
    var stream = DSV4CompletionStream(thinkingMode: mode)
    var events: [ChatStreamEvent] = []
    for chunk in chunks { events += stream.feed(chunk) }
    events += stream.finish()
    var result = ParsedCompletion()
    for event in events { result.apply(event) }
    return (result, events)
}

/// Byte-exact comparison of everything the splitter returns.
func sameBytes(_ a: String, _ b: String) -> Bool { Array(a.utf8) == Array(b.utf8) }

func expectSame(_ got: ParsedCompletion, _ want: ParsedCompletion, _ label: String) -> Bool {
    let ok = sameBytes(got.reasoningContent, want.reasoningContent) && sameBytes(got.content, want.content)
        && got.toolCalls.count == want.toolCalls.count
        && zip(got.toolCalls, want.toolCalls).allSatisfy { sameBytes($0.name, $1.name) && sameBytes($0.arguments, $1.arguments) }
        && got.issues.isEmpty && got.sawEndOfSequence
    if !ok { Issue.record("\(label): got \(got), want \(want)") }
    return ok
}

@Test func chatSplitterRoundTripsVectorAssistantTurns() throws {
    var rng = SplitMix64(state: 42)
    var assistants = 0, roundTrips = 0
    for vector in try ChatVector.loadAll() {
        for (n, msg) in vector.messages.enumerated() where msg.role == .assistant {
            assistants += 1
            for mode in ThinkingMode.allCases {
                let text = try DSV4ChatEncoder.renderCompletion(msg, thinkingMode: mode)
                var want = ParsedCompletion()
                want.reasoningContent = mode == .thinking ? (msg.reasoningContent ?? "") : ""
                want.content = try DSV4ChatEncoder.plainText(msg.content, index: n)
                // Arguments come back re-serialized the way the prompt showed them.
                want.toolCalls = try msg.toolCalls.map {
                    ChatToolCall(name: $0.name, arguments: PythonJSONWriter.string(.object(try DSV4ChatEncoder.dsmlParameters($0))))
                }
                let label = "\(vector.name) message \(n) \(mode)"
                let whole = try DSV4CompletionParser.parse(text, thinkingMode: mode)
                var ok = expectSame(whole, want, label + " whole")
                ok = expectSame(streamed(scalarChunks(text) { 1 }, mode: mode).0, want, label + " 1-scalar chunks") && ok
                for round in 0..<20 {
                    let chunks = scalarChunks(text) { Int.random(in: 1...12, using: &rng) }
                    ok = expectSame(streamed(chunks, mode: mode).0, want, label + " random chunks #\(round)") && ok
                }
                if ok { roundTrips += 1 }
            }
        }
    }
    print("chat splitter: \(roundTrips)/\(assistants * 2) assistant turns round-trip (thinking + chat mode; whole, 1-scalar and 20 random chunkings each)")
    #expect(roundTrips == assistants * 2)
    #expect(assistants > 15)
}

@Test func chatStreamNeverLeaksMarkerPieces() throws {
    let text = "Plan: call.</think>Let me check.\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
        + "<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n"
        + "<｜DSML｜parameter name=\"days\" string=\"false\">3</｜DSML｜parameter>\n"
        + "</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>"
    let whole = try DSV4CompletionParser.parse(text, thinkingMode: .thinking)
    #expect(whole.reasoningContent == "Plan: call.")
    #expect(whole.content == "Let me check.")
    #expect(whole.toolCalls == [ChatToolCall(name: "get_weather", arguments: "{\"city\": \"Paris\", \"days\": 3}")])
    // Every two-chunk split gives the same result, and no text delta holds a piece of markup.
    let scalars = Array(text.unicodeScalars)
    for cut in 1..<scalars.count {
        var a = String.UnicodeScalarView(), b = String.UnicodeScalarView()
        a.append(contentsOf: scalars[..<cut])
        b.append(contentsOf: scalars[cut...])
        let (result, events) = streamed([String(a), String(b)], mode: .thinking)
        #expect(result == whole, "cut at \(cut)")
        for case .content(let delta) in events {
            #expect(!delta.contains("<") && !delta.contains("｜") && !delta.hasSuffix("\n"), "cut \(cut): \(delta.debugDescription)")
        }
        for case .reasoning(let delta) in events {
            #expect(!delta.contains("<"), "cut \(cut): \(delta.debugDescription)")
        }
    }
}

@Test func chatStreamEventSequenceForParallelCalls() {
    let text = "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"a\">\n"
        + "<｜DSML｜parameter name=\"x\" string=\"true\">1</｜DSML｜parameter>\n</｜DSML｜invoke>\n"
        + "<｜DSML｜invoke name=\"b\">\n\n</｜DSML｜invoke>\n</｜DSML｜tool_calls><｜end▁of▁sentence｜>"
    let (_, events) = streamed([text], mode: .chat)
    #expect(events == [
        .toolCallStart(index: 0, name: "a"),
        .toolCallArguments(index: 0, fragment: "{\"x\": \""),
        .toolCallArguments(index: 0, fragment: "1"),
        .toolCallArguments(index: 0, fragment: "\""),
        .toolCallArguments(index: 0, fragment: "}"),
        .toolCallEnd(index: 0),
        .toolCallStart(index: 1, name: "b"),
        .toolCallArguments(index: 1, fragment: "{}"),
        .toolCallEnd(index: 1),
        .endOfSequence,
    ])
}
