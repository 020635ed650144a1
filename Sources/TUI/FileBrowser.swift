import Foundation

/// The file picker's state: one folder's sub-folders and the files it offers (image files
/// for a reference, `.safetensors` for a LoRA), a selection, and a typed filter that narrows
/// the list by name.
public struct FileBrowser: Equatable {
    public struct Entry: Equatable {
        /// `image`: a PNG/JPEG; `file`: another offered file (a LoRA's safetensors).
        public enum Kind: Equatable { case parent, folder, image, file }
        public let name: String
        public let kind: Kind
        public let url: URL
    }

    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]
    /// The file name extensions offered (lower case).
    public let extensions: Set<String>

    public private(set) var folder: URL
    public private(set) var entries: [Entry] = []
    public private(set) var selection = 0
    public private(set) var filter = ""
    public private(set) var problem: String?
    private var all: [Entry] = []

    public init(folder: URL, selecting name: String? = nil, extensions: Set<String> = imageExtensions) {
        self.folder = folder.standardizedFileURL
        self.extensions = extensions
        reload(selecting: name)
    }

    public var selected: Entry? { entries.indices.contains(selection) ? entries[selection] : nil }

    public mutating func reload(selecting name: String? = nil) {
        problem = nil
        all = []
        if folder.path != "/" {
            all.append(Entry(name: "..", kind: .parent, url: folder.deletingLastPathComponent()))
        }
        do {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            var folders: [Entry] = [], images: [Entry] = []
            for name in names where !name.hasPrefix(".") {
                let url = folder.appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    folders.append(Entry(name: name, kind: .folder, url: url))
                } else if extensions.contains(url.pathExtension.lowercased()) {
                    let isImage = Self.imageExtensions.contains(url.pathExtension.lowercased())
                    images.append(Entry(name: name, kind: isImage ? .image : .file, url: url))
                }
            }
            let byName: (Entry, Entry) -> Bool = { $0.name.localizedStandardCompare($1.name) == .orderedAscending }
            all += folders.sorted(by: byName) + images.sorted(by: byName)
        } catch {
            problem = "\(folder.path): cannot list this folder"
        }
        applyFilter()
        if let name, let index = entries.firstIndex(where: { $0.name == name }) {
            selection = index
        } else if selection == 0, let first = entries.firstIndex(where: { $0.kind != .parent }) {
            selection = first   // the first real entry, not ".."
        }
    }

    private mutating func applyFilter() {
        let query = filter.lowercased()
        entries = query.isEmpty ? all : all.filter { $0.kind == .parent || $0.name.lowercased().contains(query) }
        // Prefer the first match over "..", so Enter after typing picks it.
        selection = query.isEmpty ? min(selection, max(0, entries.count - 1))
            : (entries.firstIndex { $0.kind != .parent } ?? 0)
    }

    public mutating func move(by delta: Int) {
        guard !entries.isEmpty else { return }
        selection = min(max(selection + delta, 0), entries.count - 1)
    }

    public mutating func moveToFirst() { selection = 0 }
    public mutating func moveToLast() { selection = max(0, entries.count - 1) }

    public mutating func typeFilter(_ character: Character) {
        filter.append(character)
        applyFilter()
    }

    public mutating func deleteFilterCharacter() {
        guard !filter.isEmpty else { return }
        filter.removeLast()
        applyFilter()
    }

    /// Enter: opens a folder (returns nil) or returns the chosen file.
    public mutating func activate() -> URL? {
        guard let entry = selected else { return nil }
        switch entry.kind {
        case .image, .file:
            return entry.url
        case .parent:
            goUp()
        case .folder:
            folder = entry.url.standardizedFileURL
            filter = ""
            selection = 0
            reload()
        }
        return nil
    }

    /// Backspace on an empty filter / ←: the parent folder, with the folder just left selected.
    public mutating func goUp() {
        guard folder.path != "/" else { return }
        let left = folder.lastPathComponent
        folder = folder.deletingLastPathComponent().standardizedFileURL
        filter = ""
        selection = 0
        reload(selecting: left)
    }
}
