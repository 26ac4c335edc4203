import Foundation

extension ModelConfig {
    /// The Hugging Face `config.json` for this config, with the keys and constant fields the
    /// official V4 configs carry (spec §1.1), pretty-printed with sorted keys.
    public func huggingFaceJSON() -> Data {
        let object: [String: Any] = [
            "architectures": ["DeepseekV4ForCausalLM"], "model_type": "deepseek_v4",
            "attention_bias": false, "attention_dropout": 0.0, "hidden_act": "silu", "initializer_range": 0.02,
            "tie_word_embeddings": false, "use_cache": true, "torch_dtype": "bfloat16", "num_key_value_heads": 1,
            "norm_topk_prob": true, "topk_method": "noaux_tc",
            "vocab_size": vocabSize, "hidden_size": dim, "num_hidden_layers": nLayers,
            "num_nextn_predict_layers": nMTPLayers, "num_attention_heads": nHeads, "head_dim": headDim,
            "qk_rope_head_dim": ropeHeadDim, "q_lora_rank": qLoraRank, "o_groups": oGroups, "o_lora_rank": oLoraRank,
            "sliding_window": windowSize, "compress_ratios": compressRatios, "index_n_heads": indexNHeads,
            "index_head_dim": indexHeadDim, "index_topk": indexTopK, "n_routed_experts": nRoutedExperts,
            "n_shared_experts": nSharedExperts, "num_experts_per_tok": nActivatedExperts,
            "moe_intermediate_size": moeInterDim, "num_hash_layers": nHashLayers, "scoring_func": scoreFunc.rawValue,
            "routed_scaling_factor": routeScale, "swiglu_limit": swigluLimit, "hc_mult": hcMult,
            "hc_sinkhorn_iters": hcSinkhornIters, "hc_eps": hcEps, "rms_norm_eps": normEps, "rope_theta": ropeTheta,
            "compress_rope_theta": compressRopeTheta,
            "rope_scaling": ["type": "yarn", "factor": ropeFactor, "original_max_position_embeddings": originalSeqLen,
                             "beta_fast": betaFast, "beta_slow": betaSlow],
            "max_position_embeddings": maxPositionEmbeddings, "expert_dtype": expertDType.rawValue,
            "bos_token_id": bosTokenId, "eos_token_id": eosTokenId,
            "quantization_config": ["activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                    "scale_fmt": "ue8m0", "weight_block_size": [128, 128]],
        ]
        return Data((renderJSON(object, indent: "") + "\n").utf8)
    }
}

/// Pretty JSON with sorted keys that keeps floats as floats (`10.0`, `1e-06`), as Python's
/// json.dump writes the official configs; transformers' typed config classes reject `10` for a float.
private func renderJSON(_ value: Any, indent: String) -> String {
    let inner = indent + "  "
    switch value {
    case let b as Bool: return b ? "true" : "false"
    case let i as Int: return String(i)
    case let d as Double: return d.isFinite ? "\(d)" : "null"
    case let s as String: return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    case let a as [Any]: return "[" + a.map { renderJSON($0, indent: inner) }.joined(separator: ", ") + "]"
    case let o as [String: Any]:
        let members = o.keys.sorted().map { "\(inner)\"\($0)\": \(renderJSON(o[$0]!, indent: inner))" }
        return "{\n" + members.joined(separator: ",\n") + "\n\(indent)}"
    default: preconditionFailure("unsupported JSON value \(value)")
    }
}
