/// bfloat16 as its 16 raw bits. Arithmetic happens in Float; this type only stores and rounds.
public struct BFloat16: Hashable, Sendable {
    public var bits: UInt16

    @inlinable public init(bits: UInt16) { self.bits = bits }

    /// Round-to-nearest-even from Float, as torch's `.to(bfloat16)` and CUDA's cvt do.
    @inlinable public init(_ x: Float) { bits = bf16Bits(x) }

    @inlinable public var float: Float { Float(bitPattern: UInt32(bits) << 16) }
}

/// Float → bf16 bits, round to nearest even; NaN stays a (quiet) NaN.
@inlinable public func bf16Bits(_ x: Float) -> UInt16 {
    let b = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: (b >> 16) | 0x40) }
    let rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
    return UInt16(truncatingIfNeeded: rounded >> 16)
}

/// Rounds a Float to the nearest bf16 value and returns it as Float: the model's bf16 rounding points.
@inlinable public func roundBF16(_ x: Float) -> Float { Float(bitPattern: UInt32(bf16Bits(x)) << 16) }

/// bf16 bits → Float (exact).
@inlinable public func bf16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

/// IEEE half bits → Float (exact), for F16 tensors.
@inlinable public func f16ToFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }
