/// What a piece of the screen is, so a theme can colour it.
public enum ThemeRole: String, CaseIterable, Sendable {
    case text, border, title, accent, selected, progress, error, hint
}
