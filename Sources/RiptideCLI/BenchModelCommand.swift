import ArgumentParser
import Foundation
import RiptideKernels
import RiptideModel

/// Decode speed of a whole model against the DRAM roofline measured in the same run: the bytes a
/// decode step must read (every dense weight, the activated experts, the head) over the time it takes.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract: "Decode tokens/s of a model with the fast kernels, its active bytes per token, and % of the read roofline.")

    @Option(help: "Model directory (config.json + safetensors).")
    var model: String

    @Option(help: "Decode steps to time (after a 16-token prompt).")
    var tokens: Int = 32

    func run() throws {
        guard tokens > 0 else { throw CLIError("--tokens must be positive") }
        let loadStart = ContinuousClock.now
        let transformer = try loadModel(model, kernels: .fast)
        let loadSeconds = secondsSince(loadStart)
        let config = transformer.config
        let checkpointBytes = config.expectedTensors.reduce(0) { $0 + $1.byteCount }
        print(String(format: "loaded in %.1f s: resident %@ for a %@ checkpoint", loadSeconds,
                     humanBytes(residentBytes()), humanBytes(checkpointBytes)))

        let roofline = RooflineProbe.measure(mib: 256, repeats: 3)
        let state = transformer.newSequence()
        var logits = try transformer.forward([.init(tokens: Array(1...16), state: state)])[0].logits
        let start = ContinuousClock.now
        for _ in 0..<tokens {
            var sampler = Sampler(temperature: 0, seed: 0)
            logits = try transformer.forward([.init(tokens: [sampler.next(logits)], state: state)])[0].logits
        }
        let tokensPerSecond = Double(tokens) / secondsSince(start)
        let active = activeBytesPerToken(config)
        let gbps = Double(active) * tokensPerSecond / 1e9
        print(String(format: "decode: %.2f tok/s, active %@ per token → %.1f GB/s = %.0f%% of the read roofline (%.1f GB/s best, %d threads)",
                     tokensPerSecond, humanBytes(active), gbps, 100 * gbps / roofline.readGBpsAllBest,
                     roofline.readGBpsAllBest, roofline.threads))
    }

    /// Bytes one decode step reads: all main-model weights except the embedding (one row) and the
    /// routed experts (only the activated ones); the MTP block is not run by plain decoding.
    func activeBytesPerToken(_ c: ModelConfig) -> Int {
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

    /// VmRSS of this process.
    func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kib * 1024
    }
}
