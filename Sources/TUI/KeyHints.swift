/// The key hints the status line shows for where the keys go now.
enum KeyHints {
    static func line(for app: AppController) -> String {
        switch app.overlay {
        case .help?: return "↑↓ PgUp PgDn scroll  any other key: close the help"
        case .picker?:
            return app.pickerFiltering ? "type to filter  Backspace erase  Enter choose  Esc done"
                : KeyBindings.hints(for: [.picker], app: app).joined(separator: "  ")
        case .valueEntry?, .loraScaleEntry?: return "type a value  Enter set  Esc cancel"
        case .sweepEntry?: return "x KNOB=V1,V2,... [y KNOB=...]  Enter run  Esc cancel"
        case .confirmQuit?: return app.isBusy ? "y quit (stops the run)  n stay" : "y quit  n stay"
        case .confirmDelete?: return "y move to trash  n keep"
        case nil: break
        }
        if app.editingText {
            return "Enter/Esc done  Ctrl-J new line  ↑↓ line/history  Ctrl-W word  Ctrl-U to line start"
        }
        if app.sweep != nil {
            return KeyBindings.hints(for: [.sweep, .anywhere], app: app).joined(separator: "  ")
        }
        if app.focus == .parameters {
            return (app.selectedLoRAHint ?? app.selectedField.hint) + "  │ " + KeyBindings.hints(for: [.parameters, .anywhere], app: app).joined(separator: "  ")
        }
        return KeyBindings.hints(for: [app.focus.keyScope, .anywhere], app: app).joined(separator: "  ")
    }
}
