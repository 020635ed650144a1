import Formats
import Terminal

/// A theme turned into ncurses styles for one screen; with no colour (NO_COLOR, or a
/// terminal without colours) each role gets attributes only.
public struct ThemeStyles {
    public let theme: Theme
    private var styles: [ThemeRole: TextStyle] = [:]
    /// What sixel pixels are erased with: the text background, as near as known.
    public let background: RGBColor

    public init(theme: Theme, screen: CursesScreen) {
        self.theme = theme
        background = theme.colors(.text).background.approximateRGB ?? .black
        screen.resetPairs()
        for role in ThemeRole.allCases {
            var style = Self.attributesOnly(role)
            if screen.colors > 0 {
                let colors = theme.colors(role)
                var foreground = colors.foreground.cursesNumber(colors: screen.colors)
                let background = colors.background.cursesNumber(colors: screen.colors)
                // With few colours a dim grey can fold onto its own background: keep it readable.
                if foreground == background && foreground >= 0 { foreground = background == 0 ? 7 : 0 }
                style.pair = screen.pair(foreground: foreground, background: background)
                // Colour carries these roles; keep only the emphasis that helps reading.
                switch role {
                // 16 colours fold a light selection onto a light grey: reverse video marks it whatever the colours.
                case .selected: style.attributes = screen.colors <= 16 ? [.bold, .reverse] : [.bold]
                case .accent: style.attributes = [.bold]
                case .hint, .error: style.attributes = []
                default: break
                }
            }
            styles[role] = style
        }
    }

    static func attributesOnly(_ role: ThemeRole) -> TextStyle {
        switch role {
        case .text, .border: return TextStyle()
        case .title: return TextStyle(attributes: .bold)
        case .accent: return TextStyle(attributes: [.bold, .underline])
        case .selected: return TextStyle(attributes: .reverse)
        case .progress: return TextStyle(attributes: .bold)
        case .error: return TextStyle(attributes: [.bold, .reverse])
        case .hint: return TextStyle(attributes: .dim)
        }
    }

    public subscript(role: ThemeRole) -> TextStyle { styles[role] ?? TextStyle() }
}
