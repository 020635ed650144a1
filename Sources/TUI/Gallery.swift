import Foundation
import Pipeline

/// The results in the output folder, oldest first, with one selected. Each item's parameters
/// are read from its PNG (the `photoverse` chunk) when it is listed.
public struct Gallery {
    public struct Item: Equatable {
        public let url: URL
        public let record: GenerationRequest?
        /// The identity score the PNG records (none when no scorer fitted).
        public let score: IdentityScore?

        public init(url: URL, record: GenerationRequest?, score: IdentityScore? = nil) {
            self.url = url
            self.record = record
            self.score = score
        }
    }

    public private(set) var items: [Item] = []
    public private(set) var selection = 0

    public init(items: [Item] = []) {
        self.items = items
        selection = max(0, items.count - 1)
    }

    /// The PhotoVerse results (photoverse-*.png) already in `folder`.
    public static func scan(_ folder: URL) -> Gallery {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let items = names.filter { $0.hasPrefix("photoverse-") && $0.hasSuffix(".png") }
            .sorted { $0.localizedStandardCompare($1) == .orderedAscending }
            .map { name -> Item in
                let url = folder.appendingPathComponent(name)
                return Item(url: url, record: try? GenerationRequest.load(from: url),
                            score: ResultRecord.load(from: url)?.identityScore)
            }
        return Gallery(items: items)
    }

    public var isEmpty: Bool { items.isEmpty }
    public var selected: Item? { items.indices.contains(selection) ? items[selection] : nil }

    /// A new result: appended and selected.
    public mutating func add(_ item: Item) {
        items.append(item)
        selection = items.count - 1
    }

    public mutating func move(by delta: Int) {
        guard !items.isEmpty else { return }
        selection = min(max(selection + delta, 0), items.count - 1)
    }

    public mutating func moveToFirst() { selection = 0 }
    public mutating func moveToLast() { selection = max(0, items.count - 1) }

    /// Drops the selected item from the list (the file is handled by the caller).
    @discardableResult
    public mutating func removeSelected() -> Item? {
        guard let item = selected else { return nil }
        items.remove(at: selection)
        selection = min(selection, max(0, items.count - 1))
        return item
    }

    /// The indices of the thumbnails that fit `count` slots, keeping the selection visible (centred when possible).
    public func visibleRange(slots count: Int) -> Range<Int> {
        guard count > 0, !items.isEmpty else { return 0..<0 }
        if items.count <= count { return 0..<items.count }
        let start = min(max(0, selection - count / 2), items.count - count)
        return start..<(start + count)
    }
}
