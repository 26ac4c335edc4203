import Testing
@testable import RiptideCheckpoint

@Test func byteWidths() {
    #expect(DType(rawValue: "F8_E4M3")?.byteWidth == 1)
    #expect(DType(rawValue: "BF16")?.byteWidth == 2)
    #expect(DType(rawValue: "I64")?.byteWidth == 8)
    #expect(DType(rawValue: "F4") == nil)
}
