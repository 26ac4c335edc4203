import ArgumentParser
import Foundation
import RiptideKernels
import RiptideModel

/// `riptide roofline`: DRAM read bandwidth, fp32 FMA peak and bf16 dot peak of this machine.
struct RooflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roofline",
        abstract: "Measure this machine's read bandwidth and FP32 FMA / BF16 dot peaks.",
        discussion: """
            Read bandwidth streams a buffer much larger than L3 (fp32 sum, 4 ymm chains); the FMA \
            probe runs 12 independent ymm FMA chains per thread; the BF16 probe 12 vdpbf16ps zmm \
            chains (AVX-512 BF16 only). Figures are medians of --repeat runs; GB = 1e9 bytes; a \
            multiply-add counts as 2 FLOPs. Threads: RIPTIDE_THREADS or all online CPUs.
            """)

    @Option(help: "Buffer size for the bandwidth probe, MiB.") var mib = 512
    @Option(name: .customLong("repeat"), help: "Runs per probe (the median is reported).") var repeatCount = 5
    @Option(help: "Also write the figures as JSON to this path.") var json: String?
    @Option(help: "Model directory: also print the bounds of its decode steps and of a prefill (config.json only is read).")
    var model: String?
    @Option(help: "With --model: decode batch sizes.") var batch = "1"
    @Option(help: "With --model: prefill length in tokens.") var prompt = 512
    @Option(help: "With --model: context tokens per sequence whose state a decode step reads.") var context = 576

    func run() throws {
        guard mib >= 64, repeatCount >= 1 else { throw ValidationError("--mib ≥ 64 and --repeat ≥ 1") }
        let r = RooflineProbe.measure(mib: mib, repeats: repeatCount)
        print("machine: \(machineSummary())")
        printRoofline(r)
        guard let model else {
            if let json { try writeJSON(r, to: json) }
            return
        }
        let config = try ModelConfig(contentsOf: URL(fileURLWithPath: model).appendingPathComponent("config.json"))
        let bounds = StepBounds(config: config, roofline: r, batches: try parseIds(batch, "--batch"), prompt: prompt, context: context)
        print("bounds (read at the best run's \(String(format: "%.1f", bounds.readGBps)) GB/s, compute at the product peak \(String(format: "%.0f", bounds.peakGflops)) GFLOP/s):")
        for b in bounds.decode {
            print(String(format: "  decode batch %3d: %8.1f MB, %7.1f GFLOP → read %7.2f ms, compute %7.2f ms", b.batch, Double(b.bytes) / 1e6,
                         b.flops / 1e9, b.readSeconds * 1e3, b.computeSeconds * 1e3))
        }
        let p = bounds.prefill
        print(String(format: "  prefill %5d tokens: %8.1f MB, %7.1f GFLOP → read %7.2f ms, compute %7.2f ms", p.batch, Double(p.bytes) / 1e6,
                     p.flops / 1e9, p.readSeconds * 1e3, p.computeSeconds * 1e3))
        if let json { try writeJSON(bounds, to: json) }
    }
}

/// A model's step bounds on this machine: the larger of unique bytes over the read bandwidth and
/// weight FLOPs over the product peak (BF16 dot with AVX-512 BF16, else FP32 FMA).
struct StepBounds: Encodable {
    struct Bound: Encodable {
        var batch: Int, bytes: Int, flops: Double, readSeconds: Double, computeSeconds: Double, boundSeconds: Double
        init(batch: Int, bytes: Int, flops: Double, readGBps: Double, peakGflops: Double) {
            (self.batch, self.bytes, self.flops) = (batch, bytes, flops)
            readSeconds = Double(bytes) / (readGBps * 1e9)
            computeSeconds = flops / (peakGflops * 1e9)
            boundSeconds = max(readSeconds, computeSeconds)
        }
    }
    var roofline: Roofline
    var readGBps: Double, peakGflops: Double
    var decode: [Bound]
    /// `batch` holds the prompt's tokens.
    var prefill: Bound
    /// The shapes behind the bounds, and the state a decode row reads at `context`.
    var cost: StepCost
    var stateBytesPerSequence: Int

    init(config c: ModelConfig, roofline r: Roofline, batches: [Int], prompt: Int, context: Int) {
        let cost = StepCost(config: c), state = SequenceState.bytes(config: c, tokens: context, mtp: false)
        roofline = r
        (self.cost, stateBytesPerSequence) = (cost, state)
        readGBps = r.readGBpsAllBest
        peakGflops = r.bf16DotGflopsAll ?? r.fmaGflopsAll
        let (bw, peak) = (readGBps, peakGflops)
        decode = batches.map { b in
            Bound(batch: b, bytes: cost.uniqueBytes(batch: b, experts: cost.expectedExperts(batch: b, config: c), stateBytes: b * state),
                  flops: 2 * Double(cost.macs(batch: b)), readGBps: bw, peakGflops: peak)
        }
        prefill = Bound(batch: prompt, bytes: cost.uniqueBytes(batch: prompt, experts: cost.expectedExperts(batch: prompt, config: c), stateBytes: 0),
                        flops: 2 * Double(cost.prefillMACs(tokens: prompt)), readGBps: bw, peakGflops: peak)
    }
}

func printRoofline(_ r: Roofline) {
    func f(_ v: Double?) -> String { v.map { String(format: "%8.1f", $0) } ?? "     n/a" }
    print("roofline (median of \(r.repeats), \(r.threads) threads, \(r.bufferMiB) MiB read buffer)")
    print("                        1 thread   all threads")
    print("  DRAM read GB/s        \(f(r.readGBps1T))   \(f(r.readGBpsAll))   (best run \(String(format: "%.1f", r.readGBpsAllBest)))")
    print("  FP32 FMA GFLOP/s      \(f(r.fmaGflops1T))   \(f(r.fmaGflopsAll))")
    print("  BF16 dot GFLOP/s      \(f(r.bf16DotGflops1T))   \(f(r.bf16DotGflopsAll))")
}

/// Kernel paths, thread count and the load average (benchmarks here share 2 vCPUs).
func machineSummary() -> String {
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
        .split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    return "\(cpuModelName()), paths \(KernelPath.available.map(\.rawValue).joined(separator: ",")) (using \(KernelPath.best.rawValue)), "
        + "\(WorkerPool.shared.threads) threads, load average \(load)"
}

/// "model name" of the first CPU in /proc/cpuinfo, with its family and model numbers: a VM's name
/// ("AMD EPYC") alone does not tell a Zen 3 (family 25 model 1) from a Zen 4 (25 / 17).
func cpuModelName() -> String {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
    let lines = info.split(separator: "\n")
    func field(_ key: String) -> String? {
        // "model" must not match "model name": only blanks may stand between the key and its colon.
        guard let line = lines.first(where: { $0.hasPrefix(key) && $0.dropFirst(key.count).drop(while: { $0 == " " || $0 == "\t" }).first == ":" }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let name = field("model name") ?? "unknown CPU"
    guard let family = field("cpu family"), let model = field("model") else { return name }
    return "\(name) (family \(family) model \(model))"
}

func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try enc.encode(value).write(to: URL(fileURLWithPath: path))
}
