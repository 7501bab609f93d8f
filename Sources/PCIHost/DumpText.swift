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
        /// Every group number its lines named (more than one when they disagree).
        public var claimedGroups: Set<Int> = []
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
        /// What the text (not the hex) says of it: identity, registers, capabilities, forms.
        public var text = TextFacts()
        /// The section of the paste whose lspci header line named it (`nil`: only listings, trees or records name it).
        public var section: Int?

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
    /// Labels of the block being read (`Subsystem`, `Kernel driver in use`, …): one that comes twice in one block
    /// means a header line between two functions was lost.
    var blockLabels: Set<String> = []
    /// Sections of the paste (runs of lspci output between lines that are not lspci's, such as a shell prompt) whose
    /// blocks carry `Kernel driver in use:`/`Kernel modules:` lines: lspci ran with -k (or -v) there, so a function of
    /// such a section without a driver line has none.
    public private(set) var sectionsWithKernelLines: Set<Int> = []
    /// The section being read.
    var section = 0
    /// Whether any `IOMMU group:` line is present.
    public private(set) var hasGroupLines = false
    /// Header and hex lines only, de-indented and newline-terminated: what libpci's dump method reads.
    public private(set) var normalized: String = ""
    /// What was done to the text to read it (a byte-order mark dropped, e-mail quoting removed), for a note.
    public private(set) var notes: [String] = []

    /// What the text's other forms say, per function (lspci's verbose text, listings, trees, -vmm records).
    public var facts: [PCIAddress: TextFacts] { annotations.mapValues(\.text) }
    /// Groups from a group listing (`IOMMU Group N:` with device lines, one-line forms, iommu_groups paths).
    public private(set) var listedGroups: [PCIAddress: Int] = [:]
    /// Functions a group listing names in two different groups.
    public private(set) var listedGroupConflicts: Set<PCIAddress> = []
    /// How many functions were read in each form.
    public private(set) var formCounts: [PasteForm: Int] = [:]
    /// Functions whose text gives no IDs (lspci without -nn), with the line.
    public private(set) var withoutIDs: [PCIAddress: Int] = [:]
    /// Domains and buses a `lspci -tv` tree shows.
    public private(set) var treeEntries = 0

    /// A line without SGR colour sequences (`ESC [ digits ; … m` or `K`) and with no-break spaces as spaces.
    static func cleaned(_ line: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count)
        var i = line.startIndex
        while i < line.endIndex {
            if line[i] == 0x1b, line.index(after: i) < line.endIndex, line[line.index(after: i)] == UInt8(ascii: "[") {
                var j = line.index(i, offsetBy: 2)
                while j < line.endIndex, (line[j] >= 0x30 && line[j] <= 0x39) || line[j] == UInt8(ascii: ";") { j += 1 }
                if j < line.endIndex, line[j] == UInt8(ascii: "m") || line[j] == UInt8(ascii: "K") { i = j + 1; continue }
            }
            if line[i] == 0xc2, line.index(after: i) < line.endIndex, line[line.index(after: i)] == 0xa0 { out.append(0x20); i += 2; continue }
            out.append(line[i])
            i += 1
        }
        return out
    }

    /// Lines that name a function (an address-like token) but that no form could read: a damaged listing line,
    /// record or header. Where there are any, the paste's group membership is not certain.
    public private(set) var unreadFunctionLines: [Int] = []
    /// Sections of the paste that follow a filtering command (`| grep`, `lspci -s`, `-d`): what they list is part of
    /// the machine.
    public private(set) var filteredSections: Set<Int> = []
    /// The sections listed group members were read in.
    public private(set) var listingSections: Set<Int> = []

    /// Whether `s` holds a token shaped like a PCI address, even a damaged one (`01:0O.1`).
    static func namesAFunction(_ s: String) -> Bool {
        s.contains(/(^|[\s(\[])([0-9A-Za-z]{4,}:)?[0-9A-Za-z]{2}:[0-9A-Za-z]{2}\.[0-9A-Za-z]([\s:)\]]|$)/)
    }

    /// Replaces what the text says of `address` (IDs found by name).
    mutating func replaceFacts(_ facts: TextFacts, for address: PCIAddress) {
        annotations[address]?.text = facts
    }

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
        // Within a verbose block: after its first `Capabilities:` line every line belongs to a capability.
        var capabilityIndex: Int?
        // The group a listing's header line (`IOMMU Group 14:`) opened, until an empty line.
        var listingGroup: Int?
        // An lspci -vmm record: its address once its `Slot:` line is read.
        var record: PCIAddress?
        var inRecord = false
        var tree = TreeReader()
        var inTree = false
        // The function whose block the last lspci line belonged to: a paste that ends inside it may be cut off.
        var lastBlock: PCIAddress?
        // Whether `current` was named by a group listing's member line (its `IOMMU Group: N` lines open groups).
        var currentIsMember = false
        // The function whose block an empty line closed: a paste with an empty line between every line (forums do
        // this) continues the block on its next indented line.
        var closed: PCIAddress?
        // Forms per function, seen so far.
        func see(_ a: PCIAddress, _ form: PasteForm) {
            if annotations[a] == nil { annotations[a] = Annotations(line: lineNumber) }
            annotations[a]?.text.forms.insert(form)
        }
        func listed(_ a: PCIAddress, _ group: Int) {
            if let earlier = listedGroups[a], earlier != group { listedGroupConflicts.insert(a) }
            if listedGroups[a] == nil { listedGroups[a] = group }
        }
        // A group listing's member line: its group, its identity, and the block its indented lines belong to.
        func takeMember(_ member: (address: PCIAddress, line: DeviceLine), _ group: Int) {
            listingSections.insert(section)
            see(member.address, .groupListing)
            listed(member.address, group)
            annotations[member.address]?.text.takeIdentity(member.line, line: lineNumber)
            current = member.address
            currentIsMember = true
        }
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = raw[...]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            // `grep --color` pastes carry SGR sequences (ESC [ … m / K); forums turn spaces into no-break spaces.
            if line.contains(0x1b) || line.contains(0xc2) { line = Self.cleaned(line)[...] }
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
                // libpci ends a function's block at an empty line; so do listings, records and trees.
                if current != nil { closed = current }
                current = nil
                // (A listing goes on past empty lines: a double-spaced paste; it ends at an lspci line or a prompt.)
                record = nil
                inRecord = false
                inTree = false
                out.append("")
                continue
            }
            let rawString = String(decoding: line, as: UTF8.self)
            let indented = line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t")
            // lspci -tv: a tree of buses, bridges and devices.
            if TreeReader.isTreeLine(Substring(rawString), inTree: inTree) {
                inTree = true
                current = nil
                tree.read(Substring(TerminalSafe.escape(rawString)), number: lineNumber)
                continue
            }
            inTree = false
            if current == nil, indented, let previous = closed, !currentIsMember, record == nil {
                // An indented lspci line after an empty line: the block goes on (a double-spaced paste), or a header
                // line was lost, whose lines then meet the block before them and contradict it.
                current = previous
            }
            // Tabs separate fields in lspci's text (`DevCap:\tMaxPayload`, `Slot:\t00:02.0`): read as spaces, never escaped.
            let s = TerminalSafe.escape(String(decoding: text, as: UTF8.self).replacing("\t", with: " "))
            // `find /sys/kernel/iommu_groups/ -type l`: …/iommu_groups/14/devices/0000:01:00.0
            if let r = s.firstRange(of: "iommu_groups/"), let slash = s[r.upperBound...].firstIndex(of: "/"),
               let group = Int(s[r.upperBound..<slash]), s[slash...].hasPrefix("/devices/"),
               let a = PCIAddress(sysfsName: String(s[s.index(slash, offsetBy: 9)...].prefix { !$0.isWhitespace }).lowercased()) {
                see(a, .sysfsLinks)
                listed(a, group)
                current = nil
                continue
            }
            // Group listings: `IOMMU Group 14:` (then device lines), `IOMMU Group 14 01:00.0 …`, `IOMMU GROUP 14`,
            // `Group 14:  [10de:1b80] 01:00.0 VGA …`, and `IOMMU Group: 50` with `Group Device: 0000:97:00.4 - …` lines.
            // (`IOMMU group: N` inside an lspci -vv block is that function's own line, read below.)
            if let (group, rest) = Self.listingHeader(s, inBlock: (current != nil && !currentIsMember) || inRecord) {
                current = nil
                capabilityIndex = nil
                listingGroup = group
                if let member = Self.memberLine(rest) {
                    // A one-line form (each line names its own group), perhaps continued on indented lines without one.
                    takeMember(member, group)
                } else if Self.namesAFunction(rest) {
                    // `IOMMU Group 13 07:0O.1 …`: a member line whose address cannot be read.
                    unreadFunctionLines.append(lineNumber)
                }
                continue
            }
            // Under a group header, indented device lines are its members. An unindented device line (lspci's own) or a
            // shell prompt ends the listing; other lines (a script's `USB:` lines, prose) do not.
            if let group = listingGroup {
                if indented, let member = Self.memberLine(s) {
                    takeMember(member, group)
                    capabilityIndex = nil
                    continue
                }
                if !indented, Self.headerAddress(text) != nil || s.hasPrefix("$") || s.hasPrefix("#") { listingGroup = nil }
            }
            // lspci -vmm: `Slot:\t00:02.0` and `Key:\tvalue` lines.
            if s.hasPrefix("Slot:"), let a = Self.headerAddress(ArraySlice(s.dropFirst(5).drop { $0 == " " || $0 == "\t" }.utf8)) {
                record = a
                inRecord = true
                current = nil
                see(a, .machine)
                continue
            }
            if s.hasPrefix("Slot:") {
                // A record whose address cannot be read: the function it describes is unknown.
                unreadFunctionLines.append(lineNumber)
                record = nil
                inRecord = true
                continue
            }
            if inRecord {
                if let a = record { readRecordLine(s, address: a) }
                continue
            }
            if let address = Self.headerAddress(text) {
                current = address
                closed = nil
                currentIsMember = false
                capabilityIndex = nil
                if annotations[address] == nil { annotations[address] = Annotations(line: lineNumber) }
                if annotations[address]?.section == nil { annotations[address]?.section = section }
                // A second block of a function whose capabilities were read: its own must repeat them.
                if annotations[address]?.text.capabilities.isEmpty == false { annotations[address]?.text.repeating = true }
                blockLabels = []
                out.append(String(decoding: text, as: UTF8.self))
                let rest = s.drop { $0 != " " }
                let d = DeviceLine.parse(rest)
                if !rest.trimmingCharacters(in: " ").isEmpty {
                    annotations[address]?.text.forms.insert(.plain)
                    annotations[address]?.text.takeIdentity(d, line: lineNumber)
                    if d.vendorID == nil, annotations[address]?.text.vendorID == nil { withoutIDs[address] = lineNumber }
                }
                continue
            }
            if let hex = try Self.hexLine(text, line: lineNumber, name: name) {
                guard let address = current else { continue } // libpci ignores hex with no function above it
                annotations[address]?.text.forms.insert(.hex)
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
            // A line that is not lspci's (a shell prompt, prose) starts a new section of the paste.
            // A line that names a function (an address, even a damaged one) reaching here was read by no form.
            if Self.namesAFunction(s) {
                unreadFunctionLines.append(lineNumber)
                continue
            }
            guard let address = current, indented || readDetail(s, address: address, line: lineNumber, capabilityIndex: &capabilityIndex) else {
                section += 1
                current = nil
                // A command that filters what follows (`| grep`, `lspci -s`/`-d`, `head`): not the whole machine.
                if s.contains("grep") || s.contains(" -s ") || s.contains(" -d ") || s.contains("| head") || s.contains("| tail") || s.contains("| sed") || s.contains("| awk") {
                    filteredSections.insert(section)
                }
                continue
            }
            if indented { _ = readDetail(s, address: address, line: lineNumber, capabilityIndex: &capabilityIndex) }
            lastBlock = address
        }
        normalized = out.joined(separator: "\n") + "\n"
        if let last = lastBlock { annotations[last]?.text.endsPaste = true }
        if unquoted > 0 { notes.append("\(unquoted) line(s) quoted for e-mail ('> ') were read without the quoting") }
        // The tree: bridges' secondary buses, IDs with -tvnn.
        treeEntries = tree.entries.count
        for e in tree.entries {
            if annotations[e.address] == nil { annotations[e.address] = Annotations(line: e.line) }
            annotations[e.address]?.text.forms.insert(.tree)
            if let (v, d) = e.ids {
                annotations[e.address]?.text.takeIdentity(DeviceLine(vendorID: v, deviceID: d), line: e.line)
            } else if let name = e.name {
                annotations[e.address]?.text.takeIdentity(DeviceLine(nameText: name), line: e.line)
            }
            if let (sec, sub) = e.secondary, annotations[e.address]?.text.busNumbers == nil {
                annotations[e.address]?.text.busNumbers = BridgeBusNumbers(primary: e.address.bus, secondary: sec, subordinate: sub)
            }
        }
        for a in Array(withoutIDs.keys) where annotations[a]?.text.vendorID != nil { withoutIDs[a] = nil }
        // A listing's groups are the kernel's groups, as lspci's own group lines are; the two must agree.
        for (a, g) in listedGroups { takeGroup(String(g), address: a) }
        for a in listedGroupConflicts { annotations[a]?.groupConflict = true }
        // What each function was read as: its richest form.
        for (address, a) in annotations {
            var forms = a.text.forms
            if a.text.verbosity >= 2 { forms.insert(.verbose2) } else if a.text.verbosity == 1 { forms.insert(.verbose1) }
            if a.text.verbosity == 0, a.driver != nil || a.modules != nil || a.section.map(sectionsWithKernelLines.contains) == true { forms.insert(.kernel) }
            // `-nn` lines only where nothing richer named the function.
            if forms.contains(.plain), forms.contains(.kernel) || forms.contains(.verbose1) || forms.contains(.verbose2) || !a.rows.isEmpty { forms.remove(.plain) }
            if forms.isEmpty { forms.insert(.plain) }
            if !a.rows.isEmpty { forms.insert(.hex) }
            annotations[address]?.text.forms = forms
            for f in forms { formCounts[f, default: 0] += 1 }
        }
    }

    /// `IOMMU Group 14:` / `IOMMU Group 14 …` / `IOMMU GROUP 14` / `Group 14: …` / `IOMMU Group: 50`: the group and
    /// what follows it. `inBlock`: the line is inside a function's verbose block or record, where `IOMMU group: N` is
    /// that function's own line.
    static func listingHeader(_ s: String, inBlock: Bool) -> (Int, String)? {
        // `### Group 17 ###` (a script that prints `lspci -s` per group member under such a banner).
        let s = s.hasPrefix("#") ? String(s.drop { $0 == "#" || $0 == " " }) : s
        var rest = Substring(s)
        let lower = s.lowercased()
        if lower.hasPrefix("iommu group") {
            rest = rest.dropFirst("iommu group".count)
            if rest.hasPrefix("s") { return nil }
            let colonFirst = rest.hasPrefix(":")
            if colonFirst && inBlock { return nil }
        } else if s.hasPrefix("Group ") {
            rest = rest.dropFirst("Group ".count)
        } else {
            return nil
        }
        rest = rest.drop { $0 == ":" || $0 == " " || $0 == "\t" }
        let digits = rest.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.count <= 6, let n = Int(digits) else { return nil }
        rest = rest.dropFirst(digits.count)
        guard rest.isEmpty || rest.first == ":" || rest.first == " " || rest.first == "\t" else { return nil }
        return (n, rest.drop { $0 == ":" || $0 == " " || $0 == "\t" }.trimmingCharacters(in: " \t#"))
    }

    /// A member line of a group listing: `00:01.0 PCI bridge [0604]: …`, `(3) 00:02.0 …`, `Group Device: 0000:97:00.4 - …`,
    /// `[1022:14db] [R] 00:01.1  PCI bridge  Device 14db`.
    static func memberLine(_ s: String) -> (address: PCIAddress, line: DeviceLine)? {
        var rest = Substring(s)
        if rest.hasPrefix("Group Device:") { rest = rest.dropFirst("Group Device:".count) }
        var leadingIDs: (UInt16, UInt16)?
        // Leading tokens before the address: `(3)`, `[1022:14db]`, `[R]`.
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if rest.hasPrefix("("), let close = rest.firstIndex(of: ")"), rest[rest.index(after: rest.startIndex)..<close].allSatisfy(\.isNumber) {
                rest = rest[rest.index(after: close)...]
                continue
            }
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                if let ids = DeviceLine.idPair(inner) { leadingIDs = ids }
                guard inner.count <= 9 else { return nil }
                rest = rest[rest.index(after: close)...]
                continue
            }
            break
        }
        guard let address = headerAddress(ArraySlice(rest.utf8)) else { return nil }
        var after = rest.drop { $0 != " " && $0 != "\t" }
        after = after.drop { $0 == " " || $0 == "\t" || $0 == "-" }
        var d = DeviceLine.parse(after)
        if let ids = leadingIDs, d.vendorID == nil {
            (d.vendorID, d.deviceID) = ids
            // `00:01.1  PCI bridge    Device 14db`: the class name is the first column.
            let columns = after.split(separator: "  ").map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
            d.className = columns.first
        }
        return (address, d)
    }

    /// A `Key:\tvalue` line of an lspci -vmm record (show_machine).
    mutating func readRecordLine(_ s: String, address: PCIAddress) {
        guard let colon = s.firstIndex(of: ":") else { return }
        let key = s[..<colon]
        let value = s[s.index(after: colon)...].trimmingCharacters(in: " \t")
        // `-vmmnn`: `Vendor:\tIntel Corporation [8086]`; `-vmmn`: `Vendor:\t8086`.
        func number(_ v: String) -> UInt16? {
            if v.hasSuffix("]"), let open = v.lastIndex(of: "[") { return UInt16(v[v.index(after: open)..<v.index(before: v.endIndex)], radix: 16) }
            return v.count == 4 ? UInt16(v, radix: 16) : nil
        }
        switch key {
        case "Class":
            if let c = number(value) { annotations[address]?.text.takeIdentity(DeviceLine(deviceClass: c), line: 0) }
        case "Vendor":
            if let v = number(value) { annotations[address]?.text.takeIdentity(DeviceLine(vendorID: v), line: 0) }
        case "Device":
            if let d = number(value) { annotations[address]?.text.takeIdentity(DeviceLine(deviceID: d), line: 0) }
        case "SVendor":
            annotations[address]?.text.subsystemVendorID = number(value)
        case "SDevice":
            annotations[address]?.text.subsystemDeviceID = number(value)
        case "Rev":
            if let r = UInt8(value, radix: 16) { annotations[address]?.text.takeIdentity(DeviceLine(revision: r), line: 0) }
        case "ProgIf":
            if let p = UInt8(value, radix: 16) { annotations[address]?.text.takeIdentity(DeviceLine(progIf: p), line: 0) }
        case "Driver":
            takeDriver(value, address: address)
        case "Module":
            let modules = (annotations[address]?.modules ?? []) + [value]
            annotations[address]?.modules = modules
            hasKernelLines = true
        case "IOMMUGroup":
            takeGroup(value, address: address)
        default:
            break
        }
    }

    mutating func takeGroup(_ value: String, address: PCIAddress) {
        hasGroupLines = true
        if let n = Int(value), n >= 0 {
            annotations[address]?.claimedGroups.insert(n)
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
    }

    mutating func takeDriver(_ value: String, address: PCIAddress) {
        hasKernelLines = true
        sectionsWithKernelLines.insert(section)
        if value.isEmpty {
            annotations[address]?.driverUnclear = true
        } else if let earlier = annotations[address]?.driver {
            if earlier != value { annotations[address]?.driverUnclear = true }
        } else {
            annotations[address]?.driver = value
        }
    }

    /// One line below a function's header line (what lspci -v, -vv, -k print), already escaped.
    /// - Returns: whether the line is one lspci prints in a block.
    @discardableResult
    mutating func readDetail(_ s: String, address: PCIAddress, line: Int, capabilityIndex: inout Int?) -> Bool {
        // Lines that belong to the function wherever they stand.
        if let value = s.value(after: "Kernel driver in use:") {
            if capabilityIndex != nil { annotations[address]?.text.closedAfterCapabilities = true }
            capabilityIndex = nil
            if !blockLabels.insert("Kernel driver in use").inserted { annotations[address]?.text.identityConflict = true }
            takeDriver(value, address: address)
            return true
        }
        if let value = s.value(after: "Kernel modules:") {
            if capabilityIndex != nil { annotations[address]?.text.closedAfterCapabilities = true }
            if !blockLabels.insert("Kernel modules").inserted { annotations[address]?.text.identityConflict = true }
            capabilityIndex = nil
            hasKernelLines = true
            sectionsWithKernelLines.insert(section)
            annotations[address]?.modules = value.split(separator: ",").map { String($0.drop { $0 == " " }) }.filter { !$0.isEmpty }
            return true
        }
        if let value = s.value(after: "IOMMU group:") {
            takeGroup(value, address: address)
            return true
        }
        if s.hasPrefix("Capabilities:") {
            let rest = s.dropFirst("Capabilities:".count).trimmingCharacters(in: " \t")
            if rest.hasPrefix("<access denied>") {
                annotations[address]?.text.capabilitiesDenied = true
                if annotations[address]?.text.capabilitiesDeniedLine == nil { annotations[address]?.text.capabilitiesDeniedLine = line }
                capabilityIndex = nil
                return true
            }
            // `[40] Power Management version 3`, `[100 v1] Advanced Error Reporting`.
            guard rest.hasPrefix("["), let close = rest.firstIndex(of: "]") else { return true }
            let inside = rest[rest.index(after: rest.startIndex)..<close].split(separator: " ")
            guard let first = inside.first, let offset = Int(first, radix: 16), offset >= 0x40, offset < 0x1000 else { return true }
            let version = inside.count > 1 && inside[1].hasPrefix("v") ? Int(inside[1].dropFirst()) : nil
            let title = rest[rest.index(after: close)...].trimmingCharacters(in: " \t")
            let cap = TextCapability(offset: offset, extended: offset >= 0x100, version: version, title: title, line: line)
            // A second verbose block of the same function: its capabilities are not read twice.
            if let existing = annotations[address]?.text.capabilities, let i = existing.firstIndex(where: { $0.offset == offset }) {
                if existing[i].title != title { annotations[address]?.text.identityConflict = true }
                // Its lines are kept to compare with the first block's.
                annotations[address]?.text.capabilities[i].repeatedDetail = []
                capabilityIndex = -(i + 2)
                return true
            }
            // A capability a second block has and the first had not: the two blocks disagree.
            if annotations[address]?.text.repeating == true { annotations[address]?.text.identityConflict = true }
            annotations[address]?.text.capabilities.append(cap)
            capabilityIndex = (annotations[address]?.text.capabilities.count ?? 1) - 1
            return true
        }
        if let i = capabilityIndex {
            if i >= 0 {
                annotations[address]?.text.capabilities[i].detail.append(s)
            } else if i <= -2 {
                annotations[address]?.text.capabilities[-i - 2].repeatedDetail?.append(s)
            }
            return true
        }
        // `-v`'s `Flags: bus master, fast devsel, latency 0, IRQ 16, IOMMU group 14`.
        if s.hasPrefix("Flags:") {
            if annotations[address]?.text.verbosity == 0 { annotations[address]?.text.verbosity = 1 }
            if let value = s.split(separator: ",").lazy.compactMap({ String($0).trimmingWhitespace().value(after: "IOMMU group") }).first {
                takeGroup(value, address: address)
            }
            return true
        }
        if let value = s.value(after: "Control:") {
            if !blockLabels.insert("Control").inserted { annotations[address]?.text.identityConflict = true }
            annotations[address]?.text.verbosity = 2
            if annotations[address]?.text.verboseLine == nil { annotations[address]?.text.verboseLine = line }
            let f = lspciFlags(value)
            let names = ["I/O", "Mem", "BusMaster", "SpecCycle", "MemWINV", "VGASnoop", "ParErr", "Stepping", "SERR", "FastB2B", "DisINTx"]
            var word: UInt16 = 0
            for (n, name) in names.enumerated() where f[name] == true { word |= 1 << UInt16(n) }
            // A second block of the function with another Control line: what it is, is contradicted.
            if let earlier = annotations[address]?.text.control, earlier != word { annotations[address]?.text.identityConflict = true }
            // A line cut short (a flag missing) is no register: the header is then not rebuilt.
            annotations[address]?.text.control = names.allSatisfy { f[$0] != nil } ? word : nil
            if !names.allSatisfy({ f[$0] != nil }) { annotations[address]?.text.damagedLines.append(line) }
            return true
        }
        if let value = s.value(after: "Status:") {
            let f = lspciFlags(value)
            var word: UInt16 = 0
            for (bit, name) in [(3, "INTx"), (4, "Cap"), (5, "66MHz"), (6, "UDF"), (7, "FastB2B"), (8, "ParErr"), (11, ">TAbort"), (12, "<TAbort"), (13, "<MAbort"), (14, ">SERR"), (15, "<PERR")] where f[name] == true {
                word |= 1 << UInt16(bit)
            }
            if value.contains("DEVSEL=medium") { word |= 1 << 9 } else if value.contains("DEVSEL=slow") { word |= 2 << 9 }
            // `Cap+` decides whether there is a capability list: a Status line without it is no register.
            annotations[address]?.text.status = f["Cap"] != nil && f["<PERR"] != nil ? word : nil
            if f["Cap"] == nil || f["<PERR"] == nil { annotations[address]?.text.damagedLines.append(line) }
            if annotations[address]?.text.statusLines ?? 0 > 0, annotations[address]?.text.status != word { annotations[address]?.text.identityConflict = true }
            annotations[address]?.text.statusLines += 1
            return true
        }
        if let value = s.value(after: "Subsystem:") {
            // Twice in one block: the header line of the function between them was lost.
            if !blockLabels.insert("Subsystem").inserted { annotations[address]?.text.identityConflict = true }
            // Compared without the `[vvvv:dddd]` -nn adds (and the `dddd` lspci prints for a device pci.ids lacks), so
            // `-v` and `-nnk` blocks of one function agree.
            var name = value.hasSuffix("]") && value.count > 12 && DeviceLine.idPair(value.dropLast().suffix(9)) != nil
                ? String(value.dropLast(12)) : value
            if let space = name.lastIndex(of: " "), name[name.index(after: space)...].count == 4, name[name.index(after: space)...].allSatisfy(\.isHexDigit) {
                name = String(name[..<space])
            }
            if let earlier = annotations[address]?.text.subsystemLine, earlier != name { annotations[address]?.text.identityConflict = true }
            annotations[address]?.text.subsystemLine = name
            if value.hasSuffix("]"), let open = value.lastIndex(of: "["), let ids = DeviceLine.idPair(value[value.index(after: open)..<value.index(before: value.endIndex)]) {
                annotations[address]?.text.subsystemVendorID = ids.0
                annotations[address]?.text.subsystemDeviceID = ids.1
            } else if let ids = DeviceLine.idPair(Substring(value)) {
                annotations[address]?.text.subsystemVendorID = ids.0
                annotations[address]?.text.subsystemDeviceID = ids.1
            } else {
                annotations[address]?.text.subsystemText = value
            }
            return true
        }
        if let value = s.value(after: "Latency:") {
            if let earlier = annotations[address]?.text.latencyLine, earlier != value { annotations[address]?.text.identityConflict = true }
            annotations[address]?.text.latencyLine = value
            annotations[address]?.text.latencyTimer = UInt8(truncatingIfNeeded: value.integer(after: "") ?? 0)
            if let bytes = value.integer(after: "Cache Line Size: ") { annotations[address]?.text.cacheLineSize = UInt8(truncatingIfNeeded: bytes / 4) }
            return true
        }
        if let value = s.value(after: "Interrupt:") {
            // A second block of the function with another Interrupt line (or a lost header line's block run on): contradicted.
            if let earlier = annotations[address]?.text.interruptText, earlier != value { annotations[address]?.text.identityConflict = true }
            annotations[address]?.text.interruptText = value
            // `pin A routed to IRQ 16` (`pin ?` when the pin reads 0 but an IRQ is set).
            let pins: [Character: UInt8] = ["A": 1, "B": 2, "C": 3, "D": 4, "?": 0]
            if let r = value.firstRange(of: "pin "), let letter = value[r.upperBound...].first, let pin = pins[letter], value.contains(" routed to IRQ ") {
                annotations[address]?.text.interruptPin = pin
                annotations[address]?.text.interruptShown = true
            } else {
                annotations[address]?.text.damagedLines.append(line)
            }
            annotations[address]?.text.interruptLine = UInt8(truncatingIfNeeded: value.integer(after: "IRQ ") ?? 0)
            return true
        }
        if let value = s.value(after: "Bus:") {
            // `primary=00, secondary=01, subordinate=01, sec-latency=0`
            if let p = value.integer(after: "primary=", radix: 16), let sec = value.integer(after: "secondary=", radix: 16),
               let sub = value.integer(after: "subordinate=", radix: 16) {
                annotations[address]?.text.busNumbers = BridgeBusNumbers(primary: UInt8(truncatingIfNeeded: p), secondary: UInt8(truncatingIfNeeded: sec), subordinate: UInt8(truncatingIfNeeded: sub))
                annotations[address]?.text.secondaryLatency = UInt8(truncatingIfNeeded: value.integer(after: "sec-latency=") ?? 0)
            } else {
                annotations[address]?.text.damagedLines.append(line)
            }
            return true
        }
        if let value = s.value(after: "BridgeCtl:") {
            let f = lspciFlags(value)
            var word: UInt16 = 0
            for (bit, name) in ["Parity", "SERR", "NoISA", "VGA", "VGA16", "MAbort", ">Reset", "FastB2B", "PriDiscTmr", "SecDiscTmr", "DiscTmrStat", "DiscTmrSERREn"].enumerated() where f[name] == true {
                word |= 1 << UInt16(bit)
            }
            annotations[address]?.text.bridgeControl = word
            return true
        }
        for (label, kind) in [("I/O behind bridge:", 0), ("Memory behind bridge:", 1), ("Prefetchable memory behind bridge:", 2)] {
            guard let value = s.value(after: label) else { continue }
            // `0000e000-0000efff [size=4K] [16-bit]`, `[disabled]`.
            let range = value.split(separator: " ").first.map { $0.split(separator: "-") } ?? []
            guard !value.contains("[disabled]"), range.count == 2, let base = UInt64(range[0], radix: 16), let limit = UInt64(range[1], radix: 16) else { return true }
            switch kind {
            case 0: annotations[address]?.text.ioWindow = (base, limit, base > 0xffff || limit > 0xffff || value.contains("[32-bit]"))
            case 1: annotations[address]?.text.memoryWindow = (base, limit)
            default: annotations[address]?.text.prefetchWindow = (base, limit, base > 0xffff_ffff || limit > 0xffff_ffff || value.contains("[64-bit]"))
            }
            return true
        }
        if let value = s.value(after: "Expansion ROM at") {
            let word = value.split(separator: " ").first.map(String.init) ?? ""
            annotations[address]?.text.expansionROM = (UInt64(word, radix: 16) ?? 0, !value.contains("[disabled]"))
            return true
        }
        if s.hasPrefix("Region ") {
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
            if let (index, word, upper) = Self.barRegister(s) {
                annotations[address]?.text.barRegisters[index] = word
                if let upper { annotations[address]?.text.barRegisters[index + 1] = upper }
            }
            return true
        }
            // Other lines lspci prints in a block (`Latency`, `NUMA node`, `Physical Slot`, `Secondary status`, …): `Label: …`.
        if let colon = s.firstIndex(of: ":"), s[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "/" }), !s[..<colon].isEmpty {
            return true
        }
        return false
    }

    /// The BAR register(s) a `Region N:` line implies: index, low dword, and the high dword of a 64-bit BAR.
    static func barRegister(_ s: String) -> (Int, UInt64, UInt64?)? {
        let words = s.split(separator: " ")
        guard words.count >= 4, words[0] == "Region", words[1].hasSuffix(":"), let index = Int(words[1].dropLast()), (0...5).contains(index) else { return nil }
        if words[2] == "I/O", words.count >= 5 {
            // `I/O ports at e000 [size=128]`
            return (index, (UInt64(words[4], radix: 16) ?? 0) & ~3 | 1, nil)
        }
        guard words[2] == "Memory", words.count >= 5 else { return nil }
        let address = UInt64(words[4], radix: 16) ?? 0
        let wide = s.contains("64-bit")
        let low = (address & 0xffff_fff0) | (wide ? 0x4 : 0) | (s.contains(", prefetchable") || s.contains("(prefetchable") ? 0x8 : 0)
        return (index, low, wide && index < 5 ? address >> 32 : nil)
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
