import Foundation
import NIOCore

/// What one streamed request measured (all times in seconds, monotonic clock).
public struct RequestOutcome: Sendable {
    public var success = false
    public var error: String?
    public var promptLength = 0
    public var outputTokens = 0
    public var serverPromptTokens: Int?
    /// Request start → first chunk with non-empty `choices`.
    public var ttft = 0.0
    /// Gaps between consecutive content chunks.
    public var itls: [Double] = []
    /// Request start → last content chunk (not `[DONE]`).
    public var e2el = 0.0
    public var generatedText = ""
    public init() {}

    /// (E2EL − TTFT)/(out − 1); nil for ≤ 1 output token (method §2).
    public var tpot: Double? {
        outputTokens > 1 ? (e2el - ttft) / Double(outputTokens - 1) : nil
    }
}

/// Streams OpenAI `/v1/completions` exactly as InferenceX's client does (method §3 payload,
/// SSE parsing and timing rules), over `HTTPConnection`s owned by closed-loop workers.
public struct CompletionsClient: Sendable {
    public let address: ServerAddress
    public let model: String
    public let apiKey: String?

    /// JSON object fields added to every body (they may not replace the protocol's own).
    public let extraBody: Data?

    public init(address: ServerAddress, model: String, apiKey: String? = nil, extraBody: Data? = nil) {
        self.address = address; self.model = model; self.apiKey = apiKey; self.extraBody = extraBody
    }

    /// `GET /v1/models` → `data[0].id`, the way bench clients discover the served model.
    public static func discoverModel(_ address: ServerAddress) async throws -> String {
        let (status, body) = try await HTTPConnection.fetch(address, path: "/v1/models")
        struct Models: Decodable { struct M: Decodable { var id: String }; var data: [M] }
        guard status == 200, let id = try JSONDecoder().decode(Models.self, from: body).data.first?.id
        else { throw BenchError.server("GET /v1/models returned HTTP \(status)") }
        return id
    }

    public func payload(for prompt: BenchPrompt) throws -> Data {
        var body: [String: Any] = [
            "model": model, "prompt": prompt.text, "temperature": 0.0, "best_of": 1,
            "max_tokens": prompt.outputLength, "stream": true,
            "stream_options": ["include_usage": true], "ignore_eos": true,
        ]
        if let extraBody, let extra = try JSONSerialization.jsonObject(with: extraBody) as? [String: Any] {
            body.merge(extra) { mine, _ in mine }
        }
        return try JSONSerialization.data(withJSONObject: body, options: .sortedKeys)  // byte-stable payloads
    }

    /// Runs prompts taken from `next()` one after another on its own keep-alive connection,
    /// reconnecting after errors or `Connection: close`. Failures are recorded, never thrown.
    func worker(prompts: [BenchPrompt], codec: (any PromptCodec)?, next: () async -> Int?,
                record: (Int, RequestOutcome) async -> Void) async {
        var index = await next()
        while let first = index {
            let channel: HTTPConnection.Channel
            do { channel = try await HTTPConnection.connect(address) } catch {
                var out = RequestOutcome()
                out.error = "connect: \(error)"
                await record(first, out)
                index = await next()
                continue
            }
            do {
                try await channel.executeThenClose { inbound, outbound in
                    var it = inbound.makeAsyncIterator()
                    var served = 0
                    while let i = index {
                        let (out, reusable) = await send(prompts[i], codec: codec, inbound: &it, outbound: outbound)
                        // A reused connection that the server had already closed: resend on a new one.
                        if out.error == Self.closedBeforeResponse, served > 0 { return }
                        served += 1
                        await record(i, out)
                        index = await next()
                        if !reusable { return }
                    }
                }
            } catch {}  // close errors: the outcome is already recorded
        }
    }

    static let closedBeforeResponse = "connection closed before the response"

    func send(_ prompt: BenchPrompt, codec: (any PromptCodec)?, inbound: inout HTTPConnection.Inbound,
              outbound: HTTPConnection.Outbound) async -> (RequestOutcome, reusable: Bool) {
        var out = RequestOutcome()
        out.promptLength = prompt.promptLength
        var decoder = SSEDecoder()
        var start: UInt64 = 0, last: UInt64 = 0
        var chunks = 0, usageTokens: Int?
        var headers = [("Content-Type", "application/json"), ("Accept", "text/event-stream")]
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        do {
            let body = try payload(for: prompt)
            let head = HTTPConnection.head(.POST, address, path: "/v1/completions", headers: headers, bodyLength: body.count)
            start = DispatchTime.now().uptimeNanoseconds
            let result = try await HTTPConnection.exchange(head, body: ByteBuffer(bytes: body), inbound: &inbound,
                                                           outbound: outbound) { status, buffer, now in
                guard status == 200 else { return }
                for event in decoder.feed(buffer.readableBytesView) {
                    switch event {
                    case let .content(text, usage):
                        if chunks == 0 { out.ttft = Double(now - start) / 1e9 }
                        else { out.itls.append(Double(now - last) / 1e9) }
                        last = now
                        chunks += 1
                        out.generatedText += text
                        if let c = usage?.completion_tokens { usageTokens = c }
                        if let p = usage?.prompt_tokens { out.serverPromptTokens = p }
                    case let .usage(u):
                        if let c = u.completion_tokens { usageTokens = c }
                        if let p = u.prompt_tokens { out.serverPromptTokens = p }
                    case let .error(message):
                        if out.error == nil { out.error = message }
                    case .done:
                        break
                    }
                }
            }
            if result.status != 200 { out.error = "HTTP \(result.status)"; return (out, result.reusable) }
            guard out.error == nil else { return (out, result.reusable) }
            guard chunks > 0 else { out.error = "no content chunks"; return (out, result.reusable) }
            out.e2el = Double(last - start) / 1e9
            // usage.completion_tokens, else re-tokenise client-side, else one token per chunk.
            out.outputTokens = usageTokens ?? codec?.encode(out.generatedText).count ?? chunks
            out.success = true
            return (out, result.reusable)
        } catch is HTTPConnection.ClosedBeforeResponse {
            out.error = Self.closedBeforeResponse
            return (out, false)
        } catch {
            out.error = "\(error)"
            return (out, false)
        }
    }
}

public enum BenchError: Error, CustomStringConvertible {
    case server(String)
    case input(String)
    public var description: String {
        switch self {
        case let .server(m): "server: \(m)"
        case let .input(m): "input: \(m)"
        }
    }
}
