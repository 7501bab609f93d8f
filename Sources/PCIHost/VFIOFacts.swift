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

    /// Parses a kernel `.config` text: `CONFIG_X=y|m` lines of the options in `configOptions`. `nil` when it is
    /// not a kernel's configuration: fewer than 50 `CONFIG_…=` assignments (a real one has thousands), or one of
    /// the options read here set to anything but `y` or `m`.
    public static func parseConfig(_ text: String) -> [String: String]? {
        var result: [String: String] = [:]
        var assignments = 0
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("CONFIG_"), let eq = line.firstIndex(of: "=") else { continue }
            assignments += 1
            let name = String(line[..<eq])
            let value = String(line[line.index(after: eq)...])
            guard configOptions.contains(name) else { continue }
            guard value == "y" || value == "m" else { return nil }
            result[name] = value
        }
        return assignments >= 50 ? result : nil
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

/// One range of `/proc/iomem`: `start-end : name`, with its nesting depth (two spaces per level).
public struct IOMemRange: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var name: String
    public var depth: Int

    public init(start: UInt64, end: UInt64, name: String, depth: Int) {
        self.start = start
        self.end = end
        self.name = name
        self.depth = depth
    }

    /// The names firmware framebuffers register over the memory of the GPU that shows them: efifb, vesafb,
    /// simplefb / simple-framebuffer, simpledrm, and BOOTFB (the range sysfb reserves, Linux 6.x x86).
    public static let firmwareFramebufferNames = ["efifb", "vesafb", "simplefb", "simple-framebuffer", "simpledrm", "BOOTFB"]

    public var isFirmwareFramebuffer: Bool {
        Self.firmwareFramebufferNames.contains { name.contains($0) }
    }

    /// Parses `/proc/iomem`. `nil` when a line is not the kernel's `start-end : name` (hex, start ≤ end).
    /// All-zero ranges (what the kernel shows a reader without CAP_SYS_ADMIN, kernel/resource.c r_show) parse;
    /// `addressesHidden` tells them apart.
    public static func parse(_ text: String) -> [IOMemRange]? {
        var ranges: [IOMemRange] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            let indent = line.prefix { $0 == " " }.count
            let body = line.dropFirst(indent)
            // "start-end : name" (the name may hold " : " itself: split at the first).
            let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].hasSuffix(" "), parts[1].hasPrefix(" ") else { return nil }
            let bounds = parts[0].dropLast().split(separator: "-")
            guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16), let end = UInt64(bounds[1], radix: 16), start <= end else { return nil }
            ranges.append(IOMemRange(start: start, end: end, name: String(parts[1].dropFirst()), depth: indent / 2))
        }
        // The kernel prints a tree: each range lies inside the last one a level up, and the file is never empty.
        guard !ranges.isEmpty else { return nil }
        var parents: [IOMemRange] = []
        for r in ranges {
            guard r.depth <= parents.count else { return nil }
            parents.removeLast(parents.count - r.depth)
            if let parent = parents.last, !(parent.start == 0 && parent.end == 0), r.start < parent.start || r.end > parent.end { return nil }
            parents.append(r)
        }
        return ranges
    }

    /// Whether every range reads 0-0: the kernel hides the addresses from this reader.
    public static func addressesHidden(_ ranges: [IOMemRange]) -> Bool {
        !ranges.isEmpty && ranges.allSatisfy { $0.start == 0 && $0.end == 0 }
    }
}

/// One entry of vfio-pci's `ids` parameter (`vfio-pci.ids=` on the kernel command line, `options vfio-pci ids=`
/// or `options vfio_pci ids=` in modprobe.d): `vendor:device[:subvendor:subdevice[:class:class_mask]]` in hex,
/// omitted fields matching any (drivers/vfio/pci/vfio_pci.c, vfio_pci_fill_ids: sscanf "%x:%x:%x:%x:%x:%x").
public struct VFIOPCIIDMatch: Hashable, Sendable {
    public var vendor: UInt32
    public var device: UInt32
    public var subvendor: UInt32?
    public var subdevice: UInt32?
    public var classCode: UInt32?
    public var classMask: UInt32?
    /// Where it was read: `proc/cmdline`, `etc/modprobe.d/vfio.conf`, ….
    public var source: String
    /// The entry as written.
    public var text: String

    /// Parses one comma-separated entry; `nil` when it is not hex fields the kernel would take.
    public init?(_ entry: Substring, source: String) {
        let fields = entry.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...6).contains(fields.count) else { return nil }
        var values: [UInt32] = []
        for f in fields {
            guard !f.isEmpty, f.count <= 8, let v = UInt32(f, radix: 16) else { return nil }
            values.append(v)
        }
        vendor = values[0]
        device = values[1]
        subvendor = values.count > 2 ? values[2] : nil
        subdevice = values.count > 3 ? values[3] : nil
        classCode = values.count > 4 ? values[4] : nil
        classMask = values.count > 5 ? values[5] : nil
        self.source = source
        text = String(entry)
    }

    /// Whether vfio-pci's dynamic ID would claim `f` (PCI_ANY_ID is 0xffffffff; omitted fields match any).
    public func matches(vendor v: UInt16, device d: UInt16, subvendor sv: UInt16?, subdevice sd: UInt16?, classCode c: UInt32) -> Bool {
        func field(_ want: UInt32?, _ have: UInt16?) -> Bool {
            guard let want, want != 0xffff_ffff else { return true }
            return have.map { UInt32($0) == want } ?? false
        }
        guard vendor == 0xffff_ffff || vendor == UInt32(v), device == 0xffff_ffff || device == UInt32(d) else { return false }
        guard field(subvendor, sv), field(subdevice, sd) else { return false }
        if let classCode { return (c & (classMask ?? 0)) == (classCode & (classMask ?? 0)) }
        return true
    }

    /// The `ids=` values of a command line (`vfio-pci.ids=` or `vfio_pci.ids=`, every occurrence) or of a
    /// modprobe.d text (`options vfio-pci … ids=…`, `options vfio_pci …`). `nil` when an entry is malformed.
    public static func parse(commandLine: String, source: String) -> [VFIOPCIIDMatch]? {
        var found: [VFIOPCIIDMatch] = []
        for word in commandLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            for prefix in ["vfio-pci.ids=", "vfio_pci.ids="] where word.hasPrefix(prefix) {
                for entry in word.dropFirst(prefix.count).split(separator: ",") {
                    guard let m = VFIOPCIIDMatch(entry, source: source) else { return nil }
                    found.append(m)
                }
            }
        }
        return found
    }

    /// Lines as modprobe reads them: CR LF or LF ends, a trailing backslash joins the next line.
    static func logicalLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            if raw.hasSuffix("\\") {
                current += raw.dropLast() + " "
            } else {
                lines.append(current + raw)
                current = ""
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    public static func parse(modprobeConfig text: String, source: String) -> [VFIOPCIIDMatch]? {
        var found: [VFIOPCIIDMatch] = []
        for raw in logicalLines(text) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 3, words[0] == "options", words[1] == "vfio-pci" || words[1] == "vfio_pci" else { continue }
            for word in words.dropFirst(2) where word.hasPrefix("ids=") {
                for entry in word.dropFirst(4).split(separator: ",") {
                    guard let m = VFIOPCIIDMatch(entry, source: source) else { return nil }
                    found.append(m)
                }
            }
        }
        return found
    }

    /// The kernel command line dracut adds (`kernel_cmdline=` lines of dracut.conf.d, quoted with " or ' or not).
    public static func dracutCommandLine(_ text: String) -> String {
        logicalLines(text).compactMap { line -> String? in
            let l = line.drop { $0 == " " || $0 == "\t" }
            guard l.hasPrefix("kernel_cmdline"), let eq = l.firstIndex(of: "=") else { return nil }
            var value = l[l.index(after: eq)...].drop { $0 == " " }
            if let q = value.first, q == "\"" || q == "'" { value = value.dropFirst().prefix { $0 != q } }
            return String(value)
        }.joined(separator: " ")
    }

    /// Where modprobe reads its configuration (modprobe.d(5)), relative to the root.
    public static let modprobeDirectories = ["etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d"]
}
