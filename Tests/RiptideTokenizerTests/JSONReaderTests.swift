import Foundation
import Testing
@testable import RiptideTokenizer

private func parse(_ s: String) throws -> JSONValue {
    var s = s
    return try s.withUTF8 { try JSONReader.parse($0) }
}

@Test func jsonReaderValues() throws {
    let v = try parse(#" {"a": [1, -2, 3.5e2, true, false, null], "s": "x\"\\\/\n\t\u00e9\ud83d\ude00", "o": {}} "#)
    #expect(v["a"]?.array?.map { $0.int } == [1, -2, nil, nil, nil, nil])
    #expect(v["a"]?.array?[2].double == 350)
    #expect(v["a"]?.array?[3].bool == true)
    #expect(v["a"]?.array?[5].isNull == true)
    #expect(v["s"]?.string == "x\"\\/\n\té😀")
    #expect(v["o"]?.object.map { Array($0).isEmpty } == true)
    #expect(try parse(#""\ufeff<\u0000>""#).string == "\u{FEFF}<\u{0}>")
}

@Test func jsonReaderRejectsMalformed() {
    for bad in ["", "{", "[1,]", "{\"a\" 1}", "[1 2]", "\"abc", "tru", "{\"a\":1}}", "\"\\x\"", "01a", "\"a\nb\""] {
        #expect(throws: JSONSyntaxError.self, "\(bad)") { try parse(bad) }
    }
}
