import Formats
import TestSupport
@testable import TUI
import XCTest

final class ThemeTests: XCTestCase {
    static let themesFolder = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("themes")

    func testTheShippedThemesParse() throws {
        let catalog = ThemeCatalog(folders: [Self.themesFolder])
        XCTAssertEqual(Array(catalog.names.prefix(3)), ["dark", "light", "high-contrast"])
        for name in catalog.names {
            let theme = try catalog.load(name)
            XCTAssertEqual(theme.name, name)
            XCTAssertEqual(Set(theme.colors.keys), Set(ThemeRole.allCases), name)
        }
        let dark = try catalog.load("dark")
        XCTAssertEqual(dark.colors(.text).background, .rgb(RGBColor(0x1C, 0x1C, 0x1C)))
        XCTAssertEqual(try catalog.load("high-contrast").colors(.title).foreground, .named(11), "bright-yellow")
    }

    func testFormatCommentsDefaultsAndErrors() throws {
        let theme = try Theme.parse("""
            # a comment
            name = mine   # trailing comment
            text = default on #000000
            accent = bright-cyan on black
            """, origin: "mine.theme")
        XCTAssertEqual(theme.name, "mine")
        XCTAssertEqual(theme.colors(.text).foreground, .terminalDefault)
        XCTAssertEqual(theme.colors(.accent).foreground, .named(14))
        XCTAssertEqual(theme.colors(.hint), theme.colors(.text), "roles left out take the text colours")
        XCTAssertThrowsError(try Theme.parse("text = white on black\nborder = mauve on black", origin: "x.theme")) {
            XCTAssertEqual("\($0)", "x.theme:2: unknown colour 'mauve' (a name like red or bright-red, default, or #rrggbb)")
        }
        XCTAssertThrowsError(try Theme.parse("text = white on black\nframe = red on black", origin: "x.theme")) {
            XCTAssertTrue("\($0)".hasPrefix("x.theme:2: unknown role 'frame'"), "\($0)")
        }
        XCTAssertThrowsError(try Theme.parse("border = red on black", origin: "x.theme")) {
            XCTAssertEqual("\($0)", "x.theme: no 'text = foreground on background' line")
        }
    }

    func testColoursForTheTerminal() {
        XCTAssertEqual(ThemeColor.rgb(RGBColor(255, 0, 0)).cursesNumber(colors: 256), 196)
        XCTAssertEqual(ThemeColor.rgb(RGBColor(255, 0, 0)).cursesNumber(colors: 8), 1)
        XCTAssertEqual(ThemeColor.named(12).cursesNumber(colors: 8), 4, "bright colours fold onto the 8")
        XCTAssertEqual(ThemeColor.terminalDefault.cursesNumber(colors: 256), -1)
    }

    func testCyclingThemesAndUserFoldersWin() throws {
        let user = Fixtures.temporaryDirectory("themes")
        try "name = dark\ntext = red on blue\n".write(to: user.appendingPathComponent("dark.theme"), atomically: true, encoding: .utf8)
        let catalog = ThemeCatalog(folders: [user, Self.themesFolder])
        XCTAssertEqual(try catalog.load("dark").colors(.text).foreground, .named(1), "the user's own dark theme")
        XCTAssertEqual(catalog.name(after: "dark"), "light")
        XCTAssertEqual(catalog.name(after: catalog.names.last!), "dark", "wraps")
        XCTAssertThrowsError(try catalog.load("neon")) { XCTAssertTrue("\($0)".hasPrefix("unknown theme 'neon' (available: dark, light")) }
    }
}
