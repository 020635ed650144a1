import Foundation

/// Runs one test of this test bundle again in a fresh process (for checks that need a clean
/// process: the allocator's state, what happens at exit), with extra environment variables.
public struct ChildTestProcess {
    public let status: Int32
    public let output: String
    public let processIdentifier: Int32

    /// `test`: "Target.Class/testName". Variables set to nil are removed from the environment.
    /// A child still running after `timeout` seconds is terminated (a hang becomes a failure).
    public static func run(_ test: String, environment changes: [String: String?],
                           timeout: TimeInterval = 600) throws -> ChildTestProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = [test]
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in changes { environment[name] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let limit = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: limit)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        limit.cancel()
        return ChildTestProcess(status: process.terminationStatus, output: output, processIdentifier: process.processIdentifier)
    }

    /// It exited 0 after running exactly one test without a failure.
    public var passedOneTest: Bool { status == 0 && output.contains("Executed 1 test, with 0 failures") }
}
