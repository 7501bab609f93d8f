#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of an lspci dump, read the way libpci's dump method reads it (`lspci -F`), plus the lines
/// lspci prints from the live machine's sysfs that the dump method ignores: `IOMMU group: N`
/// (pciutils ≥ 3.7), `Kernel driver in use:` and `Kernel modules:` (`lspci -k`).
///
/// Pasted dumps are indented, carry Windows line ends or lack a final newline; each is normalised
/// here, and a hex line libpci would reject is an error with its line number.
public struct DumpText: Sendable {
    /// What the text says of one function beyond its config bytes.
    public struct Annotations: Hashable, Sendable {
        /// The 1-based line of the function's header line.
        public var line: Int
        public var iommuGroup: Int?
        public var driver: String?
        public var modules: [String]?
        /// Two blocks of the function gave different `IOMMU group:` values: its group is unknown.
        public var groupConflict = false
        /// A `Kernel driver in use:` line with no name, or two blocks naming different drivers: the driver is unknown.
        public var driverUnclear = false
        /// `Region N: Memory at ADDR (64-bit, prefetchable) [size=64G]` lines (lspci -v: the sizes it read from
        /// sysfs `resource` on the live machine): BAR index → range; `nil` when the text has none for it.
        public var regions: [Int: ResourceRange]?
        /// A Region line lspci would not print (no size, a size it cannot give): the BAR sizes are unknown.
        public var regionsUnclear = false
        /// The offsets of the whole hex rows given for it (0x00, 0x10, …).
        public var rows: Set<Int> = []
        /// Rows with fewer than 16 bytes (or not aligned), with their line: what they hold is not trusted.
        public var shortRows: [(offset: Int, line: Int)] = []

        public static func == (a: Self, b: Self) -> Bool {
            a.line == b.line && a.iommuGroup == b.iommuGroup && a.driver == b.driver && a.modules == b.modules && a.rows == b.rows
                && a.shortRows.map(\.offset) == b.shortRows.map(\.offset)
        }

        public func hash(into h: inout Hasher) { h.combine(line); h.combine(rows) }

        /// How many bytes from offset 0 the rows cover without a gap.
        public var contiguousBytes: Int {
            var n = 0
            while rows.contains(n) { n += 16 }
            return n
        }
    }

    /// The functions named by header lines, with what the text says of them (first occurrence wins).
    public private(set) var annotations: [PCIAddress: Annotations] = [:]
    /// Whether any `Kernel driver in use:` or `Kernel modules:` line is present (the dump was made with `-k`).
    public private(set) var hasKernelLines = false
    /// Whether any `IOMMU group:` line is present.
    public private(set) var hasGroupLines = false
    /// Header and hex lines only, de-indented and newline-terminated: what libpci's dump method reads.
    public private(set) var normalized: String = ""
    /// What was done to the text to read it (a byte-order mark dropped, e-mail quoting removed), for a note.
    public private(set) var notes: [String] = []

    /// Parses `bytes`, naming `name` in errors.
    /// - Throws: `HostScanError.dumpMalformed` with the line number of a hex line libpci would reject.
    public init(_ bytes: [UInt8], name: String) throws(HostScanError) {
        var out: [String] = []
        var current: PCIAddress?
        var lineNumber = 0
        var bytes = bytes[...]
        // A UTF-8 byte-order mark (Windows editors write one) would hide the first function's header line.
        if bytes.starts(with: [0xef, 0xbb, 0xbf]) {
            bytes = bytes.dropFirst(3)
            notes.append("a UTF-8 byte-order mark at the start was dropped")
        }
        var unquoted = 0
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = raw[...]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            // E-mail quoting (`> `, `>> `, `> > `), removed as a mail client shows the quoted text.
            if line.first == UInt8(ascii: ">") {
                while let first = line.first, first == UInt8(ascii: ">") {
                    line = line.dropFirst()
                    if line.first == UInt8(ascii: " ") { line = line.dropFirst() }
                }
                unquoted += 1
            }
            let text = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            if text.isEmpty {
                // libpci ends a function's block at an empty line.
                current = nil
                out.append("")
                continue
            }
            if let address = Self.headerAddress(text) {
                current = address
                if annotations[address] == nil { annotations[address] = Annotations(line: lineNumber) }
                out.append(String(decoding: text, as: UTF8.self))
                continue
            }
            if let hex = try Self.hexLine(text, line: lineNumber, name: name) {
                guard let address = current else { continue } // libpci ignores hex with no function above it
                // Only a whole aligned row of 16 bytes counts: libpci pads a short one with ff, which is not a fact.
                if let offset = Int(hex.prefix { $0 != ":" }, radix: 16) {
                    if offset & 0xf == 0, hex.split(separator: " ").count == 17 {
                        annotations[address]?.rows.insert(offset)
                    } else {
                        annotations[address]?.shortRows.append((offset, lineNumber))
                    }
                }
                out.append(hex)
                continue
            }
            guard let address = current else { continue }
            // What the text says is input: control characters in it are escaped before anything keeps it.
            let s = TerminalSafe.escape(String(decoding: text, as: UTF8.self))
            // `IOMMU group: N` (-vv, -vvv), `IOMMUGroup: N` (-vmm), and inside -v's `Flags: …, IOMMU group N`.
            let groupValue = s.value(after: "IOMMU group:") ?? s.value(after: "IOMMUGroup:")
                ?? (s.hasPrefix("Flags:") ? s.split(separator: ",").lazy.compactMap { String($0).trimmingWhitespace().value(after: "IOMMU group") }.first : nil)
            if let value = groupValue {
                hasGroupLines = true
                if let n = Int(value), n >= 0 {
                    // A function repeated with another group (a pasted second block): which one holds is unknown.
                    if let earlier = annotations[address]?.iommuGroup {
                        if earlier != n { annotations[address]?.groupConflict = true }
                    } else {
                        annotations[address]?.iommuGroup = n
                    }
                } else {
                    // A group line that names no group number: the function's group is unknown, not absent.
                    annotations[address]?.groupConflict = true
                }
            } else if let value = s.value(after: "Kernel driver in use:") {
                hasKernelLines = true
                if value.isEmpty {
                    annotations[address]?.driverUnclear = true
                } else {
                    if let earlier = annotations[address]?.driver {
                        if earlier != value { annotations[address]?.driverUnclear = true }
                    } else {
                        annotations[address]?.driver = value
                    }
                }
            } else if s.hasPrefix("Region ") {
                var regions = annotations[address]?.regions ?? [:]
                switch Self.region(s) {
                case let .memory(r):
                    if let earlier = regions[r.index], earlier != r { annotations[address]?.regionsUnclear = true }
                    if regions[r.index] == nil { regions[r.index] = r }
                case .io:
                    break
                case .unusable:
                    annotations[address]?.regionsUnclear = true
                }
                annotations[address]?.regions = regions
            } else if let value = s.value(after: "Kernel modules:") {
                hasKernelLines = true
                annotations[address]?.modules = value.split(separator: ",").map { String($0.drop { $0 == " " }) }.filter { !$0.isEmpty }
            }
        }
        normalized = out.joined(separator: "\n") + "\n"
        if unquoted > 0 { notes.append("\(unquoted) line(s) quoted for e-mail ('> ') were read without the quoting") }
    }

    /// What a `Region N: …` line of lspci -v says (show_bases).
    enum RegionLine {
        /// A memory BAR with its address and size, flags as sysfs `resource` has them (IORESOURCE_MEM 0x200,
        /// PREFETCH 0x2000, MEM_64 0x100000).
        case memory(ResourceRange)
        /// An I/O BAR: never in the 64-bit window.
        case io
        /// A Region line that gives no usable size (`[disabled]` without a size, `<unassigned>`, `<ignored>`).
        case unusable
    }

    static func region(_ s: String) -> RegionLine {
        let words = s.split(separator: " ")
        guard words.count >= 3, words[0] == "Region", words[1].hasSuffix(":"), let index = Int(words[1].dropLast()), (0...5).contains(index) else { return .unusable }
        if words[2] == "I/O" { return .io }
        // "Region 1: Memory at e000000000 (64-bit, prefetchable) [size=64G]"
        guard words[2] == "Memory", words.count >= 5, words[3] == "at", let address = UInt64(words[4], radix: 16),
              let sizeWord = words.last(where: { $0.hasPrefix("[size=") && $0.hasSuffix("]") }) else { return .unusable }
        let text = sizeWord.dropFirst("[size=".count).dropLast()
        let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30, "T": 40]
        let size: UInt64
        if let unit = text.last, let shift = shifts[unit], let n = UInt64(text.dropLast()), n > 0, n.leadingZeroBitCount > Int(shift) {
            size = n << shift
        } else if let n = UInt64(text), n > 0 {
            size = n
        } else {
            return .unusable
        }
        var flags: UInt64 = 0x200
        if s.contains("64-bit") { flags |= 0x10_0000 }
        if s.contains("prefetchable") && !s.contains("non-prefetchable") { flags |= 0x2000 }
        return .memory(ResourceRange(index: index, start: address, end: address &+ (size - 1), flags: flags))
    }

    /// `[dddd:]bb:dd.f ` at the start of a line (libpci's `dump_validate` masks), or the address alone.
    static func headerAddress(_ text: ArraySlice<UInt8>) -> PCIAddress? {
        let end = text.firstIndex(of: UInt8(ascii: " ")) ?? text.endIndex
        let word = String(decoding: text[text.startIndex..<end], as: UTF8.self)
        let parts = word.split(separator: ":", omittingEmptySubsequences: false)
        let full: String
        switch parts.count {
        case 2: full = "0000:" + word
        case 3 where (4...6).contains(parts[0].count): full = word
        default: return nil
        }
        return PCIAddress(sysfsName: full.lowercased())
    }

    /// A hex line `oo: xx xx …` (two or three offset digits): its normalised text, or `nil` when the line
    /// is not one. A line that starts like one and then holds something else is an error, as in libpci.
    static func hexLine(_ text: ArraySlice<UInt8>, line: Int, name: String) throws(HostScanError) -> String? {
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let offsetDigits = text[text.startIndex..<colon]
        guard (2...3).contains(offsetDigits.count), offsetDigits.allSatisfy(\.isHexDigit) else { return nil }
        let rest = text[text.index(after: colon)...]
        guard rest.first == UInt8(ascii: " ") else { return nil }
        let tokens = rest.split(separator: UInt8(ascii: " "))
        // "00: 86 80 …": every token two hex digits, at most 16 of them.
        guard !tokens.isEmpty, tokens.count <= 16, tokens.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else {
            // Verbose lspci lines never start with hex digits and a colon followed by a space-separated
            // list, so anything shaped like that is a damaged hex line.
            if tokens.first.map({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) == true {
                throw .dumpMalformed(name, line: line, text: String(decoding: text.prefix(80), as: UTF8.self))
            }
            return nil
        }
        guard let offset = Int(String(decoding: offsetDigits, as: UTF8.self), radix: 16), offset + tokens.count <= 4096 else {
            throw .dumpMalformed(name, line: line, text: String(decoding: text.prefix(80), as: UTF8.self))
        }
        return String(decoding: offsetDigits, as: UTF8.self) + ": " + tokens.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// Reads a dump: a regular file (never a FIFO or device, which could block), or standard input for `-`.
    /// - Throws: `HostScanError.dumpUnreadable` naming the reason.
    public static func readInput(_ path: String, limit: Int = 64 << 20) throws(HostScanError) -> [UInt8] {
        let fd: Int32
        if path == "-" {
            fd = 0
        } else {
            // O_NONBLOCK: opening a FIFO with no writer must not wait for one.
            fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { throw .dumpUnreadable(path, reason: String(cString: strerror(errno))) }
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let e = errno
                close(fd)
                throw .dumpUnreadable(path, reason: String(cString: strerror(e)))
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                break
            case S_IFIFO, S_IFSOCK, S_IFCHR:
                // /dev/stdin, a pipe, process substitution (`<(lspci -xxx)`): read to its end like standard
                // input. A FIFO nobody writes to reads as empty at once (no writer: end of file).
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            case S_IFDIR:
                close(fd)
                throw .dumpUnreadable(path, reason: "it is a directory; --dump takes a file of lspci output (for a snapshot directory, use --root DIR)")
            default:
                close(fd)
                throw .dumpUnreadable(path, reason: "not a regular file, pipe or terminal")
            }
        }
        defer { if fd != 0 { close(fd) } }
        switch HostRoot.readAll(fd, limit: limit) {
        case let .success(bytes): return bytes
        case .failure(.tooLarge): throw .dumpUnreadable(path, reason: "larger than \(limit >> 20) MiB")
        case let .failure(.errno(code)): throw .dumpUnreadable(path, reason: String(cString: strerror(code)))
        }
    }
}

extension UInt8 {
    var isHexDigit: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x46) || (self >= 0x61 && self <= 0x66)
    }
}

extension String {
    /// The trimmed text after `prefix`, when the string starts with it.
    func value(after prefix: String) -> String? {
        guard hasPrefix(prefix) else { return nil }
        return String(dropFirst(prefix.count)).trimmingWhitespace()
    }
}
