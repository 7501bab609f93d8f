/// Everything decoded from one function's config space.
public struct DecodedConfigSpace: Hashable, Sendable {
    public let header: ConfigHeader
    public let readableCount: Int
    public let capabilities: [Capability]
    public let capabilityCoverage: Coverage
    public let extendedCapabilities: [ExtendedCapability]
    public let extendedCoverage: Coverage
    public let bars: [BAR]
    public let expansionROM: ExpansionROM?
    public let bridgeWindows: BridgeWindows?
    public let diagnostics: [Diagnostic]

    public func capability(_ id: CapabilityID) -> Capability? { capabilities.first { $0.id == id } }
    public func extendedCapability(_ id: ExtendedCapabilityID) -> ExtendedCapability? { extendedCapabilities.first { $0.id == id } }

    /// The first PCI Express capability in the list, the one pci_find_capability gives the kernel; `nil` when
    /// there is none or its registers are cut off (a later one is never taken in its place).
    public var pciExpress: PCIExpress? {
        guard let first = capability(.pciExpress), case let .pciExpress(e) = first.body else { return nil }
        return e
    }
    public var powerManagement: PowerManagement? {
        for c in capabilities { if case let .powerManagement(p) = c.body { return p } }
        return nil
    }
    public var advancedFeatures: AdvancedFeatures? {
        for c in capabilities { if case let .advancedFeatures(a) = c.body { return a } }
        return nil
    }
    public var msi: MSI? {
        for c in capabilities { if case let .msi(m) = c.body { return m } }
        return nil
    }
    public var msiX: MSIX? {
        for c in capabilities { if case let .msiX(m) = c.body { return m } }
        return nil
    }
    public var acs: ACS? {
        for c in extendedCapabilities { if case let .accessControlServices(a) = c.body { return a } }
        return nil
    }
    public var sriov: SRIOV? {
        for c in extendedCapabilities { if case let .singleRootIOV(s) = c.body { return s } }
        return nil
    }
    public var ari: ARI? {
        for c in extendedCapabilities { if case let .alternativeRoutingID(a) = c.body { return a } }
        return nil
    }
    public var ats: ATS? {
        for c in extendedCapabilities { if case let .addressTranslation(a) = c.body { return a } }
        return nil
    }
    public var pri: PRI? {
        for c in extendedCapabilities { if case let .pageRequest(p) = c.body { return p } }
        return nil
    }
    public var pasid: PASID? {
        for c in extendedCapabilities { if case let .processAddressSpaceID(p) = c.body { return p } }
        return nil
    }

    /// Whether the function can reset itself: PCIe DevCap FLR, or AF with both TP and FLR.
    /// `nil` when the capabilities could not be read.
    public var functionLevelReset: Bool? {
        if pciExpress?.flrCapable == true || advancedFeatures?.flrUsable == true { return true }
        return capabilityCoverage == .unreadable ? nil : false
    }
}

/// Decodes a function's config space from any source. Reads the header, then only the capabilities'
/// own registers. Never traps, never loops: every problem is a diagnostic and the rest is still decoded.
public enum ConfigSpaceDecoder {
    /// The first PCI Express capability in the standard list (the one pci_find_capability gives the kernel),
    /// reading only the list's pointers and that capability's registers, or `nil` when the list has none, ends
    /// unreadable before one, or the capability itself is truncated. For a command that decodes nothing else (the
    /// link state of `list --json`); the list's problems are left to the full `decode`.
    public static func pciExpress(in source: some ConfigSource, header: ConfigHeader) -> PCIExpress? {
        var ignored: [Diagnostic] = []
        let (standard, _) = CapabilityChain.walkStandard(source, header: header, diagnostics: &ignored, stopAt: .pciExpress)
        guard let offset = standard.last(where: { $0.0 == .pciExpress })?.1,
              case let .pciExpress(e) = CapabilityBody.decode(.pciExpress, at: offset, from: source) else { return nil }
        return e
    }

    public static func decode(_ source: some ConfigSource) throws(HeaderDecodeError) -> DecodedConfigSpace {
        let header = try ConfigHeader(from: source)
        var diagnostics: [Diagnostic] = []
        if header.idsReadAllOnes {
            diagnostics.append(.init(code: "config-all-ones",
                message: "vendor and device read ffff: the function is absent or powered off (or is a VF, whose IDs only sysfs has)"))
        }
        let (standard, capabilityCoverage) = CapabilityChain.walkStandard(source, header: header, diagnostics: &diagnostics)
        var capabilities: [Capability] = []
        capabilities.reserveCapacity(standard.count)
        for (id, offset) in standard {
            let body = CapabilityBody.decode(id, at: offset, from: source)
            if body == .truncated {
                diagnostics.append(.init(code: "capability-truncated",
                    message: "\(id.name) at 0x\(hex(offset, 2)) extends past the \(source.readableCount) readable bytes"))
            }
            capabilities.append(Capability(id: id, offset: offset, body: body))
        }
        // Extended space is architected for PCI Express and PCI-X mode 2 functions only. (The kernel also sizes
        // host bridges at 4 KiB unless 0x100 aliases 0x000; without either capability nothing is defined there.)
        let hasExpress = capabilities.contains { $0.id == .pciExpress }
        let pcixMode2 = capabilities.contains { if case let .pciX(x) = $0.body { x.mode2Capable } else { false } }
        var extended: [ExtendedCapability] = []
        var extendedCoverage = Coverage.notImplemented
        if hasExpress || pcixMode2 {
            let (entries, coverage) = CapabilityChain.walkExtended(source, diagnostics: &diagnostics)
            extendedCoverage = coverage
            for (id, version, offset) in entries {
                let body = ExtendedCapabilityBody.decode(id, at: offset, from: source)
                if body == .truncated {
                    diagnostics.append(.init(code: "capability-truncated",
                        message: "\(id.name) at 0x\(hex(offset, 3)) extends past the \(source.readableCount) readable bytes"))
                }
                extended.append(ExtendedCapability(id: id, version: version, offset: offset, body: body))
            }
        } else if capabilityCoverage == .unreadable {
            extendedCoverage = .unreadable
        }
        let bars = BAR.decode(header: header, source: source)
        return DecodedConfigSpace(
            header: header, readableCount: source.readableCount,
            capabilities: capabilities, capabilityCoverage: capabilityCoverage,
            extendedCapabilities: extended, extendedCoverage: extendedCoverage,
            bars: bars, expansionROM: ExpansionROM.decode(header: header, source: source),
            bridgeWindows: BridgeWindows.decode(header: header, source: source),
            diagnostics: diagnostics)
    }
}
