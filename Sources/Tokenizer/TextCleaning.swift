/// How text is cleaned before it is split and byte-pair encoded.
///
/// The two agree on ordinary prompts (plain words, punctuation, digits, accents, CJK, emoji,
/// extra whitespace); they differ on HTML entities, curly quotes, ligatures, fullwidth forms,
/// control characters, a word-final capital sigma and special-token strings in the text.
public enum TextCleaning: Sendable, Equatable {
    /// OpenAI CLIP's clean-up, which SD 1.x's text encoder was trained with:
    /// `ftfy.fix_text` (the reproducible part, see `FtfyFixes`), `html.unescape` twice,
    /// whitespace collapsed and stripped, Python's `str.lower` (word-final Σ becomes ς).
    /// `<|startoftext|>` / `<|endoftext|>` written in the text (any case) become the special ids
    /// when they start a match of the split pattern, as in OpenAI's `SimpleTokenizer`.
    case clip
    /// What `transformers.CLIPTokenizer` (5.x, the tokenizers backend that diffusers uses) does:
    /// exact `<|startoftext|>` / `<|endoftext|>` become the special ids anywhere, the rest is
    /// NFC-normalized, whitespace runs become one space, and each character is lower-cased on its
    /// own (so Σ is always σ). No ftfy, no HTML unescaping; other spellings such as
    /// `<|ENDOFTEXT|>` are ordinary text.
    case transformers
}
