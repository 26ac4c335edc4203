import ArgumentParser
import Foundation
import RiptideEngine
import RiptideKernels
import RiptideModel
import RiptideTokenizer

/// `riptide bench-engine`: the engine's state accounting against the spec, its admission under a
/// byte budget, and its decode step time at several batch sizes against the roofline time of the
/// step's unique bytes, measured in the same run.
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Engine benchmark: state bytes vs the spec, admission under --state-memory, batched decode vs the read roofline.")

    @Option(help: "Model directory (e.g. `init-model --preset flash --layers 4`).")
    var model: String

    @Option(help: "Batch sizes to time.")
    var batch = "1,4,16,32"

    @Option(help: "Prompt tokens per request before the timed decode steps.")
    var prompt = 64

    @Option(help: "Decode steps timed per batch size.")
    var steps = 8

    @Option(help: "Prompt tokens of each request in the admission check.")
    var admissionTokens = 8192

    @Option(help: "State memory of the admission check, in bytes.")
    var admissionMemory = 1 << 30

    func run() throws {
        let batches = try parseIds(batch, "--batch").filter { $0 > 0 }
        guard prompt > 0, steps > 0, admissionTokens > 0, admissionMemory > 0 else { throw CLIError("sizes must be positive") }
        let transformer = try loadModel(model, kernels: .fast)
        let tokenizer = try modelTokenizer(model)
        let c = transformer.config
        say("bench-engine: \(model); machine: \(machineSummary())")
        try stateAccounting(transformer)
        try admission(transformer, tokenizer)
        let cost = StepCost(config: c)
        var firstNsPerByte: Double?, firstOverBound: Double?
        say("\ndecode steps (median of \(steps)); unique bytes = dense weights + head once + routed experts' union + state;")
        say("bound = the larger of bytes / read bandwidth and weight products' FLOPs / product peak, both measured in this run:")
        say("  batch   step ms   unique MB   read ms   GFLOP   compute ms   bound/step   ns/MB vs b1   step/bound vs b1   attention    MoE   head  other ms   sched")
        for b in batches {
            let run = try decodeSteps(transformer, tokenizer, batch: b)
            let unique = cost.uniqueBytes(batch: b, experts: run.experts, stateBytes: run.stateBytes)
            let flops = 2 * Double(cost.macs(batch: b))
            let readTime = Double(unique) / (run.readGBps * 1e9), computeTime = flops / (run.peakGflops * 1e9)
            let bound = max(readTime, computeTime)
            let perByte = run.stepSeconds / Double(unique), overBound = run.stepSeconds / bound
            if firstNsPerByte == nil { (firstNsPerByte, firstOverBound) = (perByte, overBound) }
            let p = run.parts
            say(String(format: "  %5d  %8.2f  %10.1f  %8.2f  %6.1f  %11.2f  %10.0f%%  %11.2f×  %16.2f×  %9.1f  %6.1f  %5.1f  %8.1f  %5.2f%%   (read %.1f GB/s, peak %.0f GFLOP/s)",
                         b, run.stepSeconds * 1e3, Double(unique) / 1e6, readTime * 1e3, flops / 1e9, computeTime * 1e3,
                         100 * bound / run.stepSeconds, perByte / firstNsPerByte!, overBound / firstOverBound!,
                         p.attention * 1e3, p.moe * 1e3, p.head * 1e3, (p.total - p.attention - p.moe - p.head) * 1e3,
                         100 * run.schedulerSeconds / run.stepSeconds, run.readGBps, run.peakGflops))
        }
    }

    /// Per layer type: fixed bytes per request and bytes per token, measured on a real state,
    /// next to the spec's bf16 accounting (§4.9).
    private func stateAccounting(_ model: Transformer) throws {
        let c = model.config, tokens = 1024
        let state = model.newSequence(mtp: false)
        let empty = state.layerBytes
        let ids = (0..<tokens).map { 1000 + ($0 * 7919) % 100_000 }
        for start in stride(from: 0, to: tokens, by: 256) {
            _ = try model.forward([.init(tokens: Array(ids[start..<(start + 256)]), state: state, forceIncremental: true)])
        }
        let full = state.layerBytes
        say("\nstate accounting (measured over \(tokens) tokens; spec §4.9 in bf16, compressor pending rows fp32):")
        say("  layer type     fixed bytes   spec fixed   bytes/token   spec bytes/token")
        for ratio in Array(Set(c.compressRatios.prefix(c.nLayers))).sorted() {
            guard let l = c.compressRatios.prefix(c.nLayers).firstIndex(of: ratio) else { continue }
            let perToken = Double(full[l] - empty[l]) / Double(tokens)
            var specFixed = c.windowSize * c.headDim * 2
            var specPerToken = 0.0
            if ratio > 0 {  // kv and score: [8, 2·head_dim] for ratio 4 (overlapping), else [ratio, head_dim]
                specFixed += 2 * (ratio == 4 ? 8 * 2 * c.headDim : ratio * c.headDim) * 4
                specPerToken += Double(c.headDim * 2) / Double(ratio)
            }
            if ratio == 4 {
                specFixed += 2 * 8 * 2 * c.indexHeadDim * 4
                specPerToken += Double(c.indexHeadDim * 2) / 4
            }
            say(String(format: "  ratio %-6d  %12d  %11d  %12.1f  %17.1f", ratio, empty[l], specFixed, perToken, specPerToken))
        }
        say("  per request: \(empty.reduce(0, +)) fixed bytes + \(full.reduce(0, +) - empty.reduce(0, +)) for \(tokens) tokens "
              + "(formula: \(SequenceState.bytes(config: c, tokens: tokens, mtp: false)) at \(tokens) tokens)")
    }

    /// How many `admissionTokens`-token requests the engine admits at once in `admissionMemory`.
    private func admission(_ model: Transformer, _ tokenizer: Tokenizer) throws {
        var config = EngineConfig()
        config.stateMemoryBytes = admissionMemory
        config.maxRunningRequests = 1 << 20
        config.prefixCache = false
        let need = SequenceState.bytes(config: model.config, tokens: admissionTokens + 1, mtp: false)
        let allowed = admissionMemory / need
        let engine = try Engine(model: model, tokenizer: tokenizer, config: config)
        var p = SamplingParams()
        p.maxTokens = 1
        p.temperature = 0
        let requests = allowed + 4
        let streams = try engine.submit((0..<requests).map { i in
            GenerationRequest(id: "admit\(i)", promptTokens: Array(repeating: 1000 + i, count: admissionTokens), sampling: p)
        })
        // A dropped stream aborts its request: keep them until the count is read.
        let admitted = withExtendedLifetime(streams) { () -> Int in
            while engine.stats().steps == 0 { Thread.sleep(forTimeInterval: 0.01) }
            return engine.stats().peakRunning
        }
        engine.shutdown()
        say("\nadmission: \(humanBytes(admissionMemory)) of state memory, \(admissionTokens)-token requests needing \(need) bytes each: "
              + "the accounting allows \(allowed), the engine admitted \(admitted) at once (of \(requests) queued)")
    }

    struct DecodeRun {
        let stepSeconds, schedulerSeconds, readGBps, peakGflops: Double
        let experts: [Int], stateBytes: Int
        let parts: ForwardSeconds
    }

    /// `batch` requests prefill, then decode together; the median all-decode step is timed.
    private func decodeSteps(_ model: Transformer, _ tokenizer: Tokenizer, batch: Int) throws -> DecodeRun {
        var config = EngineConfig()
        config.maxRunningRequests = batch
        config.prefixCache = false
        config.recordSteps = true
        config.stateMemoryBytes = 8 << 30
        let engine = try Engine(model: model, tokenizer: tokenizer, config: config)
        var p = SamplingParams()
        p.maxTokens = steps + 2
        p.temperature = 0
        p.ignoreEOS = true
        let before = RooflineProbe.readBandwidth(mib: 256, repeats: 3, pool: .shared).allBest
        _ = engine.takeProfile()
        let streams = try (0..<batch).map { i in
            try engine.submit(GenerationRequest(id: "b\(i)", promptTokens: (0..<prompt).map { 1000 + (i * 104_729 + $0 * 7919) % 100_000 }, sampling: p))
        }
        withExtendedLifetime(streams) {  // a dropped stream aborts its request
            while engine.stats().finishedRequests < batch { Thread.sleep(forTimeInterval: 0.005) }
        }
        let records = engine.takeProfile().records.filter { $0.decodes == batch && $0.rows == batch }
        engine.shutdown()
        let after = RooflineProbe.readBandwidth(mib: 256, repeats: 3, pool: .shared).allBest
        let peak = RooflineProbe.productPeak()
        guard !records.isEmpty else { throw CLIError("no all-decode step was recorded at batch \(batch)") }
        let sorted = records.sorted { total($0) < total($1) }
        let median = sorted[sorted.count / 2]
        return DecodeRun(stepSeconds: total(median), schedulerSeconds: median.scheduleSeconds, readGBps: max(before, after),
                         peakGflops: peak, experts: median.uniqueExperts, stateBytes: median.stateBytes, parts: median.forwardParts)
    }

    private func total(_ r: StepRecord) -> Double { r.scheduleSeconds + r.forwardSeconds + r.sampleSeconds }
}

/// One line to stdout at once (unbuffered, so a long benchmark shows each line as it comes).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
