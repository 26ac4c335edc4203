"""Attention of DeepSeek-V4: query/window-KV path, token-wise KV compressor, lightning indexer,
sparse MLA attention with sink, inverse RoPE and grouped low-rank output (spec §4, §8, §11.1).

Two execution paths, as in the official code:

* ``prefill`` (start_pos == 0, any S): batched, with the official prefill index-list layout
  (§11.1.3); it also initialises the decode state (§4.4 remainders, §4.9 ring).
* ``incremental`` (start_pos > 0, any S >= 1): every new token goes through the decode step of
  §8 in order (ring write, indexer-compressor step, top-k, main compressor step, attention), with
  the decode index-list layout.  S > 1 is "extend"; it equals S single-token decode calls
  bit for bit, because every other op of a layer is row-wise.
"""
from __future__ import annotations

import numpy as np

from .formats import bf16, fp8_sim, fp4_sim
from .ops import (F32, F64, apply_rope, exp32, hadamard, linear_bf16, linear_f32, linear_quant,
                  mm64, q_head_norm, rms_norm, rope_cos_sin, rope_freqs, sparse_attention, sum32,
                  topk_desc)


# ----------------------------------------------------------------------------------------------
# compressor (§4.4)
# ----------------------------------------------------------------------------------------------

class CompressorState:
    def __init__(self, ratio: int, d: int, max_blocks: int):
        c = 2 if ratio == 4 else 1
        self.kv = np.zeros((c * ratio, c * d), dtype=F32)
        self.score = np.full((c * ratio, c * d), -np.inf, dtype=F32)
        self.cache = np.zeros((max_blocks, d), dtype=F32)  # finished entries (bf16 values)
        self.n = 0  # number of finished entries


def pool(kv_rows, score_rows) -> np.ndarray:
    """Gated softmax pooling: per channel, softmax of the scores over the rows (fp32:
    exp(s - max) / sum), then Σ_rows w * kv.  Rows with score -inf (and kv 0) drop out."""
    m = score_rows.max(axis=0, keepdims=True)
    e = exp32((score_rows - m).astype(F32))
    w = (e / sum32(e, axis=0, keepdims=True)).astype(F32)
    return sum32((kv_rows * w).astype(F32), axis=0)


class Compressor:
    def __init__(self, w, prefix: str, ratio: int, d: int, rd: int, rotate: bool, freqs, eps):
        self.ratio, self.d, self.rd, self.rotate = ratio, d, rd, rotate
        self.overlap = ratio == 4
        self.wkv = w.f32t(prefix + "wkv.weight")
        self.wgate = w.f32t(prefix + "wgate.weight")
        self.ape = w.vec(prefix + "ape")
        self.norm = w.vec(prefix + "norm.weight")
        self.freqs, self.eps = freqs, eps

    def project(self, x):
        """kv, score (without ape) in fp32 for bf16 rows x [S, D]."""
        return linear_f32(x, self.wkv), linear_f32(x, self.wgate)

    def finish(self, out, positions) -> np.ndarray:
        """Post-processing of pooled entries out [n, d] (fp32) whose blocks start at `positions`:
        RMSNorm(bf16) -> RoPE on the last rd dims -> fp8-sim of the nope dims (main) or
        Hadamard + fp4-sim (indexer)."""
        e = rms_norm(bf16(out), self.norm, self.eps)
        cos, sin = rope_cos_sin(self.freqs, positions)
        e[:, -self.rd:] = apply_rope(e[:, -self.rd:], cos, sin)
        if self.rotate:
            e = fp4_sim(hadamard(e), 32)
        else:
            e[:, :-self.rd] = fp8_sim(e[:, :-self.rd], 64)
        return e

    def _block_rows(self, kv_prev, sc_prev, kv_cur, sc_cur):
        """Rows pooled for one block (scores already include ape)."""
        if not self.overlap:
            return kv_cur, sc_cur
        d = self.d
        kv_rows = np.concatenate([kv_prev[:, :d], kv_cur[:, d:]], axis=0)
        sc_rows = np.concatenate([sc_prev[:, :d], sc_cur[:, d:]], axis=0)
        return kv_rows, sc_rows

    def prefill(self, x, st: CompressorState) -> np.ndarray:
        """All finished entries of a prompt (x [S, D] bf16, positions 0..S-1); fills the state."""
        r, d = self.ratio, self.d
        S = x.shape[0]
        kv, score = self.project(x)
        nb, rem = S // r, S % r
        cutoff = nb * r
        sc = score.copy()
        for j in range(nb):  # score + ape, block by block (ape indexed by position in block)
            sc[j * r:(j + 1) * r] = (score[j * r:(j + 1) * r] + self.ape).astype(F32)
        outs = []
        cw = kv.shape[1]
        for j in range(nb):
            cur = slice(j * r, (j + 1) * r)
            if j > 0:
                prev_kv, prev_sc = kv[(j - 1) * r:j * r], sc[(j - 1) * r:j * r]
            else:
                prev_kv = np.zeros((r, cw), F32)
                prev_sc = np.full((r, cw), -np.inf, F32)
            outs.append(pool(*self._block_rows(prev_kv, prev_sc, kv[cur], sc[cur])))
        # decode state (§4.4): last complete block (overlap) and the remainder rows
        off = r if self.overlap else 0
        if self.overlap and cutoff >= r:
            st.kv[:r] = kv[cutoff - r:cutoff]
            st.score[:r] = sc[cutoff - r:cutoff]
        if rem:
            st.kv[off:off + rem] = kv[cutoff:]
            st.score[off:off + rem] = (score[cutoff:] + self.ape[:rem]).astype(F32)
        if nb == 0:
            return np.zeros((0, d), F32)
        ent = self.finish(np.stack(outs), np.arange(nb) * r)
        st.cache[:nb] = ent
        st.n = nb
        return ent

    def step(self, kv_t, score_t, t: int, st: CompressorState) -> bool:
        """Decode step for position t (kv_t, score_t: fp32 rows without ape).  Returns True when
        block (t+1)/r - 1 was finished and appended to st.cache."""
        r = self.ratio
        sc = (score_t + self.ape[t % r]).astype(F32)
        if self.overlap:
            st.kv[r + t % r] = kv_t
            st.score[r + t % r] = sc
        else:
            st.kv[t % r] = kv_t
            st.score[t % r] = sc
        if (t + 1) % r:
            return False
        if self.overlap:
            out = pool(*self._block_rows(st.kv[:r], st.score[:r], st.kv[r:], st.score[r:]))
            st.kv[:r] = st.kv[r:]
            st.score[:r] = st.score[r:]
        else:
            out = pool(st.kv, st.score)
        j = (t + 1) // r - 1
        assert j == st.n, (j, st.n)
        st.cache[j] = self.finish(out[None, :], [t + 1 - r])[0]
        st.n += 1
        return True


def boundary_ties(scores, k: int) -> int:
    """Number of unselected entries whose score equals the k-th selected score (a different
    top-k implementation may legitimately pick one of them, §11.1.7)."""
    if k <= 0 or k >= len(scores):
        return 0
    kth = np.sort(scores)[::-1][k - 1]
    return int(np.sum(scores == kth) - np.sum(np.sort(scores)[::-1][:k] == kth))


# ----------------------------------------------------------------------------------------------
# indexer (§4.5, §11.1.2)
# ----------------------------------------------------------------------------------------------

class Indexer:
    def __init__(self, w, prefix: str, cfg, freqs):
        self.nh, self.hd, self.rd = cfg.index_n_heads, cfg.index_head_dim, cfg.rope_head_dim
        self.topk = cfg.index_topk
        self.wq_b = w.fp8t(prefix + "wq_b")
        self.weights_proj = w.f32t(prefix + "weights_proj.weight")
        self.compressor = Compressor(w, prefix + "compressor.", 4, self.hd, self.rd, True, freqs,
                                     cfg.norm_eps)
        self.freqs = freqs
        self.w_scale = F32(self.hd ** -0.5 * self.nh ** -0.5)

    def queries(self, x, qr, positions):
        """qi [S, nh, hd] (RoPE -> Hadamard -> fp4-sim) and head weights w [S, nh] (bf16)."""
        S = x.shape[0]
        qi = linear_quant(qr, self.wq_b).reshape(S, self.nh, self.hd)
        cos, sin = rope_cos_sin(self.freqs, positions)
        qi[..., -self.rd:] = apply_rope(qi[..., -self.rd:], cos, sin)
        qi = fp4_sim(hadamard(qi), 32)
        w = bf16((linear_bf16(x, self.weights_proj) * self.w_scale).astype(F32))
        return qi, w

    @staticmethod
    def scores(qi_t, w_t, keys) -> np.ndarray:
        """Indexer score of one query against keys [n, hd]: bf16(Σ_h bf16(relu(bf16(q_h·K)) * w_h))."""
        if keys.shape[0] == 0:
            return np.zeros(0, F32)
        dots = bf16(mm64(qi_t, keys.astype(F64).T))  # [nh, n]
        prod = bf16((np.maximum(dots, 0) * w_t[:, None]).astype(F32))
        return bf16(sum32(prod, axis=0))


# ----------------------------------------------------------------------------------------------
# attention layer
# ----------------------------------------------------------------------------------------------

class AttnState:
    def __init__(self, cfg, ratio: int):
        self.ring = np.zeros((cfg.window_size, cfg.head_dim), dtype=F32)
        mb = cfg.max_seq_len // ratio if ratio else 0
        self.comp = CompressorState(ratio, cfg.head_dim, mb) if ratio else None
        self.idx = CompressorState(4, cfg.index_head_dim, cfg.max_seq_len // 4) if ratio == 4 else None


class Attention:
    def __init__(self, w, prefix: str, cfg, ratio: int):
        self.cfg, self.ratio = cfg, ratio
        self.H, self.d, self.rd = cfg.n_heads, cfg.head_dim, cfg.rope_head_dim
        self.win, self.eps = cfg.window_size, cfg.norm_eps
        self.G, self.R = cfg.o_groups, cfg.o_lora_rank
        if ratio:
            self.freqs = rope_freqs(self.rd, cfg.original_seq_len, cfg.compress_rope_theta,
                                    cfg.rope_factor, cfg.beta_fast, cfg.beta_slow)
        else:  # ratio-0 layers: rope_theta, YaRN off
            self.freqs = rope_freqs(self.rd, 0, cfg.rope_theta, cfg.rope_factor, cfg.beta_fast,
                                    cfg.beta_slow)
        self.attn_sink = w.vec(prefix + "attn_sink")
        self.wq_a = w.fp8t(prefix + "wq_a")
        self.q_norm = w.vec(prefix + "q_norm.weight")
        self.wq_b = w.fp8t(prefix + "wq_b")
        self.wkv = w.fp8t(prefix + "wkv")
        self.kv_norm = w.vec(prefix + "kv_norm.weight")
        # wo_a: FP8 + scale dequantized once to bf16 (convert.py); [G, R, H*d/G]
        self.wo_a = w.fp8_dequant_bf16(prefix + "wo_a").reshape(self.G, self.R, -1)
        self.wo_b = w.fp8t(prefix + "wo_b")
        self.scale = F32(self.d ** -0.5)
        self.compressor = self.indexer = None
        if ratio:
            self.compressor = Compressor(w, prefix + "compressor.", ratio, self.d, self.rd, False,
                                         self.freqs, self.eps)
            if ratio == 4:
                self.indexer = Indexer(w, prefix + "indexer.", cfg, self.freqs)

    # -- shared pieces -----------------------------------------------------------------------
    def qkv(self, x, positions):
        """§4.3: qr [S, ql], q [S, H, d], kv [S, d] (all bf16)."""
        S = x.shape[0]
        qr = rms_norm(linear_quant(x, self.wq_a), self.q_norm, self.eps)
        q = linear_quant(qr, self.wq_b).reshape(S, self.H, self.d)
        q = q_head_norm(q, self.eps)
        cos, sin = rope_cos_sin(self.freqs, positions)
        q[..., -self.rd:] = apply_rope(q[..., -self.rd:], cos, sin)
        kv = rms_norm(linear_quant(x, self.wkv), self.kv_norm, self.eps)
        kv[:, -self.rd:] = apply_rope(kv[:, -self.rd:], cos, sin)
        kv[:, :-self.rd] = fp8_sim(kv[:, :-self.rd], 64)
        return qr, q, kv

    def output(self, o, positions):
        """§4.8: inverse RoPE with the query position, grouped wo_a (bf16 einsum), wo_b."""
        S = o.shape[0]
        cos, sin = rope_cos_sin(self.freqs, positions)
        o = o.copy()
        o[..., -self.rd:] = apply_rope(o[..., -self.rd:], cos, sin, inverse=True)
        og = o.reshape(S, self.G, -1).astype(F64)
        z = np.einsum("sgk,grk->sgr", og, self.wo_a.astype(F64))
        z = bf16(z.astype(F32)).reshape(S, self.G * self.R)
        return linear_quant(z, self.wo_b)

    # -- prefill (start_pos == 0) ------------------------------------------------------------
    def prefill(self, x, st: AttnState, trace=None):
        S = x.shape[0]
        win, r = self.win, self.ratio
        pos = np.arange(S)
        qr, q, kv = self.qkv(x, pos)
        # index lists (§11.1.3, prefill layout)
        nw = min(S, win)
        lists = []
        for t in range(S):
            w_idx = [max(0, t - win + 1) + i for i in range(nw)]
            lists.append([p if p <= t else -1 for p in w_idx])
        keys = kv
        if r:
            if self.indexer is not None:
                qi, wts = self.indexer.queries(x, qr, pos)
                kidx = self.indexer.compressor.prefill(x, st.idx)
            comp = self.compressor.prefill(x, st.comp)
            keys = np.concatenate([kv, comp], axis=0)
            nb = S // r
            for t in range(S):
                vis = (t + 1) // r
                if self.indexer is not None:
                    k = min(self.cfg.index_topk, nb)
                    if k == 0:
                        continue
                    sc = np.full(nb, -np.inf, F32)
                    sc[:vis] = self.indexer.scores(qi[t], wts[t], kidx[:vis])
                    sel = topk_desc(sc, k)
                    lists[t] += [S + j if j < vis else -1 for j in sel]
                    if trace is not None:
                        trace.setdefault("indexer_sel", []).append([int(j) for j in sel if j < vis])
                        trace.setdefault("indexer_boundary_ties", []).append(boundary_ties(sc[:vis], k))
                else:
                    lists[t] += [S + j if j < vis else -1 for j in range(nb)]
        # ring (§4.9): the last min(S, win) window rows at slot p mod win
        for p in range(max(0, S - win), S):
            st.ring[p % win] = kv[p]
        o = np.stack([sparse_attention(q[t], keys, lists[t], self.attn_sink, self.scale)
                      for t in range(S)])
        return self.output(o, pos)

    # -- decode / extend (start_pos > 0) -----------------------------------------------------
    def incremental(self, x, start_pos: int, st: AttnState, trace=None):
        S = x.shape[0]
        win, r = self.win, self.ratio
        pos = np.arange(start_pos, start_pos + S)
        qr, q, kv = self.qkv(x, pos)
        if r:
            ckv, csc = self.compressor.project(x)
            if self.indexer is not None:
                qi, wts = self.indexer.queries(x, qr, pos)
                ikv, isc = self.indexer.compressor.project(x)
        o = np.empty_like(q)
        for i in range(S):
            t = start_pos + i
            st.ring[t % win] = kv[i]
            if t >= win - 1:
                lst = [(t % win + 1 + k) % win for k in range(win)]
            else:
                lst = list(range(t + 1)) + [-1] * (win - t - 1)
            table = st.ring
            if r:
                if self.indexer is not None:
                    self.indexer.compressor.step(ikv[i], isc[i], t, st.idx)
                    vis = (t + 1) // 4
                    sc = self.indexer.scores(qi[i], wts[i], st.idx.cache[:vis])
                    sel = topk_desc(sc, min(self.cfg.index_topk, vis))
                    if trace is not None:
                        trace.setdefault("indexer_sel", []).append([int(j) for j in sel])
                        trace.setdefault("indexer_boundary_ties", []).append(
                            boundary_ties(sc, min(self.cfg.index_topk, vis)))
                else:
                    sel = np.arange((t + 1) // r)
                self.compressor.step(ckv[i], csc[i], t, st.comp)
                lst += [win + int(j) for j in sel]
                table = np.concatenate([st.ring, st.comp.cache[:st.comp.n]], axis=0)
            o[i] = sparse_attention(q[i], table, lst, self.attn_sink, self.scale)
        return self.output(o, pos)
