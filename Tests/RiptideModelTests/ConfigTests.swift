import Foundation
import Testing
@testable import RiptideModel

func fixtureURL(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
}

/// Config JSON as a mutable dictionary, to make broken variants of a good config.
func configJSON(_ name: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL(name))) as! [String: Any]
}

func parse(_ dict: [String: Any]) throws -> ModelConfig {
    try ModelConfig(json: JSONSerialization.data(withJSONObject: dict), file: "test/config.json")
}

@Test func flashConfig() throws {
    let c = try ModelConfig(contentsOf: fixtureURL("flash-config"))
    #expect(c.dim == 4096 && c.nLayers == 43 && c.nMTPLayers == 1 && c.nHeads == 64)
    #expect(c.indexTopK == 512 && c.nRoutedExperts == 256 && c.routeScale == 1.5)
    #expect(c.ropeFactor == 16 && c.originalSeqLen == 65536 && c.betaFast == 32 && c.betaSlow == 1)
    #expect(c.compressRatios.count == 44)
    #expect(c.layerKind(0) == .slidingWindow && c.layerKind(2) == .compressedSparse && c.layerKind(3) == .compressedAll(ratio: 128))
    #expect(c.layerKind(43) == .slidingWindow)  // MTP block
    #expect(c.isHashRouted(2) && !c.isHashRouted(3))
    #expect(c.expertDType == .fp4 && c.scoreFunc == .sqrtsoftplus && c.swigluLimit == 10)
}

@Test func proConfig() throws {
    let c = try ModelConfig(contentsOf: fixtureURL("pro-config"))
    #expect(c.dim == 7168 && c.nLayers == 61 && c.nHeads == 128 && c.oGroups == 16 && c.indexTopK == 1024)
    #expect(c.layerKind(0) == .compressedAll(ratio: 128) && c.layerKind(60) == .compressedSparse && c.layerKind(61) == .slidingWindow)
}

@Test func laterVariantsAreRefused() throws {
    for key in ["dspark_num_stages", "engram_layers", "kv_source_layers"] {
        var dict = try configJSON("flash-config")
        dict[key] = 1
        let error = #expect(throws: ConfigError.self) { try parse(dict) }
        #expect(error?.message.contains(key) == true)
        #expect(error?.file == "test/config.json")
    }
}

@Test func invalidConfigsNameTheProblem() throws {
    let cases: [(String, Any?, String)] = [
        ("hidden_size", nil, "missing required key 'hidden_size'"),
        ("hidden_size", "4096", "'hidden_size' must be a number"),
        ("hidden_size", true, "'hidden_size' must be a number"),
        ("hidden_size", 4000, "hidden_size = 4000 must be a multiple of 128"),
        ("q_lora_rank", 1000, "q_lora_rank = 1000 must be a multiple of 128"),
        ("moe_intermediate_size", 2000, "moe_intermediate_size = 2000 must be a multiple of 128"),
        ("num_attention_heads", 2.5, "'num_attention_heads' must be an integer"),
        ("compress_ratios", [0, 4], "'compress_ratios' has 2 entries"),
        ("index_head_dim", 96, "index_head_dim = 96 must be a power of two"),
        ("qk_rope_head_dim", 96, "must be a multiple of 64"),
        ("hc_mult", 2, "only 4 residual streams"),
        ("num_experts_per_tok", 300, "exceeds n_routed_experts"),
        ("scoring_func", "relu", "'scoring_func' has unsupported value 'relu'"),
        ("quantization_config", ["fmt": "e5m2"], "quantization_config.fmt 'e5m2' is not supported"),
    ]
    for (key, value, expected) in cases {
        var dict = try configJSON("flash-config")
        dict[key] = value
        let error = #expect(throws: ConfigError.self, "\(key) = \(String(describing: value))") { try parse(dict) }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error") should contain \(expected)")
    }
    #expect(throws: ConfigError.self) { try ModelConfig(json: Data("[1]".utf8)) }
    #expect(throws: ConfigError.self) { try ModelConfig(contentsOf: URL(fileURLWithPath: "/nonexistent/config.json")) }
}
