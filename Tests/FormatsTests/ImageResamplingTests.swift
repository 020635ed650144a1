import TestSupport
import XCTest
@testable import Formats

/// `resized` against Pillow 13's `Image.resize` (goldens from training/fixtures/make_face_fixtures.py)
/// and against hand-computed filter weights.
final class ImageResamplingTests: XCTestCase {

    /// The largest per-channel difference between two images of the same size.
    func maxDifference(_ a: RGBImage, _ b: RGBImage) -> Int {
        zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func testMatchesPillowGoldens() throws {
        let source = try ImageFile.load(Fixtures.url("faces/resample_source.png"))
        XCTAssertEqual([source.width, source.height], [97, 83])
        for (w, h) in [(31, 29), (150, 130), (224, 224), (60, 83)] {
            for filter in ResamplingFilter.allCases {
                let golden = try ImageFile.load(Fixtures.url("faces/resample_\(filter.rawValue)_\(w)x\(h).png"))
                let ours = source.resized(width: w, height: h, filter: filter)
                XCTAssertEqual([ours.width, ours.height], [w, h])
                // Pillow's fixed-point arithmetic is reproduced exactly; allow 1/255 per channel.
                XCTAssertLessThanOrEqual(maxDifference(ours, golden), 1, "\(filter) \(w)x\(h)")
            }
        }
    }

    func testLetterboxedDetectorInputMatchesPillow() throws {
        // Grace Hopper (512x600) padded to a black 600x600 square, then bilinear to 128x128.
        let photo = try ImageFile.load(Fixtures.url("faces/grace_hopper.jpg"))
        let square = photo.paddedToSquare()
        XCTAssertEqual([square.left, square.top, square.image.width], [44, 0, 600])
        let golden = try ImageFile.load(Fixtures.url("faces/grace_hopper_letterbox128.png"))
        let ours = square.image.resized(width: 128, height: 128, filter: .bilinear)
        // Both decoders are libjpeg-turbo; any IDCT difference would show up here, so 1/255.
        XCTAssertLessThanOrEqual(maxDifference(ours, golden), 1)
    }

    func testHandComputedAntialiasedBilinearDownscale() {
        // 4x1 -> 2x1: scale 2 widens the triangle to support 2. Output 0 (centre 1.0) takes
        // inputs 0, 1, 2 with weights 0.75, 0.75, 0.25 (normalised /1.75):
        // (0·0.75 + 100·0.75 + 200·0.25) / 1.75 = 71.43 -> 71.
        // Output 1 (centre 3.0) takes 1, 2, 3 with 0.25, 0.75, 0.75: (25 + 150 + 191.25)/1.75 = 209.3 -> 209.
        let row = RGBImage(width: 4, height: 1, pixels: [0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255])
        XCTAssertEqual(row.resized(width: 2, height: 1, filter: .bilinear).pixels, [71, 71, 71, 209, 209, 209])
    }

    func testUniformImageStaysUniformAndSameSizeIsIdentity() {
        let flat = RGBImage(width: 13, height: 7, color: RGBColor(10, 200, 77))
        XCTAssertEqual(flat.resized(width: 5, height: 19), RGBImage(width: 5, height: 19, color: RGBColor(10, 200, 77)))
        let source = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0 * 13) })
        XCTAssertEqual(source.resized(width: 3, height: 2), source)
    }

    func testBicubicOvershootIsClamped() {
        // A hard 0 -> 255 edge upscaled with the a = −0.5 cubic rings below 0 and above 255.
        let edge = RGBImage(width: 4, height: 1, pixels: [0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255])
        let up = edge.resized(width: 16, height: 1, filter: .bicubic)
        XCTAssertEqual(up.pixels.first, 0)
        XCTAssertEqual(up.pixels.last, 255)
        XCTAssertEqual(up.color(x: 7, y: 0).red, up.color(x: 7, y: 0).green)
    }

    func testCropInsideAndAcrossTheBorder() {
        // 3x2: red, green, blue / white, black, (10, 20, 30).
        let image = RGBImage(width: 3, height: 2, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255,
                                                           255, 255, 255, 0, 0, 0, 10, 20, 30])
        XCTAssertEqual(image.cropped(x: 1, y: 0, width: 2, height: 2).pixels, [0, 255, 0, 0, 0, 255, 0, 0, 0, 10, 20, 30])
        let fill = RGBColor(1, 2, 3)
        let beyond = image.cropped(x: 2, y: -1, width: 2, height: 2, fill: fill)
        XCTAssertEqual(beyond.color(x: 0, y: 0), fill)
        XCTAssertEqual(beyond.color(x: 0, y: 1), RGBColor(0, 0, 255))
        XCTAssertEqual(beyond.color(x: 1, y: 1), fill)
        let outside = image.cropped(x: 10, y: 10, width: 2, height: 1, fill: fill)
        XCTAssertEqual(outside, RGBImage(width: 2, height: 1, color: fill))
        let square = image.paddedToSquare(fill: fill)
        XCTAssertEqual([square.left, square.top, square.image.width, square.image.height], [0, 0, 3, 3])
        XCTAssertEqual(square.image.color(x: 2, y: 1), RGBColor(10, 20, 30))
        XCTAssertEqual(square.image.color(x: 0, y: 2), fill)
    }
}
