"""Mixture of experts of DeepSeek-V4 (spec §5, §11.1.6, §11.1.8)."""
from __future__ import annotations

import numpy as np

from .formats import bf16
from .ops import F32, linear_f32, linear_quant, silu32, softplus32, sqrt32, sum32, topk_desc


class Expert:
    """SwiGLU expert with clamp: routed (FP4 weights) and shared (FP8 weights) use the same math."""

    def __init__(self, w1t, w2t, w3t, limit: float):
        self.w1, self.w2, self.w3, self.limit = w1t, w2t, w3t, F32(limit)

    def __call__(self, x, route_w=None) -> np.ndarray:
        """x [n, D] bf16; route_w [n] fp32 or None.  Returns bf16 [n, D]."""
        g = linear_quant(x, self.w1)  # bf16 output, used as fp32
        u = linear_quant(x, self.w3)
        if self.limit > 0:
            u = np.clip(u, -self.limit, self.limit)
            g = np.minimum(g, self.limit)  # gate clamped from above only
        a = (silu32(g) * u).astype(F32)
        if route_w is not None:
            a = (np.asarray(route_w, F32)[:, None] * a).astype(F32)  # routing weight before w2
        return linear_quant(bf16(a), self.w2)


class MoE:
    def __init__(self, w, prefix: str, cfg, layer_id: int, is_hash: bool):
        self.cfg = cfg
        self.E, self.k = cfg.n_routed_experts, cfg.n_activated_experts
        self.route_scale = F32(cfg.route_scale)
        self.gate_w = w.f32t(prefix + "gate.weight")
        self.is_hash = is_hash
        if is_hash:
            self.tid2eid = np.asarray(w.raw(prefix + "gate.tid2eid")).astype(np.int64)
            self.bias = None
        else:
            self.bias = w.vec(prefix + "gate.bias")
            self.tid2eid = None
        lim = cfg.swiglu_limit
        self._w, self._prefix, self._lim = w, prefix, lim
        self._experts = {}
        self.shared = Expert(w.fp8t(prefix + "shared_experts.w1"), w.fp8t(prefix + "shared_experts.w2"),
                             w.fp8t(prefix + "shared_experts.w3"), lim)

    def expert(self, e: int) -> Expert:
        if e not in self._experts:
            p = f"{self._prefix}experts.{e}."
            load = self._w.fp4t if self.cfg.expert_dtype == "fp4" else self._w.fp8t
            self._experts[e] = Expert(load(p + "w1"), load(p + "w2"), load(p + "w3"), self._lim)
        return self._experts[e]

    def route(self, x, ids):
        """Gate (§5): returns (weights [n, k] fp32, indices [n, k])."""
        logits = linear_f32(x, self.gate_w)
        if self.cfg.score_func == "sqrtsoftplus":
            s = sqrt32(softplus32(logits))
        elif self.cfg.score_func == "sigmoid":
            s = (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(F32)
        else:
            raise NotImplementedError(self.cfg.score_func)
        if self.is_hash:
            idx = self.tid2eid[np.asarray(ids, dtype=np.int64)]
            for row in idx:
                assert len(set(row.tolist())) == len(row), "tid2eid row names an expert twice"
        else:
            biased = (s + self.bias).astype(F32)
            idx = np.stack([topk_desc(row, self.k) for row in biased])
        w = np.take_along_axis(s, idx, axis=1)
        w = (w / sum32(w, axis=1, keepdims=True)).astype(F32)
        w = (w * self.route_scale).astype(F32)
        return w, idx

    def __call__(self, x, ids, trace=None) -> np.ndarray:
        """x [n, D] bf16, ids [n] token ids of the same positions.  Returns bf16 [n, D]."""
        w, idx = self.route(x, ids)
        if trace is not None:
            trace.setdefault("experts", []).append(idx.tolist())
        y = np.zeros(x.shape, dtype=F32)
        for e in sorted(set(idx.ravel().tolist())):  # ascending expert id (§11.1.6)
            rows, slot = np.nonzero(idx == e)
            out = self.expert(e)(x[rows], w[rows, slot])
            y[rows] = (y[rows] + out).astype(F32)
        y = (y + self.shared(x)).astype(F32)  # shared expert last
        return bf16(y)
