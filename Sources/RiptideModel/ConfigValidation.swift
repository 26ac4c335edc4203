/// A config value that the architecture or the kernels cannot run.
public struct ConfigValidationError: Error, Sendable {
    public let message: String
}

extension ModelConfig {
    /// Checks the constraints of spec §1 and §9: shapes the FP8/FP4 kernels need (K dims multiples
    /// of 128), the Hadamard and FP4 block sizes of the indexer, and the layer pattern's length.
    public func validate() throws(ConfigValidationError) {
        func require(_ ok: Bool, _ message: @autoclosure () -> String) throws(ConfigValidationError) {
            if !ok { throw ConfigValidationError(message: message()) }
        }
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", dim), ("num_hidden_layers", nLayers),
                          ("num_attention_heads", nHeads), ("head_dim", headDim), ("q_lora_rank", qLoraRank),
                          ("o_groups", oGroups), ("o_lora_rank", oLoraRank), ("sliding_window", windowSize),
                          ("n_routed_experts", nRoutedExperts), ("num_experts_per_tok", nActivatedExperts),
                          ("moe_intermediate_size", moeInterDim), ("index_n_heads", indexNHeads),
                          ("index_head_dim", indexHeadDim), ("index_topk", indexTopK), ("hc_sinkhorn_iters", hcSinkhornIters)] {
            try require(v > 0, "'\(name)' must be positive, got \(v)")
        }
        try require(nMTPLayers >= 0 && nSharedExperts >= 0 && nHashLayers >= 0, "layer and expert counts must not be negative")
        try require(compressRatios.count == nLayers + nMTPLayers,
                    "'compress_ratios' has \(compressRatios.count) entries; num_hidden_layers + num_nextn_predict_layers = \(nLayers + nMTPLayers)")
        try require(compressRatios.allSatisfy { $0 >= 0 }, "'compress_ratios' entries must be 0 or positive")
        for (name, k) in [("hidden_size", dim), ("q_lora_rank", qLoraRank), ("o_groups × o_lora_rank", oGroups * oLoraRank),
                          ("moe_intermediate_size", moeInterDim)] {
            try require(k % 128 == 0, "\(name) = \(k) must be a multiple of 128 (the K dim of an FP8/FP4 linear)")
        }
        try require(ropeHeadDim > 0 && ropeHeadDim < headDim && ropeHeadDim % 2 == 0,
                    "qk_rope_head_dim = \(ropeHeadDim) must be even and smaller than head_dim = \(headDim)")
        try require((headDim - ropeHeadDim) % 64 == 0, "head_dim − qk_rope_head_dim = \(headDim - ropeHeadDim) must be a multiple of 64")
        try require(indexHeadDim & (indexHeadDim - 1) == 0 && indexHeadDim % 32 == 0 && indexHeadDim > ropeHeadDim,
                    "index_head_dim = \(indexHeadDim) must be a power of two, a multiple of 32 and larger than qk_rope_head_dim")
        try require(nHeads % oGroups == 0, "num_attention_heads = \(nHeads) must be divisible by o_groups = \(oGroups)")
        try require((nHeads * headDim / oGroups) % 128 == 0, "the per-group input width num_attention_heads × head_dim / o_groups must be a multiple of 128")
        try require(hcMult == 4, "hc_mult = \(hcMult): only 4 residual streams are supported")
        try require(nActivatedExperts <= nRoutedExperts, "num_experts_per_tok = \(nActivatedExperts) exceeds n_routed_experts = \(nRoutedExperts)")
        try require(nHashLayers <= nLayers, "num_hash_layers = \(nHashLayers) exceeds num_hidden_layers = \(nLayers)")
        try require(normEps > 0 && hcEps > 0, "rms_norm_eps and hc_eps must be positive")
        try require(swigluLimit >= 0, "swiglu_limit must not be negative")
        try require(ropeFactor >= 1, "rope_scaling.factor must be at least 1")
    }
}
