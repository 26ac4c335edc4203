/// Writes `OrderedJSON` exactly as Python's `json.dumps(value, ensure_ascii=False)` does, because
/// that text ends up verbatim in DeepSeek-V4 prompts (tool schemas, response formats, arguments).
///
/// Rules: `", "` and `": "` separators, no newlines, non-ASCII written raw, `/` not escaped,
/// control characters as `\n`-style or lowercase `\u00xx` escapes, floats in Python `repr` form.
public enum PythonJSONWriter {
    public static func string(_ value: OrderedJSON) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    /// A JSON string literal, quotes included (Python `json.dumps(str)`).
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }

    /// The escaped body of a string literal, without the quotes. Escaping works per code point, so
    /// escaping pieces of a string and joining them gives the same text as escaping the whole.
    public static func escapedBody(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    static func write(_ value: OrderedJSON, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let digits): out += digits
        case .float(let d): out += pythonFloatRepr(d)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += ", " }
                write(item, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (n, member) in members.enumerated() {
                if n > 0 { out += ", " }
                writeString(member.key, into: &out)
                out += ": "
                write(member.value, into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        out += escapedBody(s)
        out += "\""
    }

    /// Python's `repr(float)` (also what `json.dumps` uses): the shortest digits that round-trip,
    /// in fixed notation when the decimal exponent is in [-4, 16), else `d.ddde±XX`.
    /// Swift's `description` already finds the shortest digits; only the layout differs.
    public static func pythonFloatRepr(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }

        // Split Swift's shortest representation into sign, significant digits and exponent.
        var text = Substring(d.magnitude.description)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        var digits = ""
        var pointPosition = text.count  // digits before the decimal point
        for (n, ch) in text.enumerated() {
            if ch == "." { pointPosition = n } else { digits.append(ch) }
        }
        // Normalise: strip leading zeros (moving the point) and trailing zeros.
        var decimalPoint = pointPosition + exponent  // value = 0.DIGITS × 10^decimalPoint
        while digits.first == "0" {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while digits.count > 1, digits.last == "0" { digits.removeLast() }

        let sign = d < 0 ? "-" : ""
        if decimalPoint > -4 && decimalPoint <= 16 {
            if decimalPoint <= 0 {
                return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits
            }
            if decimalPoint >= digits.count {
                return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) + ".0"
            }
            let cut = digits.index(digits.startIndex, offsetBy: decimalPoint)
            return sign + digits[..<cut] + "." + digits[cut...]
        }
        var mantissa = String(digits.first!)
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        let exp = decimalPoint - 1
        let expDigits = String(abs(exp))
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+")
            + (expDigits.count < 2 ? "0" + expDigits : expDigits)
    }
}
