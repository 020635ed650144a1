import Foundation
import Formats
import Models
@testable import Pipeline
import TensorCore
import TestSupport
import XCTest

/// Every bad LoRA file or choice is one line naming the file and the key (or the flag).
final class LoRAFileRefusalTests: XCTestCase {
    var pipeline: GenerationPipeline { LoRAParityTests.pipeline }
    let folder = Fixtures.temporaryDirectory("lora-refusals")
    let toQ = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q"   // 16 -> 16
    var kohyaToQ: String { "lora_unet_" + toQ.replacingOccurrences(of: ".", with: "_") }

    func write(_ tensors: [String: Tensor], _ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try SafetensorsWriter.write(tensors, to: url, overwrite: true)
        return url
    }

    func refusal(_ url: URL) -> String {
        do {
            _ = try LoRAFile(url: url, unet: pipeline.unet.loraTargets, textEncoder: pipeline.textEncoder.loraTargets)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func assertRefused(_ tensors: [String: Tensor], naming key: String, _ words: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try write(tensors, "\(words.prefix(12).replacingOccurrences(of: " ", with: "_")).safetensors")
        let message = refusal(url)
        XCTAssertTrue(message.hasPrefix(url.path + ":"), message, file: file, line: line)
        XCTAssertTrue(message.contains("'\(key)'"), message, file: file, line: line)
        XCTAssertTrue(message.contains(words), message, file: file, line: line)
        XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
    }

    func random(_ shape: [Int]) -> Tensor { Tensor.seededUniform(shape: shape, seed: 7, scale: 0.1) }

    func testRankMismatch() throws {
        try assertRefused([kohyaToQ + ".lora_down.weight": random([4, 16]), kohyaToQ + ".lora_up.weight": random([16, 3])],
                          naming: kohyaToQ + ".lora_up.weight", "ranks")
    }

    func testShapeNotMatchingTheLayer() throws {
        try assertRefused(["unet.\(toQ).lora_A.weight": random([4, 17]), "unet.\(toQ).lora_B.weight": random([16, 4])],
                          naming: "unet.\(toQ).lora_A.weight", "takes [4, 16]")
        try assertRefused([kohyaToQ + ".lora_down.weight": random([4, 16]), kohyaToQ + ".lora_up.weight": random([32, 4])],
                          naming: kohyaToQ + ".lora_up.weight", "takes [16, 4]")
        // a LoCon down must have the convolution's kernel
        let conv = "lora_unet_down_blocks_0_resnets_0_conv1"
        try assertRefused([conv + ".lora_down.weight": random([2, 16, 1, 1]), conv + ".lora_up.weight": random([16, 2, 1, 1])],
                          naming: conv + ".lora_down.weight", "kernel 3")
    }

    func testNonFiniteValues() throws {
        let down = random([4, 16])
        down.data[5] = .nan
        try assertRefused([kohyaToQ + ".lora_down.weight": down, kohyaToQ + ".lora_up.weight": random([16, 4])],
                          naming: kohyaToQ + ".lora_down.weight", "non-finite")
        try assertRefused([kohyaToQ + ".lora_down.weight": random([4, 16]), kohyaToQ + ".lora_up.weight": random([16, 4]),
                           kohyaToQ + ".alpha": Tensor(shape: [], values: [.infinity])],
                          naming: kohyaToQ + ".alpha", "non-finite")
    }

    func testDuplicateNamesForOneLayer() throws {
        let peft = "unet.\(toQ)"
        try assertRefused([kohyaToQ + ".lora_down.weight": random([4, 16]), kohyaToQ + ".lora_up.weight": random([16, 4]),
                           peft + ".lora_A.weight": random([4, 16]), peft + ".lora_B.weight": random([16, 4])],
                          naming: peft + ".lora_A.weight", "duplicate names")
        let q = "encoder.layers.0.self_attn.q_proj"
        try assertRefused(["text_encoder.\(q).lora_A.weight": random([4, 32]), "text_encoder.\(q).lora_B.weight": random([32, 4]),
                           "text_encoder.text_model.\(q).lora_A.weight": random([4, 32])],
                          naming: "text_encoder.text_model.\(q).lora_A.weight", "duplicate names")
    }

    func testUnknownKeysAndLayers() throws {
        try assertRefused([kohyaToQ + ".lora_down.weight": random([4, 16]), kohyaToQ + ".lora_up.weight": random([16, 4]),
                           kohyaToQ + ".hada_w1_a": random([4, 16])], naming: kohyaToQ + ".hada_w1_a", "is not a LoRA tensor")
        try assertRefused(["lora_unet_down_blocks_7_resnets_0_conv1.lora_down.weight": random([2, 16, 3, 3])],
                          naming: "lora_unet_down_blocks_7_resnets_0_conv1.lora_down.weight", "names no layer")
        try assertRefused(["lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight": random([4, 32])],
                          naming: "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "SDXL")
        try assertRefused([kohyaToQ + ".lora_down.weight": random([4, 16]), kohyaToQ + ".lora_up.weight": random([16, 4]),
                           kohyaToQ + ".dora_scale": random([16, 1])], naming: kohyaToQ + ".dora_scale", "DoRA")
    }

    func testMissingPartner() throws {
        try assertRefused([kohyaToQ + ".lora_down.weight": random([4, 16])], naming: kohyaToQ + ".lora_down.weight",
                          "no lora_up.weight")
        try assertRefused([kohyaToQ + ".lora_up.weight": random([16, 4]), kohyaToQ + ".alpha": Tensor(shape: [], values: [1])],
                          naming: kohyaToQ + ".lora_up.weight", "no lora_down.weight")
    }

    func testNotASafetensorsFile() throws {
        let text = folder.appendingPathComponent("notes.safetensors")
        try Data("just some words, not a LoRA".utf8).write(to: text)
        let message = refusal(text)
        XCTAssertTrue(message.hasPrefix(text.path + ":"), message)
        let pickled = folder.appendingPathComponent("lora.pt")
        try Data([0x80, 0x02]).write(to: pickled)
        XCTAssertTrue(refusal(pickled).hasPrefix(pickled.path + ": pickled LoRA files are never loaded"), refusal(pickled))
        let empty = try write(["something": random([2])], "other.safetensors")
        XCTAssertTrue(refusal(empty).contains("'something' is not a LoRA tensor"), refusal(empty))
    }

    func testRequestValidation() throws {
        let good = Fixtures.url("lora-golden/kohya.safetensors").path
        func problem(_ loras: [LoRAChoice]) -> String {
            var request = GenerationRequest(prompt: "p")
            request.loras = loras
            do {
                try request.validate()
                try request.validateFiles()
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(problem([LoRAChoice(path: good, scale: 0.5)]), "accepted")
        XCTAssertTrue(problem([LoRAChoice(path: "/no/such.safetensors")]).contains("/no/such.safetensors: cannot open"))
        XCTAssertTrue(problem([LoRAChoice(path: folder.path)]).contains("a directory"))
        XCTAssertTrue(problem([LoRAChoice(path: good, scale: .nan)]).contains("not a finite number"))
        XCTAssertTrue(problem([LoRAChoice(path: good, scale: 11)]).contains("outside -10.0...10.0"))
        XCTAssertTrue(problem([LoRAChoice(path: good), LoRAChoice(path: good, scale: 2)]).contains("given twice"))
    }
}
