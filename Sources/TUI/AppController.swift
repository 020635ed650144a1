import Foundation
import Models
import Formats
import Pipeline
import Terminal

/// The UI's state and what keys and engine events do to it. No drawing here (FrameRenderer
/// reads this state) and no waiting: the engine is only ever asked, never awaited.
public final class AppController {
    public struct Services {
        public var queue: GenerationQueue
        /// Prepares a reference photo for display in the background (path, crop).
        public var loadReference: (String, CropMode) -> Void
        public var saveConfig: (UserConfig) -> Void
        /// Opens a result in the desktop's viewer when there is one; returns what to tell the user.
        public var openFile: (URL) -> String
        public var trash: Trash
        public var themes: ThemeCatalog
        /// Prepares the photo highlighted in the picker, for the big panel (path, crop).
        public var previewPhoto: (String, CropMode) -> Void

        public init(queue: GenerationQueue, loadReference: @escaping (String, CropMode) -> Void,
                    saveConfig: @escaping (UserConfig) -> Void, openFile: @escaping (URL) -> String,
                    trash: Trash, themes: ThemeCatalog, previewPhoto: @escaping (String, CropMode) -> Void = { _, _ in }) {
            self.queue = queue
            self.loadReference = loadReference
            self.previewPhoto = previewPhoto
            self.saveConfig = saveConfig
            self.openFile = openFile
            self.trash = trash
            self.themes = themes
        }
    }

    public enum ModelStatus: Equatable {
        case loading(String)
        case ready(LoadedModel)
        case failed(String)
    }

    let services: Services
    public var focus: Panel = .prompt
    public var overlay: Overlay?
    /// The prompt or negative prompt editor has the keys.
    public var editingText = false
    public var prompt: TextEditor
    public var negative: TextEditor
    public var promptHistory: PromptHistory
    public var negativeHistory: PromptHistory
    public var settings: GenerationSettings
    public var selectedField: ParameterField = .guidance
    /// The selection is on the LoRA list below the fields: a file's row (0..<count), or the
    /// "add" row (count); nil while it is on `selectedField`.
    public var selectedLoRA: Int?
    /// What the open file picker chooses.
    public var pickerPurpose = PickerPurpose.reference
    /// Where the LoRA picker last was.
    var loraBrowseFolder: URL?
    public var picker: FileBrowser?
    /// True while typing a filter in the picker (`/`).
    public var pickerFiltering = false
    /// The first help line shown (help taller than the screen scrolls).
    public var helpScroll = 0
    public var valueEditor = TextEditor()
    public var browseFolder: URL
    public var reference: ReferencePhoto?
    public private(set) var referencePhoto: ShownImage?
    public private(set) var referenceFace: ShownImage?
    public var model: ModelStatus
    public var run: RunStatus?
    public var lastRun: FinishedRun?
    /// How the last run ended when it did not finish ("stopped at step 3/25"); cleared by a finished run.
    public var lastStop: String?
    /// The sweep shown in the big panel, while it is open.
    public var sweep: SweepState?
    var lastSweepAxes = SweepState.defaultAxes
    /// The photo highlighted in the picker, prepared as it would be if picked (shown in the big panel).
    public var pickerPreview: ReferencePhoto?
    public var pickerPreviewPhoto: ShownImage?
    public var pickerPreviewFace: ShownImage?
    var pickerPreviewRequested: String?
    /// The value entry line still shows the old value untouched: typing replaces it.
    public var valueEntryFresh = false
    public var livePreview: ShownImage?
    public var gallery: Gallery
    public let images = ImageCache()
    public var comparing = false
    public var message: StatusMessage?
    public var outputFolder: URL
    public var themeName: String
    public var quitRequested = false
    /// Ctrl-L: repaint everything (the screen got garbled by something else).
    public var fullRedrawRequested = false
    /// The prompt editor's wrap width, set by the renderer (↑/↓ move by visual line).
    public var promptWidth = 40
    public var negativeWidth = 30
    /// Set when `g` is pressed, cleared when the first preview is drawn (the latency trace).
    public var generatePressedAt: Date?
    private var nextJobID = 1
    private var wasFreshConfig: Bool
    /// The model's `references/` folder (faces that ship with it), when it has one.
    public let shippedReferences: URL?

    public init(config: UserConfig, freshConfig: Bool, modelName: String, outputFolder: URL, themeName: String,
                services: Services, shippedReferences: URL? = nil) {
        self.services = services
        self.shippedReferences = shippedReferences?.standardizedFileURL
        settings = config.settings
        prompt = TextEditor(config.settings.request.prompt)
        negative = TextEditor(config.settings.request.negativePrompt)
        promptHistory = PromptHistory(entries: config.promptHistory)
        negativeHistory = PromptHistory(entries: config.negativeHistory)
        model = .loading(modelName)
        self.outputFolder = outputFolder
        self.themeName = themeName
        wasFreshConfig = freshConfig
        gallery = Gallery.scan(outputFolder)
        let home = URL(fileURLWithPath: PathDisplay.home)
        // a first start browses the faces that ship with the model
        browseFolder = config.browseFolder.map { URL(fileURLWithPath: $0) }
            ?? config.settings.referencePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
            ?? self.shippedReferences
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        if !FileManager.default.fileExists(atPath: browseFolder.path) { browseFolder = home }
        if let path = settings.referencePath {
            if FileManager.default.fileExists(atPath: path) {
                services.loadReference(path, settings.crop)
            } else {
                settings.referencePath = nil
            }
        }
    }

    public var hasIdentity: Bool {
        if case .ready(let loaded) = model { return loaded.hasIdentity }
        return false
    }

    public var isBusy: Bool { run != nil || services.queue.isBusy }
    public var waitingRuns: Int { services.queue.waitingCount }

    // MARK: status

    public func say(_ text: String) { message = StatusMessage(text) }
    public func fail(_ text: String) { message = StatusMessage(text, isError: true) }

    /// The status message, unless it has expired.
    public func currentMessage(now: Date = Date()) -> StatusMessage? {
        guard let message, message.until > now else { return nil }
        return message
    }

    // MARK: engine events

    public func apply(_ event: EngineEvent) {
        switch event {
        case .referenceLoaded(let photo):
            // A slow load of an earlier pick must not replace a newer one.
            guard photo.path == settings.referencePath, photo.crop == settings.crop else { return }
            reference = photo
            referencePhoto = photo.photo.map { ShownImage(image: $0, version: ImageVersion.next()) }
            referenceFace = photo.face.map { ShownImage(image: $0, version: ImageVersion.next()) }
            if photo.failed { fail(photo.summary + "  (c: change crop)") }
        case .pickerPreviewLoaded(let photo):
            // Only the photo still highlighted.
            guard overlay == .picker, photo.path == picker?.selected?.url.path else { return }
            pickerPreview = photo
            pickerPreviewPhoto = photo.photo.map { ShownImage(image: $0, version: ImageVersion.next()) }
            pickerPreviewFace = photo.face.map { ShownImage(image: $0, version: ImageVersion.next()) }
        case .modelLoaded(let loaded):
            model = .ready(loaded)
            if wasFreshConfig {
                // A first start: the model's own size, not a guess that may be 64x too slow.
                settings.request.width = loaded.nativeSize
                settings.request.height = loaded.nativeSize
                // ... and a prompt in the words it knows.
                if let example = loaded.examplePrompt, !editingText {
                    settings.request.prompt = example
                    prompt.setText(example)
                }
                wasFreshConfig = false
            }
            say("model \(loaded.name) ready" + (loaded.hasIdentity ? "" : " (no PhotoVerse adapter: plain text-to-image)")
                + (loaded.hasTinyAutoencoder ? "; previews through its TAESD" : ""))
        case .modelFailed(let text):
            model = .failed(text)
            fail(text)
        case .runStarted(let id, let seed):
            run = RunStatus(id: id, seed: seed, total: settings.request.steps, started: Date())
        case .runProgress(let id, let step, let total, let elapsed, let preview):
            if run?.id != id { run = RunStatus(id: id, seed: 0, total: total, started: Date()) }
            run?.step = step
            run?.total = total
            run?.elapsed = elapsed
            if let preview { livePreview = ShownImage(image: preview, version: ImageVersion.next()) }
        case .runFinished(let id, let url, let image, let record, let seconds, let score):
            if let cell = sweep?.cell(ofJob: id) {
                sweep?.images[cell] = ShownImage(image: image, version: ImageVersion.next())
                sweep?.files[cell] = url
                sweep?.scores[cell] = score
            }
            images.store(image, for: url)
            gallery.add(Gallery.Item(url: url, record: record, score: score))
            lastRun = FinishedRun(file: url.lastPathComponent, seconds: seconds, steps: record.steps)
            lastStop = nil
            livePreview = nil
            if run?.id == id { run = nil }
            say("saved \(PathDisplay.abbreviated(url.path))")
        case .runCancelled(let id):
            let at = run.map { " at step \($0.step)/\($0.total)" } ?? ""
            if run?.id == id || run == nil { run = nil }
            livePreview = nil
            lastStop = "stopped\(at)"
            say("run cancelled\(at)")
        case .runFailed(let id, let text):
            if let cell = sweep?.cell(ofJob: id) { sweep?.failed.insert(cell) }
            if run?.id == id || run == nil { run = nil }
            livePreview = nil
            lastStop = "failed: " + text
            fail(text)
        }
    }

    // MARK: actions

    /// `g`: queues `batch` runs with the current settings (seeds drawn or counted up).
    public func generate() {
        commitPromptEditors()
        if case .failed(let reason) = model {
            fail(reason)
            return
        }
        guard !settings.request.prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            fail("the prompt is empty: Tab to Prompt, Enter to edit")
            return
        }
        var jobs: [GenerationJob] = []
        for index in 0..<settings.batch {
            let seed: UInt64
            if settings.seedLocked {
                seed = settings.request.seed &+ UInt64(index)
            } else {
                seed = UInt64.random(in: 0..<(1 << 32))
                settings.request.seed = seed
            }
            jobs.append(GenerationJob(id: nextJobID, settings: settings, seed: seed, outputFolder: outputFolder))
            nextJobID += 1
        }
        let wasBusy = isBusy
        services.queue.enqueue(jobs)
        if generatePressedAt == nil { generatePressedAt = Date() }
        services.saveConfig(config)
        if wasBusy || jobs.count > 1 {
            say("queued \(jobs.count) run\(jobs.count == 1 ? "" : "s") (\(waitingRuns) waiting)")
        } else if settings.request.prompt.contains("S*") && !hasIdentity, case .ready = model {
            say("this model has no PhotoVerse adapter: S* is read as plain text")
        } else if settings.request.prompt.contains("S*") && settings.referencePath == nil && hasIdentity {
            say("no reference photo: S* is read as plain text (Tab to Reference, Enter to pick one)")
        }
    }

    /// `w`: asks for the sweep's axes (the last ones, or a default).
    public func startSweepEntry() {
        valueEditor = TextEditor(lastSweepAxes)
        valueEntryFresh = false
        overlay = .sweepEntry
    }

    /// Queues one run per cell of the sweep the entry line describes: the current settings,
    /// one seed for all, only the swept knobs differing. The big panel shows the grid filling.
    public func startSweep(_ text: String) {
        commitPromptEditors()
        do {
            let (x, y) = try SweepState.axes(parsing: text)
            var base = settings.request(seed: settings.seedLocked ? settings.request.seed : UInt64.random(in: 0..<(1 << 32)),
                                        modelFolder: URL(fileURLWithPath: "/"), modelHasIdentity: hasIdentity)
            base.model = nil
            let plan = SweepPlan(base: base, x: x, y: y)
            try plan.validate()
            lastSweepAxes = text
            var jobs: [GenerationJob] = []
            for index in 0..<(plan.rows * plan.columns) {
                var cellSettings = settings
                cellSettings.request = plan.request(row: index / plan.columns, column: index % plan.columns)
                cellSettings.seedLocked = true
                jobs.append(GenerationJob(id: nextJobID, settings: cellSettings, seed: base.seed, outputFolder: outputFolder))
                nextJobID += 1
            }
            sweep = SweepState(plan: plan, jobIDs: jobs.map(\.id))
            services.queue.enqueue(jobs)
            say("sweep: \(jobs.count) runs queued (seed \(base.seed)); ←→↑↓ pick a cell, Enter loads it, w closes")
        } catch {
            fail("\(error)")
        }
    }

    /// Enter on a sweep cell: its settings become the current ones.
    public func loadSweepCell() {
        guard let sweep else { return }
        settings.load(sweep.request(sweep.selection))
        prompt.setText(settings.request.prompt)
        negative.setText(settings.request.negativePrompt)
        say("loaded sweep cell \(sweep.label(sweep.selection)) (seed \(settings.request.seed) locked)")
    }

    /// Esc: stops the run between steps and drops the queue.
    public func cancelRuns() {
        guard isBusy else { return }
        let dropped = services.queue.cancelAll()
        say("stopping…" + (dropped > 0 ? " (\(dropped) queued run\(dropped == 1 ? "" : "s") dropped)" : ""))
    }

    public func requestQuit() {
        if isBusy {
            overlay = .confirmQuit
        } else {
            quitRequested = true
        }
    }

    /// Picks a reference photo; its crop follows the photo (none for a face that ships with the
    /// model, auto for the user's own) unless `crop` is given (a reloaded run's).
    public func chooseReference(_ url: URL, crop: CropMode? = nil) {
        settings.referencePath = url.path
        browseFolder = url.deletingLastPathComponent()
        reference = nil
        referencePhoto = nil
        referenceFace = nil
        // the shipped faces are already the encoder's masked crops: used whole
        let shipped = isShippedReference(url)
        settings.crop = crop ?? (shipped ? .none : .auto)
        services.loadReference(url.path, settings.crop)
        if !shipped, case .ready(let loaded) = model, let domain = loaded.domain {
            // A real photo on a model that knows drawn faces only would disappoint silently.
            say("note: this model knows \(domain) only; a photo of a real person will not carry over (its model card says more)")
        } else {
            say("reference: \(url.lastPathComponent)" + (shipped ? " (ships with the model: crop none)" : "")
                + (hasIdentity ? "" : " (this model has no adapter: shown, not used)"))
        }
        services.saveConfig(config)
    }

    public func isShippedReference(_ url: URL) -> Bool {
        guard let shippedReferences else { return false }
        return ModelFolder.isShippedReference(url, of: shippedReferences.deletingLastPathComponent())
    }

    public func clearReference() {
        settings.referencePath = nil
        reference = nil
        referencePhoto = nil
        referenceFace = nil
        say("reference cleared")
    }

    /// `c` in the reference panel: auto (detect the face) → none (whole photo) → the last x,y,w,h box.
    public func cycleCrop() {
        settings.cycleCrop()
        if let path = settings.referencePath {
            referenceFace = nil
            services.loadReference(path, settings.crop)
        }
        switch settings.crop {
        case .auto: say("crop: auto (detect the face, 1.3x box)")
        case .none: say("crop: none (whole photo)")
        case .box: say("crop: \(settings.crop) (the box x,y,w,h)")
        }
    }

    /// Reloads a result's parameters (prompt, knobs, seed, reference) from its PNG.
    public func reload(from url: URL) {
        do {
            let record = try GenerationRequest.load(from: url)
            settings.load(record)
            prompt.setText(settings.request.prompt)
            negative.setText(settings.request.negativePrompt)
            if let path = settings.referencePath {
                if FileManager.default.fileExists(atPath: path) {
                    chooseReference(URL(fileURLWithPath: path), crop: settings.crop)
                } else {
                    settings.referencePath = nil
                    clearReference()
                }
            } else {
                reference = nil
                referencePhoto = nil
                referenceFace = nil
            }
            say("loaded the parameters of \(url.lastPathComponent) (seed \(record.seed) locked)")
        } catch {
            fail("\(error)")
        }
    }

    public func nextTheme() {
        guard let name = services.themes.name(after: themeName) else {
            fail("no theme files found (themes/ next to the program, or ~/.config/photoverse/themes)")
            return
        }
        themeName = name
        services.saveConfig(config)
    }

    public func newSeed() {
        settings.request.seed = UInt64.random(in: 0..<(1 << 32))
        say("new seed \(settings.request.seed)" + (settings.seedLocked ? " (locked)" : ""))
    }

    func commitPromptEditors() {
        settings.request.prompt = prompt.text
        settings.request.negativePrompt = negative.text
    }

    /// The config to save: the settings, output folder, theme, history.
    public var config: UserConfig {
        var config = UserConfig()
        config.settings = settings
        config.settings.request.prompt = prompt.text
        config.settings.request.negativePrompt = negative.text
        config.outputFolder = outputFolder.path
        config.theme = themeName
        config.browseFolder = browseFolder.path
        config.promptHistory = promptHistory.entries
        config.negativeHistory = negativeHistory.entries
        return config
    }

    /// The image the preview panel shows: the live preview during a run, else the gallery's selection.
    public var previewImage: ShownImage? {
        if let livePreview { return livePreview }
        return gallery.selected.flatMap { images.image($0.url) }
    }
}
