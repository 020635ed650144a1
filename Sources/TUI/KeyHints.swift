/// The key hints the status line shows for where the keys go now.
enum KeyHints {
    static func line(for app: AppController) -> String {
        let stop = app.isBusy ? "  Esc stop" : ""
        switch app.overlay {
        case .help?: return "any key: close the help"
        case .picker?:
            return app.pickerFiltering ? "type to filter  Backspace erase  Enter choose  Esc done"
                : "↑↓/jk move  Enter open/choose  ←/h up a folder  / filter  ~ home  Esc close"
        case .valueEntry?: return "type a value  Enter set  Esc cancel"
        case .confirmQuit?: return "y quit (stops the run)  n stay"
        case .confirmDelete?: return "y move to trash  n keep"
        case nil: break
        }
        if app.editingText {
            return "Enter/Esc done  Ctrl-J new line  ↑↓ line/history  Ctrl-W word  Ctrl-U to line start"
        }
        switch app.focus {
        case .reference: return "Enter pick photo  c crop  x clear  Tab panel  g generate  ? help  q quit" + stop
        case .prompt, .negative: return "Enter edit  ↑↓ prompt/negative  Tab panel  g generate  t theme  ? help  q quit" + stop
        case .parameters: return app.selectedField.hint + "  │ ←→ adjust  Enter type" + stop
        case .gallery: return "←→ browse  c compare  o open  d delete  r reload params  g generate" + stop
        }
    }
}
