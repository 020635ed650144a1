import Foundation
import Formats
import Models
import Pipeline

/// Runs the pipeline on its own serial Dispatch queue, one job after another, and reports
/// through the mailbox: the UI thread never waits for it. Cancelling raises the running job's
/// stop flag, which the UNet and VAE check between layers (GenerationCancelled follows).
/// Before the process ends, `shutdown(within:)` stops it and waits for the queue: a process
/// must not run its library teardown (OpenBLAS frees its buffers at exit) under a live GEMM.
public final class GenerationEngine: GenerationQueue, @unchecked Sendable {
    private let queue = DispatchQueue(label: "photoverse.engine", qos: .userInitiated)
    private let lock = NSLock()
    private var waiting: [GenerationJob] = []
    private var runningJob: Int?
    private var runningStop: StopFlag?
    private var closed = false
    // Touched only on `queue`.
    private var pipeline: GenerationPipeline?
    private var loadFailure: String?

    private let mailbox: Mailbox<EngineEvent>
    public let modelFolder: URL
    /// PHOTOVERSE_TRACE's log, when on: the engine marks when a run and a save start.
    var trace: LatencyTrace?
    /// Scores each result against the request's references (set before `start`); nil = no scores.
    public var scoring: IdentityScoring?

    /// The face detector and mesh the pipeline crops references with.
    let faces: FaceModels

    public init(modelFolder: URL, faces: FaceModels, mailbox: Mailbox<EngineEvent>) {
        self.modelFolder = modelFolder
        self.faces = faces
        self.mailbox = mailbox
    }

    /// Loads the model in the background; `modelLoaded` or `modelFailed` follows.
    public func start() {
        queue.async { [self] in
            let started = Date()
            do {
                let pipeline = try GenerationPipeline(modelFolder: modelFolder, faces: faces)
                // The folder's TAESD draws the previews (a broken one is reported, not skipped).
                if let taesd = ModelFolder.tinyAutoencoderFolder(in: modelFolder) {
                    try pipeline.useTinyAutoencoder(folder: taesd)
                }
                self.pipeline = pipeline
                let summary = ModelFolderSummary(folder: modelFolder)
                let metadata = pipeline.identity?.adapter.metadata
                mailbox.post(.modelLoaded(LoadedModel(name: summary.name, hasIdentity: pipeline.identity != nil,
                                                      nativeSize: summary.nativeSize,
                                                      loadSeconds: Date().timeIntervalSince(started),
                                                      examplePrompt: metadata?.examplePrompt, domain: metadata?.domain,
                                                      hasTinyAutoencoder: pipeline.tinyAutoencoder != nil)))
            } catch {
                loadFailure = "cannot load the model: \(error)"
                mailbox.post(.modelFailed(loadFailure!))
            }
        }
    }

    public func enqueue(_ jobs: [GenerationJob]) {
        lock.lock()
        guard !closed else {
            lock.unlock()
            return
        }
        waiting += jobs
        lock.unlock()
        for _ in jobs { queue.async { [self] in runNext() } }
    }

    @discardableResult
    public func cancelAll() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let dropped = waiting.count
        waiting = []
        runningStop?.raise()
        return dropped
    }

    /// Stops the running job, drops the queue, refuses new jobs and waits at most `seconds`
    /// for the engine's queue to be idle. False when it is still busy (a model still loading,
    /// or one layer that outlasts the limit): the caller must then end the process without
    /// library teardown (`_exit`).
    public func shutdown(within seconds: Double) -> Bool {
        lock.lock()
        closed = true
        waiting = []
        runningStop?.raise()
        lock.unlock()
        return Self.drain(queue, within: seconds)
    }

    /// Waits at most `seconds` for everything queued on a serial queue before now.
    static func drain(_ queue: DispatchQueue, within seconds: Double) -> Bool {
        let idle = DispatchSemaphore(value: 0)
        queue.async { idle.signal() }
        return idle.wait(timeout: .now() + seconds) == .success
    }

    public var waitingCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return waiting.count
    }

    public var isBusy: Bool {
        lock.lock()
        defer { lock.unlock() }
        return runningJob != nil || !waiting.isEmpty
    }

    /// Blocks until the engine's queue is idle (tests, and a clean shutdown).
    public func waitUntilIdle() { queue.sync {} }

    private func runNext() {
        lock.lock()
        guard !waiting.isEmpty else {
            lock.unlock()
            return
        }
        let job = waiting.removeFirst()
        let stop = StopFlag()
        runningJob = job.id
        runningStop = stop
        lock.unlock()
        defer {
            lock.lock()
            runningJob = nil
            runningStop = nil
            lock.unlock()
        }
        run(job, stop: stop)
    }

    /// The request a job runs: the settings' request with the job's seed, on this model.
    public func request(for job: GenerationJob, modelHasIdentity: Bool) -> GenerationRequest {
        job.settings.request(seed: job.seed, modelFolder: modelFolder, modelHasIdentity: modelHasIdentity)
    }

    private func run(_ job: GenerationJob, stop: StopFlag) {
        guard let pipeline else {
            mailbox.post(.runFailed(id: job.id, message: loadFailure ?? "the model is not loaded"))
            return
        }
        mailbox.post(.runStarted(id: job.id, seed: job.seed))
        trace?.mark("run-start")
        let started = Date()
        do {
            var request = self.request(for: job, modelHasIdentity: pipeline.identity != nil)
            // The TAESD decoder where the folder has one (a loaded setting may ask for it elsewhere),
            // and the record names it.
            if pipeline.tinyAutoencoder == nil, request.decoder == .taesd { request.decoder = .full }
            if request.decoder == .taesd { request.taesd = pipeline.tinyAutoencoderFolder?.path }
            let result = try pipeline.generate(request, stop: stop) { [self] progress in
                mailbox.post(.runProgress(id: job.id, step: progress.step, total: progress.total, elapsed: progress.elapsed,
                                          preview: progress.preview.map { RGBImage(tensor: $0, range: .zeroToOne) }))
                return true
            }
            let image = RGBImage(tensor: result.image, range: .zeroToOne)
            let score = scoring?.score(image, for: request)
            trace?.mark("save-start")
            let url = try request.save(image, inFolder: job.outputFolder, score: score)
            mailbox.post(.runFinished(id: job.id, url: url, image: image, record: request,
                                      seconds: Date().timeIntervalSince(started), score: score))
        } catch is GenerationCancelled {
            mailbox.post(.runCancelled(id: job.id))
        } catch {
            mailbox.post(.runFailed(id: job.id, message: "\(error)"))
        }
    }
}
