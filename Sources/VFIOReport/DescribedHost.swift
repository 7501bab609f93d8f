import PCIConfigSpace
import PCIHost

/// The JSON contract. Field names are stable; `schemaVersion` changes when they do.
/// Encoded from these types only, never from the internal model.
public enum JSONSchemaVersion {
    public static let current = 1
}

public struct DescribedSource: Encodable, Sendable {
    public let kind: String
    public let path: String

    public init(_ source: HostSource) {
        switch source {
        case let .sysfs(root): kind = "sysfs"; path = root
        case let .dump(p): kind = "dump"; path = p
        }
    }
}

public struct DescribedDiagnostic: Encodable, Sendable {
    public let code: String
    public let message: String

    public init(_ d: Diagnostic) {
        code = d.code
        message = d.message
    }
}

public struct DescribedLink: Encodable, Sendable {
    @Nullable public var currentSpeed: String?
    @Nullable public var currentWidth: Int?
    @Nullable public var maxSpeed: String?
    @Nullable public var maxWidth: Int?
}

public struct DescribedSRIOVState: Encodable, Sendable {
    @Nullable public var totalVFs: Int?
    @Nullable public var numVFs: Int?
    @Nullable public var offset: Int?
    @Nullable public var stride: Int?
    @Nullable public var vfDeviceID: String?
    @Nullable public var driversAutoprobe: Bool?
}

public struct DescribedNetInterface: Encodable, Sendable {
    public let name: String
    @Nullable public var operstate: String?
    @Nullable public var up: Bool?
}

public struct DescribedHostUse: Encodable, Sendable {
    public let netInterfaces: [DescribedNetInterface]
    public let blockDevices: [String]
    /// Block devices stacked on them (`holders/`): device-mapper and md.
    public let stackedDevices: [DescribedStackedDevice]
    public let drmDevices: [String]
    public let framebuffers: [String]

    init(_ use: HostUse) {
        netInterfaces = use.netInterfaces.map { DescribedNetInterface(name: $0.name, operstate: $0.operstate, up: $0.administrativelyUp) }
        blockDevices = use.blockDevices
        stackedDevices = use.stackedDevices.map { DescribedStackedDevice(name: $0.name, mapperName: $0.mapperName, on: $0.on) }
        drmDevices = use.drmDevices
        framebuffers = use.framebuffers
    }
}

public struct DescribedStackedDevice: Encodable, Sendable {
    public let name: String
    @Nullable public var mapperName: String?
    public let on: String
}

public struct DescribedFunction: Encodable, Sendable {
    public let address: String
    public let vendorID: String
    public let deviceID: String
    @Nullable public var subsystemVendorID: String?
    @Nullable public var subsystemDeviceID: String?
    public let classCode: String
    public let revision: String
    @Nullable public var vendorName: String?
    @Nullable public var deviceName: String?
    @Nullable public var subsystemName: String?
    @Nullable public var className: String?
    /// The header layout, 0–127 (bits 0–6 of byte 0x0e); null when the header was not readable.
    @Nullable public var headerType: Int?
    /// Bit 7 of byte 0x0e; null when the header was not readable.
    @Nullable public var multifunction: Bool?
    /// The bound driver; null when none is bound or when that is unknown (`unknown` says which).
    @Nullable public var driver: String?
    /// Modules that can drive it (a dump's `Kernel modules:` line).
    @Nullable public var kernelModules: [String]?
    @Nullable public var driverOverride: String?
    @Nullable public var iommuGroup: Int?
    @Nullable public var numaNode: Int?
    @Nullable public var resetMethods: [String]?
    @Nullable public var bootVGA: Bool?
    @Nullable public var d3coldAllowed: Bool?
    public let link: DescribedLink
    @Nullable public var physicalSlot: String?
    /// Upstream bridges, nearest first.
    public let upstream: [String]
    public let virtualFunction: Bool
    /// A VF with no visible PF.
    public let detachedVirtualFunction: Bool
    @Nullable public var physicalFunction: String?
    public let virtualFunctions: [String]
    @Nullable public var sriovState: DescribedSRIOVState?
    public let configBytesReadable: Int
    public let configSize: Int
    /// The ACS Control register (`PCI_ACS_CTRL`, 4 hex digits) when the function has an ACS capability; null when it
    /// has none, its capabilities were not decoded (`list`), or that is unknown (then `unknown.acs` says why).
    @Nullable public var acsControl: String?
    /// Null when the input cannot show it (a dump).
    @Nullable public var hostUse: DescribedHostUse?
    /// VFIO facts (the VFIO device, the VFIO driver, variant drivers, migration, mdev and vGPU types); null for a bridge.
    @Nullable public var vfio: DescribedFunctionVFIO?
    /// Facts about this function that the input does not hold, by name (`driver`, `hostUse`, `position`,
    /// `capabilities`, `acs`), each with why and what would supply it.
    public let unknown: [String: DescribedUnknown]
    public let diagnostics: [DescribedDiagnostic]

    public init(_ f: PCIFunction) {
        address = f.address.description
        vendorID = hex(f.vendorID, 4)
        deviceID = hex(f.deviceID, 4)
        subsystemVendorID = f.subsystemVendorID.map { hex($0, 4) }
        subsystemDeviceID = f.subsystemDeviceID.map { hex($0, 4) }
        classCode = hex(f.classCode.rawValue, 6)
        revision = hex(f.revision, 2)
        vendorName = f.vendorName
        deviceName = f.deviceName
        subsystemName = f.subsystemName
        className = f.className
        headerType = f.header.map { Int($0.layout.rawValue) }
        multifunction = f.multifunctionUnknown == nil ? f.header?.multifunction : nil
        driver = f.driver
        kernelModules = f.kernelModules.value
        driverOverride = f.driverOverride
        iommuGroup = f.iommuGroup
        numaNode = f.numaNode
        resetMethods = f.resetMethods
        bootVGA = f.bootVGA
        d3coldAllowed = f.d3coldAllowed
        link = DescribedLink(currentSpeed: f.link.currentSpeed, currentWidth: f.link.currentWidth,
                             maxSpeed: f.link.maxSpeed, maxWidth: f.link.maxWidth)
        physicalSlot = f.physicalSlot
        upstream = f.upstream.map(\.description)
        virtualFunction = f.isVirtualFunction
        if case .detachedVirtualFunction = f.sriov { detachedVirtualFunction = true } else { detachedVirtualFunction = false }
        physicalFunction = f.physicalFunction?.description
        virtualFunctions = f.virtualFunctions.map(\.description)
        sriovState = f.sriovPhysicalState.map { s in
            DescribedSRIOVState(totalVFs: s.totalVFs, numVFs: s.numVFs, offset: s.offset, stride: s.stride,
                                vfDeviceID: s.vfDeviceID.map { hex($0, 4) }, driversAutoprobe: s.driversAutoprobe)
        }
        configBytesReadable = f.configBytesReadable
        configSize = f.configSize
        acsControl = f.config?.acs.map { hex($0.control.rawValue, 4) }
        hostUse = f.hostUse.value.map(DescribedHostUse.init)
        vfio = DescribedFunctionVFIO(f)
        var unknown: [String: DescribedUnknown] = [:]
        if let u = f.driverBinding.unknown { unknown["driver"] = DescribedUnknown(u) }
        if let u = f.hostUse.unknown { unknown["hostUse"] = DescribedUnknown(u) }
        if let u = f.position.unknown { unknown["position"] = DescribedUnknown(u) }
        // Only what the input lacks; a listing that did not decode capabilities says nothing about them.
        if f.config != nil || f.header == nil {
            if let u = f.capabilitiesUnknown { unknown["capabilities"] = DescribedUnknown(u) }
            if let u = f.acsCapability.unknown, f.capabilitiesUnknown == nil { unknown["acs"] = DescribedUnknown(u) }
        }
        self.unknown = unknown
        diagnostics = f.diagnostics.map(DescribedDiagnostic.init)
    }
}

public struct DescribedGroup: Encodable, Sendable {
    public let id: Int
    public let members: [String]
    @Nullable public var type: String?

    public init(_ g: IOMMUGroup) {
        id = g.id
        members = g.members.map(\.description)
        type = g.type
    }
}

public struct DescribedIOMMUUnit: Encodable, Sendable {
    public let name: String
    public let kind: String
    public let registers: [String: String]
    @Nullable public var pciFunction: String?
}

public struct DescribedIOMMU: Encodable, Sendable {
    /// Whether the input holds the kernel's IOMMU groups (`kernel/iommu_groups`, `iommu_group` links, a dump's group lines).
    public let groupsPresent: Bool
    /// Where the groups come from: `iommu-groups-directory`, `iommu-group-links`, `dump-group-lines`,
    /// `none-made` (the input shows the kernel made none), `unknown`.
    public let groupSource: String
    public let units: [DescribedIOMMUUnit]
}

public struct DescribedHost: Encodable, Sendable {
    public let iommu: DescribedIOMMU
    public let vfioBackends: DescribedVFIOBackends
    @Nullable public var kernelCommandLine: String?
    public let diagnostics: [DescribedDiagnostic]

    /// The host's own part of a listing: its IOMMU, VFIO backends, command line and diagnostics.
    public init(_ model: HostModel) {
        iommu = DescribedIOMMU(
            groupsPresent: model.environment.groupSource.isKnown,
            groupSource: model.environment.groupSource.name,
            units: model.environment.iommuUnits.map {
                DescribedIOMMUUnit(name: $0.name, kind: $0.kind.rawValue, registers: $0.registers, pciFunction: $0.pciFunction?.description)
            })
        vfioBackends = DescribedVFIOBackends(model.environment.vfioBackends)
        kernelCommandLine = model.environment.kernelCommandLine.value
        diagnostics = model.diagnostics.map(DescribedDiagnostic.init)
    }
}

/// A slot (domain:bus:device): the unit the multifunction and function-0 rules speak of.
public struct DescribedSlot: Encodable, Sendable {
    public let slot: String
    public let functions: [String]
    /// Functions other than VFs (VFs never make a slot multifunction); null when a lone function 0's header is unreadable.
    @Nullable public var multifunction: Bool?
    /// Whether function 0 is present; null when the input may leave it out (a dump).
    @Nullable public var hasFunction0: Bool?
    @Nullable public var physicalSlot: String?
}

/// `list --json`. Each function is described only as it is written (`LazyJSONArray`), and the listing writes its own
/// members (`JSONDirect`), so its output streams.
public struct DescribedListing: Encodable, Sendable {
    public let schemaVersion: Int
    public let source: DescribedSource
    public let host: DescribedHost
    public let functions: LazyJSONArray<DescribedFunction>
    public let groups: [DescribedGroup]
    public let slots: [DescribedSlot]

    public init(_ model: HostModel, functions selected: [PCIFunction]) {
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        host = DescribedHost(model)
        functions = LazyJSONArray(count: selected.count) { DescribedFunction(selected[$0]) }
        // Positions, not copies, of the functions per slot.
        var bySlot: [PCISlotAddress: [Int]] = [:]
        for (i, f) in selected.enumerated() { bySlot[f.address.slot, default: []].append(i) }
        slots = bySlot.keys.sorted().map { slot in
            let members = (bySlot[slot] ?? []).map { selected[$0] }
            let physical = members.filter { !$0.isVirtualFunction }
            return DescribedSlot(slot: slot.description, functions: members.map(\.address.description),
                                 multifunction: physical.count > 1 || physical.contains { $0.address.function > 0 || $0.multifunctionBit }
                                     ? true : physical.contains { $0.header == nil || $0.multifunctionUnknown != nil } ? nil : false,
                                 hasFunction0: members.contains { $0.address.function == 0 } ? true : members.first?.provenance == .dump ? nil : false,
                                 physicalSlot: members.first?.physicalSlot)
        }
        let wanted = Set(selected.map(\.address))
        groups = model.groups.filter { $0.members.contains(where: wanted.contains) || selected.count == model.functions.count }
            .map(DescribedGroup.init)
    }
}

extension GroupSource {
    /// The JSON spelling.
    public var name: String {
        switch self {
        case .groupDirectory: "iommu-groups-directory"
        case .deviceLinks: "iommu-group-links"
        case .dumpLines: "dump-group-lines"
        case .noneMade: "none-made"
        case .none: "unknown"
        }
    }
}

// The listings' hottest types write themselves (`JSONDirect`), members in sorted key order; the synthesized
// `Encodable` conformance above stays the reference, and `JSONOutputTests` holds the two to the same bytes.

extension DescribedFunction: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("acsControl", acsControl)
        try o.member("address", address)
        try o.member("bootVGA", bootVGA)
        try o.member("classCode", classCode)
        try o.member("className", className)
        try o.member("configBytesReadable", configBytesReadable)
        try o.member("configSize", configSize)
        try o.member("d3coldAllowed", d3coldAllowed)
        try o.member("detachedVirtualFunction", detachedVirtualFunction)
        try o.member("deviceID", deviceID)
        try o.member("deviceName", deviceName)
        try o.member("diagnostics", diagnostics)
        try o.member("driver", driver)
        try o.member("driverOverride", driverOverride)
        try o.member("headerType", headerType)
        try o.member("hostUse", hostUse)
        try o.member("iommuGroup", iommuGroup)
        try o.member("kernelModules", kernelModules)
        try o.member("link", link)
        try o.member("multifunction", multifunction)
        try o.member("numaNode", numaNode)
        try o.member("physicalFunction", physicalFunction)
        try o.member("physicalSlot", physicalSlot)
        try o.member("resetMethods", resetMethods)
        try o.member("revision", revision)
        try o.member("sriovState", sriovState)
        try o.member("subsystemDeviceID", subsystemDeviceID)
        try o.member("subsystemName", subsystemName)
        try o.member("subsystemVendorID", subsystemVendorID)
        try o.member("unknown", unknown)
        try o.member("upstream", upstream)
        try o.member("vendorID", vendorID)
        try o.member("vendorName", vendorName)
        try o.member("vfio", vfio)
        try o.member("virtualFunction", virtualFunction)
        try o.member("virtualFunctions", virtualFunctions)
    }
}

extension DescribedListing: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("functions", functions)
        try o.member("groups", groups)
        try o.member("host", host)
        try o.member("schemaVersion", schemaVersion)
        try o.member("slots", slots)
        try o.member("source", source)
    }
}

extension DescribedLink: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("currentSpeed", currentSpeed)
        try o.member("currentWidth", currentWidth)
        try o.member("maxSpeed", maxSpeed)
        try o.member("maxWidth", maxWidth)
    }
}

extension DescribedDiagnostic: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("code", code)
        try o.member("message", message)
    }
}

extension DescribedHostUse: JSONDirect {
    func writeJSON(_ o: inout JSONObjectWriter) throws {
        try o.member("blockDevices", blockDevices)
        try o.member("drmDevices", drmDevices)
        try o.member("framebuffers", framebuffers)
        try o.member("netInterfaces", netInterfaces)
        try o.member("stackedDevices", stackedDevices)
    }
}
