import Foundation
import Formats
import FuzzSupport
import Models

/// PhotoVerse adapter metadata: a safetensors file's `__metadata__` read as `AdapterMetadata`
/// (the path `PhotoVerseAdapter.load` takes). First byte even: the input is a safetensors file;
/// odd: `key=value` lines, so the fuzzer can work on the values directly. Metadata that is
/// accepted must survive a round trip through `asStrings`.
func fuzzAdapterMetadata(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzCheck.data(start, count)
    guard let selector = input.first else { return 0 }
    let body = Data(input.dropFirst())
    var raw: [String: String] = [:]
    if selector % 2 == 0 {
        do {
            raw = try SafetensorsFile(data: body, name: "photoverse-adapter.safetensors").metadata
        } catch {
            FuzzCheck.clearError(error, "adapter file")
            return 0
        }
    } else {
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            raw[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
    }
    do {
        let metadata = try AdapterMetadata(raw, file: "photoverse-adapter.safetensors")
        let again = try AdapterMetadata(metadata.asStrings, file: "round trip")
        FuzzCheck.expect(again == metadata, "adapter metadata", "asStrings round trip changed \(metadata) into \(again)")
    } catch {
        FuzzCheck.clearError(error, "adapter metadata")
    }
    return 0
}

FuzzCheck.run(fuzzAdapterMetadata)
