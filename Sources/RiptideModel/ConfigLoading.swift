import Foundation

/// A config.json that cannot be used, with the file and the key at fault.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let message: String
    public var description: String { "\(file): \(message)" }
}

extension ModelConfig {
    /// Reads and validates a Hugging Face `config.json`.
    public init(contentsOf url: URL) throws(ConfigError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ConfigError(file: url.path, message: "cannot read: \(error.localizedDescription)") }
        try self.init(json: data, file: url.path)
    }

    /// Parses config JSON; `file` names the source in errors.
    public init(json data: Data, file: String = "config.json") throws(ConfigError) {
        func fail(_ message: String) -> ConfigError { ConfigError(file: file, message: message) }
        guard let object = try? JSONSerialization.jsonObject(with: data), let keys = object as? [String: Any] else {
            throw fail("not a JSON object")
        }
        // Later releases change the architecture behind the same model_type; refuse rather than mis-run them.
        for key in keys.keys.sorted() where key.hasPrefix("dspark_") || key.hasPrefix("engram_") || key == "kv_source_layers" {
            throw fail("key '\(key)' belongs to a later DeepSeek-V4 variant (DSpark / engram / KV sharing) that this engine does not implement")
        }
        let reader = KeyReader(keys: keys, fail: fail)
        let rope = try reader.object("rope_scaling", required: false)
        let ropeReader = KeyReader(keys: rope ?? [:], fail: { fail("rope_scaling: " + $0) })
        self.init(
            vocabSize: try reader.int("vocab_size"),
            dim: try reader.int("hidden_size"),
            nLayers: try reader.int("num_hidden_layers"),
            nMTPLayers: try reader.int("num_nextn_predict_layers", default: 0),
            nHeads: try reader.int("num_attention_heads"),
            headDim: try reader.int("head_dim"),
            ropeHeadDim: try reader.int("qk_rope_head_dim"),
            qLoraRank: try reader.int("q_lora_rank"),
            oGroups: try reader.int("o_groups"),
            oLoraRank: try reader.int("o_lora_rank"),
            windowSize: try reader.int("sliding_window"),
            compressRatios: try reader.intArray("compress_ratios"),
            indexNHeads: try reader.int("index_n_heads"),
            indexHeadDim: try reader.int("index_head_dim"),
            indexTopK: try reader.int("index_topk"),
            nRoutedExperts: try reader.int("n_routed_experts"),
            nSharedExperts: try reader.int("n_shared_experts"),
            nActivatedExperts: try reader.int("num_experts_per_tok"),
            moeInterDim: try reader.int("moe_intermediate_size"),
            nHashLayers: try reader.int("num_hash_layers", default: 0),
            scoreFunc: try reader.enumValue("scoring_func", default: .sqrtsoftplus),
            routeScale: try reader.double("routed_scaling_factor", default: 1),
            swigluLimit: try reader.double("swiglu_limit", default: 0),
            hcMult: try reader.int("hc_mult", default: 4),
            hcSinkhornIters: try reader.int("hc_sinkhorn_iters", default: 20),
            hcEps: try reader.double("hc_eps", default: 1e-6),
            normEps: try reader.double("rms_norm_eps", default: 1e-6),
            ropeTheta: try reader.double("rope_theta", default: 10000),
            compressRopeTheta: try reader.double("compress_rope_theta", default: 160000),
            ropeFactor: try ropeReader.double("factor", default: 1),
            originalSeqLen: try ropeReader.int("original_max_position_embeddings", default: 0),
            betaFast: try ropeReader.double("beta_fast", default: 32),
            betaSlow: try ropeReader.double("beta_slow", default: 1),
            maxPositionEmbeddings: try reader.int("max_position_embeddings", default: 1 << 20),
            expertDType: try reader.enumValue("expert_dtype", default: .fp8),
            bosTokenId: try reader.int("bos_token_id", default: 0),
            eosTokenId: try reader.int("eos_token_id", default: 1))
        if let quant = try reader.object("quantization_config", required: false) {
            let q = KeyReader(keys: quant, fail: { fail("quantization_config: " + $0) })
            if let fmt = try q.string("fmt", required: false), fmt != "e4m3" { throw fail("quantization_config.fmt '\(fmt)' is not supported (only e4m3)") }
            if let fmt = try q.string("scale_fmt", required: false), fmt != "ue8m0" { throw fail("quantization_config.scale_fmt '\(fmt)' is not supported (only ue8m0)") }
            if let block = try q.intArray("weight_block_size", required: false), block != [128, 128] {
                throw fail("quantization_config.weight_block_size \(block) is not supported (only [128, 128])")
            }
        }
        do { try validate() } catch { throw fail(error.message) }
    }
}

/// Typed access to a JSON object's keys, with errors that name the key.
private struct KeyReader {
    let keys: [String: Any]
    let fail: (String) -> ConfigError

    func number(_ key: String) throws(ConfigError) -> NSNumber? {
        guard let v = keys[key], !(v is NSNull) else { return nil }
        // objCType "c" marks a JSON boolean, which NSNumber would otherwise accept as 0/1.
        guard let n = v as? NSNumber, String(cString: n.objCType) != "c" else { throw fail("'\(key)' must be a number") }
        return n
    }

    func int(_ key: String, default fallback: Int? = nil) throws(ConfigError) -> Int {
        guard let n = try number(key) else {
            if let fallback { return fallback }
            throw fail("missing required key '\(key)'")
        }
        let d = n.doubleValue
        guard d == d.rounded(), abs(d) < 1e15 else { throw fail("'\(key)' must be an integer, got \(n)") }
        return Int(d)
    }

    func double(_ key: String, default fallback: Double) throws(ConfigError) -> Double {
        try number(key)?.doubleValue ?? fallback
    }

    func string(_ key: String, required: Bool) throws(ConfigError) -> String? {
        guard let v = keys[key], !(v is NSNull) else {
            if required { throw fail("missing required key '\(key)'") }
            return nil
        }
        guard let s = v as? String else { throw fail("'\(key)' must be a string") }
        return s
    }

    func enumValue<E: RawRepresentable>(_ key: String, default fallback: E) throws(ConfigError) -> E where E.RawValue == String {
        guard let s = try string(key, required: false) else { return fallback }
        guard let e = E(rawValue: s) else { throw fail("'\(key)' has unsupported value '\(s)'") }
        return e
    }

    func intArray(_ key: String, required: Bool = true) throws(ConfigError) -> [Int]? {
        guard let v = keys[key], !(v is NSNull) else {
            if required { throw fail("missing required key '\(key)'") }
            return nil
        }
        guard let a = v as? [Any] else { throw fail("'\(key)' must be an array of integers") }
        return try a.map { e throws(ConfigError) in
            guard let n = e as? NSNumber, n.doubleValue == n.doubleValue.rounded() else { throw fail("'\(key)' must be an array of integers") }
            return n.intValue
        }
    }

    func intArray(_ key: String) throws(ConfigError) -> [Int] { try intArray(key, required: true)! }

    func object(_ key: String, required: Bool) throws(ConfigError) -> [String: Any]? {
        guard let v = keys[key], !(v is NSNull) else {
            if required { throw fail("missing required key '\(key)'") }
            return nil
        }
        guard let o = v as? [String: Any] else { throw fail("'\(key)' must be an object") }
        return o
    }
}
