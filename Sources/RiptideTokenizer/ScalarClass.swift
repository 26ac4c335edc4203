/// Character classes the DeepSeek pre-tokenizer regexes need, as bit flags per Unicode scalar.
///
/// Hugging Face `tokenizers` (Python wheels) runs these patterns with Oniguruma, whose tables are
/// Unicode 16.0. Swift's stdlib may be newer (6.3 ships Unicode 17), so scalars introduced after
/// 16.0 are treated as unassigned: they match none of \p{L}, \p{M}, \p{N}, \p{P}, \p{S}.
/// Verified over all 1.1M scalars against tokenizers 0.23.3 (see tools/tokenizer/README.md).
struct ScalarClass {
    static let letter: UInt8 = 1 << 0      // \p{L}
    static let mark: UInt8 = 1 << 1        // \p{M}
    static let number: UInt8 = 1 << 2      // \p{N}
    static let punct: UInt8 = 1 << 3       // \p{P}
    static let symbol: UInt8 = 1 << 4      // \p{S}
    static let space: UInt8 = 1 << 5      // \s  (Oniguruma: the Unicode White_Space property)
    static let cjk: UInt8 = 1 << 6         // [一-龥぀-ゟ゠-ヿ]
    static let crlf: UInt8 = 1 << 7        // \r or \n

    static let letterOrMark = letter | mark
    static let punctOrSymbol = punct | symbol

    /// Classes for the Basic Multilingual Plane, where nearly all text lives; a table lookup beats
    /// querying scalar properties by a wide margin.
    static let bmp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for v in 0..<0x10000 {
            if let s = Unicode.Scalar(UInt32(v)) { table[v] = compute(s) }
        }
        return table
    }()

    /// The same table as raw memory for the decode loop (built once, never freed).
    nonisolated(unsafe) static let bmpTable: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 0x10000)
        p.initialize(from: bmp, count: 0x10000)
        return UnsafePointer(p)
    }()

    static func compute(_ s: Unicode.Scalar) -> UInt8 {
        let v = s.value
        var c: UInt8 = 0
        if v == 0x0D || v == 0x0A { c |= crlf }
        if (0x4E00...0x9FA5).contains(v) || (0x3040...0x30FF).contains(v) { c |= cjk }
        let p = s.properties
        if p.isWhitespace { c |= space }
        if let age = p.age, age.major > 16 || (age.major == 16 && age.minor > 0) { return c }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            c |= letter
        case .nonspacingMark, .spacingMark, .enclosingMark:
            c |= mark
        case .decimalNumber, .letterNumber, .otherNumber:
            c |= number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            c |= punct
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            c |= symbol
        default:
            break
        }
        return c
    }
}
