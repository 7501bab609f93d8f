#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PCIConfigSpace

/// A function's sysfs `config` file, read lazily.
///
/// On a live host every read of this file is a config-space transaction on the bus,
/// so bytes are fetched only when a decoder asks for them, a dword at a time, and
/// kept. `readableCount` is what this reader may actually see: the kernel gives a
/// non-root reader only the first 64 bytes, and a snapshot holds what was captured.
public final class SysfsConfigFile: ConfigSource {
    public let path: String
    public let fileSize: Int
    public private(set) var readableCount: Int
    private var fd: Int32
    private var cache: [UInt8]
    private var fetched: [Bool]
    /// Set when a read failed after opening (the device went away, an I/O error).
    public private(set) var readFailure: HostReadError?

    static let maximum = 4096

    /// `relative` must lie in a canonical directory (one that came from `HostRoot.resolve`).
    init(root: HostRoot, relative: String) throws(HostReadError) {
        let (fd, size, _) = try root.openRegular(relative, canonicalParent: true)
        self.fd = fd
        self.path = relative
        self.fileSize = size
        let limit = min(size, Self.maximum)
        cache = [UInt8](repeating: 0xff, count: limit)
        fetched = [Bool](repeating: false, count: (limit + 3) / 4)
        readableCount = limit
        readableCount = probeReadableCount(limit)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Confirms the last byte answers; if not (a non-root reader), finds how far reads reach.
    private func probeReadableCount(_ limit: Int) -> Int {
        guard limit > 0 else { return 0 }
        if readsByte(at: limit - 1) { return limit }
        var low = 0
        var high = limit - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if readsByte(at: mid - 1) { low = mid } else { high = mid - 1 }
        }
        return low
    }

    private func readsByte(at offset: Int) -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = pread(fd, &byte, 1, off_t(offset))
            if n < 0 && errno == EINTR { continue }
            return n == 1
        }
    }

    public func bytes(at offset: Int, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= readableCount - count else { return nil }
        if count == 0 { return [] }
        let firstDword = offset / 4
        let lastDword = (offset + count - 1) / 4
        var dword = firstDword
        while dword <= lastDword {
            if fetched[dword] {
                dword += 1
                continue
            }
            // Fetch the run of missing dwords in one pread.
            var end = dword
            while end + 1 <= lastDword && !fetched[end + 1] { end += 1 }
            let start = dword * 4
            let length = min((end + 1) * 4, readableCount) - start
            guard fill(start: start, length: length) else { return nil }
            for d in dword...end { fetched[d] = true }
            dword = end + 1
        }
        return Array(cache[offset..<(offset + count)])
    }

    private func fill(start: Int, length: Int) -> Bool {
        var done = 0
        while done < length {
            let n = cache.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return pread(fd, base + start + done, length - done, off_t(start + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                readFailure = HostRoot.error(errno, path)
                return false
            }
            if n == 0 {
                readFailure = .io(path, errno: EIO)
                return false
            }
            done += n
        }
        return true
    }

    /// How many distinct bytes have been fetched from the file (for measurement).
    public var bytesFetched: Int {
        fetched.reduce(0) { $0 + ($1 ? 4 : 0) }
    }
}
