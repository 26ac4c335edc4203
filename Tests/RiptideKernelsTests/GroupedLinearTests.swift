import Testing
@testable import RiptideKernels

/// A grouped run (one pool job over many products, as a MoE layer's experts run) gives every
/// product the bits `apply` gives it alone, on every path, for row counts from 0 to a tile and more.
@Test(arguments: [[PackedLinear.Format.fp4, .fp4, .fp8], [.bf16, .bf16], [.f32]])
func groupedProductsMatchSingleApplies(formats: [PackedLinear.Format]) throws {
    var rng = TestRNG(7)
    let cols = 256, rowCounts = [1, 0, 3, 2, 9, 1]
    let weights = try formats.enumerated().map { i, f in try makeCase(f, rows: 96 + 32 * i, cols: cols, seed: UInt64(40 + i)).linear }
    let inputRows = rowCounts.reduce(0, +)
    let x = randomActivations(inputRows, cols, &rng)
    for path in KernelPath.available {
        var products: [(PackedLinear, Int, Int)] = []   // weight, first row, rows
        var first = 0
        for (j, n) in rowCounts.enumerated() {
            products.append((weights[j % weights.count], first, n))
            first += n
        }
        x.withUnsafeBufferPointer { xp in
            let pointers = products.map { UnsafeMutablePointer<Float>.allocate(capacity: max(1, $0.2 * $0.0.rows)) }
            defer { pointers.forEach { $0.deallocate() } }
            let grouped = products.enumerated().map { j, p in GroupedProduct(weight: p.0, firstRow: p.1, count: p.2, output: pointers[j]) }
            PackedLinear.applyGrouped(xp.baseAddress!, rows: inputRows, cols: cols, products: grouped, path: path)
            for (j, p) in products.enumerated() where p.2 > 0 {
                let alone = p.0.apply(Array(x[(p.1 * cols)..<((p.1 + p.2) * cols)]), count: p.2, path: path)
                let got = Array(UnsafeBufferPointer(start: pointers[j], count: p.2 * p.0.rows))
                #expect(got.map(\.bitPattern) == alone.map(\.bitPattern), "\(path) \(p.0.format) product \(j) (\(p.2) rows)")
            }
        }
    }
}
