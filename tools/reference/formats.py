"""Number formats and quantizers of DeepSeek-V4 (spec §6).

Conventions used throughout the reference:

* ``bf16(x)`` rounds to bfloat16 with round-to-nearest-even.  Inputs that are float64 are first
  rounded to float32 (the official code always produces fp32 values before the bf16 cast, so the
  double rounding f64 -> f32 -> bf16 is the faithful one).  The result is returned as float32
  holding a bf16 value (every bf16 is exactly representable in float32).
* ``f32(x)`` rounds to float32 (RNE).
* FP8 e4m3fn: max +-448, no inf, NaN = 0x7F/0xFF, subnormals down to 2^-9.  The official
  quantizers clamp to +-448 before the cast, so values never saturate to NaN.
* FP4 e2m1: magnitudes 0, .5, 1, 1.5, 2, 3, 4, 6; RNE; the cast saturates at +-6 (the official
  code clamps first anyway).
* E8M0: one byte b, value 2^(b-127), b=255 is NaN.
"""
from __future__ import annotations

import numpy as np
import ml_dtypes

BF16 = ml_dtypes.bfloat16
E4M3 = ml_dtypes.float8_e4m3fn
E2M1 = ml_dtypes.float4_e2m1fn
E8M0 = ml_dtypes.float8_e8m0fnu

FP8_MAX = 448.0
FP4_MAX = 6.0
FP8_MAX_INV = np.float32(1.0 / 448.0)  # fp32(1/448) as compiled into the kernel
FP4_MAX_INV = np.float32(1.0 / 6.0)

E2M1_VALUES = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
                        -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0], dtype=np.float32)


# ----------------------------------------------------------------------------------------------
# scalar formats
# ----------------------------------------------------------------------------------------------

def f32(x) -> np.ndarray:
    return np.asarray(x).astype(np.float32)


def bf16(x) -> np.ndarray:
    """Round to bf16 (RNE), returned as float32 values."""
    x = np.asarray(x)
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    return x.astype(BF16).astype(np.float32)


def e4m3(x, saturate: bool = True) -> np.ndarray:
    """Round float32 values to FP8 e4m3fn (RNE), returned as float32.  With saturate=True
    (default, like CUDA's satfinite cvt and like the kernels, which clamp to +-448 first) finite
    values beyond +-448 become +-448 and NaN stays NaN; with saturate=False they become NaN
    (ml_dtypes' plain cast)."""
    x = np.asarray(x, dtype=np.float32)
    if saturate:
        x = np.clip(x, -FP8_MAX, FP8_MAX)  # clip keeps NaN
    return x.astype(E4M3).astype(np.float32)


def e4m3_reference(x) -> np.ndarray:
    """Bit-level independent e4m3fn RNE rounding (saturating to +-448 like CUDA satfinite).
    Used only by tests to check the ml_dtypes path."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        if np.isnan(v):
            out[i] = np.nan
            continue
        s = -1.0 if np.signbit(v) else 1.0
        a = abs(v)
        if a >= 448.0:
            out[i] = s * 448.0
            continue
        # quantum of the binade; subnormal quantum 2^-9 below 2^-6
        e = max(int(np.floor(np.log2(a))) if a > 0 else -6, -6)
        q = 2.0 ** (e - 3)
        m = a / q
        r = np.floor(m)
        frac = m - r
        if frac > 0.5 or (frac == 0.5 and int(r) % 2 == 1):
            r += 1
        out[i] = s * min(r * q, 448.0)
    return out.astype(np.float32)


def e2m1(x) -> np.ndarray:
    """Round float32 values to FP4 e2m1 (RNE, saturating at +-6), returned as float32."""
    return np.asarray(x, dtype=np.float32).astype(E2M1).astype(np.float32)


def e2m1_reference(x) -> np.ndarray:
    """Independent table-based e2m1 RNE rounding (for tests)."""
    grid = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
    codes_even = np.array([True, False, True, False, True, False, True, False])  # mantissa bit 0
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        s = -1.0 if np.signbit(v) else 1.0
        a = min(abs(v), 6.0)
        k = np.searchsorted(grid, a)  # grid[k-1] < a <= grid[k]
        if k < len(grid) and grid[k] == a:
            out[i] = s * a
            continue
        lo, hi = grid[k - 1], grid[k]
        mid = (lo + hi) / 2
        if a < mid:
            out[i] = s * lo
        elif a > mid:
            out[i] = s * hi
        else:
            out[i] = s * (lo if codes_even[k - 1] else hi)
    return out.astype(np.float32)


def e8m0_to_f32(b) -> np.ndarray:
    """E8M0 byte(s) -> float32 2^(b-127); 255 -> NaN.  Exact for b in 1..254 (b=0 gives 2^-127,
    a float32 subnormal, also exact)."""
    b = np.asarray(b, dtype=np.uint8).astype(np.int32)
    out = np.ldexp(np.float64(1.0), np.minimum(b, 254) - 127).astype(np.float32)
    return np.where(b == 255, np.float32(np.nan), out)


def f32_pow2_to_e8m0(s) -> np.ndarray:
    """Power-of-two float32 scale -> E8M0 byte (exact)."""
    s = np.asarray(s, dtype=np.float32)
    m, e = np.frexp(s.astype(np.float64))
    assert np.all(m == 0.5), "scale is not a power of two"
    return (e - 1 + 127).astype(np.uint8)


def fast_round_scale(amax, max_inv) -> np.ndarray:
    """ue8m0 scale of the TileLang kernels: 2^ceil(log2(fp32(amax * max_inv))) via exponent bits
    (exponent - 127 + (mantissa != 0)); [REF-kernel] fast_log2_ceil / fast_pow2."""
    p = (np.asarray(amax, dtype=np.float32) * np.float32(max_inv)).astype(np.float32)
    bits = p.view(np.uint32)
    exp = ((bits >> 23) & 0xFF).astype(np.int64)
    man = bits & 0x7FFFFF
    e = exp - 127 + (man != 0).astype(np.int64)
    out_bits = ((e + 127) << 23).astype(np.uint32)
    return out_bits.view(np.float32)


# ----------------------------------------------------------------------------------------------
# activation quantizers (§6.3, §6.4)
# ----------------------------------------------------------------------------------------------

def _blocked(x: np.ndarray, block: int) -> np.ndarray:
    assert x.shape[-1] % block == 0, (x.shape, block)
    return x.reshape(*x.shape[:-1], x.shape[-1] // block, block)


def act_quant(x, block: int = 128):
    """FP8 activation quant with ue8m0 scales (official act_quant, scale_fmt='ue8m0').
    x: bf16 values (float32 array).  Returns (q, s): q float32 holding e4m3 values, shape of x;
    s float32 powers of two, shape [..., K/block]."""
    x = np.asarray(x, dtype=np.float32)
    xb = _blocked(x, block)
    amax = np.maximum(np.abs(xb).max(axis=-1), np.float32(1e-4)).astype(np.float32)
    s = fast_round_scale(amax, FP8_MAX_INV)
    q = e4m3(np.clip(xb / s[..., None], -FP8_MAX, FP8_MAX).astype(np.float32))
    return q.reshape(x.shape), s


def act_dequant(q, s, block: int = 128) -> np.ndarray:
    qb = _blocked(np.asarray(q, dtype=np.float32), block)
    return (qb * s[..., None]).astype(np.float32).reshape(q.shape)


def fp8_sim(x, block: int = 64) -> np.ndarray:
    """In-place FP8 simulation (act_quant(..., inplace=True)): bf16(fp32(e4m3(x/s)) * s)."""
    q, s = act_quant(x, block)
    return bf16(act_dequant(q, s, block))


def fp4_act_quant(x, block: int = 32):
    """FP4 activation quant (official fp4_act_quant): amax floor 6*2^-126, s = 2^ceil(log2(amax/6)),
    q = e2m1_RNE(clamp(x/s, +-6)).  Returns (q, s)."""
    x = np.asarray(x, dtype=np.float32)
    xb = _blocked(x, block)
    amax = np.maximum(np.abs(xb).max(axis=-1), np.float32(6 * 2.0 ** -126)).astype(np.float32)
    s = fast_round_scale(amax, FP4_MAX_INV)
    q = e2m1(np.clip(xb / s[..., None], -FP4_MAX, FP4_MAX).astype(np.float32))
    return q.reshape(x.shape), s


def fp4_sim(x, block: int = 32) -> np.ndarray:
    """In-place FP4 simulation: bf16(fp32(e2m1(x/s)) * s)."""
    q, s = fp4_act_quant(x, block)
    return bf16(act_dequant(q, s, block))


def quant_dequant_act(x, block: int = 128) -> np.ndarray:
    """What an FP8/FP4 linear sees of its activation: the exact dequantized FP8 values (fp32)."""
    q, s = act_quant(x, block)
    return act_dequant(q, s, block)


# ----------------------------------------------------------------------------------------------
# weight dequantization (§6.2) and weight quantization (for synthetic checkpoints)
# ----------------------------------------------------------------------------------------------

def dequant_fp8_weight(w_e4m3: np.ndarray, scale_e8m0: np.ndarray, block: int = 128) -> np.ndarray:
    """W[o,i] = fp8(W[o,i]) * 2^(S[o//128, i//128] - 127), float32 (exact)."""
    w = np.asarray(w_e4m3).astype(np.float32)
    s = e8m0_to_f32(np.asarray(scale_e8m0).view(np.uint8))
    so = np.repeat(np.repeat(s, block, axis=0), block, axis=1)[: w.shape[0], : w.shape[1]]
    return (w * so).astype(np.float32)


def unpack_fp4(packed_i8: np.ndarray) -> np.ndarray:
    """[out, in/2] int8 -> [out, in] e2m1 values (float32); low nibble = element 2i."""
    b = np.asarray(packed_i8).view(np.uint8)
    lo = E2M1_VALUES[b & 0x0F]
    hi = E2M1_VALUES[(b >> 4) & 0x0F]
    return np.stack([lo, hi], axis=-1).reshape(b.shape[0], b.shape[1] * 2)


def pack_fp4(values: np.ndarray) -> np.ndarray:
    """[out, in] float32 on the e2m1 grid -> [out, in/2] int8 (low nibble = element 2i)."""
    v = np.asarray(values, dtype=np.float32)
    codes = v.astype(E2M1).view(np.uint8) & 0x0F
    lo = codes[:, 0::2]
    hi = codes[:, 1::2]
    return (lo | (hi << 4)).astype(np.uint8).view(np.int8)


def dequant_fp4_weight(packed_i8: np.ndarray, scale_e8m0: np.ndarray, block: int = 32) -> np.ndarray:
    """W[o,i] = e2m1(nibble(o,i)) * 2^(S[o, i//32] - 127), float32 (exact)."""
    w = unpack_fp4(packed_i8)
    s = e8m0_to_f32(np.asarray(scale_e8m0).view(np.uint8))
    return (w * np.repeat(s, block, axis=1)).astype(np.float32)


def quantize_fp8_weight(w: np.ndarray, block: int = 128):
    """float weight -> (e4m3 array, e8m0 scale array) with pow2 128x128 block scales."""
    w = np.asarray(w, dtype=np.float32)
    O, I = w.shape
    bo, bi = -(-O // block), -(-I // block)
    pad = np.zeros((bo * block, bi * block), np.float32)
    pad[:O, :I] = w
    blk = pad.reshape(bo, block, bi, block)
    amax = np.maximum(np.abs(blk).max(axis=(1, 3)), np.float32(1e-4))
    s = fast_round_scale(amax, FP8_MAX_INV)
    so = np.repeat(np.repeat(s, block, 0), block, 1)[:O, :I]
    q = np.clip(w / so, -FP8_MAX, FP8_MAX).astype(np.float32).astype(E4M3)
    return q, f32_pow2_to_e8m0(s).view(E8M0)


def quantize_fp4_weight(w: np.ndarray, block: int = 32):
    """float weight [out, in] -> (int8 packed [out, in/2], e8m0 scales [out, in/32])."""
    w = np.asarray(w, dtype=np.float32)
    O, I = w.shape
    blk = w.reshape(O, I // block, block)
    amax = np.maximum(np.abs(blk).max(axis=-1), np.float32(6 * 2.0 ** -126))
    s = fast_round_scale(amax, FP4_MAX_INV)
    q = e2m1(np.clip(blk / s[..., None], -FP4_MAX, FP4_MAX).astype(np.float32)).reshape(O, I)
    return pack_fp4(q), f32_pow2_to_e8m0(s).view(E8M0)
