import Testing
@testable import RiptideKernels

@Test func bf16RoundsToNearestEven() {
    #expect(roundBF16(1.0) == 1.0)
    #expect(roundBF16(Float(bitPattern: 0x3F80_8000)) == 1.0)            // exact tie → even (1.0)
    #expect(roundBF16(Float(bitPattern: 0x3F81_8000)) == Float(bitPattern: 0x3F82_0000))  // tie → even (up)
    #expect(roundBF16(Float(bitPattern: 0x3F80_8001)) == Float(bitPattern: 0x3F81_0000))  // above tie → up
    #expect(roundBF16(.infinity) == .infinity)
    #expect(roundBF16(.nan).isNaN)
    #expect(roundBF16(Float(bitPattern: 0x7F7F_FFFF)) == .infinity)     // max float rounds to inf like torch
}

@Test func e4m3TableAndRounding() {
    #expect(e4m3ToFloat(0x7E) == 448 && e4m3ToFloat(0xFE) == -448)
    #expect(e4m3ToFloat(0x7F).isNaN && e4m3ToFloat(0xFF).isNaN)
    #expect(e4m3ToFloat(0x01) == 0x1p-9 && e4m3ToFloat(0x08) == 0x1p-6)
    // Every finite code round-trips through the encoder.
    for code in 0..<256 where !e4m3Values[code].isNaN {
        let v = e4m3Values[code]
        #expect(roundToE4M3(v) == v)
        if v != 0 { #expect(e4m3Code(v) == UInt8(code)) }
    }
    // Ties to even, in the normal and the subnormal range.
    #expect(roundToE4M3(1.0625) == 1.0)      // halfway 1 and 1.125 → mantissa 0
    #expect(roundToE4M3(1.1875) == 1.25)     // halfway 1.125 and 1.25 → mantissa 2
    #expect(roundToE4M3(0x1p-10) == 0)       // half the smallest subnormal → 0
    #expect(roundToE4M3(3 * 0x1p-10) == 2 * 0x1p-9)
    #expect(roundToE4M3(464) == 448 && roundToE4M3(-1e9) == -448)  // saturates
}

@Test func e2m1TiesToEven() {
    let cases: [(Float, Float)] = [(0.25, 0), (0.75, 1), (1.25, 1), (1.75, 2), (2.5, 2), (3.5, 4), (5, 4),
                                    (-0.25, 0), (-5, -4), (5.5, 6), (7, 6), (0.2, 0), (0.3, 0.5), (2.6, 3)]
    for (x, expected) in cases { #expect(roundToE2M1(x) == expected, "e2m1(\(x))") }
    for code in 0..<16 { #expect(e2m1ToFloat(e2m1Code(e2m1Values[code])) == e2m1Values[code]) }
    // Every code of a fine sweep (all ties included) decodes to the rounded value, sign of zero too.
    for i in -640...640 {
        let x = Float(i) / 64, code = e2m1Code(x), r = roundToE2M1(x)
        #expect(e2m1ToFloat(code) == r && (code & 8 != 0) == (r.sign == .minus), "e2m1Code(\(x)) = \(code)")
    }
}

@Test func e8m0Scales() {
    #expect(e8m0ToFloat(127) == 1 && e8m0ToFloat(0) == 0x1p-127 && e8m0ToFloat(254) == 0x1p127)
    #expect(e8m0ToFloat(0xFF).isNaN)
    #expect(ceilPow2Exponent(1) == 0 && ceilPow2Exponent(1.5) == 1 && ceilPow2Exponent(0.25) == -2)
}

@Test func fp8ActivationQuantization() {
    // Block 0 (128 values) peaks at 448·4 → scale 4; block 1 has amax below the 1e-4 floor.
    var x = [Float](repeating: 1, count: 200)
    x[5] = 1792; x[6] = -3; x[7] = 4.25
    for i in 128..<200 { x[i] = 1e-6 }
    var values = [Float](repeating: 0, count: 200), scales = [Float](repeating: 0, count: 2)
    x.withUnsafeBufferPointer { xp in values.withUnsafeMutableBufferPointer { v in scales.withUnsafeMutableBufferPointer { s in
        quantizeFP8(xp, block: 128, values: v, scales: s)
    } } }
    #expect(scales[0] == 4)
    #expect(values[5] == 448 && values[6] == -0.75 && values[7] == roundToE4M3(4.25 / 4))
    #expect(scales[1] == Float(sign: .plus, exponent: ceilPow2Exponent(Float(1e-4) * inverseE4M3Max), significand: 1))
}

@Test func fp4SimulationUsesE2M1Grid() {
    var v: [Float] = (0..<32).map { Float($0) * 0.25 }   // amax 7.75 → scale 2 (7.75/6 → ceil pow2 = 2)
    v.withUnsafeMutableBufferPointer { simulateFP4($0, block: 32) }
    #expect(v[1] == 0)        // 0.25/2 = 0.125 → 0
    #expect(v[3] == 1)        // 0.75/2 = 0.375 → 0.5 → ×2 = 1
    #expect(v[5] == 1)        // 1.25/2 = 0.625 → 0.5 → 1
    #expect(v[31] == 8)       // 7.75/2 = 3.875 → 4 → 8
}

@Test func hadamardMatchesTheMatrixDefinition() {
    let n = 16
    let x: [Float] = (0..<n).map { Float($0 * $0 % 7) - 3 }
    var y = x
    y.withUnsafeMutableBufferPointer { hadamardTransform($0, scale: 0.25) }
    for i in 0..<n {
        var s: Float = 0
        for k in 0..<n { s += ((i & k).nonzeroBitCount % 2 == 0 ? 1 : -1) * x[k] }
        #expect(y[i] == s * 0.25)
    }
}
