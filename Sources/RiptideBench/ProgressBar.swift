import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr, drawn only when stderr is a terminal (never in logs/CI).
public struct ProgressBar {
    let total: Int
    let title: String
    let enabled: Bool
    private var done = 0
    private var lastDraw: UInt64 = 0

    public init(total: Int, title: String, enabled: Bool = isatty(STDERR_FILENO) != 0) {
        self.total = total; self.title = title; self.enabled = enabled
    }

    public mutating func advance(failed: Int = 0) {
        done += 1
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        // Redraw at most ~20×/s so the bar never costs the client measurable time.
        guard done == total || now - lastDraw > 50_000_000 else { return }
        lastDraw = now
        let width = 30
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let failNote = failed > 0 ? " (\(failed) failed)" : ""
        FileHandle.standardError.write(Data("\r\(title) [\(bar)] \(done)/\(total)\(failNote)".utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
