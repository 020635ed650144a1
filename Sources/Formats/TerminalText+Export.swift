// `terminalSafe` lives in its own dependency-free module so that every layer (the tokenizer
// and the schedulers too) prints input the same way; Formats' users get it with Formats.
@_exported import TerminalText
