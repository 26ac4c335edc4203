/// Activation quantizers and the in-place quantization "simulations" of spec §6.3–6.4.
/// These are the plain reference versions: every fast kernel must agree with them bit for bit.

/// `fp32(1/448)` and `fp32(1/6)`: the reference multiplies by the rounded reciprocal, not divides.
public let inverseE4M3Max = Float(1.0 / 448.0)
public let inverseE2M1Max = Float(1.0 / 6.0)

/// FP8 activation quantization of one row in blocks of `block` (128 for linears): for each block,
/// scale `s = 2^ceil(log2(max(amax, 1e-4) · fp32(1/448)))` and values `e4m3(clamp(x/s, ±448))`.
/// Writes the E4M3 values (as Float) to `values` and one scale per block to `scales`.
@inlinable public func quantizeFP8(
    _ x: UnsafeBufferPointer<Float>, block: Int,
    values: UnsafeMutableBufferPointer<Float>, scales: UnsafeMutableBufferPointer<Float>
) {
    var b = 0, start = 0
    while start < x.count {
        let end = min(start + block, x.count)
        var amax: Float = 0
        for i in start..<end { amax = max(amax, abs(x[i])) }
        let scale = Float(sign: .plus, exponent: ceilPow2Exponent(max(amax, 1e-4) * inverseE4M3Max), significand: 1)
        for i in start..<end { values[i] = roundToE4M3(min(max(x[i] / scale, -448), 448)) }
        scales[b] = scale
        b += 1
        start = end
    }
}

/// `fp8_sim` (§6.4): quantize to E4M3 with a pow2 scale per `block` (64 on the KV nope dims) and
/// write back the dequantized value rounded to bf16.
@inlinable public func simulateFP8(_ v: UnsafeMutableBufferPointer<Float>, block: Int) {
    simulateQuantization(v, block: block, amaxFloor: 1e-4, inverseMax: inverseE4M3Max, maxValue: 448, round: roundToE4M3)
}

/// `fp4_sim` (§6.4): quantize to E2M1 (ties to even) with a pow2 scale per `block` (32), floor on
/// amax `6·2^-126`, and write back the dequantized value rounded to bf16.
@inlinable public func simulateFP4(_ v: UnsafeMutableBufferPointer<Float>, block: Int) {
    simulateQuantization(v, block: block, amaxFloor: 6 * 0x1p-126, inverseMax: inverseE2M1Max, maxValue: 6, round: roundToE2M1)
}

/// Per block: `s = 2^ceil(log2(max(amax, floor) · inverseMax))`, `v = bf16(round(clamp(v/s)) · s)`.
@inlinable func simulateQuantization(
    _ v: UnsafeMutableBufferPointer<Float>, block: Int, amaxFloor: Float, inverseMax: Float, maxValue: Float,
    round: (Float) -> Float
) {
    var start = 0
    while start < v.count {
        let end = min(start + block, v.count)
        var amax: Float = 0
        for i in start..<end { amax = max(amax, abs(v[i])) }
        let scale = Float(sign: .plus, exponent: ceilPow2Exponent(max(amax, amaxFloor) * inverseMax), significand: 1)
        for i in start..<end { v[i] = roundBF16(round(min(max(v[i] / scale, -maxValue), maxValue)) * scale) }
        start = end
    }
}

/// In-place Walsh–Hadamard transform (Sylvester order, H[i,k] = (−1)^popcount(i&k)) in fp32,
/// then multiplied by `scale`. `v.count` must be a power of two.
@inlinable public func hadamardTransform(_ v: UnsafeMutableBufferPointer<Float>, scale: Float) {
    let n = v.count
    precondition(n & (n - 1) == 0, "Hadamard size must be a power of two")
    var h = 1
    while h < n {
        var i = 0
        while i < n {
            for j in i..<(i + h) {
                let a = v[j], b = v[j + h]
                v[j] = a + b
                v[j + h] = a - b
            }
            i += 2 * h
        }
        h *= 2
    }
    for i in 0..<n { v[i] *= scale }
}
