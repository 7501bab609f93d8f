import PCIConfigSpace

/// Config space rebuilt from lspci's verbose text (`-vv`/`-vvv`): each register lspci spells out is written back at
/// its offset (the encodings of `pci_regs.h`, as pciutils' lspci.c, ls-caps.c and ls-ecaps.c print them), and every
/// byte lspci does not print stays unknown, so the decoder sees a gap, never a zero.
///
/// What is rebuilt: the header (IDs, Control, Status, class, revision, BARs from `Region` lines, bus numbers,
/// windows, ROM, interrupt pin), the capability chain in the order lspci printed it, and the registers of Power
/// Management, MSI, MSI-X, PCI Express, Advanced Features, the bridge subsystem ID, ACS, ARI, ATS, PRI, PASID, SR-IOV
/// and Resizable BAR. A capability of those whose lines are missing (lspci -v prints names only) leaves the rest of its
/// chain unknown from there. Fields lspci does not print inside a rebuilt register (the ACS egress vector size,
/// reserved bits) read 0 and no rule reads them. The multifunction bit is never printed: the caller says what the
/// listing implies (`multifunction`), or it is unknown.
public struct TextConfigImage {
    public private(set) var bytes = [UInt8](repeating: 0, count: 4096)
    public private(set) var known = [Bool](repeating: false, count: 4096)
    public private(set) var regions = [UInt16](repeating: 0, count: 4096)
    /// The structure the next writes belong to (0: the header).
    var region: UInt16 = 0
    /// Capabilities whose registers the text does not give (named for a note).
    public private(set) var notShown: [String] = []
    /// Why the chain is unknown from some capability on, when it is.
    public private(set) var chainGap: String?

    /// Rebuilds `facts`. `multifunction`: whether the listing shows other functions of the slot (the kernel scans
    /// functions above 0 only when function 0 sets the bit); `extendedReadable`: whether lspci could read extended space
    /// on this machine (some function shows an extended capability), so that a PCI Express function showing none has none.
    /// Returns `nil` when the text holds no register text (`verbosity` below 2) or no IDs.
    public static func build(_ facts: TextFacts, multifunction: Bool, extendedReadable: Bool) -> (source: SparseConfigBytes, image: TextConfigImage)? {
        guard facts.verbosity >= 2, let vendor = facts.vendorID, let device = facts.deviceID, let cls = facts.deviceClass,
              let control = facts.control, let status = facts.status, facts.damagedLines.isEmpty,
              // A PCI bridge's text always has its `Bus:` line: without it (cut away) the header type is unknown.
              facts.busNumbers != nil || (cls != 0x0604 && cls != 0x0609) else { return nil }
        // `Cap+` in Status and the capability lines must agree (lspci prints capabilities only behind `Cap+`).
        if !facts.capabilitiesDenied, (status & 0x10 != 0) == facts.capabilities.isEmpty { return nil }
        var image = TextConfigImage()
        let layout: UInt8 = facts.busNumbers != nil ? 1 : (cls == 0x0607 ? 2 : 0)
        image.put16(0x00, vendor)
        image.put16(0x02, device)
        image.put16(0x04, control)
        image.put16(0x06, status)
        image.put8(0x08, facts.revision ?? 0)
        image.put8(0x09, facts.progIf ?? 0)
        image.put16(0x0a, cls)
        image.put8(0x0c, facts.cacheLineSize)
        image.put8(0x0d, facts.latencyTimer)
        // The bit lspci never prints: set where the listing implies it (function 0 with functions above it), else 0
        // and the caller records it as unknown.
        image.put8(0x0e, layout | (multifunction ? 0x80 : 0))
        image.put8(0x0f, 0)
        let barCount = layout == 0 ? 6 : (layout == 1 ? 2 : 1)
        for i in 0..<6 {
            let value = i < barCount ? UInt32(truncatingIfNeeded: facts.barRegisters[i] ?? 0) : 0
            if layout == 1 && i >= 2 { break }
            if layout == 2 && i >= 1 { break }
            image.put32(0x10 + 4 * i, value)
        }
        if layout == 1 {
            let b = facts.busNumbers ?? BridgeBusNumbers(primary: 0, secondary: 0, subordinate: 0)
            image.put8(0x18, b.primary)
            image.put8(0x19, b.secondary)
            image.put8(0x1a, b.subordinate)
            image.put8(0x1b, facts.secondaryLatency)
            image.put16(0x1e, 0)
            // Windows: closed (base above limit) where lspci printed none or `[disabled]`.
            if let io = facts.ioWindow {
                image.put8(0x1c, UInt8(truncatingIfNeeded: (io.base >> 8) & 0xf0) | (io.wide ? 1 : 0))
                image.put8(0x1d, UInt8(truncatingIfNeeded: (io.limit >> 8) & 0xf0) | (io.wide ? 1 : 0))
                image.put16(0x30, UInt16(truncatingIfNeeded: io.base >> 16))
                image.put16(0x32, UInt16(truncatingIfNeeded: io.limit >> 16))
            } else {
                image.put8(0x1c, 0xf0)
                image.put8(0x1d, 0x00)
                image.put32(0x30, 0)
            }
            if let m = facts.memoryWindow {
                image.put16(0x20, UInt16(truncatingIfNeeded: (m.base >> 16) & 0xfff0))
                image.put16(0x22, UInt16(truncatingIfNeeded: (m.limit >> 16) & 0xfff0))
            } else {
                image.put16(0x20, 0xfff0)
                image.put16(0x22, 0)
            }
            if let p = facts.prefetchWindow {
                image.put16(0x24, UInt16(truncatingIfNeeded: (p.base >> 16) & 0xfff0) | (p.wide ? 1 : 0))
                image.put16(0x26, UInt16(truncatingIfNeeded: (p.limit >> 16) & 0xfff0) | (p.wide ? 1 : 0))
                image.put32(0x28, UInt32(truncatingIfNeeded: p.base >> 32))
                image.put32(0x2c, UInt32(truncatingIfNeeded: p.limit >> 32))
            } else {
                image.put16(0x24, 0xfff0)
                image.put16(0x26, 0)
                image.put32(0x28, 0)
                image.put32(0x2c, 0)
            }
            image.put32(0x38, facts.expansionROM.map { UInt32(truncatingIfNeeded: $0.address) | ($0.enabled ? 1 : 0) } ?? 0)
            image.put16(0x3e, facts.bridgeControl)
        } else {
            image.put32(0x28, 0)
            image.put16(0x2c, facts.subsystemVendorID ?? 0)
            image.put16(0x2e, facts.subsystemDeviceID ?? 0)
            image.put32(0x30, facts.expansionROM.map { UInt32(truncatingIfNeeded: $0.address) | ($0.enabled ? 1 : 0) } ?? 0)
            image.put8(0x3e, 0)
            image.put8(0x3f, 0)
        }
        image.put8(0x3c, facts.interruptLine)
        // No `Interrupt:` line: the pin is unknown, written as A (the caller records it as unknown), which can only make
        // an interrupts verdict worse than pin 0 would.
        image.put8(0x3d, facts.interruptShown ? facts.interruptPin : 1)
        image.put8(0x35, 0)
        image.put16(0x36, 0)
        image.put32(0x38, image.known[0x38] ? image.u32(0x38) : 0)
        var readable = 64
        if facts.capabilitiesDenied {
            // lspci read the header only: the pointer is there, what it points to is not.
            image.put8(0x34, 0x40)
            return (SparseConfigBytes(storage: image.bytes, known: image.known, regions: image.regions, readableCount: 64), image)
        }
        let standard = facts.capabilities.filter { !$0.extended }
        let extended = facts.capabilities.filter { $0.extended }
        image.put8(0x34, UInt8(standard.first?.offset ?? 0))
        readable = 256
        var chainOpen = true
        for (i, cap) in standard.enumerated() where chainOpen {
            let next = i + 1 < standard.count ? standard[i + 1].offset : 0
            if let label = Self.foreignLabel(cap) {
                image.chainGap = "line \(cap.line) names \(cap.title.prefix(40)), but the lines under it hold `\(label):`, which another capability prints: a `Capabilities:` line was lost"
                chainOpen = false
                break
            }
            guard let id = Self.standardID(cap.title) else {
                image.chainGap = "lspci's text names the capability at 0x\(hex(cap.offset, 2)) `\(cap.title)`, which is not a name this tool reads"
                chainOpen = false
                break
            }
            image.region = UInt16(1 + i)
            if !image.encodeStandard(id, cap) {
                if Self.ruleRelevantStandard.contains(id.rawValue) {
                    image.chainGap = "lspci's text gives no registers for \(id.name) at 0x\(hex(cap.offset, 2)) (line \(cap.line)): `lspci -vv` as root prints them"
                    chainOpen = false
                    break
                }
                image.notShown.append("\(id.name) [\(hex(cap.offset, 2))]")
            }
            image.put8(cap.offset, id.rawValue)
            image.put8(cap.offset + 1, UInt8(next))
        }
        image.region = 0x100
        let isExpress = standard.contains { Self.standardID($0.title) == .pciExpress }
        if chainOpen, isExpress {
            if !extended.isEmpty || extendedReadable {
                readable = 4096
                if extended.isEmpty { image.put32(0x100, 0) }
                for (i, cap) in extended.enumerated() {
                    let next = i + 1 < extended.count ? extended[i + 1].offset : 0
                    if let label = Self.foreignLabel(cap) {
                        image.chainGap = "line \(cap.line) names \(cap.title.prefix(40)), but the lines under it hold `\(label):`, which another capability prints: a `Capabilities:` line was lost"
                        break
                    }
                    guard let id = Self.extendedID(cap.title) else {
                        image.chainGap = "lspci's text names the extended capability at 0x\(hex(cap.offset, 3)) `\(cap.title)`, which is not a name this tool reads"
                        break
                    }
                    image.region = UInt16(0x101 + i)
                    if !image.encodeExtended(id, cap) {
                        if Self.ruleRelevantExtended.contains(id.rawValue) {
                            image.chainGap = "lspci's text gives no registers for \(id.name) at 0x\(hex(cap.offset, 3)) (line \(cap.line)): `lspci -vv` as root prints them"
                            break
                        }
                        image.notShown.append("\(id.name) [\(hex(cap.offset, 3))]")
                    }
                    image.put32(cap.offset, UInt32(id.rawValue) | UInt32((cap.version ?? 1) & 0xf) << 16 | UInt32(next) << 20)
                }
            } else {
                image.chainGap = "no function of the text shows an extended capability, so whether lspci could read extended config space (0x100 and up) is unknown"
            }
            // A PCI Express block with no extended capability, where the paste ends in it before any line after its
            // capabilities: the rest may be cut off.
            if extended.isEmpty, facts.endsPaste, !facts.closedAfterCapabilities, image.chainGap == nil {
                image.chainGap = "the paste ends inside this block, right after its standard capabilities: its extended capabilities may have been cut off"
                image.known[0x100] = false
                readable = 4096
            }
        } else if chainOpen, !extended.isEmpty {
            image.chainGap = "the text prints extended capabilities but no PCI Express capability (its `Capabilities:` line lost?)"
        }
        return (SparseConfigBytes(storage: image.bytes, known: image.known, regions: image.regions, readableCount: readable), image)
    }

    // MARK: - Writing

    mutating func put8(_ o: Int, _ v: UInt8) {
        guard o >= 0, o < 4096 else { return }
        bytes[o] = v
        known[o] = true
        regions[o] = region
    }
    mutating func put16(_ o: Int, _ v: UInt16) {
        put8(o, UInt8(truncatingIfNeeded: v))
        put8(o + 1, UInt8(truncatingIfNeeded: v >> 8))
    }
    mutating func put32(_ o: Int, _ v: UInt32) {
        put16(o, UInt16(truncatingIfNeeded: v))
        put16(o + 2, UInt16(truncatingIfNeeded: v >> 16))
    }
    func u32(_ o: Int) -> UInt32 {
        UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
    }
    /// Zero-fills `count` bytes at `o` as known (the registers lspci printed but this image leaves at their reset value).
    mutating func zero(_ o: Int, _ count: Int) {
        for i in o..<(o + count) { put8(i, 0) }
    }

    // MARK: - Names

    /// Capabilities a rule reads (power management, MSI, PCI Express, MSI-X, Advanced Features; ACS, ARI, ATS, SR-IOV,
    /// PRI, PASID, Resizable BAR): without their registers the rest of the chain is left unknown.
    static let ruleRelevantStandard: Set<UInt8> = [0x01, 0x05, 0x10, 0x11, 0x13]
    static let ruleRelevantExtended: Set<UInt16> = [0x000d, 0x000e, 0x0010, 0x000f, 0x0013, 0x001b, 0x0015, 0x0024]

    /// lspci's names of standard capabilities (ls-caps.c show_caps), by prefix.
    static func standardID(_ title: String) -> CapabilityID? {
        let names: [(String, UInt8)] = [
            ("Power Management version", 0x01), ("AGP version", 0x02), ("Vital Product Data", 0x03), ("Slot ID", 0x04),
            ("MSI-X:", 0x11), ("MSI:", 0x05), ("CompactPCI hot-swap", 0x06), ("PCI-X", 0x07), ("HyperTransport", 0x08),
            ("Vendor Specific Information", 0x09), ("Debug port", 0x0a), ("CompactPCI central resource control", 0x0b),
            ("Hot-plug capable", 0x0c), ("PCI Hot-plug", 0x0c), ("Subsystem:", 0x0d), ("AGP3", 0x0e), ("Secure device", 0x0f),
            ("Express", 0x10), ("SATA HBA", 0x12), ("PCI Advanced Features", 0x13), ("Enhanced Allocation", 0x14),
            ("Flattening Portal Bridge", 0x15), ("Null", 0x00),
        ]
        for (prefix, id) in names where title.hasPrefix(prefix) { return CapabilityID(rawValue: id) }
        // Unknown IDs: `#1f [0000]`.
        if title.hasPrefix("#"), let id = UInt8(title.dropFirst().prefix(2), radix: 16) { return CapabilityID(rawValue: id) }
        return nil
    }

    /// lspci's names of extended capabilities (ls-ecaps.c show_ext_caps), by prefix.
    static func extendedID(_ title: String) -> ExtendedCapabilityID? {
        let names: [(String, UInt16)] = [
            ("Advanced Error Reporting", 0x01), ("Virtual Channel", 0x02), ("Device Serial Number", 0x03), ("Power Budgeting", 0x04),
            ("Root Complex Link", 0x05), ("Root Complex Internal Link", 0x06), ("Root Complex Event Collector", 0x07),
            ("Multi-Function Virtual Channel", 0x08), ("Root Complex Register Block", 0x0a), ("Vendor Specific Information", 0x0b),
            ("Configuration Access Correlation", 0x0c), ("Access Control Services", 0x0d), ("Alternative Routing-ID Interpretation", 0x0e),
            ("Address Translation Service", 0x0f), ("Single Root I/O Virtualization", 0x10), ("Multi-Root I/O Virtualization", 0x11),
            ("Multicast", 0x12), ("Page Request Interface", 0x13), ("Physical Resizable BAR", 0x15), ("Resizable BAR", 0x15),
            ("Dynamic Power Allocation", 0x16), ("Transaction Processing Hints", 0x17), ("Latency Tolerance Reporting", 0x18),
            ("Secondary PCI Express", 0x19), ("Protocol Multiplexing", 0x1a), ("Process Address Space ID", 0x1b),
            ("LN Requester", 0x1c), ("Downstream Port Containment", 0x1d), ("L1 PM Substates", 0x1e),
            ("Precision Time Measurement", 0x1f), ("PCI Express over M_PHY", 0x20), ("FRS Queueing", 0x21),
            ("Readiness Time Reporting", 0x22), ("Designated Vendor-Specific", 0x23), ("VF Resizable BAR", 0x24),
            ("Data Link Feature", 0x25), ("Physical Layer 16.0 GT/s", 0x26), ("Lane Margining at the Receiver", 0x27),
            ("Hierarchy ID", 0x28), ("Native PCIe Enclosure Management", 0x29), ("Physical Layer 32.0 GT/s", 0x2a),
            ("Alternate Protocol", 0x2b), ("System Firmware Intermediary", 0x2c), ("Data Object Exchange", 0x2e),
            ("Device 3", 0x2f), ("Integrity and Data Encryption", 0x30), ("Physical Layer 64.0 GT/s", 0x31), ("Flit Logging", 0x32),
        ]
        for (prefix, id) in names where title.hasPrefix(prefix) { return ExtendedCapabilityID(rawValue: id) }
        // `Extended Capability ID 0x2d`.
        if let r = title.firstRange(of: "Extended Capability ID 0x"), let id = UInt16(title[r.upperBound...].prefix { $0.isHexDigit }, radix: 16) {
            return ExtendedCapabilityID(rawValue: id)
        }
        return nil
    }

    /// Register labels and the capability that prints them (ls-caps.c, ls-ecaps.c): a label under another capability
    /// means the `Capabilities:` line between them was lost.
    static let labelOwner: [String: String] = {
        var m: [String: String] = [:]
        // (`RootSta` is printed by both PCI Express and AER: it proves nothing.)
        for l in ["DevCap", "DevCtl", "DevSta", "LnkCap", "LnkCtl", "LnkSta", "SltCap", "SltCtl", "SltSta", "RootCap", "RootCtl", "DevCap2", "DevCtl2", "LnkCap2", "LnkCtl2", "LnkSta2"] { m[l] = "express" }
        for l in ["ACSCap", "ACSCtl"] { m[l] = "acs" }
        for l in ["ARICap", "ARICtl"] { m[l] = "ari" }
        for l in ["ATSCap", "ATSCtl"] { m[l] = "ats" }
        for l in ["PRICtl", "PRISta"] { m[l] = "pri" }
        for l in ["PASIDCap", "PASIDCtl"] { m[l] = "pasid" }
        for l in ["IOVCap", "IOVCtl", "IOVSta"] { m[l] = "sriov" }
        for l in ["AFCap", "AFCtrl", "AFStatus"] { m[l] = "af" }
        for l in ["UESta", "UEMsk", "UESvrt", "CESta", "CEMsk", "AERCap", "HeaderLog", "RootCmd", "ErrorSrc"] { m[l] = "aer" }
        return m
    }()

    /// The family a capability's title names, in `labelOwner`'s terms (`nil`: one whose lines are not checked).
    static func family(_ cap: TextCapability) -> String? {
        let t = cap.title
        if t.hasPrefix("Express") { return "express" }
        if t.hasPrefix("Access Control Services") { return "acs" }
        if t.hasPrefix("Alternative Routing-ID") { return "ari" }
        if t.hasPrefix("Address Translation Service") { return "ats" }
        if t.hasPrefix("Page Request Interface") { return "pri" }
        if t.hasPrefix("Process Address Space ID") { return "pasid" }
        if t.hasPrefix("Single Root I/O Virtualization") { return "sriov" }
        if t.hasPrefix("PCI Advanced Features") { return "af" }
        if t.hasPrefix("Advanced Error Reporting") { return "aer" }
        return "other"
    }

    /// A label under `cap` that another capability prints, if any.
    static func foreignLabel(_ cap: TextCapability) -> String? {
        let own = family(cap)
        for label in sections(cap).keys {
            if let owner = labelOwner[label], owner != own { return label }
        }
        return nil
    }

    // MARK: - Capability registers

    /// The detail lines of `cap`, split into register sections by their `Label:` (`DevCap:`, `LnkSta:`): label → text
    /// of the section (continuation lines joined).
    static func sections(_ cap: TextCapability) -> [String: String] {
        var out: [String: String] = [:]
        var current: String?
        for line in cap.detail {
            if let colon = line.firstIndex(of: ":"), !line[..<colon].contains(" "), !line[..<colon].isEmpty,
               line[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                let label = String(line[..<colon])
                if out[label] == nil {
                    current = label
                    out[label] = String(line[line.index(after: colon)...])
                    continue
                }
            }
            if let c = current { out[c, default: ""] += " " + line }
        }
        return out
    }

    static func bit(_ flags: [String: Bool], _ name: String, _ bit: Int) -> UInt32 {
        flags[name] == true ? 1 << UInt32(bit) : 0
    }

    /// Writes the registers of a standard capability from its lines; `false` when the text lacks what they need.
    mutating func encodeStandard(_ id: CapabilityID, _ cap: TextCapability) -> Bool {
        let o = cap.offset
        let s = Self.sections(cap)
        switch id.rawValue {
        case 0x01: // Power Management (ls-caps.c cap_pm)
            // `NoSoftRst+` decides the PM reset: a Status line without it (cut off) gives no registers, never NoSoftRst-.
            guard let flagsText = s["Flags"], let statusText = s["Status"], lspciFlags(statusText)["NoSoftRst"] != nil else { return false }
            let f = lspciFlags(flagsText)
            var pmc = UInt16((cap.title.integer(after: "version ") ?? 0) & 7)
            pmc |= UInt16(Self.bit(f, "PMEClk", 3) | Self.bit(f, "DSI", 5) | Self.bit(f, "D1", 9) | Self.bit(f, "D2", 10))
            let aux = [0, 55, 100, 160, 220, 270, 320, 375]
            if let ma = flagsText.integer(after: "AuxCurrent="), let n = aux.firstIndex(of: ma) { pmc |= UInt16(n) << 6 }
            if let r = flagsText.firstRange(of: "PME(") {
                let inside = flagsText[r.upperBound...].prefix { $0 != ")" }
                let pme = lspciFlags(String(inside).replacing(",", with: " "))
                for (n, name) in ["D0", "D1", "D2", "D3hot", "D3cold"].enumerated() where pme[name] == true { pmc |= 1 << UInt16(11 + n) }
            }
            let st = lspciFlags(statusText)
            var csr: UInt16 = 0
            if let r = statusText.firstRange(of: "D"), let d = Int(statusText[r.upperBound...].prefix(1)) { csr |= UInt16(d & 3) }
            csr |= UInt16(Self.bit(st, "NoSoftRst", 3) | Self.bit(st, "PME-Enable", 8) | Self.bit(st, "PME", 15))
            csr |= UInt16((statusText.integer(after: "DSel=") ?? 0) & 0xf) << 9
            csr |= UInt16((statusText.integer(after: "DScale=") ?? 0) & 3) << 13
            put16(o + 2, pmc)
            put16(o + 4, csr)
            zero(o + 6, 2)
        case 0x05: // MSI (cap_msi): `MSI: Enable+ Count=1/32 Maskable+ 64bit+`
            let f = lspciFlags(cap.title)
            guard f["Enable"] != nil, let r = cap.title.firstRange(of: "Count=") else { return false }
            let counts = cap.title[r.upperBound...].prefix { $0 != " " }.split(separator: "/").compactMap { Int($0) }
            guard counts.count == 2 else { return false }
            func log2(_ n: Int) -> UInt16 { UInt16(max(0, Int.bitWidth - 1 - n.leadingZeroBitCount)) & 7 }
            var c = UInt16(Self.bit(f, "Enable", 0) | Self.bit(f, "64bit", 7) | Self.bit(f, "Maskable", 8))
            c |= log2(counts[1]) << 1 | log2(counts[0]) << 4
            put16(o + 2, c)
        case 0x11: // MSI-X (cap_msix): `MSI-X: Enable+ Count=64 Masked-`, `Vector table: BAR=0 offset=00002000`, `PBA: …`
            let f = lspciFlags(cap.title)
            guard let count = cap.title.integer(after: "Count="), count >= 1, count <= 2048 else { return false }
            put16(o + 2, UInt16(count - 1) | UInt16(Self.bit(f, "Masked", 14) | Self.bit(f, "Enable", 15)))
            func table(_ label: String) -> UInt32? {
                guard let line = cap.detail.first(where: { $0.hasPrefix(label) }),
                      let bir = line.integer(after: "BAR="), let off = line.integer(after: "offset=", radix: 16) else { return nil }
                return UInt32(truncatingIfNeeded: off) & ~7 | UInt32(bir & 7)
            }
            guard let t = table("Vector table:"), let p = table("PBA:") else { return false }
            put32(o + 4, t)
            put32(o + 8, p)
        case 0x13: // Advanced Features (cap_af): `AFCap: TP+ FLR+`
            guard let capText = s["AFCap"], lspciFlags(capText)["FLR"] != nil, lspciFlags(capText)["TP"] != nil else { return false }
            let f = lspciFlags(capText)
            put8(o + 2, 6)
            put8(o + 3, UInt8(Self.bit(f, "TP", 0) | Self.bit(f, "FLR", 1)))
            put8(o + 4, UInt8(Self.bit(lspciFlags(s["AFCtrl"] ?? ""), "FLR", 0)))
            put8(o + 5, UInt8(Self.bit(lspciFlags(s["AFStatus"] ?? ""), "TP", 0)))
        case 0x0d: // Bridge subsystem ID: `Subsystem: Name [1458:5001]`
            guard cap.title.hasSuffix("]"), let open = cap.title.lastIndex(of: "["),
                  let ids = DeviceLine.idPair(cap.title[cap.title.index(after: open)..<cap.title.index(before: cap.title.endIndex)]) else { return false }
            zero(o + 2, 2)
            put16(o + 4, ids.0)
            put16(o + 6, ids.1)
        case 0x09: // Vendor specific: `Len=14`
            guard let len = cap.title.integer(after: "Len=", radix: 16) else { return false }
            put8(o + 2, UInt8(truncatingIfNeeded: len))
        case 0x10:
            return encodeExpress(cap, s)
        default:
            return false
        }
        return true
    }

    /// PCI Express capability (ls-caps.c cap_express): `Express (v2) Root Port (Slot+), MSI 00` and its register lines.
    mutating func encodeExpress(_ cap: TextCapability, _ s: [String: String]) -> Bool {
        let o = cap.offset
        let t = cap.title
        guard let version = t.integer(after: "(v") else { return false }
        let types: [(String, UInt16)] = [
            ("Legacy Endpoint", 1), ("Root Complex Integrated Endpoint", 9), ("Endpoint", 0), ("Root Port", 4), ("Upstream Port", 5),
            ("Downstream Port", 6), ("PCI-Express to PCI/PCI-X Bridge", 7), ("PCI/PCI-X to PCI-Express Bridge", 8),
            ("Root Complex Event Collector", 10),
        ]
        let typeText = t.split(separator: ")", maxSplits: 1).last.map(String.init) ?? ""
        var type: UInt16?
        for (name, n) in types where typeText.contains(name) { type = n; break }
        if type == nil, let n = typeText.integer(after: "Unknown type ") { type = UInt16(n & 0xf) }
        guard let type, let devcapText = s["DevCap"] else { return false }
        let slot = lspciFlags(typeText)["(Slot"] ?? typeText.contains("(Slot+)")
        let imn = UInt16((t.integer(after: "MSI ", radix: 16) ?? t.integer(after: "IntMsgNum ") ?? 0) & 0x1f)
        put16(o + 2, UInt16(version & 0xf) | type << 4 | (slot ? 1 << 8 : 0) | imn << 9)
        let dc = lspciFlags(devcapText)
        var devcap = UInt32(0)
        if let mps = devcapText.integer(after: "MaxPayload "), mps >= 128 { devcap |= UInt32((mps / 128).trailingZeroBitCount & 7) }
        devcap |= UInt32((devcapText.integer(after: "PhantFunc ") ?? 0) & 3) << 3
        devcap |= Self.bit(dc, "ExtTag", 5) | Self.bit(dc, "AttnBtn", 12) | Self.bit(dc, "AttnInd", 13) | Self.bit(dc, "PwrInd", 14)
        devcap |= Self.bit(dc, "RBE", 15) | Self.bit(dc, "FLReset", 28)
        put32(o + 4, devcap)
        let dctl = lspciFlags(s["DevCtl"] ?? "")
        var devctl = UInt16(Self.bit(dctl, "CorrErr", 0) | Self.bit(dctl, "NonFatalErr", 1) | Self.bit(dctl, "FatalErr", 2) | Self.bit(dctl, "UnsupReq", 3))
        devctl |= UInt16(Self.bit(dctl, "RlxdOrd", 4) | Self.bit(dctl, "ExtTag", 8) | Self.bit(dctl, "PhantFunc", 9) | Self.bit(dctl, "AuxPwr", 10))
        devctl |= UInt16(Self.bit(dctl, "NoSnoop", 11) | Self.bit(dctl, "BrConfRtry", 15) | Self.bit(dctl, "FLReset", 15))
        if let text = s["DevCtl"], let mps = text.integer(after: "MaxPayload "), mps >= 128 { devctl |= UInt16((mps / 128).trailingZeroBitCount & 7) << 5 }
        if let text = s["DevCtl"], let mrr = text.integer(after: "MaxReadReq "), mrr >= 128 { devctl |= UInt16((mrr / 128).trailingZeroBitCount & 7) << 12 }
        put16(o + 8, devctl)
        let ds = lspciFlags(s["DevSta"] ?? "")
        put16(o + 10, UInt16(Self.bit(ds, "CorrErr", 0) | Self.bit(ds, "NonFatalErr", 1) | Self.bit(ds, "FatalErr", 2) | Self.bit(ds, "UnsupReq", 3) | Self.bit(ds, "AuxPwr", 4) | Self.bit(ds, "TransPend", 5)))
        func speed(_ text: String) -> UInt32 {
            for (name, n) in [("2.5GT/s", 1), ("5GT/s", 2), ("8GT/s", 3), ("16GT/s", 4), ("32GT/s", 5), ("64GT/s", 6)] where text.contains("Speed " + name) { return UInt32(n) }
            return 0
        }
        func width(_ text: String) -> UInt32 { UInt32((text.integer(after: "Width x") ?? 0) & 0x3f) }
        // Root Complex Integrated Endpoints and Event Collectors have no link registers (the decoder reads none).
        let hasLink = type != 9 && type != 10
        if hasLink {
            let lc = s["LnkCap"] ?? ""
            let lcf = lspciFlags(lc)
            var lnkcap = speed(lc) | width(lc) << 4 | UInt32((lc.integer(after: "Port #") ?? 0) & 0xff) << 24
            lnkcap |= Self.bit(lcf, "ClockPM", 18) | Self.bit(lcf, "Surprise", 19) | Self.bit(lcf, "LLActRep", 20) | Self.bit(lcf, "BwNot", 21) | Self.bit(lcf, "ASPMOptComp", 22)
            if lc.contains("ASPM L0s L1") { lnkcap |= 3 << 10 } else if lc.contains("ASPM L1") { lnkcap |= 2 << 10 } else if lc.contains("ASPM L0s") { lnkcap |= 1 << 10 }
            put32(o + 0x0c, lnkcap)
            let lctl = lspciFlags(s["LnkCtl"] ?? "")
            put16(o + 0x10, UInt16(Self.bit(lctl, "Disabled", 4) | Self.bit(lctl, "CommClk", 6) | Self.bit(lctl, "ExtSynch", 7) | Self.bit(lctl, "ClockPM", 8)))
            let ls = s["LnkSta"] ?? ""
            let lsf = lspciFlags(ls)
            put16(o + 0x12, UInt16(speed(ls) | width(ls) << 4 | Self.bit(lsf, "TrErr", 10) | Self.bit(lsf, "Train", 11) | Self.bit(lsf, "SlotClk", 12) | Self.bit(lsf, "DLActive", 13) | Self.bit(lsf, "BWMgmt", 14) | Self.bit(lsf, "ABWMgmt", 15)))
        } else {
            zero(o + 0x0c, 8)
        }
        // Slot registers (SltCap/SltCtl/SltSta).
        let sc = lspciFlags(s["SltCap"] ?? "")
        var sltcap = Self.bit(sc, "AttnBtn", 0) | Self.bit(sc, "PwrCtrl", 1) | Self.bit(sc, "MRL", 2) | Self.bit(sc, "AttnInd", 3) | Self.bit(sc, "PwrInd", 4)
        sltcap |= Self.bit(sc, "HotPlug", 6) | Self.bit(sc, "Surprise", 5) | Self.bit(sc, "Interlock", 17) | Self.bit(sc, "NoCompl", 18)
        sltcap |= UInt32((s["SltCap"]?.integer(after: "Slot #") ?? 0) & 0x1fff) << 19
        put32(o + 0x14, sltcap)
        zero(o + 0x18, 4)
        // Root registers.
        zero(o + 0x1c, 8)
        if version >= 2 {
            let d2 = s["DevCap2"] ?? ""
            let d2f = lspciFlags(d2)
            var devcap2 = Self.bit(d2f, "TimeoutDis", 4) | Self.bit(d2f, "ARIFwd", 5) | Self.bit(d2f, "LTR", 11) | Self.bit(d2f, "10BitTagComp", 16) | Self.bit(d2f, "10BitTagReq", 17)
            if let atomics = s["AtomicOpsCap"] {
                let a = lspciFlags(atomics)
                devcap2 |= Self.bit(a, "Routing", 6) | Self.bit(a, "32bit", 7) | Self.bit(a, "64bit", 8) | Self.bit(a, "128bitCAS", 9)
            }
            put32(o + 0x24, devcap2)
            let c2 = lspciFlags(s["DevCtl2"] ?? "")
            put16(o + 0x28, UInt16(Self.bit(c2, "TimeoutDis", 4) | Self.bit(c2, "ARIFwd", 5) | Self.bit(c2, "LTR", 10)))
            zero(o + 0x2a, 0x3c - 0x2a)
        }
        return true
    }

    /// Writes the registers of an extended capability from its lines; `false` when the text lacks what they need.
    mutating func encodeExtended(_ id: ExtendedCapabilityID, _ cap: TextCapability) -> Bool {
        let o = cap.offset
        let s = Self.sections(cap)
        func flags(_ label: String) -> [String: Bool]? { s[label].map(lspciFlags) }
        switch id.rawValue {
        case 0x0d: // ACS (cap_acs): ACSCap / ACSCtl, seven flags each.
            guard let c = flags("ACSCap"), let t = flags("ACSCtl") else { return false }
            let names = ["SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd", "EgressCtrl", "DirectTrans"]
            guard names.allSatisfy({ c[$0] != nil && t[$0] != nil }) else { return false }
            var capWord: UInt16 = 0, ctlWord: UInt16 = 0
            for (n, name) in names.enumerated() {
                if c[name] == true { capWord |= 1 << UInt16(n) }
                if t[name] == true { ctlWord |= 1 << UInt16(n) }
            }
            put16(o + 4, capWord)
            put16(o + 6, ctlWord)
        case 0x0e: // ARI (cap_ari): `ARICap: MFVC- ACS-, Next Function: 1`, `ARICtl: MFVC- ACS-, Function Group: 0`
            guard let capText = s["ARICap"], let ctlText = s["ARICtl"], lspciFlags(capText)["ACS"] != nil, lspciFlags(ctlText)["ACS"] != nil else { return false }
            let c = lspciFlags(capText), t = lspciFlags(ctlText)
            put16(o + 4, UInt16(Self.bit(c, "MFVC", 0) | Self.bit(c, "ACS", 1)) | UInt16((capText.integer(after: "Next Function: ") ?? 0) & 0xff) << 8)
            put16(o + 6, UInt16(Self.bit(t, "MFVC", 0) | Self.bit(t, "ACS", 1)) | UInt16((ctlText.integer(after: "Function Group: ") ?? 0) & 7) << 4)
        case 0x0f: // ATS (cap_ats): `ATSCap: Invalidate Queue Depth: 00`, `ATSCtl: Enable+, Smallest Translation Unit: 00`
            // An enable flag a cut line lost is unknown, never "disabled".
            guard let capText = s["ATSCap"], let ctlText = s["ATSCtl"], lspciFlags(ctlText)["Enable"] != nil else { return false }
            let c = lspciFlags(capText)
            put16(o + 4, UInt16((capText.integer(after: "Queue Depth: ", radix: 16) ?? 0) & 0x1f) | UInt16(Self.bit(c, "PageAligned", 5) | Self.bit(c, "GlobalInvalidate", 6)))
            put16(o + 6, UInt16((ctlText.integer(after: "Translation Unit: ", radix: 16) ?? 0) & 0x1f) | UInt16(Self.bit(lspciFlags(ctlText), "Enable", 15)))
        case 0x13: // PRI (cap_pri)
            guard let ctl = flags("PRICtl"), let sta = flags("PRISta"), ctl["Enable"] != nil else { return false }
            put16(o + 4, UInt16(Self.bit(ctl, "Enable", 0) | Self.bit(ctl, "Reset", 1)))
            put16(o + 6, UInt16(Self.bit(sta, "RF", 0) | Self.bit(sta, "UPRGI", 1) | Self.bit(sta, "Stopped", 8)))
            let line = cap.detail.first { $0.contains("Page Request Capacity") } ?? ""
            put32(o + 8, UInt32(truncatingIfNeeded: line.integer(after: "Capacity: ", radix: 16) ?? 0))
            put32(o + 12, UInt32(truncatingIfNeeded: line.integer(after: "Allocation: ", radix: 16) ?? 0))
        case 0x1b: // PASID (cap_pasid): `PASIDCap: Exec- Priv-, Max PASID Width: 14`, `PASIDCtl: Enable- Exec- Priv-`
            guard let capText = s["PASIDCap"], let ctl = flags("PASIDCtl"), ctl["Enable"] != nil else { return false }
            let c = lspciFlags(capText)
            put16(o + 4, UInt16(Self.bit(c, "Exec", 1) | Self.bit(c, "Priv", 2)) | UInt16((capText.integer(after: "Width: ", radix: 16) ?? 0) & 0x1f) << 8)
            put16(o + 6, UInt16(Self.bit(ctl, "Enable", 0) | Self.bit(ctl, "Exec", 1) | Self.bit(ctl, "Priv", 2)))
        case 0x10: // SR-IOV (cap_sriov)
            guard let capText = s["IOVCap"], let ctl = flags("IOVCtl"), ctl["Enable"] != nil,
                  let counts = cap.detail.first(where: { $0.hasPrefix("Initial VFs:") }),
                  let layout = cap.detail.first(where: { $0.hasPrefix("VF offset:") }),
                  let initial = counts.integer(after: "Initial VFs: "), let total = counts.integer(after: "Total VFs: "),
                  let number = counts.integer(after: "Number of VFs: "),
                  let offset = layout.integer(after: "VF offset: "), let stride = layout.integer(after: "stride: "),
                  let vfDevice = layout.integer(after: "Device ID: ", radix: 16) else { return false }
            put32(o + 4, Self.bit(lspciFlags(capText), "Migration", 0) | UInt32((capText.integer(after: "Number: ", radix: 16) ?? 0) & 0x7ff) << 21)
            put16(o + 8, UInt16(Self.bit(ctl, "Enable", 0) | Self.bit(ctl, "Migration", 1) | Self.bit(ctl, "Interrupt", 2) | Self.bit(ctl, "MSE", 3) | Self.bit(ctl, "ARIHierarchy", 4)))
            put16(o + 0x0a, UInt16(Self.bit(flags("IOVSta") ?? [:], "Migration", 0)))
            put16(o + 0x0c, UInt16(truncatingIfNeeded: initial))
            put16(o + 0x0e, UInt16(truncatingIfNeeded: total))
            put16(o + 0x10, UInt16(truncatingIfNeeded: number))
            put8(o + 0x12, UInt8(truncatingIfNeeded: counts.integer(after: "Link: ", radix: 16) ?? 0))
            put8(o + 0x13, 0)
            put16(o + 0x14, UInt16(truncatingIfNeeded: offset))
            put16(o + 0x16, UInt16(truncatingIfNeeded: stride))
            put16(o + 0x18, 0)
            put16(o + 0x1a, UInt16(truncatingIfNeeded: vfDevice))
            let pages = cap.detail.first { $0.hasPrefix("Supported Page Size:") } ?? ""
            put32(o + 0x1c, UInt32(truncatingIfNeeded: pages.integer(after: "Supported Page Size: ", radix: 16) ?? 0))
            put32(o + 0x20, UInt32(truncatingIfNeeded: pages.integer(after: "System Page Size: ", radix: 16) ?? 0))
            // VF BARs: `Region 0: Memory at 00000000fb000000 (64-bit, prefetchable)`.
            var vfBARs = [UInt32](repeating: 0, count: 6)
            for line in cap.detail where line.hasPrefix("Region ") {
                let words = line.split(separator: " ")
                guard words.count >= 5, let i = Int(words[1].dropLast()), (0...5).contains(i), let address = UInt64(words[4], radix: 16) else { continue }
                let wide = line.contains("64-bit")
                let low = UInt32(truncatingIfNeeded: address) & ~0xf | (wide ? 0x4 : 0) | (line.contains(", prefetchable") ? 0x8 : 0)
                vfBARs[i] = low
                if wide, i < 5 { vfBARs[i + 1] = UInt32(truncatingIfNeeded: address >> 32) }
            }
            for (i, v) in vfBARs.enumerated() { put32(o + 0x24 + 4 * i, v) }
            let migration = cap.detail.first { $0.hasPrefix("VF Migration:") } ?? ""
            put32(o + 0x3c, UInt32(truncatingIfNeeded: (migration.integer(after: "offset: ", radix: 16) ?? 0) & ~7 | (migration.integer(after: "BIR: ", radix: 16) ?? 0) & 7))
        case 0x15, 0x24: // Resizable BAR (cap_rebar): `BAR 1: current size: 64GB, supported: 64MB 128MB … 64GB`
            let lines = cap.detail.filter { $0.hasPrefix("BAR ") }
            guard !lines.isEmpty, lines.count <= 6 else { return false }
            for (i, line) in lines.enumerated() {
                let words = line.split(separator: " ")
                guard words.count >= 2, let index = Int(words[1].dropLast()), (0...5).contains(index),
                      let r = line.firstRange(of: "current size: "),
                      let current = String.lspciSize(line[r.upperBound...].prefix { $0 != "," }),
                      let sr = line.firstRange(of: "supported: ") else { return false }
                var sizes: UInt64 = 0
                for word in line[sr.upperBound...].split(separator: " ") {
                    guard let size = String.lspciSize(word), size >= 1 << 20, size.nonzeroBitCount == 1 else { return false }
                    sizes |= 1 << UInt64(size.trailingZeroBitCount - 20)
                }
                guard current >= 1 << 20, current.nonzeroBitCount == 1 else { return false }
                let ctl = UInt32(index) | (i == 0 ? UInt32(lines.count) << 5 : 0) | UInt32(current.trailingZeroBitCount - 20) << 8 | UInt32(truncatingIfNeeded: sizes >> 28) << 16
                put32(o + 4 + 8 * i, UInt32(truncatingIfNeeded: sizes & 0x0fff_ffff) << 4)
                put32(o + 8 + 8 * i, ctl)
            }
        default:
            return false
        }
        return true
    }
}
