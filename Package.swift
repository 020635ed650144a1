// swift-tools-version:6.0
import PackageDescription

// Hot loops in the tensor core and models are far too slow at -Onone, and the
// tests run real (small) models, so those targets are optimised in debug too.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "PhotoVerse",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "photoverse", targets: ["PhotoVerseCLI"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "Formats", targets: ["Formats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Layer 1: system libraries (Debian packages, see `make deps`).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        // ncursesw and libsixel headers sit in standard paths; their pkg-config cflags carry
        // -D flags SwiftPM refuses, so those two are found without pkg-config.
        .systemLibrary(name: "CNcursesw", providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CSixel", providers: [.apt(["libsixel-dev"])]),
        // libpng and libjpeg report errors by longjmp, which Swift cannot catch:
        // this small C layer turns them into error strings.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"],
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),

        // Layer 2: tensor core (CKernels: the few loops Swift does not vectorise, in C).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "TensorCore", dependencies: ["CBLAS", "CKernels"], swiftSettings: optimisedInDebug),
        .target(name: "TerminalText", swiftSettings: optimisedInDebug),
        .target(name: "JSONText", swiftSettings: optimisedInDebug),

        // Layer 3: file formats.
        .target(name: "Formats", dependencies: ["TensorCore", "TerminalText", "JSONText", "CImageCodecs"], swiftSettings: optimisedInDebug),

        // Layer 4: models (the tokenizer is its own target: no tensor knowledge).
        .target(name: "Tokenizer", dependencies: ["TerminalText", "JSONText"], swiftSettings: optimisedInDebug),
        .target(name: "Models", dependencies: ["TensorCore", "Formats", "Tokenizer"], swiftSettings: optimisedInDebug),

        // Layer 5: sampling (schedulers, random sources).
        .target(name: "Sampling", dependencies: ["TensorCore", "TerminalText"], swiftSettings: optimisedInDebug),

        // Layer 6: the pipeline API the front ends talk to.
        .target(name: "Pipeline", dependencies: ["Models", "Sampling", "Tokenizer", "Formats", "TensorCore"],
                swiftSettings: optimisedInDebug),

        // Layer 7: front ends (terminal output: sixel images, ncurses).
        .target(name: "Terminal", dependencies: ["CSixel", "CNcursesw", "Formats"], swiftSettings: optimisedInDebug),
        .target(name: "TUI", dependencies: ["Terminal", "Pipeline", "Models", "Formats", "Sampling", "CNcursesw"],
                swiftSettings: optimisedInDebug),
        .executableTarget(name: "PhotoVerseCLI", dependencies: [
            "TensorCore", "Formats", "Tokenizer", "Models", "Sampling", "Pipeline", "TUI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/PhotoVerseCLI"),

        // Tests find committed fixtures (Tests/Fixtures) through TestSupport.
        .target(name: "TestSupport", dependencies: ["TensorCore", "Formats"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "TensorCore", "TestSupport"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "TestSupport"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling", "TensorCore", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Sampling", "TensorCore", "Formats", "TestSupport"]),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal", "Formats"]),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Terminal", "Pipeline", "Formats", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Formats", "TensorCore", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Sampling", "TensorCore", "Formats", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
