import Foundation
@testable import Pipeline
import TestSupport
import XCTest

/// The one place that finds the shipped folders: the working directory first, then the
/// executable's folders, then the checkout; a variable names a folder outright.
final class ShippedResourcesTests: XCTestCase {
    func testFindsTheRepositorysFoldersFromTheTestBinary() {
        let found = ShippedResources.locate(environment: [:])
        XCTAssertEqual(found.faceDetector?.lastPathComponent, "face-detector")
        XCTAssertEqual(found.faceMesh?.lastPathComponent, "face-mesh")
        XCTAssertEqual(found.themes?.lastPathComponent, "themes")
        XCTAssertNotNil(found.faceDetector.map { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) })
    }

    func testVariablesOverrideAndNoneTurnsTheMeshOff() {
        let found = ShippedResources.locate(environment: ["PHOTOVERSE_FACE_DETECTOR": "/elsewhere/detector",
                                                          "PHOTOVERSE_FACE_MESH": "none",
                                                          "PHOTOVERSE_FACE_SCORER": "/elsewhere/dlib"])
        XCTAssertEqual(found.faceDetector?.path, "/elsewhere/detector")
        XCTAssertNil(found.faceMesh)
        XCTAssertEqual(found.dlibFace?.path, "/elsewhere/dlib")
    }

    func testTheWorkingDirectoryComesFirst() throws {
        let folder = Fixtures.temporaryDirectory("shipped")
        let mine = folder.appendingPathComponent("Models/face-detector")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: mine.appendingPathComponent("config.json"))
        let found = ShippedResources.locate(environment: [:], workingDirectory: folder)
        XCTAssertEqual(found.faceDetector?.standardizedFileURL.path, mine.standardizedFileURL.path)
        XCTAssertEqual(found.searched.first?.path, folder.path)
        // The others still come from the executable's checkout.
        XCTAssertEqual(found.faceMesh?.lastPathComponent, "face-mesh")
    }

    func testAMissingDetectorIsNamedWhenOneIsNeeded() {
        let faces = FaceModels(ShippedResources(searched: [URL(fileURLWithPath: "/nowhere")]))
        XCTAssertThrowsError(try faces.detector()) {
            XCTAssertTrue("\($0)".contains("/nowhere/Models/face-detector"), "\($0)")
            XCTAssertTrue("\($0)".contains("PHOTOVERSE_FACE_DETECTOR"), "\($0)")
        }
        XCTAssertNil(try faces.mesh(), "the mesh is optional")
    }
}
