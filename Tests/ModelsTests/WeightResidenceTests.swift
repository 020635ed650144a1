import Formats
@testable import Models
import TensorCore
import TestSupport
import XCTest

/// Half-resident weights change memory, never results: the tiny model loaded with its F16
/// weights kept half gives bit-identical outputs to the same model widened at load.
final class WeightResidenceTests: XCTestCase {
    func folder(_ residence: WeightResidence) throws -> ModelFolder {
        var folder = try ModelFolder(Fixtures.url("tiny-sd"))
        folder.weightResidence = residence
        return folder
    }

    func testHalfResidentModelsGiveIdenticalOutputs() throws {
        let half = try folder(.half), float = try folder(.float)
        let g = try SafetensorsFile(url: Fixtures.url("tiny-sd-golden/unet.safetensors"))
        let halfUNet = try half.loadUNet(), floatUNet = try float.loadUNet()
        XCTAssertTrue(halfUNet.convIn.storedWeight.isHalfPrecision)
        XCTAssertTrue(halfUNet.convIn.storedWeight.isMapped, "read in place from the mapped file")
        XCTAssertFalse(floatUNet.convIn.storedWeight.isHalfPrecision)
        let sample = try g.tensor("sample"), context = try g.tensor("encoder_hidden_states")
        XCTAssertEqual(halfUNet(sample, timestep: 981, encoderHiddenStates: context).scalars,
                       floatUNet(sample, timestep: 981, encoderHiddenStates: context).scalars)

        let latents = Tensor.seededUniform(shape: [1, 4, 8, 8], seed: 3)
        XCTAssertEqual(try half.loadVAE().decode(latents).scalars, try float.loadVAE().decode(latents).scalars)
        let ids = [[49406, 320, 1125, 539, 49407] + Array(repeating: 49407, count: 72)]
        XCTAssertEqual(try half.loadTextEncoder()(ids).scalars, try float.loadTextEncoder()(ids).scalars)
    }

    /// Automatic keeps small models (the test model, PhotoVerse-mini) in Float32, large ones half.
    func testAutomaticDecidesBySize() throws {
        XCTAssertFalse(try folder(.automatic).loadUNet().convIn.storedWeight.isHalfPrecision)
        XCTAssertFalse(WeightResidence.automatic.keepsHalf(halfPrecisionBytes: 30 << 20))
        XCTAssertTrue(WeightResidence.automatic.keepsHalf(halfPrecisionBytes: 1_719_000_000))
        let source = try SafetensorsWeightSource(url: Fixtures.url("tiny-sd/unet/diffusion_pytorch_model.safetensors"))
        let stored = source.tensorNames.reduce(0) { $0 + 2 * (source.shape(of: $1)?.reduce(1, *) ?? 0) }
        XCTAssertEqual(source.halfPrecisionBytes, stored, "every tensor of the tiny UNet is stored F16")
    }
}
