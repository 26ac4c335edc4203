import ArgumentParser
import Foundation
import RiptideCheckpoint
import RiptideModel

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a model directory's config and every tensor, with totals by dtype.",
        discussion: "Reads config.json and the safetensors weights (single file or sharded with model.safetensors.index.json) and checks them against the tensor layout the config implies.")

    @Argument(help: "A Hugging Face model directory (config.json + safetensors).")
    var modelDir: String

    @Flag(help: "Print only the config, the totals and the layout check, not every tensor.")
    var summary = false

    func run() throws {
        let dir = URL(fileURLWithPath: modelDir)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("\(dir.path): no such directory")
        }
        let configURL = dir.appendingPathComponent("config.json")
        var config: ModelConfig?
        if FileManager.default.fileExists(atPath: configURL.path) {
            do {
                config = try ModelConfig(contentsOf: configURL)
            } catch {
                print("config: \(error)")
            }
        } else {
            print("config: no config.json in \(dir.path); listing tensors only")
        }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(directory: dir) } catch { throw CLIError(error.description) }
        if let config { printConfig(config, path: configURL.path) }

        let report = CheckpointReport(checkpoint: checkpoint, config: config)
        print("\ntensors: \(report.entries.count) in \(checkpoint.files.count) file(s)")
        if !summary {
            let width = min(72, report.entries.map(\.name.count).max() ?? 0)
            for e in report.entries {
                let shape = "[" + e.shape.map(String.init).joined(separator: ", ") + "]"
                print("  \(pad(e.name, width))  \(pad(e.dtype.rawValue, 7))  \(pad(shape, 16))  \(leftPad(String(e.bytes), 12)) B  \(e.file)")
            }
        }
        print("\ntotals by dtype:")
        print("  \(pad("dtype", 8))  \(leftPad("tensors", 8))  \(leftPad("parameters", 16))  \(leftPad("bytes", 16))")
        for t in report.totals {
            print("  \(pad(t.dtype.rawValue, 8))  \(leftPad(String(t.tensors), 8))  \(leftPad(String(t.parameters), 16))  \(leftPad(String(t.bytes), 16))  (\(humanBytes(t.bytes)))")
        }
        print("  \(pad("all", 8))  \(leftPad(String(report.entries.count), 8))  \(leftPad(String(report.totalParameters), 16))  \(leftPad(String(report.totalBytes), 16))  (\(humanBytes(report.totalBytes)))")

        if let mismatches = report.mismatches {
            if mismatches.isEmpty {
                print("\nlayout: every tensor matches the DeepSeek-V4 layout implied by config.json")
            } else {
                print("\nlayout: \(mismatches.count) difference(s) from the DeepSeek-V4 layout implied by config.json:")
                for m in mismatches.prefix(50) { print("  \(m)") }
                if mismatches.count > 50 { print("  … and \(mismatches.count - 50) more") }
            }
        }
    }

    private func printConfig(_ c: ModelConfig, path: String) {
        print("config: \(path)")
        for child in Mirror(reflecting: c).children {
            guard let label = child.label else { continue }
            print("  \(pad(label, 22)) \(child.value)")
        }
        let kinds = (0..<(c.nLayers + c.nMTPLayers)).map { i -> String in
            switch c.layerKind(i) {
            case .slidingWindow: "SWA"
            case .compressedSparse: "CSA"
            case .compressedAll(let r): "HCA\(r)"
            }
        }
        print("  layers: \(kinds.prefix(c.nLayers).joined(separator: " "))" + (c.nMTPLayers > 0 ? " | MTP: \(kinds.suffix(c.nMTPLayers).joined(separator: " "))" : ""))
    }
}
