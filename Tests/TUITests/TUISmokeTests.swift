import XCTest
@testable import TUI

final class TUISmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertNotNil(InteractiveApp.self) }
}
