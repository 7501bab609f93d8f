import PCIConfigSpace
import PCIHost
import VFIOAnalysis

/// `plan --json`: the plan as data.
public struct DescribedPlan: Encodable, Sendable {
    public struct Reasoned: Encodable, Sendable {
        public let function: String
        public let reason: String
    }

    public struct Hidden: Encodable, Sendable {
        public let function: String
        public let reason: String
        @Nullable public var iommuGroup: Int?
        public let hotplugLive: Bool
    }

    public struct Controller: Encodable, Sendable {
        /// libvirt's controller index (q35: also chassis and port; pseries: also the vPHB index).
        public let index: Int
        public let model: String
        public let qemuID: String
        public let qemuBus: String
        /// pseries: the IOMMU group this vPHB carries.
        @Nullable public var iommuGroup: Int?
    }

    public struct Function: Encodable, Sendable {
        public let host: String
        /// The guest address as libvirt writes it: domain 0, bus = controller index.
        public let guestAddress: String
        public let guestFunction: Int
        public let multifunction: Bool
        public let virtualFunction: Bool
        /// Extended capability names; null when extended config space could not be read.
        @Nullable public var extendedCapabilities: [String]?
        public let qemuID: String
        @Nullable public var iommuGroup: Int?
        /// Whether libvirt can hot-plug and hot-unplug it (`--live`), or only change the definition (`--config`).
        public let hotplugLive: Bool
    }

    public struct Slot: Encodable, Sendable {
        public let controller: Int
        public let slot: Int
        public let hostSlot: String
        @Nullable public var iommuGroup: Int?
        public let multifunction: Bool
        public let functions: [Function]
    }

    public struct Hotplug: Encodable, Sendable {
        /// Functions in attach order: per guest slot, N≠0 first and function 0 last.
        public let attach: [String]
        public let detach: [String]
    }

    public let schemaVersion: Int
    public let source: DescribedSource
    public let machine: String
    /// `container` or `iommufd`: how the guest opens the devices.
    public let backend: String
    /// `ready`, `needs-preparation`, `blocked` (planned with --force), or `refused`.
    public let status: String
    public let exitStatus: Int
    public let selected: [String]
    public let unit: [String]
    public let added: [Reasoned]
    public let hidden: [Hidden]
    public let stayWithHost: [String]
    /// Every function that must be bound to vfio-pci: the visible and the hidden ones.
    public let detachFromHost: [String]
    public let controllers: [Controller]
    public let guestSlots: [Slot]
    public let hotplug: Hotplug
    public let findings: [DescribedFinding]
    public let refusals: [DescribedFinding]

    public init(_ plan: Plan, _ model: HostModel) {
        schemaVersion = JSONSchemaVersion.current
        source = DescribedSource(model.source)
        machine = plan.machine.rawValue
        backend = plan.backend.rawValue
        status = plan.isRefused ? "refused" : plan.verdict.rawValue
        exitStatus = Int(PlanRender.exitStatus(plan))
        selected = plan.selected.map(\.description)
        unit = plan.unit.map(\.description)
        added = plan.added.map { Reasoned(function: $0.0.description, reason: $0.1) }
        hidden = plan.hidden.map { Hidden(function: $0.host.description, reason: $0.reason, iommuGroup: $0.group, hotplugLive: plan.hotplugLive($0.host)) }
        stayWithHost = plan.stayWithHost.map(\.description)
        detachFromHost = plan.detached.map(\.description)
        controllers = plan.controllers.map {
            Controller(index: $0.index, model: $0.model.rawValue, qemuID: $0.qemuID, qemuBus: $0.qemuBus, iommuGroup: $0.group)
        }
        guestSlots = plan.slots.map { s in
            Slot(controller: s.controller.index, slot: Int(s.slot), hostSlot: s.hostSlot.description, iommuGroup: s.group,
                 multifunction: s.isMultifunction,
                 functions: s.functions.map { f in
                     Function(host: f.host.description,
                              guestAddress: "0000:\(hex(s.controller.index, 2)):\(hex(s.slot, 2)).\(f.guestFunction)",
                              guestFunction: Int(f.guestFunction), multifunction: f.multifunction, virtualFunction: f.isVirtualFunction,
                              extendedCapabilities: f.extendedCapabilities, qemuID: f.deviceID, iommuGroup: f.group, hotplugLive: plan.hotplugLive(f.host))
                 })
        }
        hotplug = Hotplug(attach: plan.attachOrder.map(\.host.description), detach: plan.detachOrder.map(\.host.description))
        findings = plan.findings.map(DescribedFinding.init)
        refusals = plan.refusals.map(DescribedFinding.init)
    }
}
