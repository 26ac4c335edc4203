import XCTest

@testable import RiptideEngine

final class StopStringTests: XCTestCase {
    /// Feeds `deltas`, concatenating what comes out (plus `finish()` when no stop matched).
    private func run(_ stops: [String], _ deltas: [String]) -> (text: String, stop: String?) {
        var m = StopStringMatcher(stops: stops)
        var text = "", stop: String?
        for d in deltas {
            let out = m.feed(d)
            text += out.text
            if let s = out.matchedStop {
                XCTAssertNil(stop, "a second stop after the first")
                stop = s
            }
        }
        text += m.finish()
        return (text, stop)
    }

    /// Every way to cut `text` into two and into three deltas, at unicode-scalar boundaries.
    private func splits(_ text: String) -> [[String]] {
        let s = Array(text.unicodeScalars)
        func str(_ r: Range<Int>) -> String {
            var v = String.UnicodeScalarView()
            v.append(contentsOf: s[r])
            return String(v)
        }
        var out: [[String]] = [[text], s.map { String($0) }]
        for i in 0...s.count {
            out.append([str(0..<i), str(i..<s.count)])
            for j in i...s.count { out.append([str(0..<i), str(i..<j), str(j..<s.count)]) }
        }
        return out
    }

    private func assertEverySplit(_ stops: [String], _ text: String, _ expected: String, _ stop: String?,
                                  file: StaticString = #filePath, line: UInt = #line) {
        for deltas in splits(text) {
            let r = run(stops, deltas)
            XCTAssertEqual(r.text, expected, "\(deltas)", file: file, line: line)
            XCTAssertEqual(r.stop, stop, "\(deltas)", file: file, line: line)
        }
    }

    func testNoStopsPassesThrough() {
        var m = StopStringMatcher(stops: ["", ""])
        XCTAssertEqual(m.feed("abc"), .init(text: "abc", matchedStop: nil))
        XCTAssertEqual(m.finish(), "")
    }

    func testHoldsBackAPossibleStopAndReleasesIt() {
        var m = StopStringMatcher(stops: ["STOP"])
        XCTAssertEqual(m.feed("Hello ST").text, "Hello ")
        XCTAssertEqual(m.heldText, "ST")
        XCTAssertEqual(m.feed("A").text, "STA", "STA can no longer become STOP")
        XCTAssertEqual(m.feed("R S").text, "R ")
        XCTAssertEqual(m.finish(), "S", "finish flushes what was held")
        XCTAssertFalse(m.isStopped)
    }

    func testStopAcrossEverySplitPoint() {
        assertEverySplit(["STOP"], "Hello STOP world", "Hello ", "STOP")
        assertEverySplit(["STOP"], "STOP", "", "STOP")
        assertEverySplit(["STOP"], "Hello STO", "Hello STO", nil)
        assertEverySplit(["\n\n"], "line\n\n\nnext", "line", "\n\n")
    }

    func testStopsIgnoreLaterInput() {
        var m = StopStringMatcher(stops: ["end"])
        XCTAssertEqual(m.feed("the end is"), .init(text: "the ", matchedStop: "end"))
        XCTAssertEqual(m.matchedStop, "end")
        XCTAssertEqual(m.feed("more"), .init(text: "", matchedStop: nil))
        XCTAssertEqual(m.finish(), "")
    }

    func testMultipleStopsFirstToCompleteWins() {
        assertEverySplit(["foo", "bar"], "xxbarfoo", "xx", "bar")
        assertEverySplit(["foo", "bar"], "xxfobarfoo", "xxfo", "bar")
        // "abc" completes before "bcd" even though both start early.
        assertEverySplit(["bcd", "abc"], "xabcd", "x", "abc")
    }

    func testOverlappingPrefixes() {
        // "ab" completes first in the stream, whatever the delta boundaries.
        assertEverySplit(["ab", "abc"], "xabcd", "x", "ab")
        assertEverySplit(["abc", "ab"], "xabcd", "x", "ab")
        // Ending together: the longer (earlier-starting) stop wins, so less text is emitted.
        assertEverySplit(["bc", "abc"], "xabcd", "x", "abc")
        // Self-overlapping stop: the tail "aa" must stay held after "aaa".
        assertEverySplit(["aab"], "aaab", "a", "aab")
        assertEverySplit(["abab"], "abababx", "", "abab")
        assertEverySplit(["ab", "abc"], "xa", "xa", nil)
    }

    func testEmojiCJKAndCombiningMarks() {
        assertEverySplit(["🙂👍", "停止"], "前文🙂🙂👍后", "前文🙂", "🙂👍")
        assertEverySplit(["🙂👍", "停止"], "中文停下停止吧", "中文停下", "停止")
        // A ZWJ family is several scalars; a stop equal to it matches only the whole sequence.
        let family = "👨\u{200D}👩\u{200D}👧"
        assertEverySplit([family], "a👨\u{200D}👩b" + family + "c", "a👨\u{200D}👩b", family)
        // Decomposed é: the stop is two scalars and can be split between them.
        assertEverySplit(["e\u{301}"], "cafe\u{301}!", "caf", "e\u{301}")
        assertEverySplit(["<|end|>"], "答案是42<|end|>", "答案是42", "<|end|>")
    }

    func testAgreesWithABruteForceReferenceOnRandomText() {
        let stops = ["abc", "bca", "cc", "aab"]
        var rng = TokenSampler.RNG(seed: 2024, choice: 0)
        func draw(_ n: Int) -> Int { Int(rng.uniform() * Double(n)) }
        for _ in 0..<500 {
            let text = String((0..<(1 + draw(14))).map { _ in Array("abc")[draw(3)] })
            // Reference: scan end positions; at the first end where some stop matches, the longest wins.
            let s = Array(text)
            var expected = (text, nil as String?)
            search: for end in 1...s.count {
                for stop in stops.sorted(by: { $0.count > $1.count }) where stop.count <= end {
                    if String(s[(end - stop.count)..<end]) == stop {
                        expected = (String(s[..<(end - stop.count)]), stop)
                        break search
                    }
                }
            }
            var deltas: [String] = [], rest = Substring(text)
            while !rest.isEmpty {
                let n = min(rest.count, draw(4))
                deltas.append(String(rest.prefix(n)))
                rest = rest.dropFirst(n)
            }
            let r = run(stops, deltas)
            XCTAssertEqual(r.text, expected.0, "\(deltas)")
            XCTAssertEqual(r.stop, expected.1, "\(deltas)")
        }
    }
}

