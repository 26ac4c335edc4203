import AsyncHTTPClient
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

/// Streams OpenAI `/v1/completions` exactly as InferenceX's client does (method §3 payload).
public struct CompletionsClient: Sendable {
    public let baseURL: String
    public let model: String
    public let apiKey: String?
    let http: HTTPClient

    public init(http: HTTPClient, baseURL: String, model: String, apiKey: String? = nil) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.model = model
        self.apiKey = apiKey
    }

    /// A shared client: one connection pool sized for the sweep (new-session-per-request, as aiohttp
    /// does, would add a TCP handshake to every TTFT).
    public static func makeHTTPClient(maxConnections: Int) -> HTTPClient {
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(maxConnections, 8))
        config.timeout = .init(connect: .seconds(30), read: .hours(6))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// `GET /v1/models` → `data[0].id`, the way bench clients discover the served model.
    public static func discoverModel(http: HTTPClient, baseURL: String) async throws -> String {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        let response = try await http.execute(HTTPClientRequest(url: base + "/v1/models"), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        struct Models: Decodable { struct M: Decodable { var id: String }; var data: [M] }
        guard response.status == .ok, let id = try JSONDecoder().decode(Models.self, from: Data(body.readableBytesView)).data.first?.id
        else { throw BenchError.server("GET /v1/models returned \(response.status)") }
        return id
    }

    public func payload(for prompt: BenchPrompt) throws -> Data {
        let body: [String: Any] = [
            "model": model, "prompt": prompt.text, "temperature": 0.0, "best_of": 1,
            "max_tokens": prompt.outputLength, "stream": true,
            "stream_options": ["include_usage": true], "ignore_eos": true,
        ]
        return try JSONSerialization.data(withJSONObject: body, options: .sortedKeys)  // byte-stable payloads
    }

    /// Never throws: failures are recorded in the outcome so the point's failure rate can be judged.
    public func send(_ prompt: BenchPrompt, codec: (any PromptCodec)?) async -> RequestOutcome {
        var out = RequestOutcome()
        out.promptLength = prompt.promptLength
        var request = HTTPClientRequest(url: baseURL + "/v1/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let start: UInt64
        do {
            request.body = .bytes(ByteBuffer(bytes: try payload(for: prompt)))
            start = DispatchTime.now().uptimeNanoseconds
            let response = try await http.execute(request, timeout: .hours(6))
            guard response.status == .ok else {
                _ = try? await response.body.collect(upTo: 1 << 20)
                out.error = "HTTP \(response.status.code)"
                return out
            }
            var decoder = SSEDecoder()
            var last: UInt64 = 0
            var chunks = 0
            var usageTokens: Int?
            stream: for try await buffer in response.body {
                let now = DispatchTime.now().uptimeNanoseconds
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
                        out.error = message
                        break stream
                    case .done:
                        break
                    }
                }
            }
            guard out.error == nil else { return out }
            guard chunks > 0 else { out.error = "no content chunks"; return out }
            out.e2el = Double(last - start) / 1e9
            // usage.completion_tokens, else re-tokenise client-side, else one token per chunk.
            out.outputTokens = usageTokens ?? codec?.encode(out.generatedText).count ?? chunks
            out.success = true
        } catch {
            out.error = "\(error)"
        }
        return out
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
