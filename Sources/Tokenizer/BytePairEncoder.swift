import Foundation

/// Byte-level BPE with CLIP's end-of-word marker, working on vocabulary ids.
///
/// A word (one pre-token) starts as one symbol per UTF-8 byte, the last one carrying `</w>`.
/// Repeatedly, the adjacent pair with the lowest merge rank is found and every occurrence of
/// it is merged, left to right, until no adjacent pair has a rank: the algorithm of CLIP's
/// `SimpleTokenizer.bpe`. Symbols are vocabulary ids (the vocabulary holds every merge result),
/// so a merge is one dictionary lookup. Results are cached per word.
final class BytePairEncoder: @unchecked Sendable {
    /// Vocabulary id of each byte's character, and of the same with `</w>`, by byte value.
    private let byteIDs: [Int32]
    private let byteEndIDs: [Int32]
    /// (left id << 32 | right id) -> (rank << 32 | merged id).
    private let merges: [UInt64: UInt64]

    private var cache: [String: [Int]] = [:]
    private let cacheLock = NSLock()
    private static let cacheLimit = 20_000

    let mergeCount: Int

    init(vocabulary: [String: Int], merges mergeList: [MergesFile.Merge], vocabURL: URL, mergesURL: URL) throws {
        var byteIDs = [Int32](repeating: 0, count: 256)
        var byteEndIDs = [Int32](repeating: 0, count: 256)
        for byte in 0..<256 {
            let symbol = String(ByteEncoder.scalarForByte[byte])
            guard let id = vocabulary[symbol], let endID = vocabulary[symbol + "</w>"] else {
                let missing = vocabulary[symbol] == nil ? symbol : symbol + "</w>"
                throw TokenizerError.malformedFile(
                    vocabURL, reason: "the byte-level token \(missing.debugDescription) (byte \(byte)) is missing")
            }
            byteIDs[byte] = Int32(id)
            byteEndIDs[byte] = Int32(endID)
        }
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(mergeList.count)
        for (rank, merge) in mergeList.enumerated() {
            guard let left = vocabulary[merge.left], let right = vocabulary[merge.right],
                  let merged = vocabulary[merge.left + merge.right] else {
                let missing = [merge.left, merge.right, merge.left + merge.right].first { vocabulary[$0] == nil }!
                throw TokenizerError.malformedFile(
                    mergesURL, reason: "line \(merge.line): token \(missing.debugDescription) is not in vocab.json")
            }
            // A repeated pair keeps its last rank, as Python's dict(zip(merges, ranks)) does.
            table[Self.key(left, right)] = UInt64(rank) << 32 | UInt64(merged)
        }
        self.byteIDs = byteIDs
        self.byteEndIDs = byteEndIDs
        self.merges = table
        self.mergeCount = mergeList.count
    }

    @inline(__always)
    private static func key(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    /// The vocabulary ids of one pre-token.
    func encode(_ word: String) -> [Int] {
        cacheLock.lock()
        let cached = cache[word]
        cacheLock.unlock()
        if let cached { return cached }

        let ids = merge(Array(word.utf8))
        cacheLock.lock()
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[word] = ids
        cacheLock.unlock()
        return ids
    }

    private func merge(_ bytes: [UInt8]) -> [Int] {
        guard let lastByte = bytes.last else { return [] }
        var word = bytes.map { byteIDs[Int($0)] }
        word[word.count - 1] = byteEndIDs[Int(lastByte)]

        while word.count > 1 {
            // The adjacent pair with the lowest rank.
            var best = UInt64.max
            var first: Int32 = -1, second: Int32 = -1
            for i in 0..<(word.count - 1) {
                if let entry = merges[Self.key(Int(word[i]), Int(word[i + 1]))], entry < best {
                    best = entry
                    first = word[i]
                    second = word[i + 1]
                }
            }
            if best == UInt64.max { break }
            let mergedID = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            // Merge every occurrence of that pair, left to right.
            var merged: [Int32] = []
            merged.reserveCapacity(word.count)
            var i = 0
            while i < word.count {
                if i < word.count - 1, word[i] == first, word[i + 1] == second {
                    merged.append(mergedID)
                    i += 2
                } else {
                    merged.append(word[i])
                    i += 1
                }
            }
            word = merged
        }
        return word.map { Int($0) }
    }
}
