#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A whole file mapped read-only into memory.
///
/// Weights files are gigabytes: mapping lets the OS page in only the tensors that are
/// read, and share the pages between processes. The file must not be truncated by
/// another process while it is mapped (the OS would raise SIGBUS on access).
final class MappedFile: @unchecked Sendable {
    let url: URL
    /// The mapped bytes; empty (and unmapped) for an empty file.
    let bytes: UnsafeRawBufferPointer

    init(url: URL) throws {
        self.url = url
        // Checked to be a regular file before it is opened: a FIFO would block forever.
        let (descriptor, size) = try RegularFile.open(url)
        defer { close(descriptor) }
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw FormatError(url, .unreadable, "cannot map into memory: \(FormatError.systemMessage())")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}
