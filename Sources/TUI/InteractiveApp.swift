import Foundation
import Models
import Pipeline
import Terminal
#if canImport(Glibc)
import Glibc
#endif

/// The interactive terminal UI (`photoverse` with no arguments). Threads: the main thread
/// owns ncurses and runs the loop below; the engine's queue generates; the reference
/// loader's queue prepares face crops. They talk only through the mailbox, which the loop
/// empties at every tick: `getch` waits at most 25 ms, so keys are answered within one
/// tick and a new preview is on screen at most one tick after the engine posts it.
public enum InteractiveApp {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static let tickMilliseconds: Int32 = 25

    /// Runs the UI until the user quits; returns the exit status.
    public static func run(_ options: AppOptions) throws -> Int32 {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw Failure(description: "the interactive UI needs a terminal on stdin and stdout; scripts use `photoverse generate`")
        }
        let environment = options.environment
        let store = ConfigStore(environment: environment)
        let freshConfig = !FileManager.default.fileExists(atPath: store.file.path)
        var config = try store.load()
        if let file = options.loadFile {
            config.settings.load(try GenerationRequest.load(from: file))
        }
        let outputFolder = options.outputFolder
            ?? config.outputFolder.map { URL(fileURLWithPath: $0) }
            ?? AppOptions.defaultOutputFolder(environment: environment)
        let catalog = ThemeCatalog(folders: ThemeCatalog.standardFolders(configFolder: store.folder, shipped: options.resources.themes))
        let (theme, themeProblem) = try chooseTheme(flag: options.theme, saved: config.theme, catalog: catalog)

        // Ask the terminal before ncurses owns it (the reply would otherwise arrive as keys).
        var imageMode: ImageMode
        var cellSize = PixelSize.typicalCell
        let insideTmux = !(environment["TMUX"] ?? "").isEmpty
        switch options.images {
        case .fixed(let mode):
            imageMode = mode
            if [.sixel, .kitty, .iterm].contains(mode), let probe = TerminalProbe.run(insideTmux: insideTmux) {
                cellSize = probe.cellSize ?? cellSize
            }
        case .auto:
            let probe = TerminalProbe.run(insideTmux: insideTmux)
            imageMode = probe?.bestImageMode(environment: environment) ?? .blocks
            cellSize = probe?.cellSize ?? cellSize
        }
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty

        TerminalRestorer.install()
        defer { TerminalRestorer.uninstall() }
        let screen = try CursesScreen(useColor: !noColor, keyTimeoutMs: tickMilliseconds)
        defer { screen.close() }
        let depth = ColorDepth.detect(environment: environment, terminfoColors: screen.colors)
        // Flushed at once: what is written before an ncurses refresh must reach the terminal
        // before ncurses' own output (ncurses writes to the descriptor, not through stdio).
        let painter = ImageRegionPainter(mode: imageMode, depth: depth, cellSize: cellSize, insideTmux: insideTmux) {
            fputs($0, stdout)
            fflush(stdout)
        }
        let renderer = FrameRenderer(screen: screen, painter: painter, theme: theme)

        let mailbox = Mailbox<EngineEvent>()
        let faces = FaceModels(options.resources)
        let engine = GenerationEngine(modelFolder: options.modelFolder, faces: faces, mailbox: mailbox)
        let trace = LatencyTrace(environment: environment)
        engine.trace = trace
        engine.scoring = options.faceScorer.map(IdentityScoring.init)
        let loader = ReferenceLoader(mailbox: mailbox, faces: faces)
        // Every way out stops the engine first, an error thrown below included.
        var workStopped = false
        func stopWork() {
            guard !workStopped else { return }
            workStopped = true
            let engineIdle = engine.shutdown(within: shutdownLimitSeconds)
            let loaderIdle = loader.shutdown(within: shutdownLimitSeconds)
            if !(engineIdle && loaderIdle) { endWithoutTeardown(status: 1, screen: screen) }
        }
        defer { stopWork() }
        engine.start()
        var saveProblem: String?
        let services = AppController.Services(
            queue: engine,
            loadReference: { loader.load(path: $0, crop: $1) },
            saveConfig: { config in
                do { try store.save(config) } catch { saveProblem = "\(error)" }
            },
            openFile: { FileOpener.open($0, environment: environment) },
            trash: Trash(environment: environment),
            themes: catalog,
            previewPhoto: { loader.preview(path: $0, crop: $1) })
        // A first start takes the model's own size, unless --load brought one.
        let app = AppController(config: config, freshConfig: freshConfig && options.loadFile == nil,
                                modelName: ModelFolderSummary(folder: options.modelFolder).name,
                                outputFolder: outputFolder, themeName: theme.name, services: services,
                                shippedReferences: ModelFolder.shippedReferences(in: options.modelFolder))
        if let themeProblem { app.fail(themeProblem) }

        var needsDraw = true, lastDraw = Date.distantPast
        var keyPressedAt: Date?
        while !app.quitRequested && TerminalRestorer.pendingSignal == 0 {
            let events = mailbox.takeAll()
            for event in events { app.apply(event) }
            if let problem = saveProblem {
                app.fail(problem)
                saveProblem = nil
            }
            if app.themeName != renderer.themeName {
                do {
                    renderer.setTheme(try catalog.load(app.themeName))
                    app.say("theme \(app.themeName)")
                } catch {
                    app.fail("\(error)")
                    app.themeName = renderer.themeName
                }
            }
            if needsDraw || !events.isEmpty || Date().timeIntervalSince(lastDraw) > 0.5 {
                let showedPreview = app.livePreview != nil
                let frameStart = Date()
                renderer.draw(app)
                if trace.isOn && !events.isEmpty { trace.record("frame", since: frameStart) }
                lastDraw = Date()
                needsDraw = false
                if let pressed = keyPressedAt {
                    trace.record("key", since: pressed)
                    keyPressedAt = nil
                }
                if let pressed = app.generatePressedAt, showedPreview {
                    trace.record("first-preview", since: pressed)
                    app.generatePressedAt = nil
                }
            }
            guard let key = screen.nextKey() else { continue }
            keyPressedAt = Date()
            needsDraw = true
            let tooSmall = ScreenLayout.compute(columns: screen.columns, rows: screen.rows) == nil
            // Nothing is visible in a too small terminal: only quitting makes sense there.
            if key != .resize && (!tooSmall || key == .character("q") || app.overlay == .confirmQuit) { app.handle(key) }
        }

        stopWork()
        try? store.save(app.config)
        screen.close()
        let signal = TerminalRestorer.pendingSignal
        if signal != 0 {
            // Die of the signal as the shell expects (status 128 + n), the terminal already restored.
            TerminalRestorer.uninstall()
            Glibc.signal(signal, SIG_DFL)
            raise(signal)
            return 128 + signal
        }
        return 0
    }

    /// How long an ending process waits for the engine: a layer of SD1.5 takes at most a
    /// few seconds, a model that is still loading may take longer (then the process ends anyway).
    static let shutdownLimitSeconds = 10.0

    /// The engine did not stop in time: restore the terminal and end the process at once.
    /// `exit` would run library teardown (OpenBLAS frees its buffers) under the live computation.
    static func endWithoutTeardown(status: Int32, screen: CursesScreen) -> Never {
        screen.close()
        TerminalRestorer.restoreNow()
        let signal = TerminalRestorer.pendingSignal
        fputs("photoverse: the engine did not stop within \(Int(shutdownLimitSeconds)) s; ending it\n", stderr)
        fflush(stdout)
        fflush(stderr)
        _exit(signal != 0 ? 128 + signal : status)
    }

    /// The flag's theme (an error if it cannot be loaded), else the saved one, else dark;
    /// a saved theme that went missing falls back with a message, it does not stop the UI.
    static func chooseTheme(flag: String?, saved: String?, catalog: ThemeCatalog) throws -> (Theme, String?) {
        if let flag { return (try catalog.load(flag), nil) }
        for name in [saved, "dark"].compactMap({ $0 }) {
            if let theme = try? catalog.load(name) { return (theme, nil) }
        }
        return (.builtIn, saved.map { "theme '\($0)' not found; using the terminal's colours" })
    }
}
