/// Incremental splitter for DeepSeek-V4 completions (spec §7.1): feed decoded text in chunks of
/// any size, including ones that cut a marker in half, and get typed events back.
///
/// Why bytes: markers are matched on UTF-8 bytes, not `Character`s, because a grapheme can
/// straddle a marker boundary (`"\r"` + `"\n\n<｜DSML｜…"`, or a combining mark after `</think>`).
/// Every marker starts with an ASCII byte, so cutting in front of one never splits a scalar.
public struct DSV4CompletionStream: Sendable {
    public let thinkingMode: ThinkingMode
    /// Every issue reported so far, in order.
    public private(set) var issues: [String] = []

    private enum Phase: Sendable, Equatable {
        case reasoning, content
        /// Plain content until EOS, after broken tool-call markup (no further markup parsing).
        case rawContent
        /// At `\n\n<｜DSML｜tool_calls>\n`.
        case blockOpen
        /// At `<｜DSML｜invoke name="…">\n` or `</｜DSML｜tool_calls>`.
        case betweenInvokes
        /// At `<｜DSML｜parameter name="…" string="…">` or `</｜DSML｜invoke>\n`.
        case invokeBody
        /// Inside a parameter value, until `</｜DSML｜parameter>\n`.
        case parameterValue(isString: Bool)
        /// After `</｜DSML｜tool_calls>`: only EOS (or the end) may follow.
        case afterToolCalls
        case done
    }

    private var phase: Phase
    private var buffer: [UInt8] = []
    /// Everything before `position` has been turned into events.
    private var position = 0
    private var callCount = 0
    private var parameterNames: Set<String> = []
    private var parameterCount = 0
    private var ignoredTrailingText = false
    /// Where the current tool-call block began, until its first call is reported: broken markup
    /// before that point falls back to content from the block start (nothing to take back yet).
    private var blockStart: Int?

    public init(thinkingMode: ThinkingMode) {
        self.thinkingMode = thinkingMode
        self.phase = thinkingMode == .thinking ? .reasoning : .content
    }

    /// Feeds the next piece of generated text.
    public mutating func feed(_ text: String) -> [ChatStreamEvent] {
        buffer.append(contentsOf: text.utf8)
        var events: [ChatStreamEvent] = []
        while step(&events) {}
        let keep = min(position, blockStart ?? position)
        if keep > 4096 && keep * 2 > buffer.count {
            buffer.removeFirst(keep)
            position -= keep
            blockStart = blockStart.map { $0 - keep }
        }
        return events
    }

    /// Ends the stream (generation stopped). Text held back as a possible marker prefix is
    /// released, and an unfinished reasoning, content or tool-call block is reported.
    public mutating func finish() -> [ChatStreamEvent] {
        var events: [ChatStreamEvent] = []
        while step(&events) {}
        let rest = String(decoding: buffer[position...], as: UTF8.self)
        position = buffer.count
        switch phase {
        case .reasoning:
            if !rest.isEmpty { events.append(.reasoning(rest)) }
            report("missing </think>: the output ended inside the reasoning", &events)
        case .content, .rawContent:
            if !rest.isEmpty { events.append(.content(rest)) }
            report("missing end-of-sentence token", &events)
        case .blockOpen, .betweenInvokes, .invokeBody, .parameterValue:
            report("the output ended inside a tool-call block", &events)
        case .afterToolCalls:
            // Like the reference, a tool-call block may end the text without EOS, but nothing else
            // may follow it (a partial EOS is text: tokens arrive whole).
            if !rest.isEmpty {
                report("unexpected text after the tool calls", &events)
                events.append(.content(rest))
            }
        case .done:
            break
        }
        phase = .done
        return events
    }

    // MARK: - State machine

    /// Advances by one item; false when more input is needed.
    private mutating func step(_ events: inout [ChatStreamEvent]) -> Bool {
        switch phase {
        case .reasoning:
            guard let (marker, at) = scanText([M.thinkEnd, M.toolCallsStart, M.eos], into: &events, as: .reasoning)
            else { return false }
            switch marker {
            case 0:
                position = at + M.thinkEnd.count
                phase = .content
            case 1:
                report("missing </think> before the tool calls", &events)
                position = at
                blockStart = at
                phase = .blockOpen
            default:
                report("missing </think> before the end-of-sentence token", &events)
                position = at + M.eos.count
                events.append(.endOfSequence)
                phase = .done
            }
            return true

        case .content, .rawContent:
            let markers = phase == .content ? [M.eos, M.toolCallsStart] : [M.eos]
            guard let (marker, at) = scanText(markers, into: &events, as: .content) else { return false }
            if marker == 0 {
                position = at + M.eos.count
                events.append(.endOfSequence)
                phase = .done
            } else {
                position = at
                blockStart = at
                phase = .blockOpen
            }
            return true

        case .blockOpen:
            switch matchLiteral(M.blockOpen) {
            case .needMore: return false
            case .mismatch: return malformed("expected '>\\n' after <｜DSML｜tool_calls", &events)
            case .matched:
                position += M.blockOpen.count
                phase = .betweenInvokes
                return true
            }

        case .betweenInvokes:
            let close = matchLiteral(M.toolCallsEnd)
            if close == .matched {
                position += M.toolCallsEnd.count
                phase = .afterToolCalls
                return true
            }
            let open = matchLiteral(M.invokeOpen)
            if open == .matched { return invokeHeader(&events) }
            if close == .needMore || open == .needMore { return false }
            return malformed("expected <｜DSML｜invoke or </｜DSML｜tool_calls>", &events)

        case .invokeBody:
            let close = matchLiteral(M.invokeClose)
            if close == .matched {
                events.append(.toolCallArguments(index: callCount - 1, fragment: parameterCount == 0 ? "{}" : "}"))
                events.append(.toolCallEnd(index: callCount - 1))
                position += M.invokeClose.count
                phase = .betweenInvokes
                return true
            }
            let open = matchLiteral(M.parameterOpen)
            if open == .matched { return parameterHeader(&events) }
            if close == .needMore || open == .needMore { return false }
            return malformed("expected <｜DSML｜parameter or </｜DSML｜invoke>", &events)

        case .parameterValue(let isString):
            return parameterValue(isString: isString, &events)

        case .afterToolCalls:
            switch matchLiteral(M.eos) {
            case .needMore: return false
            case .matched:
                position += M.eos.count
                events.append(.endOfSequence)
                phase = .done
            case .mismatch:
                report("unexpected text after the tool calls", &events)
                phase = .rawContent
            }
            return true

        case .done:
            if position < buffer.count && !ignoredTrailingText {
                ignoredTrailingText = true
                report("text after the end-of-sentence token was ignored", &events)
            }
            position = buffer.count
            return false
        }
    }

    /// `<｜DSML｜invoke` + ` name="NAME">\n` up to the next parameter or invoke end. Like the
    /// reference, leading whitespace and one extra newline (zero-parameter invokes) are allowed.
    private mutating func invokeHeader(_ events: inout [ChatStreamEvent]) -> Bool {
        let start = position + M.invokeOpen.count
        guard let (_, end) = firstMarker([M.parameterOpen, M.invokeCloseMarker], from: start) else { return false }
        var header = Array(buffer[start..<end])
        while let first = header.first, [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains(first) { header.removeFirst() }
        let suffixLength = header.ends(with: M.nameEndBlank) ? M.nameEndBlank.count : M.nameEnd.count
        guard header.starts(with: M.namePrefix), header.ends(with: M.nameEnd) || header.ends(with: M.nameEndBlank),
            header.count >= M.namePrefix.count + suffixLength
        else { return malformed("malformed <｜DSML｜invoke header", &events) }
        let name = String(decoding: header[M.namePrefix.count..<(header.count - suffixLength)], as: UTF8.self)
        events.append(.toolCallStart(index: callCount, name: name))
        blockStart = nil
        callCount += 1
        parameterNames = []
        parameterCount = 0
        position = end
        phase = .invokeBody
        return true
    }

    /// `<｜DSML｜parameter name="KEY" string="true|false">`: emits the key part of the arguments.
    private mutating func parameterHeader(_ events: inout [ChatStreamEvent]) -> Bool {
        let start = position + M.parameterOpen.count
        guard let (marker, at) = firstMarker([M.stringTrue, M.stringFalse, M.parameterEnd], from: start) else {
            return false
        }
        let header = buffer[start..<at]
        guard marker < 2, header.starts(with: M.parameterNamePrefix) else {
            return malformed("malformed <｜DSML｜parameter header", &events)
        }
        let key = String(decoding: header.dropFirst(M.parameterNamePrefix.count), as: UTF8.self)
        if !parameterNames.insert(key).inserted {
            report("duplicate parameter '\(key)'", &events)
        }
        let isString = marker == 0
        let opening = (parameterCount == 0 ? "{" : ", ") + PythonJSONWriter.quoted(key) + ": "
        parameterCount += 1
        events.append(.toolCallArguments(index: callCount - 1, fragment: opening + (isString ? "\"" : "")))
        position = at + (isString ? M.stringTrue : M.stringFalse).count
        phase = .parameterValue(isString: isString)
        return true
    }

    /// Streams a value until `</｜DSML｜parameter>\n`: JSON-escaped when string="true", spliced
    /// as-is (not validated, like the reference) when string="false".
    private mutating func parameterValue(isString: Bool, _ events: inout [ChatStreamEvent]) -> Bool {
        func emit(_ end: Int) {
            guard end > position else { return }
            let raw = String(decoding: buffer[position..<end], as: UTF8.self)
            events.append(.toolCallArguments(
                index: callCount - 1, fragment: isString ? PythonJSONWriter.escapedBody(raw) : raw))
            position = end
        }
        guard let at = find(M.parameterEnd, from: position) else {
            // Hold back a possible `</｜DSML｜parameter` and also a bare `/｜DSML｜parameter` (an
            // error), so chunked and whole input break at the same byte.
            emit(buffer.count - heldBack([M.parameterClosePrefix, M.parameterEnd, M.parameterCloseQuirk]))
            return false
        }
        // The reference's `<$` pattern also accepts "<\n" before `/｜DSML｜parameter`.
        let lt = UInt8(ascii: "<")
        let closeStart: Int
        if at > position && buffer[at - 1] == lt {
            closeStart = at - 1
        } else if at > position + 1 && buffer[at - 2] == lt && buffer[at - 1] == 0x0A {
            closeStart = at - 2
        } else {
            emit(at)
            return malformed("parameter value not closed by </｜DSML｜parameter>", &events)
        }
        emit(closeStart)
        let after = at + M.parameterEnd.count
        guard buffer.count >= after + 2 else { return false }
        guard buffer[after] == UInt8(ascii: ">"), buffer[after + 1] == 0x0A else {
            return malformed("expected '>\\n' after </｜DSML｜parameter", &events)
        }
        if isString { events.append(.toolCallArguments(index: callCount - 1, fragment: "\"")) }
        position = after + 2
        phase = .invokeBody
        return true
    }

    // MARK: - Helpers

    private enum TextKind { case reasoning, content }

    /// Emits text up to the earliest marker and returns (marker index, marker offset); without a
    /// marker, emits all but a tail that could still grow into one, and returns nil.
    private mutating func scanText(
        _ markers: [[UInt8]], into events: inout [ChatStreamEvent], as kind: TextKind
    ) -> (Int, Int)? {
        let found = firstMarker(markers, from: position)
        let end = found?.1 ?? buffer.count - heldBack(markers)
        if end > position {
            let text = String(decoding: buffer[position..<end], as: UTF8.self)
            events.append(kind == .reasoning ? .reasoning(text) : .content(text))
            position = end
        }
        return found
    }

    private mutating func malformed(_ why: String, _ events: inout [ChatStreamEvent]) -> Bool {
        report(why + "; the rest is treated as content", &events)
        if let start = blockStart { position = start }
        blockStart = nil
        phase = .rawContent
        return true
    }

    private mutating func report(_ issue: String, _ events: inout [ChatStreamEvent]) {
        issues.append(issue)
        events.append(.formatIssue(issue))
    }

    private enum LiteralMatch { case matched, needMore, mismatch }

    private func matchLiteral(_ literal: [UInt8]) -> LiteralMatch {
        let n = min(literal.count, buffer.count - position)
        guard buffer[position..<position + n].elementsEqual(literal[0..<n]) else { return .mismatch }
        return n == literal.count ? .matched : .needMore
    }

    private func find(_ marker: [UInt8], from start: Int) -> Int? {
        guard let first = marker.first, buffer.count >= marker.count else { return nil }
        var i = start
        while i + marker.count <= buffer.count {
            if buffer[i] == first && buffer[i..<i + marker.count].elementsEqual(marker) { return i }
            i += 1
        }
        return nil
    }

    /// The earliest occurrence of any marker. (None of the marker sets used here can overlap in a
    /// way that lets a later-completed marker start before an already-found one.)
    private func firstMarker(_ markers: [[UInt8]], from start: Int) -> (Int, Int)? {
        var best: (Int, Int)?
        for (n, marker) in markers.enumerated() {
            if let at = find(marker, from: start), best == nil || at < best!.1 { best = (n, at) }
        }
        return best
    }

    /// Length of the longest buffer tail (after `position`) that is a proper prefix of a marker.
    private func heldBack(_ markers: [[UInt8]]) -> Int {
        let available = buffer.count - position
        let longest = min(available, (markers.map(\.count).max() ?? 1) - 1)
        for k in stride(from: longest, to: 0, by: -1) {
            let tail = buffer[(buffer.count - k)...]
            if markers.contains(where: { $0.count > k && $0[0..<k].elementsEqual(tail) }) { return k }
        }
        return 0
    }

    /// Markers as UTF-8 bytes.
    private enum M {
        static let thinkEnd = Array(DSV4ChatTokens.thinkEnd.utf8)
        static let eos = Array(DSV4ChatTokens.eos.utf8)
        static let toolCallsStart = Array(DSV4ChatTokens.toolCallsStart.utf8)
        static let blockOpen = Array((DSV4ChatTokens.toolCallsStart + ">\n").utf8)
        static let toolCallsEnd = Array(DSV4ChatTokens.toolCallsEnd.utf8)
        static let invokeOpen = Array("<｜DSML｜invoke".utf8)
        static let invokeCloseMarker = Array("</｜DSML｜invoke".utf8)
        static let invokeClose = Array("</｜DSML｜invoke>\n".utf8)
        static let parameterOpen = Array("<｜DSML｜parameter".utf8)
        static let parameterEnd = Array("/｜DSML｜parameter".utf8)
        static let parameterClosePrefix = Array("</｜DSML｜parameter".utf8)
        static let parameterCloseQuirk = Array("<\n/｜DSML｜parameter".utf8)
        static let namePrefix = Array("name=\"".utf8)
        static let nameEnd = Array("\">\n".utf8)
        static let nameEndBlank = Array("\">\n\n".utf8)
        static let parameterNamePrefix = Array(" name=\"".utf8)
        static let stringTrue = Array("\" string=\"true\">".utf8)
        static let stringFalse = Array("\" string=\"false\">".utf8)
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
