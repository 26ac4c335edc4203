import Foundation
import Hummingbird
import RiptideEngine
import RiptideTokenizer

/// The operational endpoints: SGLang's health checks, metrics and admin calls (as sglang-router
/// and SGLang's tools call them), `/v1/models` and the OpenAPI document.
struct Operations: Sendable {
    let context: ServingContext
    let startedAt = unixTime()
    /// `/health_generate` waits this long for its one token.
    static let healthGenerateTimeout = 20.0

    private var engine: Engine { context.engine }

    /// 200 when the scheduler made progress within the health window or has nothing to do;
    /// 503 while draining or when the loop is stuck.
    func health() -> Response {
        if context.isDraining { return JSONOutput.text("draining\n", status: .serviceUnavailable) }
        let stats = engine.stats()
        let idle = stats.running == 0 && stats.queued == 0
        let recent = Engine.now() - stats.lastProgress <= context.options.healthProgressWindow
        return idle || recent ? JSONOutput.text("") : JSONOutput.text("the scheduler made no progress\n", status: .serviceUnavailable)
    }

    /// Generates one token from BOS (unless requests are already making progress, which proves
    /// the same), like SGLang's.
    func healthGenerate() async -> Response {
        if context.isDraining { return JSONOutput.text("draining\n", status: .serviceUnavailable) }
        let stats = engine.stats()
        if stats.running > 0 && Engine.now() - stats.lastProgress <= context.options.healthProgressWindow {
            return JSONOutput.text("")
        }
        var sampling = SamplingParams()
        sampling.maxTokens = 1
        sampling.temperature = 0
        let id = "health-" + randomToken(16)
        let bos = context.tokenizer.id(forToken: DSV4ChatTokens.bos) ?? 0
        let events: AsyncStream<EngineEvent>
        do {
            events = try engine.submit(GenerationRequest(id: id, promptTokens: [bos], sampling: sampling))
        } catch {
            return JSONOutput.text("health generation refused: \(error)\n", status: .serviceUnavailable)
        }
        defer { engine.abort(id) }
        let ok = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await event in events {
                    switch event {
                    case .delta, .completed: return true
                    case .finished(_, let reason, _): return reason != .abort
                    case .failed: return false
                    case .started: continue
                    }
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(Self.healthGenerateTimeout * 1e9))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        return ok ? JSONOutput.text("") : JSONOutput.text("health generation failed\n", status: .serviceUnavailable)
    }

    func metrics() -> Response {
        JSONOutput.text(
            context.metrics.render(stats: engine.stats()), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    private var modelCard: OrderedJSON {
        [
            "id": .string(context.modelName), "object": "model", "created": .int(startedAt), "owned_by": "riptide",
            "root": .string(context.modelName), "parent": .null, "max_model_len": .int(engine.contextLength),
        ]
    }

    func models() -> Response {
        JSONOutput.response(["object": "list", "data": [modelCard]])
    }

    func model(_ name: String) -> Response {
        name == context.modelName ? JSONOutput.response(modelCard) : APIError.modelNotFound(name, served: context.modelName).response
    }

    /// `{"rid": id}` or `{"abort_all": true}`; unknown ids are ignored (SGLang answers 200 too).
    func abortRequest(_ request: Request) async -> Response {
        do {
            var request = request
            let f = try JSONFields.parseBody(try await context.readBody(&request))
            if try f.bool("abort_all") == true {
                for id in context.activeRequestIDs { engine.abort(id) }
            } else {
                guard let rid = try f.string("rid") else { throw APIError.invalid("'rid' is required", param: "rid") }
                engine.abort(rid)
                // A batched /generate or /v1/completions request has numbered engine requests.
                for id in context.activeRequestIDs where id.hasPrefix(rid + "-") { engine.abort(id) }
            }
            return JSONOutput.text("")
        } catch {
            return APIError.from(error).response
        }
    }

    func flushCache() async -> Response {
        if await engine.flushCache() {
            return JSONOutput.text("Cache flushed.\n")
        }
        return JSONOutput.text(
            "Cache not flushed: requests are running or waiting; retry when the server is idle.\n", status: .badRequest)
    }

    func modelInfo() -> Response {
        let path = context.modelPath ?? context.modelName
        return JSONOutput.response([
            "model_path": .string(path), "tokenizer_path": .string(path), "served_model_name": .string(context.modelName),
            "is_generation": true, "preferred_sampling_params": .null, "weight_version": "default",
            "has_image_understanding": false, "has_audio_understanding": false, "model_type": "deepseek_v4",
            "architectures": ["DeepseekV4ForCausalLM"], "max_context_length": .int(engine.contextLength),
        ])
    }

    func serverInfo() -> Response {
        let c = engine.config
        let stats = engine.stats()
        let path = context.modelPath ?? context.modelName
        return JSONOutput.response([
            "version": .string(RiptideServer.version), "model_path": .string(path), "tokenizer_path": .string(path),
            "served_model_name": .string(context.modelName), "host": .string(context.host), "port": .int(context.port),
            "context_length": .int(engine.contextLength), "max_running_requests": .int(c.maxRunningRequests),
            "max_queued_requests": .int(c.maxQueuedRequests), "max_prefill_tokens": .int(c.maxPrefillTokens),
            "chunked_prefill_size": .int(c.chunkedPrefillSize), "schedule_policy": .string(c.schedulePolicy.rawValue),
            "decode_steps": .int(c.decodeSteps), "state_memory_bytes": .int(c.stateMemoryBytes),
            "disable_radix_cache": .bool(!c.prefixCache), "request_timeout": c.requestTimeout.map { .float($0) } ?? .null,
            "default_thinking": .bool(context.options.defaultThinking == .thinking),
            "enable_test_hooks": .bool(context.options.enableTestHooks),
            "max_request_bytes": .int(context.options.maxRequestBytes),
            "tp_size": 1, "dp_size": 1, "pp_size": 1, "page_size": 1, "skip_tokenizer_init": false,
            "internal_states": [[
                "num_running_reqs": .int(stats.running), "num_queue_reqs": .int(stats.queued),
                "token_usage": .float(stats.tokenUsage), "cache_hit_rate": .float(stats.cacheHitRate),
                "draining": .bool(context.isDraining),
            ]],
        ])
    }

    func openAPI() -> Response {
        JSONOutput.text(OpenAPIDocument.json, contentType: "application/json")
    }

    /// Test hooks only: the engine's memory-accounting check (200 when every byte is accounted for).
    func invariants() -> Response {
        let problems = engine.checkInvariants()
        return JSONOutput.response(
            ["problems": .array(problems.map { .string($0) })], status: problems.isEmpty ? .ok : .internalServerError)
    }

    func version() -> Response {
        JSONOutput.response(["version": .string(RiptideServer.version)])
    }
}
