import PCIHost

/// The orchestrators `suggest` writes advisory configuration for.
public enum Orchestrator: String, Hashable, Sendable, CaseIterable {
    /// KubeVirt's `permittedHostDevices.pciHostDevices` (selects by vendor:device among functions bound to vfio-pci).
    case kubevirt
    /// The SR-IOV network device plugin's `config.json` (`resourceList`, `selectors.pciAddresses`).
    case sriovdp
    /// OpenStack Nova's `[pci] device_spec` and `[pci] alias`.
    case nova
    /// Proxmox VE's PCI resource mapping (`/etc/pve/mapping/pci.cfg`).
    case proxmox
}

/// One unit an orchestrator may hand to a guest: its lead function (the one the config names) and the other
/// endpoints of the group (companions), which must be bound to vfio-pci with it and never given to another guest.
public struct AdvisedUnit: Hashable, Sendable {
    public let unit: FleetUnit
    public let lead: FleetFunction
    public let companions: [FleetFunction]
    /// Nova's `device_type`: `type-PF` for a function with an SR-IOV capability, `type-VF` for a VF, else `type-PCI`.
    public var novaDeviceType: String {
        lead.isVirtualFunction ? "type-VF" : lead.isPhysicalFunction ? "type-PF" : "type-PCI"
    }
}

/// What `suggest --for TARGET` writes: the viable units pinned by address, those left out and why, and the trap
/// the orchestrator has. Pure: the renderers only format it.
///
/// Rules: only viable units (ready or needs-preparation) are advised; bridges never. Each unit is named by its lead
/// (its lowest-addressed endpoint); the other endpoints are companions: no orchestrator here has a group field, so
/// naming them too would let it give one group to two guests (KubeVirt allocates by group but counts one device per
/// matched function; the SR-IOV device plugin and Nova check no group; Proxmox checks `iommugroup=` only for the first
/// `path`). Traps found on this host are stated as such.
public struct OrchestratorAdvice: Sendable {
    public let target: Orchestrator
    public let units: [AdvisedUnit]
    /// Units with endpoints that are not viable, with the deciding finding.
    public let excluded: [FleetUnit]
    /// The orchestrator's traps that this host walks into, one sentence each.
    public let traps: [String]

    /// - Parameter selecting: the functions a selection (`-s`/`-d`) names; units holding one are advised or listed as
    ///   left out. Traps are looked for over the whole host whatever the selection: a selector written for the chosen
    ///   units matches functions elsewhere too.
    public init(_ facts: FleetFacts, for target: Orchestrator, selecting: Set<PCIAddress>? = nil) {
        self.target = target
        let byAddress = Dictionary(facts.functions.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        var advised: [AdvisedUnit] = [], excluded: [FleetUnit] = [], allExcluded: [FleetUnit] = []
        for u in facts.units {
            let endpoints = u.members.sorted().compactMap { byAddress[$0] }.filter { !$0.isBridge }
            guard let lead = endpoints.first else { continue }
            let chosen = selecting.map { s in u.members.contains(where: s.contains) } ?? true
            guard u.isViable else {
                allExcluded.append(u)
                if chosen { excluded.append(u) }
                continue
            }
            if chosen { advised.append(AdvisedUnit(unit: u, lead: lead, companions: Array(endpoints.dropFirst()))) }
        }
        units = advised.sorted { $0.lead.address < $1.lead.address }
        self.excluded = excluded

        var traps: [String] = []
        let leadIDs = Set(advised.map { DeviceID(vendor: $0.lead.vendorID, device: $0.lead.deviceID) })
        switch target {
        case .kubevirt:
            for a in advised {
                let id = DeviceID(vendor: a.lead.vendorID, device: a.lead.deviceID)
                let same = a.companions.filter { DeviceID(vendor: $0.vendorID, device: $0.deviceID) == id }
                if !same.isEmpty {
                    traps.append("\(Self.label(a.unit)) holds \(same.count + 1) functions of \(id): KubeVirt's device plugin lists each with the group as its ID and maps only the last address, so they collapse; expect one device from this group")
                }
            }
            for u in allExcluded {
                for m in u.members {
                    guard let f = byAddress[m], !f.isBridge, leadIDs.contains(DeviceID(vendor: f.vendorID, device: f.deviceID)) else { continue }
                    traps.append("the selector \(DeviceID(vendor: f.vendorID, device: f.deviceID)) also matches \(m) (\(u.verdict.rawValue): \(u.deciding?.rawValue ?? "-")): keep it off vfio-pci, or KubeVirt advertises it")
                }
            }
        case .sriovdp:
            for a in advised where !a.companions.isEmpty {
                traps.append("\(Self.label(a.unit)) also holds \(a.companions.map(\.address.description).joined(separator: ", ")): the SR-IOV device plugin does not check IOMMU groups, so only \(a.lead.address) is listed")
            }
        case .nova:
            for a in advised where !a.companions.isEmpty {
                traps.append("\(Self.label(a.unit)) also holds \(a.companions.map(\.address.description).joined(separator: ", ")): Nova has no group field; only \(a.lead.address) is in device_spec, bind the others to vfio-pci and leave them out")
            }
        case .proxmox:
            for a in advised where !a.companions.isEmpty && !Self.isWholeSlot(a, facts: facts) {
                traps.append("\(Self.label(a.unit)) spans slots: Proxmox checks iommugroup= only for the first path, so the mapping names \(a.lead.address) alone; pass the others with it by hand")
            }
        }
        self.traps = traps
    }

    static func label(_ u: FleetUnit) -> String {
        u.groupID.map { "IOMMU group \($0)" } ?? "the unit of \(u.members.first?.description ?? "?")"
    }

    /// Whether the unit's endpoints are exactly the functions of the lead's slot (Proxmox's function-less `path`
    /// passes them all).
    public static func isWholeSlot(_ a: AdvisedUnit, facts: FleetFacts) -> Bool {
        let slot = a.lead.address.slot
        let slotFunctions = Set(facts.functions.filter { $0.address.slot == slot && !$0.isVirtualFunction }.map(\.address))
        let unitEndpoints = Set([a.lead.address] + a.companions.map(\.address))
        return slotFunctions == unitEndpoints
    }
}
