import XCTest
import Tokenizer

/// What the tokenizer does at speed: loading, many calls, the slow (non-ASCII) path, several
/// threads at once. No time limits here (a busy machine is no fault of the code); the measured
/// times are printed, and `PHOTOVERSE_BENCH=1` runs more rounds for steadier figures.
final class PerformanceTests: XCTestCase {
    static var rounds: Int { ProcessInfo.processInfo.environment["PHOTOVERSE_BENCH"] == "1" ? 20_000 : 500 }

    func testLoadTime() throws {
        let start = Date()
        let tokenizer = try CLIPTokenizer(folder: Golden.folder)
        let seconds = Date().timeIntervalSince(start)
        print("CLIPTokenizer load: \(String(format: "%.1f", seconds * 1000)) ms")
        XCTAssertEqual(tokenizer.vocabularySize, 49_408)
    }

    func testTokenizeTime() throws {
        let tokenizer = try CLIPTokenizer(folder: Golden.folder)
        let prompt = "a photo of S* as an astronaut riding a horse on mars, highly detailed, 8k, trending on artstation"
        var start = Date()
        let first = tokenizer.tokenize(prompt)
        let cold = Date().timeIntervalSince(start)
        let rounds = Self.rounds
        start = Date()
        var total = 0
        for i in 0..<rounds {
            let ids = tokenizer.tokenize(i % 2 == 0 ? prompt : prompt + " ")
            total &+= ids.count
            if i < 2 { XCTAssertEqual(ids, first, "a trailing space changes nothing") }
        }
        let warm = Date().timeIntervalSince(start) / Double(rounds)
        print("CLIPTokenizer tokenize: first \(String(format: "%.1f", cold * 1e6)) µs, then \(String(format: "%.1f", warm * 1e6)) µs")
        XCTAssertEqual(total, 77 * rounds)

        let accented = "Portrait de S* au café, Ångström, naïve — “curly” quotes &amp; ﬁne 東京タワー 🐱"
        let once = tokenizer.tokenize(accented)
        start = Date()
        var differing = 0
        for _ in 0..<rounds where tokenizer.tokenize(accented) != once { differing += 1 }
        let slowPath = Date().timeIntervalSince(start) / Double(rounds)
        XCTAssertEqual(differing, 0, "the same text, the same ids every time")
        print("CLIPTokenizer tokenize (non-ASCII, entities): \(String(format: "%.1f", slowPath * 1e6)) µs")
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
