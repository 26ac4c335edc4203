import ArgumentParser
import Foundation
import RiptideBench
import RiptideTokenizer

/// `riptide bench`: the InferenceX client protocol (method §3) against any OpenAI-compatible server.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Sweep concurrency against an OpenAI-compatible /v1/completions server (InferenceX method).")

    @Option(help: "Server base URL, e.g. http://127.0.0.1:8000") var baseURL: String
    @Option(help: "Nominal input length (tokens).") var isl: Int
    @Option(help: "Nominal output length (tokens).") var osl: Int
    @Option(help: "Comma-separated concurrencies, e.g. 1,2,4,8.") var conc: String
    @Option(help: "Lengths are drawn from U[ratio·L, L].") var rangeRatio: Double = 0.8
    @Option(help: "Devices serving the model; throughput per device = total / devices.") var devices: Int = 1
    @Option(help: "Label stored with every row.") var label: String = "riptide"
    @Option(help: "tokenizer.json used to build prompts (default: the bundled DeepSeek-V4 tokenizer).")
    var tokenizer: String?
    @Option(help: "Model name to send (default: GET /v1/models → data[0].id).") var model: String?
    @Option(help: "Hardware name stored with rows.") var hardware: String = "cpu"
    @Option(help: "Framework name stored with rows.") var framework: String = "riptide"
    @Option(help: "Precision stored with rows.") var precision: String = "bf16"
    @Option(help: "Prompt RNG seed.") var seed: UInt64 = 0
    @Option(help: "Prompts per point = conc × this (InferenceX: 10).") var promptsPerConc = 10
    @Option(help: "Warmup requests per point = conc × this (InferenceX: 2).") var warmupsPerConc = 2
    @Option(help: "JSON object merged into every request body, e.g. '{\"cache_prompt\": false}' for llama-server.")
    var extraBody: String?
    @Option(help: "Where to write the JSON rows (default: riptide-bench-<label>-<isl>-<osl>.json).") var out: String?
    @Option(help: "SQLite history store to append rows to.") var store: String = "riptide-bench.sqlite"
    @Flag(help: "Do not append rows to the SQLite store.") var noStore = false
    @Flag(help: "Hide the progress bar (it is only drawn when stderr is a terminal anyway).") var noProgress = false

    func run() async throws {
        let concs = try conc.split(separator: ",").map { s -> Int in
            guard let c = Int(s.trimmingCharacters(in: .whitespaces)), c > 0 else {
                throw ValidationError("--conc must be positive integers, got '\(s)'")
            }
            return c
        }
        var config = BenchConfig(baseURL: baseURL, inputLength: isl, outputLength: osl, concurrencies: concs)
        config.rangeRatio = rangeRatio
        config.devices = devices
        config.label = label
        config.model = model
        config.apiKey = ProcessInfo.processInfo.environment["OPENAI_API_KEY"]
        config.hardware = hardware
        config.framework = framework
        config.precision = precision
        config.seed = seed
        guard promptsPerConc > 0, warmupsPerConc >= 0 else { throw ValidationError("--prompts-per-conc must be > 0, --warmups-per-conc ≥ 0") }
        config.promptsPerConcurrency = promptsPerConc
        config.warmupsPerConcurrency = warmupsPerConc
        if let extraBody {
            guard let object = try? JSONSerialization.jsonObject(with: Data(extraBody.utf8)) as? [String: Any] else {
                throw ValidationError("--extra-body must be a JSON object, got '\(extraBody)'")
            }
            config.extraBody = try JSONSerialization.data(withJSONObject: object)
        }
        config.showProgress = !noProgress

        let runner = BenchRunner(config: config, codec: try Self.loadCodec(path: tokenizer))
        let path = out ?? "riptide-bench-\(label)-\(isl)-\(osl).json"
        // Each finished point is saved at once (JSON rewritten, store appended): CPU sweeps run for
        // hours, and an interrupted sweep should keep every point it measured.
        let sink = try RowSink(jsonPath: path, store: noStore ? nil : ResultStore(path: store))
        let results = try await runner.run { p in
            sink.save(p.row)
            let m = p.metrics, o = p.overhead
            print(String(format: "conc %4d  %9.1f tok/s/device  %7.2f tok/s/user  TTFT p50 %8.1f ms  TPOT p50 %7.2f ms  %d/%d ok  client %.1f%% CPU (sustains ~%.0f req/s)%@",
                         p.row.conc, p.row.tputPerGPU ?? 0, m.medianInteractivity, m.ttftMs.median, m.tpotMs.median,
                         m.completed, m.numPrompts, o.cpuUtilization * 100, o.sustainableRequestRate,
                         m.pointFailed ? "  FAILED (\(m.firstError ?? "?"))" : ""))
            // A client near one full core is the bottleneck (InferenceX KNOWN_LIMITATION): say so.
            if o.cpuUtilization > 0.5 {
                FileHandle.standardError.write(Data("warning: conc \(p.row.conc): the client used \(Int(o.cpuUtilization * 100))% of a core; results may be client-bound\n".utf8))
            }
        }
        if let error = sink.firstError { throw error }
        print("wrote \(results.count) rows to \(path)" + (noStore ? "" : "; appended them to \(store)"))
        let failed = results.filter(\.metrics.pointFailed).map(\.row.conc)
        if !failed.isEmpty {
            FileHandle.standardError.write(Data("error: more than 5% of requests failed at conc \(failed.map(String.init).joined(separator: ","))\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The target model's tokenizer builds the prompts (method §3): `--tokenizer`, else DeepSeek-V4's.
    static func loadCodec(path: String?) throws -> any PromptCodec {
        do {
            return TokenizerCodec(tokenizer: try path.map { try Tokenizer(contentsOf: URL(fileURLWithPath: $0)) } ?? Tokenizer.bundled())
        } catch {
            throw ValidationError("--tokenizer \(path ?? "bundled"): \(error)")
        }
    }
}

/// RiptideTokenizer's BPE as the benchmark's prompt codec.
struct TokenizerCodec: PromptCodec {
    let tokenizer: Tokenizer
    var vocabularySize: Int { tokenizer.vocabularySize }
    func encode(_ text: String) -> [Int] { tokenizer.encode(text) }
    func decode(_ ids: [Int]) -> String { tokenizer.decode(ids) }
}

/// Saves rows as points finish. Called from the runner's callback, hence the lock.
final class RowSink: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [ResultRow] = []
    private(set) var firstError: Error?
    let jsonPath: String
    let store: ResultStore?

    init(jsonPath: String, store: ResultStore?) {
        self.jsonPath = jsonPath; self.store = store
    }

    func save(_ row: ResultRow) {
        lock.lock(); defer { lock.unlock() }
        rows.append(row)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(fileURLWithPath: jsonPath))
            try store?.append([row])
        } catch {
            if firstError == nil { firstError = error }
        }
    }
}
