import PCIConfigSpace
import PCIHost

/// A host property that is on, off, or not known from the input. Fleet formats spell `unknown` out rather
/// than leave the property out, so a selector on `true` never matches a host whose input did not say.
public enum HostState: String, Hashable, Sendable, CaseIterable {
    case on, off, unknown
}

/// One function as the fleet formats publish it: identity, placement and its unit's verdict.
public struct FleetFunction: Hashable, Sendable {
    public let address: PCIAddress
    public let vendorID: UInt16
    public let deviceID: UInt16
    public let subsystemVendorID: UInt16?
    public let subsystemDeviceID: UInt16?
    public let classCode: ClassCode
    public let isBridge: Bool
    public let isVirtualFunction: Bool
    public let physicalFunction: PCIAddress?
    /// Whether the function has an SR-IOV capability (a PF, with or without VFs enabled).
    public let isPhysicalFunction: Bool
    /// The kernel's group number; `nil` when it has none or that is unknown (`groupKnown` tells which).
    public let iommuGroup: Int?
    public let groupKnown: Bool
    /// `numa_node`; `nil` when the kernel reports -1 or the input does not hold it.
    public let numaNode: Int?
    /// The root bus the function hangs from, as `pci<domain>:<bus>` (the `/sys/devices/pciDDDD:BB` directory the
    /// kernel names after it, and DRA's `resource.kubernetes.io/pcieRoot`); `nil` when the input does not show the
    /// function's parent chain.
    public let pcieRoot: String?
    public let verdict: UnitVerdict
    /// The finding that decides a verdict other than `ready`.
    public let deciding: FindingCode?
}

/// One unit (an IOMMU group, or a predicted one) as the fleet formats publish it.
public struct FleetUnit: Hashable, Sendable {
    public let groupID: Int?
    public let members: [PCIAddress]
    public let verdict: UnitVerdict
    public let deciding: FindingCode?
    public let decidingMessage: String?

    /// Ready, or ready once prepared: nothing known blocks and nothing that decides is unknown.
    public var isViable: Bool { verdict == .ready || verdict == .needsPreparation }
}

/// A vendor:device pair, printed as `vvvv:dddd` (lower-case hex).
public struct DeviceID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let vendor: UInt16
    public let device: UInt16
    public init(vendor: UInt16, device: UInt16) { self.vendor = vendor; self.device = device }
    public var description: String { vendorHex + ":" + deviceHex }
    /// 4 lower-case hex digits.
    public var vendorHex: String { hex4(vendor) }
    public var deviceHex: String { hex4(device) }
    public static func < (a: Self, b: Self) -> Bool { (a.vendor, a.device) < (b.vendor, b.device) }
}

func hex4(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

/// What the fleet exports (`export --format nfd|prometheus|ansible-fact|dra`) and `suggest` publish about a
/// host: a pure summary of the model and its report; every renderer takes its numbers from here.
///
/// - `iommu`: on when the kernel made groups (`iommu-on`), off when the input shows it made none
///   (`iommu-off`), unknown otherwise.
/// - `interruptRemapping`: on for `interrupt-remapping-on`; off for `no-interrupt-remapping` or
///   `interrupt-remapping-off`; unknown otherwise (`HostRules.interruptRemapping`).
/// - `assignableGroups`: per vendor:device of a non-bridge member, the number of viable units holding one.
public struct FleetFacts: Sendable {
    public let iommu: HostState
    public let interruptRemapping: HostState
    public let units: [FleetUnit]
    public let functions: [FleetFunction]
    /// Units per verdict; every verdict present, zero when none.
    public let unitsByVerdict: [UnitVerdict: Int]
    public let assignableGroups: [DeviceID: Int]
    /// `on` when some function has an SR-IOV capability; `unknown` when none does but some endpoint's extended
    /// config space (where the capability lives) is not in the input.
    public let sriovCapable: HostState
    /// Functions with an SR-IOV capability.
    public let sriovPhysicalFunctions: Int
    /// VFs the input shows (enabled by writing `sriov_numvfs`).
    public let sriovVirtualFunctions: Int
    public let kernelRelease: String?

    public init(_ model: HostModel, _ report: HostReport) {
        let codes = Set(report.hostFindings.map(\.code))
        iommu = codes.contains(.iommuOn) ? .on : codes.contains(.iommuOff) ? .off : .unknown
        interruptRemapping = codes.contains(.interruptRemappingOn) ? .on
            : codes.contains(.noInterruptRemapping) || codes.contains(.interruptRemappingOff) ? .off : .unknown
        kernelRelease = model.environment.kernelRelease

        var unitOf: [PCIAddress: FleetUnit] = [:]
        var fleetUnits: [FleetUnit] = []
        fleetUnits.reserveCapacity(report.units.count)
        for u in report.units {
            let deciding = u.decidingFinding
            let unit = FleetUnit(groupID: u.groupID, members: u.members, verdict: u.verdict, deciding: deciding?.code,
                                 decidingMessage: deciding?.message)
            fleetUnits.append(unit)
            for m in u.members { unitOf[m] = unit }
        }
        units = fleetUnits
        var byVerdict = Dictionary(uniqueKeysWithValues: UnitVerdict.allCases.map { ($0, 0) })
        for u in fleetUnits { byVerdict[u.verdict, default: 0] += 1 }
        unitsByVerdict = byVerdict

        var assignable: [DeviceID: Int] = [:]
        for u in fleetUnits where u.isViable {
            var ids = Set<DeviceID>()
            for m in u.members {
                if let f = model.function(m), !f.isBridge { ids.insert(DeviceID(vendor: f.vendorID, device: f.deviceID)) }
            }
            for id in ids { assignable[id, default: 0] += 1 }
        }
        assignableGroups = assignable

        var pfs = 0, vfs = 0, extendedUnknown = false
        var published: [FleetFunction] = []
        published.reserveCapacity(model.functions.count)
        for f in model.functions {
            if f.sriovPhysicalState != nil { pfs += 1 }
            if f.isVirtualFunction { vfs += 1 }
            if !f.isBridge, !f.isVirtualFunction, f.sriovPhysicalState == nil, case .unknown = f.acsCapability { extendedUnknown = true }
            let unit = unitOf[f.address]
            published.append(FleetFunction(
                address: f.address, vendorID: f.vendorID, deviceID: f.deviceID,
                subsystemVendorID: f.subsystemVendorID, subsystemDeviceID: f.subsystemDeviceID, classCode: f.classCode, isBridge: f.isBridge,
                isVirtualFunction: f.isVirtualFunction, physicalFunction: f.physicalFunction,
                isPhysicalFunction: f.sriovPhysicalState != nil,
                iommuGroup: f.iommuGroup, groupKnown: model.groupKnown(f), numaNode: f.numaNode.flatMap { $0 < 0 ? nil : $0 },
                pcieRoot: Self.rootBus(of: f, in: model),
                verdict: unit?.verdict ?? .undetermined, deciding: unit?.deciding))
        }
        functions = published
        sriovPhysicalFunctions = pfs
        sriovVirtualFunctions = vfs
        sriovCapable = pfs > 0 ? .on : extendedUnknown ? .unknown : .off
    }

    /// `pci<domain>:<bus>` of the root bus above `f`: the bus of the topmost bridge in its upstream chain, or its own
    /// bus when it sits on a root bus. A VF takes its PF's. `nil` when the parent chain is unknown.
    static func rootBus(of f: PCIFunction, in model: HostModel) -> String? {
        var subject = f
        if let pf = f.physicalFunction, let parent = model.function(pf) { subject = parent }
        let top: PCIAddress
        if let last = subject.upstream.last {
            top = last
        } else if case .known(.rootBus, _) = subject.position {
            top = subject.address
        } else {
            return nil
        }
        let domain = String(top.domain, radix: 16)
        let bus = String(top.bus, radix: 16)
        return "pci" + String(repeating: "0", count: max(0, 4 - domain.count)) + domain + ":"
            + String(repeating: "0", count: max(0, 2 - bus.count)) + bus
    }
}
