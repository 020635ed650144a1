#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Opening input files safely: only regular files are read.
///
/// Opening a named pipe (FIFO) for reading blocks until a writer appears, which may be never,
/// and a device or socket given where a file is expected is a mistake, never data. So every
/// file-reading entry point checks the kind BEFORE opening (`stat`, which follows symlinks),
/// then opens with `O_NONBLOCK` (a FIFO swapped in between the two cannot block either) and
/// checks the opened descriptor again.
public enum RegularFile {
    /// The largest config-like file (JSON configs, tokenizer files) read whole into memory.
    public static let defaultReadLimit = 64 << 20

    /// What kind of file system object `mode` describes, for messages.
    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    static func notRegular(_ url: URL, _ mode: mode_t) -> FormatError {
        FormatError(url, .unreadable, "is \(kindName(mode)), not a regular file")
    }

    /// Throws unless `url` names a regular file (after following symlinks); never opens it.
    /// Returns its size in bytes.
    @discardableResult
    public static func check(_ url: URL) throws -> Int {
        var status = stat()
        guard stat(url.path, &status) == 0 else {
            throw FormatError(url, .unreadable, "cannot open: \(FormatError.systemMessage())")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw notRegular(url, status.st_mode) }
        return Int(status.st_size)
    }

    /// A read-only descriptor for a regular file (close it), and the file's size.
    static func open(_ url: URL) throws -> (descriptor: Int32, size: Int) {
        try check(url)
        let descriptor = Glibc_open(url.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw FormatError(url, .unreadable, "cannot open: \(FormatError.systemMessage())")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let message = FormatError.systemMessage()
            close(descriptor)
            throw FormatError(url, .unreadable, "cannot stat: \(message)")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw notRegular(url, status.st_mode)
        }
        return (descriptor, Int(status.st_size))
    }

    /// The whole content of a regular file of at most `limit` bytes.
    public static func read(_ url: URL, limit: Int = defaultReadLimit) throws -> Data {
        let (descriptor, size) = try open(url)
        defer { close(descriptor) }
        guard size <= limit else {
            throw FormatError(url, .unsupported, "is \(size) bytes, over the \(limit >> 20) MiB limit for this kind of file")
        }
        var data = Data(count: size)
        var filled = 0
        try data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            while filled < size {
                let got = Glibc_read(descriptor, buffer.baseAddress! + filled, size - filled)
                if got < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw FormatError(url, .unreadable, "cannot read: \(FormatError.systemMessage())")
                }
                if got == 0 { break }   // shrank meanwhile: keep what is there
                filled += got
            }
        }
        if filled < size { data.removeSubrange(filled..<size) }
        return data
    }
}

// `open` and `read` under other names: `RegularFile.open/read` hide the system ones.
@inline(__always)
private func Glibc_open(_ path: String, _ flags: Int32) -> Int32 { open(path, flags) }

@inline(__always)
private func Glibc_read(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
