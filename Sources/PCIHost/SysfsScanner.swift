import PCIConfigSpace
import PCILibPCI

/// Why a whole scan could not produce a model.
public enum HostScanError: Error, Hashable, Sendable, CustomStringConvertible {
    case rootMissing(String)
    case notSysfsRoot(String, reason: String)
    case linksFlattened(String, example: String)
    case dumpUnreadable(String, reason: String)
    case dumpEmpty(String)
    case dumpWithoutConfig(String, functions: Int)

    public var description: String {
        switch self {
        case let .rootMissing(root):
            "the root \(root) does not exist or is not a directory"
        case let .notSysfsRoot(root, reason):
            "\(root) does not look like a Linux root with sysfs: \(reason). Pass --root DIR where DIR/sys/bus/pci/devices exists (a snapshot made by `vfio-inspect snapshot`, or / for this host)"
        case let .linksFlattened(root, example):
            "\(root) holds plain files where sysfs has symbolic links (e.g. \(example)); the snapshot was copied without links. Copy it again with `cp -a`, `tar` or `vfio-inspect snapshot`"
        case let .dumpUnreadable(path, reason):
            "cannot read the dump \(path): \(reason)"
        case let .dumpWithoutConfig(path, count):
            "\(path) names \(count) functions but holds no config-space bytes for them (an `lspci -v` listing without -x?); capture it with `lspci -xxxx` or use `vfio-inspect snapshot`"
        case let .dumpEmpty(path):
            "\(path) holds no config-space dump (expected the output of `lspci -x`, `-xxx` or `-xxxx`)"
        }
    }
}

/// Builds a `HostModel` from a sysfs tree under a `HostRoot`.
/// What a scan reads beyond the header.
public struct ScanOptions: Sendable {
    /// Walk and decode the capability chains (each read is a bus transaction on a live host).
    public var decodeCapabilities: Bool

    public init(decodeCapabilities: Bool = false) {
        self.decodeCapabilities = decodeCapabilities
    }
}

public struct SysfsScanner {
    public let root: HostRoot
    public let names: PCIIDDatabase?
    public let options: ScanOptions

    public init(root: HostRoot, names: PCIIDDatabase? = nil, options: ScanOptions = ScanOptions()) {
        self.root = root
        self.names = names
        self.options = options
    }

    static let devicesDir = "sys/bus/pci/devices"

    public func scan() throws(HostScanError) -> HostModel {
        guard root.isLiveSystem || root.kind("") == .directory else {
            throw .rootMissing(root.description)
        }
        let entries: [String]
        do {
            entries = try root.list(Self.devicesDir)
        } catch {
            throw .notSysfsRoot(root.description, reason: "\(Self.devicesDir): \(error)")
        }
        var hostDiagnostics: [Diagnostic] = []
        var located: [(PCIAddress, String)] = []
        var flattened: [String] = []
        for name in entries {
            let entry = Self.devicesDir + "/" + name
            guard let address = PCIAddress(sysfsName: name) else {
                hostDiagnostics.append(Diagnostic(code: "unexpected-entry", message: "\(entry) is not named like a PCI address; ignored"))
                continue
            }
            if root.kind(entry) == .file {
                flattened.append(entry)
                continue
            }
            do {
                let dir = try root.resolve(entry)
                guard root.kind(dir) == .directory else {
                    hostDiagnostics.append(Diagnostic(code: "unexpected-entry", message: "\(entry) does not lead to a directory; ignored"))
                    continue
                }
                located.append((address, dir))
            } catch {
                hostDiagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(address): \(error); function skipped"))
            }
        }
        if !flattened.isEmpty && located.isEmpty {
            throw .linksFlattened(root.description, example: flattened[0])
        }
        for entry in flattened {
            hostDiagnostics.append(Diagnostic(code: "not-a-link", message: "\(entry) is a plain file, not a link to a device directory; ignored"))
        }

        let physicalSlots = readPhysicalSlots(&hostDiagnostics)
        var functions: [PCIFunction] = []
        functions.reserveCapacity(located.count)
        for (address, dir) in located {
            if let function = readFunction(address, dir: dir, physicalSlots: physicalSlots, hostDiagnostics: &hostDiagnostics) {
                functions.append(function)
            }
        }
        var environment = readEnvironment(&hostDiagnostics)
        let groups = readGroups(&environment, &hostDiagnostics)
        crossCheck(&functions, groups: groups, hostDiagnostics: &hostDiagnostics)
        return HostModel(source: .sysfs(root: root.description), functions: functions, groups: groups,
                         environment: environment, diagnostics: hostDiagnostics)
    }

    // MARK: One function

    func readFunction(_ address: PCIAddress, dir: String, physicalSlots: [PCISlotAddress: String],
                      hostDiagnostics: inout [Diagnostic]) -> PCIFunction? {
        var diagnostics: [Diagnostic] = []
        func attribute(_ name: String) -> String? {
            do {
                return try root.readTextIfPresent(dir + "/" + name, canonicalParent: true)
            } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(name): \(error)"))
                return nil
            }
        }
        func hexAttribute(_ name: String, required: Bool = false) -> UInt32? {
            guard let text = attribute(name) else {
                if required && !diagnostics.contains(where: { $0.message.hasPrefix(name + ":") }) {
                    diagnostics.append(Diagnostic(code: "missing-file", message: "\(name): the kernel always provides this file, but it is missing; config space is used instead"))
                }
                return nil
            }
            guard let value = parseHex(text) else {
                diagnostics.append(Diagnostic(code: "malformed-attribute", message: "\(name) holds '\(text.prefix(40))', not a hex number"))
                return nil
            }
            return value
        }
        func intAttribute(_ name: String) -> Int? {
            guard let text = attribute(name) else { return nil }
            guard let value = Int(text) else {
                diagnostics.append(Diagnostic(code: "malformed-attribute", message: "\(name) holds '\(text.prefix(40))', not a number"))
                return nil
            }
            return value
        }
        func linkName(_ name: String) -> String? {
            let path = dir + "/" + name
            guard let kind = root.kind(path) else { return nil }
            guard kind == .link else {
                diagnostics.append(Diagnostic(code: "not-a-link", message: "\(name) should be a symbolic link but is not"))
                return nil
            }
            do {
                return try root.readLinkText(path).split(separator: "/").last.map(String.init)
            } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(name): \(error)"))
                return nil
            }
        }

        // Config space: the header only (64 bytes); the rest is read on demand by decoders.
        var header: ConfigHeader?
        var decoded: DecodedConfigSpace?
        var readable = 0
        var configSize = 0
        do {
            let config = try SysfsConfigFile(root: root, relative: dir + "/config")
            readable = config.readableCount
            configSize = config.fileSize
            do {
                if options.decodeCapabilities {
                    let d = try ConfigSpaceDecoder.decode(config)
                    decoded = d
                    header = d.header
                } else {
                    header = try ConfigHeader(from: config)
                }
            } catch {
                diagnostics.append(Diagnostic(code: "config-truncated",
                    message: "only \(readable) bytes of config space are readable; the 64-byte header is incomplete"))
            }
            if readable < configSize && readable >= 64 {
                diagnostics.append(Diagnostic(code: "config-limited",
                    message: "only \(readable) of \(configSize) config bytes are readable (run as root to see capabilities)"))
            } else if let header, header.hasCapabilityList, readable <= 64 {
                diagnostics.append(Diagnostic(code: "config-limited",
                    message: "the function has a capability list but only \(readable) config bytes were captured; its capabilities are unknown"))
            }
            if let failure = config.readFailure {
                diagnostics.append(Diagnostic(code: failure.diagnosticCode, message: "config: \(failure)"))
            }
        } catch {
            if error.isMissing && root.kind(dir) == nil {
                hostDiagnostics.append(Diagnostic(code: "vanished", message: "\(address) disappeared while it was being read (hot-unplugged, or its VFs were disabled); left out"))
                return nil
            }
            diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "config: \(error)"))
        }

        let sysVendor = hexAttribute("vendor", required: true).map { UInt16(truncatingIfNeeded: $0) }
        let sysDevice = hexAttribute("device", required: true).map { UInt16(truncatingIfNeeded: $0) }
        let sysClass = hexAttribute("class", required: true)
        let sysRevision = hexAttribute("revision").map { UInt8(truncatingIfNeeded: $0) }
        let sysSubVendor = hexAttribute("subsystem_vendor").map { UInt16(truncatingIfNeeded: $0) }
        let sysSubDevice = hexAttribute("subsystem_device").map { UInt16(truncatingIfNeeded: $0) }

        if header == nil && sysVendor == nil && root.kind(dir) == nil {
            hostDiagnostics.append(Diagnostic(code: "vanished", message: "\(address) disappeared while it was being read; left out"))
            return nil
        }
        guard let vendorID = sysVendor ?? header?.vendorID, let deviceID = sysDevice ?? header?.deviceID else {
            hostDiagnostics.append(Diagnostic(code: "unidentifiable", message: "\(address): neither sysfs nor config space gives its vendor and device IDs; left out"))
            return nil
        }
        if let header, let sysVendor, !header.idsReadAllOnes, header.vendorID != sysVendor || header.deviceID != (sysDevice ?? header.deviceID) {
            diagnostics.append(Diagnostic(code: "id-mismatch",
                message: "config space says \(hex(header.vendorID, 4)):\(hex(header.deviceID, 4)) but sysfs says \(hex(vendorID, 4)):\(hex(deviceID, 4)) (a kernel quirk may rewrite IDs); sysfs is used"))
        }

        var function = PCIFunction(
            address: address,
            vendorID: vendorID, deviceID: deviceID,
            subsystemVendorID: sysSubVendor ?? header?.subsystemVendorID,
            subsystemDeviceID: sysSubDevice ?? header?.subsystemID,
            classCode: sysClass.map { ClassCode(rawValue: $0) } ?? header?.classCode ?? ClassCode(rawValue: 0xff_0000),
            revision: sysRevision ?? header?.revision ?? 0,
            header: header,
            configBytesReadable: readable,
            configSize: configSize)
        function.sysfsPath = dir
        function.config = decoded
        if options.decodeCapabilities, let text = attribute("resource") {
            function.resources = ResourceRange.parse(text)
        }
        if let decoded {
            // A VF's ID registers read ffff by design; that is not a problem to report.
            diagnostics += decoded.diagnostics.filter { $0.code != "config-all-ones" || sysVendor == nil }
                .map { Diagnostic(code: $0.code, message: $0.message) }
        }
        function.driver = linkName("driver")
        if let override = attribute("driver_override"), override != "(null)", !override.isEmpty {
            function.driverOverride = override
        }
        if let group = linkName("iommu_group") {
            if let id = Int(group) {
                function.iommuGroup = id
            } else {
                diagnostics.append(Diagnostic(code: "malformed-attribute", message: "iommu_group points to '\(group)', not a group number"))
            }
        }
        if let node = intAttribute("numa_node"), node >= 0 { function.numaNode = node }
        if let methods = attribute("reset_method") {
            function.resetMethods = methods.split(separator: " ").map(String.init)
        }
        function.bootVGA = attribute("boot_vga").map { $0 == "1" }
        function.d3coldAllowed = attribute("d3cold_allowed").map { $0 == "1" }
        function.link = LinkState(
            currentSpeed: attribute("current_link_speed"), currentWidth: intAttribute("current_link_width"),
            maxSpeed: attribute("max_link_speed"), maxWidth: intAttribute("max_link_width"))
        function.physicalSlot = physicalSlots[address.slot]
        function.upstream = Self.upstreamBridges(fromCanonicalPath: dir)
        function.sriov = readSRIOV(dir: dir, header: header, sysVendor: sysVendor, diagnostics: &diagnostics, linkName: linkName, attribute: attribute)
        function.hostUse = readHostUse(dir: dir, diagnostics: &diagnostics)

        if let names { function.takeNames(from: names) }
        function.diagnostics = diagnostics
        return function
    }

    private func readSRIOV(dir: String, header: ConfigHeader?, sysVendor: UInt16?, diagnostics: inout [Diagnostic],
                           linkName: (String) -> String?, attribute: (String) -> String?) -> SRIOVRole {
        if let pfName = linkName("physfn") {
            guard let pf = PCIAddress(sysfsName: pfName) else {
                diagnostics.append(Diagnostic(code: "malformed-attribute", message: "physfn points to '\(pfName)', not a PCI address"))
                return .detachedVirtualFunction
            }
            return .virtualFunction(pf: pf)
        }
        if let total = attribute("sriov_totalvfs") {
            var state = SRIOVPhysicalState()
            state.totalVFs = Int(total)
            state.numVFs = attribute("sriov_numvfs").flatMap { Int($0) }
            state.offset = attribute("sriov_offset").flatMap { Int($0) }
            state.stride = attribute("sriov_stride").flatMap { Int($0) }
            state.vfDeviceID = attribute("sriov_vf_device").flatMap { UInt16($0, radix: 16) }
            state.driversAutoprobe = attribute("sriov_drivers_autoprobe").map { $0 == "1" }
            var links: [(Int, PCIAddress)] = []
            for (name, _) in (try? root.entries(ofCanonical: dir)) ?? [] where name.hasPrefix("virtfn") {
                guard let n = Int(name.dropFirst("virtfn".count)) else { continue }
                guard let target = linkName(name), let vf = PCIAddress(sysfsName: target) else {
                    diagnostics.append(Diagnostic(code: "malformed-attribute", message: "\(name) does not point to a PCI function"))
                    continue
                }
                links.append((n, vf))
            }
            state.virtualFunctions = links.sorted { $0.0 < $1.0 }.map(\.1)
            if let numVFs = state.numVFs, numVFs != state.virtualFunctions.count {
                diagnostics.append(Diagnostic(code: "sriov-inconsistent",
                    message: "sriov_numvfs is \(numVFs) but \(state.virtualFunctions.count) virtfn links exist"))
            }
            return .physicalFunction(state)
        }
        if let header, header.idsReadAllOnes, let sysVendor, sysVendor != 0xffff {
            diagnostics.append(Diagnostic(code: "detached-vf",
                message: "config space reads vendor/device ffff:ffff while sysfs names the function: a virtual function whose physical function is not visible"))
            return .detachedVirtualFunction
        }
        return .none
    }

    /// Net interfaces, block devices, DRM devices and framebuffers below the function's directory,
    /// found by their `subsystem` link. Child PCI functions are not entered; the walk is bounded.
    private func readHostUse(dir: String, diagnostics: inout [Diagnostic]) -> HostUse {
        var use = HostUse()
        var budget = 4000
        let skip: Set<String> = ["power", "msi_irqs", "queues", "statistics", "holders", "slaves", "mq", "queue",
                                 "integrity", "trace", "bdi", "subsystem", "driver", "firmware_node", "iommu",
                                 "iommu_group", "physfn", "device", "link"]
        func walk(_ path: String, depth: Int) {
            guard depth <= 10, budget > 0, let entries = try? root.entries(ofCanonical: path) else { return }
            for (name, kind) in entries {
                budget -= 1
                if budget <= 0 {
                    diagnostics.append(Diagnostic(code: "walk-truncated", message: "stopped looking for host-use evidence after 4000 entries"))
                    return
                }
                // Only real directories are entered, so every path walked stays canonical.
                guard kind == .directory, !skip.contains(name), PCIAddress(sysfsName: name) == nil else { continue }
                let child = path + "/" + name
                let subsystem = (try? root.readLinkText(child + "/subsystem"))?.split(separator: "/").last.map(String.init)
                switch subsystem {
                case "net":
                    let flags = (try? root.readText(child + "/flags", canonicalParent: true)).flatMap(parseHex)
                    use.netInterfaces.append(.init(name: name, operstate: try? root.readText(child + "/operstate", canonicalParent: true),
                                                   administrativelyUp: flags.map { $0 & 1 != 0 }))
                    continue
                case "block":
                    use.blockDevices.append(name)
                case "drm":
                    use.drmDevices.append(name)
                case "graphics":
                    use.framebuffers.append(name)
                    continue
                default:
                    break
                }
                walk(child, depth: depth + 1)
            }
        }
        walk(dir, depth: 0)
        return use
    }

    /// The bridges above a function, nearest first, from its canonical sysfs path
    /// (`sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0`).
    static func upstreamBridges(fromCanonicalPath path: String) -> [PCIAddress] {
        let parts = path.split(separator: "/")
        return parts.dropLast().compactMap { PCIAddress(sysfsName: $0) }.reversed()
    }

    /// The first `count` config bytes of a function (fewer when fewer are readable), read now.
    public func configBytes(of function: PCIFunction, count: Int) throws(HostReadError) -> [UInt8] {
        if let raw = function.rawConfig { return Array(raw.prefix(count)) }
        guard let dir = function.sysfsPath else { return [] }
        let config = try SysfsConfigFile(root: root, relative: dir + "/config")
        let n = min(count, config.readableCount)
        guard let bytes = config.bytes(at: 0, count: n) else {
            throw config.readFailure ?? .io(dir + "/config", errno: 5)
        }
        return bytes
    }

    // MARK: Host-wide

    private func readPhysicalSlots(_ diagnostics: inout [Diagnostic]) -> [PCISlotAddress: String] {
        var result: [PCISlotAddress: String] = [:]
        guard let slots = try? root.list("sys/bus/pci/slots") else { return result }
        for slot in slots {
            guard let text = try? root.readText("sys/bus/pci/slots/\(slot)/address") else { continue }
            // "0000:01:00"; the slot's device number. An empty slot's address may lack the device.
            guard let address = PCIAddress(sysfsName: text + ".0") else { continue }
            result[address.slot] = slot
        }
        return result
    }

    func readEnvironment(_ diagnostics: inout [Diagnostic]) -> HostEnvironment {
        var env = HostEnvironment()
        func text(_ path: String) -> String? {
            do {
                return try root.readText(path, limit: 4 << 20)
            } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(path): \(error)"))
                return nil
            }
        }
        env.kernelCommandLine = text("proc/cmdline")
        env.loadedModules = text("proc/modules").map { modules in
            modules.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        }
        env.mounts = text("proc/mounts").map { mounts in
            mounts.split(separator: "\n").compactMap { line in
                let f = line.split(separator: " ")
                guard f.count >= 3 else { return nil }
                return MountEntry(source: unescapeMount(f[0]), mountPoint: unescapeMount(f[1]), fsType: String(f[2]))
            }
        }
        env.iommuGroupsDirectoryPresent = root.kind("sys/kernel/iommu_groups") == .directory
        env.pciDrivers = try? root.list("sys/bus/pci/drivers")
        for (module, parameter) in [("vfio_iommu_type1", "allow_unsafe_interrupts"), ("vfio", "enable_unsafe_noiommu_mode"),
                                    ("vfio_pci", "disable_idle_d3"), ("vfio_pci", "nointxmask"), ("vfio_pci", "disable_vga")] {
            if let value = try? root.readText("sys/module/\(module)/parameters/\(parameter)") {
                env.moduleParameters["\(module)/\(parameter)"] = value
            }
        }
        for unit in (try? root.list("sys/class/iommu")) ?? [] {
            let path = "sys/class/iommu/" + unit
            var iommu = IOMMUUnit(name: unit, kind: .other)
            guard let dir = try? root.resolve(path) else {
                diagnostics.append(Diagnostic(code: "iommu-unit-unreadable", message: "\(path) does not lead to a directory inside the root"))
                env.iommuUnits.append(iommu)
                continue
            }
            for (sub, kind, files) in [("intel-iommu", IOMMUUnit.Kind.intelVTd, ["cap", "ecap", "version", "address"]),
                                       ("amd-iommu", IOMMUUnit.Kind.amdVi, ["cap", "features"])] {
                guard root.kind(dir + "/" + sub) == .directory else { continue }
                iommu.kind = kind
                for file in files {
                    if let value = try? root.readText(dir + "/" + sub + "/" + file) { iommu.registers[file] = value }
                }
            }
            // AMD-Vi units live below their PCI function: sys/devices/pci0000:00/0000:00:01.0/iommu/ivhd0.
            let parts = dir.split(separator: "/")
            if parts.count >= 3, parts[parts.count - 2] == "iommu", let fn = PCIAddress(sysfsName: parts[parts.count - 3]) {
                iommu.pciFunction = fn
            }
            env.iommuUnits.append(iommu)
        }
        return env
    }

    private func readGroups(_ env: inout HostEnvironment, _ diagnostics: inout [Diagnostic]) -> [IOMMUGroup] {
        guard env.iommuGroupsDirectoryPresent, let ids = try? root.list("sys/kernel/iommu_groups") else { return [] }
        var groups: [IOMMUGroup] = []
        for name in ids {
            guard let id = Int(name) else {
                diagnostics.append(Diagnostic(code: "unexpected-entry", message: "sys/kernel/iommu_groups/\(name) is not a group number; ignored"))
                continue
            }
            let base = "sys/kernel/iommu_groups/\(name)"
            var members: [PCIAddress] = []
            do {
                for entry in try root.list(base + "/devices") {
                    // Groups may hold non-PCI devices (platform devices on ARM); only PCI functions are listed.
                    if let address = PCIAddress(sysfsName: entry) { members.append(address) }
                }
            } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(base)/devices: \(error)"))
            }
            groups.append(IOMMUGroup(id: id, members: members.sorted(), type: try? root.readText(base + "/type")))
        }
        return groups
    }

    /// Links that must agree both ways: `iommu_group` against group listings, `physfn` against `virtfnN`.
    func crossCheck(_ functions: inout [PCIFunction], groups: [IOMMUGroup], hostDiagnostics: inout [Diagnostic]) {
        var groupOf: [PCIAddress: Int] = [:]
        for group in groups {
            for member in group.members { groupOf[member] = group.id }
        }
        var index: [PCIAddress: Int] = [:]
        for (i, f) in functions.enumerated() { index[f.address] = i }
        for i in functions.indices {
            let f = functions[i]
            let listed = groupOf[f.address]
            if let own = f.iommuGroup, listed != own {
                functions[i].diagnostics.append(Diagnostic(code: "group-inconsistent",
                    message: "iommu_group says group \(own) but \(listed.map { "group \($0) lists it" } ?? "no group lists it")"))
            } else if f.iommuGroup == nil, let listed {
                functions[i].diagnostics.append(Diagnostic(code: "group-inconsistent",
                    message: "group \(listed) lists it but it has no iommu_group link; taking group \(listed)"))
                functions[i].iommuGroup = listed
            }
            if case let .virtualFunction(pf) = f.sriov {
                if let p = index[pf] {
                    if !functions[p].virtualFunctions.contains(f.address) {
                        functions[i].diagnostics.append(Diagnostic(code: "sriov-inconsistent",
                            message: "physfn names \(pf), which has no virtfn link back to it"))
                    }
                } else {
                    functions[i].diagnostics.append(Diagnostic(code: "sriov-inconsistent",
                        message: "physfn names \(pf), which is not among the host's functions"))
                }
            }
            for vf in f.virtualFunctions where index[vf] == nil {
                functions[i].diagnostics.append(Diagnostic(code: "sriov-inconsistent",
                    message: "virtfn link names \(vf), which is not among the host's functions"))
            }
        }
        for group in groups {
            for member in group.members where index[member] == nil {
                hostDiagnostics.append(Diagnostic(code: "group-inconsistent",
                    message: "IOMMU group \(group.id) lists \(member), which is not in sys/bus/pci/devices"))
            }
        }
    }
}

func parseHex(_ text: String) -> UInt32? {
    var t = Substring(text)
    if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
    guard !t.isEmpty else { return nil }
    return UInt32(t, radix: 16)
}

/// /proc/mounts escapes space, tab, newline and backslash as octal.
func unescapeMount(_ field: Substring) -> String {
    guard field.contains("\\") else { return String(field) }
    var bytes: [UInt8] = []
    var chars = Array(field.utf8)[...]
    while let c = chars.first {
        chars = chars.dropFirst()
        if c == UInt8(ascii: "\\"), chars.count >= 3,
           let v = UInt8(String(decoding: chars.prefix(3), as: UTF8.self), radix: 8) {
            bytes.append(v)
            chars = chars.dropFirst(3)
        } else {
            bytes.append(c)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension HostReadError {
    public var diagnosticCode: String {
        switch self {
        case .missing: "missing-file"
        case .permissionDenied: "permission-denied"
        case .escapesRoot: "link-outside-root"
        case .linkLoop: "link-loop"
        case .notRegularFile: "not-a-regular-file"
        case .notDirectory: "not-a-directory"
        case .notLink: "not-a-link"
        case .tooLarge: "file-too-large"
        case .io: "io-error"
        }
    }
}
