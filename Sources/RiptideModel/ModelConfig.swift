import Foundation

/// DeepSeek-V4 hyper-parameters, read from a Hugging Face `config.json` (spec §1.1).
/// Field names follow the reference `ModelArgs`; the HF key is in each field's comment.
public struct ModelConfig: Sendable, Equatable {
    public var vocabSize: Int            // vocab_size
    public var dim: Int                  // hidden_size (D)
    public var nLayers: Int              // num_hidden_layers
    public var nMTPLayers: Int           // num_nextn_predict_layers
    public var nHeads: Int               // num_attention_heads (H)
    public var headDim: Int              // head_dim (d)
    public var ropeHeadDim: Int          // qk_rope_head_dim (rd)
    public var qLoraRank: Int            // q_lora_rank (ql)
    public var oGroups: Int              // o_groups (G)
    public var oLoraRank: Int            // o_lora_rank (R)
    public var windowSize: Int           // sliding_window
    public var compressRatios: [Int]     // compress_ratios, n_layers + n_mtp_layers entries
    public var indexNHeads: Int          // index_n_heads
    public var indexHeadDim: Int         // index_head_dim
    public var indexTopK: Int            // index_topk
    public var nRoutedExperts: Int       // n_routed_experts
    public var nSharedExperts: Int       // n_shared_experts
    public var nActivatedExperts: Int    // num_experts_per_tok
    public var moeInterDim: Int          // moe_intermediate_size
    public var nHashLayers: Int          // num_hash_layers
    public var scoreFunc: ScoreFunction  // scoring_func
    public var routeScale: Double        // routed_scaling_factor
    public var swigluLimit: Double       // swiglu_limit
    public var hcMult: Int               // hc_mult
    public var hcSinkhornIters: Int      // hc_sinkhorn_iters
    public var hcEps: Double             // hc_eps
    public var normEps: Double           // rms_norm_eps
    public var ropeTheta: Double         // rope_theta (ratio-0 layers, no YaRN)
    public var compressRopeTheta: Double // compress_rope_theta (compressed layers, with YaRN)
    public var ropeFactor: Double        // rope_scaling.factor
    public var originalSeqLen: Int       // rope_scaling.original_max_position_embeddings
    public var betaFast: Double          // rope_scaling.beta_fast
    public var betaSlow: Double          // rope_scaling.beta_slow
    public var maxPositionEmbeddings: Int // max_position_embeddings
    public var expertDType: ExpertDType  // expert_dtype
    public var bosTokenId: Int           // bos_token_id
    public var eosTokenId: Int           // eos_token_id

    public enum ScoreFunction: String, Sendable { case sqrtsoftplus, softmax, sigmoid }
    public enum ExpertDType: String, Sendable { case fp4, fp8 }

    public enum LayerKind: Equatable, Sendable {
        case slidingWindow      // ratio 0: window attention only
        case compressedSparse   // ratio 4: overlapping compressor + lightning indexer (CSA)
        case compressedAll(ratio: Int)  // other ratios: non-overlapping compressor, all entries (HCA)
    }

    /// Attention kind of main layer `i` (or of MTP block `i - nLayers`).
    public func layerKind(_ i: Int) -> LayerKind {
        switch compressRatios[i] {
        case 0: .slidingWindow
        case 4: .compressedSparse
        case let r: .compressedAll(ratio: r)
        }
    }

    /// Hash-routed MoE on the first `nHashLayers` main layers; the MTP block never is.
    public func isHashRouted(_ i: Int) -> Bool { i < nHashLayers }

    public var nopeHeadDim: Int { headDim - ropeHeadDim }
}
