"""CPU torch ports of the official TileLang kernels (validation harness only; needs torch >= 2.9).

Written from the semantics of `inference/kernel_tilelang.py` [REF-kernel]:
act_quant / fp4_act_quant with real e4m3 / e2m1 (RNE) rounding and ue8m0 scales via exponent
bits, block-wise fp8/fp4 GEMM (fp32 per-K-block products scaled and accumulated), 64-entry
online-softmax sparse attention with bf16 P and the sink in the denominator, hc_split_sinkhorn
with divisions, Sylvester Hadamard.  Installed as the module `kernel` (and
`fast_hadamard_transform`) before the official model.py is imported.

EXACT=1 in the environment makes the GEMMs and the attention core accumulate in float64 and
round once (the numpy reference's contract), which removes summation-order noise.
"""
import os

import torch

F32 = torch.float32


def _exact():
    return bool(os.environ.get("EXACT"))


def _round_scale(amax, inv):
    p = (amax * inv).to(F32)
    bits = p.view(torch.int32)
    e = ((bits >> 23) & 0xFF) - 127 + ((bits & 0x7FFFFF) != 0).int()
    return ((e + 127) << 23).view(F32)


def act_quant(x, block_size=128, scale_fmt=None, scale_dtype=F32, inplace=False):
    n = x.size(-1)
    xf = x.float().unflatten(-1, (n // block_size, block_size))
    amax = xf.abs().amax(-1, keepdim=True).clamp(min=1e-4)
    inv = torch.tensor(1 / 448.0, dtype=F32)
    s = _round_scale(amax, inv) if scale_fmt is not None else amax * inv
    y = torch.clamp(xf / s, -448.0, 448.0).to(torch.float8_e4m3fn)
    if inplace:
        x.copy_((y.float() * s).flatten(-2).to(x.dtype))
        return x
    return y.flatten(-2), s.squeeze(-1).to(scale_dtype)


def _e2m1_rne(v):
    a = v.abs()
    t = lambda c: torch.tensor(c, dtype=F32)  # noqa: E731
    out = torch.where(a <= 0.25, t(0.0), torch.where(a < 0.75, t(0.5), torch.where(a <= 1.25, t(1.0),
          torch.where(a < 1.75, t(1.5), torch.where(a <= 2.5, t(2.0), torch.where(a < 3.5, t(3.0),
          torch.where(a <= 5.0, t(4.0), t(6.0))))))))
    return torch.where(v < 0, -out, out)


def fp4_act_quant(x, block_size=32, inplace=False):
    assert inplace, "only the in-place simulation is used by model.py"
    n = x.size(-1)
    xf = x.float().unflatten(-1, (n // block_size, block_size))
    amax = xf.abs().amax(-1, keepdim=True).clamp(min=6 * 2.0 ** -126)
    s = _round_scale(amax, torch.tensor(1 / 6.0, dtype=F32))
    q = _e2m1_rne(torch.clamp(xf / s, -6.0, 6.0))
    x.copy_((q * s).flatten(-2).to(x.dtype))
    return x


def fp8_gemm(a, a_s, b, b_s, scale_dtype=F32):
    K = a.size(-1)
    M = a.numel() // K
    N = b.size(0)
    A, B = a.view(M, K).float(), b.float()
    sa, sb = a_s.view(M, -1).float(), b_s.float()
    if _exact():
        sae = sa.repeat_interleave(128, 1)[:, :K].double()
        sbe = sb.repeat_interleave(128, 0).repeat_interleave(128, 1)[:N, :K].double()
        out = ((A.double() * sae) @ (B.double() * sbe).T).float()
    else:
        out = torch.zeros(M, N, dtype=F32)
        for k in range(K // 128):
            c = A[:, k * 128:(k + 1) * 128] @ B[:, k * 128:(k + 1) * 128].T
            out += c * (sa[:, k:k + 1] * sb[:, k].repeat_interleave(128)[:N][None, :])
    return out.to(torch.get_default_dtype()).view(*a.shape[:-1], N)


_FP4 = torch.tensor([0., .5, 1, 1.5, 2, 3, 4, 6, 0, -.5, -1, -1.5, -2, -3, -4, -6], dtype=F32)


def fp4_gemm(a, a_s, b, b_s, scale_dtype=F32):
    K = a.size(-1)
    M = a.numel() // K
    N = b.size(0)
    u = b.view(torch.uint8)
    B = torch.stack([_FP4[(u & 15).long()], _FP4[(u >> 4).long()]], -1).flatten(1)
    A, sa, sb = a.view(M, K).float(), a_s.view(M, -1).float(), b_s.float()
    if _exact():
        sae = sa.repeat_interleave(128, 1)[:, :K].double()
        sbe = sb.repeat_interleave(32, 1)[:, :K].double()
        out = ((A.double() * sae) @ (B.double() * sbe).T).float()
    else:
        out = torch.zeros(M, N, dtype=F32)
        for k in range(K // 32):
            c = A[:, k * 32:(k + 1) * 32] @ B[:, k * 32:(k + 1) * 32].T
            out += c * sa[:, k // 4:k // 4 + 1] * sb[None, :, k]
    return out.to(torch.get_default_dtype()).view(*a.shape[:-1], N)


def sparse_attn(q, kv, attn_sink, topk_idxs, softmax_scale):
    b, m, h, d = q.shape
    ex = _exact()
    o = torch.empty_like(q)
    for bi in range(b):
        for t in range(m):
            idx = topk_idxs[bi, t].long()
            mx = torch.full((h,), -float("inf"), dtype=F32)
            se = torch.zeros(h, dtype=F32)
            acc = torch.zeros(h, d, dtype=F32)
            qq = q[bi, t].float()
            for s0 in range(0, idx.numel(), 64):
                ii = idx[s0:s0 + 64]
                valid = ii != -1
                rows = torch.where(valid[:, None], kv[bi, ii.clamp(min=0)].float(), 0.0)
                dots = (qq.double() @ rows.double().T).float() if ex else qq @ rows.T
                sc = torch.where(valid[None, :], dots, -float("inf")) * softmax_scale
                prev = mx.clone()
                mx = torch.maximum(mx, sc.amax(1))
                alpha = torch.exp(prev - mx)
                p = torch.exp(sc - mx[:, None])
                se = se * alpha + (p.double().sum(1).float() if ex else p.sum(1))
                if ex:
                    acc = ((acc * alpha[:, None]).double() + p.bfloat16().double() @ rows.double()).float()
                else:
                    acc = acc * alpha[:, None] + p.bfloat16().float() @ rows
            se = se + torch.exp(attn_sink[:h].float() - mx)
            o[bi, t] = (acc / se[:, None]).to(q.dtype)
    return o


def _sigmoid_cr(x):
    return (1.0 / (1.0 + torch.exp(-x.double()))).float()


def _hc_split_sinkhorn_exact(mixes, hc_scale, hc_base, hc, iters, eps):
    """Correctly rounded fp32 sigmoid/exp and float64 sums (the reference's contract)."""
    E = torch.tensor(eps, dtype=F32)
    pre = _sigmoid_cr(mixes[..., :hc] * hc_scale[0] + hc_base[:hc]) + E
    post = 2 * _sigmoid_cr(mixes[..., hc:2 * hc] * hc_scale[1] + hc_base[hc:2 * hc])
    c = (mixes[..., 2 * hc:] * hc_scale[2] + hc_base[2 * hc:]).unflatten(-1, (hc, hc))
    c = torch.exp((c - c.amax(-1, keepdim=True)).double()).float()
    c = c / c.double().sum(-1, keepdim=True).float() + E
    c = c / (c.double().sum(-2, keepdim=True).float() + E)
    for _ in range(iters - 1):
        c = c / (c.double().sum(-1, keepdim=True).float() + E)
        c = c / (c.double().sum(-2, keepdim=True).float() + E)
    return pre, post, c


def hc_split_sinkhorn(mixes, hc_scale, hc_base, hc_mult=4, sinkhorn_iters=20, eps=1e-6):
    hc = hc_mult
    if _exact():
        return _hc_split_sinkhorn_exact(mixes, hc_scale, hc_base, hc, sinkhorn_iters, eps)
    pre = torch.sigmoid(mixes[..., :hc] * hc_scale[0] + hc_base[:hc]) + eps
    post = 2 * torch.sigmoid(mixes[..., hc:2 * hc] * hc_scale[1] + hc_base[hc:2 * hc])
    c = (mixes[..., 2 * hc:] * hc_scale[2] + hc_base[2 * hc:]).unflatten(-1, (hc, hc))
    c = torch.exp(c - c.amax(-1, keepdim=True))
    c = c / c.sum(-1, keepdim=True) + eps
    c = c / (c.sum(-2, keepdim=True) + eps)
    for _ in range(sinkhorn_iters - 1):
        c = c / (c.sum(-1, keepdim=True) + eps)
        c = c / (c.sum(-2, keepdim=True) + eps)
    return pre, post, c


def _hadamard(n):
    h = torch.ones(1, 1, dtype=F32)
    while h.size(0) < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h


def hadamard_transform(x, scale=1.0):
    return ((x.float() @ _hadamard(x.size(-1))) * scale).to(x.dtype)
