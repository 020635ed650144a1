import Foundation
@testable import TUI
import XCTest

final class ProgressAndMailboxTests: XCTestCase {
    func testProgressWords() {
        XCTAssertEqual(ProgressText.duration(0), "0:00")
        XCTAssertEqual(ProgressText.duration(61.4), "1:01")
        XCTAssertEqual(ProgressText.duration(3725), "1:02:05")
        XCTAssertEqual(ProgressText.summary(step: 12, total: 25, secondsPerStep: 0.05, elapsed: 0.6),
                       "12/25  0.05 s/step  0:01 elapsed  ETA 0:01")
        XCTAssertEqual(ProgressText.secondsPerStep(2.34), "2.3 s/step")
        XCTAssertEqual(ProgressText.bar(fraction: 0.5, width: 8), "████░░░░")
        XCTAssertEqual(ProgressText.bar(fraction: 2, width: 3), "███")
    }

    func testMailboxDeliversEverythingInOrderAcrossThreads() {
        let mailbox = Mailbox<Int>()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<1000 { mailbox.post(worker * 1000 + i) }
        }
        let all = mailbox.takeAll()
        XCTAssertEqual(all.count, 4000)
        for worker in 0..<4 {
            let mine = all.filter { $0 / 1000 == worker }
            XCTAssertEqual(mine, mine.sorted(), "each sender's messages stay in order")
        }
        XCTAssertTrue(mailbox.takeAll().isEmpty)
    }
}
