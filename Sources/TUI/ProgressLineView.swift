import Terminal

/// The line above the status line: a bar with step i/N, s/step, elapsed and ETA during a
/// run; otherwise how the last run went or how the model is doing.
enum ProgressLineView {
    static func draw(_ app: AppController, in rect: CellRect, on canvas: Canvas) {
        let waiting = app.waitingRuns
        let queued = waiting > 0 ? "  +\(waiting) queued" : ""
        if let run = app.run {
            let barWidth = min(30, rect.width / 4)
            var x = rect.x + 1
            x += canvas.text(ProgressText.bar(fraction: run.fraction, width: barWidth), x: x, y: rect.y, role: .progress)
            let summary = run.step == 0 ? "starting (seed \(run.seed))…"
                : ProgressText.summary(step: run.step, total: run.total, secondsPerStep: run.secondsPerStep, elapsed: run.elapsed)
            canvas.text(" " + summary + queued, x: x, y: rect.y, width: rect.maxX - x)
            return
        }
        let text: String
        switch app.model {
        case .loading(let name):
            text = "loading model \(name)…" + (waiting > 0 ? "  \(waiting) run(s) will start when it is ready" : "")
        case .failed(let reason):
            canvas.text(" " + reason, x: rect.x, y: rect.y, role: .error, width: rect.width)
            return
        case .ready(let model):
            if app.isBusy {
                text = "starting…" + queued
            } else if let stop = app.lastStop {
                text = stop
            } else if let last = app.lastRun {
                text = "done: \(last.file) in \(ProgressText.duration(last.seconds)) (\(String(format: "%.2f", last.seconds / Double(max(1, last.steps)))) s/step)"
            } else {
                text = "model \(model.name) ready · \(model.nativeSize)x\(model.nativeSize) native"
                    + (model.hasIdentity ? " · PhotoVerse adapter" : " · no adapter (identity knobs off)")
            }
        }
        canvas.text(" " + text, x: rect.x, y: rect.y, role: .hint, width: rect.width)
    }
}
