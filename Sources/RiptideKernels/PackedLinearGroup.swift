import CRiptideKernels

/// One product of a group: rows [firstRow, firstRow + count) of the group's input times `weight`ᵀ,
/// written to output [count, weight.rows].
public struct GroupedProduct {
    public let weight: PackedLinear
    public let firstRow: Int, count: Int
    public let output: UnsafeMutablePointer<Float>

    public init(weight: PackedLinear, firstRow: Int, count: Int, output: UnsafeMutablePointer<Float>) {
        self.weight = weight
        self.firstRow = firstRow
        self.count = count
        self.output = output
    }
}

extension PackedLinear {
    /// Runs many products over row ranges of one input block x [rows, cols] (a MoE layer's experts,
    /// each on the tokens routed to it) as one pool job: the block is quantized once, and no product
    /// waits for the pool to wake. A decode step of a batch touches ~100 experts a layer at 1–2 rows
    /// each; one pool call apiece cost more than their weights take to stream.
    ///
    /// Every weight reads `cols` inputs and is of one activation kind (fp8 and fp4 both quantize
    /// the input; bf16 alone; f32 alone). Each product's rows come out bit for bit as `apply` on
    /// those rows alone gives them. Outputs are rounded to bf16 (f32: not rounded).
    public static func applyGrouped(_ x: UnsafePointer<Float>, rows: Int, cols: Int, products: [GroupedProduct],
                                    path: KernelPath = .best, pool: WorkerPool = .shared) {
        guard let format = products.first?.weight.format else { return }
        let kind = { (f: Format) in f == .fp4 ? Format.fp8 : f }
        for p in products {
            precondition(p.weight.cols == cols && kind(p.weight.format) == kind(format), "grouped products must share the input kind and width")
            precondition(p.firstRow >= 0 && p.count >= 0 && p.firstRow + p.count <= rows, "product rows outside the input block")
        }
        let round = format != .f32
        if path == .portable {
            for p in products where p.count > 0 {
                p.weight.portableApply(x + p.firstRow * cols, count: p.count, into: p.output, round: round)
            }
            return
        }
        let live = products.filter { $0.count > 0 }
        if live.isEmpty { return }
        withActivations(x, count: rows, cols: cols, format: format, path: path, pool: pool) { a in
            // The C jobs point into these arrays, which stay put for the call.
            var weights = live.map { $0.weight.cWeights }
            var acts = live.map { a.rows($0.firstRow, $0.count, output: $0.output, round: round) }
            weights.withUnsafeMutableBufferPointer { w in acts.withUnsafeMutableBufferPointer { act in
                var jobs = (0..<live.count).map { rk_linear_job(w: w.baseAddress! + $0, a: act.baseAddress! + $0) }
                rk_linear_run_many(pool.raw, a.cPath, &jobs, Int32(jobs.count))
            } }
            withExtendedLifetime(live) {}
        }
    }
}
