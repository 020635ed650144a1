import Sampling
import TensorCore
import XCTest

/// Whole sampling loops against diffusers: the fake model of `FakeModel`, the initial noise and
/// every stochastic step's noise from one torch generator (reproduced by `TorchRandomSource`),
/// txt2img and img2img. The first two steps are checked on their own, then the final latents.
final class SamplingLoopTests: XCTestCase {
    private func runLoops(kinds: Set<String>, file: StaticString = #filePath, line: UInt = #line) throws {
        let common = SamplingFixtures.common
        let model = FakeModel(base: Tensor(shape: common.shape, values: common.base))
        let image = Tensor(shape: common.shape, values: common.image)
        let loops = SamplingFixtures.loops.filter { kinds.contains($0.kind) }
        XCTAssertFalse(loops.isEmpty, file: file, line: line)
        for loop in loops {
            let name = loop.name
            let scheduler = SamplingFixtures.scheduler(loop.kind, SamplingFixtures.config(loop.config), eta: loop.eta)
            try scheduler.setTimesteps(loop.steps)
            let random = TorchRandomSource(seed: loop.seed)
            var latents: Tensor
            var start = 0
            if let strength = loop.strength {
                let schedule = try scheduler.img2imgSchedule(strength: strength)
                start = schedule.startIndex
                XCTAssertEqual(schedule.timesteps, loop.timesteps, name, file: file, line: line)
                let noise = random.normalTensor(shape: common.shape)
                latents = scheduler.addNoise(original: image, noise: noise, stepIndex: start)
            } else {
                XCTAssertEqual(scheduler.timesteps, loop.timesteps, name, file: file, line: line)
                latents = random.normalTensor(shape: common.shape) * scheduler.initNoiseSigma
            }
            XCTAssertEqual(start, loop.start_index, name, file: file, line: line)
            assertClose(latents.scalars, loop.initial_latents, "\(name): initial latents", file: file, line: line)

            for (k, i) in (start..<scheduler.timesteps.count).enumerated() {
                let input = scheduler.scaleModelInput(latents, stepIndex: i)
                let output = model(input, scheduler.timesteps[i])
                let result = scheduler.step(modelOutput: output, stepIndex: i, sample: latents, random: random)
                latents = result.prevSample
                guard k < loop.steps_out.count else { continue }
                let expected = loop.steps_out[k]
                XCTAssertEqual(expected.index, i, name, file: file, line: line)
                if let modelInput = expected.model_input {
                    assertClose(input.scalars, modelInput, "\(name): step \(i) model input", file: file, line: line)
                }
                assertClose(result.prevSample.scalars, expected.prev_sample, "\(name): step \(i) prev_sample",
                            file: file, line: line)
                assertClose(result.predOriginalSample.scalars, expected.pred_original_sample,
                            "\(name): step \(i) pred_original_sample", file: file, line: line)
            }
            assertClose(latents.scalars, loop.final, "\(name): final latents", file: file, line: line)
        }
    }

    func testDDIM() throws { try runLoops(kinds: ["ddim"]) }
    func testEuler() throws { try runLoops(kinds: ["euler"]) }
    func testEulerAncestral() throws { try runLoops(kinds: ["euler_a"]) }
    func testDPMSolverPlusPlus2MKarras() throws { try runLoops(kinds: ["dpmpp_2m_karras"]) }
    func testDPMSolverPlusPlus2M() throws { try runLoops(kinds: ["dpmpp_2m"]) }
    func testLCM() throws { try runLoops(kinds: ["lcm"]) }

    func testEveryFixtureLoopIsCovered() {
        let kinds = Set(SamplerKind.allCases.map(\.rawValue))
        for loop in SamplingFixtures.loops { XCTAssert(kinds.contains(loop.kind), loop.kind) }
    }

    func testDPMSolverLastStepReturnsTheX0Estimate() throws {
        let scheduler = DPMSolverMultistepScheduler()
        try scheduler.setTimesteps(3)
        let model = FakeModel(base: Tensor(shape: [1, 4, 5, 5], values: SamplingFixtures.common.base))
        var latents = SeededGaussianSource(seed: 3).normalTensor(shape: [1, 4, 5, 5])
        var last: SchedulerStepOutput?
        for i in 0..<3 {
            last = scheduler.step(modelOutput: model(latents, scheduler.timesteps[i]), stepIndex: i, sample: latents)
            latents = last!.prevSample
        }
        XCTAssertEqual(last!.prevSample.scalars, last!.predOriginalSample.scalars)
    }

    func testStochasticFlags() {
        XCTAssertFalse(DDIMScheduler().usesNoise)
        XCTAssertTrue(DDIMScheduler(eta: 0.5).usesNoise)
        XCTAssertFalse(EulerDiscreteScheduler().usesNoise)
        XCTAssertTrue(EulerAncestralDiscreteScheduler().usesNoise)
        XCTAssertFalse(DPMSolverMultistepScheduler().usesNoise)
        XCTAssertTrue(LCMScheduler().usesNoise)
    }
}
