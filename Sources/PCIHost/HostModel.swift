import PCIConfigSpace
import PCILibPCI

/// Something worth telling about one function or the host that is not a verdict:
/// a file that could not be read, a link refused, an inconsistency between sources.
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: String
    public let message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// PCI Express link state from sysfs (`current_link_speed` and friends).
public struct LinkState: Hashable, Sendable {
    public var currentSpeed: String?
    public var currentWidth: Int?
    public var maxSpeed: String?
    public var maxWidth: Int?

    public var isEmpty: Bool { currentSpeed == nil && currentWidth == nil && maxSpeed == nil && maxWidth == nil }
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
    case physicalFunction(SRIOVPhysicalState)
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

    public var isEmpty: Bool {
        netInterfaces.isEmpty && blockDevices.isEmpty && drmDevices.isEmpty && framebuffers.isEmpty
    }
}

/// One PCI function as the host shows it.
public struct PCIFunction: Hashable, Sendable {
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
    /// Capabilities and the rest of config space, when the scan was asked to decode them.
    public var config: DecodedConfigSpace?
    public var configBytesReadable: Int
    /// The size the source claims for config space (the sysfs file size; the dump length).
    public var configSize: Int

    public var vendorName: String?
    public var deviceName: String?
    public var subsystemName: String?
    public var className: String?

    public var driver: String?
    public var driverOverride: String?
    public var iommuGroup: Int?
    public var numaNode: Int?
    /// `reset_method`: `nil` when the file is absent (older kernels), `[]` when it is empty.
    public var resetMethods: [String]?
    public var bootVGA: Bool?
    public var d3coldAllowed: Bool?
    public var link = LinkState()
    /// The name of the physical slot (`bus/pci/slots/<name>/address`).
    public var physicalSlot: String?
    public var sriov: SRIOVRole = .none
    /// Upstream bridges, nearest first.
    public var upstream: [PCIAddress] = []
    /// Root-relative canonical sysfs directory, `nil` for dumps.
    public var sysfsPath: String?
    /// Address ranges from sysfs `resource` (index 0–5 BARs, 6 ROM, 7+ bridge windows and SR-IOV BARs),
    /// read when capabilities are decoded.
    public var resources: [ResourceRange] = []
    /// The bytes a dump gave for this function (dumps only: a live host is read on demand).
    public var rawConfig: [UInt8]?
    public var hostUse = HostUse()
    public var diagnostics: [Diagnostic] = []

    /// Bit 7 of header-type byte 0x0e (`false` when unreadable).
    public var multifunctionBit: Bool { header?.multifunction ?? false }
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
}

public struct IOMMUGroup: Hashable, Sendable {
    public var id: Int
    public var members: [PCIAddress]
    /// `DMA`, `DMA-FQ`, `identity`, `blocked` (the group's default domain type), when the kernel says.
    public var type: String?
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

/// The kernel and userspace facts that go with the PCI tree.
public struct HostEnvironment: Hashable, Sendable {
    public var kernelCommandLine: String?
    public var loadedModules: [String]?
    public var mounts: [MountEntry]?
    public var iommuUnits: [IOMMUUnit] = []
    /// Whether `kernel/iommu_groups` exists at all.
    public var iommuGroupsDirectoryPresent = false
    /// Drivers registered on the PCI bus (`bus/pci/drivers`), whether built in or loaded.
    public var pciDrivers: [String]?
    /// Module parameters that decide VFIO's safety, `module/parameter` → value (e.g. `vfio_iommu_type1/allow_unsafe_interrupts`).
    public var moduleParameters: [String: String] = [:]

    /// Parameters of the command line, `name` → value (`""` when given without `=`). Later ones win.
    public var commandLineParameters: [String: String] {
        var result: [String: String] = [:]
        guard let line = kernelCommandLine else { return result }
        for word in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            if word == "--" { break }
            if let eq = word.firstIndex(of: "=") {
                result[String(word[..<eq])] = String(word[word.index(after: eq)...])
            } else {
                result[String(word)] = ""
            }
        }
        return result
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
    private var index: [PCIAddress: Int]

    public init(source: HostSource, functions: [PCIFunction], groups: [IOMMUGroup], environment: HostEnvironment, diagnostics: [Diagnostic]) {
        self.source = source
        self.functions = functions.sorted { $0.address < $1.address }
        self.groups = groups.sorted { $0.id < $1.id }
        self.environment = environment
        self.diagnostics = diagnostics
        var index: [PCIAddress: Int] = [:]
        var busIndex: [PCISlotAddress: [Int]] = [:]
        for (i, f) in self.functions.enumerated() {
            index[f.address] = i
            busIndex[PCISlotAddress(domain: f.address.domain, bus: f.address.bus, device: 0), default: []].append(i)
        }
        self.index = index
        self.busIndex = busIndex
        self.slots = Dictionary(grouping: self.functions, by: { $0.address.slot })
    }

    public func function(_ address: PCIAddress) -> PCIFunction? {
        index[address].map { functions[$0] }
    }

    /// Functions grouped by slot (domain:bus:device), in address order.
    public private(set) var slots: [PCISlotAddress: [PCIFunction]] = [:]
    private var busIndex: [PCISlotAddress: [Int]] = [:]

    /// Functions on one bus (domain and bus of `address`), in address order.
    public func functions(onBusOf address: PCIAddress) -> [PCIFunction] {
        (busIndex[PCISlotAddress(domain: address.domain, bus: address.bus, device: 0)] ?? []).map { functions[$0] }
    }

    public func functions(matching selector: PCISelector) -> [PCIFunction] {
        functions.filter { selector.matches($0.address) }
    }
}

extension PCIFunction {
    /// Vendor, device, subsystem and class names from pci.ids, as lspci shows them.
    mutating func takeNames(from names: PCIIDDatabase) {
        vendorName = names.vendor(vendorID)
        deviceName = names.device(vendor: vendorID, device: deviceID)
        if let sv = subsystemVendorID, let sd = subsystemDeviceID, sv != 0 || sd != 0 {
            subsystemName = names.subsystem(vendor: vendorID, device: deviceID, subsystemVendor: sv, subsystemDevice: sd)
        }
        className = names.deviceClass(classCode.deviceClass)
    }
}

/// One line of sysfs `resource`: start, end and flags of a region (all zero when unused).
public struct ResourceRange: Hashable, Sendable {
    public let index: Int
    public let start: UInt64
    public let end: UInt64
    public let flags: UInt64

    public var size: UInt64 { end >= start && (start != 0 || end != 0) ? end - start + 1 : 0 }
    /// `IORESOURCE_MEM_64`
    public var is64Bit: Bool { flags & 0x0010_0000 != 0 }
    /// `IORESOURCE_PREFETCH`
    public var prefetchable: Bool { flags & 0x2000 != 0 }
    /// `IORESOURCE_IO`
    public var isIO: Bool { flags & 0x100 != 0 }

    /// Parses the whole file; malformed lines are skipped.
    public static func parse(_ text: String) -> [ResourceRange] {
        var result: [ResourceRange] = []
        for (i, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: " ")
            guard f.count >= 3, let s = UInt64(f[0].dropFirst(2), radix: 16), let e = UInt64(f[1].dropFirst(2), radix: 16),
                  let fl = UInt64(f[2].dropFirst(2), radix: 16) else { continue }
            result.append(ResourceRange(index: i, start: s, end: e, flags: fl))
        }
        return result
    }
}
