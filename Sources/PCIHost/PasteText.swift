import PCIConfigSpace

/// The forms of PCI listings people paste, each read on its own or mixed in one input.
public enum PasteForm: String, CaseIterable, Hashable, Sendable, Comparable {
    case hex = "hex dump (lspci -x/-xxx/-xxxx)"
    case verbose2 = "lspci -vv text"
    case verbose1 = "lspci -v text"
    case kernel = "lspci -k text"
    case plain = "lspci -nn lines"
    case groupListing = "IOMMU group listing"
    case sysfsLinks = "/sys/kernel/iommu_groups paths"
    case tree = "lspci -tv tree"
    case machine = "lspci -vmm records"

    public static func < (a: Self, b: Self) -> Bool {
        (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
    }
}

/// One `Capabilities: [off] …` entry of lspci's verbose text, with the lines lspci printed under it.
public struct TextCapability: Hashable, Sendable {
    public var offset: Int
    /// `[100 v1]`: an extended capability (offset 0x100 and up) and its version.
    public var extended: Bool
    public var version: Int?
    /// What follows the offset: `Power Management version 3`, `Access Control Services`.
    public var title: String
    /// The lines printed below it (lspci -vv), de-indented.
    public var detail: [String] = []
    /// The lines a second block of the same function printed below it (must equal `detail`).
    public var repeatedDetail: [String]?
    /// The 1-based line of the `Capabilities:` line.
    public var line: Int
}

/// What lspci's text (not its hex) says of one function. `nil` means the text does not show it.
public struct TextFacts: Hashable, Sendable {
    public var vendorID: UInt16?
    public var deviceID: UInt16?
    /// Base class and subclass (`[0300]`).
    public var deviceClass: UInt16?
    /// `(prog-if 30 [XHCI])`; verbose text omits it when it is 0 (lspci's show_device), so it is 0 there.
    public var progIf: UInt8?
    /// `(rev a1)`; lspci omits it when it is 0.
    public var revision: UInt8?
    public var subsystemVendorID: UInt16?
    public var subsystemDeviceID: UInt16?
    /// The line the identity came from.
    public var identityLine: Int?
    /// Names as lspci printed them without -nn (`Network controller`; `Intel Corporation Device 093c`; the subsystem's),
    /// for looking the IDs up in pci.ids when the text gives no numbers.
    public var className: String?
    public var nameText: String?
    public var subsystemText: String?
    /// How the IDs were found when the text gives only names (`8086:093c from pci.ids for "Intel Corporation Device 093c"`).
    public var idsFromNames: String?
    /// Two blocks gave different IDs, class or revision: what the function is, is unknown.
    public var identityConflict = false
    /// 2: lspci -vv or more (`Control:`/`Status:` lines); 1: lspci -v (`Flags:`); 0: no register text.
    public var verbosity = 0
    public var verboseLine: Int?
    public var control: UInt16?
    public var status: UInt16?
    public var latencyTimer: UInt8 = 0
    public var cacheLineSize: UInt8 = 0
    /// `Interrupt: pin A routed to IRQ 16` (-vv): the pin (1–4, 0 for `?`) and the IRQ's low byte.
    public var interruptPin: UInt8 = 0
    public var interruptLine: UInt8 = 0
    /// Whether an `Interrupt:` line was read: without one the pin is unknown (a paste loses lines; lspci omits it only
    /// for pin 0 with IRQ 0, which the text cannot tell from a line cut away).
    public var interruptShown = false
    /// Lines lspci prints in a block that could not be read (cut, garbled): the registers they carry are unknown, so
    /// the header is not rebuilt.
    public var damagedLines: [Int] = []
    /// How many `Status:` lines the function's blocks had (a second one that differs is a contradiction).
    public var statusLines = 0
    /// The text of the `Latency:`, `Interrupt:` and `Subsystem:` lines read (a second block that differs contradicts it).
    public var latencyLine: String?
    public var interruptText: String?
    public var subsystemLine: String?
    /// `Bus: primary=00, secondary=01, subordinate=01, sec-latency=0`, or a tree's `-[01-03]-`.
    public var busNumbers: BridgeBusNumbers?
    public var secondaryLatency: UInt8 = 0
    public var bridgeControl: UInt16 = 0
    /// `I/O behind bridge:`, `Memory behind bridge:`, `Prefetchable memory behind bridge:` as (base, limit, 64-bit).
    public var ioWindow: (base: UInt64, limit: UInt64, wide: Bool)?
    public var memoryWindow: (base: UInt64, limit: UInt64)?
    public var prefetchWindow: (base: UInt64, limit: UInt64, wide: Bool)?
    /// `Region N:` lines as lspci prints them (index, address, flags word for the BAR register).
    public var barRegisters: [Int: UInt64] = [:]
    public var expansionROM: (address: UInt64, enabled: Bool)?
    /// `Capabilities: <access denied>`: lspci ran without root and read only the 64-byte header.
    public var capabilitiesDenied = false
    public var capabilitiesDeniedLine: Int?
    public var capabilities: [TextCapability] = []
    /// The forms the function was seen in.
    public var forms: Set<PasteForm> = []
    /// Whether a second verbose block of the function is being read (its capabilities must repeat the first's).
    public var repeating = false
    /// Whether the paste ends inside this function's block with no line after its capabilities (a cut paste).
    public var endsPaste = false
    /// Whether a `Kernel driver in use:`/`Kernel modules:` line followed its capabilities (the list was printed whole).
    public var closedAfterCapabilities = false

    public static func == (a: Self, b: Self) -> Bool {
        a.vendorID == b.vendorID && a.deviceID == b.deviceID && a.deviceClass == b.deviceClass && a.revision == b.revision
            && a.verbosity == b.verbosity && a.capabilities == b.capabilities && a.forms == b.forms && a.busNumbers == b.busNumbers
    }

    public func hash(into h: inout Hasher) {
        h.combine(vendorID)
        h.combine(deviceID)
        h.combine(capabilities.count)
    }

    /// Takes `vendor`, `device`, class and revision from a line, or records that blocks disagree.
    mutating func takeIdentity(_ d: DeviceLine, line: Int) {
        func merge<T: Equatable>(_ current: inout T?, _ new: T?) {
            guard let new else { return }
            if let current, current != new { identityConflict = true; return }
            current = new
        }
        merge(&vendorID, d.vendorID)
        merge(&deviceID, d.deviceID)
        merge(&deviceClass, d.deviceClass)
        merge(&revision, d.revision)
        if let p = d.progIf { merge(&progIf, p) }
        if identityLine == nil, d.vendorID != nil { identityLine = line }
        if className == nil, let c = d.className, !c.isEmpty { className = c }
        if nameText == nil, d.vendorID == nil, let n = d.nameText, !n.isEmpty { nameText = n }
    }
}

/// What one device line of lspci (`00:02.0 VGA compatible controller [0300]: Intel Corporation … [8086:3e92] (rev 02)`,
/// or `-n`'s `00:02.0 0300: 8086:3e92 (rev 02)`) says after the address.
struct DeviceLine: Equatable {
    var vendorID: UInt16?
    var deviceID: UInt16?
    var deviceClass: UInt16?
    var className: String?
    var progIf: UInt8?
    var revision: UInt8?
    /// `Intel Corporation Device 093c`: the vendor and device names when the line has no IDs.
    var nameText: String?

    /// Parses what follows the address. `revisionShown`: lspci prints `(rev xx)` only when it is not 0, so a line
    /// of lspci's own form without it says revision 0.
    static func parse(_ rest: Substring) -> DeviceLine {
        var d = DeviceLine()
        var s = rest.trimmingCharacters(in: " \t-")
        // Trailing `(prog-if 30 [XHCI])` (its name may hold parentheses: `[IO(X)-APIC]`) and `(rev 10)`, in either order.
        while s.hasSuffix(")") {
            if let r = s.ranges(of: " (prog-if ").last, let p = UInt8(s[r.upperBound...].prefix(2), radix: 16) {
                d.progIf = p
                s = String(s[..<r.lowerBound])
            } else if let r = s.ranges(of: " (rev ").last, s[r.upperBound...].count == 3, let v = UInt8(s[r.upperBound...].prefix(2), radix: 16) {
                d.revision = v
                s = String(s[..<r.lowerBound])
            } else {
                break
            }
        }
        // `-n`: `0300: 8086:3e92`.
        let words = s.split(separator: " ")
        if words.count >= 2, words[0].count == 5, words[0].hasSuffix(":"), let c = UInt16(words[0].dropLast(), radix: 16),
           let ids = Self.idPair(words[1]) {
            d.deviceClass = c
            (d.vendorID, d.deviceID) = ids
            return d
        }
        // `Class name [0300]: Vendor Device [8086:3e92]`.
        if let r = s.firstRange(of: "]: ") {
            let before = s[..<r.lowerBound]
            if let open = before.lastIndex(of: "["), let c = UInt16(before[before.index(after: open)...], radix: 16), before.distance(from: open, to: before.endIndex) == 5 {
                d.deviceClass = c
                d.className = before[..<open].trimmingCharacters(in: " ")
            }
            s = String(s[r.upperBound...])
        } else if let colon = s.firstRange(of: ": ") {
            d.className = String(s[..<colon.lowerBound])
            s = String(s[colon.upperBound...])
        }
        if s.hasSuffix("]"), let open = s.lastIndex(of: "["), let ids = Self.idPair(s[s.index(after: open)..<s.index(before: s.endIndex)]) {
            (d.vendorID, d.deviceID) = ids
        } else {
            d.nameText = s.trimmingCharacters(in: " ")
        }
        return d
    }

    /// `8086:3e92` → (0x8086, 0x3e92).
    static func idPair(_ s: Substring) -> (UInt16, UInt16)? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 4,
              let v = UInt16(parts[0], radix: 16), let d = UInt16(parts[1], radix: 16) else { return nil }
        return (v, d)
    }
}

/// `Name+` / `Name-` tokens of an lspci register line (`SrcValid+ TransBlk- …`): name → set.
func lspciFlags(_ s: String) -> [String: Bool] {
    var out: [String: Bool] = [:]
    for token in s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
        guard let last = token.last, last == "+" || last == "-", token.count > 1 else { continue }
        out[String(token.dropLast())] = last == "+"
    }
    return out
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }

    /// The integer after `key` (`Count=` in `Count=1/32`), read as decimal or, with `radix`, in that base.
    func integer(after key: String, radix: Int = 10) -> Int? {
        let start: String.Index
        if key.isEmpty { start = startIndex } else if let r = firstRange(of: key) { start = r.upperBound } else { return nil }
        let digits = self[start...].prefix { $0.isHexDigit && (radix == 16 || $0.isNumber) }
        return Int(digits, radix: radix)
    }

    /// A size as lspci prints it (`256`, `16M`, `64G`, `512K`, `16MB`, `64GB`): bytes, or `nil`.
    static func lspciSize(_ text: Substring) -> UInt64? {
        var t = text
        if t.hasSuffix("B") { t = t.dropLast() }
        let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60]
        if let unit = t.last, let shift = shifts[unit], let n = UInt64(t.dropLast()), n > 0, n.leadingZeroBitCount > Int(shift) { return n << shift }
        return UInt64(t).flatMap { $0 > 0 ? $0 : nil }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}

/// Reads `lspci -tv` trees: which bridge leads to which bus, and the IDs `-tvnn` prints.
struct TreeReader {
    struct Entry {
        var address: PCIAddress
        var secondary: (UInt8, UInt8)?
        var ids: (UInt16, UInt16)?
        /// `-tv` without -nn: the vendor and device names (`Intel Corporation Device 9d3e`).
        var name: String?
        var line: Int
    }

    /// Bus per branch column: the column of the `+`, `\` or `-` before a device's `-XX.X`.
    private var busAt: [Int: (domain: UInt32, bus: UInt8)] = [:]
    private(set) var entries: [Entry] = []

    /// Whether `line` looks like a tree line: it starts with `-[`, `+-[`, `\-[`, or, inside a tree, with `|`, `+-`, `\-`.
    static func isTreeLine(_ line: Substring, inTree: Bool) -> Bool {
        let t = line.drop { $0 == " " }
        if t.hasPrefix("-[") || t.hasPrefix("-+-[") || t.hasPrefix("+-[") || t.hasPrefix("\\-[") { return true }
        return inTree && (t.hasPrefix("|") || t.hasPrefix("+-") || t.hasPrefix("\\-"))
    }

    mutating func read(_ line: Substring, number: Int) {
        let chars = Array(line.unicodeScalars)
        var i = 0
        var pendingBus: (domain: UInt32, bus: UInt8)?
        var lastDevice: Int?
        while i < chars.count {
            if chars[i] == "[" {
                // A bus: `[0000:00]` (a root with its domain) or `[01]`, `[01-03]` (behind the device before it).
                guard let close = chars[i...].firstIndex(of: "]") else { break }
                let inner = String(String.UnicodeScalarView(chars[(i + 1)..<close]))
                let parts = inner.split(separator: ":")
                if parts.count == 2, let domain = UInt32(parts[0], radix: 16), let bus = UInt8(parts[1], radix: 16) {
                    pendingBus = (domain, bus)
                } else {
                    let range = inner.split(separator: "-")
                    if let first = range.first, let sec = UInt8(first, radix: 16) {
                        let sub = range.count > 1 ? UInt8(range[1], radix: 16) ?? sec : sec
                        if let d = lastDevice {
                            entries[d].secondary = (sec, sub)
                            pendingBus = (entries[d].address.domain, sec)
                        }
                    }
                }
                i = close + 1
                continue
            }
            // `-XX.X` after a branch character: a device on the bus of that branch column.
            if chars[i] == "-", i + 5 < chars.count || i + 5 == chars.count,
               let address = deviceToken(chars, at: i + 1) {
                let branch = i - 1
                var bus: (domain: UInt32, bus: UInt8)?
                if let p = pendingBus {
                    bus = p
                    busAt[branch] = p
                    pendingBus = nil
                } else {
                    bus = busAt[branch]
                }
                if let bus {
                    var entry = Entry(address: PCIAddress(domain: bus.domain, bus: bus.bus, device: address.0, function: address.1), line: number)
                    // `-tvnn`: the IDs at the end of the description, if the line ends with this device.
                    let rest = String(String.UnicodeScalarView(chars[(i + 5)...]))
                    if !rest.hasPrefix("-"), rest.hasSuffix("]"), let open = rest.lastIndex(of: "["),
                       let ids = DeviceLine.idPair(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]) {
                        entry.ids = ids
                    } else if !rest.hasPrefix("-") {
                        let name = rest.trimmingCharacters(in: " ")
                        if !name.isEmpty { entry.name = name }
                    }
                    entries.append(entry)
                    lastDevice = entries.count - 1
                }
                i += 5
                continue
            }
            i += 1
        }
    }

    /// `XX.X` at `i`: device and function.
    private func deviceToken(_ c: [Unicode.Scalar], at i: Int) -> (UInt8, UInt8)? {
        guard i + 4 <= c.count, c[i + 2] == "." else { return nil }
        let dev = String(String.UnicodeScalarView(c[i..<(i + 2)]))
        guard let d = UInt8(dev, radix: 16), d < 32, let f = UInt8(String(c[i + 3]), radix: 8), f < 8 else { return nil }
        if i + 4 < c.count, c[i + 4] != " ", c[i + 4] != "-" { return nil }
        return (d, f)
    }
}
