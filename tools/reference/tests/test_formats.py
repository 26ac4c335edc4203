"""Number formats (spec §6.1–§6.4): bf16/e4m3/e2m1 rounding, e8m0, quantizers, safetensors I/O."""
import json
import os

import numpy as np

from tools.reference import formats as fm
from tools.reference import safetensors_io as sio


def test_bf16_round_to_nearest_even():
    u = 2.0 ** -7  # bf16 ulp at 1
    x = np.array([1 + u / 2, 1 + 3 * u / 2, 1 + u / 2 + 2 ** -20, -(1 + u / 2), 3.0e38, 1e-40],
                 dtype=np.float32)
    y = fm.bf16(x)
    assert y[0] == 1.0                # tie -> even (mantissa 0)
    assert y[1] == 1 + 2 * u          # tie -> even (mantissa 2)
    assert y[2] == 1 + u              # above the tie
    assert y[3] == -1.0
    assert np.isfinite(y[4]) or np.isinf(y[4])
    assert y[5] == fm.bf16(np.float32(1e-40))  # subnormals kept (bf16 has fp32's exponent range)
    # float64 input goes through fp32 first (double rounding as the official fp32 -> bf16 casts)
    x64 = np.float64(1 + u / 2 + 2 ** -30)
    assert fm.bf16(x64) == fm.bf16(np.float32(x64))


def _all_e4m3():
    return np.arange(256, dtype=np.uint8).view(fm.E4M3).astype(np.float32)


def test_e4m3_grid_and_ties_match_bit_reference():
    vals = _all_e4m3()
    fin = np.sort(np.unique(vals[np.isfinite(vals)]))
    assert fin.max() == 448.0 and fin.min() == -448.0
    assert np.min(fin[fin > 0]) == 2.0 ** -9          # smallest subnormal
    mids = (fin[:-1] + fin[1:]) / 2                      # every tie
    probe = np.concatenate([fin, mids, mids + 1e-7 * np.abs(mids) + 1e-12,
                            mids - 1e-7 * np.abs(mids) - 1e-12]).astype(np.float32)
    probe = probe[np.abs(probe) <= 448]
    np.testing.assert_array_equal(fm.e4m3(probe), fm.e4m3_reference(probe))


def test_e4m3_specific_values():
    x = np.array([1.0625, 1.1875, 2.0 ** -10, 3 * 2.0 ** -10, 2.0 ** -9, 448.0, -448.0, 0.0],
                 dtype=np.float32)
    np.testing.assert_array_equal(fm.e4m3(x), [1.0, 1.25, 0.0, 2.0 ** -8, 2.0 ** -9, 448.0, -448.0, 0.0])
    assert np.isnan(fm.e4m3(np.float32(np.nan)))
    np.testing.assert_array_equal(fm.e4m3(np.array([464.0, 1e6, -np.inf], np.float32)), [448, 448, -448])
    assert np.isnan(fm.e4m3(np.float32(465.0), saturate=False))  # non-saturating cast -> NaN
    assert np.array([np.nan], np.float32).astype(fm.E4M3).view(np.uint8)[0] & 0x7F == 0x7F
    # the kernel clamps to +-448 before the cast; the bit reference saturates like satfinite
    assert fm.e4m3_reference(np.float32(1e6)) == 448.0
    q, s = fm.act_quant(np.array([[1000.0] + [0.0] * 127], np.float32))
    assert s[0] == 4.0 and q[0, 0] == 256.0  # 2^ceil(log2(1000/448)) = 4; 250 -> 256 (quantum 16)


def test_e2m1_ties_and_saturation():
    x = np.array([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, 6.0, 7.0, -0.25, -2.5, 0.26, 100.0],
                 dtype=np.float32)
    np.testing.assert_array_equal(fm.e2m1(x), [0, 1, 1, 2, 2, 4, 4, 6, 6, -0.0, -2, 0.5, 6])
    grid = np.linspace(-7, 7, 14001, dtype=np.float32)
    np.testing.assert_array_equal(fm.e2m1(grid), fm.e2m1_reference(grid))


def test_e8m0():
    b = np.array([0, 1, 120, 127, 128, 254, 255], np.uint8)
    v = fm.e8m0_to_f32(b)
    assert v[0] == np.float32(2.0 ** -127) and v[1] == np.float32(2.0 ** -126)
    assert v[2] == 2.0 ** -7 and v[3] == 1.0 and v[4] == 2.0 and v[5] == np.float32(2.0 ** 127)
    assert np.isnan(v[6])
    # ml_dtypes agrees
    np.testing.assert_array_equal(v[:6], b[:6].view(fm.E8M0).astype(np.float32))
    assert fm.f32_pow2_to_e8m0(np.float32(0.25)) == 125


def test_fast_round_scale_is_ceil_pow2():
    amax = np.array([448.0, 448.0 * (1 + 2 ** -20), 224.0, 1.0, 1e-4, 3.0e4], np.float32)
    s = fm.fast_round_scale(amax, fm.FP8_MAX_INV)
    p = (amax * fm.FP8_MAX_INV).astype(np.float32).astype(np.float64)
    ref = 2.0 ** np.ceil(np.log2(p))
    np.testing.assert_array_equal(s, ref.astype(np.float32))
    assert s[0] == 1.0 and s[1] == 2.0
    # fp4: amax 6 -> fp32(6 * fp32(1/6)) == 1 -> scale 1
    assert fm.fast_round_scale(np.float32(6.0), fm.FP4_MAX_INV) == 1.0


def test_act_quant_blocks_and_floor():
    rng = np.random.default_rng(0)
    x = fm.bf16(rng.standard_normal((3, 256)).astype(np.float32) * 5)
    x[1, :128] = 0  # zero block -> amax floor 1e-4 -> scale 2^-22, q = 0
    q, s = fm.act_quant(x, 128)
    assert s.shape == (3, 2)
    assert s[1, 0] == 2.0 ** -22 and np.all(q[1, :128] == 0)
    # every q is on the e4m3 grid and |q| <= 448; dequant error below half a quantum
    assert np.all(np.abs(q) <= 448) and np.array_equal(fm.e4m3(q), q)
    deq = fm.act_dequant(q, s, 128)
    xb, db = x.reshape(3, 2, 128), deq.reshape(3, 2, 128)
    assert np.all(np.abs(xb - db) <= s[..., None] * 16 + 0)  # quantum at most 32*s/2 in [256,448]
    # amax of each block maps into (224, 448]
    amax = np.abs(xb).max(-1)
    ok = amax > 1e-3
    assert np.all((amax[ok] / s[ok] > 224) & (amax[ok] / s[ok] <= 448))


def test_fp8_sim_and_fp4_sim():
    x = fm.bf16(np.array([[1.0, -3.0, 0.1, 2.0] * 16], np.float32))  # amax 3 -> s = 2^ceil(log2(3/448)) = 2^-7
    y = fm.fp8_sim(x, 64)
    s = 2.0 ** -7
    np.testing.assert_array_equal(y, fm.bf16(fm.e4m3(x / s) * s))
    v = fm.bf16(np.array([[0.1, 0.2, 0.3, -0.45] + [0.0] * 28], np.float32))  # amax .45 -> s = 2^-3
    z = fm.fp4_sim(v, 32)
    np.testing.assert_array_equal(z[0, :4], [0.125 * 1.0, 0.125 * 1.5, 0.125 * 2.0, -0.125 * 4.0])
    # 0.1/0.125=0.8 -> 1 ; 1.6 -> 1.5 ; 2.4 -> 2 ; 3.6 -> 4


def test_weight_quant_roundtrip_and_nibble_order():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((200, 300)).astype(np.float32) * 0.05
    q, s = fm.quantize_fp8_weight(w)
    assert q.dtype == fm.E4M3 and s.dtype == fm.E8M0 and s.shape == (2, 3)
    deq = fm.dequant_fp8_weight(q, s)
    assert np.max(np.abs(deq - w)) <= np.max(np.abs(w)) * 2 ** -3
    # FP4 packing: low nibble = even element
    vals = np.array([[0.5, -6.0, 1.0, 0.0] * 8], np.float32)
    packed = fm.pack_fp4(vals)
    assert packed.dtype == np.int8 and packed.shape == (1, 16)
    assert packed.view(np.uint8)[0, 0] == 0xF1 and packed.view(np.uint8)[0, 1] == 0x02
    np.testing.assert_array_equal(fm.unpack_fp4(packed), vals)
    w4 = rng.standard_normal((4, 64)).astype(np.float32)
    p4, s4 = fm.quantize_fp4_weight(w4)
    d4 = fm.dequant_fp4_weight(p4, s4)
    assert p4.shape == (4, 32) and s4.shape == (4, 2)
    np.testing.assert_array_equal(fm.e2m1(d4 / np.repeat(fm.e8m0_to_f32(s4.view(np.uint8)), 32, 1)),
                                  d4 / np.repeat(fm.e8m0_to_f32(s4.view(np.uint8)), 32, 1))


def test_safetensors_roundtrip(tmp_path):
    rng = np.random.default_rng(2)
    t = {
        "a.f32": rng.standard_normal((3, 5)).astype(np.float32),
        "b.bf16": rng.standard_normal((4,)).astype(fm.BF16),
        "c.e4m3": rng.standard_normal((2, 8)).astype(np.float32).astype(fm.E4M3),
        "c.scale": np.array([[120, 127]], np.uint8).view(fm.E8M0),
        "d.i8": rng.integers(-128, 127, (6, 2)).astype(np.int8),
        "e.i64": rng.integers(0, 100, (5, 6)).astype(np.int64),
        "f.i32": rng.integers(0, 100, (7,)).astype(np.int32),
    }
    p = str(tmp_path / "x.safetensors")
    sio.save_file(t, p)
    header, base = sio.read_header(p)
    assert base % 8 == 0
    assert header["c.e4m3"]["dtype"] == "F8_E4M3" and header["c.scale"]["dtype"] == "F8_E8M0"
    back = sio.load_file(p)
    for k in t:
        assert back[k].dtype == t[k].dtype and back[k].shape == t[k].shape
        np.testing.assert_array_equal(back[k].view(np.uint8), t[k].view(np.uint8))
    d = str(tmp_path / "ck")
    sio.save_sharded(t, d, max_shard_bytes=64)
    idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
    assert len(set(idx["weight_map"].values())) > 1
    back = sio.load_checkpoint(d)
    assert set(back) == set(t)
    for k in t:
        np.testing.assert_array_equal(back[k].view(np.uint8), t[k].view(np.uint8))
