import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An OpenAI-compatible `/v1/completions` streaming server with exactly known timings, for the
/// end-to-end benchmark tests: the first token arrives `ttft` after the request is admitted, then one
/// token every `itl` (deadline-scheduled, so gaps don't drift), and at most `maxConcurrent` requests
/// are served at once (the rest wait FIFO, which shows up in TTFT). `failEvery` = k makes every k-th
/// request fail with HTTP 500.
final class FakeCompletionsServer: Sendable {
    struct Settings: Sendable {
        var ttft: Double = 0.1
        var itl: Double = 0.02
        var maxConcurrent = 8
        var failEvery = 0
        var model = "test-model"
    }

    let settings: Settings
    let port: Int
    private let channel: Channel
    let gate: Gate
    let requestCount = NIOLockedValueBox(0)
    /// Completions requests received but not yet finished: (now, peak).
    let inFlight = NIOLockedValueBox((now: 0, peak: 0))
    let bodies = NIOLockedValueBox<[Data]>([])

    private init(settings: Settings, channel: Channel, gate: Gate) {
        self.settings = settings; self.channel = channel; self.gate = gate
        port = channel.localAddress?.port ?? 0
    }

    static func start(_ settings: Settings) async throws -> FakeCompletionsServer {
        let gate = Gate(limit: settings.maxConcurrent)
        let box = NIOLockedValueBox<FakeCompletionsServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.configureHTTPServerPipeline().flatMap {
                    ch.pipeline.addHandler(Handler(server: { box.withLockedValue { $0! } }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = FakeCompletionsServer(settings: settings, channel: channel, gate: gate)
        box.withLockedValue { $0 = server }
        return server
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func stop() async throws { try await channel.close() }

    /// FIFO admission with a fixed number of slots; callbacks run on the caller's thread.
    final class Gate: Sendable {
        private let state: NIOLockedValueBox<(active: Int, waiting: [@Sendable () -> Void])>
        let limit: Int
        init(limit: Int) { self.limit = limit; state = NIOLockedValueBox((0, [])) }
        func acquire(_ start: @escaping @Sendable () -> Void) {
            let now = state.withLockedValue { s -> Bool in
                if s.active < limit { s.active += 1; return true }
                s.waiting.append(start); return false
            }
            if now { start() }
        }
        func release() {
            let next = state.withLockedValue { s -> (@Sendable () -> Void)? in
                if !s.waiting.isEmpty { return s.waiting.removeFirst() }  // slot passes on
                s.active -= 1; return nil
            }
            next?()
        }
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: () -> FakeCompletionsServer
        var head: HTTPRequestHead?
        var body = ByteBuffer()
        init(server: @escaping () -> FakeCompletionsServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(h): head = h; body.clear()
            case var .body(b): body.writeBuffer(&b)
            case .end:
                guard let head else { return }
                route(head, Data(body.readableBytesView), channel: context.channel)
            }
        }

        func route(_ head: HTTPRequestHead, _ body: Data, channel: Channel) {
            let s = server()
            if head.uri.hasPrefix("/v1/models") {
                return Self.respond(channel, .ok, #"{"object":"list","data":[{"id":"\#(s.settings.model)","object":"model"}]}"#)
            }
            guard head.method == .POST, head.uri.hasPrefix("/v1/completions") else {
                return Self.respond(channel, .notFound, #"{"error":{"message":"not found"}}"#)
            }
            let n = s.requestCount.withLockedValue { $0 += 1; return $0 }
            s.bodies.withLockedValue { $0.append(body) }
            if s.settings.failEvery > 0, n % s.settings.failEvery == 0 {
                return Self.respond(channel, .internalServerError, #"{"error":{"message":"injected failure"}}"#)
            }
            let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
            let maxTokens = max(json["max_tokens"] as? Int ?? 16, 1)
            let promptTokens = (json["prompt"] as? String)?.split(separator: " ").count ?? 0
            let includeUsage = ((json["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false
            let settings = s.settings, gate = s.gate, inFlight = s.inFlight
            inFlight.withLockedValue { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            gate.acquire {
                channel.eventLoop.execute {
                    Self.stream(channel, settings: settings, maxTokens: maxTokens, promptTokens: promptTokens,
                                includeUsage: includeUsage) {
                        inFlight.withLockedValue { $0.now -= 1 }
                        gate.release()
                    }
                }
            }
        }

        static func respond(_ channel: Channel, _ status: HTTPResponseStatus, _ text: String) {
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: "\(text.utf8.count)")
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text))), promise: nil)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        }

        /// Token k (0-based) is written at admission + ttft + k·itl.
        static func stream(_ channel: Channel, settings: Settings, maxTokens: Int, promptTokens: Int,
                           includeUsage: Bool, release: @escaping @Sendable () -> Void) {
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/event-stream")
            channel.writeAndFlush(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)), promise: nil)
            let start = NIODeadline.now()
            @Sendable func send(_ s: String) {
                channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: s))), promise: nil)
            }
            @Sendable func emit(_ k: Int) {
                guard channel.isActive else { return release() }
                let finish = k == maxTokens - 1 ? #""length""# : "null"
                send(#"data: {"id":"cmpl-test","object":"text_completion","created":0,"model":"\#(settings.model)","choices":[{"index":0,"text":" t\#(k)","logprobs":null,"finish_reason":\#(finish)}]}"# + "\n\n")
                if k + 1 < maxTokens {
                    let due = start + .nanoseconds(Int64((settings.ttft + Double(k + 1) * settings.itl) * 1e9))
                    channel.eventLoop.scheduleTask(deadline: due) { emit(k + 1) }
                    return
                }
                if includeUsage {
                    send(#"data: {"id":"cmpl-test","object":"text_completion","created":0,"model":"\#(settings.model)","choices":[],"usage":{"prompt_tokens":\#(promptTokens),"completion_tokens":\#(maxTokens),"total_tokens":\#(promptTokens + maxTokens)}}"# + "\n\n")
                }
                send("data: [DONE]\n\n")
                channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
                release()
            }
            channel.eventLoop.scheduleTask(deadline: start + .nanoseconds(Int64(settings.ttft * 1e9))) { emit(0) }
        }
    }
}
