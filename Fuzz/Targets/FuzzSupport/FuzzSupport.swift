import Foundation
import FuzzDriver

/// What the fuzz targets check beyond "no crash".
public enum FuzzCheck {
    /// A refusal must read as one clear line: not empty, no newline, no control character (a
    /// name or path from the input must have gone through `terminalSafe`). Anything else aborts,
    /// so libFuzzer records the input as a finding.
    public static func clearError(_ error: Error, _ target: String) {
        let text = "\(error)"
        let control = text.unicodeScalars.first {
            $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029
        }
        if text.isEmpty || control != nil {
            fatalError("\(target): unclear error message (\(type(of: error))): \(text.debugDescription)")
        }
    }

    /// Aborts with `message` unless `condition` holds (a broken invariant is a finding).
    public static func expect(_ condition: @autoclosure () -> Bool, _ target: String, _ message: @autoclosure () -> String) {
        if !condition() { fatalError("\(target): \(message())") }
    }

    /// Runs libFuzzer with this process's command line on `testOneInput`; never returns.
    public static func run(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
        exit(pv_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
    }

    /// The fuzzer's bytes as Data (libFuzzer may pass a null pointer for an empty input).
    public static func data(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Data {
        guard let start, count > 0 else { return Data() }
        return Data(bytes: start, count: count)
    }

    /// The repository root: this file is Fuzz/Targets/FuzzSupport/FuzzSupport.swift.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
