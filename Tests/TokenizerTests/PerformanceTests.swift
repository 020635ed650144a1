import XCTest
import Tokenizer

/// Loose limits (the machine may be busy); the measured numbers are printed.
final class PerformanceTests: XCTestCase {
    func testLoadTime() throws {
        let start = Date()
        let tokenizer = try CLIPTokenizer(folder: Golden.folder)
        let seconds = Date().timeIntervalSince(start)
        print("CLIPTokenizer load: \(String(format: "%.1f", seconds * 1000)) ms")
        XCTAssertEqual(tokenizer.vocabularySize, 49_408)
        XCTAssertLessThan(seconds, 1.0)
    }

    func testTokenizeTime() throws {
        let tokenizer = try CLIPTokenizer(folder: Golden.folder)
        let prompt = "a photo of S* as an astronaut riding a horse on mars, highly detailed, 8k, trending on artstation"
        var start = Date()
        _ = tokenizer.tokenize(prompt)
        let cold = Date().timeIntervalSince(start)
        let rounds = 2000
        start = Date()
        var total = 0
        for i in 0..<rounds {
            total &+= tokenizer.tokenize(i % 2 == 0 ? prompt : prompt + " ").count
        }
        let warm = Date().timeIntervalSince(start) / Double(rounds)
        print("CLIPTokenizer tokenize: first \(String(format: "%.1f", cold * 1e6)) µs, then \(String(format: "%.1f", warm * 1e6)) µs")
        XCTAssertEqual(total, 77 * rounds)
        XCTAssertLessThan(warm, 0.001)

        let accented = "Portrait de S* au café, Ångström, naïve — “curly” quotes &amp; ﬁne 東京タワー 🐱"
        start = Date()
        for _ in 0..<rounds { total &+= tokenizer.tokenize(accented).count }
        let slowPath = Date().timeIntervalSince(start) / Double(rounds)
        print("CLIPTokenizer tokenize (non-ASCII, entities): \(String(format: "%.1f", slowPath * 1e6)) µs")
        XCTAssertLessThan(slowPath, 0.001)
    }

    func testConcurrentUse() throws {
        let tokenizer = try CLIPTokenizer(folder: Golden.folder, cleaning: .transformers)
        let cases = Golden.shared.cases
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for c in cases.shuffled() where c.name.count % 8 != worker {
                XCTAssertEqual(tokenizer.tokenize(c.text), c.transformers.inputIDs, "case \(c.name)")
            }
        }
    }
}
