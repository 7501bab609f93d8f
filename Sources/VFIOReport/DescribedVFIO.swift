import PCIHost
import VFIOAnalysis

/// One fact of the VFIO backends: `value` null when unknown, with `evidence` (known) or `unknown` (why not).
public struct DescribedBackendFact: Encodable, Sendable {
    @Nullable public var value: Bool?
    @Nullable public var evidence: String?
    @Nullable public var unknown: DescribedUnknown?

    init(_ fact: Fact<Bool>) {
        value = fact.value
        evidence = fact.evidence
        unknown = fact.unknown.map(DescribedUnknown.init)
    }
}

/// `host.vfioBackends`: what the kernel offers to open VFIO devices with.
public struct DescribedVFIOBackends: Encodable, Sendable {
    /// `/dev/vfio/vfio` registered (class/misc/vfio).
    public let containerNode: DescribedBackendFact
    /// vfio_iommu_type1 loaded or built in.
    public let type1: DescribedBackendFact
    /// `/dev/iommu` registered (class/misc/iommu): iommufd.
    public let iommufdNode: DescribedBackendFact
    /// The kernel makes VFIO device cdevs (`/dev/vfio/devices/vfioN`, CONFIG_VFIO_DEVICE_CDEV).
    public let deviceCdev: DescribedBackendFact
    /// The kernel's configuration options that decide them (`CONFIG_…` → `y`/`m`); null when not in the input.
    @Nullable public var kernelConfig: [String: String]?

    public init(_ b: VFIOBackendFacts) {
        containerNode = DescribedBackendFact(b.containerNode)
        type1 = DescribedBackendFact(b.type1)
        iommufdNode = DescribedBackendFact(b.iommufdNode)
        deviceCdev = DescribedBackendFact(b.deviceCdev)
        kernelConfig = b.kernelConfig.value
    }
}

/// A mediated-device type a parent offers (`mdev_supported_types/<id>/`).
public struct DescribedMdevType: Encodable, Sendable {
    public let id: String
    @Nullable public var name: String?
    @Nullable public var availableInstances: Int?
    @Nullable public var deviceAPI: String?
    @Nullable public var description: String?
    public let instances: [String]
}

/// A vGPU type by NVIDIA's number and name.
public struct DescribedVGPUType: Encodable, Sendable {
    public let id: Int
    /// NVIDIA's name of the type; null when the input does not say it (a VF with a type lists none creatable).
    @Nullable public var name: String?
}

/// NVIDIA's vGPU state of a VF (`nvidia/current_vgpu_type`, `nvidia/creatable_vgpu_types`).
public struct DescribedNVIDIAVGPU: Encodable, Sendable {
    /// The type set; null when none is set (`currentKnown` true) or unknown (false).
    @Nullable public var current: DescribedVGPUType?
    public let currentKnown: Bool
    /// The types it can take now; null when unknown.
    @Nullable public var creatable: [DescribedVGPUType]?
    public let unknown: [String: DescribedUnknown]

    init(_ v: NVIDIAVGPUState) {
        let types = v.creatable.value
        current = v.current.value.flatMap { $0 }.map { id in DescribedVGPUType(id: id, name: types?.first { $0.id == id }?.name) }
        currentKnown = v.current.isKnown
        creatable = types?.map { DescribedVGPUType(id: $0.id, name: $0.name) }
        var unknown: [String: DescribedUnknown] = [:]
        if let u = v.current.unknown { unknown["current"] = DescribedUnknown(u) }
        if let u = v.creatable.unknown { unknown["creatable"] = DescribedUnknown(u) }
        self.unknown = unknown
    }
}

/// A function's VFIO facts: the VFIO device its driver registered, the driver VFIO uses (or will), the variant
/// drivers the module table names, migration features, mediated-device types and NVIDIA vGPU state.
public struct DescribedFunctionVFIO: Encodable, Sendable {
    /// `vfioN` under `vfio-dev/` (VFIO owns the function, whatever its driver); null when none.
    @Nullable public var device: String?
    /// `/dev/vfio/devices/vfioN` when the kernel made the cdev; null otherwise.
    @Nullable public var cdev: String?
    /// The VFIO driver it is bound to, or would be bound to (a matching variant driver, else vfio-pci); null when unknown.
    @Nullable public var vfioDriver: String?
    /// Variant drivers whose `vfio_pci:` alias matches; null when the module table was not read or not readable.
    @Nullable public var variantDrivers: [String]?
    /// The kernel's migration features of the VFIO device (debugfs); null when debugfs does not show them.
    @Nullable public var migrationFeatures: [String]?
    @Nullable public var mdevTypes: [DescribedMdevType]?
    @Nullable public var nvidiaVGPU: DescribedNVIDIAVGPU?

    init?(_ f: PCIFunction) {
        guard !f.isBridge else { return nil }
        device = f.vfioRegistration?.name
        cdev = f.vfioDevice
        vfioDriver = f.vfioVariantDrivers.isKnown || f.vfioRegistration != nil || VFIODrivers.isVFIO(f.driver) ? VFIOBackendRules.vfioDriver(f).driver : nil
        variantDrivers = f.vfioVariantDrivers.value
        migrationFeatures = f.vfioMigrationFeatures?.value
        mdevTypes = f.mediatedDeviceTypes?.map {
            DescribedMdevType(id: $0.id, name: $0.name, availableInstances: $0.availableInstances, deviceAPI: $0.deviceAPI, description: $0.description, instances: $0.instances)
        }
        nvidiaVGPU = f.nvidiaVGPU.map(DescribedNVIDIAVGPU.init)
    }
}

/// A function of the same device in another IOMMU group (`RelatedFunctions`).
public struct DescribedRelated: Encodable, Sendable {
    public let address: String
    /// Its kernel group; null when it has none or the input does not show it.
    @Nullable public var group: Int?
    /// `function N of the same slot …` or `below the same switch … (one card)`.
    public let reason: String
    /// The unit member it belongs with.
    public let member: String

    public init(_ r: RelatedFunction) {
        address = r.address.description
        group = r.group
        reason = r.reason
        member = r.member.description
    }
}
