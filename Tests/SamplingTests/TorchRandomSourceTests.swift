import Sampling
import TensorCore
import XCTest

/// `TorchRandomSource` against `torch.randn(shape, generator=torch.Generator().manual_seed(seed))`
/// from torch 2.13: bit-for-bit, for sizes on both sides of torch's 16-element switch, sizes that
/// are not multiples of 16, a full SD latent, and several calls on one generator.
final class TorchRandomSourceTests: XCTestCase {
    func testAVX2KernelMatchesTorchBitForBit() {
        XCTAssertEqual(SamplingFixtures.randnAVX2.cpu_capability, "AVX2")
        check(SamplingFixtures.randnAVX2, kernel: .avx2)
    }

    func testScalarKernelMatchesTorchDefaultCapabilityBitForBit() {
        XCTAssertEqual(SamplingFixtures.randnDefault.cpu_capability, "DEFAULT")
        check(SamplingFixtures.randnDefault, kernel: .scalar)
    }

    private func check(_ fixture: SamplingFixtures.Randn, kernel: TorchRandomSource.Kernel,
                       file: StaticString = #filePath, line: UInt = #line) {
        for testCase in fixture.cases {
            let source = TorchRandomSource(seed: testCase.seed, kernel: kernel)
            for (callIndex, call) in testCase.calls.enumerated() {
                let tensor = source.normalTensor(shape: call.shape)
                XCTAssertEqual(tensor.shape, call.shape)
                let values = tensor.scalars
                let indices = call.indices ?? Array(values.indices)
                var mismatches = 0
                var first = ""
                for (k, i) in indices.enumerated() where values[i].bitPattern != call.values[k].bitPattern {
                    if mismatches == 0 { first = "[\(i)] \(values[i]) vs torch \(call.values[k])" }
                    mismatches += 1
                }
                XCTAssertEqual(mismatches, 0, "seed \(testCase.seed) call \(callIndex) shape \(call.shape): "
                               + "\(mismatches) values differ, first \(first)", file: file, line: line)
                if let sum = call.sum {
                    let total = values.reduce(0.0) { $0 + Double($1) }
                    XCTAssertEqual(total, sum, accuracy: 1e-6 * Double(values.count),
                                   "seed \(testCase.seed) shape \(call.shape): sum", file: file, line: line)
                }
            }
        }
    }

    func testFixtureTensorsComeFromTheTorchGenerator() {
        let common = SamplingFixtures.common
        XCTAssertEqual(TorchRandomSource(seed: 1000).normalTensor(shape: common.shape).scalars, common.base)
        XCTAssertEqual((TorchRandomSource(seed: 2000).normalTensor(shape: common.shape) * 0.5).scalars, common.image)
    }

    func testSameSeedSameStreamAndCallsContinue() {
        let a = TorchRandomSource(seed: 5), b = TorchRandomSource(seed: 5)
        let first = a.normal(count: 40)
        XCTAssertEqual(first, b.normal(count: 40))
        XCTAssertNotEqual(first, a.normal(count: 40), "a second call continues the stream")
    }

    func testScalarPathCachesTheSecondBoxMullerValue() {
        // Two one-element draws use one Box-Muller pair: the second is r·sin θ of the first pair,
        // so it equals the second element of a two-element draw.
        let pair = TorchRandomSource(seed: 11).normal(count: 2)
        let single = TorchRandomSource(seed: 11)
        XCTAssertEqual([single.normal(count: 1)[0], single.normal(count: 1)[0]], pair)
    }
}
