"""Write a synthetic DeepSeek-V4 checkpoint in the official HF layout (spec §1.1, §7, §9).

    python -m tools.reference.make_checkpoint --variant tiny --out DIR [--seed 0]

* config.json with the HF keys; sharded model-0000k-of-0000n.safetensors + index json
* FP8 e4m3 dense weights with E8M0 128x128 block scales (`.scale`)
* FP4 routed experts as I8 [out, in/2] (two e2m1 per byte, low nibble = even element) with
  E8M0 scales per 32 inputs
* bf16 norms / embed / head / compressor / gate / weights_proj; f32 hc_*, ape, attn_sink, bias
* `gate.tid2eid` (I64 [vocab, k], distinct experts per row) on hash layers, `gate.bias` elsewhere

Weights are seeded random, scaled so that (roughly as in a trained model) the residual branches
are small relative to the residual stream, the hyper-connections start near identity mixing and
routing is spread over all experts; up/gate projections are large enough that the SwiGLU clamp
(limit 10) is hit now and then.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

from . import formats as fm
from .config import Config, real_constants_config, tiny_config
from .safetensors_io import save_sharded


class _Gen:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def normal(self, shape, std):
        return (self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)

    def bf16(self, shape, std, mean=0.0):
        return (self.normal(shape, std) + np.float32(mean)).astype(fm.BF16)

    def f32(self, shape, std, mean=0.0):
        return (self.normal(shape, std) + np.float32(mean)).astype(np.float32)


def _fp8(t: dict, name: str, w: np.ndarray):
    q, s = fm.quantize_fp8_weight(w)
    t[name + ".weight"] = q
    t[name + ".scale"] = s


def _fp4(t: dict, name: str, w: np.ndarray):
    q, s = fm.quantize_fp4_weight(w)
    t[name + ".weight"] = q
    t[name + ".scale"] = s


def _hc(g: _Gen, t: dict, name: str, hc: int, D: int, n_out: int, branch: bool):
    """hc_{name}_fn/base/scale.  Mixing logits ~ O(0.5); pre ~ 0.25 (stream average),
    post ~ 0.5, comb biased towards the identity."""
    t[f"{name}_fn"] = g.f32((n_out, hc * D), 0.02)
    base = np.zeros(n_out, np.float32)
    base[:hc] = -1.1 + g.f32(hc, 0.2)
    if branch:
        base[hc:2 * hc] = -1.1 + g.f32(hc, 0.2)
        base[2 * hc:] = (3.0 * np.eye(hc, dtype=np.float32)).ravel() + g.f32(hc * hc, 0.3)
        t[f"{name}_scale"] = (0.5 + g.rng.random(3)).astype(np.float32)
    else:
        t[f"{name}_scale"] = (0.5 + g.rng.random(1)).astype(np.float32)
    t[f"{name}_base"] = base


def _block(g: _Gen, t: dict, p: str, cfg: Config, ratio: int, is_hash: bool, hc_prefix: str = "hc_"):
    D, H, d, ql = cfg.dim, cfg.n_heads, cfg.head_dim, cfg.q_lora_rank
    G, R = cfg.o_groups, cfg.o_lora_rank
    a = p + "attn."
    t[a + "attn_sink"] = g.f32(H, 1.0)
    _fp8(t, a + "wq_a", g.normal((ql, D), D ** -0.5))
    t[a + "q_norm.weight"] = g.bf16(ql, 0.05, 1.0)
    _fp8(t, a + "wq_b", g.normal((H * d, ql), ql ** -0.5))
    _fp8(t, a + "wkv", g.normal((d, D), D ** -0.5))
    t[a + "kv_norm.weight"] = g.bf16(d, 0.05, 1.0)
    gin = H * d // G
    _fp8(t, a + "wo_a", g.normal((G * R, gin), gin ** -0.5))
    _fp8(t, a + "wo_b", g.normal((D, G * R), 0.3 * (G * R) ** -0.5))
    if ratio:
        c = 2 if ratio == 4 else 1
        cp = a + "compressor."
        t[cp + "ape"] = g.f32((ratio, c * d), 0.5)
        t[cp + "wkv.weight"] = g.bf16((c * d, D), D ** -0.5)
        t[cp + "wgate.weight"] = g.bf16((c * d, D), D ** -0.5)
        t[cp + "norm.weight"] = g.bf16(d, 0.05, 1.0)
        if ratio == 4:
            ip = a + "indexer."
            nh, hd = cfg.index_n_heads, cfg.index_head_dim
            _fp8(t, ip + "wq_b", g.normal((nh * hd, ql), ql ** -0.5))
            t[ip + "weights_proj.weight"] = g.bf16((nh, D), D ** -0.5)
            t[ip + "compressor.ape"] = g.f32((4, 2 * hd), 0.5)
            t[ip + "compressor.wkv.weight"] = g.bf16((2 * hd, D), D ** -0.5)
            t[ip + "compressor.wgate.weight"] = g.bf16((2 * hd, D), D ** -0.5)
            t[ip + "compressor.norm.weight"] = g.bf16(hd, 0.05, 1.0)
    t[p + "attn_norm.weight"] = g.bf16(D, 0.05, 1.0)
    t[p + "ffn_norm.weight"] = g.bf16(D, 0.05, 1.0)
    mix = (2 + cfg.hc_mult) * cfg.hc_mult
    _hc(g, t, p + hc_prefix + "attn", cfg.hc_mult, D, mix, True)
    _hc(g, t, p + hc_prefix + "ffn", cfg.hc_mult, D, mix, True)
    f = p + "ffn."
    E, I, k = cfg.n_routed_experts, cfg.moe_inter_dim, cfg.n_activated_experts
    t[f + "gate.weight"] = g.bf16((E, D), D ** -0.5)
    if is_hash:
        r = g.rng.random((cfg.vocab_size, E))
        t[f + "gate.tid2eid"] = np.argsort(r, axis=1)[:, :k].astype(np.int64)
    else:
        t[f + "gate.bias"] = g.f32(E, 0.05)
    for e in range(E):
        ep = f"{f}experts.{e}."
        store = _fp4 if cfg.expert_dtype == "fp4" else _fp8
        store(t, ep + "w1", g.normal((I, D), 4.0 * D ** -0.5))
        store(t, ep + "w3", g.normal((I, D), 4.0 * D ** -0.5))
        store(t, ep + "w2", g.normal((D, I), 0.02 * I ** -0.5))
    sp = f + "shared_experts."
    _fp8(t, sp + "w1", g.normal((I, D), 4.0 * D ** -0.5))
    _fp8(t, sp + "w3", g.normal((I, D), 4.0 * D ** -0.5))
    _fp8(t, sp + "w2", g.normal((D, I), 0.02 * I ** -0.5))


def build_tensors(cfg: Config, seed: int = 0) -> dict:
    g = _Gen(seed)
    D, hc = cfg.dim, cfg.hc_mult
    t = {}
    t["embed.weight"] = g.bf16((cfg.vocab_size, D), 1.0)
    for i in range(cfg.n_layers):
        _block(g, t, f"layers.{i}.", cfg, cfg.compress_ratios[i], i < cfg.n_hash_layers)
    for k in range(cfg.n_mtp_layers):
        p = f"mtp.{k}."
        _block(g, t, p, cfg, cfg.compress_ratios[cfg.n_layers + k], False)
        _fp8(t, p + "e_proj", g.normal((D, D), D ** -0.5))
        _fp8(t, p + "h_proj", g.normal((D, D), D ** -0.5))
        t[p + "enorm.weight"] = g.bf16(D, 0.05, 1.0)
        t[p + "hnorm.weight"] = g.bf16(D, 0.05, 1.0)
        t[p + "norm.weight"] = g.bf16(D, 0.05, 1.0)
        _hc(g, t, p + "hc_head", hc, D, hc, False)
    t["norm.weight"] = g.bf16(D, 0.05, 1.0)
    t["head.weight"] = g.bf16((cfg.vocab_size, D), 3.0 * D ** -0.5)
    _hc(g, t, "hc_head", hc, D, hc, False)
    return t


def write_checkpoint(cfg: Config, out: str, seed: int = 0, max_shard_bytes: int = 64 << 20) -> str:
    os.makedirs(out, exist_ok=True)
    tensors = build_tensors(cfg, seed)
    save_sharded(tensors, out, max_shard_bytes)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg.to_hf(), f, indent=2)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 0, "eos_token_id": 1, "do_sample": True}, f, indent=2)
    return out


VARIANTS = {"tiny": tiny_config, "real-constants": real_constants_config}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="tiny")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shard-mb", type=int, default=64)
    a = ap.parse_args(argv)
    write_checkpoint(VARIANTS[a.variant](), a.out, a.seed, a.shard_mb << 20)
    print(a.out)


if __name__ == "__main__":
    main()
