import Foundation
import Terminal

/// Keys while text is edited: the prompt editors and the parameter value entry.
extension AppController {
    func handleEditing(_ key: Key) {
        let isPrompt = focus == .prompt
        var editor = isPrompt ? prompt : negative
        var history = isPrompt ? promptHistory : negativeHistory
        defer {
            if isPrompt {
                prompt = editor
                promptHistory = history
            } else {
                negative = editor
                negativeHistory = history
            }
        }
        let width = isPrompt ? promptWidth : negativeWidth
        switch key {
        case .enter, .escape, .tab, .backTab:
            editingText = false
            history.record(editor.text)
            storeEditedText(prompt: isPrompt ? editor.text : nil, negative: isPrompt ? nil : editor.text)
            if key == .tab { focus = focus.next(1) }
            if key == .backTab { focus = focus.next(-1) }
        case .control("j"): editor.insert("\n")
        case .character(let c): editor.insert(c)
        case .backspace: editor.deleteBackward()
        case .delete, .control("d"): editor.deleteForward()
        case .control("w"), .alt("\u{7F}"): editor.deleteWordBackward()
        case .control("u"): editor.deleteToLineStart()
        case .control("k"): editor.deleteToLineEnd()
        case .left, .control("b"): editor.moveLeft()
        case .right, .control("f"): editor.moveRight()
        case .alt("b"): editor.moveWordLeft()
        case .alt("f"): editor.moveWordRight()
        case .home, .control("a"): editor.moveToLineStart(width: width)
        case .end, .control("e"): editor.moveToLineEnd(width: width)
        case .up:
            if !editor.moveVertically(-1, width: width), let earlier = history.previous(current: editor.text) {
                editor.setText(earlier)
            }
        case .down:
            if !editor.moveVertically(1, width: width), let later = history.next() { editor.setText(later) }
        case .control("p"):
            if let earlier = history.previous(current: editor.text) { editor.setText(earlier) }
        case .control("n"):
            if let later = history.next() { editor.setText(later) }
        default: break
        }
    }

    private func storeEditedText(prompt newPrompt: String?, negative newNegative: String?) {
        if let newPrompt { settings.request.prompt = newPrompt }
        if let newNegative { settings.request.negativePrompt = newNegative }
    }

    func handleValueEntry(_ key: Key, _ field: ParameterField) {
        handleValueEntryKey(key) { text in
            do {
                try field.set(&settings, from: text)
            } catch {
                fail("\(error)")
            }
        }
    }

    /// A value's entry line (a parameter, a LoRA's scale): it starts with the current value; the
    /// first character typed replaces it (as in a spreadsheet cell), editing keys first keep it
    /// for changing; Enter closes it and hands the text to `commit`, Esc closes it.
    func handleValueEntryKey(_ key: Key, commit: (String) -> Void) {
        let fresh = valueEntryFresh
        valueEntryFresh = false
        switch key {
        case .enter:
            overlay = nil
            commit(valueEditor.text)
        case .escape:
            overlay = nil
        case .character(let c):
            if fresh { valueEditor.setText("") }
            valueEditor.insert(c)
        default:
            editEntryLine(key)
        }
    }

    /// The editing keys of a one-line entry (a value, a sweep's axes).
    func editEntryLine(_ key: Key) {
        switch key {
        case .character(let c): valueEditor.insert(c)
        case .backspace: valueEditor.deleteBackward()
        case .delete: valueEditor.deleteForward()
        case .left: valueEditor.moveLeft()
        case .right: valueEditor.moveRight()
        case .home, .control("a"): valueEditor.moveToStart()
        case .end, .control("e"): valueEditor.moveToEnd()
        case .control("u"): valueEditor.setText("")
        default: break
        }
    }
}
