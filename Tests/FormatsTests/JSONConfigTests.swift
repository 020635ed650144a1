import Foundation
import TestSupport
import XCTest
@testable import Formats

final class JSONConfigTests: XCTestCase {
    struct UNetConfig: Decodable, Equatable {
        struct Attention: Decodable, Equatable {
            let heads: Int
        }
        let inChannels: Int
        let blockOutChannels: [Int]
        let crossAttentionDim: Int
        let useLinearProjection: Bool?
        let attention: Attention?
        let sampleSize: Double

        enum CodingKeys: String, CodingKey {
            case inChannels = "in_channels"
            case blockOutChannels = "block_out_channels"
            case crossAttentionDim = "cross_attention_dim"
            case useLinearProjection = "use_linear_projection"
            case attention
            case sampleSize = "sample_size"
        }
    }

    private var directory: URL!

    override func setUp() {
        directory = Fixtures.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ json: String) throws -> URL {
        let url = directory.appendingPathComponent("config.json")
        try? FileManager.default.removeItem(at: url)
        try Data(json.utf8).write(to: url)
        return url
    }

    func testLoadsDiffusersStyleConfig() throws {
        let url = try write("""
        {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.27.0",
         "in_channels": 4, "block_out_channels": [320, 640, 1280, 1280],
         "cross_attention_dim": 768, "sample_size": 64, "attention": {"heads": 8}}
        """)
        let config = try JSONConfig.load(UNetConfig.self, from: url)
        XCTAssertEqual(config, UNetConfig(inChannels: 4, blockOutChannels: [320, 640, 1280, 1280], crossAttentionDim: 768,
                                          useLinearProjection: nil, attention: .init(heads: 8), sampleSize: 64))
    }

    func testSnakeCaseDecoderCanBePassed() throws {
        struct Scheduler: Decodable { let numTrainTimesteps: Int; let betaStart: Double }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let url = try write(#"{"num_train_timesteps": 1000, "beta_start": 0.00085}"#)
        let scheduler = try JSONConfig.load(Scheduler.self, from: url, decoder: decoder)
        XCTAssertEqual(scheduler.numTrainTimesteps, 1000)
        XCTAssertEqual(scheduler.betaStart, 0.00085)
    }

    func testMissingKey() throws {
        let url = try write(#"{"in_channels": 4, "block_out_channels": [1], "sample_size": 8}"#)
        assertFormatError(.invalidConfig, fileName: "config.json", mentions: ["key 'cross_attention_dim' missing"]) {
            try JSONConfig.load(UNetConfig.self, from: url)
        }
    }

    func testNestedMissingKeyAndWrongTypes() throws {
        let nested = try write(#"{"in_channels": 4, "block_out_channels": [1], "cross_attention_dim": 8, "sample_size": 8, "attention": {}}"#)
        assertFormatError(.invalidConfig, fileName: "config.json", mentions: ["key 'attention.heads' missing"]) {
            try JSONConfig.load(UNetConfig.self, from: nested)
        }
        let wrongElement = try write(#"{"in_channels": 4, "block_out_channels": [320, "640"], "cross_attention_dim": 8, "sample_size": 8}"#)
        assertFormatError(.invalidConfig, fileName: "config.json", mentions: ["key 'block_out_channels[1]'", "wrong type", "integer"]) {
            try JSONConfig.load(UNetConfig.self, from: wrongElement)
        }
        let wrongType = try write(#"{"in_channels": "4", "block_out_channels": [], "cross_attention_dim": 8, "sample_size": 8}"#)
        assertFormatError(.invalidConfig, fileName: "config.json", mentions: ["key 'in_channels' has the wrong type, expected an integer"]) {
            try JSONConfig.load(UNetConfig.self, from: wrongType)
        }
        let null = try write(#"{"in_channels": null, "block_out_channels": [], "cross_attention_dim": 8, "sample_size": 8}"#)
        assertFormatError(.invalidConfig, fileName: "config.json", mentions: ["key 'in_channels' is null"]) {
            try JSONConfig.load(UNetConfig.self, from: null)
        }
    }

    func testInvalidJSONAndMissingFile() throws {
        let url = try write(#"{"in_channels": 4,,}"#)
        assertFormatError(.invalidConfig, fileName: "config.json", mentions: ["not valid JSON"]) {
            try JSONConfig.load(UNetConfig.self, from: url)
        }
        let array = try write("[1, 2]")
        assertFormatError(.invalidConfig, fileName: "config.json", mentions: ["top level"]) {
            try JSONConfig.load(UNetConfig.self, from: array)
        }
        assertFormatError(.unreadable, fileName: "absent.json") {
            try JSONConfig.load(UNetConfig.self, from: directory.appendingPathComponent("absent.json"))
        }
    }
}
