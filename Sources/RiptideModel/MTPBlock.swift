import RiptideKernels

/// The multi-token-prediction block (spec §8): combines the main model's final streams at
/// position t with the embedding of token t+1 and predicts token t+2 (draft logits).
struct MTPBlock {
    let block: Block
    let eProj: WeightMatrix, hProj: WeightMatrix
    let enorm: [Float], hnorm: [Float], norm: [Float]
    let hcHead: HyperConnection

    init(_ w: WeightLoader, prefix p: String, layer: Int) throws {
        block = try Block(w, prefix: p, layer: layer)
        eProj = try w.fp8Weight(p + "e_proj")
        hProj = try w.fp8Weight(p + "h_proj")
        enorm = try w.floats(p + "enorm.weight")
        hnorm = try w.floats(p + "hnorm.weight")
        norm = try w.floats(p + "norm.weight")
        hcHead = HyperConnection(fn: try w.matrix(p + "hc_head_fn"), scale: try w.floats(p + "hc_head_scale"), base: try w.floats(p + "hc_head_base"))
    }
}

extension Transformer {
    /// Draft logits from MTP block 0 for one sequence: `streams` are the main model's final
    /// streams [S, hc, D] at positions state.mtpPosition..., `nextTokens` [S] the tokens that follow
    /// them. Returns the logits of the last position (a guess at the token after the last of
    /// `nextTokens`).
    public func draftLogits(state: SequenceState, streams: [Float], nextTokens: [Int]) throws -> [Float] {
        guard let mtp = mtp.first else { throw RiptideModelError.invalidInput("this model has no MTP block") }
        guard !state.mtpLayers.isEmpty else { throw RiptideModelError.invalidInput("this sequence was made without MTP state") }
        let dim = config.dim, hcCount = config.hcMult, s = nextTokens.count
        guard streams.count == s * hcCount * dim else { throw RiptideModelError.invalidInput("streams and next tokens disagree in length") }
        if let bad = nextTokens.first(where: { !(0..<config.vocabSize).contains($0) }) {
            throw RiptideModelError.invalidInput("token id \(bad) is outside the vocabulary")
        }
        let eps = Float(config.normEps)
        var e = [Float](repeating: 0, count: s * dim)
        e.withUnsafeMutableBufferPointer { p in for (i, id) in nextTokens.enumerated() { embed.dequantizeRow(id, into: p.baseAddress! + i * dim) } }
        rmsNormRows(&e, width: dim, weight: mtp.enorm, eps: eps)
        var hn = streams
        rmsNormRows(&hn, width: dim, weight: mtp.hnorm, eps: eps)
        let ep = quantizedLinear(mtp.eProj, e, count: s)
        let hp = quantizedLinear(mtp.hProj, hn, count: s * hcCount)
        var x = [Float](repeating: 0, count: s * hcCount * dim)
        for i in 0..<s { for j in 0..<hcCount { for c in 0..<dim {
            x[(i * hcCount + j) * dim + c] = roundBF16(ep[i * dim + c] + hp[(i * hcCount + j) * dim + c])
        } } }
        let start = state.mtpPosition
        let segment = Segment(rows: 0..<s, startPosition: start, incremental: start > 0)
        x = mtp.block.forward(x, tokens: nextTokens, positions: Array(start..<(start + s)), segments: [segment], states: [state.mtpLayers[0]])
        state.mtpPosition += s
        return logits(lastStreams: [x.suffix(hcCount * dim)], hcHead: mtp.hcHead, norm: mtp.norm)
    }
}
