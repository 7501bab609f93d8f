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
    /// The function's ID registers read ffff and nothing in the input places it (no sysfs IDs or links, no PF
    /// capability whose offset and stride reach it): its IDs, and whether it is a VF, are unknown.
    public let identityUnknown: Bool
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
    /// The VFIO driver it has or would get (a matching variant driver, else vfio-pci); `nil` when unknown.
    public var vfioDriver: String? = nil
    /// Whether its VFIO device has a cdev (`/dev/vfio/devices/vfioN`); `nil` when it is no VFIO device.
    public var vfioCdev: Bool? = nil
    /// NVIDIA vGPU VFs: `.known(id)` the type set, `.known(nil)` none set; `nil` for other functions.
    public var vgpuType: Fact<Int?>? = nil
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
    public var vendorHex: String { hex(vendor, 4) }
    public var deviceHex: String { hex(device, 4) }
    public static func < (a: Self, b: Self) -> Bool { (a.vendor, a.device) < (b.vendor, b.device) }
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
    /// VFs enabled (by writing `sriov_numvfs`): what each PF says it has enabled, plus VFs whose PF is not in the input.
    public let sriovVirtualFunctions: Int
    /// False when some endpoint's extended config space (where an SR-IOV capability lives) is missing, some function
    /// reads ffff with nothing to place it (the counts are then lower bounds), or a PF's `sriov_numvfs` exceeds its
    /// `sriov_totalvfs` or disagrees with its virtfn links.
    public let sriovCountsKnown: Bool
    public let kernelRelease: String?
    /// iommufd with the VFIO device cdev: `on` when /dev/iommu is there and the kernel makes cdevs.
    public var iommufd: HostState {
        let b = backends
        if b.iommufdNode.value == true && b.deviceCdev.value == true { return .on }
        if b.iommufdNode.value == false || b.deviceCdev.value == false { return .off }
        return .unknown
    }
    let backends: VFIOBackendFacts

    public init(_ model: HostModel, _ report: HostReport) {
        backends = model.environment.vfioBackends
        let codes = Set(report.hostFindings.map(\.code))
        iommu = codes.contains(.iommuOn) ? .on : codes.contains(.iommuOff) ? .off : .unknown
        interruptRemapping = codes.contains(.interruptRemappingOn) ? .on
            : codes.contains(.noInterruptRemapping) || codes.contains(.interruptRemappingOff) ? .off : .unknown
        kernelRelease = model.environment.kernelRelease

        var unitOf: [PCIAddress: FleetUnit] = [:]
        var fleetUnits: [FleetUnit] = []
        fleetUnits.reserveCapacity(report.units.count)
        for u in report.units where !u.members.isEmpty {
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

        // SR-IOV from sysfs (physfn/virtfn links), or where the input has none (a dump) from the PF's own SR-IOV
        // capability: VF n sits at the PF's routing ID + First VF Offset + n × VF Stride (PCIe r6.0 §9.3.3.9–10), and
        // its ID registers read ffff (§9.3.4.1.1), so its IDs are the PF's vendor and the capability's VF Device ID.
        var capabilityVF: [PCIAddress: (pf: PCIAddress, vendor: UInt16, device: UInt16)] = [:]
        for f in model.functions where f.sriov == .none || f.sriovPhysicalState?.virtualFunctions.isEmpty == true {
            guard let cap = f.config?.sriov, cap.vfEnable, cap.numVFs > 0 else { continue }
            let routingID = Int(f.address.bus) << 8 | Int(f.address.device) << 3 | Int(f.address.function)
            for n in 0..<cap.numVFs {
                let rid = routingID + cap.firstVFOffset + n * cap.vfStride
                guard rid <= 0xffff else { break }
                let vf = PCIAddress(domain: f.address.domain, bus: UInt8(rid >> 8), device: UInt8((rid >> 3) & 0x1f), function: UInt8(rid & 7))
                capabilityVF[vf] = (f.address, f.vendorID, cap.vfDeviceID)
            }
        }

        var pfs = 0, vfs = 0, extendedUnknown = false, implausible = false
        var published: [FleetFunction] = []
        published.reserveCapacity(model.functions.count)
        for f in model.functions {
            let isPF = f.sriovPhysicalState != nil || (f.sriov == .none && f.config?.sriov != nil)
            // A function reading ffff that no sysfs link names (a dump, or a tree whose physfn links are gone).
            let unlinked = (f.sriov == .none && f.vendorID == 0xffff) || f.sriov == .detachedVirtualFunction
            let fromCapability = unlinked ? capabilityVF[f.address] : nil
            let isVF = f.isVirtualFunction || fromCapability != nil
            // Reading ffff with no PF capability to place it: whether it is a VF, and what it is, is unknown.
            let identityUnknown = f.sriov == .none && f.vendorID == 0xffff && fromCapability == nil
            if isPF {
                pfs += 1
                // The VFs the PF has enabled (sriov_numvfs, its virtfn links, or its capability's NumVFs under VF Enable),
                // whether or not the input shows them.
                if let state = f.sriovPhysicalState {
                    vfs += state.numVFs ?? state.virtualFunctions.count
                    // sriov_numvfs past sriov_totalvfs, or not what the virtfn links show: the input contradicts itself.
                    if let n = state.numVFs, (state.totalVFs.map { n > $0 } ?? false) || (!state.virtualFunctions.isEmpty && n != state.virtualFunctions.count) {
                        implausible = true
                    }
                } else if let cap = f.config?.sriov, cap.vfEnable {
                    vfs += cap.numVFs
                }
            } else if isVF && (f.physicalFunction ?? fromCapability?.pf).flatMap({ model.function($0) }) == nil {
                vfs += 1  // a VF whose PF the input does not show
            }
            if !f.isBridge, !isVF, !isPF, case .unknown = f.acsCapability { extendedUnknown = true }
            let unit = unitOf[f.address]
            let groupKnown = model.groupKnown(f)
            published.append(FleetFunction(
                address: f.address, vendorID: fromCapability?.vendor ?? f.vendorID, deviceID: fromCapability?.device ?? f.deviceID,
                subsystemVendorID: f.subsystemVendorID, subsystemDeviceID: f.subsystemDeviceID, classCode: f.classCode, isBridge: f.isBridge,
                isVirtualFunction: isVF, identityUnknown: identityUnknown, physicalFunction: f.physicalFunction ?? fromCapability?.pf,
                isPhysicalFunction: isPF,
                iommuGroup: groupKnown ? f.iommuGroup : nil, groupKnown: groupKnown, numaNode: f.numaNode.flatMap { $0 < 0 ? nil : $0 },
                pcieRoot: Self.rootBus(of: f, in: model, physicalFunction: fromCapability?.pf),
                verdict: unit?.verdict ?? .undetermined, deciding: unit?.deciding))
            if !f.isBridge {
                published[published.count - 1].vfioDriver = VFIOBackendRules.vfioDriver(f).driver
                published[published.count - 1].vfioCdev = f.vfioRegistration.map(\.characterDevice)
                published[published.count - 1].vgpuType = f.nvidiaVGPU?.current
            }
        }
        functions = published
        let byAddress = Dictionary(published.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        var assignable: [DeviceID: Int] = [:]
        for u in fleetUnits where u.isViable {
            let ids = Set(u.members.compactMap { byAddress[$0] }.filter { !$0.isBridge }.map { DeviceID(vendor: $0.vendorID, device: $0.deviceID) })
            for id in ids { assignable[id, default: 0] += 1 }
        }
        assignableGroups = assignable
        sriovPhysicalFunctions = pfs
        sriovVirtualFunctions = vfs
        sriovCapable = pfs > 0 ? .on : extendedUnknown ? .unknown : .off
        sriovCountsKnown = !extendedUnknown && !implausible && !published.contains(where: \.identityUnknown)
    }

    /// `pci<domain>:<bus>` of the root bus above `f`: the bus of the topmost bridge in its upstream chain when that
    /// bridge is known to sit on a root bus, or its own bus when it sits on one itself. A VF takes its PF's. `nil` when
    /// the chain is not known up to a root bus (a dump that leaves bridges out): never a guess.
    static func rootBus(of f: PCIFunction, in model: HostModel, physicalFunction: PCIAddress? = nil) -> String? {
        var subject = f
        if let pf = f.physicalFunction ?? physicalFunction {
            guard let parent = model.function(pf) else { return nil }
            subject = parent
        }
        let top = subject.upstream.last.flatMap { model.function($0) } ?? subject
        guard case .known(.rootBus, _) = top.position else { return nil }
        return "pci\(hex(top.address.domain, 4)):\(hex(top.address.bus, 2))"
    }
}
