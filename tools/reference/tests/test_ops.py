"""Op-level tests on small hand-checkable inputs (spec §2–§5)."""
import math

import numpy as np

from tools.reference import formats as fm
from tools.reference import ops
from tools.reference.attention import Compressor, CompressorState, pool
from tools.reference.moe import Expert

F32 = np.float32


def test_rms_norm_hand_values():
    x = np.array([[3.0, 4.0]], F32)
    y = ops.rms_norm(x, np.array([1.0, 2.0], F32), eps=0.0)
    r = 1 / math.sqrt(12.5)
    np.testing.assert_array_equal(y, fm.bf16(np.array([[3 * r, 2 * 4 * r]], F32)))


def test_q_head_norm_rounding_points():
    q = np.array([[[1.0, 1.0, 1.0, 3.0]]], F32)  # mean(q^2) = 3
    y = ops.q_head_norm(q, eps=1e-6)
    r = fm.bf16(F32(1 / math.sqrt(float(fm.bf16(F32(3 + 1e-6))))))
    np.testing.assert_array_equal(y, fm.bf16(q * r))
    assert y[0, 0, 0] == fm.bf16(F32(0.578125))  # bf16(1/sqrt(3)) = 0.578125 exactly


def test_rope_freqs_yarn_ranges():
    plain = ops.rope_freqs(64, 0, 160000.0, 16.0, 32.0, 1.0)
    yarn = ops.rope_freqs(64, 65536, 160000.0, 16.0, 32.0, 1.0)
    np.testing.assert_array_equal(yarn[:16], plain[:16])        # pairs 0..15 unscaled (low = 15)
    np.testing.assert_array_equal(yarn[25:], (plain[25:] / F32(16)).astype(F32))  # >= high = 25
    assert np.all(yarn[16:25] < plain[16:25]) and np.all(yarn[16:25] > plain[16:25] / 16)
    base = ops.rope_freqs(64, 0, 10000.0, 16.0, 32.0, 1.0)
    assert base[0] == 1.0 and abs(base[1] - 10000 ** (-2 / 64)) < 1e-7


def test_rope_interleaved_and_inverse():
    freqs = ops.rope_freqs(4, 0, 10000.0, 1.0, 32.0, 1.0)  # freq pair0 = 1, pair1 = 0.01
    x = np.array([[1.0, 0.0, 0.0, 1.0]], F32)
    cos, sin = ops.rope_cos_sin(freqs, [1])
    y = ops.apply_rope(x, cos, sin)
    np.testing.assert_array_equal(y[0, :2], fm.bf16(np.array([math.cos(1), math.sin(1)], F32)))
    np.testing.assert_array_equal(y[0, 2:], fm.bf16(np.array([-math.sin(0.01), math.cos(0.01)], F32)))
    c0, s0 = ops.rope_cos_sin(freqs, [0])
    np.testing.assert_array_equal(ops.apply_rope(x, c0, s0), x)  # position 0 is the identity
    back = ops.apply_rope(y, cos, sin, inverse=True)
    assert np.max(np.abs(back - x)) < 2 ** -7


def test_hadamard_sylvester():
    h = ops.hadamard_matrix(8)
    assert h[3, 5] == (-1) ** bin(3 & 5).count("1")
    np.testing.assert_array_equal(h @ h, 8 * np.eye(8))
    e0 = np.zeros((1, 128), F32)
    e0[0, 0] = 1
    np.testing.assert_array_equal(ops.hadamard(e0), fm.bf16(np.full((1, 128), 128 ** -0.5, F32)))
    e1 = np.zeros((1, 128), F32)
    e1[0, 1] = 1
    assert ops.hadamard(e1)[0, 1] < 0 and ops.hadamard(e1)[0, 2] > 0  # row 1 = (+,-,+,-,...)


def test_sinkhorn_zero_input_by_hand():
    mix = np.zeros((1, 24), F32)
    pre, post, comb = ops.split_sinkhorn(mix, np.ones(3, F32), np.zeros(24, F32), 4, 20, 1e-6)
    np.testing.assert_array_equal(pre, F32(0.5) + F32(1e-6))
    np.testing.assert_array_equal(post, np.ones((1, 4), F32))
    # hand iteration in float32 scalars
    eps = F32(1e-6)
    c = F32(F32(1) / F32(4)) + eps
    c = c / (F32(4) * c + eps)
    for _ in range(19):
        c = c / (F32(4) * c + eps)
        c = c / (F32(4) * c + eps)
    np.testing.assert_array_equal(comb, np.full((1, 4, 4), c, F32))


def test_sinkhorn_doubly_stochastic():
    rng = np.random.default_rng(0)
    mix = rng.standard_normal((5, 24)).astype(F32)
    _, _, comb = ops.split_sinkhorn(mix, np.array([1, 1, 2], F32), rng.standard_normal(24).astype(F32))
    np.testing.assert_allclose(comb.sum(axis=1), 1, atol=1e-5)  # columns (finishes on columns)
    np.testing.assert_allclose(comb.sum(axis=2), 1, atol=1e-3)


def test_hc_post_by_hand():
    f = np.array([[1.0, 2.0]], F32)
    res = np.arange(8, dtype=F32).reshape(1, 4, 2)
    post = np.array([[1.0, 0.5, 0.0, 2.0]], F32)
    comb = np.eye(4, dtype=F32)[None]
    comb[0, 1, 0] = 1.0  # stream 1 also feeds output stream 0
    out = ops.hc_post(f, res, post, comb)
    np.testing.assert_array_equal(out[0, 0], [1 + 0 + 2, 2 + 1 + 3])
    np.testing.assert_array_equal(out[0, 1], [0.5 + 2, 1 + 3])
    np.testing.assert_array_equal(out[0, 3], [2 + 6, 4 + 7])


def test_sparse_attention_hand_and_blocks():
    q = np.array([[1.0, 0.0], [0.0, 1.0]], F32)
    kv = np.array([[2.0, 0.0], [0.0, 2.0]], F32)
    scale = 1.0
    # sink -inf: a single entry returns its row
    o = ops.sparse_attention(q, kv, [1, -1], np.array([-np.inf, -np.inf], F32), scale)
    np.testing.assert_array_equal(o, [[0, 2], [0, 2]])
    # sink in the denominator only: head 0 scores (2, 0), sink 0
    o = ops.sparse_attention(q, kv, [0, 1], np.array([0.0, -np.inf], F32), scale)
    e = np.exp([0.0, -2.0, -2.0])  # relative to max 2: entries 2, 0 and sink 0
    p = fm.bf16(np.exp(np.array([0.0, -2.0], F32)).astype(F32))
    exp0 = fm.bf16(F32((p[0] * 2) / F32(e.sum())))
    assert o[0, 0] == exp0
    # random: close to a plain softmax; -1 padding and 64-blocks handled
    rng = np.random.default_rng(0)
    H, d, N = 3, 16, 150
    q = fm.bf16(rng.standard_normal((H, d)).astype(F32))
    kv = fm.bf16(rng.standard_normal((N, d)).astype(F32))
    sink = rng.standard_normal(H).astype(F32)
    idx = list(range(N)) + [-1] * 10
    o = ops.sparse_attention(q, kv, idx, sink, d ** -0.5)
    s = (q.astype(np.float64) @ kv.T.astype(np.float64)) * d ** -0.5
    m = s.max(1, keepdims=True)
    w = np.exp(s - m)
    ref = (w @ kv) / (w.sum(1, keepdims=True) + np.exp(sink[:, None] - m))
    assert np.max(np.abs(o - ref)) < 2e-2
    o2 = ops.sparse_attention(q, kv, idx[:N], sink, d ** -0.5)  # trailing -1 slots are no-ops
    np.testing.assert_array_equal(o, o2)


def test_pool_softmax_over_time():
    kv = np.array([[1.0, 10.0], [3.0, 20.0]], F32)
    sc = np.array([[0.0, 0.0], [0.0, -np.inf]], F32)
    np.testing.assert_allclose(pool(kv, sc), [2.0, 10.0], rtol=1e-7)


class _W:
    def __init__(self, t):
        self.t = t

    def f32t(self, n):
        return np.asarray(self.t[n], F32).astype(np.float64).T.copy()

    def vec(self, n):
        return np.asarray(self.t[n], F32)


def _compressor(ratio, rotate, d=128, D=128, seed=0):
    rng = np.random.default_rng(seed)
    c = 2 if ratio == 4 else 1
    t = {"wkv.weight": fm.bf16(rng.standard_normal((c * d, D)).astype(F32) * D ** -0.5),
         "wgate.weight": fm.bf16(rng.standard_normal((c * d, D)).astype(F32) * D ** -0.5),
         "ape": rng.standard_normal((ratio, c * d)).astype(F32),
         "norm.weight": fm.bf16(1 + 0.1 * rng.standard_normal(d).astype(F32))}
    freqs = ops.rope_freqs(64, 65536, 160000.0, 16.0, 32.0, 1.0)
    return Compressor(_W(t), "", ratio, d, 64, rotate, freqs, 1e-6)


def test_compressor_prefill_equals_steps():
    rng = np.random.default_rng(3)
    for ratio, rotate in ((4, False), (4, True), (16, False)):
        comp = _compressor(ratio, rotate)
        x = fm.bf16(rng.standard_normal((41, 128)).astype(F32))
        for L in (1, 3, 17, 41):
            st_a = CompressorState(ratio, 128, 64)
            comp.prefill(x, st_a)
            st_b = CompressorState(ratio, 128, 64)
            comp.prefill(x[:L], st_b)
            kv, sc = comp.project(x[L:])
            for i in range(41 - L):
                comp.step(kv[i], sc[i], L + i, st_b)
            assert st_a.n == st_b.n == 41 // ratio
            np.testing.assert_array_equal(st_a.cache[:st_a.n], st_b.cache[:st_b.n])


def test_compressor_overlap_block0_and_block1_by_hand():
    comp = _compressor(4, False)
    rng = np.random.default_rng(4)
    x = fm.bf16(rng.standard_normal((8, 128)).astype(F32))
    st = CompressorState(4, 128, 4)
    ent = comp.prefill(x, st)
    kv, sc = comp.project(x)
    sc = (sc + np.concatenate([comp.ape, comp.ape])).astype(F32)
    d = 128
    # block 0: only B halves of tokens 0..3
    out0 = pool(kv[0:4, d:], sc[0:4, d:])
    # block 1: A halves of tokens 0..3 and B halves of tokens 4..7
    out1 = pool(np.concatenate([kv[0:4, :d], kv[4:8, d:]]), np.concatenate([sc[0:4, :d], sc[4:8, d:]]))
    np.testing.assert_array_equal(ent, comp.finish(np.stack([out0, out1]), [0, 4]))


def _eye_fp8(n, scale):
    return (np.eye(n) * scale).astype(np.float64)


def test_expert_clamp():
    n = 128
    ex = Expert(_eye_fp8(n, 16.0), _eye_fp8(n, 1.0), _eye_fp8(n, 16.0), limit=10.0)
    x = np.zeros((1, n), F32)
    x[0, :4] = [1.0, -2.0, 0.25, -0.5]
    y = ex(x)
    g = np.array([16.0, -32.0, 4.0, -8.0])
    u = np.clip(g, -10, 10)
    g = np.minimum(g, 10)  # gate clamped from above only
    a = fm.bf16((g / (1 + np.exp(-g)) * u).astype(F32))
    ref = fm.bf16(fm.act_dequant(*fm.act_quant(np.pad(a, (0, n - 4))[None], 128), 128))
    np.testing.assert_array_equal(y[0, :4], ref[0, :4])


def test_topk_tie_rule():
    s = np.array([1.0, 3.0, 3.0, 2.0, 3.0], F32)
    np.testing.assert_array_equal(ops.topk_desc(s, 3), [1, 2, 4])
    np.testing.assert_array_equal(ops.topk_desc(s, 4), [1, 2, 4, 3])


def test_boundary_ties_count():
    from tools.reference.attention import boundary_ties
    s = np.array([3.0, 2.0, 2.0, 1.0, 2.0], F32)
    assert boundary_ties(s, 2) == 2 and boundary_ties(s, 3) == 1 and boundary_ties(s, 4) == 0
    assert boundary_ties(s, 5) == 0 and boundary_ties(s, 1) == 0


def _gate(is_hash, logits_w, bias=None, tid2eid=None, k=2, route_scale=1.5):
    from types import SimpleNamespace
    from tools.reference.moe import MoE
    m = MoE.__new__(MoE)
    m.cfg = SimpleNamespace(score_func="sqrtsoftplus")
    m.k, m.route_scale, m.is_hash = k, F32(route_scale), is_hash
    m.gate_w = np.asarray(logits_w, np.float64).T.copy()
    m.bias, m.tid2eid = bias, tid2eid
    return m


def test_gate_hash_and_score_routing():
    # x = e_0 picks column 0 of the gate weight: logits = W[:, 0]
    W = np.array([[0.0], [1.0], [2.0], [-30.0]], F32)
    x = np.array([[1.0]], F32)
    s = np.sqrt(np.log1p(np.exp(W[:, 0].astype(np.float64))))
    # score routing: bias promotes expert 0 over expert 1, weights use the unbiased scores
    g = _gate(False, W, bias=np.array([2.0, 0.0, 0.0, 0.0], F32))
    w, idx = g.route(x, [7])
    assert idx.tolist() == [[0, 2]]
    np.testing.assert_allclose(w[0], 1.5 * s[[0, 2]] / s[[0, 2]].sum(), rtol=1e-6)
    # hash routing: tid2eid of the token id, renormalised too
    t2e = np.array([[3, 1]] * 10, np.int64)
    g = _gate(True, W, tid2eid=t2e)
    w, idx = g.route(x, [4])
    assert idx.tolist() == [[3, 1]]
    np.testing.assert_allclose(w[0], 1.5 * s[[3, 1]] / s[[3, 1]].sum(), rtol=1e-6)
    # softplus threshold 20: returns x itself above 20
    from tools.reference.ops import softplus32
    assert softplus32(np.float32(25.0)) == 25.0
