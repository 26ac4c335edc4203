import Testing
@testable import RiptideTokenizer

@Test(arguments: [
    (120.5, "120.5"), (1.0, "1.0"), (1e20, "1e+20"), (1e-7, "1e-07"), (1e16, "1e+16"),
    (1e15, "1000000000000000.0"), (0.0001, "0.0001"), (0.00001, "1e-05"), (-0.0, "-0.0"),
    (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    (0.1 + 0.2, "0.30000000000000004"), (123456789012345678.0, "1.2345678901234568e+17"),
    (2.5e-7, "2.5e-07"), (1e22, "1e+22"), (-1234.5678e10, "-12345678000000.0"),
    (Double.infinity, "Infinity"), (-Double.infinity, "-Infinity"), (Double.nan, "NaN"),
])
func chatJSONFloatsMatchPythonRepr(value: Double, expected: String) {
    #expect(PythonJSONWriter.pythonFloatRepr(value) == expected)
}

@Test func chatJSONStringEscapesMatchPython() {
    let s = "a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F}/é\u{7F}\u{2028}"
    #expect(PythonJSONWriter.quoted(s) == "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f/é\u{7F}\u{2028}\"")
}

@Test func chatJSONKeepsOrderIntegersAndNormalisesFloats() throws {
    let text = #"{"z": 1, "a": [1.50, -0, 1E5, 12345678901234567890123, -0.0], "é": "\u00e9\ud83d\ude80"}"#
    let value = try OrderedJSON.parse(text)
    #expect(PythonJSONWriter.string(value) == #"{"z": 1, "a": [1.5, 0, 100000.0, 12345678901234567890123, -0.0], "é": "é🚀"}"#)
    // A repeated key keeps its first position and its last value, like a Python dict.
    #expect(PythonJSONWriter.string(try OrderedJSON.parse(#"{"a":1,"b":2,"a":3}"#)) == #"{"a": 3, "b": 2}"#)
    #expect(PythonJSONWriter.string(try OrderedJSON.parse(" [NaN, Infinity, -Infinity, {}, []] ")) == "[NaN, Infinity, -Infinity, {}, []]")
}

@Test(arguments: ["", "{", "[1,]", "01", "\"a\u{01}\"", "1.", "{'a': 1}", "[1] x", "\"\\x\"", "tru"])
func chatJSONRejectsWhatPythonRejects(text: String) {
    #expect(throws: ChatFormatError.self) { try OrderedJSON.parse(text) }
}
