import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RiptideEngine
import RiptideTokenizer
import ServiceLifecycle

public struct ServerOptions: Sendable {
    /// Larger request bodies get a 413.
    public var maxRequestBytes = 16 << 20
    /// Accept `forced_output` (tests make the random model emit known text with it).
    public var enableTestHooks = false
    /// The thinking mode of a chat request that does not choose one.
    public var defaultThinking: ThinkingMode = RiptideServer.defaultThinkingMode
    /// `/health` is 200 when the scheduler loop ran within this many seconds (or is idle).
    public var healthProgressWindow = 5.0
    /// Cap on a chat reply when the request gives no max_tokens (nil: the rest of the context,
    /// which for a model that never emits EOS, like the random built-in one, is a very long wait).
    public var defaultChatMaxTokens: Int? = 32768
    /// Abort a request when its client disconnects. Off only for in-process tests whose
    /// request bodies are not backed by a connection.
    public var detectDisconnects = true
    /// The model directory, reported by /get_model_info and /get_server_info.
    public var modelPath: String? = nil

    public init() {}
}

/// The OpenAI-compatible and SGLang-compatible HTTP server in front of one `Engine`.
///
/// `run()` serves until SIGTERM or SIGINT, then drains: admission stops (new requests and
/// `/health` get 503), requests in flight finish and their streams are written out, and only
/// then does the HTTP server stop and `run()` return.
public struct RiptideServer: Sendable {
    /// DeepSeek's own API runs DeepSeek-V4 with thinking on unless the request turns it off, so a
    /// chat request that picks no thinking mode reasons first (`reasoning_content`). Turn it off
    /// per request with `thinking: {"type": "disabled"}`, `chat_template_kwargs.thinking: false`
    /// or `reasoning_effort: "none"`, or for the server with `ServerOptions.defaultThinking`.
    public static let defaultThinkingMode: ThinkingMode = .thinking
    public static let version = "0.1.0"

    let context: ServingContext

    public init(
        engine: Engine, tokenizer: Tokenizer, modelName: String, host: String = "127.0.0.1", port: Int = 30000,
        apiKey: String? = nil, options: ServerOptions = ServerOptions(),
        logger: Logger = Logger(label: "riptide.server")
    ) {
        context = ServingContext(
            engine: engine, tokenizer: tokenizer, modelName: modelName, modelPath: options.modelPath, host: host,
            port: port, apiKey: apiKey.flatMap { $0.isEmpty ? nil : $0 }, options: options, logger: logger)
    }

    /// Serves until SIGTERM/SIGINT and the drain that follows. Prints one line when listening:
    /// `riptide serve: ready at http://HOST:PORT (model NAME)`.
    public func run() async throws {
        let context = self.context
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(context.host, port: context.port), serverName: "riptide"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? context.port
                let line = "riptide serve: ready at http://\(context.host):\(port) (model \(context.modelName))\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            },
            logger: context.logger)
        // Graceful shutdown runs in reverse order: the drain first, then the HTTP server.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: DrainService(context: context))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: context.logger))
        defer { context.engine.shutdown() }
        try await group.run()
    }

    /// Every route, for `run()` and for tests that drive the router directly.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ErrorMiddleware())
        if let key = context.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
        let chat = ChatHandler(context: context)
        let completions = CompletionsHandler(context: context)
        let generate = GenerateHandler(context: context)
        let ops = Operations(context: context)

        router.post("/v1/chat/completions") { request, _ in await chat.respond(request) }
        router.post("/v1/completions") { request, _ in await completions.respond(request) }
        router.get("/v1/models") { _, _ in ops.models() }
        router.get("/v1/models/**") { _, ctx in ops.model(ctx.parameters.getCatchAll().joined(separator: "/")) }

        router.get("/health") { _, _ in ops.health() }
        router.get("/health_generate") { _, _ in await ops.healthGenerate() }
        router.get("/metrics") { _, _ in ops.metrics() }
        router.post("/generate") { request, _ in await generate.respond(request) }
        router.post("/abort_request") { request, _ in await ops.abortRequest(request) }
        router.post("/flush_cache") { _, _ in await ops.flushCache() }
        router.get("/flush_cache") { _, _ in await ops.flushCache() }
        router.get("/get_model_info") { _, _ in ops.modelInfo() }
        router.get("/get_server_info") { _, _ in ops.serverInfo() }
        router.get("/server_info") { _, _ in ops.serverInfo() }
        router.get("/openapi.json") { _, _ in ops.openAPI() }
        router.get("/version") { _, _ in ops.version() }
        if context.options.enableTestHooks {
            router.get("/debug/invariants") { _, _ in ops.invariants() }
        }
        return router
    }
}

/// Waits for the graceful-shutdown signal, then drains: admission off, engine idle, handlers done.
struct DrainService: Service {
    let context: ServingContext

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is going down without a drain
        }
        let active = context.engine.stats()
        context.logger.info(
            "draining: admission stopped", metadata: ["running": "\(active.running)", "queued": "\(active.queued)"])
        context.beginDrain()
        await context.engine.waitUntilIdle()
        // The engine is idle; give handlers the moment they need to write their last chunks.
        while !context.activeRequestIDs.isEmpty {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        context.logger.info("drained; stopping the HTTP server")
    }
}

/// Turns anything thrown below (unknown routes included) into an OpenAI-shaped error.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let e as HTTPError where e.status == .notFound {
            return APIError.notFound("\(request.method) \(request.uri.path)").response
        } catch {
            let e = APIError.from(error)
            if e.status.code >= 500 { context.logger.error("request failed", metadata: ["error": "\(error)"]) }
            return e.response
        }
    }
}

/// `--api-key`: every route but the health, metrics and document ones needs `Authorization: Bearer KEY`.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    static let openPaths: Set<String> = ["/health", "/health_generate", "/metrics", "/openapi.json", "/version"]
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if Self.openPaths.contains(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Self.constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(key.utf8))
        else { return APIError.unauthorized.response }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
