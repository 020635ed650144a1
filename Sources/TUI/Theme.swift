import Foundation
import Terminal

/// A colour theme: for each role a foreground and a background colour. Read from a small text
/// file, one `role = foreground on background` per line, `#` comments (see themes/dark.theme).
public struct Theme: Equatable, Sendable {
    public struct Colors: Equatable, Sendable {
        public var foreground: ThemeColor
        public var background: ThemeColor
    }

    public var name: String
    public var colors: [ThemeRole: Colors]

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses a theme file's text; `origin` names the file in errors. Roles left out use `text`'s colours.
    public static func parse(_ text: String, origin: String) throws -> Theme {
        var name = (origin as NSString).lastPathComponent.replacingOccurrences(of: ".theme", with: "")
        var colors: [ThemeRole: Colors] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            let location = "\(origin):\(number + 1)"
            let parts = content.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { throw ParseError(description: "\(location): expected 'role = foreground on background'") }
            if parts[0] == "name" {
                name = parts[1]
                continue
            }
            guard let role = ThemeRole(rawValue: parts[0]) else {
                let known = ThemeRole.allCases.map(\.rawValue).joined(separator: ", ")
                throw ParseError(description: "\(location): unknown role '\(parts[0])' (known: name, \(known))")
            }
            let pair = parts[1].components(separatedBy: " on ").map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw ParseError(description: "\(location): expected 'foreground on background' after '\(parts[0]) ='") }
            guard let foreground = ThemeColor(parsing: pair[0]), let background = ThemeColor(parsing: pair[1]) else {
                let bad = ThemeColor(parsing: pair[0]) == nil ? pair[0] : pair[1]
                throw ParseError(description: "\(location): unknown colour '\(bad)' (a name like red or bright-red, default, or #rrggbb)")
            }
            colors[role] = Colors(foreground: foreground, background: background)
        }
        guard let base = colors[.text] else { throw ParseError(description: "\(origin): no 'text = foreground on background' line") }
        for role in ThemeRole.allCases where colors[role] == nil { colors[role] = base }
        return Theme(name: name, colors: colors)
    }

    /// Drops a `#` comment: a `#` that starts the line or follows a space, unless it begins a #rrggbb colour.
    static func stripComment(_ line: String) -> String {
        let characters = Array(line)
        for index in characters.indices where characters[index] == "#" {
            let atStart = characters[..<index].allSatisfy { $0 == " " || $0 == "\t" }
            let afterSpace = index > 0 && (characters[index - 1] == " " || characters[index - 1] == "\t")
            let hex = characters[(index + 1)...].prefix(6)
            let isColour = hex.count == 6 && hex.allSatisfy(\.isHexDigit)
                && (index + 7 == characters.count || characters[index + 7] == " ")
            if atStart || (afterSpace && !isColour) { return String(characters[..<index]) }
        }
        return line
    }

    public static func load(_ url: URL) throws -> Theme {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ParseError(description: "\(url.path): cannot read the theme file")
        }
        return try parse(text, origin: url.path)
    }

    /// Used when no theme file can be found: the terminal's own colours, a few accents.
    public static let builtIn = Theme(name: "terminal", colors: [
        .text: Colors(foreground: .terminalDefault, background: .terminalDefault),
        .border: Colors(foreground: .named(8), background: .terminalDefault),
        .title: Colors(foreground: .terminalDefault, background: .terminalDefault),
        .accent: Colors(foreground: .named(6), background: .terminalDefault),
        .selected: Colors(foreground: .named(0), background: .named(6)),
        .progress: Colors(foreground: .named(2), background: .terminalDefault),
        .error: Colors(foreground: .named(1), background: .terminalDefault),
        .hint: Colors(foreground: .named(8), background: .terminalDefault),
    ])

    public func colors(_ role: ThemeRole) -> Colors { colors[role] ?? colors[.text]! }
}
