import PCIConfigSpace
import PCIHost

/// A scalar in a capability's details: typed, never `Any`.
public enum DescribedValue: Encodable, Sendable, Equatable {
    case bool(Bool)
    case int(Int)
    case string(String)
    case strings([String])

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .string(s): try c.encode(s)
        case let .strings(s): try c.encode(s)
        }
    }
}

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `{ "id", "offset", "name", "version"?, "decoded", …details }`, flat.
public struct DescribedCapability: Encodable, Sendable {
    public let id: Int
    public let offset: Int
    public let name: String
    public let version: Int?
    /// false when the capability's registers were not all readable, or no decoder exists for its ID.
    public let decoded: Bool
    public let details: [(String, DescribedValue)]

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: DynamicKey.self)
        try c.encode(id, forKey: DynamicKey("id"))
        try c.encode(offset, forKey: DynamicKey("offset"))
        try c.encode(name, forKey: DynamicKey("name"))
        if let version { try c.encode(version, forKey: DynamicKey("version")) }
        try c.encode(decoded, forKey: DynamicKey("decoded"))
        for (key, value) in details { try c.encode(value, forKey: DynamicKey(key)) }
    }
}

public struct DescribedACSFlags: Encodable, Sendable {
    public let sourceValidation: Bool
    public let translationBlocking: Bool
    public let requestRedirect: Bool
    public let completionRedirect: Bool
    public let upstreamForwarding: Bool
    public let egressControl: Bool
    public let directTranslatedP2P: Bool

    init(_ f: ACSFlags) {
        sourceValidation = f.contains(.sourceValidation)
        translationBlocking = f.contains(.translationBlocking)
        requestRedirect = f.contains(.requestRedirect)
        completionRedirect = f.contains(.completionRedirect)
        upstreamForwarding = f.contains(.upstreamForwarding)
        egressControl = f.contains(.egressControl)
        directTranslatedP2P = f.contains(.directTranslatedP2P)
    }
}

public struct DescribedACS: Encodable, Sendable {
    public let capability: DescribedACSFlags
    public let control: DescribedACSFlags
}

public struct DescribedSRIOV: Encodable, Sendable {
    public let initialVFs: Int
    public let totalVFs: Int
    public let numVFs: Int
    public let firstVFOffset: Int
    public let vfStride: Int
    public let vfDeviceID: String
    public let vfEnable: Bool
    public let ariCapableHierarchy: Bool
    public let functionDependencyLink: Int
    public let supportedPageSizes: String
    public let systemPageSize: String
}

public struct DescribedPCIe: Encodable, Sendable {
    public let version: Int
    public let portType: String
    public let flrCapable: Bool
    public let maxPayloadSupported: Int
    @Nullable public var linkSpeed: String?
    @Nullable public var linkWidth: Int?
    @Nullable public var maxLinkSpeed: String?
    @Nullable public var maxLinkWidth: Int?
    public let slotImplemented: Bool
    @Nullable public var hotPlugCapable: Bool?
    @Nullable public var ariForwardingSupported: Bool?
    @Nullable public var ariForwardingEnabled: Bool?
    @Nullable public var atomicOpRouting: Bool?
    @Nullable public var atomicOp32Completer: Bool?
    @Nullable public var atomicOp64Completer: Bool?
    @Nullable public var atomicOp128CASCompleter: Bool?
}

public struct DescribedReset: Encodable, Sendable {
    /// PCIe DevCap FLR, or AF with both TP and FLR; null when capabilities were unreadable.
    @Nullable public var flr: Bool?
    @Nullable public var pmNoSoftReset: Bool?
    @Nullable public var kernelMethods: [String]?
}

public struct DescribedBAR: Encodable, Sendable {
    public let index: Int
    public let kind: String
    public let prefetchable: Bool
    public let address: String
    @Nullable public var size: Int?
}

/// `show --json`: a `list` function object plus what config space says.
public struct DescribedFunctionDetail: Encodable, Sendable {
    public let base: DescribedFunction
    public let capabilities: [DescribedCapability]?
    public let extendedCapabilities: [DescribedCapability]?
    /// complete | unreadable | notImplemented
    public let capabilityCoverage: String?
    public let extendedCapabilityCoverage: String?
    public let acs: DescribedACS?
    public let sriov: DescribedSRIOV?
    public let pcie: DescribedPCIe?
    public let reset: DescribedReset
    public let bars: [DescribedBAR]

    enum Keys: String, CodingKey {
        case capabilities, extendedCapabilities, capabilityCoverage, extendedCapabilityCoverage, acs, sriov, pcie, reset, bars
    }

    public func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(capabilities, forKey: .capabilities)
        try c.encode(extendedCapabilities, forKey: .extendedCapabilities)
        try c.encode(capabilityCoverage, forKey: .capabilityCoverage)
        try c.encode(extendedCapabilityCoverage, forKey: .extendedCapabilityCoverage)
        try c.encode(acs, forKey: .acs)
        try c.encode(sriov, forKey: .sriov)
        try c.encode(pcie, forKey: .pcie)
        try c.encode(reset, forKey: .reset)
        try c.encode(bars, forKey: .bars)
    }

    public init(_ f: PCIFunction) {
        base = DescribedFunction(f)
        let config = f.config
        // null when not readable; [] only when read and empty.
        capabilities = f.capabilitiesUnknown == nil ? config.map { $0.capabilities.map(CapabilityDetails.describe) } : nil
        extendedCapabilities = config?.extendedCoverage == .unreadable || f.capabilitiesUnknown != nil
            ? nil : config.map { $0.extendedCapabilities.map(CapabilityDetails.describe) }
        capabilityCoverage = config?.capabilityCoverage.rawValue
        extendedCapabilityCoverage = config?.extendedCoverage.rawValue
        acs = config?.acs.map { DescribedACS(capability: DescribedACSFlags($0.capability), control: DescribedACSFlags($0.control)) }
        sriov = config?.sriov.map { s in
            DescribedSRIOV(initialVFs: s.initialVFs, totalVFs: s.totalVFs, numVFs: s.numVFs, firstVFOffset: s.firstVFOffset,
                           vfStride: s.vfStride, vfDeviceID: hex(s.vfDeviceID, 4), vfEnable: s.vfEnable,
                           ariCapableHierarchy: s.ariCapableHierarchy, functionDependencyLink: Int(s.functionDependencyLink),
                           supportedPageSizes: hex(s.supportedPageSizes, 8), systemPageSize: hex(s.systemPageSize, 8))
        }
        pcie = config?.pciExpress.map { e in
            DescribedPCIe(version: Int(e.version), portType: e.portType.name, flrCapable: e.flrCapable,
                          maxPayloadSupported: e.maxPayloadSupported,
                          linkSpeed: e.linkSpeed?.description, linkWidth: e.linkWidth,
                          maxLinkSpeed: e.maxLinkSpeed?.description, maxLinkWidth: e.maxLinkWidth,
                          slotImplemented: e.slotImplemented, hotPlugCapable: e.hotPlugCapable,
                          ariForwardingSupported: e.ariForwardingSupported, ariForwardingEnabled: e.ariForwardingEnabled,
                          atomicOpRouting: e.atomicOpRouting, atomicOp32Completer: e.atomicOp32Completer,
                          atomicOp64Completer: e.atomicOp64Completer, atomicOp128CASCompleter: e.atomicOp128CASCompleter)
        }
        reset = DescribedReset(flr: config?.functionLevelReset, pmNoSoftReset: config?.powerManagement?.noSoftReset,
                               kernelMethods: f.resetMethods)
        bars = (config?.bars ?? []).map { bar in
            let size = f.resources.first { $0.index == bar.index }?.size
            return DescribedBAR(index: bar.index, kind: bar.kind.rawValue, prefetchable: bar.prefetchable,
                                address: hex(bar.address, bar.kind == .memory64 ? 16 : 8),
                                size: size.flatMap { $0 > 0 ? Int(exactly: $0) : nil })
        }
    }
}

/// The per-capability details shown in text and JSON: one place, so both say the same.
public enum CapabilityDetails {
    static func describe(_ c: Capability) -> DescribedCapability {
        DescribedCapability(id: Int(c.id.rawValue), offset: c.offset, name: c.id.name, version: nil,
                            decoded: c.body != .truncated && c.body != .other, details: details(c.body))
    }

    static func describe(_ c: ExtendedCapability) -> DescribedCapability {
        DescribedCapability(id: Int(c.id.rawValue), offset: c.offset, name: c.id.name, version: Int(c.version),
                            decoded: c.body != .truncated && c.body != .other, details: details(c.body))
    }

    public static func details(_ body: CapabilityBody) -> [(String, DescribedValue)] {
        switch body {
        case let .powerManagement(p):
            return [("pmVersion", .int(Int(p.version))), ("d1", .bool(p.d1Supported)), ("d2", .bool(p.d2Supported)),
                    ("powerState", .string("D\(p.powerState)")), ("noSoftReset", .bool(p.noSoftReset))]
        case let .msi(m):
            return [("enabled", .bool(m.enabled)), ("vectors", .int(m.vectorsCapable)), ("vectorsEnabled", .int(m.vectorsEnabled)),
                    ("is64Bit", .bool(m.is64Bit)), ("perVectorMasking", .bool(m.perVectorMasking))]
        case let .msiX(m):
            return [("enabled", .bool(m.enabled)), ("functionMask", .bool(m.functionMask)), ("tableSize", .int(m.tableSize)),
                    ("tableBIR", .int(Int(m.tableBIR))), ("tableOffset", .string(hex(m.tableOffset, 8))),
                    ("pbaBIR", .int(Int(m.pbaBIR))), ("pbaOffset", .string(hex(m.pbaOffset, 8)))]
        case let .pciExpress(e):
            var d: [(String, DescribedValue)] = [("pcieVersion", .int(Int(e.version))), ("portType", .string(e.portType.name)),
                                                  ("flrCapable", .bool(e.flrCapable)), ("maxPayloadSupported", .int(e.maxPayloadSupported)),
                                                  ("maxPayload", .int(e.maxPayload)), ("maxReadRequest", .int(e.maxReadRequest)),
                                                  ("slotImplemented", .bool(e.slotImplemented))]
            if let s = e.linkSpeed { d.append(("linkSpeed", .string(s.description))) }
            if let w = e.linkWidth { d.append(("linkWidth", .int(w))) }
            if let s = e.maxLinkSpeed { d.append(("maxLinkSpeed", .string(s.description))) }
            if let w = e.maxLinkWidth { d.append(("maxLinkWidth", .int(w))) }
            if let h = e.hotPlugCapable { d.append(("hotPlugCapable", .bool(h))) }
            if let a = e.ariForwardingSupported { d.append(("ariForwardingSupported", .bool(a))) }
            return d
        case let .advancedFeatures(a):
            return [("transactionsPending", .bool(a.transactionsPending)), ("flr", .bool(a.flr))]
        case let .bridgeSubsystem(b):
            return [("subsystemVendorID", .string(hex(b.subsystemVendorID, 4))), ("subsystemID", .string(hex(b.subsystemID, 4)))]
        case let .vendorSpecific(v):
            return [("length", .int(Int(v.length)))]
        case let .enhancedAllocation(e):
            return [("entries", .int(e.numberOfEntries))]
        case let .pciX(x):
            return [("mode2Capable", .bool(x.mode2Capable))]
        case .other, .truncated:
            return []
        }
    }

    public static func details(_ body: ExtendedCapabilityBody) -> [(String, DescribedValue)] {
        switch body {
        case let .accessControlServices(a):
            return [("acsCapability", .strings(a.capability.names)), ("acsControl", .strings(a.control.names))]
        case let .singleRootIOV(s):
            return [("initialVFs", .int(s.initialVFs)), ("totalVFs", .int(s.totalVFs)), ("numVFs", .int(s.numVFs)),
                    ("firstVFOffset", .int(s.firstVFOffset)), ("vfStride", .int(s.vfStride)),
                    ("vfDeviceID", .string(hex(s.vfDeviceID, 4))), ("vfEnable", .bool(s.vfEnable)),
                    ("ariCapableHierarchy", .bool(s.ariCapableHierarchy))]
        case let .alternativeRoutingID(a):
            return [("nextFunction", .int(Int(a.nextFunction))), ("mfvcFunctionGroups", .bool(a.mfvcFunctionGroups)),
                    ("acsFunctionGroups", .bool(a.acsFunctionGroups))]
        case let .addressTranslation(a):
            return [("enabled", .bool(a.enabled)), ("smallestTranslationUnit", .int(Int(a.smallestTranslationUnit))),
                    ("invalidateQueueDepth", .int(a.invalidateQueueDepth))]
        case let .pageRequest(p):
            return [("enabled", .bool(p.enabled)), ("outstandingCapacity", .int(Int(p.outstandingCapacity))),
                    ("outstandingAllocation", .int(Int(p.outstandingAllocation)))]
        case let .processAddressSpaceID(p):
            return [("enabled", .bool(p.enabled)), ("width", .int(p.width)), ("executeSupported", .bool(p.executeSupported)),
                    ("privilegedSupported", .bool(p.privilegedSupported))]
        case let .downstreamPortContainment(d):
            return [("triggerEnabled", .bool(d.triggerEnabled))]
        case let .serialNumber(s):
            return [("serialNumber", .string(s.description))]
        case let .latencyTolerance(l):
            return [("maxSnoopLatency", .int(Int(l.maxSnoopLatency))), ("maxNoSnoopLatency", .int(Int(l.maxNoSnoopLatency)))]
        case let .resizableBAR(r), let .vfResizableBAR(r):
            return [("bars", .strings(r.entries.map { "BAR \($0.barIndex): current \(1 << $0.currentSizeLog2MiB) MiB" }))]
        case let .precisionTimeMeasurement(p):
            return [("requester", .bool(p.requesterCapable)), ("responder", .bool(p.responderCapable)), ("enabled", .bool(p.enabled))]
        case let .virtualChannel(v):
            return [("extendedVCCount", .int(v.extendedVCCount))]
        case let .designatedVendorSpecific(d):
            return [("dvsecVendorID", .string(hex(d.vendorID, 4))), ("dvsecID", .string(hex(d.dvsecID, 4))),
                    ("dvsecRevision", .int(Int(d.revision))), ("dvsecLength", .int(d.length))]
        case .advancedErrorReporting, .l1PMSubstates, .secondaryPCIe, .dataLinkFeature, .physicalLayer16, .physicalLayer32, .other, .truncated:
            return []
        }
    }
}

/// `show --json`.
public struct DescribedShow: Encodable, Sendable {
    public let schemaVersion: Int
    public let source: DescribedSource
    public let functions: [DescribedFunctionDetail]

    public init(_ model: HostModel, functions: [PCIFunction]) {
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        self.functions = functions.map(DescribedFunctionDetail.init)
    }
}
