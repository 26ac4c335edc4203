/// Named model shapes for `riptide init-model` (spec §9 and §1.1).
public enum ModelPreset: String, CaseIterable, Sendable {
    /// §9's tiny config with the real vocabulary: every code path, ~150 MB.
    case tiny
    /// §9's real-constants variant: window 128, ratios [0, 4, 128, 4, 0], index_topk 8.
    case tinyReal = "tiny-real"
    /// `tiny` with swiglu_limit 1 and index_topk 2, so the SwiGLU clamp and top-k ties fire often.
    case tinyStress = "tiny-stress"
    /// V4-Flash's real layer shapes plus MTP; `layers` and `experts` shrink it to fit in memory.
    case flash

    /// The config for this preset. `layers` (flash only) keeps the first N layers of the Flash
    /// pattern 0, 0, 4, 128, 4, …; `experts` keeps fewer routed experts per layer.
    public func config(layers: Int? = nil, experts: Int? = nil) -> ModelConfig {
        var c = switch self {
        case .tiny, .tinyStress: Self.tinyConfig
        case .tinyReal: Self.tinyRealConfig
        case .flash: Self.flashConfig(layers: layers ?? 43)
        }
        if self == .tinyStress {
            c.swigluLimit = 1
            c.indexTopK = 2
        }
        if let experts {
            c.nRoutedExperts = experts
            c.nActivatedExperts = min(c.nActivatedExperts, experts)
        }
        return c
    }

    static let tinyConfig = ModelConfig(
        vocabSize: 129_280, dim: 256, nLayers: 4, nMTPLayers: 1, nHeads: 4, headDim: 128, ropeHeadDim: 64,
        qLoraRank: 128, oGroups: 2, oLoraRank: 128, windowSize: 8, compressRatios: [0, 4, 16, 4, 0],
        indexNHeads: 4, indexHeadDim: 128, indexTopK: 4, nRoutedExperts: 8, nSharedExperts: 1,
        nActivatedExperts: 2, moeInterDim: 128, nHashLayers: 2, scoreFunc: .sqrtsoftplus, routeScale: 1.5,
        swigluLimit: 10, hcMult: 4, hcSinkhornIters: 20, hcEps: 1e-6, normEps: 1e-6, ropeTheta: 10000,
        compressRopeTheta: 160_000, ropeFactor: 16, originalSeqLen: 65536, betaFast: 32, betaSlow: 1,
        maxPositionEmbeddings: 1 << 20, expertDType: .fp4, bosTokenId: 0, eosTokenId: 1)

    static var tinyRealConfig: ModelConfig {
        var c = tinyConfig
        c.windowSize = 128
        c.compressRatios = [0, 4, 128, 4, 0]
        c.indexTopK = 8
        return c
    }

    static func flashConfig(layers: Int) -> ModelConfig {
        let fullPattern = [0, 0] + Array(repeating: [4, 128], count: 20).flatMap { $0 } + [4]
        let pattern = (0..<layers).map { $0 < fullPattern.count ? fullPattern[$0] : ($0 % 2 == 0 ? 4 : 128) }
        return ModelConfig(
            vocabSize: 129_280, dim: 4096, nLayers: layers, nMTPLayers: 1, nHeads: 64, headDim: 512, ropeHeadDim: 64,
            qLoraRank: 1024, oGroups: 8, oLoraRank: 1024, windowSize: 128, compressRatios: pattern + [0],
            indexNHeads: 64, indexHeadDim: 128, indexTopK: 512, nRoutedExperts: 256, nSharedExperts: 1,
            nActivatedExperts: 6, moeInterDim: 2048, nHashLayers: min(3, layers), scoreFunc: .sqrtsoftplus, routeScale: 1.5,
            swigluLimit: 10, hcMult: 4, hcSinkhornIters: 20, hcEps: 1e-6, normEps: 1e-6, ropeTheta: 10000,
            compressRopeTheta: 160_000, ropeFactor: 16, originalSeqLen: 65536, betaFast: 32, betaSlow: 1,
            maxPositionEmbeddings: 1 << 20, expertDType: .fp4, bosTokenId: 0, eosTokenId: 1)
    }
}
