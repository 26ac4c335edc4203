@testable import RiptideKernels

/// Small deterministic generator (SplitMix64), so failures reproduce.
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }            // [0, 1)
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}

/// Activations [m, k]: signed values spanning ~6 decades per row, some zeros and some exact ties.
func randomActivations(_ m: Int, _ k: Int, _ rng: inout TestRNG, magnitude: Float = 1) -> [Float] {
    (0..<(m * k)).map { _ in
        switch rng.int(20) {
        case 0: return 0
        case 1: return (rng.int(2) == 0 ? 1 : -1) * magnitude * 448 * 0x1p-8  // a round value
        default:
            let mag = Float(sign: .plus, exponent: rng.int(20) - 14, significand: 1 + rng.uniform())
            return (rng.int(2) == 0 ? mag : -mag) * magnitude
        }
    }
}

/// E4M3 codes without the NaN codes; about 1 in 8 is ±448 or a subnormal.
func randomE4M3Codes(_ count: Int, _ rng: inout TestRNG) -> [UInt8] {
    (0..<count).map { _ in
        switch rng.int(16) {
        case 0: return rng.int(2) == 0 ? 0x7E : 0xFE                        // ±448
        case 1: return UInt8(rng.int(8)) | (rng.int(2) == 0 ? 0 : 0x80)    // zero and subnormals
        default:
            var b = rng.byte()
            if b & 0x7F == 0x7F { b &= 0xFE }                              // avoid NaN
            return b
        }
    }
}

/// One bf16 ulp at magnitude |v| (subnormal spacing 2^-133 below 2^-126).
func bf16Ulp(_ v: Float) -> Float {
    let a = abs(v)
    if a < 0x1p-126 { return 0x1p-133 }
    return Float(sign: .plus, exponent: a.exponent - 7, significand: 1)
}

/// The reference of the numerics contract, in Double from the unpacked checkpoint-format weight:
/// returns (exact-ish value, Σ|terms|) per output [m][n].
func referenceLinear(format: PackedLinear.Format, rows: Int, cols: Int, x: [Float], m: Int,
                     weight: (Int, Int) -> Float, scale: (Int, Int) -> Float) -> (values: [Double], absSums: [Double]) {
    var vals = [Double](repeating: 0, count: m * rows), sums = vals
    let quantized = format == .fp8 || format == .fp4
    let group = format == .fp8 ? 128 : format == .fp4 ? 32 : cols
    var q = [Float](repeating: 0, count: cols), qs = [Float](repeating: 0, count: (cols + 127) / 128)
    for r in 0..<m {
        let row = Array(x[(r * cols)..<((r + 1) * cols)])
        if quantized {
            row.withUnsafeBufferPointer { xp in q.withUnsafeMutableBufferPointer { v in qs.withUnsafeMutableBufferPointer { s in
                quantizeFP8(xp, block: 128, values: v, scales: s)
            } } }
        } else {
            for k in 0..<cols { q[k] = format == .bf16 ? roundBF16(row[k]) : row[k] }
        }
        for n in 0..<rows {
            var total = 0.0, abs = 0.0, g0 = 0
            while g0 < cols {
                var acc = 0.0, accAbs = 0.0
                for k in g0..<min(g0 + group, cols) {
                    let t = Double(q[k]) * Double(weight(n, k))
                    acc += t; accAbs += Swift.abs(t)
                }
                let s = quantized ? Double(qs[g0 / 128]) * Double(scale(n, g0)) : 1
                total += acc * s; abs += accAbs * s
                g0 += group
            }
            vals[r * rows + n] = total
            sums[r * rows + n] = abs
        }
    }
    return (vals, sums)
}
