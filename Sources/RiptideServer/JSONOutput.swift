import Foundation
import HTTPTypes
import Hummingbird
import RiptideTokenizer

// Response JSON is built as `OrderedJSON` (keys come out in the order written) and serialized
// compactly here. Strings use the same escaping as the prompt writer (raw UTF-8, `/` unescaped);
// floats use the shortest round-trip text; a non-finite number (never valid JSON) becomes null.

enum JSONOutput {
    static func string(_ value: OrderedJSON) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    static func buffer(_ value: OrderedJSON) -> ByteBuffer {
        ByteBuffer(string: string(value))
    }

    static func write(_ value: OrderedJSON, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let digits): out += digits
        case .float(let d): out += d.isFinite ? PythonJSONWriter.pythonFloatRepr(d) : "null"
        case .string(let s): out += PythonJSONWriter.quoted(s)
        case .array(let items):
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (n, member) in members.enumerated() {
                if n > 0 { out += "," }
                out += PythonJSONWriter.quoted(member.key)
                out += ":"
                write(member.value, into: &out)
            }
            out += "}"
        }
    }

    /// A JSON response with the given status.
    static func response(_ value: OrderedJSON, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer(value)))
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8")
        -> Response
    {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension OrderedJSON {
    static func int(_ n: Int) -> OrderedJSON { .integer(String(n)) }

    /// A Float written with its own shortest digits (`-0.25`, not `-0.25000000372529`), as
    /// Python's `float(numpy.float32)` round-tripping would; -inf is clamped to -9999 as vLLM does.
    static func number(_ f: Float) -> OrderedJSON {
        if f.isNaN { return .null }
        if f == -.infinity { return .float(-9999) }
        if f == .infinity { return .float(9999) }
        return .float(Double(f.description) ?? Double(f))
    }

    static func optionalString(_ s: String?) -> OrderedJSON { s.map { .string($0) } ?? .null }

    /// Appends a member to an object value (no-op on other values).
    mutating func append(_ key: String, _ value: OrderedJSON) {
        guard case .object(var members) = self else { return }
        members.append(.init(key, value))
        self = .object(members)
    }
}

/// Unix seconds, for `created` fields.
func unixTime() -> Int { Int(Date().timeIntervalSince1970) }

/// OpenAI `usage`, with SGLang/vLLM's cached-token and reasoning-token details.
func openAIUsage(promptTokens: Int, completionTokens: Int, cachedTokens: Int, reasoningTokens: Int) -> OrderedJSON {
    [
        "prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
        "total_tokens": .int(promptTokens + completionTokens),
        "prompt_tokens_details": ["cached_tokens": .int(cachedTokens)],
        "completion_tokens_details": ["reasoning_tokens": .int(reasoningTokens)],
    ]
}
