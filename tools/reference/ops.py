"""Elementary operations of the DeepSeek-V4 forward (spec §2, §3, §4.2, §4.5, §4.7, §6).

Arithmetic policy (the oracle's contract; see README "Rounding points"):

* Matrix products and reductions accumulate in float64 and are rounded ONCE to float32
  (= "fp32 accumulation" of the official code, with the summation-order noise removed, so the
  result is independent of batch size and of BLAS).  Products of bf16/fp8/fp4/fp32 operands are
  exact in float64.
* Element-wise +, -, *, / on fp32 values are done in float32 (IEEE, correctly rounded).
* exp, log1p, sqrt, rsqrt, sigmoid, silu, cos, sin are evaluated in float64 and rounded once to
  float32 (correctly rounded fp32 elementary functions).
* Values that the official code keeps in bf16 are rounded with ``bf16()`` at exactly the points
  listed in the spec (§6.5, §11.1).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .formats import bf16, quant_dequant_act

F32 = np.float32
F64 = np.float64


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def mm64(x, w_t64) -> np.ndarray:
    """x [..., K] (any float) @ w_t64 [K, N] (float64) accumulated in float64, rounded to fp32."""
    x = np.asarray(x, dtype=F64)
    return (x @ w_t64).astype(F32)


def exp32(x) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.exp(np.asarray(x, dtype=F64)).astype(F32)


def sigmoid32(x) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp(-np.asarray(x, dtype=F64)))).astype(F32)


def rsqrt32(x) -> np.ndarray:
    return (1.0 / np.sqrt(np.asarray(x, dtype=F64))).astype(F32)


def sqrt32(x) -> np.ndarray:
    return np.sqrt(np.asarray(x, dtype=F64)).astype(F32)


def mean32(x, axis=-1, keepdims=True) -> np.ndarray:
    """fp32 mean: sum accumulated in float64, rounded to fp32, divided by n in fp32."""
    x = np.asarray(x)
    n = x.shape[axis]
    s = np.sum(np.asarray(x, dtype=F64), axis=axis, keepdims=keepdims).astype(F32)
    return (s / F32(n)).astype(F32)


def sum32(x, axis=-1, keepdims=False) -> np.ndarray:
    return np.sum(np.asarray(x, dtype=F64), axis=axis, keepdims=keepdims).astype(F32)


# ----------------------------------------------------------------------------------------------
# linears (§6.3)
# ----------------------------------------------------------------------------------------------

def linear_quant(x, w_t64) -> np.ndarray:
    """FP8/FP4-weight linear: FP8 act quant (block 128, ue8m0) of the bf16 input, exact dequant,
    fp32 GEMM against the dequantized weight, bf16 output.  w_t64: dequantized weight^T, float64."""
    xq = quant_dequant_act(x, 128)
    return bf16(mm64(xq, w_t64))


def linear_bf16(x, w_t64) -> np.ndarray:
    """bf16 F.linear: bf16 inputs and weights, fp32 accumulate, bf16 out."""
    return bf16(mm64(x, w_t64))


def linear_f32(x, w_t64) -> np.ndarray:
    """fp32 F.linear (compressor wkv/wgate, gate, hc_fn): fp32 out."""
    return mm64(x, w_t64)


# ----------------------------------------------------------------------------------------------
# RMSNorm (§2) and per-head q normalisation (§4.3, §11.1.1)
# ----------------------------------------------------------------------------------------------

def rms_norm(x, weight, eps: float = 1e-6) -> np.ndarray:
    """x bf16 -> bf16.  var = mean(x^2) fp32; y = x * rsqrt(var + eps); y = w * y; bf16."""
    x = np.asarray(x, dtype=F32)
    var = mean32((x * x).astype(F32))
    r = rsqrt32((var + F32(eps)).astype(F32))
    y = (x * r).astype(F32)
    return bf16((np.asarray(weight, dtype=F32) * y).astype(F32))


def q_head_norm(q, eps: float = 1e-6) -> np.ndarray:
    """q [..., H, d] bf16, weightless, four bf16 rounding points (§11.1.1):
    bf16(q^2) -> bf16(mean) -> bf16(ms + eps) -> bf16(rsqrt) -> bf16(q * r)."""
    q = np.asarray(q, dtype=F32)
    sq = bf16(q * q)
    ms = bf16(mean32(sq))
    a = bf16((ms + F32(eps)).astype(F32))
    r = bf16(rsqrt32(a))
    return bf16((q * r).astype(F32))


# ----------------------------------------------------------------------------------------------
# RoPE (§4.2)
# ----------------------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def rope_freqs(dim: int, original_seq_len: int, base: float, factor: float,
               beta_fast: float, beta_slow: float) -> np.ndarray:
    """Per-pair inverse frequencies (fp32, [dim/2]), YaRN-blended when original_seq_len > 0."""
    i = (np.arange(0, dim, 2, dtype=F32) / F32(dim)).astype(F32)
    powed = np.power(F64(base), i.astype(F64)).astype(F32)
    freqs = (F32(1.0) / powed).astype(F32)
    if original_seq_len > 0:
        def corr_dim(n_rot):
            return dim * math.log(original_seq_len / (n_rot * 2 * math.pi)) / (2 * math.log(base))
        low = max(math.floor(corr_dim(beta_fast)), 0)
        high = min(math.ceil(corr_dim(beta_slow)), dim - 1)
        if low == high:
            high += 0.001
        ramp = np.clip(((np.arange(dim // 2, dtype=F32) - F32(low)) / F32(high - low)).astype(F32), 0, 1)
        smooth = (F32(1) - ramp).astype(F32)
        freqs = (((freqs / F32(factor)).astype(F32) * (F32(1) - smooth)).astype(F32)
                 + (freqs * smooth).astype(F32)).astype(F32)
    return freqs


def rope_cos_sin(freqs: np.ndarray, positions) -> tuple[np.ndarray, np.ndarray]:
    """angle = fp32(pos * freq); cos/sin evaluated in float64 and rounded once to fp32."""
    pos = np.asarray(positions, dtype=F32).reshape(-1, 1)
    ang = (pos * freqs[None, :]).astype(F32).astype(F64)
    return np.cos(ang).astype(F32), np.sin(ang).astype(F32)


def apply_rope(x, cos, sin, inverse: bool = False) -> np.ndarray:
    """Interleaved RoPE on the LAST dimension of x (pairs (2i, 2i+1)); result rounded to bf16.
    x: [S, ..., rd] bf16; cos/sin: [S, rd/2] (broadcast over the middle axes)."""
    x = np.asarray(x, dtype=F32)
    S = x.shape[0]
    extra = x.ndim - 2
    c = cos.reshape((S,) + (1,) * extra + (-1,)).astype(F64)
    s = sin.reshape((S,) + (1,) * extra + (-1,)).astype(F64)
    if inverse:
        s = -s
    a = x[..., 0::2].astype(F64)
    b = x[..., 1::2].astype(F64)
    re = (a * c - b * s).astype(F32)
    im = (a * s + b * c).astype(F32)
    out = np.empty_like(x)
    out[..., 0::2] = re
    out[..., 1::2] = im
    return bf16(out)


# ----------------------------------------------------------------------------------------------
# Hadamard (§4.5)
# ----------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def hadamard_matrix(n: int) -> np.ndarray:
    """Sylvester Hadamard H[i,k] = (-1)^popcount(i & k), float64."""
    assert n & (n - 1) == 0
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


def hadamard(x) -> np.ndarray:
    """fast_hadamard_transform(x, scale=n^-0.5) on bf16 x: fp32 transform, times fp32(scale), bf16."""
    x = np.asarray(x, dtype=F32)
    n = x.shape[-1]
    y = (x.astype(F64) @ hadamard_matrix(n)).astype(F32)
    return bf16((y * F32(n ** -0.5)).astype(F32))


# ----------------------------------------------------------------------------------------------
# mHC (§3, §11.1.4, §11.1.5)
# ----------------------------------------------------------------------------------------------

def hc_mix(x_streams, fn_t64, norm_eps: float) -> np.ndarray:
    """mixes = (xf @ fn^T) * rsqrt(mean(xf^2) + norm_eps); x_streams [S, hc, D] bf16."""
    S = x_streams.shape[0]
    xf = np.asarray(x_streams, dtype=F32).reshape(S, -1)
    r = rsqrt32((mean32((xf * xf).astype(F32)) + F32(norm_eps)).astype(F32))
    return (mm64(xf, fn_t64) * r).astype(F32)


def split_sinkhorn(mix, scale, base, hc: int = 4, iters: int = 20, eps: float = 1e-6):
    """[REF-kernel] hc_split_sinkhorn.  mix [S, (2+hc)*hc] fp32 -> pre [S,hc], post [S,hc],
    comb [S,hc,hc] (comb[j,k]: input stream j -> output stream k).  All fp32, plain divisions."""
    mix = np.asarray(mix, dtype=F32)
    scale = np.asarray(scale, dtype=F32)
    base = np.asarray(base, dtype=F32)
    eps = F32(eps)
    pre = (sigmoid32((mix[:, :hc] * scale[0]).astype(F32) + base[:hc]) + eps).astype(F32)
    post = (F32(2) * sigmoid32((mix[:, hc:2 * hc] * scale[1]).astype(F32) + base[hc:2 * hc])).astype(F32)
    c = ((mix[:, 2 * hc:] * scale[2]).astype(F32) + base[2 * hc:]).astype(F32).reshape(-1, hc, hc)
    c = exp32((c - c.max(axis=2, keepdims=True)).astype(F32))
    c = ((c / sum32(c, axis=2, keepdims=True)).astype(F32) + eps).astype(F32)
    c = (c / (sum32(c, axis=1, keepdims=True) + eps).astype(F32)).astype(F32)
    for _ in range(iters - 1):
        c = (c / (sum32(c, axis=2, keepdims=True) + eps).astype(F32)).astype(F32)
        c = (c / (sum32(c, axis=1, keepdims=True) + eps).astype(F32)).astype(F32)
    return pre, post, c


def weighted_stream_sum(weights, x_streams) -> np.ndarray:
    """Σ_j w[j] * x_j in fp32 (products rounded to fp32, added in order j = 0..hc-1), then bf16."""
    x = np.asarray(x_streams, dtype=F32)
    w = np.asarray(weights, dtype=F32)
    acc = (w[:, 0:1] * x[:, 0]).astype(F32)
    for j in range(1, x.shape[1]):
        acc = (acc + (w[:, j:j + 1] * x[:, j]).astype(F32)).astype(F32)
    return bf16(acc)


def hc_pre(x_streams, fn_t64, scale, base, norm_eps, hc_eps, iters):
    """Returns (y bf16 [S, D], post [S,hc], comb [S,hc,hc])."""
    mix = hc_mix(x_streams, fn_t64, norm_eps)
    pre, post, comb = split_sinkhorn(mix, scale, base, x_streams.shape[1], iters, hc_eps)
    return weighted_stream_sum(pre, x_streams), post, comb


def hc_post(f, res, post, comb) -> np.ndarray:
    """out[k] = post[k]*f + Σ_j comb[j,k]*res[j]  (fp32; the sum over j in order 0..3, then
    post*f + sum), cast to bf16.  f [S, D] bf16, res [S, hc, D] bf16."""
    f = np.asarray(f, dtype=F32)
    res = np.asarray(res, dtype=F32)
    hc = res.shape[1]
    out = np.empty_like(res)
    for k in range(hc):
        acc = (comb[:, 0, k:k + 1] * res[:, 0]).astype(F32)
        for j in range(1, hc):
            acc = (acc + (comb[:, j, k:k + 1] * res[:, j]).astype(F32)).astype(F32)
        out[:, k] = ((post[:, k:k + 1] * f).astype(F32) + acc).astype(F32)
    return bf16(out)


def hc_head(x_streams, fn_t64, scale, base, norm_eps, hc_eps) -> np.ndarray:
    """Final stream reduction: pre = sigmoid(mix*scale + base) + hc_eps; y = Σ pre_j x_j (bf16)."""
    mix = hc_mix(x_streams, fn_t64, norm_eps)
    pre = (sigmoid32(((mix * np.asarray(scale, F32)[0]).astype(F32) + np.asarray(base, F32)).astype(F32))
           + F32(hc_eps)).astype(F32)
    return weighted_stream_sum(pre, x_streams)


# ----------------------------------------------------------------------------------------------
# sparse attention core (§4.7, §11.1.3)
# ----------------------------------------------------------------------------------------------

ATTN_BLOCK = 64


def sparse_attention(q, kv, idx, sink, scale) -> np.ndarray:
    """One query position, all heads.  q [H, d] bf16, kv [N, d] bf16 (the gather table),
    idx [L] int (-1 = empty slot), sink [H] fp32.  Online softmax over 64-entry blocks of the
    index list, as the TileLang kernel: scores fp32 (dot then *scale), P rounded to bf16 relative
    to the running max before P·V, accumulators rescaled in fp32, sink only in the denominator.
    Returns o [H, d] bf16."""
    q = np.asarray(q, dtype=F32)
    H, d = q.shape
    idx = np.asarray(idx, dtype=np.int64)
    scale = F32(scale)
    m = np.full(H, -np.inf, dtype=F32)
    ssum = np.zeros(H, dtype=F32)
    acc = np.zeros((H, d), dtype=F32)
    q64 = q.astype(F64)
    for b0 in range(0, len(idx), ATTN_BLOCK):
        bi = idx[b0:b0 + ATTN_BLOCK]
        valid = bi >= 0
        if not valid.any():
            continue  # an all-empty block leaves every accumulator unchanged (scale exp(0) = 1)
        rows = np.where(valid[:, None], kv[np.where(valid, bi, 0)], F32(0)).astype(F32)
        s = ((q64 @ rows.astype(F64).T).astype(F32) * scale).astype(F32)  # [H, B]
        s = np.where(valid[None, :], s, F32(-np.inf))
        m_new = np.maximum(m, s.max(axis=1)).astype(F32)
        with np.errstate(invalid="ignore"):
            alpha = exp32((m - m_new).astype(F32))  # 0 on the first block (m = -inf)
        p = exp32((s - m_new[:, None]).astype(F32))
        ssum = ((ssum * alpha).astype(F32) + sum32(p, axis=1)).astype(F32)
        pb = bf16(p)
        acc = ((acc * alpha[:, None]).astype(F64) + pb.astype(F64) @ rows.astype(F64)).astype(F32)
        m = m_new
    ssum = (ssum + exp32((np.asarray(sink, F32) - m).astype(F32))).astype(F32)
    return bf16((acc / ssum[:, None]).astype(F32))


# ----------------------------------------------------------------------------------------------
# misc
# ----------------------------------------------------------------------------------------------

def softplus32(x) -> np.ndarray:
    """torch F.softplus (beta 1, threshold 20) in fp32."""
    x64 = np.asarray(x, dtype=F64)
    with np.errstate(over="ignore"):
        return np.where(x64 > 20.0, x64, np.log1p(np.exp(np.minimum(x64, 20.0)))).astype(F32)


def silu32(x) -> np.ndarray:
    x64 = np.asarray(x, dtype=F64)
    with np.errstate(over="ignore"):
        return (x64 / (1.0 + np.exp(-x64))).astype(F32)


def topk_desc(scores, k: int) -> np.ndarray:
    """Indices of the k largest scores, in descending score order; ties -> lower index first
    (torch.topk leaves the tie order unspecified; this is the reference's choice)."""
    scores = np.asarray(scores)
    order = np.lexsort((np.arange(scores.shape[-1]), -scores.astype(F64)))
    return order[:k]
