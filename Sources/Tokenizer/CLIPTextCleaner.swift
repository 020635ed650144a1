/// OpenAI CLIP's text clean-up (`TextCleaning.clip`):
/// `whitespace_clean(basic_clean(text)).lower()` where `basic_clean` is
/// `html.unescape(html.unescape(ftfy.fix_text(text))).strip()`.
enum CLIPTextCleaner {
    static func clean(_ text: String) -> [Unicode.Scalar] {
        var scalars = Array(text.unicodeScalars)
        let plainASCII = scalars.allSatisfy { s in
            (0x20...0x7E).contains(s.value) && s != "&" || s == "\t" || s == "\n" || s == "\r"
        }
        if !plainASCII {
            scalars = FtfyFixes.fixText(scalars)
            scalars = HTMLUnescape.python(HTMLUnescape.python(scalars))
        }
        scalars = collapseWhitespace(scalars)
        return Lowercasing.python(scalars)
    }

    /// `" ".join(text.split())`: Python's `str.isspace` is White_Space plus U+001C-U+001F.
    static func collapseWhitespace(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var pendingSpace = false
        for s in text {
            if isPythonSpace(s) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(s)
            }
        }
        return out
    }

    static func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
        (0x1C...0x1F).contains(s.value) || CharacterClass.of(s) == .whitespace
    }
}
