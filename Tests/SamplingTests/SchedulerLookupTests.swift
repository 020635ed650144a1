import Sampling
import TensorCore
import XCTest

final class SchedulerLookupTests: XCTestCase {
    func testAddNoiseByTimestepMatchesAddNoiseByIndex() throws {
        let original = SeededGaussianSource(seed: 1).normalTensor(shape: [2, 3])
        let noise = SeededGaussianSource(seed: 2).normalTensor(shape: [2, 3])
        for kind in SamplerKind.allCases {
            let scheduler = kind.makeScheduler()
            try scheduler.setTimesteps(4)
            XCTAssertEqual(scheduler.stepIndex(for: scheduler.timesteps[2]), 2, "\(kind)")
            XCTAssertNil(scheduler.stepIndex(for: 12345), "\(kind)")
            XCTAssertEqual(scheduler.addNoise(original: original, noise: noise, timestep: scheduler.timesteps[1]).scalars,
                           scheduler.addNoise(original: original, noise: noise, stepIndex: 1).scalars, "\(kind)")
        }
    }
}
