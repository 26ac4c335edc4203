import ArgumentParser
import Foundation
import RiptideKernels

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

    func run() throws {
        guard mib >= 64, repeatCount >= 1 else { throw ValidationError("--mib ≥ 64 and --repeat ≥ 1") }
        let r = RooflineProbe.measure(mib: mib, repeats: repeatCount)
        print("machine: \(machineSummary())")
        printRoofline(r)
        if let json { try writeJSON(r, to: json) }
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

/// "model name" of the first CPU in /proc/cpuinfo.
func cpuModelName() -> String {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
          let colon = line.firstIndex(of: ":") else { return "unknown CPU" }
    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
}

func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try enc.encode(value).write(to: URL(fileURLWithPath: path))
}
