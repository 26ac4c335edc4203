"""Model configuration: HF config.json keys -> ModelArgs-style fields (spec §1.1)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import List


@dataclass
class Config:
    vocab_size: int = 129280
    dim: int = 256
    n_layers: int = 4
    n_mtp_layers: int = 1
    n_hash_layers: int = 2
    n_heads: int = 4
    head_dim: int = 128
    rope_head_dim: int = 64
    q_lora_rank: int = 128
    o_groups: int = 2
    o_lora_rank: int = 128
    window_size: int = 8
    compress_ratios: List[int] = field(default_factory=lambda: [0, 4, 16, 4, 0])
    index_n_heads: int = 4
    index_head_dim: int = 128
    index_topk: int = 4
    n_routed_experts: int = 8
    n_shared_experts: int = 1
    n_activated_experts: int = 2
    moe_inter_dim: int = 128
    score_func: str = "sqrtsoftplus"
    route_scale: float = 1.5
    swiglu_limit: float = 10.0
    rope_theta: float = 10000.0
    compress_rope_theta: float = 160000.0
    original_seq_len: int = 65536
    rope_factor: float = 16.0
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    hc_mult: int = 4
    hc_sinkhorn_iters: int = 20
    hc_eps: float = 1e-6
    norm_eps: float = 1e-6
    expert_dtype: str = "fp4"
    max_seq_len: int = 4096  # runtime choice (cache sizing only)

    # ------------------------------------------------------------------------------------------
    @classmethod
    def from_hf(cls, hf: dict) -> "Config":
        for bad in ("kv_source_layers",):
            if bad in hf:
                raise ValueError(f"unsupported config key {bad} (later architecture)")
        for k in hf:
            if k.startswith("dspark_") or k.startswith("engram_"):
                raise ValueError(f"unsupported config key {k} (later architecture)")
        rs = hf.get("rope_scaling") or {}
        return cls(
            vocab_size=hf["vocab_size"], dim=hf["hidden_size"], n_layers=hf["num_hidden_layers"],
            n_mtp_layers=hf.get("num_nextn_predict_layers", 1), n_hash_layers=hf["num_hash_layers"],
            n_heads=hf["num_attention_heads"], head_dim=hf["head_dim"],
            rope_head_dim=hf["qk_rope_head_dim"], q_lora_rank=hf["q_lora_rank"],
            o_groups=hf["o_groups"], o_lora_rank=hf["o_lora_rank"], window_size=hf["sliding_window"],
            compress_ratios=list(hf["compress_ratios"]), index_n_heads=hf["index_n_heads"],
            index_head_dim=hf["index_head_dim"], index_topk=hf["index_topk"],
            n_routed_experts=hf["n_routed_experts"], n_shared_experts=hf["n_shared_experts"],
            n_activated_experts=hf["num_experts_per_tok"], moe_inter_dim=hf["moe_intermediate_size"],
            score_func=hf["scoring_func"], route_scale=float(hf["routed_scaling_factor"]),
            swiglu_limit=float(hf["swiglu_limit"]), rope_theta=float(hf["rope_theta"]),
            compress_rope_theta=float(hf["compress_rope_theta"]),
            original_seq_len=int(rs.get("original_max_position_embeddings", 0)),
            rope_factor=float(rs.get("factor", 1.0)), beta_fast=float(rs.get("beta_fast", 32)),
            beta_slow=float(rs.get("beta_slow", 1)), hc_mult=hf["hc_mult"],
            hc_sinkhorn_iters=hf["hc_sinkhorn_iters"], hc_eps=float(hf["hc_eps"]),
            norm_eps=float(hf["rms_norm_eps"]), expert_dtype=hf.get("expert_dtype", "fp4"),
        )

    @classmethod
    def load(cls, path: str) -> "Config":
        with open(path) as f:
            return cls.from_hf(json.load(f))

    def to_hf(self) -> dict:
        return {
            "architectures": ["DeepseekV4ForCausalLM"],
            "attention_bias": False,
            "attention_dropout": 0.0,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "expert_dtype": self.expert_dtype,
            "hc_eps": self.hc_eps,
            "hc_mult": self.hc_mult,
            "hc_sinkhorn_iters": self.hc_sinkhorn_iters,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "hidden_size": self.dim,
            "index_head_dim": self.index_head_dim,
            "index_n_heads": self.index_n_heads,
            "index_topk": self.index_topk,
            "initializer_range": 0.02,
            "max_position_embeddings": 1048576,
            "model_type": "deepseek_v4",
            "moe_intermediate_size": self.moe_inter_dim,
            "n_routed_experts": self.n_routed_experts,
            "n_shared_experts": self.n_shared_experts,
            "norm_topk_prob": True,
            "num_attention_heads": self.n_heads,
            "num_experts_per_tok": self.n_activated_experts,
            "num_hidden_layers": self.n_layers,
            "num_hash_layers": self.n_hash_layers,
            "num_key_value_heads": 1,
            "num_nextn_predict_layers": self.n_mtp_layers,
            "o_groups": self.o_groups,
            "o_lora_rank": self.o_lora_rank,
            "q_lora_rank": self.q_lora_rank,
            "qk_rope_head_dim": self.rope_head_dim,
            "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3",
                                    "quant_method": "fp8", "scale_fmt": "ue8m0",
                                    "weight_block_size": [128, 128]},
            "rms_norm_eps": self.norm_eps,
            "rope_scaling": {"beta_fast": self.beta_fast, "beta_slow": self.beta_slow,
                             "factor": self.rope_factor,
                             "original_max_position_embeddings": self.original_seq_len,
                             "type": "yarn"},
            "rope_theta": self.rope_theta,
            "routed_scaling_factor": self.route_scale,
            "scoring_func": self.score_func,
            "sliding_window": self.window_size,
            "swiglu_limit": self.swiglu_limit,
            "tie_word_embeddings": False,
            "topk_method": "noaux_tc",
            "torch_dtype": "bfloat16",
            "use_cache": True,
            "vocab_size": self.vocab_size,
            "compress_rope_theta": self.compress_rope_theta,
            "compress_ratios": list(self.compress_ratios),
        }


def tiny_config() -> Config:
    """§9 "tiny-fast" with the real vocab (129280) and swiglu_limit 10."""
    return Config()


def real_constants_config() -> Config:
    """§9 real-constants variant: window 128, ratios [0, 4, 128, 4, 0], index_topk 8."""
    return Config(window_size=128, compress_ratios=[0, 4, 128, 4, 0], index_topk=8)
