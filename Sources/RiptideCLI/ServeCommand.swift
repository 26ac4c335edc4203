import ArgumentParser
import Foundation
import Logging
import RiptideEngine
import RiptideModel
import RiptideServer
import RiptideTokenizer

/// `riptide serve`: the OpenAI- and SGLang-compatible HTTP server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over the OpenAI API (/v1/chat/completions, /v1/completions) and SGLang's endpoints.",
        discussion: """
            Without MODEL_DIR it serves the built-in model, a tiny DeepSeek-V4-shaped checkpoint with random \
            weights written on first use to the cache folder. It prints one line when it is ready: \
            "riptide serve: ready at http://HOST:PORT (model NAME)".

            Thinking: chat requests run in thinking mode by default, as DeepSeek's own API does for \
            DeepSeek-V4 (reasoning comes back as reasoning_content). A request turns it off with \
            thinking: {"type": "disabled"}, chat_template_kwargs: {"thinking": false} or \
            reasoning_effort: "none"; reasoning_effort low/medium/high runs as high, xhigh/max as max. \
            --default-thinking disabled changes the default for requests that say nothing.

            SIGTERM or SIGINT drains: new requests get 503, requests in flight finish, then the server exits.
            """)

    @Argument(help: "Model directory (config.json, safetensors, tokenizer.json). Default: the built-in model.")
    var modelDir: String?

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (SGLang's default; 0 picks a free one).") var port = 30000
    @Option(help: "Require 'Authorization: Bearer KEY' on the API (health, metrics stay open). Default: $RIPTIDE_API_KEY.")
    var apiKey: String?
    @Option(help: "Model name in responses and the one requests must name (default: the directory's name).")
    var servedModelName: String?
    @Option(help: "Linear kernels: fast (packed, all threads) or reference (bit-exact with tools/reference).")
    var kernels: KernelChoice = .fast
    @Option(help: "Thinking mode of chat requests that do not choose one: enabled (DeepSeek's API default) or disabled.")
    var defaultThinking: ThinkingToggle = .enabled

    @Option(help: "Most requests running at once.") var maxRunningRequests = EngineConfig().maxRunningRequests
    @Option(help: "Most requests waiting; more get HTTP 429.") var maxQueuedRequests = EngineConfig().maxQueuedRequests
    @Option(help: "Most prompt tokens computed in one step.") var maxPrefillTokens = EngineConfig().maxPrefillTokens
    @Option(help: "Largest prompt chunk of one request in a step that also decodes (0: whole prompts).")
    var chunkedPrefillSize = EngineConfig().chunkedPrefillSize
    @Option(help: "Scheduling order: fcfs or lpm (longest prefix match first).")
    var schedulePolicy: EngineConfig.SchedulePolicy = EngineConfig().schedulePolicy
    @Option(help: "Decode steps per scheduling round.") var decodeSteps = EngineConfig().decodeSteps
    @Option(help: "Share of a request's remaining max_tokens that admission reserves state memory for (0 to 1).")
    var projectedOutputFraction = EngineConfig().projectedOutputFraction
    @Option(help: "State memory for requests and prefix snapshots: bytes, 4GiB, 512MiB, or a fraction of free RAM (0.5).")
    var stateMemory: String?
    @Option(help: "Context limit in tokens (default: the model's max_position_embeddings).") var contextLength: Int?
    @Flag(help: "Do not keep state snapshots for prefix reuse.") var disablePrefixCache = false
    @Option(help: "Seconds a request may run before it is aborted (default: no limit).") var requestTimeout: Double?
    @Option(help: "Largest request body: bytes or a size such as 16MiB.") var maxRequestBytes = "16MiB"
    @Option(help: "Longest chat reply when a request gives no max_tokens (0: the rest of the context).")
    var defaultMaxTokens = ServerOptions().defaultChatMaxTokens ?? 0
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Flag(help: .hidden) var enableTestHooks = false

    enum ThinkingToggle: String, ExpressibleByArgument, CaseIterable { case enabled, disabled }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxRunningRequests > 0, maxQueuedRequests >= 0, maxPrefillTokens > 0, chunkedPrefillSize >= 0, decodeSteps > 0
        else { throw ValidationError("engine limits must be positive (--chunked-prefill-size and --max-queued-requests may be 0)") }
        if let contextLength, contextLength <= 0 { throw ValidationError("--context-length must be positive") }
        if let requestTimeout, !(requestTimeout > 0) { throw ValidationError("--request-timeout must be positive") }
        guard defaultMaxTokens >= 0 else { throw ValidationError("--default-max-tokens must not be negative") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "riptide.serve")

        var config = EngineConfig()
        config.maxRunningRequests = maxRunningRequests
        config.maxQueuedRequests = maxQueuedRequests
        config.maxPrefillTokens = maxPrefillTokens
        config.chunkedPrefillSize = chunkedPrefillSize
        config.schedulePolicy = schedulePolicy
        config.decodeSteps = decodeSteps
        guard (0...1).contains(projectedOutputFraction) else { throw CLIError("--projected-output-fraction must be between 0 and 1") }
        config.projectedOutputFraction = projectedOutputFraction
        if let stateMemory {
            guard let bytes = Self.parseSize(stateMemory, fractionOf: Self.availableMemory()) else {
                throw CLIError("--state-memory: expected bytes, a size such as 4GiB, or a fraction such as 0.5; got '\(stateMemory)'")
            }
            config.stateMemoryBytes = bytes
        }
        config.contextLength = contextLength
        config.prefixCache = !disablePrefixCache
        config.requestTimeout = requestTimeout
        guard let bodyLimit = Self.parseSize(maxRequestBytes, fractionOf: nil), bodyLimit > 0 else {
            throw CLIError("--max-request-bytes: expected bytes or a size such as 16MiB; got '\(maxRequestBytes)'")
        }

        let dir = try modelDir.map { URL(fileURLWithPath: $0) } ?? BuiltinModel.directory()
        let loadStart = ContinuousClock.now
        let transformer = try loadModel(dir.path, kernels: kernels)
        let tokenizer = try modelTokenizer(dir.path)
        let engine = try Engine(model: transformer, tokenizer: tokenizer, config: config)
        logger.info("model loaded", metadata: [
            "dir": "\(dir.path)", "seconds": "\(String(format: "%.2f", secondsSince(loadStart)))",
            "context": "\(engine.contextLength)", "state_memory": "\(humanBytes(config.stateMemoryBytes))",
        ])

        var options = ServerOptions()
        options.maxRequestBytes = bodyLimit
        options.enableTestHooks = enableTestHooks
        options.defaultThinking = defaultThinking == .enabled ? .thinking : .chat
        options.modelPath = dir.path
        options.defaultChatMaxTokens = defaultMaxTokens > 0 ? defaultMaxTokens : nil
        let name = servedModelName ?? (modelDir == nil ? "riptide-\(BuiltinModel.preset.rawValue)" : dir.lastPathComponent)
        let key = apiKey ?? ProcessInfo.processInfo.environment["RIPTIDE_API_KEY"]
        if enableTestHooks { logger.warning("test hooks are on: requests may force the model's output") }
        let server = RiptideServer(
            engine: engine, tokenizer: tokenizer, modelName: name, host: host, port: port, apiKey: key, options: options,
            logger: logger)
        try await server.run()
    }

    /// "4GiB", "512MiB", "2GB", "1048576" → bytes; "0.5" → that fraction of `whole` (when given).
    static func parseSize(_ text: String, fractionOf whole: Int?) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let whole, s.contains("."), let f = Double(s), f > 0, f <= 1 { return Int(Double(whole) * f) }
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024), ("TiB", 1024 * 1024 * 1024 * 1024),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("K", 1024), ("M", 1024 * 1024), ("G", 1024 * 1024 * 1024),
            ("B", 1),
        ]
        for (suffix, scale) in units where s.lowercased().hasSuffix(suffix.lowercased()) {
            guard let v = Double(s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v > 0 else { return nil }
            return Int(v * scale)
        }
        guard let n = Int(s), n > 0 else { return nil }
        return n
    }

    /// MemAvailable from /proc/meminfo (Linux), else the physical memory.
    static func availableMemory() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        {
            return kib * 1024
        }
        return Int(ProcessInfo.processInfo.physicalMemory)
    }
}

extension EngineConfig.SchedulePolicy: ExpressibleByArgument {}
