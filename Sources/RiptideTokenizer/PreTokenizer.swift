/// The DeepSeek-V4 pre-tokenizer: three regex `Split`s (behavior Isolated) applied in sequence,
/// each to the pieces the previous one produced, hand-written as scanners over Unicode scalars.
///
///   1. `\p{N}{1,3}`                       digit runs, chunked in threes
///   2. `[一-龥぀-ゟ゠-ヿ]+`                    CJK ideograph / kana runs
///   3. `[!-/:-@\[-`{-~][A-Za-z]+ | [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ | ?[\p{P}\p{S}]+[\r\n]*
///      | \s*[\r\n]+ | \s+(?!\S) | \s+`
///
/// "Isolated" means every match becomes its own piece and so does every gap between matches.
/// A regex never sees past the end of its piece, so `(?!\S)` succeeds at a piece's end.
/// (The final ByteLevel step with use_regex=false only remaps bytes; BPE works on raw bytes.)
final class PreTokenizer {
    // Per scalar of the current segment: value, class bits, byte offset (offsets[n] = end).
    private var capacity = 0
    private var scalars = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private var classes = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    private var offsets = UnsafeMutablePointer<Int>.allocate(capacity: 1)

    deinit { scalars.deallocate(); classes.deallocate(); offsets.deallocate() }

    /// Drops buffers grown for a very long text (over 4M bytes; 13 bytes per input byte) so a pooled
    /// scratch does not pin them.
    func shrinkIfLarge() {
        guard capacity > 1 << 22 else { return }
        scalars.deallocate(); classes.deallocate(); offsets.deallocate()
        capacity = 0
        scalars = .allocate(capacity: 1); classes = .allocate(capacity: 1); offsets = .allocate(capacity: 1)
    }

    /// Calls `emit(start, end)` with the byte range of every final piece of `text[range]`.
    func split(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ emit: (Int, Int) -> Void) {
        let n = decode(text, range)
        let o = offsets
        let scan = Scanner(s: scalars, c: classes)
        scan.digits(0, n) { a, b in
            scan.cjk(a, b) { a, b in
                scan.words(a, b) { a, b in emit(o[a], o[b]) }
            }
        }
    }

    /// UTF-8 → scalar values, their classes and byte offsets. The input is a Swift string's UTF-8,
    /// hence valid, so no error handling is needed.
    private func decode(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        if range.count + 1 > capacity {  // at most one scalar per byte
            scalars.deallocate(); classes.deallocate(); offsets.deallocate()
            capacity = max(range.count + 1, 2 * capacity, 4096)
            scalars = .allocate(capacity: capacity)
            classes = .allocate(capacity: capacity)
            offsets = .allocate(capacity: capacity)
        }
        let bmp = ScalarClass.bmpTable
        var i = range.lowerBound
        let end = range.upperBound
        var n = 0
        while i < end {
            offsets[n] = i
            let b0 = UInt32(text[i])
            var v: UInt32
            if b0 < 0x80 {
                v = b0; i += 1
            } else if b0 < 0xE0 {
                v = (b0 & 0x1F) << 6 | UInt32(text[i + 1] & 0x3F); i += 2
            } else if b0 < 0xF0 {
                v = (b0 & 0x0F) << 12 | UInt32(text[i + 1] & 0x3F) << 6 | UInt32(text[i + 2] & 0x3F)
                i += 3
            } else {
                v = (b0 & 0x07) << 18 | UInt32(text[i + 1] & 0x3F) << 12
                    | UInt32(text[i + 2] & 0x3F) << 6 | UInt32(text[i + 3] & 0x3F)
                i += 4
            }
            scalars[n] = v
            classes[n] = v < 0x10000 ? bmp[Int(v)] : ScalarClass.compute(Unicode.Scalar(v) ?? "\u{FFFD}")
            n += 1
        }
        offsets[n] = end
        return n
    }
}

/// The three splitters over scalar index ranges [a, b).
private struct Scanner {
    let s: UnsafeMutablePointer<UInt32>
    let c: UnsafeMutablePointer<UInt8>

    /// Split 1: `\p{N}{1,3}`, Isolated.
    @inline(__always)
    func digits(_ a: Int, _ b: Int, _ emit: (Int, Int) -> Void) {
        var i = a, gap = a
        while i < b {
            if c[i] & ScalarClass.number == 0 { i += 1; continue }
            if gap < i { emit(gap, i) }
            var j = i + 1
            while j < b && j < i + 3 && c[j] & ScalarClass.number != 0 { j += 1 }
            emit(i, j)
            i = j; gap = j
        }
        if gap < b { emit(gap, b) }
    }

    /// Split 2: `[一-龥぀-ゟ゠-ヿ]+`, Isolated.
    @inline(__always)
    func cjk(_ a: Int, _ b: Int, _ emit: (Int, Int) -> Void) {
        var i = a, gap = a
        while i < b {
            if c[i] & ScalarClass.cjk == 0 { i += 1; continue }
            if gap < i { emit(gap, i) }
            var j = i + 1
            while j < b && c[j] & ScalarClass.cjk != 0 { j += 1 }
            emit(i, j)
            i = j; gap = j
        }
        if gap < b { emit(gap, b) }
    }

    /// Split 3: the word/punctuation/whitespace pattern, Isolated.
    @inline(__always)
    func words(_ a: Int, _ b: Int, _ emit: (Int, Int) -> Void) {
        var i = a, gap = a
        while i < b {
            guard let e = match(i, b) else { i += 1; continue }
            if gap < i { emit(gap, i) }
            emit(i, e)
            i = e; gap = e
        }
        if gap < b { emit(gap, b) }
    }

    @inline(__always) private func isAsciiLetter(_ v: UInt32) -> Bool {
        (v | 0x20) &- 0x61 < 26
    }

    /// End of the pattern-3 match starting at p (alternatives tried in order, as a backtracking
    /// engine does), or nil when no alternative matches at p.
    private func match(_ p: Int, _ b: Int) -> Int? {
        let c0 = c[p], s0 = s[p]
        let L = ScalarClass.letter, LM = ScalarClass.letterOrMark, PS = ScalarClass.punctOrSymbol
        // 1. one ASCII punctuation/symbol, then ASCII letters: `.foo`, `_bar`, `#include`.
        if s0 < 0x80 && c0 & PS != 0 && p + 1 < b && isAsciiLetter(s[p + 1]) {
            var q = p + 2
            while q < b && isAsciiLetter(s[q]) { q += 1 }
            return q
        }
        // 2. optional lead-in (not CR/LF/letter/punct/symbol), then letters and marks.
        if c0 & (L | PS | ScalarClass.crlf) == 0 && p + 1 < b && c[p + 1] & LM != 0 {
            var q = p + 2
            while q < b && c[q] & LM != 0 { q += 1 }
            return q
        }
        if c0 & LM != 0 {
            var q = p + 1
            while q < b && c[q] & LM != 0 { q += 1 }
            return q
        }
        // 3. optional space, punctuation/symbol run, trailing CR/LF run.
        let q0 = s0 == 0x20 ? p + 1 : p
        if q0 < b && c[q0] & PS != 0 {
            var q = q0 + 1
            while q < b && c[q] & PS != 0 { q += 1 }
            while q < b && c[q] & ScalarClass.crlf != 0 { q += 1 }
            return q
        }
        guard c0 & ScalarClass.space != 0 else { return nil }
        var e = p + 1
        while e < b && c[e] & ScalarClass.space != 0 { e += 1 }
        // 4. `\s*[\r\n]+`: backtracking leaves the match ending just after the run's last CR/LF.
        var k = e - 1
        while k >= p {
            if c[k] & ScalarClass.crlf != 0 { return k + 1 }
            k -= 1
        }
        // 5. `\s+(?!\S)`: the whole run at the piece end, else all but the last whitespace.
        // 6. `\s+`: a single whitespace before non-space.
        return e == b || e - p == 1 ? e : e - 1
    }
}
