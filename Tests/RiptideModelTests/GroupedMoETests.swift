import Testing
import RiptideKernels
@testable import RiptideModel

/// The grouped expert path (one pool job for all of a layer's w1/w3, one for w2) against each
/// expert applied on its own rows, combined in ascending expert id and shared last: bit for bit,
/// on every layer of tiny (hash and score routing) and tiny-stress (the clamp at work), across a
/// chunk boundary of the grouped path.
@Test(arguments: ["tiny", "tiny-stress"])
func groupedExpertsMatchOneExpertAtATime(preset: String) {
    let model = ReferenceModels.model(preset, kernels: .fast)
    let dim = model.config.dim, k = model.config.nActivatedExperts
    for (layer, block) in model.layers.enumerated() {
        let moe = block.moe
        #expect(moe.experts.allSatisfy(\.isPacked) && moe.shared?.isPacked != false, "the fast model packs every expert")
        for t in [1, 5, MoE.groupedChunkTokens + 9] {
            var seed: UInt64 = UInt64(17 + layer * 31 + t)
            func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
            let x = (0..<(t * dim)).map { _ in roundBF16(Float(Int(next() % 2001) - 1000) / 400) }
            let tokens = (0..<t).map { _ in Int(next()) % model.config.vocabSize }
            let grouped = moe.forward(x, tokens: tokens)

            let (weights, ids) = moe.route(x, tokens: tokens)
            var y = [Float](repeating: 0, count: t * dim)
            for e in Set(ids).sorted() {
                var rows: [Int] = [], rowWeights: [Float] = []
                for i in 0..<t { for s in 0..<k where ids[i * k + s] == e { rows.append(i); rowWeights.append(weights[i * k + s]) } }
                let input = rows.flatMap { x[($0 * dim)..<(($0 + 1) * dim)] }
                let out = moe.experts[e].apply(input, count: rows.count, routeWeights: rowWeights)
                for (n, r) in rows.enumerated() { for c in 0..<dim { y[r * dim + c] += out[n * dim + c] } }
            }
            if let shared = moe.shared {
                let out = shared.apply(x, count: t, routeWeights: nil)
                for i in 0..<(t * dim) { y[i] += out[i] }
            }
            let alone = y.map(roundBF16)
            let differing = zip(grouped, alone).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(preset) layer \(layer), \(t) tokens: \(differing) of \(alone.count) outputs differ")
        }
    }
}
