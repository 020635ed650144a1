import Foundation
import Formats
import FuzzSupport

/// The safetensors reader on arbitrary bytes: the header parse and every check that keeps
/// reads inside the data, then every tensor converted to Float32.
func fuzzSafetensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = FuzzCheck.data(start, count)
    do {
        let file = try SafetensorsFile(data: data, name: "fuzz.safetensors")
        FuzzCheck.expect(Set(file.tensorNames).count == file.tensorNames.count, "safetensors", "duplicate names")
        for name in file.tensorNames {
            let info = try file.info(name)
            let tensor = try file.tensor(name)
            FuzzCheck.expect(tensor.shape == info.shape && tensor.count == info.elementCount, "safetensors",
                             "tensor \(name.debugDescription) came out as \(tensor.shape), header says \(info.shape)")
            FuzzCheck.expect(info.byteRange.count == info.elementCount * info.dtype.byteSize, "safetensors", "byte range")
        }
        _ = try? file.tensor("no such tensor \(data.count)")
    } catch {
        FuzzCheck.clearError(error, "safetensors")
    }
    return 0
}

FuzzCheck.run(fuzzSafetensors)
