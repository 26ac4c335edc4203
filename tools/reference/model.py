"""Top level of the DeepSeek-V4 reference forward: weights, blocks with mHC, head, MTP
(spec §2, §3, §7, §8)."""
from __future__ import annotations

import os

import numpy as np

from . import formats as fm
from .attention import Attention, AttnState
from .config import Config
from .moe import MoE
from .ops import F32, F64, hc_head, hc_post, hc_pre, linear_quant, rms_norm
from .safetensors_io import load_checkpoint


class Weights:
    """Access to checkpoint tensors in the form each op needs (dequantized, transposed, f64)."""

    def __init__(self, tensors: dict):
        self.t = tensors
        self.used = set()

    def raw(self, name):
        self.used.add(name)
        return self.t[name]

    def vec(self, name) -> np.ndarray:
        """Any float tensor as float32 (bf16 norms upcast like the reference's fp32 params)."""
        return np.asarray(self.raw(name)).astype(F32)

    def f32t(self, name) -> np.ndarray:
        """bf16/f32 matrix [out, in] -> float64 [in, out]."""
        return np.ascontiguousarray(np.asarray(self.raw(name)).astype(F32).astype(F64).T)

    def fp8_dequant(self, base) -> np.ndarray:
        w = self.raw(base + ".weight")
        assert w.dtype == fm.E4M3, (base, w.dtype)
        return fm.dequant_fp8_weight(w, self.raw(base + ".scale"))

    def fp8_dequant_bf16(self, base) -> np.ndarray:
        return fm.bf16(self.fp8_dequant(base))

    def fp8t(self, base) -> np.ndarray:
        return np.ascontiguousarray(self.fp8_dequant(base).astype(F64).T)

    def fp4t(self, base) -> np.ndarray:
        w = self.raw(base + ".weight")
        assert w.dtype == np.int8, (base, w.dtype)
        return np.ascontiguousarray(fm.dequant_fp4_weight(w, self.raw(base + ".scale")).astype(F64).T)


class Block:
    def __init__(self, w: Weights, prefix: str, cfg: Config, layer_id: int):
        self.cfg, self.layer_id = cfg, layer_id
        self.ratio = cfg.compress_ratios[layer_id]
        self.attn = Attention(w, prefix + "attn.", cfg, self.ratio)
        is_hash = layer_id < cfg.n_hash_layers
        self.ffn = MoE(w, prefix + "ffn.", cfg, layer_id, is_hash)
        self.attn_norm = w.vec(prefix + "attn_norm.weight")
        self.ffn_norm = w.vec(prefix + "ffn_norm.weight")
        self.hc = {}
        for k in ("attn", "ffn"):
            self.hc[k] = (w.f32t(prefix + f"hc_{k}_fn"), w.vec(prefix + f"hc_{k}_scale"),
                          w.vec(prefix + f"hc_{k}_base"))

    def new_state(self) -> AttnState:
        return AttnState(self.cfg, self.ratio)

    def __call__(self, h, ids, start_pos: int, st: AttnState, incremental: bool, trace=None):
        cfg = self.cfg
        res = h
        fn, sc, bs = self.hc["attn"]
        x, post, comb = hc_pre(h, fn, sc, bs, cfg.norm_eps, cfg.hc_eps, cfg.hc_sinkhorn_iters)
        x = rms_norm(x, self.attn_norm, cfg.norm_eps)
        if trace is not None:
            trace["attn_in"] = x
        if incremental:
            x = self.attn.incremental(x, start_pos, st, trace)
        else:
            x = self.attn.prefill(x, st, trace)
        if trace is not None:
            trace["attn_out"] = x
        h = hc_post(x, res, post, comb)
        res = h
        fn, sc, bs = self.hc["ffn"]
        x, post, comb = hc_pre(h, fn, sc, bs, cfg.norm_eps, cfg.hc_eps, cfg.hc_sinkhorn_iters)
        x = rms_norm(x, self.ffn_norm, cfg.norm_eps)
        if trace is not None:
            trace["ffn_in"] = x
        x = self.ffn(x, ids, trace)
        if trace is not None:
            trace["ffn_out"] = x
        return hc_post(x, res, post, comb)


class SeqState:
    """Per-sequence decode state: one AttnState per main layer and per MTP block (§4.9)."""

    def __init__(self, model: "Model"):
        self.layers = [b.new_state() for b in model.layers]
        self.mtp = [b.new_state() for b in model.mtp]
        self.pos = 0       # tokens processed by the main model
        self.mtp_pos = 0   # positions processed by the MTP block


class Model:
    def __init__(self, directory: str, cfg: Config | None = None, max_seq_len: int = 4096):
        self.cfg = cfg or Config.load(os.path.join(directory, "config.json"))
        self.cfg.max_seq_len = max_seq_len
        cfg = self.cfg
        w = self.w = Weights(load_checkpoint(directory))
        self.embed = w.raw("embed.weight")  # bf16 [V, D]
        self.head = w.raw("head.weight")    # bf16 [V, D], used in fp32
        self._head64 = None
        self.norm = w.vec("norm.weight")
        self.hc_head = (w.f32t("hc_head_fn"), w.vec("hc_head_scale"), w.vec("hc_head_base"))
        self.layers = [Block(w, f"layers.{i}.", cfg, i) for i in range(cfg.n_layers)]
        self.mtp = []
        self.mtp_extra = []
        for k in range(cfg.n_mtp_layers):
            p = f"mtp.{k}."
            self.mtp.append(Block(w, p, cfg, cfg.n_layers + k))
            self.mtp_extra.append(dict(
                e_proj=w.fp8t(p + "e_proj"), h_proj=w.fp8t(p + "h_proj"),
                enorm=w.vec(p + "enorm.weight"), hnorm=w.vec(p + "hnorm.weight"),
                norm=w.vec(p + "norm.weight"),
                hc_head=(w.f32t(p + "hc_head_fn"), w.vec(p + "hc_head_scale"),
                         w.vec(p + "hc_head_base"))))

    def new_state(self) -> SeqState:
        return SeqState(self)

    # ------------------------------------------------------------------------------------------
    def embed_ids(self, ids) -> np.ndarray:
        return np.asarray(self.embed[np.asarray(ids, dtype=np.int64)]).astype(F32)

    def logits(self, y_last) -> np.ndarray:
        """fp32 logits = y.float() @ head.float()^T (float64 accumulation, rounded to fp32).
        The head is cached as float64 on first use (V*D*8 bytes)."""
        if self._head64 is None:
            self._head64 = np.asarray(self.head).astype(F64)
        return (self._head64 @ np.asarray(y_last, dtype=F64)).astype(F32)

    def final(self, h, hc_params, norm) -> np.ndarray:
        y = hc_head(h[-1:], *hc_params, self.cfg.norm_eps, self.cfg.hc_eps)
        y = rms_norm(y, norm, self.cfg.norm_eps)
        return self.logits(y[0])

    def forward(self, st: SeqState, ids, start_pos: int | None = None, incremental: bool | None = None,
                trace=None, want_logits: bool = True):
        """Run ids (S >= 1 new tokens) at start_pos (default: st.pos).  start_pos == 0 uses the
        prefill path unless incremental=True; start_pos > 0 always uses the decode/extend path.
        Returns (logits of the last position fp32 [V] (None if not want_logits), final 4-stream
        state h [S, 4, D] bf16)."""
        cfg = self.cfg
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if start_pos is None:
            start_pos = st.pos
        assert start_pos == st.pos, "positions must be contiguous within a sequence"
        if incremental is None:
            incremental = start_pos > 0
        assert incremental or start_pos == 0
        h = np.repeat(self.embed_ids(ids)[:, None, :], cfg.hc_mult, axis=1)
        for i, layer in enumerate(self.layers):
            lt = None
            if trace is not None:
                lt = trace.setdefault(f"layer{i}", {})
            h = layer(h, ids, start_pos, st.layers[i], incremental, lt)
            if lt is not None:
                lt["h_out"] = h
        st.pos = start_pos + len(ids)
        return (self.final(h, self.hc_head, self.norm) if want_logits else None), h

    def mtp_forward(self, st: SeqState, h, next_ids, start_pos: int | None = None,
                    incremental: bool | None = None, k: int = 0):
        """MTP block k (§8): h [S, 4, D] = main final streams at positions start_pos..,
        next_ids [S] = the tokens that follow those positions (DeepSeek-V3 pairing h_t with
        token t+1).  Returns draft logits of the last position (prediction for token t+2)."""
        cfg = self.cfg
        ex = self.mtp_extra[k]
        next_ids = np.asarray(next_ids, dtype=np.int64).reshape(-1)
        if start_pos is None:
            start_pos = st.mtp_pos
        assert start_pos == st.mtp_pos
        if incremental is None:
            incremental = start_pos > 0
        e = rms_norm(fm.bf16(self.embed_ids(next_ids)), ex["enorm"], cfg.norm_eps)
        hn = rms_norm(h, ex["hnorm"], cfg.norm_eps)  # per stream
        S, hc, D = h.shape
        ep = linear_quant(e, ex["e_proj"])  # [S, D]
        hp = linear_quant(hn.reshape(S * hc, D), ex["h_proj"]).reshape(S, hc, D)
        x = fm.bf16(ep[:, None, :] + hp)
        x = self.mtp[k](x, next_ids, start_pos, st.mtp[k], incremental)
        st.mtp_pos = start_pos + S
        return self.final(x, ex["hc_head"], ex["norm"])
