import CRiptideKernels
import Synchronization
import Testing
@testable import RiptideKernels

@Test func cQuantizerIsBitExactWithSwift() {
    var rng = TestRNG(42)
    let k = 384 + 77   // a ragged last block
    var rows: [[Float]] = (0..<6).map { _ in randomActivations(1, k, &rng) }
    rows.append([Float](repeating: 0, count: k))                                    // all-zero block: amax floor
    rows.append((0..<k).map { i in i % 2 == 0 ? -0.0 : Float(i) * 0x1p-30 })        // −0 and tiny values
    // Exact e4m3 ties after scaling: s = 1 for amax 448 → values halfway between grid points.
    rows.append((0..<k).map { i in [448, 1.0625, 1.1875, -0x1p-10, 3 * 0x1p-10, 0x1p-7 + 0x1p-11, 416 + 16, -440][i % 8] })
    rows.append((0..<k).map { i in Float(sign: i % 3 == 0 ? .minus : .plus, exponent: (i % 60) - 30, significand: 1.3) })
    let kpad = (k + 127) / 128 * 128
    for x in rows {
        var values = [Float](repeating: 0, count: k), scales = [Float](repeating: 0, count: kpad / 128)
        x.withUnsafeBufferPointer { xp in values.withUnsafeMutableBufferPointer { v in scales.withUnsafeMutableBufferPointer { s in
            quantizeFP8(xp, block: 128, values: v, scales: s)
        } } }
        var xq = [UInt16](repeating: 0xFFFF, count: kpad), xs = [Float](repeating: 0, count: kpad / 128)
        var xf = [Float](repeating: 0, count: kpad)
        rk_quantize_fp8_rows(x, 1, k, kpad, &xq, &xs, &xf)
        var mismatches = 0
        for i in 0..<k where Float(bitPattern: UInt32(xq[i]) << 16).bitPattern != values[i].bitPattern { mismatches += 1 }
        for i in k..<kpad where xq[i] != 0 { mismatches += 1 }
        for b in 0..<(kpad / 128) where xs[b] != scales[b] { mismatches += 1 }
        for i in 0..<k where xf[i] != values[i] * scales[i / 128] { mismatches += 1 }
        #expect(mismatches == 0)
    }
}

@Test func poolRunsEveryTaskOnce() {
    let pool = WorkerPool(threads: 3)
    for tasks in [1, 2, 7, 64, 1000, (1 << 20) + 5] {   // the last one needs more than one round of tickets
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: tasks)   // one slot per task: no sharing
        defer { hits.deallocate() }
        hits.initialize(repeating: 0)
        pool.parallelFor(tasks) { t, w in hits[t] += w < 3 ? 1 : 1000 }
        #expect(hits.allSatisfy { $0 == 1 })
    }
    // Many back-to-back small jobs, and a nested call (runs inline).
    let total = Atomic<Int>(0)
    for _ in 0..<2000 { pool.parallelFor(4) { _, _ in total.add(1, ordering: .relaxed) } }
    pool.parallelFor(2) { _, _ in pool.parallelFor(3) { _, w in #expect(w == -1); total.add(1, ordering: .relaxed) } }
    #expect(total.load(ordering: .relaxed) == 8006)
}
