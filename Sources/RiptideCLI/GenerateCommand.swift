import ArgumentParser
import Foundation
import RiptideEngine
import RiptideModel
import RiptideTokenizer

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt, streamed to stdout, and report tokens/s.",
        discussion: """
            Without --model it uses the built-in model, a tiny DeepSeek-V4-shaped checkpoint with random \
            weights written on first use to the cache folder (so its text is gibberish; the point is \
            the machinery). The prompt is wrapped in the DeepSeek-V4 chat format unless --raw is given.
            """)

    @Option(help: "Model directory (config.json, safetensors, tokenizer.json). Default: the built-in model.")
    var model: String?

    @Option(help: "The prompt text.")
    var prompt: String

    @Option(help: "Most tokens to generate.")
    var maxTokens: Int = 64

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0.6

    @Option(help: "Nucleus sampling: keep the smallest set of tokens with this much probability.")
    var topP: Float = 0.95

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Flag(help: "Send the prompt as raw text (after BOS) instead of as a chat user turn.")
    var raw = false

    @Flag(help: "Chat in thinking mode (the model reasons first).")
    var thinking = false

    @Option(help: "Linear kernels: fast (packed, all threads) or reference (bit-exact with tools/reference).")
    var kernels: KernelChoice = .fast

    func run() async throws {
        guard maxTokens >= 1 else { throw CLIError("--max-tokens must be at least 1") }
        guard temperature >= 0, topP > 0, topP <= 1 else { throw CLIError("--temperature must be ≥ 0 and --top-p in (0, 1]") }
        let dir = try model.map { URL(fileURLWithPath: $0) } ?? BuiltinModel.directory()
        let loadStart = ContinuousClock.now
        let transformer = try loadModel(dir.path, kernels: kernels)
        let tokenizer = try modelTokenizer(dir.path)
        let loadSeconds = secondsSince(loadStart)

        let text = raw
            ? "<｜begin▁of▁sentence｜>" + prompt
            : try DSV4ChatEncoder.encode([.user(prompt)], options: ChatEncodingOptions(thinkingMode: thinking ? .thinking : .chat))
        let ids = tokenizer.encode(text)
        var config = EngineConfig()
        config.stateMemoryBytes = 1 << 30
        config.prefixCache = false
        let engine = try Engine(model: transformer, tokenizer: tokenizer, config: config)
        var sampling = SamplingParams()
        sampling.temperature = temperature
        sampling.topP = topP
        sampling.seed = seed
        sampling.maxTokens = maxTokens
        var finished: (Usage, Timings)?
        var failure: EngineError?
        let stream: AsyncStream<EngineEvent>
        do { stream = try engine.submit(GenerationRequest(id: "generate", promptTokens: ids, sampling: sampling)) } catch { throw CLIError("\(error)") }
        for await event in stream {
            switch event {
            case .delta(let d): emit(d.text)
            case .completed(let usage, let timings): finished = (usage, timings)
            case .failed(let e): failure = e
            case .started, .finished: break
            }
        }
        engine.shutdown()
        print("")
        if let failure { throw CLIError("\(failure)") }
        guard let (usage, timings) = finished else { throw CLIError("the engine ended the request without a result") }
        let decodeSeconds = max(timings.total - timings.timeToFirstToken, 1e-9)
        print(String(format: "[%d prompt tokens, first token after %.2f s (%.1f tok/s); %d generated: %.2f tok/s; load %.2f s]",
                     usage.promptTokens, timings.timeToFirstToken, Double(usage.promptTokens) / timings.timeToFirstToken,
                     usage.completionTokens, Double(max(usage.completionTokens - 1, 0)) / decodeSeconds, loadSeconds))
    }

    private func emit(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
