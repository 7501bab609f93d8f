import Foundation
import PCIConfigSpace
import VFIOAnalysis
import Yams

/// `suggest --for TARGET`: advisory configuration text for an orchestrator, from `OrchestratorAdvice`. Every
/// output opens with comments that say it is advisory, what was left out and why, and the traps found on this host.
public enum Suggestions {
    public static func render(_ advice: OrchestratorAdvice, facts: FleetFacts, nodeName: String, resourcePrefix: String) throws -> String {
        switch advice.target {
        case .kubevirt: try kubevirt(advice, resourcePrefix: resourcePrefix)
        case .sriovdp: try sriovdp(advice, resourcePrefix: resourcePrefix)
        case .nova: try nova(advice)
        case .proxmox: proxmox(advice, facts: facts, nodeName: nodeName)
        }
    }

    static func header(_ advice: OrchestratorAdvice, what: String) -> String {
        var lines = ["vfio-inspect suggest --for \(advice.target.rawValue): advisory \(what), not applied anywhere.",
                     "Only units whose verdict is ready or needs-preparation are named, by address; bind every function listed",
                     "here (and each unit's companions) to vfio-pci before use."]
        for a in advice.units where !a.companions.isEmpty {
            lines.append("companions of \(a.lead.address): \(a.companions.map(\.address.description).joined(separator: ", ")) (same group: vfio-pci, never another guest)")
        }
        for u in advice.excluded {
            lines.append("left out: \(u.members.map(\.description).joined(separator: ", ")) — \(u.verdict.rawValue)\(u.deciding.map { ": \($0.rawValue)" } ?? "")")
        }
        for t in advice.traps { lines.append("TRAP: \(t)") }
        if advice.units.isEmpty { lines.append("no unit on this host can be passed through as it stands") }
        return lines.map { "# " + $0 }.joined(separator: "\n") + "\n"
    }

    /// A resource name from `prefix` and the IDs (`vfio-inspect.local/10de_2204`); the SR-IOV plugin's `resourceName`
    /// part must match `^[a-zA-Z0-9_]+$`.
    static func resourceName(_ id: DeviceID) -> String { "pci_\(id.vendorHex)_\(id.deviceHex)" }

    // MARK: KubeVirt

    struct KubeVirtPCIHostDevice: Encodable {
        let pciVendorSelector: String
        let resourceName: String
        let externalResourceProvider: Bool
    }
    struct KubeVirtCR: Encodable {
        struct Metadata: Encodable { let name: String; let namespace: String }
        struct Permitted: Encodable { let pciHostDevices: [KubeVirtPCIHostDevice] }
        struct Configuration: Encodable { let permittedHostDevices: Permitted }
        struct Spec: Encodable { let configuration: Configuration }
        let apiVersion = "kubevirt.io/v1"
        let kind = "KubeVirt"
        let metadata: Metadata
        let spec: Spec
    }

    /// A KubeVirt CR fragment (merge it into the `kubevirt` CR): one `pciHostDevices` entry per vendor:device of a
    /// viable unit's lead. KubeVirt matches IDs case-insensitively among functions bound to vfio-pci, so the
    /// addresses to bind are listed in the header.
    static func kubevirt(_ advice: OrchestratorAdvice, resourcePrefix: String) throws -> String {
        let ids = Set(advice.units.map { DeviceID(vendor: $0.lead.vendorID, device: $0.lead.deviceID) }).sorted()
        let cr = KubeVirtCR(metadata: .init(name: "kubevirt", namespace: "kubevirt"), spec: .init(configuration: .init(
            permittedHostDevices: .init(pciHostDevices: ids.map {
                KubeVirtPCIHostDevice(pciVendorSelector: $0.description, resourceName: "\(resourcePrefix)/\(resourceName($0))",
                                      externalResourceProvider: false)
            }))))
        var out = header(advice, what: "KubeVirt CR fragment")
        for a in advice.units { out += "# bind: driverctl set-override \(a.lead.address) vfio-pci\n" }
        return out + (try YAMLEncoder().encode(cr))
    }

    // MARK: SR-IOV network device plugin

    struct SRIOVSelector: Encodable {
        let vendors: [String]
        let devices: [String]
        let drivers: [String]
        let pciAddresses: [String]
    }
    struct SRIOVResource: Encodable {
        let resourceName: String
        let resourcePrefix: String
        let deviceType: String
        let selectors: [SRIOVSelector]
    }
    struct SRIOVConfig: Encodable { let resourceList: [SRIOVResource] }

    /// The device plugin's ConfigMap (`sriovdp-config` in `kube-system`, as its deployment mounts it) with
    /// `config.json`: one resource per vendor:device, selecting the leads by `pciAddresses` and `drivers: [vfio-pci]`;
    /// `deviceType` `netDevice` for network controllers (class 02), else `accelerator`.
    static func sriovdp(_ advice: OrchestratorAdvice, resourcePrefix: String) throws -> String {
        let byID = Dictionary(grouping: advice.units, by: { DeviceID(vendor: $0.lead.vendorID, device: $0.lead.deviceID) })
        let resources = byID.keys.sorted().map { id in
            let units = byID[id] ?? []
            let network = units.allSatisfy { $0.lead.classCode.rawValue >> 16 == 0x02 }
            return SRIOVResource(resourceName: resourceName(id), resourcePrefix: resourcePrefix, deviceType: network ? "netDevice" : "accelerator",
                                 selectors: [SRIOVSelector(vendors: [id.vendorHex], devices: [id.deviceHex], drivers: ["vfio-pci"],
                                                           pciAddresses: units.map(\.lead.address.description))])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(SRIOVConfig(resourceList: resources)), as: UTF8.self) + "\n"
        // Built as a node so config.json stays a literal block (`|`), as people write it.
        let map: Node = [
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": ["name": "sriovdp-config", "namespace": "kube-system"],
            "data": ["config.json": Node(json, Tag(.str), .literal)],
        ]
        return header(advice, what: "SR-IOV network device plugin ConfigMap") + (try Yams.serialize(node: map, sortKeys: false))
    }

    // MARK: Nova

    struct NovaDeviceSpec: Encodable {
        let address: String
        let vendor_id: String
        let product_id: String
    }
    struct NovaAlias: Encodable {
        let name: String
        let vendor_id: String
        let product_id: String
        let device_type: String
    }

    /// nova.conf's `[pci]` section: one `device_spec` line per lead (by address and IDs), one `alias` per
    /// vendor:device and device type (`MultiStrOpt`s: repeated lines).
    static func nova(_ advice: OrchestratorAdvice) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = header(advice, what: "nova.conf [pci] section") + "[pci]\n"
        for a in advice.units {
            let spec = NovaDeviceSpec(address: a.lead.address.description, vendor_id: hex(a.lead.vendorID, 4), product_id: hex(a.lead.deviceID, 4))
            out += "device_spec = " + String(decoding: try encoder.encode(spec), as: UTF8.self) + "\n"
        }
        var seen = Set<String>()
        for a in advice.units {
            let name = "\(resourceName(DeviceID(vendor: a.lead.vendorID, device: a.lead.deviceID)))_\(a.novaDeviceType.dropFirst(5).lowercased())"
            guard seen.insert(name).inserted else { continue }
            let alias = NovaAlias(name: name, vendor_id: hex(a.lead.vendorID, 4), product_id: hex(a.lead.deviceID, 4), device_type: a.novaDeviceType)
            out += "alias = " + String(decoding: try encoder.encode(alias), as: UTF8.self) + "\n"
        }
        return out
    }


    // MARK: Proxmox

    /// `/etc/pve/mapping/pci.cfg` entries (pve-guest-common `PVE::Mapping::PCI`): one per viable unit, named
    /// `vfio-<domain>-<bus>-<device>[-<function>]`, with `id`, `subsystem-id` (when known), `iommugroup` (when the
    /// kernel made groups), `node` and `path` (the slot without a function when the unit is the whole slot).
    static func proxmox(_ advice: OrchestratorAdvice, facts: FleetFacts, nodeName: String) -> String {
        var entries = "", hints = ""
        for (i, a) in advice.units.enumerated() {
            let whole = !a.companions.isEmpty && OrchestratorAdvice.isWholeSlot(a, facts: facts)
            let path = whole ? a.lead.address.slot.description : a.lead.address.description
            let name = "vfio-" + path.map { $0 == ":" || $0 == "." ? "-" : $0 }.map(String.init).joined()
            var props = ["id=\(hex(a.lead.vendorID, 4)):\(hex(a.lead.deviceID, 4))"]
            if let g = a.unit.groupID { props.append("iommugroup=\(g)") }
            props.append("node=\(nodeName)")
            props.append("path=\(path)")
            if let sv = a.lead.subsystemVendorID, let sd = a.lead.subsystemDeviceID { props.append("subsystem-id=\(hex(sv, 4)):\(hex(sd, 4))") }
            entries += "\n\(name)\n\tmap \(props.joined(separator: ","))\n"
            hints += "# in a VM's config: hostpci\(i): mapping=\(name),pcie=1\n"
        }
        let out = header(advice, what: "Proxmox VE PCI resource mapping (/etc/pve/mapping/pci.cfg)") + hints + entries
        return out
    }
}
