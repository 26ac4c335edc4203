import Testing
@testable import RiptideKernels

/// A packed linear with accessors for its unpacked (checkpoint-format) weight and scale.
struct LinearCase {
    let linear: PackedLinear
    let weight: (Int, Int) -> Float
    let scale: (Int, Int) -> Float
}

func makeCase(_ format: PackedLinear.Format, rows: Int, cols: Int, seed: UInt64, scaleChoices: [UInt8]? = nil) throws -> LinearCase {
    var rng = TestRNG(seed)
    func scaleByte() -> UInt8 { scaleChoices.map { $0[rng.int($0.count)] } ?? UInt8(118 + rng.int(14)) }
    switch format {
    case .fp8:
        let codes = randomE4M3Codes(rows * cols, &rng)
        let cb = (cols + 127) / 128
        let sb = (0..<(((rows + 127) / 128) * cb)).map { _ in scaleByte() }
        let l = try codes.withUnsafeBytes { try PackedLinear(fp8Codes: $0, scaleBytes: sb, rows: rows, cols: cols) }
        return LinearCase(linear: l, weight: { e4m3ToFloat(codes[$0 * cols + $1]) },
                          scale: { e8m0ToFloat(sb[($0 / 128) * cb + $1 / 128]) })
    case .fp4:
        let bytes = (0..<(rows * cols / 2)).map { _ in rng.byte() }
        let sb = (0..<(rows * cols / 32)).map { _ in scaleByte() }
        let l = try bytes.withUnsafeBytes { try PackedLinear(fp4Codes: $0, scaleBytes: sb, rows: rows, cols: cols) }
        return LinearCase(linear: l, weight: { n, k in
            let b = bytes[(n * cols + k) / 2]
            return e2m1ToFloat(k & 1 == 0 ? b & 0xF : b >> 4)
        }, scale: { n, k in e8m0ToFloat(sb[n * (cols / 32) + k / 32]) })
    case .bf16:
        let bits = randomActivations(rows, cols, &rng).map { bf16Bits($0) }
        let l = try bits.withUnsafeBytes { try PackedLinear(bf16Bits: $0, rows: rows, cols: cols) }
        return LinearCase(linear: l, weight: { bf16ToFloat(bits[$0 * cols + $1]) }, scale: { _, _ in 1 })
    case .f32:
        let v = randomActivations(rows, cols, &rng)
        let l = try v.withUnsafeBufferPointer { try PackedLinear(f32: $0, rows: rows, cols: cols) }
        return LinearCase(linear: l, weight: { v[$0 * cols + $1] }, scale: { _, _ in 1 })
    }
}

/// Worst errors seen against the Double reference.
struct ErrorStats: CustomStringConvertible {
    var maxUlps: Float = 0          // rounded output vs bf16(reference), in bf16 ulps
    var maxRelAbs: Double = 0       // |y − ref| / (2^-24 · Σ|terms|) on the unrounded fp32 output
    var description: String { "max \(maxUlps) bf16 ulp, max |err| = \(maxRelAbs) · 2^-24 · Σ|terms|" }
}

/// Checks every available path against the reference; returns the worst errors per path.
@discardableResult
func checkAllPaths(_ c: LinearCase, x: [Float], m: Int, label: String) -> [KernelPath: ErrorStats] {
    let l = c.linear
    let ref = referenceLinear(format: l.format, rows: l.rows, cols: l.cols, x: x, m: m, weight: c.weight, scale: c.scale)
    var out: [KernelPath: ErrorStats] = [:]
    for path in KernelPath.available {
        let raw = l.apply(x, count: m, roundOutput: false, path: path)
        let rounded = l.apply(x, count: m, roundOutput: true, path: path)
        var st = ErrorStats(), bad = 0
        for i in 0..<(m * l.rows) {
            let r = ref.values[i], err = abs(Double(raw[i]) - r)
            // fp32 summation of ≤ cols terms: |err| ≤ cols·u·Σ|terms|, plus subnormal spacing at extreme scales.
            let bound = Double(l.cols) * 0x1p-24 * ref.absSums[i] + Double(l.cols) * 0x1p-149
            let rel = ref.absSums[i] > 0 ? err / (0x1p-24 * ref.absSums[i]) : (err == 0 ? 0 : .infinity)
            let expect = roundBF16(Float(r))
            let ulps = rounded[i] == expect ? 0 : abs(rounded[i] - expect) / bf16Ulp(max(abs(rounded[i]), abs(expect)))
            st.maxUlps = max(st.maxUlps, ulps)
            if err <= bound { st.maxRelAbs = max(st.maxRelAbs, rel) }
            // A rounded output may be 1 ulp off (the fp32 sum sat near a bf16 rounding boundary); more only under
            // heavy cancellation, which the unrounded bound covers.
            if err > bound || (ulps > 1 && err > Double(l.cols) * 0x1p-24 * ref.absSums[i] * 0.5) { bad += 1 }
        }
        #expect(bad == 0, "\(label) \(path): \(bad) outputs out of bounds; \(st)")
        print("[kernels] \(label) \(path): \(st)")
        out[path] = st
    }
    return out
}

@Test(arguments: [PackedLinear.Format.fp8, .fp4, .bf16, .f32])
func linearMatchesReference(format: PackedLinear.Format) throws {
    // Ragged rows (not a multiple of 32), inputs over several 1024-input segments, M across tile sizes.
    let shapes: [(rows: Int, cols: Int)] = format == .fp4 ? [(100, 160), (64, 2304)] : [(100, 200), (64, 2304)]
    for (si, shape) in shapes.enumerated() {
        let c = try makeCase(format, rows: shape.rows, cols: shape.cols, seed: 11 + UInt64(si))
        for m in [1, 3, 4, 5, 8, 13] {
            var rng = TestRNG(UInt64(100 * m + si))
            checkAllPaths(c, x: randomActivations(m, shape.cols, &rng), m: m, label: "\(format) \(shape) m=\(m)")
        }
    }
}

@Test(arguments: [PackedLinear.Format.fp8, .fp4])
func extremeScaleBytes(format: PackedLinear.Format) throws {
    // Scale bytes 0 (2^-127) and 254 (2^127) with small activations (s_act = 2^-22), so outputs stay finite.
    let c = try makeCase(format, rows: 160, cols: 256, seed: 7, scaleChoices: [0, 1, 127, 253, 254])
    for m in [1, 6, 13] {   // small M applies scales per group after the products (AVX2, AVX-512), larger M before (AVX2)
        var rng = TestRNG(5)
        checkAllPaths(c, x: randomActivations(m, 256, &rng, magnitude: 3e-7), m: m, label: "\(format) extreme scales m=\(m)")
    }
}

@Test func nanScalesAreRejected() throws {
    let codes = [UInt8](repeating: 0x38, count: 128 * 128)
    #expect(throws: PackError.nanScale(index: 0)) {
        try codes.withUnsafeBytes { try PackedLinear(fp8Codes: $0, scaleBytes: [0xFF], rows: 128, cols: 128) }
    }
    #expect(throws: PackError.nanScale(index: 3)) {
        try codes.withUnsafeBytes { try PackedLinear(fp4Codes: $0, scaleBytes: [1, 2, 3, 0xFF] + [UInt8](repeating: 127, count: 1020), rows: 128, cols: 256) }
    }
    #expect(throws: PackError.nanScale(index: 0)) {
        try codes.withUnsafeBytes { try PackedLinear(fp8Codes: $0, scales: [.nan], rows: 128, cols: 128) }
    }
}

@Test func packedLayoutReadsBack() throws {
    for format in [PackedLinear.Format.fp8, .fp4, .bf16, .f32] {
        let c = try makeCase(format, rows: 70, cols: 288, seed: 3)
        var bad = 0
        for n in 0..<70 { for k in 0..<288 where c.linear.packedValue(n, k) != c.weight(n, k) || (
            (format == .fp8 || format == .fp4) && c.linear.packedScale(n, k) != c.scale(n, k)) { bad += 1 } }
        #expect(bad == 0, "\(format)")
    }
}

@Test func repackOverheadIsSmallForModelShapes() throws {
    // DeepSeek-V4 shapes: the padding to 32 rows / 128 inputs is the only growth.
    for (rows, cols) in [(4096, 7168), (7168, 2048), (2048, 7168), (1536, 7168), (512, 4096)] {
        let fp8 = PackedLinear(format: .fp8, rows: rows, cols: cols, scaleBytes: ((rows + 127) / 128) * ((cols + 127) / 128) * 4)
        #expect(Double(fp8.packedBytes) <= 1.1 * Double(fp8.checkpointBytes))
        let fp4 = PackedLinear(format: .fp4, rows: rows, cols: cols, scaleBytes: (rows / 32) * (cols / 32) * 32)
        #expect(Double(fp4.packedBytes) <= 1.1 * Double(fp4.checkpointBytes))
    }
}

@Test(arguments: [PackedLinear.Format.fp8, .fp4, .bf16])
func rowsDoNotDependOnTheirBatch(format: PackedLinear.Format) throws {
    // Every M takes its own tile shapes (one row in registers, two or three by half panels, four to six
    // (bf16: up to 48) by quarter panels decoded in registers, more from a decoded chunk, past 96 rows
    // in blocks whose last may be one tile; AVX-512 FP8/FP4 from 12/16 rows decode each segment once for all
    // tiles); a row's bits must still be those it gets alone (batch invariance).
    let c = try makeCase(format, rows: 300, cols: 2304, seed: 21)
    var rng = TestRNG(9)
    let m = 99, x = randomActivations(m, 2304, &rng)
    for path in KernelPath.available {
        let alone = (0..<m).flatMap { r in c.linear.apply(Array(x[(r * 2304)..<((r + 1) * 2304)]), count: 1, roundOutput: false, path: path) }
        for count in [2, 3, 4, 6, 7, 13, 40, 99] {
            let batch = c.linear.apply(Array(x[0..<(count * 2304)]), count: count, roundOutput: false, path: path)
            let differing = (0..<(count * 300)).filter { batch[$0].bitPattern != alone[$0].bitPattern }.count
            #expect(differing == 0, "\(format) \(path) M=\(count): \(differing) outputs differ from the rows alone")
        }
    }
}
