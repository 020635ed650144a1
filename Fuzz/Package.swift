// swift-tools-version:6.0
import PackageDescription

// Coverage-guided fuzz targets (libFuzzer + AddressSanitizer) for PhotoVerse's input parsers.
// Build and run them with `make fuzz` / `make fuzz-smoke` (Fuzz/run.sh); by hand:
//
//     cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld \
//         -Xcc -fsanitize=fuzzer-no-link,address
//     .build/release/fuzz-png corpus/png -max_total_time=60
//
// (Not `-parse-as-library` with `@_cdecl("LLVMFuzzerTestOneInput")`: SwiftPM 6.3 links each
// executable with `--defsym main=<Module>_main`, which that leaves undefined. Each target's
// top-level code hands its test function to libFuzzer's LLVMFuzzerRunDriver instead.)
//
// The engine is compiled here from the main package's own sources: `Engine/<Target>` are
// symlinks to `../Sources/<Target>`, and the fuzz-cli target links the CLI's command files
// (`Targets/FuzzCLI/Linked`, made by run.sh). So the fuzzers exercise the real code, including
// the real `photoverse` argument parser, with no change to the main Package.swift (whose
// library products do not include Models, Tokenizer, Sampling or the CLI commands). The target
// graph below mirrors the main manifest's: keep the two in step.

let package = Package(
    name: "PhotoVerseFuzz",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fuzz-safetensors", targets: ["FuzzSafetensors"]),
        .executable(name: "fuzz-png", targets: ["FuzzPNG"]),
        .executable(name: "fuzz-jpeg", targets: ["FuzzJPEG"]),
        .executable(name: "fuzz-config", targets: ["FuzzConfig"]),
        .executable(name: "fuzz-adapter-metadata", targets: ["FuzzAdapterMetadata"]),
        .executable(name: "fuzz-tokenizer", targets: ["FuzzTokenizer"]),
        .executable(name: "fuzz-cli", targets: ["FuzzCLI"]),
        .executable(name: "fuzz-model", targets: ["FuzzModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The engine (mirrors ../Package.swift).
        .systemLibrary(name: "CBLAS", path: "Engine/CBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CPNG", path: "Engine/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CJPEG", path: "Engine/CJPEG"),
        .systemLibrary(name: "CNcursesw", path: "Engine/CNcursesw"),
        .systemLibrary(name: "CSixel", path: "Engine/CSixel"),
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"], path: "Engine/CImageCodecs",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
        .target(name: "CKernels", path: "Engine/CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "TensorCore", dependencies: ["CBLAS", "CKernels"], path: "Engine/TensorCore"),
        .target(name: "TerminalText", path: "Engine/TerminalText"),
        .target(name: "JSONText", path: "Engine/JSONText"),
        .target(name: "Formats", dependencies: ["TensorCore", "TerminalText", "JSONText", "CImageCodecs"], path: "Engine/Formats"),
        .target(name: "Tokenizer", dependencies: ["TerminalText", "JSONText"], path: "Engine/Tokenizer"),
        .target(name: "Models", dependencies: ["TensorCore", "Formats", "Tokenizer"], path: "Engine/Models"),
        .target(name: "Sampling", dependencies: ["TensorCore", "TerminalText"], path: "Engine/Sampling"),
        .target(name: "Pipeline", dependencies: ["Models", "Sampling", "Tokenizer", "Formats", "TensorCore"],
                path: "Engine/Pipeline"),
        .target(name: "Terminal", dependencies: ["CSixel", "CNcursesw", "Formats"], path: "Engine/Terminal"),
        .target(name: "TUI", dependencies: ["Terminal", "Pipeline", "Models", "Formats", "Sampling", "CNcursesw"], path: "Engine/TUI"),

        // libFuzzer's driver, called from each target's top-level code (see FuzzDriver.h), and
        // what every fuzz target checks about an error: one clear, terminal-safe line.
        .target(name: "FuzzDriver", path: "Targets/FuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["FuzzDriver"], path: "Targets/FuzzSupport"),

        // The fuzz targets.
        .executableTarget(name: "FuzzSafetensors", dependencies: ["Formats", "FuzzSupport"], path: "Targets/FuzzSafetensors"),
        .executableTarget(name: "FuzzPNG", dependencies: ["Formats", "FuzzSupport"], path: "Targets/FuzzPNG"),
        .executableTarget(name: "FuzzJPEG", dependencies: ["Formats", "FuzzSupport"], path: "Targets/FuzzJPEG"),
        .executableTarget(name: "FuzzConfig", dependencies: ["Formats", "Models", "Sampling", "TensorCore", "FuzzSupport"],
                          path: "Targets/FuzzConfig"),
        .executableTarget(name: "FuzzAdapterMetadata", dependencies: ["Formats", "Models", "FuzzSupport"],
                          path: "Targets/FuzzAdapterMetadata"),
        .executableTarget(name: "FuzzTokenizer", dependencies: ["Tokenizer", "FuzzSupport"], path: "Targets/FuzzTokenizer"),
        .executableTarget(name: "FuzzModel", dependencies: ["Formats", "Models", "TensorCore", "FuzzSupport"],
                          path: "Targets/FuzzModel"),
        .executableTarget(name: "FuzzCLI", dependencies: [
            "TensorCore", "Formats", "Tokenizer", "Models", "Sampling", "Pipeline", "TUI", "FuzzSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Targets/FuzzCLI"),
    ],
    swiftLanguageModes: [.v5]
)
