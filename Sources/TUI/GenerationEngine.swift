import Foundation
import Formats
import Pipeline

/// Runs the pipeline on its own serial Dispatch queue, one job after another, and reports
/// through the mailbox: the UI thread never waits for it. Cancelling sets a flag the
/// progress callback reads after every step (it then returns false: GenerationCancelled).
public final class GenerationEngine: GenerationQueue, @unchecked Sendable {
    private let queue = DispatchQueue(label: "photoverse.engine", qos: .userInitiated)
    private let lock = NSLock()
    private var waiting: [GenerationJob] = []
    private var runningJob: Int?
    private var cancelRequested = false
    // Touched only on `queue`.
    private var pipeline: GenerationPipeline?
    private var loadFailure: String?

    private let mailbox: Mailbox<EngineEvent>
    public let modelFolder: URL

    public init(modelFolder: URL, mailbox: Mailbox<EngineEvent>) {
        self.modelFolder = modelFolder
        self.mailbox = mailbox
    }

    /// Loads the model in the background; `modelLoaded` or `modelFailed` follows.
    public func start() {
        queue.async { [self] in
            let started = Date()
            do {
                let pipeline = try GenerationPipeline(modelFolder: modelFolder)
                self.pipeline = pipeline
                let summary = ModelFolderSummary(folder: modelFolder)
                mailbox.post(.modelLoaded(LoadedModel(name: summary.name, hasIdentity: pipeline.identity != nil,
                                                      nativeSize: summary.nativeSize,
                                                      loadSeconds: Date().timeIntervalSince(started))))
            } catch {
                loadFailure = "cannot load the model: \(error)"
                mailbox.post(.modelFailed(loadFailure!))
            }
        }
    }

    public func enqueue(_ jobs: [GenerationJob]) {
        lock.lock()
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
        if runningJob != nil { cancelRequested = true }
        return dropped
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

    private var shouldCancel: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelRequested
    }

    private func runNext() {
        lock.lock()
        guard !waiting.isEmpty else {
            lock.unlock()
            return
        }
        let job = waiting.removeFirst()
        runningJob = job.id
        cancelRequested = false
        lock.unlock()
        defer {
            lock.lock()
            runningJob = nil
            lock.unlock()
        }
        run(job)
    }

    private func run(_ job: GenerationJob) {
        guard let pipeline else {
            mailbox.post(.runFailed(id: job.id, message: loadFailure ?? "the model is not loaded"))
            return
        }
        mailbox.post(.runStarted(id: job.id, seed: job.seed))
        let started = Date()
        do {
            let settings = job.settings
            var request = settings.request(seed: job.seed)
            var personalized = false, usedStrength = false
            if let path = settings.referencePath, let identity = pipeline.identity {
                let crop = try CropMode(parsing: settings.crop)
                let reference = try ReferencePreparation.prepare(file: URL(fileURLWithPath: path), crop: crop,
                                                                 outputSize: identity.inputSize)
                request.personalization = settings.personalization(reference: reference.image)
                personalized = true
                if let strength = settings.strength {
                    guard settings.width == settings.height else {
                        throw EngineFailure("Strength needs a square size (width = height), got \(settings.width)x\(settings.height)")
                    }
                    // The paper's image-to-image trick: start from the noised reference.
                    let start = try ReferencePreparation.prepare(file: URL(fileURLWithPath: path), crop: crop, outputSize: settings.width)
                    request.initImage = start.image.tensor(range: .minusOneToOne)
                    request.strength = strength
                    usedStrength = true
                }
            }
            let result = try pipeline.generate(request) { [self] progress in
                mailbox.post(.runProgress(id: job.id, step: progress.step, total: progress.total, elapsed: progress.elapsed,
                                          preview: RGBImage(tensor: progress.preview, range: .zeroToOne)))
                return !shouldCancel
            }
            let image = RGBImage(tensor: result.image, range: .zeroToOne)
            let record = settings.record(seed: job.seed, model: modelFolder.path, personalized: personalized,
                                         usedStrength: usedStrength)
            let url = try record.save(image, inFolder: job.outputFolder)
            mailbox.post(.runFinished(id: job.id, url: url, image: image, record: record,
                                      seconds: Date().timeIntervalSince(started)))
        } catch is GenerationCancelled {
            mailbox.post(.runCancelled(id: job.id))
        } catch {
            mailbox.post(.runFailed(id: job.id, message: "\(error)"))
        }
    }
}

struct EngineFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
