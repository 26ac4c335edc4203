/// Stop strings over a stream of text deltas. Each `feed` returns the text that is safe to emit now:
/// it holds back the longest tail that is still a proper prefix of some stop string, so a stop split
/// across deltas is never half-emitted. When a stop completes, `feed` returns the text before it and
/// which stop it was; the stop itself and anything after are dropped, and later feeds return nothing.
///
/// Matching is on Unicode scalars (code points, as vLLM and SGLang match Python strings), so it is
/// exact for CJK, emoji and ZWJ sequences and never depends on grapheme clustering, which can change
/// as later scalars arrive. The outcome does not depend on how the text is split into deltas: the
/// first stop to complete wins (the one ending earliest; of those ending together, the longest),
/// exactly as if the text were fed one scalar at a time.
public struct StopStringMatcher: Sendable {
    public struct Output: Sendable, Equatable {
        /// Text to emit now (possibly empty).
        public var text: String
        /// The stop string that just completed, if any; generation should end.
        public var matchedStop: String?
    }

    /// Non-empty, distinct stops, as scalars and as given.
    private let stops: [(scalars: [Unicode.Scalar], string: String)]
    private let longestStop: Int
    /// Text received but not yet emitted: never contains a whole stop.
    private var held: [Unicode.Scalar] = []
    public private(set) var matchedStop: String?

    public init(stops: [String]) {
        var unique: [(scalars: [Unicode.Scalar], string: String)] = []
        for s in stops where !s.isEmpty {
            let scalars = Array(s.unicodeScalars)
            if !unique.contains(where: { $0.scalars == scalars }) { unique.append((scalars, s)) }
        }
        self.stops = unique
        longestStop = unique.map(\.scalars.count).max() ?? 0
    }

    public var isStopped: Bool { matchedStop != nil }

    /// The text currently held back (it might still begin a stop string).
    public var heldText: String { Self.string(held[...]) }

    public mutating func feed(_ delta: String) -> Output {
        guard matchedStop == nil else { return Output(text: "", matchedStop: nil) }
        if stops.isEmpty { return Output(text: delta, matchedStop: nil) }
        let old = held.count
        held.append(contentsOf: delta.unicodeScalars)
        // A match ending inside the old held text would have been found by an earlier feed.
        if held.count > old {
            for end in (old + 1)...held.count {
                guard let stop = longestStop(endingAt: end) else { continue }
                let text = Self.string(held[..<(end - stop.scalars.count)])
                held.removeAll()
                matchedStop = stop.string
                return Output(text: text, matchedStop: stop.string)
            }
        }
        let emit = held.count - pendingSuffixLength()
        let text = Self.string(held[..<emit])
        held.removeFirst(emit)
        return Output(text: text, matchedStop: nil)
    }

    /// Everything still held (the stream ended without completing a stop); empty after a stop.
    public mutating func finish() -> String {
        defer { held.removeAll() }
        return matchedStop == nil ? Self.string(held[...]) : ""
    }

    /// The longest stop equal to `held[end - count ..< end]`, if any.
    private func longestStop(endingAt end: Int) -> (scalars: [Unicode.Scalar], string: String)? {
        var best: (scalars: [Unicode.Scalar], string: String)?
        for stop in stops where stop.scalars.count <= end && stop.scalars.count > (best?.scalars.count ?? 0) {
            if held[(end - stop.scalars.count)..<end].elementsEqual(stop.scalars) { best = stop }
        }
        return best
    }

    /// Length of the longest tail of `held` that is a proper prefix of some stop: any later match
    /// must start inside it (a shorter candidate tail is a tail of this one).
    private func pendingSuffixLength() -> Int {
        var length = min(held.count, longestStop - 1)
        while length > 0 {
            let tail = held[(held.count - length)...]
            if stops.contains(where: { $0.scalars.count > length && $0.scalars.starts(with: tail) }) { return length }
            length -= 1
        }
        return 0
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
