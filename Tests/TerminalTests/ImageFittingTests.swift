import Formats
import Terminal
import XCTest

final class ImageFittingTests: XCTestCase {
    func testKeepsTheAspectRatio() {
        XCTAssertEqual(ImageFitting.fit(PixelSize(width: 64, height: 64), into: PixelSize(width: 60, height: 40)),
                       PixelSize(width: 40, height: 40))
        XCTAssertEqual(ImageFitting.fit(PixelSize(width: 200, height: 100), into: PixelSize(width: 60, height: 40)),
                       PixelSize(width: 60, height: 30))
        XCTAssertEqual(ImageFitting.fit(PixelSize(width: 8, height: 8), into: PixelSize(width: 0, height: 4)),
                       PixelSize(width: 1, height: 1))
    }

    func testEnlargesTinyPreviewsWithCrispPixels() {
        let tiny = RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255])
        let big = ImageFitting.scale(tiny, to: PixelSize(width: 8, height: 4))
        XCTAssertEqual(big.width, 8)
        XCTAssertEqual(big.color(x: 3, y: 3), RGBColor(255, 0, 0), "no blending across the pixel edge")
        XCTAssertEqual(big.color(x: 4, y: 0), RGBColor(0, 0, 255))
    }

    func testShrinksLargeImages() {
        let large = RGBImage(width: 100, height: 50, color: RGBColor(10, 20, 30))
        let small = ImageFitting.scale(large, to: PixelSize(width: 20, height: 10))
        XCTAssertEqual(small.width, 20)
        XCTAssertEqual(small.color(x: 5, y: 5), RGBColor(10, 20, 30))
    }
}
