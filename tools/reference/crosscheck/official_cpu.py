"""Cross-check the numpy reference against DeepSeek's official inference/model.py on CPU.

Validation harness only (not part of pytest; needs torch >= 2.9 with float8_e8m0fnu and
float4_e2m1fn_x2).  The official model.py is NOT vendored here; extract it from the mirror:

    git -C <mirror of Nicooo-Wang/DeepSeek-V4-Pro-code> show 0ec3a03:inference/model.py > /tmp/official_model.py
    python -m tools.reference.crosscheck.official_cpu --official-model /tmp/official_model.py \
        --model /tmp/dsv4-tiny --ids 5,6,...  --prompt-len 41 [--no-cpu-artifacts] [--exact]

It installs kernel_port.py as the module `kernel`, builds `Transformer(ModelArgs)` from the
checkpoint's config.json, loads the checkpoint the way convert.py + load_model do (names
unchanged, wo_a dequantized to bf16, experts viewed as float4_e2m1fn_x2), prefills
ids[:prompt_len], teacher-forces the rest one decode step at a time, and compares the last-position
logits with tools.reference at every step.

--no-cpu-artifacts removes the CPU-only artefacts of the official torch ops (spec §11.2) and the
CPU top-k tie order: bf16 torch.rsqrt computed as bf16(rsqrt(fp32)), freqs_cis cos/sin in fp64,
torch.topk as a stable descending sort (ties -> lower index, the reference's rule).
--exact additionally accumulates F.linear / einsum / the kernel GEMMs and attention in float64,
rotates RoPE exactly (fp64, rounded once) and uses correctly rounded sigmoid/exp and float64 sums
in Sinkhorn (the reference's arithmetic contract).  Remaining differences are torch's own fp32
rsqrt/mean/sigmoid in hc_pre / hc_head / RMSNorm (1 ulp), which flip a bf16 rounding now and then.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys

import numpy as np


def _install_kernel_modules():
    from . import kernel_port
    sys.modules["kernel"] = kernel_port
    fht = type(sys)("fast_hadamard_transform")
    fht.hadamard_transform = kernel_port.hadamard_transform
    sys.modules["fast_hadamard_transform"] = fht


def _patch_cpu_artifacts(torch, M):
    rs = torch.rsqrt

    def rsqrt(x, *a, **k):
        return rs(x.float()).to(x.dtype) if x.dtype == torch.bfloat16 else rs(x, *a, **k)
    torch.rsqrt = rsqrt

    def precompute_freqs_cis(dim, seqlen, original_seq_len, base, factor, beta_fast, beta_slow):
        f = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        if original_seq_len > 0:
            def cd(n):
                return dim * math.log(original_seq_len / (n * 2 * math.pi)) / (2 * math.log(base))
            low, high = max(math.floor(cd(beta_fast)), 0), min(math.ceil(cd(beta_slow)), dim - 1)
            if low == high:
                high += 0.001
            ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
            smooth = 1 - ramp
            f = f / factor * (1 - smooth) + f * smooth
        a = torch.outer(torch.arange(seqlen, dtype=torch.float32), f).double()
        return torch.complex(torch.cos(a).float(), torch.sin(a).float())
    M.precompute_freqs_cis = precompute_freqs_cis

    def topk(self, k, dim=-1, largest=True, sorted=True):
        v, i = torch.sort(self, dim=dim, descending=True, stable=True)
        return torch.return_types.topk((v.narrow(dim, 0, k), i.narrow(dim, 0, k)))
    torch.Tensor.topk = topk


def _patch_exact(torch, F, M):
    os.environ["EXACT"] = "1"

    def apply_rotary_emb(x, freqs_cis, inverse=False):  # rotation exact in fp64, rounded once
        xc = x.double().unflatten(-1, (-1, 2))
        fc = freqs_cis.conj() if inverse else freqs_cis
        shape = (1, xc.size(1), -1) if xc.ndim == 4 else (1, xc.size(1), 1, -1)
        c, s = fc.real.double().view(shape), fc.imag.double().view(shape)
        a, b = xc[..., 0], xc[..., 1]
        x.copy_(torch.stack([(a * c - b * s).float(), (a * s + b * c).float()], -1).flatten(-2))
        return x
    M.apply_rotary_emb = apply_rotary_emb

    def linear(x, w, b=None):
        assert b is None
        return (x.double() @ w.double().T).float().to(torch.promote_types(x.dtype, w.dtype))
    F.linear = linear
    es = torch.einsum

    def einsum(eq, *ops):
        return es(eq, *[o.double() for o in ops]).float().to(ops[0].dtype)
    torch.einsum = einsum


def build_official(official_path, ckpt, no_cpu_artifacts=False, exact=False, max_seq_len=512):
    import torch
    import torch.nn.functional as F
    from ..formats import BF16, E4M3, E8M0, dequant_fp8_weight
    from ..safetensors_io import load_checkpoint

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.bfloat16)
    _install_kernel_modules()
    spec = importlib.util.spec_from_file_location("official_model", official_path)
    M = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(M)
    if no_cpu_artifacts:
        _patch_cpu_artifacts(torch, M)
    if exact:
        _patch_exact(torch, F, M)
    cfg = json.load(open(os.path.join(ckpt, "config.json")))
    rs = cfg["rope_scaling"]
    args = M.ModelArgs(
        max_batch_size=1, max_seq_len=max_seq_len, dtype="fp8", scale_fmt="ue8m0", expert_dtype="fp4",
        scale_dtype="fp8", vocab_size=cfg["vocab_size"], dim=cfg["hidden_size"],
        moe_inter_dim=cfg["moe_intermediate_size"], n_layers=cfg["num_hidden_layers"],
        n_hash_layers=cfg["num_hash_layers"], n_mtp_layers=cfg["num_nextn_predict_layers"],
        n_heads=cfg["num_attention_heads"], n_routed_experts=cfg["n_routed_experts"],
        n_activated_experts=cfg["num_experts_per_tok"], route_scale=cfg["routed_scaling_factor"],
        swiglu_limit=cfg["swiglu_limit"], q_lora_rank=cfg["q_lora_rank"], head_dim=cfg["head_dim"],
        rope_head_dim=cfg["qk_rope_head_dim"], o_groups=cfg["o_groups"], o_lora_rank=cfg["o_lora_rank"],
        window_size=cfg["sliding_window"], compress_ratios=tuple(cfg["compress_ratios"]),
        compress_rope_theta=cfg["compress_rope_theta"],
        original_seq_len=rs["original_max_position_embeddings"], rope_theta=cfg["rope_theta"],
        rope_factor=rs["factor"], beta_fast=rs["beta_fast"], beta_slow=rs["beta_slow"],
        index_n_heads=cfg["index_n_heads"], index_head_dim=cfg["index_head_dim"],
        index_topk=cfg["index_topk"])
    model = M.Transformer(args)
    t = load_checkpoint(ckpt)

    def tt(a):
        a = np.asarray(a)
        if a.dtype == BF16:
            return torch.from_numpy(a.view(np.int16).copy()).view(torch.bfloat16)
        if a.dtype == E4M3:
            return torch.from_numpy(a.view(np.uint8).copy()).view(torch.float8_e4m3fn)
        if a.dtype == E8M0:
            return torch.from_numpy(a.view(np.uint8).copy()).view(torch.float8_e8m0fnu)
        if a.dtype == np.int8 and a.ndim == 2:
            return torch.from_numpy(a.view(np.uint8).copy()).view(torch.float4_e2m1fn_x2)
        return torch.from_numpy(a.copy())

    sd = {}
    for k, v in t.items():
        if k.endswith("wo_a.weight"):  # convert.py: dequantize wo_a to bf16
            sd[k] = torch.from_numpy(dequant_fp8_weight(v, t[k[:-6] + "scale"])).bfloat16()
        elif not k.endswith("wo_a.scale"):
            sd[k] = tt(v)
    low = (torch.float8_e4m3fn, torch.float8_e8m0fnu, torch.float4_e2m1fn_x2)
    with torch.no_grad():
        for name, p in model.named_parameters():
            src = sd[name]
            assert tuple(src.shape) == tuple(p.shape), (name, src.shape, p.shape)
            if p.dtype in low:
                assert src.dtype == p.dtype, (name, src.dtype, p.dtype)
                p.data = src.clone()
            else:
                p.data.copy_(src.to(p.dtype))
        for mod in model.modules():
            if isinstance(mod, M.Linear) and mod.scale is not None:
                mod.weight.scale = mod.scale
    unused = set(sd) - {n for n, _ in model.named_parameters()}
    assert not unused, sorted(unused)[:5]
    return torch, model


def main(argv=None):
    ap = argparse.ArgumentParser(description="reference vs official model.py on CPU")
    ap.add_argument("--official-model", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--prompt-len", type=int, required=True)
    ap.add_argument("--no-cpu-artifacts", action="store_true")
    ap.add_argument("--exact", action="store_true")
    a = ap.parse_args(argv)
    ids = [int(v) for v in a.ids.split(",")]
    L = a.prompt_len
    torch, model = build_official(a.official_model, a.model, a.no_cpu_artifacts, a.exact)
    off = {}
    with torch.inference_mode():
        off[L - 1] = model(torch.tensor([ids[:L]]), 0)[0].float().numpy()
        for i in range(L, len(ids)):
            off[i] = model(torch.tensor([[ids[i]]]), i)[0].float().numpy()
    from ..model import Model
    ref = Model(a.model, max_seq_len=512)
    st = ref.new_state()
    mine = {L - 1: ref.forward(st, ids[:L])[0]}
    for i in range(L, len(ids)):
        mine[i] = ref.forward(st, ids[i:i + 1])[0]
    agree = 0
    for p in sorted(mine):
        x, y = mine[p], off[p]
        d = float(np.abs(x - y).max())
        agree += int(x.argmax() == y.argmax())
        print(f"pos {p}: max|d| {d:.6g}  rel {d / float(np.abs(y).max()):.3g}  argmax ref {int(x.argmax())}"
              f" official {int(y.argmax())}  bitexact {bool(np.array_equal(x, y))}")
    print(f"argmax agreement {agree}/{len(mine)}")


if __name__ == "__main__":
    main()
