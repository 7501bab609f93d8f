import PCIHost

/// A function that belongs with a unit's members but sits in another IOMMU group (or in none the input shows).
public struct RelatedFunction: Hashable, Sendable {
    public let address: PCIAddress
    /// Its kernel group; `nil` when it has none or the input does not show it.
    public let group: Int?
    /// Why it belongs with the unit: `same slot` or `same card`.
    public let reason: String
    /// The member it belongs with.
    public let member: PCIAddress
}

/// Functions of the same physical device as a unit's members that the kernel put in other groups: a GPU's USB-C
/// and UCSI functions (functions 2 and 3 of its slot on NVIDIA Turing and later), the other ports of a card whose
/// functions have ACS between them, a card's endpoints behind its own switch. Passing part of such a device leaves
/// the rest half-owned: the host driver of the part left behind (or the guest's) may fail. The kernel's own quirks
/// treat them as one device (drivers/pci/quirks.c: quirk_gpu_usb, quirk_gpu_usb_typec_ucsi link the GPU's USB and
/// UCSI functions to the GPU for power management).
public enum RelatedFunctions {
    /// The functions related to `unit` that are not in it: other non-VF functions of a member's slot (same
    /// domain, bus and device number), and endpoints below the same switch upstream port as a member with the
    /// member's vendor and subsystem IDs (a card with its own switch). Bridges and VFs are never added (a PF's
    /// VFs are the SR-IOV rules' business). One pass over the members and their slots.
    /// The non-VF endpoints below each switch upstream port: built once per report, not per unit (a host with
    /// thousands of functions would otherwise pay a pass over all of them for every unit).
    public struct SwitchIndex: Sendable {
        let belowUpstreamPort: [PCIAddress: [PCIFunction]]

        public init(_ model: HostModel) {
            var below: [PCIAddress: [PCIFunction]] = [:]
            for f in model.functions where !f.isBridge && !f.isVirtualFunction {
                if let port = RelatedFunctions.switchUpstreamPort(of: f, model) { below[port, default: []].append(f) }
            }
            belowUpstreamPort = below
        }
    }

    /// `index`: `SwitchIndex(model)` when the caller asks for many units; built here when needed otherwise.
    public static func related(to unit: [PCIAddress], _ model: HostModel, index: SwitchIndex? = nil) -> [RelatedFunction] {
        let inUnit = Set(unit)
        var seen: Set<PCIAddress> = []
        var found: [RelatedFunction] = []
        func add(_ f: PCIFunction, _ reason: String, _ member: PCIAddress) {
            guard !inUnit.contains(f.address), !f.isBridge, !f.isVirtualFunction, seen.insert(f.address).inserted else { return }
            found.append(RelatedFunction(address: f.address, group: model.groupKnown(f) ? f.iommuGroup : nil, reason: reason, member: member))
        }
        var built = index
        for a in unit {
            guard let m = model.function(a), !m.isBridge, !m.isVirtualFunction else { continue }
            for f in model.functions(inSlot: a.slot) where f.address != a {
                add(f, "function \(f.address.function) of the same slot \(a.slot) (one device)", a)
            }
            // A slot-mate the input could not read is still part of the device: said, never dropped.
            for s in model.skippedFunctions where s.slot == a.slot && !inUnit.contains(s) && seen.insert(s).inserted {
                found.append(RelatedFunction(address: s, group: nil, reason: "function \(s.function) of the same slot \(a.slot) (the input could not read it)", member: a))
            }
            guard let port = switchUpstreamPort(of: m, model), let sv = m.subsystemVendorID, let sd = m.subsystemDeviceID, sv != 0, sv != 0xffff else { continue }
            if built == nil { built = SwitchIndex(model) }
            for f in built?.belowUpstreamPort[port] ?? [] where f.vendorID == m.vendorID && f.subsystemVendorID == sv && f.subsystemDeviceID == sd {
                add(f, "below the same switch (upstream port \(port)) with the same vendor and subsystem IDs \(hex(sv, 4)):\(hex(sd, 4)) (likely one card)", a)
            }
        }
        return found.sorted { $0.address < $1.address }
    }

    /// The switch upstream port above `f`: the second bridge up when the nearest is a switch downstream port.
    static func switchUpstreamPort(of f: PCIFunction, _ model: HostModel) -> PCIAddress? {
        guard f.upstream.count >= 2, let down = model.function(f.upstream[0]), let up = model.function(f.upstream[1]) else { return nil }
        guard case .known(.downstreamPort?, _) = down.portType, case .known(.upstreamPort?, _) = up.portType else { return nil }
        return up.address
    }

    /// A caution for a unit that takes part of a device: the related functions in other groups, each with its
    /// group and why (`plan --with-related` takes them too).
    public static func findings(_ unit: [PCIAddress], _ model: HostModel, index: SwitchIndex? = nil) -> [Finding] {
        let related = related(to: unit, model, index: index)
        guard !related.isEmpty else { return [] }
        let list = related.map { r in "\(r.address) (\(r.group.map { "group \($0)" } ?? "no group shown")): \(r.reason)" }
        return [Finding(.relatedElsewhere, .warn,
            "Other functions of the same device sit outside the unit: \(list.joined(separator: "; ")). Where they share state (a GPU's audio, USB-C and UCSI functions, a card behind its own switch) passing only part leaves the rest broken in the host or the guest; ports meant to be split (a multi-port NIC with ACS) are fine apart.",
            functions: related.map(\.address), evidence: related.map { "\($0.address) belongs with \($0.member): \($0.reason)" },
            fix: "assign them to the same guest (vfio-inspect plan --with-related), or make sure the host does not need them")]
    }
}
