"""HF config.json -> ModelArgs mapping (spec §1.1, §1.2)."""
import json
import os

import pytest

from tools.reference.config import Config, real_constants_config, tiny_config

DATA = os.path.join(os.path.dirname(__file__), "data")


def test_pro_config_mapping():
    # official V4-Pro config.json (Nicooo-Wang/DeepSeek-V4-Pro-code @0ec3a03)
    c = Config.load(os.path.join(DATA, "dsv4_pro_config.json"))
    assert (c.dim, c.n_layers, c.n_heads, c.head_dim, c.q_lora_rank) == (7168, 61, 128, 512, 1536)
    assert (c.o_groups, c.o_lora_rank, c.window_size, c.index_topk) == (16, 1024, 128, 1024)
    assert (c.n_routed_experts, c.n_activated_experts, c.moe_inter_dim, c.n_hash_layers) == (384, 6, 3072, 3)
    assert c.route_scale == 2.5 and c.swiglu_limit == 10.0 and c.score_func == "sqrtsoftplus"
    assert c.original_seq_len == 65536 and c.rope_factor == 16 and c.compress_rope_theta == 160000
    assert len(c.compress_ratios) == 62 and c.compress_ratios[:4] == [128, 128, 4, 128]
    assert c.compress_ratios[-1] == 0
    assert (c.hc_mult, c.hc_sinkhorn_iters, c.hc_eps, c.norm_eps) == (4, 20, 1e-6, 1e-6)


def test_roundtrip_and_rejects_later_architectures():
    for cfg in (tiny_config(), real_constants_config()):
        assert Config.from_hf(json.loads(json.dumps(cfg.to_hf()))) == cfg
    hf = tiny_config().to_hf()
    for bad in ("dspark_num_stages", "engram_dim", "kv_source_layers"):
        with pytest.raises(ValueError):
            Config.from_hf({**hf, bad: 1})
