import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RiptideEngine
import RiptideTokenizer

/// A value behind a lock, for the little state the request handlers share.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Everything a handler needs: the engine, the tokenizers, the served name, options and
/// metrics, plus the shared state (draining flag, requests in flight). One per server.
final class ServingContext: Sendable {
    let engine: Engine
    let tokenizer: Tokenizer
    let promptTokenizer: PromptTokenizer
    let modelName: String
    let modelPath: String?
    let host: String
    let port: Int
    let apiKey: String?
    let options: ServerOptions
    let metrics: ServerMetrics
    let logger: Logger
    let limits: RequestLimits

    private struct State {
        var draining = false
        /// Engine request ids being streamed or collected by a handler.
        var active: Set<String> = []
    }
    private let state = Locked(State())

    init(engine: Engine, tokenizer: Tokenizer, modelName: String, modelPath: String?, host: String, port: Int,
         apiKey: String?, options: ServerOptions, logger: Logger) {
        self.engine = engine
        self.tokenizer = tokenizer
        self.promptTokenizer = PromptTokenizer(tokenizer: tokenizer)
        self.modelName = modelName
        self.modelPath = modelPath
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.options = options
        self.metrics = ServerMetrics(modelName: modelName)
        self.logger = logger
        self.limits = RequestLimits(
            vocabularySize: tokenizer.vocabularySize, tokenizer: tokenizer, testHooks: options.enableTestHooks,
            defaultThinking: options.defaultThinking)
    }

    // MARK: Admission

    var isDraining: Bool { state.withLock { $0.draining } }

    /// SIGTERM: new requests get 503 and /health turns 503; what runs goes on.
    func beginDrain() {
        state.withLock { $0.draining = true }
        engine.beginDrain()
    }

    var activeRequestIDs: [String] { state.withLock { Array($0.active) } }

    /// The body as bytes, at most `options.maxRequestBytes` (more is a 413).
    func readBody(_ request: inout Request) async throws -> [UInt8] {
        let limit = options.maxRequestBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: limit)
        }
    }

    /// The served name is accepted, and so is no name at all.
    func checkModel(_ name: String?) throws {
        guard let name, name != modelName else { return }
        throw APIError.modelNotFound(name, served: modelName)
    }

    /// The generation limit: `requested` if prompt plus it fits the context (else a 400 naming
    /// both counts), otherwise the rest of the context, capped by `defaultCap`.
    func maxTokens(requested: Int?, promptLength: Int, defaultCap: Int?, param: String) throws -> Int {
        let limit = engine.contextLength
        if let requested {
            guard promptLength + requested <= limit else {
                throw APIError.engine(.contextLength(requested: promptLength + requested, limit: limit), param: param)
            }
            return requested
        }
        let room = limit - promptLength
        guard room >= 1 else {
            throw APIError.engine(.contextLength(requested: promptLength + 1, limit: limit), param: param)
        }
        return min(room, defaultCap ?? room)
    }

    /// Queues one engine request; refusals become API errors (400, 429, 503). The events pass
    /// through a relay that records the request's metrics even when the handler stops reading
    /// (a client that went away); dropping the returned stream aborts the request.
    func submit(id: String, prompt: [Int], sampling: SamplingParams, param: String) throws -> AsyncStream<EngineEvent> {
        if isDraining { throw APIError.draining }
        guard !prompt.isEmpty else { throw APIError.invalid("the prompt is empty", param: param) }
        let events: AsyncStream<EngineEvent>
        do {
            events = try engine.submit(GenerationRequest(id: id, promptTokens: prompt, sampling: sampling))
        } catch let e as EngineError {
            throw APIError.engine(e, param: param)
        }
        let (relayed, continuation) = AsyncStream<EngineEvent>.makeStream(bufferingPolicy: .unbounded)
        let (engine, metrics, choices) = (self.engine, self.metrics, sampling.n)
        continuation.onTermination = { reason in
            if case .cancelled = reason { engine.abort(id) }
        }
        Task {
            var aborted = false
            for await event in events {
                switch event {
                case .finished(_, .abort, _): aborted = true
                case .completed(let usage, let timings): metrics.record(usage: usage, timings: timings, aborted: aborted, choices: choices)
                case .failed: metrics.recordFailure()
                default: break
                }
                continuation.yield(event)
            }
            continuation.finish()
        }
        return relayed
    }

    /// Runs `body` (which consumes the engine events of `ids`) so that a client disconnect, an
    /// error while writing, or the server-side timeout aborts those requests in the engine.
    func drive<T: Sendable>(_ request: Request, ids: [String], _ body: () async throws -> T) async throws -> T {
        state.withLock { $0.active.formUnion(ids) }
        let engine = self.engine
        let watchdog = engine.config.requestTimeout.map { limit in
            Task {
                // The engine enforces the timeout itself; this only catches a request it lost.
                try await Task.sleep(nanoseconds: UInt64((limit + 5) * 1e9))
                for id in ids { engine.abort(id) }
            }
        }
        defer {
            watchdog?.cancel()
            state.withLock { $0.active.subtract(ids) }
        }
        do {
            guard options.detectDisconnects else { return try await body() }
            return try await request.body.consumeWithInboundCloseHandler { _ in
                try await body()
            } onInboundClosed: {
                for id in ids { engine.abort(id) }
            }
        } catch {
            for id in ids { engine.abort(id) }
            throw error
        }
    }

    func newID(_ prefix: String) -> String { prefix + randomToken(24) }

    /// Marks a response of a request that went through `drive` as the connection's last.
    /// Watching for the client's disconnect ends the connection's input (Hummingbird cancels its
    /// read when the handler returns), so the connection cannot carry another request; saying so
    /// keeps pooling clients from reusing it.
    func closingConnection(_ response: Response) -> Response {
        guard options.detectDisconnects else { return response }
        var response = response
        response.headers[.connection] = "close"
        return response
    }
}

/// Aborts engine requests whose response is dropped before it is written (a client that left
/// before the first byte): the streaming body closure holds one, and it aborts when released.
/// Aborting a finished request is a no-op.
final class AbortOnRelease: Sendable {
    let engine: Engine
    let ids: [String]

    init(engine: Engine, ids: [String]) {
        self.engine = engine
        self.ids = ids
    }

    deinit { for id in ids { engine.abort(id) } }
}

/// Merges the event streams of several engine requests, tagging each event with its stream's
/// position; ends when all have ended.
func mergeEvents(_ streams: [AsyncStream<EngineEvent>]) -> AsyncStream<(Int, EngineEvent)> {
    AsyncStream { continuation in
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                for (n, stream) in streams.enumerated() {
                    group.addTask {
                        for await event in stream { continuation.yield((n, event)) }
                    }
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
    }
}
