import PCIConfigSpace
import PCIHost

/// The guest machine a plan is for.
public enum GuestMachine: String, CaseIterable, Sendable {
    /// x86 PCI Express: one `pcie-root-port` per guest slot.
    case q35
    /// PAPR: one `spapr-pci-host-bridge` (vPHB) per IOMMU group (partitionable endpoint).
    case pseries
}

/// How the guest's VFIO devices are opened: through their group and the legacy container (`/dev/vfio/N`), or
/// through iommufd and the device cdev (QEMU 8.2+ `-object iommufd`, libvirt 12.1+ `<driver iommufd='yes'/>`,
/// Linux 6.6+ with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV). Groups decide the unit under both.
public enum VFIOBackend: String, CaseIterable, Sendable {
    case container
    case iommufd
}

public struct PlanOptions: Sendable {
    public var machine: GuestMachine
    /// The VFIO backend the guest opens its devices through.
    public var backend: VFIOBackend = .container
    /// Endpoints of the unit the guest must not see (still detached from the host).
    public var hidden: [PCIAddress]
    /// Plan a unit `check` calls blocked.
    public var force: Bool
    /// Place function N≠0 on q35 without function 0 (the guest needs `pci=pcie_scan_all`).
    public var allowMissingFunction0: Bool
    /// The first guest controller index (libvirt `index`, and the vPHB `index` on pseries).
    public var firstControllerIndex: Int

    public init(machine: GuestMachine = .q35, hidden: [PCIAddress] = [], force: Bool = false,
                allowMissingFunction0: Bool = false, firstControllerIndex: Int = 1) {
        self.machine = machine
        self.hidden = hidden
        self.force = force
        self.allowMissingFunction0 = allowMissingFunction0
        self.firstControllerIndex = firstControllerIndex
    }
}

/// A guest controller the plan adds.
public struct GuestController: Hashable, Sendable {
    public enum Model: String, Sendable {
        case pcieRootPort = "pcie-root-port"
        case spaprPHB = "spapr-pci-host-bridge"
    }

    public let model: Model
    /// libvirt's controller `index`; on q35 also `chassis` and `port`, on pseries also the vPHB `index`.
    public let index: Int
    /// The QEMU `id` of the controller.
    public var qemuID: String { model == .pcieRootPort ? "vfio-rp\(index)" : "vfio-phb\(index)" }
    /// The QEMU bus the devices below it name.
    public var qemuBus: String { model == .pcieRootPort ? qemuID : qemuID + ".0" }
    /// On pseries: the IOMMU group the vPHB carries.
    public let group: Int?
}

/// One function placed in the guest.
public struct PlannedFunction: Hashable, Sendable {
    public let host: PCIAddress
    public let guestFunction: UInt8
    /// `multifunction='on'`: only on guest function 0 of a slot with more than one function.
    public let multifunction: Bool
    public let isVirtualFunction: Bool
    public let group: Int?
    /// Extended capabilities at 0x100+ (`nil`: extended config space could not be read).
    public let extendedCapabilities: [String]?
    /// The QEMU `id` and the libvirt user alias stem.
    public var deviceID: String { Self.deviceID(host) }

    /// `vfio-0000-01-00-1`: a QEMU id, and after `ua-` a libvirt user alias, for any function of the plan.
    public static func deviceID(_ host: PCIAddress) -> String {
        "vfio-" + host.description.map { $0 == ":" || $0 == "." ? "-" : String($0) }.joined()
    }
}

/// One guest slot: a host slot's functions kept together, or one VF.
public struct GuestSlot: Hashable, Sendable {
    public let controller: GuestController
    public let slot: UInt8
    public let hostSlot: PCISlotAddress
    public let group: Int?
    public let functions: [PlannedFunction]

    public var isMultifunction: Bool { functions.count > 1 }
    public var hasFunction0: Bool { functions.contains { $0.guestFunction == 0 } }
}

/// Group members that are detached from the host but not shown to the guest.
public struct HiddenFunction: Hashable, Sendable {
    public let host: PCIAddress
    public let group: Int?
    public let reason: String
}

/// A guest placement for a unit: which functions go where, what stays detached, in what order to hotplug.
public struct Plan: Sendable {
    public let machine: GuestMachine
    public var backend: VFIOBackend = .container
    /// The 64-bit MMIO window (GiB) the guest needs when its devices' 64-bit BARs exceed the 32 GiB default; `nil`
    /// when they fit (`MMIOBudget`).
    public var mmioWindowGiB: UInt64?
    public let selected: [PCIAddress]
    /// Every function of the groups the selection touches.
    public let unit: [PCIAddress]
    public let added: [(PCIAddress, String)]
    public let hidden: [HiddenFunction]
    /// Bridges and ports of the unit's groups: never assigned, they stay on the host.
    public let stayWithHost: [PCIAddress]
    public let controllers: [GuestController]
    public let slots: [GuestSlot]
    public let findings: [Finding]
    /// Why the plan was refused (empty when it was made).
    public let refusals: [Finding]
    public let verdict: UnitVerdict

    /// Which slot holds each placed function.
    private let slotIndex: [PCIAddress: Int]

    init(machine: GuestMachine, selected: [PCIAddress], unit: [PCIAddress], added: [(PCIAddress, String)], hidden: [HiddenFunction],
         stayWithHost: [PCIAddress], controllers: [GuestController], slots: [GuestSlot], findings: [Finding], refusals: [Finding], verdict: UnitVerdict) {
        self.machine = machine
        self.selected = selected
        self.unit = unit
        self.added = added
        self.hidden = hidden
        self.stayWithHost = stayWithHost
        self.controllers = controllers
        self.slots = slots
        self.findings = findings
        self.refusals = refusals
        self.verdict = verdict
        var index: [PCIAddress: Int] = [:]
        var live: [PCIAddress: Bool] = [:]
        var configOnlyGroups: Set<Int> = []
        for (i, s) in slots.enumerated() {
            for f in s.functions {
                index[f.host] = i
                // libvirt hot-plugs only function 0 of a guest slot and will not hot-unplug a device that shares its slot.
                live[f.host] = f.guestFunction == 0 && !s.isMultifunction
                if live[f.host] == false, let g = f.group { configOnlyGroups.insert(g) }
            }
        }
        for s in slots {
            for f in s.functions where f.group.map(configOnlyGroups.contains) == true { live[f.host] = false }
        }
        for h in hidden { live[h.host] = !(h.group.map(configOnlyGroups.contains) ?? false) }
        slotIndex = index
        liveness = live
    }

    private let liveness: [PCIAddress: Bool]

    public func slot(of function: PlannedFunction) -> GuestSlot? {
        slotIndex[function.host].map { slots[$0] }
    }

    /// Whether libvirt can hot-plug and hot-unplug it (`--live`), or only change the persistent definition (`--config`).
    /// Decided per IOMMU group: while one visible function of a group can only change the definition, hot-unplugging
    /// another member (and with managed='yes' giving it back to a host driver) would break a group still in use.
    public func hotplugLive(_ host: PCIAddress) -> Bool {
        liveness[host] ?? false
    }

    public var isRefused: Bool { !refusals.isEmpty }
    /// Every endpoint VFIO must hold: the visible functions and the hidden ones.
    public var detached: [PCIAddress] { (slots.flatMap { $0.functions.map(\.host) } + hidden.map(\.host)).sorted() }

    /// Hotplug: per guest slot, functions N≠0 first and function 0 last (function 0 completes the slot).
    public var attachOrder: [PlannedFunction] {
        slots.flatMap { slot in
            slot.functions.filter { $0.guestFunction != 0 }.sorted { $0.guestFunction < $1.guestFunction }
                + slot.functions.filter { $0.guestFunction == 0 }
        }
    }

    /// Unplug: last slot first; within a slot functions N≠0 first, function 0 last
    /// (pseries refuses function 0 while others remain; on PCIe function 0 takes the whole slot).
    public var detachOrder: [PlannedFunction] {
        slots.reversed().flatMap { slot in
            slot.functions.filter { $0.guestFunction != 0 }.sorted { $0.guestFunction > $1.guestFunction }
                + slot.functions.filter { $0.guestFunction == 0 }
        }
    }
}

public enum Planner {
    /// At most 31 vPHBs per pseries guest (QEMU's `SPAPR_MAX_PHBS`, index 0 is the default one).
    static let maxPHBIndex = 30
    /// pcie.0 slots free for root ports on q35 (32 less the host bridge and the ICH9 slot 0x1f; QEMU places one per slot).
    static let freeRootBusSlots = 29

    /// A guest placement for `selected`, in named steps: the unit from `check`, who the guest sees, guest slots,
    /// controllers, then the function-0, extended-capability, limit and SR-IOV rules, and finally whether
    /// `check`'s blockers refuse it (unless `options.force`).
    public static func plan(_ model: HostModel, selected: [PCIAddress], options: PlanOptions) -> Plan {
        let check = Reporter.check(model, selected: selected)
        // The plan states function 0, the expansion and a PF's VFs itself, for the machine it targets.
        var findings = check.findings.filter { $0.code != .function0Missing && $0.code != .groupExpanded && $0.code != .pfWithVFs }
        var refusals: [Finding] = []
        let membership = Membership(model, check: check, selected: selected, options: options)
        findings += membership.findings
        refusals += membership.refusals
        let grouping = guestSlotUnits(membership.visible, machine: options.machine)
        findings += grouping.findings
        let placement = place(grouping.units, options: options)
        let function0 = function0Rules(placement.slots, options: options)
        findings += function0.findings
        refusals += function0.refusals
        findings += extendedCapabilityFindings(placement.slots, model, machine: options.machine)
        let limits = limitRules(placement, options: options)
        findings += limits.findings
        refusals += limits.refusals
        refusals += pfWithVFsRefusals(membership, model: model, unit: Set(check.unit))
        // QEMU and libvirt address host devices with a 16-bit PCI domain; Intel VMD children live in domains
        // from 0x10000 (vmd_enable_domain) and cannot be named there.
        for f in membership.visible + membership.hidden.compactMap({ model.function($0.host) }) where f.address.domain > 0xffff {
            refusals.append(Finding(.planDomainTooLarge, .fail,
                "\(f.address) is in PCI domain \(hex(f.address.domain, 5)), above 0xffff (behind an Intel VMD controller): QEMU's and libvirt's host addresses cannot name it.",
                functions: [f.address], fix: "Turn VMD off in the firmware (the drives then appear in a normal domain); this tool does not plan assigning the VMD controller with its domain."))
        }
        if findings.contains(where: { $0.severity == .fail }) {
            let blocking = findings.filter { $0.severity == .fail }
            if options.force {
                findings.append(Finding(.planForced, .warn,
                    "check calls this unit blocked; planned anyway because of --force.", functions: blocking.flatMap(\.functions)))
            } else {
                refusals.append(contentsOf: blocking)
                findings.removeAll { $0.severity == .fail }
            }
        }
        let added: [(PCIAddress, String)] = check.added.map { a, _ in
            if membership.endpoints.contains(a) {
                return (a, "\(a): an endpoint in the same IOMMU group, held unassigned (detached from the host, not shown to the guest)")
            }
            return (a, "\(a): a bridge in the same IOMMU group, stays with the host")
        }
        if options.backend == .iommufd {
            let b = model.environment.vfioBackends
            let addresses = check.unit
            if b.iommufdNode.value == false || b.deviceCdev.value == false {
                refusals.append(Finding(.planBackendUnavailable, .fail,
                    "The iommufd backend is not there: \(b.iommufdNode.value == false ? "the kernel has no /dev/iommu" : "the kernel makes no VFIO device cdevs").",
                    functions: addresses, evidence: [b.iommufdNode.evidence, b.deviceCdev.evidence].compactMap { $0 },
                    fix: "plan with --backend container, or boot a kernel with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV (Linux 6.6+) and load iommufd"))
            } else if b.iommufdNode.value != true || b.deviceCdev.value != true {
                let why = b.iommufdNode.unknown ?? b.deviceCdev.unknown ?? Unknown("the input does not show iommufd", remedy: "read the host's sysfs")
                findings.append(.unknown(.planBackendUnverified, "Whether the host has iommufd with the VFIO device cdev is unknown: QEMU fails to start if it has not.",
                                         functions: addresses, why))
            }
        }
        findings += idsCapture(model, unit: check.unit)
        var plan = Plan(machine: options.machine, selected: selected, unit: check.unit, added: added, hidden: membership.hidden,
                        stayWithHost: membership.stayWithHost, controllers: placement.controllers, slots: placement.slots,
                        findings: findings, refusals: refusals,
                        verdict: refusals.isEmpty ? UnitVerdict(findings) : UnitVerdict(findings + refusals))
        plan.backend = options.backend
        // The window the guest needs holds the BARs it maps: the placed functions, not the ones held unassigned.
        let budget = MMIOBudget.of(plan.slots.flatMap(\.functions).compactMap { model.function($0.host) })
        let need = max(budget.total, budget.totalResized)
        if need > MMIOBudget.classicWindow { plan.mmioWindowGiB = MMIOBudget.window(for: need).gib }
        return plan
    }

    /// A vfio-pci `ids=` binding (kernel command line, modprobe.d) that also matches a function outside the unit:
    /// at the next boot vfio-pci takes that one too, whatever the host uses it for (a second NVMe of the same
    /// model holding `/`, a NIC that is up). Said for each such function that is not on a VFIO driver now.
    static func idsCapture(_ model: HostModel, unit: [PCIAddress]) -> [Finding] {
        let inUnit = Set(unit)
        switch model.environment.vfioPCIIDs {
        case .unknown:
            // Said by `--format persist`, where it matters (PlanRender.persist).
            return []
        case let .known(ids, _):
            var findings: [Finding] = []
            for f in model.functions where !inUnit.contains(f.address) && !f.isBridge && !VFIODrivers.isVFIO(f.driver) {
                guard let m = ids.first(where: { $0.matches(vendor: f.vendorID, device: f.deviceID, subvendor: f.subsystemVendorID, subdevice: f.subsystemDeviceID, classCode: f.classCode.rawValue) }) else { continue }
                let use = f.hostUse.value.map { u -> String in
                    var parts: [String] = []
                    if !u.blockDevices.isEmpty { parts.append("block devices \(u.blockDevices.joined(separator: ", "))") }
                    if !u.netInterfaces.isEmpty { parts.append("interfaces \(u.netInterfaces.map(\.name).joined(separator: ", "))") }
                    if !u.drmDevices.isEmpty { parts.append("displays \(u.drmDevices.joined(separator: ", "))") }
                    return parts.joined(separator: "; ")
                } ?? ""
                findings.append(Finding(.planIDsCapture, .warn,
                    "vfio-pci ids=\(m.text) (\(m.source)) also matches \(f.address), which is outside the unit and now on \(f.driver ?? "no driver")\(use.isEmpty ? "" : " with \(use)"): at the next boot vfio-pci takes it from the host.",
                    functions: [f.address], evidence: ["\(m.source): ids=\(m.text)", "\(f.address): \(hex(f.vendorID, 4)):\(hex(f.deviceID, 4)) subsystem \(f.subsystemVendorID.map { hex($0, 4) } ?? "?"):\(f.subsystemDeviceID.map { hex($0, 4) } ?? "?")"],
                    fix: "bind by address instead of by IDs (plan --format persist: driverctl set-override per address) and remove ids=\(m.text) from \(m.source)"))
            }
            return findings
        }
    }

    /// Who the guest sees: the selected endpoints; the unit's other endpoints and `--hide` ones are hidden
    /// (detached, unassigned); bridges and ports stay with the host.
    struct Membership {
        var endpoints: Set<PCIAddress> = []
        var visible: [PCIFunction] = []
        var hidden: [HiddenFunction] = []
        var stayWithHost: [PCIAddress] = []
        var findings: [Finding] = []
        var refusals: [Finding] = []

        init(_ model: HostModel, check: CheckResult, selected: [PCIAddress], options: PlanOptions) {
            let selectedSet = Set(selected)
            let hiddenSet = Set(options.hidden)
            let members = check.unit.compactMap { model.function($0) }
            let endpointFunctions = FunctionRules.endpoints(members)
            endpoints = Set(endpointFunctions.map(\.address))
            stayWithHost = members.filter { !endpoints.contains($0.address) }.map(\.address)
            let unitSet = Set(check.unit)
            for f in endpointFunctions {
                if hiddenSet.contains(f.address) {
                    hidden.append(HiddenFunction(host: f.address, group: f.iommuGroup, reason: "hidden with --hide"))
                } else if !selectedSet.contains(f.address) {
                    hidden.append(HiddenFunction(host: f.address, group: f.iommuGroup,
                        reason: "not selected, but in IOMMU group \(f.iommuGroup.map(String.init) ?? "?") with the selection: VFIO needs it off the host too; select it to give it to the guest"))
                } else {
                    visible.append(f)
                }
            }
            for h in options.hidden.sorted() where !endpoints.contains(h) {
                if unitSet.contains(h) {
                    findings.append(Finding(.planHideIgnored, .info, "--hide \(h): a bridge of the unit, which the guest never gets anyway.", functions: [h]))
                } else {
                    findings.append(Finding(.planHideIgnored, .warn,
                        "--hide \(h) is not in the unit's IOMMU groups: it is left out of this plan (neither detached nor shown).",
                        functions: [h], fix: "Select it as well to hold it detached and unassigned, or drop the --hide."))
                }
            }
            for a in stayWithHost {
                findings.append(Finding(.planBridgeStays, .info, "\(a) is a bridge or port in the unit's group: it is never assigned and stays on the host.", functions: [a]))
            }
            if visible.isEmpty {
                let candidates = endpointFunctions.map(\.address.description)
                refusals.append(Finding(.planNothingVisible, .fail,
                    "Nothing is left for the guest to see: the selection holds no endpoint that is not hidden (bridges and ports are never assigned).",
                    functions: selected,
                    fix: candidates.isEmpty ? "Select an endpoint; this unit has none." : "Select an endpoint of the unit: \(candidates.joined(separator: ", "))."))
            }
        }
    }

    /// Functions that share one guest slot.
    struct SlotUnit {
        var hostSlot: PCISlotAddress
        var group: Int?
        var functions: [PCIFunction]
        var vf: Bool
    }

    /// Guest slots: a host slot's functions stay together with their function numbers; each VF alone at function 0.
    /// On pseries a vPHB carries one IOMMU group, so a host slot whose functions sit in different groups is split by group.
    static func guestSlotUnits(_ visible: [PCIFunction], machine: GuestMachine) -> (units: [SlotUnit], findings: [Finding]) {
        struct SlotKey: Hashable { let slot: PCISlotAddress; let group: Int? }
        var findings: [Finding] = []
        var units: [SlotUnit] = []
        var bySlot: [SlotKey: Int] = [:]
        var groupsOfSlot: [PCISlotAddress: Set<Int>] = [:]
        for f in visible {
            if f.isVirtualFunction {
                units.append(SlotUnit(hostSlot: f.address.slot, group: f.iommuGroup, functions: [f], vf: true))
                findings.append(Finding(.planVFOwnSlot, .info,
                    "\(f.address) is a VF: it goes to function 0 of a guest slot of its own (a VF is not part of a multifunction device; its address is the PF's plus the SR-IOV offset and stride).",
                    functions: [f.address]))
                continue
            }
            if let g = f.iommuGroup { groupsOfSlot[f.address.slot, default: []].insert(g) }
            let key = SlotKey(slot: f.address.slot, group: machine == .pseries ? f.iommuGroup : nil)
            if let i = bySlot[key] {
                units[i].functions.append(f)
            } else {
                bySlot[key] = units.count
                units.append(SlotUnit(hostSlot: f.address.slot, group: f.iommuGroup, functions: [f], vf: false))
            }
        }
        for (slot, groups) in groupsOfSlot.sorted(by: { $0.key < $1.key }) where groups.count > 1 && machine == .pseries {
            findings.append(Finding(.planSlotSplit, .warn,
                "Host slot \(slot) has functions in IOMMU groups \(groups.sorted().map(String.init).joined(separator: ", ")): each group gets its own vPHB, so the slot is split into one guest slot per group.",
                functions: visible.filter { $0.address.slot == slot }.map(\.address)))
        }
        units.sort { ($0.group ?? Int.max, $0.hostSlot, $0.functions[0].address) < ($1.group ?? Int.max, $1.hostSlot, $1.functions[0].address) }
        return (units, findings)
    }

    /// Controllers and guest slots for the units.
    struct Placement {
        var controllers: [GuestController] = []
        var slots: [GuestSlot] = []
        /// pseries vPHBs that would need more than 31 slots.
        var overfull: [Int] = []
    }

    /// q35: one root port per guest slot. pseries: a vPHB per IOMMU group (per host slot without groups), slots from 1.
    static func place(_ units: [SlotUnit], options: PlanOptions) -> Placement {
        var placement = Placement()
        var phbOf: [String: GuestController] = [:]
        var nextSlotOnPHB: [Int: Int] = [:]
        for u in units {
            let controller: GuestController
            let guestSlot: Int
            switch options.machine {
            case .q35:
                controller = GuestController(model: .pcieRootPort, index: options.firstControllerIndex + placement.controllers.count, group: nil)
                placement.controllers.append(controller)
                guestSlot = 0
            case .pseries:
                let key = u.group.map { "group \($0)" } ?? "slot \(u.hostSlot)"
                if let c = phbOf[key] {
                    controller = c
                } else {
                    controller = GuestController(model: .spaprPHB, index: options.firstControllerIndex + placement.controllers.count, group: u.group)
                    placement.controllers.append(controller)
                    phbOf[key] = controller
                }
                // libvirt's pci-root buses use slots 1–31.
                guestSlot = nextSlotOnPHB[controller.index] ?? 1
                nextSlotOnPHB[controller.index] = guestSlot + 1
                if guestSlot > 31 { placement.overfull.append(controller.index); continue }
            }
            let numbers = u.functions.map { u.vf ? UInt8(0) : $0.address.function }
            let several = u.functions.count > 1
            let planned = zip(u.functions, numbers).map { f, n in
                PlannedFunction(host: f.address, guestFunction: n, multifunction: several && n == 0,
                                isVirtualFunction: f.isVirtualFunction, group: f.iommuGroup, extendedCapabilities: extendedCapabilityNames(f))
            }
            placement.slots.append(GuestSlot(controller: controller, slot: UInt8(guestSlot), hostSlot: u.hostSlot, group: u.group, functions: planned))
        }
        return placement
    }

    /// Function 0: Linux's pci_scan_slot stops at an absent function 0 (measured: a Debian 6.1 x86 guest on q35 sees
    /// function 1 alone neither with nor without pci=pcie_scan_all, which widens the device scan, not the function scan).
    static func function0Rules(_ slots: [GuestSlot], options: PlanOptions) -> (findings: [Finding], refusals: [Finding]) {
        var findings: [Finding] = []
        var refusals: [Finding] = []
        for s in slots where !s.hasFunction0 {
            let fs = s.functions.map(\.host)
            let list = fs.map(\.description).joined(separator: ", ")
            let them = fs.count == 1 ? "it" : "them"
            switch options.machine {
            case .q35 where !options.allowMissingFunction0:
                refusals.append(Finding(.planFunction0Missing, .fail,
                    "\(list) would sit in a guest slot without function 0: PCI enumeration reads function 0 first and skips functions 1–7 when it is absent, so an x86 guest (Linux, whatever its kernel parameters, or Windows) would not see \(them).",
                    functions: fs,
                    fix: "Select function 0 of \(s.hostSlot) too (and do not hide it). --allow-missing-function0 plans it anyway, for guests that probe every function."))
            case .q35:
                findings.append(Finding(.planFunction0Missing, .warn,
                    "\(list) \(fs.count == 1 ? "sits" : "sit") in a guest slot without function 0 (--allow-missing-function0): an x86 Linux guest will not enumerate \(them), with or without pci=pcie_scan_all; only guests that probe every function (Jailhouse, s390-style) do.",
                    functions: fs))
            case .pseries:
                findings.append(Finding(.planFunction0Missing, .warn,
                    "\(list) \(fs.count == 1 ? "sits" : "sit") in a guest slot without function 0: a pseries Linux guest builds its PCI devices from the device tree, which lists each function, so it may find \(them); a guest that scans config space like PC firmware will not.",
                    functions: fs))
            }
        }
        return (findings, refusals)
    }

    /// Extended capabilities the guest will not get.
    static func extendedCapabilityFindings(_ slots: [GuestSlot], _ model: HostModel, machine: GuestMachine) -> [Finding] {
        var findings: [Finding] = []
        for f in slots.flatMap(\.functions) {
            guard let ext = f.extendedCapabilities else {
                findings.append(Finding(.planExtendedConfig, .info,
                    "\(f.host): extended config space could not be read here, so what the guest loses at 0x100+ is unknown (\(model.function(f.host)?.provenance.configRemedy ?? "run as root")).", functions: [f.host]))
                continue
            }
            switch machine {
            case .pseries where ext.isEmpty:
                findings.append(Finding(.planExtendedConfig, .info, "\(f.host) has no extended capabilities: nothing at 0x100+ to lose on a vPHB.", functions: [f.host]))
            case .pseries:
                findings.append(Finding(.planExtendedConfig, .info,
                    "\(f.host) has extended capabilities (\(ext.joined(separator: ", "))): on a pseries vPHB, a conventional PCI bus, QEMU's vfio-pci does not rebuild them for the guest (it does so only on a PCI Express bus), so the guest needs extended config space it will not get; drivers must do without them.",
                    functions: [f.host]))
            case .q35 where !ext.isEmpty:
                // QEMU drops these even on an Express bus (hw/vfio/pci.c).
                let hiddenIDs: [ExtendedCapabilityID] = [.singleRootIOV, .alternativeRoutingID, .resizableBAR]
                let dropped = (model.function(f.host)?.config?.extendedCapabilities ?? []).filter { hiddenIDs.contains($0.id) }.map(\.id.name)
                if !dropped.isEmpty {
                    findings.append(Finding(.planExtendedConfig, .info,
                        "\(f.host): QEMU's vfio-pci hides \(dropped.joined(separator: ", ")) from the guest; its other extended capabilities are exposed below the root port.",
                        functions: [f.host]))
                }
            case .q35:
                break
            }
        }
        return findings
    }

    /// Controller indexes, vPHB slots and root-bus slots the guest has.
    static func limitRules(_ placement: Placement, options: PlanOptions) -> (findings: [Finding], refusals: [Finding]) {
        var findings: [Finding] = []
        var refusals: [Finding] = []
        if options.machine == .pseries {
            if let last = placement.controllers.last, last.index > maxPHBIndex {
                refusals.append(Finding(.planTooManyControllers, .fail,
                    "The plan needs vPHB index \(last.index); a pseries guest has at most \(maxPHBIndex + 1) (index 0 is the default vPHB).",
                    fix: "Assign fewer groups, or start lower with --first-index."))
            }
            for index in Set(placement.overfull).sorted() {
                refusals.append(Finding(.planTooManySlots, .fail,
                    "vPHB \(index) would need more than 31 guest slots (libvirt's pci-root buses use slots 1–31).",
                    fix: "Assign fewer functions of that IOMMU group."))
            }
        } else {
            if let last = placement.controllers.last, last.index > 255 {
                refusals.append(Finding(.planTooManyControllers, .fail,
                    "The plan needs PCI controller index \(last.index); a guest has at most 256 buses.",
                    fix: "Start lower with --first-index, or assign fewer slots."))
            }
            if placement.controllers.count > freeRootBusSlots {
                findings.append(Finding(.planRootPorts, .warn,
                    "The plan adds \(placement.controllers.count) root ports, more than the \(freeRootBusSlots) free slots of pcie.0: libvirt packs root ports as functions of a slot when their addresses are left out (as here), QEMU does not; with --format qemu give them addr=SLOT.FUNCTION yourself."))
            }
        }
        return (findings, refusals)
    }

    /// vfio-pci refuses a PF whose VFs are enabled ("Cannot bind to PF with SR-IOV enabled",
    /// vfio_pci_core_register_device), and unbinding the PF's driver removes its VFs: never overridden by --force.
    static func pfWithVFsRefusals(_ membership: Membership, model: HostModel, unit: Set<PCIAddress>) -> [Finding] {
        var refusals: [Finding] = []
        for a in (membership.visible.map(\.address) + membership.hidden.map(\.host)).sorted() {
            guard let f = model.function(a) else { continue }
            let state = f.sriovPhysicalState
            let fromConfig = f.config?.sriov.flatMap { $0.vfEnable && $0.numVFs > 0 ? $0.numVFs : nil }
            guard let n = state.flatMap({ $0.numVFs ?? ($0.virtualFunctions.isEmpty ? nil : $0.virtualFunctions.count) }) ?? fromConfig, n > 0 else { continue }
            let vfs = state?.virtualFunctions ?? []
            let own = vfs.filter { unit.contains($0) }
            refusals.append(Finding(.planPFWithVFs, .fail,
                "\(a) is an SR-IOV PF with \(n) VF(s) enabled: vfio-pci will not bind it (\"Cannot bind to PF with SR-IOV enabled\"), and unbinding its driver removes the VFs\(own.isEmpty ? "" : " (\(own.map(\.description).joined(separator: ", ")) in this plan)").",
                functions: [a] + vfs,
                fix: "Plan the VFs without the PF, or echo 0 > /sys/bus/pci/devices/\(a)/sriov_numvfs first."))
        }
        return refusals
    }

    static func extendedCapabilityNames(_ f: PCIFunction) -> [String]? {
        guard let config = f.config else { return nil }
        switch config.extendedCoverage {
        case .complete: return config.extendedCapabilities.map(\.id.name)
        case .notImplemented: return []
        case .unreadable: return nil
        }
    }
}
