#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Where `AtomicFileWriter` sends bytes: a temporary file beside the target.
public final class FileSink {
    fileprivate let descriptor: Int32
    fileprivate let target: URL

    fileprivate init(descriptor: Int32, target: URL) {
        self.descriptor = descriptor
        self.target = target
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = systemWrite(descriptor, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw FormatError(target, .writeFailed, "cannot write: \(FormatError.systemMessage())")
            }
            pointer += written
            remaining -= written
        }
    }

    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// `write(2)`, under another name because `FileSink.write` hides the global one.
@inline(__always)
private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}

/// Writes files so that readers never see a half-written file: the bytes go to a
/// temporary file in the same folder (same file system, so the final step is atomic),
/// which is synced and then renamed, or hard-linked when the target must not exist.
public enum AtomicFileWriter {
    /// Writes what `body` produces to `url`. With `overwrite: false` an existing file is
    /// never replaced, even one created while writing (the link fails with EEXIST).
    public static func write(to url: URL, overwrite: Bool, _ body: (FileSink) throws -> Void) throws {
        let temporary = try produceTemporary(beside: url, body)
        defer { unlink(temporary) }
        if overwrite {
            guard rename(temporary, url.path) == 0 else {
                throw FormatError(url, .writeFailed, "cannot rename the temporary file into place: \(FormatError.systemMessage())")
            }
        } else {
            try publishExclusively(temporary, at: url)
        }
    }

    public static func write(_ data: Data, to url: URL, overwrite: Bool) throws {
        try write(to: url, overwrite: overwrite) { try $0.write(data) }
    }

    /// Writes to the first free `<prefix>-NNNN.<extension>` in `directory` (numbers from 1)
    /// and returns its URL. Race-free: a name taken meanwhile by someone else is skipped.
    @discardableResult
    public static func writeNumbered(in directory: URL, prefix: String, pathExtension: String,
                                     _ body: (FileSink) throws -> Void) throws -> URL {
        let first = firstAvailableURL(in: directory, prefix: prefix, pathExtension: pathExtension)
        let temporary = try produceTemporary(beside: first, body)
        defer { unlink(temporary) }
        var number = firstAvailableNumber(in: directory, prefix: prefix, pathExtension: pathExtension)
        while true {
            let candidate = numberedURL(in: directory, prefix: prefix, pathExtension: pathExtension, number: number)
            do {
                try publishExclusively(temporary, at: candidate)
                return candidate
            } catch let error as FormatError where error.problem == .alreadyExists {
                number += 1
            }
        }
    }

    /// `<directory>/<prefix>-0042.<extension>` (just the number when `prefix` is empty).
    public static func numberedURL(in directory: URL, prefix: String, pathExtension: String, number: Int) -> URL {
        let digits = String(number)
        let padded = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        let stem = prefix.isEmpty ? padded : "\(prefix)-\(padded)"
        return directory.appendingPathComponent(pathExtension.isEmpty ? stem : "\(stem).\(pathExtension)")
    }

    /// The lowest-numbered name that does not exist yet. Only a hint: use `writeNumbered`
    /// to actually claim a name.
    public static func firstAvailableURL(in directory: URL, prefix: String, pathExtension: String) -> URL {
        numberedURL(in: directory, prefix: prefix, pathExtension: pathExtension,
                    number: firstAvailableNumber(in: directory, prefix: prefix, pathExtension: pathExtension))
    }

    private static func firstAvailableNumber(in directory: URL, prefix: String, pathExtension: String) -> Int {
        var number = 1
        while exists(numberedURL(in: directory, prefix: prefix, pathExtension: pathExtension, number: number)) {
            number += 1
        }
        return number
    }

    private static func exists(_ url: URL) -> Bool {
        var status = stat()
        return lstat(url.path, &status) == 0
    }

    /// A temporary file untouched for this long is left over from a run that was killed while
    /// saving: no live writer leaves its file alone that long (writing updates its time).
    public static let staleTemporaryAge: TimeInterval = 600

    /// Whether `name` has exactly the shape of this writer's temporary files,
    /// `.<name>.tmp-XXXXXX` (mkstemp's six letters and digits).
    public static func isTemporaryName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let marker = Array(".tmp-".utf8)
        guard bytes.count >= 1 + 1 + marker.count + 6, bytes[0] == UInt8(ascii: ".") else { return false }
        let suffix = bytes[(bytes.count - 6)...]
        guard suffix.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else { return false }
        return Array(bytes[(bytes.count - 6 - marker.count)..<(bytes.count - 6)]) == marker
    }

    /// Removes this writer's temporary files in `directory` (names as `isTemporaryName`,
    /// regular files only) not modified for `age` seconds: those a killed run left behind.
    /// A concurrent writer's live file is younger and stays. Returns the names removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: URL, olderThan age: TimeInterval = staleTemporaryAge,
                                              now: Date = Date()) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [String] = []
        for name in names where isTemporaryName(name) {
            let path = directory.appendingPathComponent(name).path
            var status = stat()
            guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
            #if canImport(Darwin)
            let modified = Double(status.st_mtimespec.tv_sec) + Double(status.st_mtimespec.tv_nsec) / 1e9
            #else
            let modified = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
            #endif
            if now.timeIntervalSince1970 - modified > age, unlink(path) == 0 {
                removed.append(name)
            }
        }
        return removed
    }

    /// Creates `.<name>.tmp-XXXXXX` beside `url`, lets `body` fill it, syncs and closes it.
    /// Returns its path; the caller removes it (after a link, or if it is still there).
    /// Stale temporaries of killed runs in that folder are removed first.
    private static func produceTemporary(beside url: URL, _ body: (FileSink) throws -> Void) throws -> String {
        let directory = url.deletingLastPathComponent()
        removeStaleTemporaries(in: directory)
        var template = Array(directory.appendingPathComponent(".\(url.lastPathComponent).tmp-XXXXXX").path.utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw FormatError(url, .writeFailed, "cannot create a temporary file in \(directory.path): \(FormatError.systemMessage())")
        }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var closed = false
        do {
            defer { if !closed { close(descriptor) } }
            fchmod(descriptor, 0o644)  // mkstemp makes 0600; outputs are ordinary files
            try body(FileSink(descriptor: descriptor, target: url))
            guard fsync(descriptor) == 0 else {
                throw FormatError(url, .writeFailed, "cannot sync: \(FormatError.systemMessage())")
            }
            closed = true
            guard close(descriptor) == 0 else {
                throw FormatError(url, .writeFailed, "cannot close: \(FormatError.systemMessage())")
            }
        } catch {
            unlink(path)
            throw error
        }
        return path
    }

    /// Gives `temporary` the name `url` only if nothing has that name. A hard link does that
    /// atomically; file systems without hard links fall back to claiming the name with O_EXCL.
    private static func publishExclusively(_ temporary: String, at url: URL) throws {
        if link(temporary, url.path) == 0 { return }
        let code = errno
        if code == EEXIST { throw alreadyExists(url) }
        guard [EPERM, ENOTSUP, EOPNOTSUPP, EXDEV, EMLINK, ENOSYS].contains(code) else {
            throw FormatError(url, .writeFailed, "cannot create: \(FormatError.systemMessage(code))")
        }
        let placeholder = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard placeholder >= 0 else {
            if errno == EEXIST { throw alreadyExists(url) }
            throw FormatError(url, .writeFailed, "cannot create: \(FormatError.systemMessage())")
        }
        close(placeholder)
        guard rename(temporary, url.path) == 0 else {
            let message = FormatError.systemMessage()
            unlink(url.path)
            throw FormatError(url, .writeFailed, "cannot rename the temporary file into place: \(message)")
        }
    }

    private static func alreadyExists(_ url: URL) -> FormatError {
        FormatError(url, .alreadyExists, "exists already; not overwriting it")
    }
}
