import Foundation
import Testing
import RiptideKernels
@testable import RiptideModel

/// The AVX-512 sparse attention kernel against its plain twin (`sparseAttention`, bit-exact with
/// the reference): the same blocks, sink and empty slots; only fp32 summation order and exp differ.
@Suite struct AttentionKernelTests {
    struct Case { let heads: Int, dim: Int, tableRows: Int, rows: Int, listLength: Int }

    @Test(.enabled(if: SparseAttentionKernel.isAvailable), arguments: [
        Case(heads: 4, dim: 128, tableRows: 40, rows: 3, listLength: 150),    // tiny's shape
        Case(heads: 20, dim: 512, tableRows: 300, rows: 2, listLength: 200),  // heads not a multiple of 16
        Case(heads: 64, dim: 512, tableRows: 256, rows: 2, listLength: 255),  // Flash's shape, odd block tail
    ])
    func matchesTwin(_ c: Case) {
        var rng = Xoshiro256(seed: UInt64(c.heads * 1000 + c.dim))
        func bf16s(_ n: Int, _ std: Float) -> [Float] { (0..<n).map { _ in roundBF16(rng.uniform(std: std)) } }
        let q = bf16s(c.rows * c.heads * c.dim, 1), table = bf16s(c.tableRows * c.dim, 1), sink = bf16s(c.heads, 2)
        var lists: [[Int]] = []
        for r in 0..<c.rows {
            lists.append((0..<c.listLength).map { i in
                if i >= 64 && i < 128 && r == 0 { return -1 }          // an all-empty block
                return rng.next() % 5 == 0 ? -1 : Int(rng.next() % UInt64(c.tableRows))
            })
        }
        lists[c.rows - 1] = [Int](repeating: -1, count: c.listLength)   // nothing visible: output 0
        let scale = Float(pow(Double(c.dim), -0.5)) * 4                  // sharper than real, so the max matters
        let stride = c.heads * c.dim
        var expected = [Float](repeating: 0, count: c.rows * stride), got = expected
        q.withUnsafeBufferPointer { qp in table.withUnsafeBufferPointer { tp in expected.withUnsafeMutableBufferPointer { ep in
            for r in 0..<c.rows {
                sparseAttention(q: UnsafeBufferPointer(rebasing: qp[(r * stride)..<((r + 1) * stride)]), heads: c.heads, dim: c.dim,
                                table: tp, indices: lists[r], sink: sink, scale: scale,
                                into: UnsafeMutableBufferPointer(rebasing: ep[(r * stride)..<((r + 1) * stride)]))
            }
        } } }
        let indices = lists.flatMap { $0.map(Int32.init) }
        for path in KernelPath.available where path != .portable {
            q.withUnsafeBufferPointer { qp in table.withUnsafeBufferPointer { tp in got.withUnsafeMutableBufferPointer { gp in
                SparseAttentionKernel.run(q: qp.baseAddress!, rows: c.rows, heads: c.heads, dim: c.dim, table: tp.baseAddress!,
                                          indices: indices, listLength: c.listLength, sink: sink, scale: scale, out: gp.baseAddress!, path: path)
            } } }
            var worst: Float = 0
            for r in 0..<c.rows {
                for h in 0..<c.heads {
                    let range = ((r * c.heads + h) * c.dim)..<((r * c.heads + h + 1) * c.dim)
                    // In units of one bf16 ulp of the head's largest output.
                    let ulp = Float(sign: .plus, exponent: max(expected[range].map(abs).max()!, 1e-30).exponent - 7, significand: 1)
                    for i in range { worst = max(worst, abs(got[i] - expected[i]) / ulp) }
                    if r == c.rows - 1 { #expect(got[range].allSatisfy { $0 == 0 }) }
                }
            }
            #expect(worst <= 1, "\(path): worst error \(worst) bf16 ulps of the head's largest output")
            #expect(got.allSatisfy { roundBF16($0) == $0 })
        }
    }

    /// Indexer scores: FP4-simulated queries and keys (as the model makes them), bf16 weights.
    @Test(.enabled(if: IndexerScoreKernel.isAvailable), arguments: [(4, 128, 37), (64, 128, 700), (20, 64, 300)])
    func indexerScoresMatchTwin(heads: Int, headDim: Int, count: Int) {
        var rng = Xoshiro256(seed: UInt64(heads * 31 + count))
        func fp4s(_ n: Int) -> [Float] {
            var v = (0..<n).map { _ in rng.uniform(std: 1) }
            v.withUnsafeMutableBufferPointer { simulateFP4($0, block: 32) }
            return v
        }
        let q = fp4s(heads * headDim), keys = fp4s(count * headDim)
        let weights = (0..<heads).map { _ in roundBF16(rng.uniform(std: 0.1)) }
        var expected = [Float](repeating: 0, count: count), got = expected
        keys.withUnsafeBufferPointer { kp in expected.withUnsafeMutableBufferPointer { ep in
            indexerScores(q: q, weights: weights, heads: heads, headDim: headDim, keys: kp, into: ep)
        } }
        for path in KernelPath.available where path != .portable {
            IndexerScoreKernel.run(q: q, heads: heads, headDim: headDim, weights: weights, keys: keys, count: count, out: &got, path: path)
            let magnitude = expected.map(abs).max()!
            let differing = zip(got, expected).filter { $0 != $1 }
            #expect(magnitude > 0)
            #expect(differing.allSatisfy { abs($0 - $1) <= magnitude * 0x1p-7 }, "\(path): largest difference beyond 2 bf16 ulps of the largest score")
            #expect(differing.count * 20 <= count, "\(path): \(differing.count) of \(count) scores differ")
        }
    }

    /// Hadamard rows: bf16 inputs, the fast fp32 butterflies against the exact Double twin.
    @Test(.enabled(if: CompressorKernels.isAvailable), arguments: [16, 128, 512])
    func hadamardMatchesTwin(n: Int) {
        var rng = Xoshiro256(seed: UInt64(n))
        let rows = 37
        let input = (0..<(rows * n)).map { _ in roundBF16(rng.uniform(std: 1)) }
        var expected = input, got = input
        expected.withUnsafeMutableBufferPointer { e in
            for r in 0..<rows { hadamardBF16(UnsafeMutableBufferPointer(rebasing: e[(r * n)..<((r + 1) * n)])) }
        }
        got.withUnsafeMutableBufferPointer { CompressorKernels.hadamardBF16($0, rowLength: n, scale: Float(pow(Double(n), -0.5))) }
        let differing = zip(got, expected).filter { $0 != $1 }
        // fp32 sums of bf16 values are exact here but for rare deep cancellations; bf16 rounding then agrees.
        #expect(differing.count * 1000 <= got.count, "\(differing.count) of \(got.count) differ")
        #expect(differing.allSatisfy { abs($0 - $1) <= Float(sign: .plus, exponent: max(abs($0), abs($1)).exponent - 7, significand: 1) },
                "differences beyond one bf16 ulp")
    }

    /// Compressor pooling with overlap-style −inf rows, against its Double twin `softmaxPool`.
    @Test(.enabled(if: CompressorKernels.isAvailable), arguments: [(8, 512), (128, 512), (8, 128), (4, 40)])
    func softmaxPoolMatchesTwin(rows: Int, dim: Int) {
        var rng = Xoshiro256(seed: UInt64(rows * dim))
        let kv = (0..<(rows * dim)).map { _ in rng.uniform(std: 1) }
        var score = (0..<(rows * dim)).map { _ in rng.uniform(std: 3) }
        for c in 0..<dim where c % 3 == 0 { score[c] = -.infinity }   // a row that drops out of some channels
        var expected = [Float](repeating: 0, count: dim), got = expected
        softmaxPool(kv: kv, score: score, rows: rows, into: &expected)
        CompressorKernels.softmaxPool(kv: kv, score: score, rows: rows, dim: dim, into: &got)
        for c in 0..<dim {
            let scale = (0..<rows).map { abs(kv[$0 * dim + c]) }.max()!
            #expect(abs(got[c] - expected[c]) <= 1e-5 * scale, "channel \(c): \(got[c]) vs \(expected[c])")
        }
    }
}

