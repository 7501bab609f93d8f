@_exported import PCIConfigSpace
import PCILibPCI

/// PCI Express link state as sysfs gives it (`current_link_speed` and friends), from config space where it answers.
public struct LinkState: Hashable, Sendable {
    public var currentSpeed: String?
    public var currentWidth: Int?
    public var maxSpeed: String?
    public var maxWidth: Int?

    public var isEmpty: Bool { currentSpeed == nil && currentWidth == nil && maxSpeed == nil && maxWidth == nil }

    public init(currentSpeed: String? = nil, currentWidth: Int? = nil, maxSpeed: String? = nil, maxWidth: Int? = nil) {
        self.currentSpeed = currentSpeed
        self.currentWidth = currentWidth
        self.maxSpeed = maxSpeed
        self.maxWidth = maxWidth
    }

    /// The four link attributes as the kernel prints them, worked out from the PCI Express capability's own
    /// registers (the ones the kernel reads for them), or `nil` where those registers leave its text in doubt
    /// and the sysfs files must answer.
    ///
    /// - `current_link_speed`, `current_link_width` (current_link_speed_show, current_link_width_show):
    ///   `PCI_EXP_LNKSTA` Current Link Speed through pcie_link_speed and pci_speed_string (drivers/pci/probe.c:
    ///   "2.5 GT/s PCIe" … "64.0 GT/s PCIe", any other code "Unknown"), and Negotiated Link Width, in decimal.
    /// - `max_link_width` (pcie_get_width_cap): `PCI_EXP_LNKCAP` Maximum Link Width. A LNKCAP of zero is
    ///   printed as 255 (PCIE_LNK_WIDTH_UNKNOWN) by recent kernels and 0 by older ones: `nil`.
    /// - `max_link_speed` (pcie_get_speed_cap): the Supported Link Speeds Vector of `PCI_EXP_LNKCAP2` where
    ///   LNKCAP2 is non-zero, else `PCI_EXP_LNKCAP`'s Max Link Speed, of which only 2.5 and 5.0 GT/s are read
    ///   ("Unknown" otherwise). Kernels differ where the vector's top speed is not Max Link Speed, and where
    ///   LNKCAP2 is non-zero without any speed bit (Linux 6.13, pcie_get_supported_speeds, caps the vector at
    ///   Max Link Speed and works an empty one out from LNKCAP; earlier ones take the vector's top bit, or
    ///   "Unknown"): only where both readings agree is the answer taken from config space.
    ///
    /// `nil` also for port types without link registers (pcie_cap_has_lnkctl: only endpoints, legacy
    /// endpoints, root, upstream and downstream ports and the two bridge types have them; the kernel reads
    /// zeros for the rest), and for a register that was not readable (LNKCAP2 of a version 2 capability
    /// included: cut off is unknown, not zero). Kernels before 5.7 print other texts ("2.5 GT/s", "Unknown
    /// speed"): the scan reads their files instead (`SysfsScanner.printsLinkSpeedsAsRegistersGive`).
    public init?(pciExpress e: PCIExpress) {
        let withLink: Set<UInt8> = [0x0, 0x1, 0x4, 0x5, 0x6, 0x7, 0x8]
        guard withLink.contains(e.portType.rawValue), let cap = e.linkCapabilities, cap != 0, let status = e.linkStatus else { return nil }
        if e.version >= 2 && e.linkCapabilities2 == nil { return nil }
        func text(_ code: UInt32) -> String? {
            switch code {
            case 1: "2.5 GT/s PCIe"
            case 2: "5.0 GT/s PCIe"
            case 3: "8.0 GT/s PCIe"
            case 4: "16.0 GT/s PCIe"
            case 5: "32.0 GT/s PCIe"
            case 6: "64.0 GT/s PCIe"
            default: nil
            }
        }
        let capSpeed = cap & 0xf
        let register2 = e.linkCapabilities2 ?? 0
        let vector = register2 & 0xfe
        let max: String
        if vector != 0 {
            // The vector's highest bit (kernels to 6.12) must be Max Link Speed (6.13 caps the vector there).
            let top = UInt32(31 - vector.leadingZeroBitCount)
            guard top == capSpeed, let t = text(top) else { return nil }
            max = t
        } else {
            // LNKCAP2 with other bits but no speed: 6.12 says "Unknown", 6.13 reads LNKCAP.
            guard register2 == 0 else { return nil }
            max = (capSpeed == 1 || capSpeed == 2 ? text(capSpeed) : nil) ?? "Unknown"
        }
        let current = text(UInt32(status & 0xf)) ?? "Unknown"
        self.init(currentSpeed: current, currentWidth: Int((status >> 4) & 0x3f), maxSpeed: max, maxWidth: Int((cap >> 4) & 0x3f))
    }
}

/// A physical function's SR-IOV state, from its sysfs `sriov_*` files and `virtfnN` links.
public struct SRIOVPhysicalState: Hashable, Sendable {
    public var totalVFs: Int?
    public var numVFs: Int?
    public var offset: Int?
    public var stride: Int?
    public var vfDeviceID: UInt16?
    public var driversAutoprobe: Bool?
    /// From `virtfnN`, ordered by N.
    public var virtualFunctions: [PCIAddress] = []
}

/// How a function is related to SR-IOV.
public enum SRIOVRole: Hashable, Sendable {
    case none
    /// Boxed (`indirect`): the state is about 70 bytes, and most functions are not PFs.
    indirect case physicalFunction(SRIOVPhysicalState)
    /// A VF whose PF is visible through `physfn`.
    case virtualFunction(pf: PCIAddress)
    /// A VF with no visible PF (its config ID registers read all ones while sysfs names it).
    case detachedVirtualFunction
}

/// Evidence that the host itself uses a function.
public struct HostUse: Hashable, Sendable {
    public struct NetInterface: Hashable, Sendable {
        public var name: String
        public var operstate: String?
        /// `flags` bit 0 (IFF_UP).
        public var administrativelyUp: Bool?
    }

    public var netInterfaces: [NetInterface] = []
    /// Block device names found below the function (`nvme0n1`, `sda`, partitions).
    public var blockDevices: [String] = []
    /// DRM cards and connectors below the function.
    public var drmDevices: [String] = []
    /// Framebuffers below the function (`fb0`).
    public var framebuffers: [String] = []
    /// Block devices stacked on the function's block devices (`holders/`): device-mapper (LVM, LUKS) and md RAID.
    public var stackedDevices: [StackedDevice] = []

    /// A block device that holds one of the function's block devices (`holders/dm-0`).
    public struct StackedDevice: Hashable, Sendable {
        /// The kernel name: `dm-0`, `md127`.
        public var name: String
        /// `dm/name`: the `/dev/mapper/` name of a device-mapper device.
        public var mapperName: String?
        /// The block device it is stacked on (`nvme0n1p3`, or another holder).
        public var on: String
    }

    public var isEmpty: Bool {
        netInterfaces.isEmpty && blockDevices.isEmpty && drmDevices.isEmpty && framebuffers.isEmpty
    }
}

/// One PCI function as the host shows it.
public struct PCIFunction: Hashable, Sendable {
    /// Facts most functions never have (damage, dump-only text gaps, VFIO and vGPU state), kept out of line: one
    /// shared empty box for the functions without any, so a host's thousands of functions do not each carry about
    /// 450 bytes of empty optionals. The properties declared in `RarelySet` read and write through it (a write
    /// makes a new box).
    var rarelySet = RarelySetBox.empty

    struct RarelySet: Hashable, Sendable {
        var configUnusable: Unknown?
        var vfioRegistration: VFIODeviceEntry?
        var vfioRegistrationUnknown: Unknown?
        var vfioMigrationFeatures: Fact<[String]>?
        var mediatedDeviceTypes: [MediatedDeviceType]?
        var nvidiaVGPU: NVIDIAVGPUState?
        var claimedGroups: [Int] = []
        var bootVGAUnknown: Unknown?
        var resetMethodsUnknown: Unknown?
        var resourcesUnknown: Unknown?
        var rawConfig: [UInt8]?
        var multifunctionUnknown: Unknown?
        var interruptPinUnknown: Unknown?
        var declaredBusNumbers: BridgeBusNumbers?
        var configGap: Unknown?
    }

    /// An immutable box: a write makes a new one, so copies of a function never share a change. A write that
    /// leaves every fact unset (the scan's `configUnusable = nil` for a sound function) gives the shared empty box.
    /// (Only "all unset" is compared: String's `==` is canonical equivalence, so "equal" texts may differ in bytes.)
    final class RarelySetBox: Hashable, Sendable {
        static let empty = RarelySetBox(RarelySet())
        let value: RarelySet
        init(_ value: RarelySet) { self.value = value }
        func with(_ change: (inout RarelySet) -> Void) -> RarelySetBox {
            var v = value
            change(&v)
            return v == RarelySet() ? .empty : RarelySetBox(v)
        }
        static func == (a: RarelySetBox, b: RarelySetBox) -> Bool { a === b || a.value == b.value }
        func hash(into hasher: inout Hasher) { hasher.combine(value) }
    }

    public var address: PCIAddress
    /// IDs: from sysfs where present (a VF's config space reads 0xffff), else from config space.
    public var vendorID: UInt16
    public var deviceID: UInt16
    public var subsystemVendorID: UInt16?
    public var subsystemDeviceID: UInt16?
    public var classCode: ClassCode
    public var revision: UInt8
    /// The decoded standard header, `nil` when fewer than 64 bytes were readable.
    public var header: ConfigHeader?
    /// Capabilities and the rest of config space, when the scan was asked to decode them. Kept out of line (168
    /// bytes that a listing, which decodes none, would otherwise carry per function).
    public var config: DecodedConfigSpace? {
        get { decodedBox?.value }
        set { decodedBox = newValue.map(DecodedBox.init) }
    }
    var decodedBox: DecodedBox?

    /// An immutable box for the decoded config space: a write makes a new one.
    final class DecodedBox: Hashable, Sendable {
        let value: DecodedConfigSpace
        init(_ value: DecodedConfigSpace) { self.value = value }
        static func == (a: DecodedBox, b: DecodedBox) -> Bool { a === b || a.value == b.value }
        func hash(into hasher: inout Hasher) { hasher.combine(value) }
    }
    public var configBytesReadable: Int
    /// Set when the config bytes are not this function's registers (all ones: it does not answer; all zeros; an ID
    /// dword the kernel takes as no device; IDs that contradict sysfs; a file no config space can be): nothing is
    /// decoded from them, and every fact config space would give is unknown for this reason.
    public var configUnusable: Unknown? {
        get { rarelySet.value.configUnusable }
        set { rarelySet = rarelySet.with { $0.configUnusable = newValue } }
    }
    /// The size the source claims for config space (the sysfs file size; the dump length).
    public var configSize: Int

    public var vendorName: String?
    public var deviceName: String?
    public var subsystemName: String?
    /// The subsystem vendor's name from pci.ids (lspci prints it before the subsystem's own name).
    public var subsystemVendorName: String?
    public var className: String?

    /// The bound driver: sysfs `driver` link, or a dump's `Kernel driver in use:` line; `.known(nil)` when
    /// the input shows that no driver is bound.
    public var driverBinding: Fact<String?> = .unknown("the input does not say which driver is bound", remedy: "read the host's sysfs, or capture the dump with `lspci -k`")
    /// The bound driver's name, when known and bound.
    public var driver: String? { driverBinding.value ?? nil }
    /// Modules that can drive the function: a dump's `Kernel modules:` line, or `modalias` matched against
    /// the kernel's modules.alias (only when the scan resolves modules).
    public var kernelModules: Fact<[String]> = .unknown("the scan did not look up modules", remedy: "use `show`, which reads the kernel's module table")
    public var driverOverride: String?
    /// The VFIO device its driver registered (`vfio-dev/vfioN`), whatever that driver is: VFIO owns the function.
    public var vfioRegistration: VFIODeviceEntry? {
        get { rarelySet.value.vfioRegistration }
        set { rarelySet = rarelySet.with { $0.vfioRegistration = newValue } }
    }
    /// Why whether a VFIO device is registered is unknown: `vfio-dev` is there but damaged (not one `vfioN`
    /// directory, or a `dev` that is not `major:minor`).
    public var vfioRegistrationUnknown: Unknown? {
        get { rarelySet.value.vfioRegistrationUnknown }
        set { rarelySet = rarelySet.with { $0.vfioRegistrationUnknown = newValue } }
    }
    /// The VFIO device cdev (`/dev/vfio/devices/vfioN`) when the kernel made one (`CONFIG_VFIO_DEVICE_CDEV`).
    public var vfioDevice: String? { vfioRegistration?.node }
    /// The VFIO variant drivers the kernel's module table names for the function (`alias vfio_pci:…` lines of
    /// modules.alias matched against its modalias, as libvirt ≥ 10.0 picks a driver for managed='yes'); `[]`
    /// when none matches (vfio-pci is the driver then). Read only when the command binds drivers.
    public var vfioVariantDrivers: Fact<[String]> = .unknown("the scan did not read the kernel's module table", remedy: "use `check` or `plan` on the host, which read it")
    /// What the kernel says of the VFIO device's migration in debugfs (`kernel/debug/vfio/BDF/migration/features`,
    /// Linux 6.18+ with CONFIG_VFIO_DEBUGFS: `stop-copy`, `p2p`, `pre-copy`, `dirty-tracking`): `.known([])` when the
    /// device's debugfs directory has no `migration/` (vfio_device_debugfs_init makes it only for a driver with
    /// mig_ops); `nil` when debugfs does not show the device.
    public var vfioMigrationFeatures: Fact<[String]>? {
        get { rarelySet.value.vfioMigrationFeatures }
        set { rarelySet = rarelySet.with { $0.vfioMigrationFeatures = newValue } }
    }
    /// The mediated-device types the function offers as a parent (`mdev_supported_types/`); `nil` when it offers none.
    public var mediatedDeviceTypes: [MediatedDeviceType]? {
        get { rarelySet.value.mediatedDeviceTypes }
        set { rarelySet = rarelySet.with { $0.mediatedDeviceTypes = newValue } }
    }
    /// NVIDIA's vGPU state of a VF (`nvidia/creatable_vgpu_types`, `nvidia/current_vgpu_type`); `nil` when absent.
    public var nvidiaVGPU: NVIDIAVGPUState? {
        get { rarelySet.value.nvidiaVGPU }
        set { rarelySet = rarelySet.with { $0.nvidiaVGPU = newValue } }
    }
    public var iommuGroup: Int?
    /// Every group a dump's lines named for the function when they disagree (its group is unknown, but it is one of these).
    public var claimedGroups: [Int] {
        get { rarelySet.value.claimedGroups }
        set { rarelySet = rarelySet.with { $0.claimedGroups = newValue } }
    }
    public var numaNode: Int?
    /// `reset_method`: `nil` when the file is absent (older kernels), `[]` when it is empty.
    public var resetMethods: [String]?
    /// Where `resetMethods` comes from: the file's text, or its absence on a kernel that shows the file for other functions.
    public var resetMethodsEvidence: String?
    public var bootVGA: Bool?
    /// Why `bootVGA` is unknown for a VGA function (its `boot_vga` missing, unreadable or not 0/1).
    public var bootVGAUnknown: Unknown? {
        get { rarelySet.value.bootVGAUnknown }
        set { rarelySet = rarelySet.with { $0.bootVGAUnknown = newValue } }
    }
    /// Why `resetMethods` is unknown although the file is there (unreadable, not the kernel's method names).
    public var resetMethodsUnknown: Unknown? {
        get { rarelySet.value.resetMethodsUnknown }
        set { rarelySet = rarelySet.with { $0.resetMethodsUnknown = newValue } }
    }
    public var d3coldAllowed: Bool?
    public var link = LinkState()
    /// The name of the physical slot (`bus/pci/slots/<name>/address`).
    public var physicalSlot: String?
    public var sriov: SRIOVRole = .none
    /// Upstream bridges present in the input, nearest first.
    public var upstream: [PCIAddress] = []
    /// Where the function sits. On sysfs the canonical path says it; in a dump the bridges' bus numbers
    /// and the PCI Express port type do, and a parent that is not in the dump leaves it unknown.
    public var position: Fact<Position> = .unknown("the input does not show the function's parent", remedy: "read the host's sysfs")
    /// What kind of input the function was read from.
    public var provenance: Provenance = .snapshot
    /// Root-relative canonical sysfs directory, `nil` for dumps.
    public var sysfsPath: String?
    /// Address ranges from sysfs `resource` (index 0–5 BARs, 6 ROM, 7+ bridge windows and SR-IOV BARs),
    /// read when capabilities are decoded; only the lines in use are kept (an absent one is size 0, unused).
    public var resources: [ResourceRange] = []
    /// Whether `resource` was read (a dump has no BAR sizes).
    public var resourcesRead = false
    /// Why the BAR sizes are unknown although the input has them (a damaged `resource`, a dump's Region line that
    /// disagrees with the hex).
    public var resourcesUnknown: Unknown? {
        get { rarelySet.value.resourcesUnknown }
        set { rarelySet = rarelySet.with { $0.resourcesUnknown = newValue } }
    }
    /// The bytes a dump gave for this function (dumps only: a live host is read on demand).
    public var rawConfig: [UInt8]? {
        get { rarelySet.value.rawConfig }
        set { rarelySet = rarelySet.with { $0.rawConfig = newValue } }
    }
    /// What the host does with the function (interfaces, block devices, displays), as far as the input shows.
    public var hostUse: Fact<HostUse> = .unknown("the input holds no sysfs tree below the function", remedy: "run vfio-inspect on the host, or on a snapshot of it")
    public var diagnostics: [Diagnostic] = []

    /// Bit 7 of header-type byte 0x0e (`false` when unreadable; see `multifunctionUnknown`).
    public var multifunctionBit: Bool { header?.multifunction ?? false }
    /// Why the multifunction bit is unknown although the header's other registers are known: lspci's text never
    /// prints the header-type register, so a function 0 whose listing shows no other function of its slot may or may
    /// not set it. (Functions above 0 imply it: the kernel scans them only behind a function 0 that sets it.)
    public var multifunctionUnknown: Unknown? {
        get { rarelySet.value.multifunctionUnknown }
        set { rarelySet = rarelySet.with { $0.multifunctionUnknown = newValue } }
    }
    /// Why the interrupt pin is unknown for a function read from lspci's -vv text without an `Interrupt:` line (the
    /// rebuilt header holds pin A then, the worst case).
    public var interruptPinUnknown: Unknown? {
        get { rarelySet.value.interruptPinUnknown }
        set { rarelySet = rarelySet.with { $0.interruptPinUnknown = newValue } }
    }
    /// Bus numbers a bridge's text gives (`Bus: primary=…` of lspci -v, a `-tv` tree) when its header is not rebuilt.
    public var declaredBusNumbers: BridgeBusNumbers? {
        get { rarelySet.value.declaredBusNumbers }
        set { rarelySet = rarelySet.with { $0.declaredBusNumbers = newValue } }
    }
    /// A bridge's primary, secondary and subordinate bus: from its header, else from what the input declares.
    public var bridgeBusNumbers: BridgeBusNumbers? { header?.busNumbers ?? declaredBusNumbers }
    /// Why config space beyond the IDs is unknown for a function read from lspci's text (`-v` names capabilities without
    /// their registers; `-nnk`, listings and trees print none; `<access denied>`; a capability whose lines are missing).
    public var configGap: Unknown? {
        get { rarelySet.value.configGap }
        set { rarelySet = rarelySet.with { $0.configGap = newValue } }
    }
    /// The kernel's modalias of the function (`pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X`, pci_uevent), `nil`
    /// while its subsystem IDs are unknown.
    public var modalias: String? {
        guard let sv = subsystemVendorID, let sd = subsystemDeviceID else { return nil }
        func h(_ v: UInt32, _ width: Int) -> String {
            let digits = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let c = classCode.rawValue
        return "pci:v\(h(UInt32(vendorID), 8))d\(h(UInt32(deviceID), 8))sv\(h(UInt32(sv), 8))sd\(h(UInt32(sd), 8))bc\(h(c >> 16 & 0xff, 2))sc\(h(c >> 8 & 0xff, 2))i\(h(c & 0xff, 2))"
    }
    public var headerLayout: HeaderLayout? { header?.layout }
    public var isBridge: Bool {
        if let layout = header?.layout { return layout == .bridge || layout == .cardBus }
        return classCode.isPCIBridge
    }
    public var isVirtualFunction: Bool {
        switch sriov {
        case .virtualFunction, .detachedVirtualFunction: true
        default: false
        }
    }
    public var physicalFunction: PCIAddress? {
        if case let .virtualFunction(pf) = sriov { pf } else { nil }
    }
    public var virtualFunctions: [PCIAddress] {
        if case let .physicalFunction(state) = sriov { state.virtualFunctions } else { [] }
    }
    public var sriovPhysicalState: SRIOVPhysicalState? {
        if case let .physicalFunction(state) = sriov { state } else { nil }
    }

    /// Why the capability list is not known (`nil` when it was read to its end or does not exist).
    public var capabilitiesUnknown: Unknown? {
        if let configUnusable { return configUnusable }
        if let configGap, config == nil || config?.capabilityCoverage == .unreadable { return configGap }
        guard let config else {
            let reason = header == nil
                ? "only \(configBytesReadable) config bytes of \(address) are readable: not even the 64-byte header"
                : "the capabilities of \(address) were not decoded"
            return Unknown(reason, remedy: provenance.configRemedy)
        }
        // A PCI Express capability cut off by the input's end: the port type, FLR and extended space are all
        // unknown (not "conventional PCI", which the list read to its end would otherwise say).
        if let express = config.capability(.pciExpress), express.body == .truncated {
            return Unknown("the PCI Express capability of \(address) at 0x\(hex(express.offset, 2)) extends past the \(configBytesReadable) config bytes the input holds",
                           remedy: provenance.configRemedy)
        }
        guard config.capabilityCoverage == .unreadable else { return nil }
        return Unknown("the capability list of \(address) lies beyond the \(configBytesReadable) config bytes the input holds", remedy: provenance.configRemedy)
    }

    /// The PCI Express capability's device/port type; `.known(nil)` for a conventional PCI or PCI-X function
    /// (its capability list was read to the end without a PCI Express capability).
    public var portType: Fact<PCIExpress.PortType?> {
        if let configUnusable { return .unknown(configUnusable) }
        if let express = config?.pciExpress {
            return .known(express.portType, evidence: "PCI Express capability: \(express.portType.name)")
        }
        if let unknown = capabilitiesUnknown { return .unknown(unknown) }
        if header?.hasCapabilityList == false {
            return .known(nil, evidence: "no capability list (status bit 4 clear): conventional PCI")
        }
        return .known(nil, evidence: "capability list read to its end without a PCI Express capability: conventional PCI or PCI-X")
    }

    /// The ACS extended capability; `.known(nil)` when extended space was read to its end without one,
    /// or the function has no extended space (conventional PCI).
    public var acsCapability: Fact<ACS?> {
        if let configUnusable { return .unknown(configUnusable) }
        if let acs = config?.acs { return .known(acs, evidence: "ACS capability read") }
        if let unknown = capabilitiesUnknown { return .unknown(unknown) }
        guard let config else { return .unknown("config space of \(address) was not decoded", remedy: provenance.configRemedy) }
        switch config.extendedCoverage {
        case .complete:
            return .known(nil, evidence: "extended capability chain read to its end without ACS")
        case .notImplemented:
            return .known(nil, evidence: "no PCI Express capability, so no extended config space")
        case .unreadable:
            if let configGap { return .unknown(configGap) }
            return .unknown("extended config space (0x100 and up) of \(address) is beyond the \(configBytesReadable) bytes the input holds, so its ACS capability is unknown",
                            remedy: provenance.configRemedy)
        }
    }
}

public struct IOMMUGroup: Hashable, Sendable {
    public var id: Int
    public var members: [PCIAddress]
    /// `DMA`, `DMA-FQ`, `identity`, `blocked` (the group's default domain type), when the kernel says.
    public var type: String?
    /// `reserved_regions`, as the kernel prints it (`start end type` per line; iommu_group_show_resv_regions).
    /// Unknown when the input lacks it (a dump, groups taken from device links) or it is damaged (not a regular
    /// file, a line not in the kernel's format): never read as "no firmware 1:1 mapping".
    public var reservedRegions: Fact<String> = .unknown("the input does not show this group's reserved_regions",
                                                        remedy: "read sys/kernel/iommu_groups/N/reserved_regions on the host (a snapshot has it)")
    /// Why the input's account of this group is inconsistent (its members' links name it, the listing does not).
    public var inconsistency: String?

    public init(id: Int, members: [PCIAddress], type: String? = nil) {
        self.id = id
        self.members = members
        self.type = type
    }
}

/// One IOMMU hardware unit from `class/iommu`.
public struct IOMMUUnit: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case intelVTd = "intel-vt-d"
        case amdVi = "amd-vi"
        case other
    }

    public var name: String
    public var kind: Kind
    /// Raw capability registers as the kernel prints them (hex), e.g. `intel-iommu/cap`, `ecap`; `amd-iommu/cap`, `features`.
    public var registers: [String: String] = [:]
    /// The PCI function that implements the unit (AMD-Vi units are PCI functions).
    public var pciFunction: PCIAddress?
}

public struct MountEntry: Hashable, Sendable {
    public var source: String
    public var mountPoint: String
    public var fsType: String
}

/// A process that holds a VFIO device open: a VM, usually.
public struct VFIOUser: Hashable, Sendable {
    public var pid: Int
    /// `proc/PID/comm`.
    public var command: String?
    /// What the open descriptor names: `/dev/vfio/N` (a group) or `/dev/vfio/devices/vfioN` (a device, iommufd).
    public var device: String
}

/// The kernel and userspace facts that go with the PCI tree.
public struct HostEnvironment: Hashable, Sendable {
    public var kernelCommandLine: Fact<String> = .unknown("the input holds no kernel command line", remedy: "read proc/cmdline of the host")
    public var loadedModules: Fact<[String]> = .unknown("the input holds no module list", remedy: "read proc/modules of the host")
    public var mounts: Fact<[MountEntry]> = .unknown("the input holds no mount table", remedy: "read proc/mounts of the host")
    /// Active swap devices (`proc/swaps`, first column).
    public var swaps: Fact<[String]> = .unknown("the input holds no swap table", remedy: "read proc/swaps of the host")
    /// Processes holding VFIO groups or devices open (`proc/PID/fd` links into /dev/vfio), as `fuser` finds them.
    public var vfioUsers: Fact<[VFIOUser]> = .unknown("the input holds no process table", remedy: "run on the host as root, or take a snapshot with `vfio-inspect snapshot`")
    /// The running kernel's release (`proc/sys/kernel/osrelease`).
    public var kernelRelease: String?
    /// The host's name (`proc/sys/kernel/hostname`), when the input holds it.
    public var hostName: String?
    /// The firmware's ACPI tables by name (`sys/firmware/acpi/tables`: IVRS means AMD-Vi, DMAR Intel VT-d).
    public var acpiTables: Fact<Set<String>> = .unknown("the input does not show the firmware's ACPI tables", remedy: "read sys/firmware/acpi/tables of the host (a snapshot made by this version keeps IVRS and DMAR)")
    /// IOMMU units from `class/iommu`; `nil` when the input cannot show them (a dump).
    public var iommuUnits: [IOMMUUnit] = []
    /// Whether the kernel's IOMMU groups are known, and where they come from.
    /// Set when the input may hold only some members of the groups it names (a dump filtered with `-s` or `-d`).
    public var groupMembershipIncomplete: Unknown?
    public var groupSource: GroupSource = .none(Unknown("the input holds no IOMMU groups", remedy: "read sys/kernel/iommu_groups of the host"))
    /// Drivers registered on the PCI bus (`bus/pci/drivers`), whether built in or loaded.
    public var pciDrivers: [String]?
    /// Module parameters that decide VFIO's safety, `module/parameter` → value (e.g. `vfio_iommu_type1/allow_unsafe_interrupts`).
    public var moduleParameters: [String: String] = [:]

    /// The VFIO backends the kernel offers (legacy container, iommufd with the device cdev).
    public var vfioBackends = VFIOBackendFacts()
    /// vfio-pci `ids=` bindings from the kernel command line and modprobe.d: every function with those IDs goes to
    /// vfio-pci at boot, whatever the host uses it for. Unknown when a file that could hold one is unreadable.
    public var vfioPCIIDs: Fact<[VFIOPCIIDMatch]> = .unknown("the input holds neither the kernel command line nor modprobe.d", remedy: "read proc/cmdline and etc/modprobe.d of the host")
    /// The host CPU's physical address width (`/proc/cpuinfo` "address sizes : N bits physical"): what a guest with
    /// host-phys-bits can address.
    public var physicalAddressBits: Fact<Int> = .unknown("the input holds no proc/cpuinfo", remedy: "read proc/cpuinfo of the host, or take a snapshot with this version")
    /// `/proc/iomem`: who claims which physical address range (firmware framebuffers on a GPU's BAR).
    public var iomem: Fact<[IOMemRange]> = .unknown("the input holds no proc/iomem", remedy: "read proc/iomem of the host as root, or take a snapshot as root")

    /// Whether MSI interrupts are remapped: `IR-` interrupt chips in `proc/interrupts`.
    public var remappedInterrupts: Fact<Bool> = .unknown("the input holds no proc/interrupts", remedy: "read proc/interrupts of the host")

    /// Parameters of the command line, `name` → value (`""` when given without `=`). Later ones win.
    /// Empty when the command line is unknown: read `kernelCommandLine` to tell the two apart.
    public var commandLineParameters: [String: String] {
        var result: [String: String] = [:]
        guard let line = kernelCommandLine.value else { return result }
        for word in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            if word == "--" { break }
            // As the kernel parses it (parse_args, parameq): '-' and '_' in a name are the same, and quotes around
            // the value (or the whole word) go.
            let word = word.filter { $0 != "\"" }
            if let eq = word.firstIndex(of: "=") {
                let key = String(word[..<eq]).replacingDashes()
                let value = String(word[word.index(after: eq)...])
                // Options the kernel accumulates keep every value (comma-joined), as it applies them all.
                if (key == "pci" || key == "pcie_acs_override"), let earlier = result[key], !earlier.isEmpty {
                    result[key] = earlier + "," + value
                } else {
                    result[key] = value
                }
            } else {
                result[String(word).replacingDashes()] = ""
            }
        }
        return result
    }
}

/// Where the kernel's IOMMU groups come from, or why they are not known.
public enum GroupSource: Hashable, Sendable {
    /// `sys/kernel/iommu_groups/N/devices`.
    case groupDirectory
    /// Per-device `iommu_group` links (a partial tree without `sys/kernel/iommu_groups`).
    case deviceLinks
    /// A dump's `IOMMU group: N` lines (lspci 3.7+ prints them on the live machine).
    case dumpLines
    /// The input shows that the kernel made no groups (with the evidence).
    case noneMade(evidence: [String])
    /// The input cannot say.
    case none(Unknown)

    /// Where the groups were read, for evidence.
    public var label: String {
        switch self {
        case .groupDirectory: "sys/kernel/iommu_groups"
        case .deviceLinks: "the devices' iommu_group links"
        case .dumpLines: "the dump's IOMMU group lines"
        case .noneMade: "no groups made"
        case .none: "groups unknown"
        }
    }

    /// Whether the kernel's groups are in the input.
    public var isKnown: Bool {
        switch self {
        case .groupDirectory, .deviceLinks, .dumpLines: true
        case .noneMade, .none: false
        }
    }
}

/// Where the model came from.
public enum HostSource: Hashable, Sendable, CustomStringConvertible {
    case sysfs(root: String)
    case dump(path: String)

    public var description: String {
        switch self {
        case let .sysfs(root): "sysfs under \(root)"
        case let .dump(path): "config-space dump \(path)"
        }
    }
}

/// Every function of a host, in address order, with groups and the host's environment.
public struct HostModel: Sendable {
    public var source: HostSource
    public private(set) var functions: [PCIFunction]
    public private(set) var groups: [IOMMUGroup]
    public var environment: HostEnvironment
    public var diagnostics: [Diagnostic]
    /// Functions the input names but the scan could not read (a link loop, an unreadable directory):
    /// any group they belong to is incomplete.
    public var skippedFunctions: [PCIAddress] = []
    private var index: [PCIAddress: Int]

    /// `functions` is taken over and sorted in place (a caller that keeps no copy of it pays for no second array).
    public init(source: HostSource, functions: consuming [PCIFunction], groups: [IOMMUGroup], environment: HostEnvironment, diagnostics: [Diagnostic]) {
        self.source = source
        var functions = functions
        // Sorted already (the scan reads in address order): no mutation, so no copy of a shared array.
        if functions.indices.dropFirst().contains(where: { functions[$0].address < functions[$0 - 1].address }) {
            functions.sort { $0.address < $1.address }
        }
        self.functions = functions
        self.groups = groups.sorted { $0.id < $1.id }
        self.environment = environment
        self.diagnostics = diagnostics
        var index: [PCIAddress: Int] = [:]
        var busIndex: [PCISlotAddress: [Int]] = [:]
        var slotIndex: [PCISlotAddress: [Int]] = [:]
        for (i, f) in self.functions.enumerated() {
            index[f.address] = i
            busIndex[PCISlotAddress(domain: f.address.domain, bus: f.address.bus, device: 0), default: []].append(i)
            slotIndex[f.address.slot, default: []].append(i)
        }
        self.slotIndex = slotIndex
        self.index = index
        self.busIndex = busIndex
        var subtree: [PCIAddress: [Int]] = [:]
        for (i, f) in self.functions.enumerated() {
            for bridge in f.upstream { subtree[bridge, default: []].append(i) }
        }
        self.subtreeIndex = subtree
        var byMember: [PCIAddress: [Int]] = [:]
        var nodes = Set(self.groups.map { "/dev/vfio/\($0.id)" })
        for g in self.groups { for m in g.members { byMember[m, default: []].append(g.id) } }
        for f in self.functions {
            if let d = f.vfioRegistration { nodes.insert("/dev/vfio/devices/" + d.name) }
            if let g = f.iommuGroup { nodes.insert("/dev/vfio/\(g)") }
        }
        self.groupIDsByMember = byMember
        self.vfioNodes = nodes
    }

    /// The groups whose listing names each address (one pass over the groups, so rules never scan them per function).
    public private(set) var groupIDsByMember: [PCIAddress: [Int]] = [:]
    /// Every /dev/vfio node the input can attribute: each group's, each function's group's, each VFIO device cdev.
    public private(set) var vfioNodes: Set<String> = []

    public func function(_ address: PCIAddress) -> PCIFunction? {
        index[address].map { functions[$0] }
    }

    /// The functions of `slot` (domain:bus:device, at most eight), in address order: copied per call, not
    /// held per slot.
    public func functions(inSlot slot: PCISlotAddress) -> [PCIFunction] {
        (slotIndex[slot] ?? []).map { functions[$0] }
    }

    /// The functions of `slot` that satisfy `predicate`, in slot order: each is tested in place and only a match is
    /// copied (a function is some 600 bytes of counted references; rules ask this of every VF's slot).
    public func functions(inSlot slot: PCISlotAddress, where predicate: (PCIFunction) -> Bool) -> [PCIFunction] {
        var matches: [PCIFunction] = []
        for i in slotIndex[slot] ?? [] where predicate(functions[i]) { matches.append(functions[i]) }
        return matches
    }

    /// Whether some function of `slot` satisfies `predicate`, each tested in place.
    public func containsFunction(inSlot slot: PCISlotAddress, where predicate: (PCIFunction) -> Bool) -> Bool {
        (slotIndex[slot] ?? []).contains { predicate(functions[$0]) }
    }
    private var slotIndex: [PCISlotAddress: [Int]] = [:]
    private var busIndex: [PCISlotAddress: [Int]] = [:]
    private var subtreeIndex: [PCIAddress: [Int]] = [:]

    /// The first answer `transform` gives for a function below `bridge`, in subtree order; the functions are
    /// read in place (no copies: on SR-IOV hosts every VF asks this of its bus).
    public func firstBelow<T>(_ bridge: PCIAddress, _ transform: (PCIFunction) -> T?) -> T? {
        for i in subtreeIndex[bridge] ?? [] {
            if let t = transform(functions[i]) { return t }
        }
        return nil
    }

    /// The addresses on the bus of `address` other than `except` (no copies).
    public func addresses(onBusOf address: PCIAddress, except: PCIAddress) -> [PCIAddress] {
        (busIndex[PCISlotAddress(domain: address.domain, bus: address.bus, device: 0)] ?? []).map { functions[$0].address }.filter { $0 != except }
    }

    /// The addresses of `functions(below:)`, without copying the functions.
    public func addresses(below bridge: PCIAddress) -> [PCIAddress] {
        (subtreeIndex[bridge] ?? []).map { functions[$0].address }
    }

    /// Every function below `bridge` (its whole subtree), in address order.
    public func functions(below bridge: PCIAddress) -> [PCIFunction] {
        (subtreeIndex[bridge] ?? []).map { functions[$0] }
    }

    /// Functions on one bus (domain and bus of `address`), in address order.
    public func functions(onBusOf address: PCIAddress) -> [PCIFunction] {
        (busIndex[PCISlotAddress(domain: address.domain, bus: address.bus, device: 0)] ?? []).map { functions[$0] }
    }

    /// The same host with only `addresses` (and the groups that hold them): for views of part of a host.
    public func restricted(to addresses: Set<PCIAddress>) -> HostModel {
        var copy = HostModel(source: source, functions: functions.filter { addresses.contains($0.address) },
                             groups: groups.filter { $0.members.contains(where: addresses.contains) },
                             environment: environment, diagnostics: diagnostics)
        copy.skippedFunctions = skippedFunctions
        return copy
    }

    /// Whether `f`'s IOMMU group (or that it has none) is known: a group number the listing agrees with, or a
    /// kernel that made groups and none holds it. Unknown: a dump without its group line, a snapshot without
    /// groups, or a group link and listing that disagree.
    public func groupKnown(_ f: PCIFunction) -> Bool {
        if f.diagnostics.contains(where: { $0.code == "group-inconsistent" }) { return false }
        if f.iommuGroup != nil { return environment.groupSource.isKnown }
        switch environment.groupSource {
        case .groupDirectory, .deviceLinks, .noneMade: return environment.groupMembershipIncomplete == nil
        case .dumpLines, .none: return false
        }
    }

    public func functions(matching selector: PCISelector) -> [PCIFunction] {
        functions.filter { selector.matches($0.address) }
    }
}

extension PCIFunction {
    /// Vendor, device, subsystem and class names from pci.ids, as lspci shows them.
    mutating func takeNames(from names: PCIIDDatabase) {
        // A pci.ids file given with --pci-ids is input like any other: its names are escaped for the terminal.
        vendorName = names.vendor(vendorID).map(TerminalSafe.escape)
        deviceName = names.device(vendor: vendorID, device: deviceID).map(TerminalSafe.escape)
        if let sv = subsystemVendorID, let sd = subsystemDeviceID, sv != 0 || sd != 0 {
            subsystemName = names.subsystem(vendor: vendorID, device: deviceID, subsystemVendor: sv, subsystemDevice: sd).map(TerminalSafe.escape)
            subsystemVendorName = names.subsystemVendor(sv).map(TerminalSafe.escape)
        }
        className = names.deviceClass(classCode.deviceClass).map(TerminalSafe.escape)
    }
}

/// One line of sysfs `resource`: start, end and flags of a region (all zero when unused).
public struct ResourceRange: Hashable, Sendable {
    public let index: Int
    public let start: UInt64
    public let end: UInt64
    public let flags: UInt64

    /// One line of `resource`: its index (0–5 BARs, 6 ROM, 7+ windows and SR-IOV BARs), first and last address, flags.
    public init(index: Int, start: UInt64, end: UInt64, flags: UInt64) {
        self.index = index
        self.start = start
        self.end = end
        self.flags = flags
    }

    public var size: UInt64 { end >= start && (start != 0 || end != 0) ? (end - start).addingReportingOverflow(1).overflow ? .max : end - start + 1 : 0 }
    /// `IORESOURCE_MEM_64`
    public var is64Bit: Bool { flags & 0x0010_0000 != 0 }
    /// `IORESOURCE_PREFETCH`
    public var prefetchable: Bool { flags & 0x2000 != 0 }
    /// `IORESOURCE_IO`
    public var isIO: Bool { flags & 0x100 != 0 }

    /// The kernel's own `resource` file (resource_show): the 6 BARs, the ROM and the rest, one line each of three
    /// `0x%016llx` fields, start ≤ end unless both are 0. `nil` for anything else: its BARs are unknown.
    public static func parseStrict(_ text: String) -> [ResourceRange]? {
        // One pass over the bytes: every non-empty line is exactly `0x%016llx 0x%016llx 0x%016llx` (resource_show),
        // 3 × 18 bytes and 2 spaces; a line's index counts the newlines before it.
        var text = text
        return text.withUTF8 { bytes -> [ResourceRange]? in
            var result: [ResourceRange] = []
            result.reserveCapacity(17)
            var line = 0
            var i = 0
            while i < bytes.count {
                if bytes[i] == 0x0a { line += 1; i += 1; continue }
                guard bytes.count - i >= 56, bytes.count - i == 56 || bytes[i + 56] == 0x0a else { return nil }
                // Field f: `0x`, 16 hex digits, then a space unless it is the last.
                func field(_ f: Int) -> UInt64? {
                    let s = i + f * 19
                    guard bytes[s] == 0x30, bytes[s + 1] == 0x78, f == 2 || bytes[s + 18] == 0x20 else { return nil }
                    var v: UInt64 = 0
                    for k in s + 2 ..< s + 18 {
                        guard let d = hexDigitValue(bytes[k]) else { return nil }
                        v = v << 4 | UInt64(d)
                    }
                    return v
                }
                // start ≤ end unless both are 0.
                guard let start = field(0), let end = field(1), let flags = field(2), start <= end || (start == 0 && end == 0) else { return nil }
                result.append(ResourceRange(index: line, start: start, end: end, flags: flags))
                i += 56
            }
            // resource_show writes PCI_BRIDGE_RESOURCES lines for an endpoint (7, or 13 with SR-IOV's) and
            // DEVICE_COUNT_RESOURCE for a bridge (11, or 17): any other count is a damaged copy.
            guard [7, 11, 13, 17].contains(result.count) else { return nil }
            return result
        }
    }

    /// Whether the range lies above 4 GiB or is at least 4 GiB: only a 64-bit BAR can be either.
    public var needs64Bit: Bool { is64Bit || end >= 1 << 32 || size >= 1 << 32 }
}


extension String {
    /// A kernel parameter name with '-' read as '_' (the kernel's parameq treats them alike).
    func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
