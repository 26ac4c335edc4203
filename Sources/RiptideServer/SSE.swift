import HTTPTypes
import Hummingbird
import RiptideTokenizer

/// Server-sent events as OpenAI streams them: `data: {json}\n\n` per chunk, `data: [DONE]\n\n` last.
enum SSE {
    static var headers: HTTPFields {
        var h = HTTPFields()
        h[.contentType] = "text/event-stream; charset=utf-8"
        h[.cacheControl] = "no-cache"
        // Tells nginx-style proxies not to buffer the stream.
        h[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return h
    }

    static func event(_ json: OrderedJSON) -> ByteBuffer {
        ByteBuffer(string: "data: " + JSONOutput.string(json) + "\n\n")
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    /// An error in the middle of a stream (SGLang's convention): an error event, then `[DONE]`.
    static func error(_ error: APIError) -> ByteBuffer { event(error.json) }

    /// A streaming response; `produce` writes the events, `[DONE]` and the end are added here.
    /// `guardian` is held until the body has been written (or dropped), see `AbortOnRelease`.
    static func response(
        _ context: ServingContext, guardian: AbortOnRelease,
        _ produce: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
    ) -> Response {
        let response = Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { withExtendedLifetime(guardian) {} }
            try await produce(&writer)
            try await writer.write(done)
            try await writer.finish(nil)
        })
        return context.closingConnection(response)
    }
}
