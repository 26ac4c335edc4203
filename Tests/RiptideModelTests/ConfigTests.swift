import Testing
@testable import RiptideModel
