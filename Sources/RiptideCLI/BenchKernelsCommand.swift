import ArgumentParser
import Foundation
import RiptideKernels

/// `riptide bench-kernels`: packed linear kernels against the roofline measured in the same run.
struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-kernels",
        abstract: "Benchmark the packed linear kernels (FP8, FP4, BF16, FP32) at M = 1, 8, 32, 512.",
        discussion: """
            Each kernel cycles through a pool of weight matrices (--pool-mib, much larger than L3), \
            so every call streams its weights from DRAM. Bytes = packed weights + scales per call; \
            FLOPs = 2·M·N·K. Before each of a kernel's --repeat rounds the all-thread read bandwidth is \
            measured (best of 3); %read uses the best of those. %peak uses the median all-thread BF16 \
            dot peak (FP32 FMA peak for f32 and the avx2 path) of roofline runs before and after the \
            kernels. Times are medians over all calls.
            """)

    @Option(help: "Comma-separated kernels: fp8, fp4, bf16, f32.") var kernels = "fp8,fp4,bf16,f32"
    @Option(help: "Comma-separated activation row counts.") var m = "1,8,32,512"
    @Option(help: "Kernel path: avx512, avx2, portable (default: the best available).") var path: String?
    @Option(help: "Total size of each kernel's weight pool, MiB.") var poolMib = 384
    @Option(name: .customLong("repeat"), help: "Rounds over all shapes (medians reported).") var repeatCount = 3
    @Option(help: "Also write the results as JSON to this path.") var json: String?
    @Option(help: "Then load this model directory with the fast kernels and print its resident memory next to the checkpoint's size, prefill and decode speed (as bench-model).")
    var model: String?
    @Option(help: "Override every kernel's shape, e.g. 1024x7168 (with a small --pool-mib: the in-cache compute ceiling).") var shape: String?

    struct Row: Codable {
        var kernel: String, path: String, m: Int, n: Int, k: Int
        var bytes: Int, flops: Double, seconds: Double, gbps: Double, gflops: Double
        var percentBandwidth: Double, percentCompute: Double
        var readGBpsAdjacent: Double      // all-thread read bandwidth measured between this kernel's rounds
    }
    struct Report: Codable { var before: Roofline, after: Roofline, rows: [Row], repack: [String: Double] }

    func run() throws {
        if let model {   // fail before minutes of kernel benchmarks, not after
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CLIError("\(model): no such model directory")
            }
        }
        let kernelPath = try path.map { p in
            guard let k = KernelPath(rawValue: p), KernelPath.available.contains(k) else { throw CLIError("path \(p) not available") }
            return k
        } ?? KernelPath.best
        let ms = m.split(separator: ",").compactMap { Int($0) }
        print("machine: \(machineSummary())")
        let before = RooflineProbe.measure(mib: 256, repeats: 3)
        printRoofline(before)
        var rows: [Row] = [], repack: [String: Double] = [:]
        for name in kernels.split(separator: ",").map(String.init) {
            guard let spec = benchShapes[name] else { throw CLIError("unknown kernel \(name)") }
            let (pool, packSeconds) = try makePool(spec)
            repack[name] = packSeconds / Double(pool.count)
            let l0 = pool[0]
            print("\n\(name) N=\(l0.rows) K=\(l0.cols): \(pool.count) matrices of \(fmtMB(l0.packedBytes)) MB "
                  + "(checkpoint \(fmtMB(l0.checkpointBytes)) MB, +\(String(format: "%.2f", 100 * (Double(l0.packedBytes) / Double(l0.checkpointBytes) - 1)))%), "
                  + "repack \(String(format: "%.1f", 1000 * packSeconds / Double(pool.count))) ms each")
            // Rounds: a read-bandwidth probe, then every M once; medians over rounds.
            var reads: [Double] = []
            var times = [[Double]](repeating: [], count: ms.count)
            for round in 0..<repeatCount {
                reads.append(RooflineProbe.readBandwidth(mib: 256, repeats: 3, pool: .shared).allBest)
                for (mi, mm) in ms.enumerated() {
                    var x = [Float](repeating: 0, count: mm * l0.cols)
                    var s: UInt64 = 0x1234_5678
                    for i in x.indices { s = s &* 6364136223846793005 &+ 1442695040888963407; x[i] = Float(Int64(bitPattern: s) >> 40) * 0x1p-20 }
                    var y = [Float](repeating: 0, count: mm * l0.rows)
                    let flopsPerCall = 2 * Double(mm) * Double(l0.rows) * Double(l0.cols)
                    // Enough calls for ~0.3 s per round, at most two passes over the pool.
                    let calls = max(3, min(pool.count * 2, Int(0.3 / max(flopsPerCall / 150e9, Double(l0.packedBytes) / 25e9))))
                    x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                        if round == 0 { pool[0].apply(xp.baseAddress!, count: mm, into: yp.baseAddress!, path: kernelPath) }  // warm up
                        for c in 0..<calls {
                            let t = monotonicSeconds()
                            pool[c % pool.count].apply(xp.baseAddress!, count: mm, into: yp.baseAddress!, path: kernelPath)
                            times[mi].append(monotonicSeconds() - t)
                        }
                    } }
                }
            }
            for (mi, mm) in ms.enumerated() {
                let t = median(times[mi]), flopsPerCall = 2 * Double(mm) * Double(l0.rows) * Double(l0.cols)
                rows.append(Row(kernel: name, path: kernelPath.rawValue, m: mm, n: l0.rows, k: l0.cols, bytes: l0.packedBytes,
                                flops: flopsPerCall, seconds: t, gbps: Double(l0.packedBytes) / t / 1e9,
                                gflops: flopsPerCall / t / 1e9, percentBandwidth: 0, percentCompute: 0,
                                readGBpsAdjacent: reads.max()!))
            }
        }
        let after = RooflineProbe.measure(mib: 256, repeats: 3)
        print("\nafter the kernels:")
        printRoofline(after)
        let bw = (before.readGBpsAll + after.readGBpsAll) / 2
        let fma = (before.fmaGflopsAll + after.fmaGflopsAll) / 2
        let dot = before.bf16DotGflopsAll.map { ($0 + (after.bf16DotGflopsAll ?? $0)) / 2 }
        print("\nreference: read \(String(format: "%.1f", bw)) GB/s, FP32 FMA \(String(format: "%.0f", fma)) GFLOP/s, "
              + "BF16 dot \(dot.map { String(format: "%.0f", $0) } ?? "n/a") GFLOP/s (all threads)")
        print("%read: of the best all-thread read bandwidth measured between the kernel's rounds (column 'read');")
        print("%peak: of the median BF16 dot")
        print("  (FP32 FMA for f32 and avx2) all-thread peak above")
        print("kernel path      M       N×K      MB/call    ms/call     GB/s   read  %read   GFLOP/s  %peak")
        for i in rows.indices {
            let peak = rows[i].kernel == "f32" || kernelPath != .avx512 ? fma : (dot ?? fma)
            rows[i].percentBandwidth = 100 * rows[i].gbps / rows[i].readGBpsAdjacent
            rows[i].percentCompute = 100 * rows[i].gflops / peak
            let r = rows[i]
            print(String(format: "%-6@ %-7@ %4d %5dx%-5d %9.2f %10.3f %8.1f %6.1f %6.1f %9.1f %6.1f", r.kernel, r.path, r.m, r.n, r.k,
                         Double(r.bytes) / 1e6, r.seconds * 1e3, r.gbps, r.readGBpsAdjacent, r.percentBandwidth, r.gflops, r.percentCompute))
        }
        if let json { try writeJSON(Report(before: before, after: after, rows: rows, repack: repack), to: json) }
        if let model {
            print("")
            try ModelBench(model: model, prefill: 512, decode: 32, rounds: 2).run()
        }
    }

    /// Model-like shapes: FP8 dense 4096×7168, FP4 expert 2048×7168, BF16 and FP32 4096×4096.
    struct Shape { let format: PackedLinear.Format; let n: Int; let k: Int; let poolMiB: Int }
    var benchShapes: [String: Shape] {
        if let shape, case let d = shape.split(separator: "x").compactMap({ Int($0) }), d.count == 2 {
            return ["fp8": Shape(format: .fp8, n: d[0], k: d[1], poolMiB: poolMib), "fp4": Shape(format: .fp4, n: d[0], k: d[1], poolMiB: poolMib),
                    "bf16": Shape(format: .bf16, n: d[0], k: d[1], poolMiB: poolMib), "f32": Shape(format: .f32, n: d[0], k: d[1], poolMiB: poolMib)]
        }
        return ["fp8": Shape(format: .fp8, n: 4096, k: 7168, poolMiB: poolMib), "fp4": Shape(format: .fp4, n: 2048, k: 7168, poolMiB: poolMib),
         "bf16": Shape(format: .bf16, n: 4096, k: 4096, poolMiB: poolMib), "f32": Shape(format: .f32, n: 4096, k: 4096, poolMiB: poolMib)]
    }

    /// Random weights (no NaN codes), packed; returns the matrices and the total repack time.
    func makePool(_ s: Shape) throws -> ([PackedLinear], Double) {
        let elemBytes: Double = s.format == .fp8 ? 1 : s.format == .fp4 ? 0.5 : s.format == .bf16 ? 2 : 4
        let count = max(2, Int(Double(s.poolMiB << 20) / (Double(s.n * s.k) * elemBytes)))
        var raw = [UInt8](repeating: 0, count: Int(Double(s.n * s.k) * elemBytes))
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var pool: [PackedLinear] = [], packTime = 0.0
        for _ in 0..<count {
            raw.withUnsafeMutableBytes { b in
                let w = b.bindMemory(to: UInt64.self)
                for i in w.indices {   // random bits with bits 6 and 14 (… of each byte pair) cleared: no e4m3 NaN, finite bf16/f32
                    seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
                    w[i] = seed & 0xBFBF_BFBF_3FBF_3FBF
                }
            }
            let t = monotonicSeconds()
            let l: PackedLinear = try raw.withUnsafeBytes { b in
                switch s.format {
                case .fp8: return try PackedLinear(fp8Codes: b, scaleBytes: [UInt8](repeating: 120, count: ((s.n + 127) / 128) * ((s.k + 127) / 128)), rows: s.n, cols: s.k)
                case .fp4: return try PackedLinear(fp4Codes: b, scaleBytes: [UInt8](repeating: 120, count: s.n * s.k / 32), rows: s.n, cols: s.k)
                case .bf16: return try PackedLinear(bf16Bits: b, rows: s.n, cols: s.k)
                case .f32: return try PackedLinear(f32: b.bindMemory(to: Float.self), rows: s.n, cols: s.k)
                }
            }
            packTime += monotonicSeconds() - t
            pool.append(l)
        }
        return (pool, packTime)
    }

    func fmtMB(_ b: Int) -> String { String(format: "%.2f", Double(b) / 1e6) }
}
