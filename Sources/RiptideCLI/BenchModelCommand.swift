import ArgumentParser
import Foundation
import RiptideKernels
import RiptideModel

/// `riptide bench-model`: a whole model with the fast kernels, measured in the same run as the
/// roofline: resident memory after load, prefill tokens/s and GFLOP/s, decode tokens/s against
/// the read bandwidth for its active bytes per token.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract: "Prefill and decode speed of a model with the fast kernels, against the roofline measured in the same run.")

    @Option(help: "Model directory (config.json + safetensors).")
    var model: String

    @Option(help: "Prompt length for the prefill measurement (0 skips it).")
    var prefill = 512

    @Option(help: "Decode steps to time (after a 16-token prompt; 0 skips it).")
    var tokens = 32

    @Option(name: .customLong("repeat"), help: "Rounds of prefill and decode (each reported).")
    var repeatCount = 2

    func run() throws {
        try ModelBench(model: model, prefill: prefill, decode: tokens, rounds: repeatCount).run()
    }
}

/// The model half of the benchmarks, shared by `bench-model` and `bench-kernels --model`.
struct ModelBench {
    let model: String
    let prefill: Int, decode: Int, rounds: Int

    func run() throws {
        guard prefill >= 0, decode >= 0, rounds > 0 else { throw CLIError("--prefill, --tokens and --repeat must not be negative") }
        let loadStart = ContinuousClock.now
        let transformer = try loadModel(model, kernels: .fast)
        let loadSeconds = secondsSince(loadStart)
        let config = transformer.config
        let checkpointBytes = config.expectedTensors.reduce(0) { $0 + $1.byteCount }
        print("machine: \(machineSummary())")
        print(String(format: "model %@: loaded and repacked in %.1f s; resident %@ after load for a %@ checkpoint (%.0f%%)",
                     model, loadSeconds, humanBytes(residentBytes()), humanBytes(checkpointBytes),
                     100 * Double(residentBytes()) / Double(checkpointBytes)))
        let threads = WorkerPool.shared.threads
        let prompt = (0..<prefill).map { 1 + ($0 * 7919) % (config.vocabSize - 1) }
        if prefill > 0 {  // untimed warm-up: first-touch page faults of the activation buffers
            _ = try transformer.forward([.init(tokens: prompt, state: transformer.newSequence())])
        }
        for round in 1...rounds {
            let before = RooflineProbe.measure(mib: 256, repeats: 3)
            print(String(format: "round %d roofline: read %.1f GB/s best, BF16 dot %.0f GFLOP/s, FP32 FMA %.0f GFLOP/s (%d threads)",
                         round, before.readGBpsAllBest, before.bf16DotGflopsAll ?? 0, before.fmaGflopsAll, threads))
            if prefill > 0 {
                let start = ContinuousClock.now
                _ = try transformer.forward([.init(tokens: prompt, state: transformer.newSequence())])
                let seconds = secondsSince(start)
                let flops = Self.prefillFLOPs(config, tokens: prefill)
                // The peak of the units the kernels use: BF16 dot products on AVX-512, fp32 FMAs otherwise.
                let bf16 = KernelPath.best == .avx512 ? before.bf16DotGflopsAll : nil
                let peak = bf16 ?? before.fmaGflopsAll
                print(String(format: "  prefill %d tokens: %.3f s = %.1f tok/s, %.1f GFLOP → %.1f GFLOP/s = %.0f%% of the %@ peak",
                             prefill, seconds, Double(prefill) / seconds, flops / 1e9, flops / seconds / 1e9, 100 * flops / seconds / 1e9 / peak,
                             bf16 == nil ? "FP32 FMA" : "BF16 dot"))
            }
            if decode > 0 {
                let state = transformer.newSequence()
                var logits = try transformer.forward([.init(tokens: Array(1...16), state: state)])[0].logits
                let readBefore = RooflineProbe.readBandwidth(mib: 256, repeats: 3, pool: .shared).allBest
                let start = ContinuousClock.now
                for _ in 0..<decode {
                    logits = try transformer.forward([.init(tokens: [argmax(logits)], state: state)])[0].logits
                }
                let tokensPerSecond = Double(decode) / secondsSince(start)
                // The VM's bandwidth drifts: take the larger of the probes just before and just after.
                let readAfter = RooflineProbe.readBandwidth(mib: 256, repeats: 3, pool: .shared).allBest
                let roofline = max(readBefore, readAfter)
                let active = Self.activeBytesPerToken(config)
                let gbps = Double(active) * tokensPerSecond / 1e9
                print(String(format: "  decode %d tokens: %.2f tok/s, active %@ per token → %.1f GB/s = %.0f%% of the read roofline (%.1f GB/s before, %.1f after)",
                             decode, tokensPerSecond, humanBytes(active), gbps, 100 * gbps / roofline, readBefore, readAfter))
            }
        }
    }

    /// Bytes one decode step reads: all main-model weights except the embedding (one row) and the
    /// routed experts (only the activated ones); the MTP block is not run by plain decoding.
    static func activeBytesPerToken(_ c: ModelConfig) -> Int {
        var total = c.dim * 2 + c.nActivatedExperts * 8  // one embedding row, one tid2eid row
        for spec in c.expectedTensors where !spec.name.hasPrefix("mtp.") && spec.name != "embed.weight" && !spec.name.hasSuffix("tid2eid") {
            if spec.name.contains(".experts.") {
                total += spec.byteCount * c.nActivatedExperts / c.nRoutedExperts  // average over the experts
            } else {
                total += spec.byteCount
            }
        }
        return total
    }

    /// FLOPs (2 per multiply-add) of a prefill of `tokens` positions: every matrix product of the
    /// main layers per token (routed experts: the activated ones), the head once (last position),
    /// attention's QKᵀ and PV over each query's window and compressed entries, and the indexer's
    /// scores of every visible compressed block.
    static func prefillFLOPs(_ c: ModelConfig, tokens: Int) -> Double {
        var perToken = 0.0
        for spec in c.expectedTensors where spec.shape.count == 2 && !spec.name.hasPrefix("mtp.") && !spec.name.hasPrefix("embed.")
            && !spec.name.hasPrefix("head.") && !spec.name.hasPrefix("hc_head") && !spec.name.hasSuffix("ape")
            && spec.dtype != .f8e8m0 && spec.dtype != .i64 {
            var macs = Double(spec.shape[0] * spec.shape[1]) * (spec.dtype == .i8 ? 2 : 1)  // FP4: two values per byte
            if spec.name.contains(".experts.") { macs *= Double(c.nActivatedExperts) / Double(c.nRoutedExperts) }
            perToken += macs
        }
        var attention = 0.0
        for layer in 0..<c.nLayers {
            let ratio = c.compressRatios[layer]
            for t in 0..<tokens {
                var entries = min(t + 1, c.windowSize)
                if ratio == 4 { entries += min(c.indexTopK, (t + 1) / 4) } else if ratio > 0 { entries += (t + 1) / ratio }
                attention += Double(2 * c.nHeads * c.headDim * entries)
                if ratio == 4 { attention += Double(c.indexNHeads * c.indexHeadDim * ((t + 1) / 4)) }  // indexer scores
            }
        }
        return 2 * (perToken * Double(tokens) + Double(c.vocabSize * c.dim) + attention)
    }
}

/// VmRSS of this process ("VmRSS:\t  123456 kB" in /proc/self/status).
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kib = Int(line.dropFirst("VmRSS:".count).filter(\.isNumber)) else { return 0 }
    return kib * 1024
}
