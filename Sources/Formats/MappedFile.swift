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
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw FormatError(url, .unreadable, "cannot open: \(FormatError.systemMessage())")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw FormatError(url, .unreadable, "cannot stat: \(FormatError.systemMessage())")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw FormatError(url, .unreadable, "not a regular file")
        }
        let size = Int(status.st_size)
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
