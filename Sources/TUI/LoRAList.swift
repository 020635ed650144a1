import Foundation
import Pipeline
import Terminal

/// What the file picker is choosing.
public enum PickerPurpose: Equatable, Sendable {
    case reference, lora
}

/// The LoRA list under the parameter knobs: one row per file of the request (its name and
/// scale), then an "add" row. ←→ and Enter change a file's scale as they change a knob; the
/// scales are part of the request, so the next run uses them (the engine keeps the model and
/// the files it read, and applies the new scales at run time).
extension AppController {
    /// Scales ←→ can reach; typing accepts the request's whole range.
    static let loraStepRange: ClosedRange<Double> = -2...2

    /// The index of the selected LoRA file, nil on a knob or on the "add" row.
    public var selectedLoRAFile: Int? {
        guard let index = selectedLoRA, index < settings.request.loras.count else { return nil }
        return index
    }

    /// The status line's explanation while a LoRA row is selected.
    var selectedLoRAHint: String? {
        guard let index = selectedLoRA else { return nil }
        if index < settings.request.loras.count {
            return "LoRA \(URL(fileURLWithPath: settings.request.loras[index].path).lastPathComponent): scale (0 = off, negative pushes away)"
        }
        return "Enter or a: add a LoRA file; each has its own scale"
    }

    /// A LoRA row's label and value, for the panel (a file that has gone says so: a run refuses it).
    public static func loraRow(_ lora: LoRAChoice) -> (label: String, value: String) {
        let scale = ParameterField.format(lora.scale)
        return ("LoRA " + URL(fileURLWithPath: lora.path).deletingPathExtension().lastPathComponent,
                FileManager.default.fileExists(atPath: lora.path) ? scale : "missing · " + scale)
    }

    func openLoRAPicker() {
        pickerPurpose = .lora
        picker = FileBrowser(folder: loraBrowseFolder ?? browseFolder, extensions: ["safetensors"])
        pickerFiltering = false
        overlay = .picker
    }

    /// Adds a picked file at scale 1 and selects its row (a file already listed is only selected).
    func addLoRA(_ url: URL) {
        loraBrowseFolder = url.deletingLastPathComponent()
        if let existing = settings.request.loras.firstIndex(where: { $0.path == url.path }) {
            selectedLoRA = existing
            return say("\(url.lastPathComponent) is in the LoRA list already")
        }
        settings.request.loras.append(LoRAChoice(path: url.path, scale: 1))
        selectedLoRA = settings.request.loras.count - 1
        focus = .parameters
        say("LoRA \(url.lastPathComponent) added at scale 1.0 (←→ change it, x removes it)")
        services.saveConfig(config)
    }

    func removeSelectedLoRA() {
        guard let index = selectedLoRAFile else { return }
        let removed = settings.request.loras.remove(at: index)
        say("LoRA \(URL(fileURLWithPath: removed.path).lastPathComponent) removed")
        services.saveConfig(config)
    }

    func adjustLoRA(_ index: Int, by direction: Int, coarse: Bool) {
        guard index < settings.request.loras.count else { return openLoRAPicker() }
        // the knobs' steps: 0.1, or 0.5 with PgUp/PgDn, on the 0.1 grid
        let step = 0.1
        let value = (Double(settings.request.loras[index].scale) + Double(direction) * (coarse ? 5 : 1) * step) / step
        let range = Self.loraStepRange
        settings.request.loras[index].scale = Float(min(max(value.rounded() * step, range.lowerBound), range.upperBound))
    }

    func startLoRAEntry(_ index: Int) {
        guard index < settings.request.loras.count else { return openLoRAPicker() }
        valueEditor = TextEditor(ParameterField.format(settings.request.loras[index].scale))
        valueEntryFresh = true
        overlay = .loraScaleEntry(index)
    }

    func handleLoRAScaleEntry(_ key: Key, _ index: Int) {
        handleValueEntryKey(key) { entered in
            let text = entered.trimmingCharacters(in: .whitespaces)
            let range = RequestLimits.loraFileScale
            guard let value = Float(text), value.isFinite, range.contains(value) else {
                return fail("LoRA scale: '\(text)' is not a number in \(ParameterField.format(range.lowerBound))…\(ParameterField.format(range.upperBound))")
            }
            if index < settings.request.loras.count { settings.request.loras[index].scale = value }
        }
    }
}
