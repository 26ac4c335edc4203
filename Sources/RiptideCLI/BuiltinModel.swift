import Foundation
import RiptideCheckpoint
import RiptideModel
import RiptideTokenizer

/// The built-in model: a `tiny` synthetic checkpoint written on first use into a cache folder
/// (`$RIPTIDE_CACHE`, else `$XDG_CACHE_HOME/riptide`, else `~/.cache/riptide`) and reused after.
enum BuiltinModel {
    static let preset = ModelPreset.tiny
    static let seed: UInt64 = 0

    static var cacheDirectory: URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["RIPTIDE_CACHE"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("riptide") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/riptide")
    }

    /// The directory of the built-in checkpoint, writing it first if it is not there yet.
    static func directory() throws -> URL {
        let dir = cacheDirectory.appendingPathComponent("builtin-\(preset.rawValue)-seed\(seed)")
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent(Checkpoint.indexFileName).path) { return dir }
        try FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
        // Write into a scratch folder and rename, so an interrupted first run leaves nothing half-written.
        let scratch = cacheDirectory.appendingPathComponent(".writing-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        FileHandle.standardError.write(Data("riptide: writing the built-in \(preset.rawValue) model to \(dir.path) (first run only)\n".utf8))
        try writeSyntheticCheckpoint(config: preset.config(), seed: seed, to: scratch, shardBytes: 2048 << 20)
        do {
            try FileManager.default.moveItem(at: scratch, to: dir)
        } catch where FileManager.default.fileExists(atPath: dir.path) {
            // Another process finished first; use its copy.
        }
        return dir
    }
}

/// config.json, tokenizer.json and sharded safetensors for a synthetic model, in the official layout.
func writeSyntheticCheckpoint(config: ModelConfig, seed: UInt64, to dir: URL, shardBytes: Int) throws {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try config.huggingFaceJSON().write(to: dir.appendingPathComponent("config.json"))
    try FileManager.default.copyItem(at: BundledTokenizer.url, to: dir.appendingPathComponent("tokenizer.json"))
    let weights = SyntheticWeights(config: config, seed: seed)
    try SafetensorsWriter.writeSharded(config.expectedTensors, to: dir, maxShardBytes: shardBytes, metadata: ["format": "pt"],
                                       produce: weights.prefetchingProducer(for: config.expectedTensors))
}
