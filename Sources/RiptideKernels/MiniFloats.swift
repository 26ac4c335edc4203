/// The checkpoint's narrow formats (spec §6.1): FP8 E4M3FN, E8M0 scales and FP4 E2M1.
/// Encoders round to nearest even; all decoded values are exact in Float (and in bf16).

// MARK: E8M0 (power-of-two scales)

/// 2^(byte − 127); 0xFF is NaN.
@inlinable public func e8m0ToFloat(_ byte: UInt8) -> Float {
    switch byte {
    case 0xFF: .nan
    case 0: 0x1p-127  // the only E8M0 value that is subnormal in Float
    default: Float(bitPattern: UInt32(byte) << 23)
    }
}

/// The smallest power of two ≥ v, as an E8M0 byte: `2^ceil(log2 v)` via the exponent bits, as the
/// reference `act_quant` computes ue8m0 scales. `v` must be a positive normal Float.
@inlinable public func ceilPow2Exponent(_ v: Float) -> Int {
    let bits = v.bitPattern
    let exponent = Int((bits >> 23) & 0xFF) - 127
    return (bits & 0x7F_FFFF) != 0 ? exponent + 1 : exponent
}

// MARK: FP8 E4M3FN

/// Decoded value of every E4M3FN byte (0x7F and 0xFF are NaN).
public let e4m3Values: [Float] = (0..<256).map { code in
    let sign: Float = code & 0x80 != 0 ? -1 : 1
    let exponent = (code >> 3) & 0xF, mantissa = code & 7
    if exponent == 0xF && mantissa == 7 { return .nan }
    if exponent == 0 { return sign * Float(mantissa) * 0x1p-9 }
    return sign * (1 + Float(mantissa) / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
}

@inlinable public func e4m3ToFloat(_ code: UInt8) -> Float { e4m3Values[Int(code)] }

/// Rounds to the nearest E4M3FN value (ties to even), saturating at ±448. Callers clamp first, as the
/// reference does; saturation only guards the encoder. NaN stays NaN.
@inlinable public func roundToE4M3(_ x: Float) -> Float {
    roundToMiniFloat(x, mantissaBits: 3, minNormalExponent: -6, maxValue: 448)
}

/// The E4M3FN byte of `x` (rounded as `roundToE4M3`).
@inlinable public func e4m3Code(_ x: Float) -> UInt8 {
    if x.isNaN { return 0x7F }
    let r = roundToE4M3(x)
    let sign: UInt8 = r.sign == .minus ? 0x80 : 0
    let a = abs(r)
    if a < 0x1p-6 { return sign | UInt8(a * 0x1p9) }  // subnormal: mantissa = a / 2^-9
    let exponent = Int(a.exponent)
    let mantissa = UInt8((a / Float(sign: .plus, exponent: exponent, significand: 1) - 1) * 8)
    return sign | UInt8(exponent + 7) << 3 | mantissa
}

// MARK: FP4 E2M1

/// Magnitudes of codes 0–7; codes 8–15 are the negatives.
public let e2m1Values: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6]

@inlinable public func e2m1ToFloat(_ nibble: UInt8) -> Float { e2m1Values[Int(nibble & 0xF)] }

/// Rounds to the nearest E2M1 value, ties to even (0.25→0, 0.75→1, 1.25→1, 1.75→2, 2.5→2, 3.5→4,
/// 5→4), saturating at ±6.
@inlinable public func roundToE2M1(_ x: Float) -> Float {
    roundToMiniFloat(x, mantissaBits: 1, minNormalExponent: 0, maxValue: 6)
}

/// The E2M1 nibble of `x` (rounded as `roundToE2M1`).
@inlinable public func e2m1Code(_ x: Float) -> UInt8 {
    let r = roundToE2M1(x), a = abs(r)
    // 0, 0.5 → codes 0, 1; 2^e·(1 + m/2) for e = 0...2 → 2(e + 1) + m.
    let magnitude = a < 1 ? UInt8(a * 2) : UInt8(2 * (Int(a.exponent) + 1)) + UInt8((a / Float(sign: .plus, exponent: a.exponent, significand: 1) - 1) * 2)
    return (r.sign == .minus ? 8 : 0) | magnitude
}

// MARK: Shared rounding

/// Round-to-nearest-even onto a binary grid with `mantissaBits` fraction bits, gradual underflow
/// below 2^minNormalExponent, and saturation at `maxValue`. Exact: the scaling is by powers of two.
@inlinable public func roundToMiniFloat(_ x: Float, mantissaBits: Int, minNormalExponent: Int, maxValue: Float) -> Float {
    if x.isNaN { return x }
    let a = abs(x)
    if a >= maxValue { return x < 0 ? -maxValue : maxValue }
    let exponent = a < Float(sign: .plus, exponent: minNormalExponent, significand: 1) ? minNormalExponent : Int(a.exponent)
    let ulp = Float(sign: .plus, exponent: exponent - mantissaBits, significand: 1)
    let r = min((a / ulp).rounded(.toNearestOrEven) * ulp, maxValue)
    return x < 0 ? -r : r
}
