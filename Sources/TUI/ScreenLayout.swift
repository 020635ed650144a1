import Terminal

/// Where every panel goes, as a pure function of the terminal size (nil: too small).
///
///     title line
///     ┌ Reference ┐┌ Preview ───────────┐
///     ┌ Prompt ───┐│                    │
///     ┌ Parameters┐└────────────────────┘
///     │           │┌ Gallery ───────────┐
///     └───────────┘└────────────────────┘
///     progress line
///     status line (key hints, messages)
public struct ScreenLayout: Equatable, Sendable {
    public static let minimumColumns = 80
    public static let minimumRows = 24

    public var title: CellRect
    public var reference: CellRect
    public var prompt: CellRect
    public var parameters: CellRect
    public var preview: CellRect
    public var gallery: CellRect
    public var progress: CellRect
    public var status: CellRect

    public static func compute(columns: Int, rows: Int) -> ScreenLayout? {
        guard columns >= minimumColumns, rows >= minimumRows else { return nil }
        let main = rows - 3   // title, progress, status
        let left = clamp(columns * 2 / 5, 34, 60)
        let referenceHeight = clamp(main * 3 / 10, 6, 16)
        let promptHeight = clamp(main / 4, 6, 10)
        let parametersHeight = main - referenceHeight - promptHeight
        let galleryHeight = clamp(main / 4, 5, 9)
        let right = columns - left
        return ScreenLayout(
            title: CellRect(x: 0, y: 0, width: columns, height: 1),
            reference: CellRect(x: 0, y: 1, width: left, height: referenceHeight),
            prompt: CellRect(x: 0, y: 1 + referenceHeight, width: left, height: promptHeight),
            parameters: CellRect(x: 0, y: 1 + referenceHeight + promptHeight, width: left, height: parametersHeight),
            preview: CellRect(x: left, y: 1, width: right, height: main - galleryHeight),
            gallery: CellRect(x: left, y: 1 + main - galleryHeight, width: right, height: galleryHeight),
            progress: CellRect(x: 0, y: rows - 2, width: columns, height: 1),
            status: CellRect(x: 0, y: rows - 1, width: columns, height: 1))
    }

    static func clamp(_ value: Int, _ low: Int, _ high: Int) -> Int { min(max(value, low), high) }

    /// Every rectangle, for checks that they tile the screen.
    public var all: [CellRect] { [title, reference, prompt, parameters, preview, gallery, progress, status] }
}
