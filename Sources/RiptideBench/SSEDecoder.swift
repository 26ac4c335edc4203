import Foundation

/// One decoded `/v1/completions` stream event.
public enum StreamEvent: Sendable, Equatable {
    /// A chunk with non-empty `choices` (a token event, even if its text is empty).
    case content(text: String, usage: Usage?)
    /// A chunk with only `usage` (include_usage's final chunk).
    case usage(Usage)
    case error(String)
    case done

    public struct Usage: Sendable, Equatable, Decodable {
        public var prompt_tokens: Int?
        public var completion_tokens: Int?
    }
}

/// Incremental SSE splitter + completions-chunk parser. Feed raw body bytes; get events back.
/// Only `data:` lines matter; comments, `event:` and blank lines are skipped.
public struct SSEDecoder: Sendable {
    private var pending: [UInt8] = []
    public init() {}

    private struct Chunk: Decodable {
        struct Choice: Decodable { var text: String? }
        struct ErrorBody: Decodable { var message: String? }
        var choices: [Choice]?
        var usage: StreamEvent.Usage?
        var error: ErrorBody?
    }

    public mutating func feed(_ bytes: some Collection<UInt8>) -> [StreamEvent] {
        pending.append(contentsOf: bytes)
        var events: [StreamEvent] = []
        var lineStart = 0
        var i = 0
        while i < pending.count {
            if pending[i] == UInt8(ascii: "\n") {
                var end = i
                if end > lineStart, pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if let e = Self.parse(line: pending[lineStart..<end]) { events.append(e) }
                lineStart = i + 1
            }
            i += 1
        }
        pending.removeFirst(lineStart)
        return events
    }

    static func parse(line: ArraySlice<UInt8>) -> StreamEvent? {
        let prefix = Array("data:".utf8)
        guard line.count >= prefix.count, line.prefix(prefix.count).elementsEqual(prefix) else { return nil }
        var payload = line.dropFirst(prefix.count)
        while payload.first == UInt8(ascii: " ") { payload = payload.dropFirst() }
        if payload.elementsEqual("[DONE]".utf8) { return .done }
        guard let chunk = try? JSONDecoder().decode(Chunk.self, from: Data(payload)) else {
            return .error("unparsable SSE payload")
        }
        if let err = chunk.error { return .error(err.message ?? "server error") }
        if let choices = chunk.choices, !choices.isEmpty {
            return .content(text: choices.map { $0.text ?? "" }.joined(), usage: chunk.usage)
        }
        if let usage = chunk.usage { return .usage(usage) }
        return nil
    }
}
