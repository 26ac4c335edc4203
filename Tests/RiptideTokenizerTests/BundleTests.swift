import Foundation
import Testing
import RiptideTokenizer

@Test func bundledTokenizerExists() throws {
    let data = try Data(contentsOf: BundledTokenizer.url)
    #expect(data.count > 6_000_000)
}
