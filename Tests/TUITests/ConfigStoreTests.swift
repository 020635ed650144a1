import TestSupport
@testable import TUI
import XCTest

final class ConfigStoreTests: XCTestCase {
    func testXDGLocation() {
        XCTAssertEqual(ConfigStore(environment: ["XDG_CONFIG_HOME": "/x/cfg", "HOME": "/h"]).file.path, "/x/cfg/photoverse/config.json")
        XCTAssertEqual(ConfigStore(environment: ["HOME": "/h"]).file.path, "/h/.config/photoverse/config.json")
        XCTAssertEqual(ConfigStore(environment: ["XDG_CONFIG_HOME": "", "HOME": "/h"]).file.path, "/h/.config/photoverse/config.json")
    }

    func testSavesAndLoadsTheLastParameters() throws {
        let folder = Fixtures.temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = ConfigStore(folder: folder.appendingPathComponent("photoverse"))
        XCTAssertEqual(try store.load(), UserConfig(), "no file: defaults")
        var config = UserConfig()
        config.settings.request.prompt = "S* on a bike"
        config.settings.request.steps = 7
        config.outputFolder = "/results"
        config.theme = "light"
        config.promptHistory = ["a", "b"]
        try store.save(config)
        XCTAssertEqual(try store.load(), config)
        try Data("{ not json".utf8).write(to: store.file)
        XCTAssertThrowsError(try store.load()) {
            XCTAssertEqual("\($0)", "\(store.file.path): unreadable config (fix or delete it)")
        }
    }

    /// A FIFO where the config belongs is refused in one line instead of blocking the start.
    func testAFIFOConfigIsRefusedNotWaitedOn() throws {
        let folder = Fixtures.temporaryDirectory("config-fifo")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = ConfigStore(folder: folder)
        XCTAssertEqual(mkfifo(store.file.path, 0o600), 0)
        XCTAssertThrowsError(try store.load()) {
            let message = "\($0)"
            XCTAssertTrue(message.contains(store.file.path) && message.contains("not a regular file"), message)
            XCTAssertFalse(message.contains("\n"))
        }
    }
}
