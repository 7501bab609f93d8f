import PCIConfigSpace

/// The VFIO device a driver registered for a function (`vfio_device_add`): `vfio-dev/vfioN` below the
/// function's sysfs directory. Every VFIO driver registers one (vfio-pci, its variant drivers, vendor drivers
/// such as NVIDIA's for vGPU VFs), on every kernel since 6.1, whether or not the kernel has the device cdev.
public struct VFIODeviceEntry: Hashable, Sendable {
    /// `vfioN`, the name under `vfio-dev/`.
    public var name: String
    /// Whether the kernel made a character device for it (`vfio-dev/vfioN/dev` holds `major:minor`): only with
    /// `CONFIG_VFIO_DEVICE_CDEV` (Linux 6.6+), which opens it through iommufd as `/dev/vfio/devices/vfioN`.
    public var characterDevice: Bool

    public init(name: String, characterDevice: Bool) {
        self.name = name
        self.characterDevice = characterDevice
    }

    /// `/dev/vfio/devices/vfioN` when the kernel made the character device, else `nil`.
    public var node: String? { characterDevice ? "/dev/vfio/devices/" + name : nil }
}

/// What the host's kernel offers to open VFIO devices with: the legacy container (`/dev/vfio/vfio` with
/// `vfio_iommu_type1`, or iommufd's compatibility container) and iommufd (`/dev/iommu`, with the VFIO device
/// cdev `/dev/vfio/devices/vfioN`). Sources: drivers/vfio/container.c, drivers/iommu/iommufd/main.c,
/// drivers/vfio/device_cdev.c; Documentation/driver-api/vfio.rst ("IOMMUFD and vfio_iommu_type1").
public struct VFIOBackendFacts: Hashable, Sendable {
    /// Whether the kernel registered the misc device `vfio` (`/dev/vfio/vfio`): `class/misc/vfio`.
    public var containerNode: Fact<Bool> = .unknown("the input does not show the host's misc devices", remedy: "read sys/class/misc of the host, or take a snapshot with this version")
    /// Whether the type1 IOMMU driver behind the container is there (`module/vfio_iommu_type1`, or proc/modules).
    public var type1: Fact<Bool> = .unknown("the input does not show whether vfio_iommu_type1 is loaded", remedy: "read sys/module and proc/modules of the host")
    /// Whether iommufd registered `/dev/iommu` (`class/misc/iommu`, Linux 6.2+ with `CONFIG_IOMMUFD`).
    public var iommufdNode: Fact<Bool> = .unknown("the input does not show the host's misc devices", remedy: "read sys/class/misc of the host, or take a snapshot with this version")
    /// Whether the kernel makes VFIO device cdevs (`CONFIG_VFIO_DEVICE_CDEV`): seen on the host's VFIO devices
    /// (their `vfio-dev/vfioN/dev`), else in the kernel's configuration.
    public var deviceCdev: Fact<Bool> = .unknown("no VFIO device on the host shows it and the kernel's configuration is not in the input", remedy: "read boot/config-RELEASE of the host, or bind one device to vfio-pci and look again")
    /// The running kernel's configuration options that decide the backends (`CONFIG_VFIO`, `CONFIG_VFIO_CONTAINER`,
    /// `CONFIG_VFIO_IOMMU_TYPE1`, `CONFIG_IOMMUFD`, `CONFIG_IOMMUFD_VFIO_CONTAINER`, `CONFIG_VFIO_DEVICE_CDEV`, …)
    /// → `y`/`m`, from `boot/config-RELEASE`; an option the file does not set is absent from the map.
    public var kernelConfig: Fact<[String: String]> = .unknown("the kernel's configuration (boot/config-RELEASE) is not in the input", remedy: "read boot/config-RELEASE of the host, or take a snapshot with this version")

    public init() {}

    /// A configuration option as `y`/`m`, `.known(nil)` when the configuration does not set it.
    public func config(_ option: String) -> Fact<String?> {
        kernelConfig.map { $0[option] }
    }

    /// The options of a kernel configuration text this product reads.
    public static let configOptions: Set<String> = [
        "CONFIG_VFIO", "CONFIG_VFIO_CONTAINER", "CONFIG_VFIO_IOMMU_TYPE1", "CONFIG_VFIO_GROUP", "CONFIG_VFIO_PCI", "CONFIG_VFIO_PCI_CORE",
        "CONFIG_IOMMUFD", "CONFIG_IOMMUFD_VFIO_CONTAINER", "CONFIG_VFIO_DEVICE_CDEV", "CONFIG_VFIO_MDEV",
    ]

    /// Parses a kernel `.config` text: `CONFIG_X=y|m` lines of the options in `configOptions`; `nil` when the
    /// text has no `CONFIG_` assignment at all (not a kernel configuration).
    public static func parseConfig(_ text: String) -> [String: String]? {
        var result: [String: String] = [:]
        var sawAny = false
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("CONFIG_") || line.hasPrefix("# CONFIG_") else { continue }
            sawAny = true
            guard line.hasPrefix("CONFIG_"), let eq = line.firstIndex(of: "=") else { continue }
            let name = String(line[..<eq])
            let value = String(line[line.index(after: eq)...])
            if configOptions.contains(name), value == "y" || value == "m" { result[name] = value }
        }
        return sawAny ? result : nil
    }
}

/// One type of mediated device a parent offers (`mdev_supported_types/<type-id>/`,
/// Documentation/ABI/testing/sysfs-bus-vfio-mdev).
public struct MediatedDeviceType: Hashable, Sendable {
    /// The directory name, e.g. `i915-GVTg_V5_4` or `nvidia-558`.
    public var id: String
    /// `name`, when the driver provides it.
    public var name: String?
    /// `available_instances`: how many more can be created now.
    public var availableInstances: Int?
    /// `device_api`, e.g. `vfio-pci`.
    public var deviceAPI: String?
    /// `description`, when the driver provides it.
    public var description: String?
    /// Instances created of this type (entries of `devices/`).
    public var instances: [String] = []

    public init(id: String) { self.id = id }
}

/// NVIDIA's vGPU on SR-IOV virtual functions (vGPU 17+ on Ada/Hopper/Blackwell and later), where the VF stays on
/// the `nvidia` driver, registers a VFIO device itself and gets its vGPU type from
/// `/sys/bus/pci/devices/VF/nvidia/creatable_vgpu_types` and `…/nvidia/current_vgpu_type` (NVIDIA Virtual GPU
/// Software User Guide, "Creating an NVIDIA vGPU on a Linux with KVM Hypervisor" for the vendor-specific VFIO
/// framework).
public struct NVIDIAVGPUState: Hashable, Sendable {
    /// One vGPU type: its numeric ID and name (`creatable_vgpu_types` lines `ID : name`).
    public struct VGPUType: Hashable, Sendable {
        public var id: Int
        public var name: String
        public init(id: Int, name: String) {
            self.id = id
            self.name = name
        }
    }

    /// The types the VF can take now (`creatable_vgpu_types`); empty when none can be created (the GPU is full,
    /// or the VF has a type already).
    public var creatable: Fact<[VGPUType]>
    /// The type the VF has (`current_vgpu_type`): `.known(nil)` when it reads 0, none set.
    public var current: Fact<Int?>

    public init(creatable: Fact<[VGPUType]>, current: Fact<Int?>) {
        self.creatable = creatable
        self.current = current
    }

    /// Parses `creatable_vgpu_types`: a header line `ID    : vGPU Name`, then one `557   : NVIDIA L40S-1Q` per type.
    /// `nil` when a line is neither.
    public static func parseCreatable(_ text: String) -> [VGPUType]? {
        var types: [VGPUType] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else {
                if line.allSatisfy(\.isWhitespace) { continue }
                return nil
            }
            let key = String(parts[0].drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            let name = String(parts[1].drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            if key == "ID" { continue }
            guard let id = Int(key), id > 0, !name.isEmpty else { return nil }
            types.append(VGPUType(id: id, name: TerminalSafe.escape(name)))
        }
        return types
    }
}
