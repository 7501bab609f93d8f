#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PCIConfigSpace
import PCILibPCI

/// Why a whole scan could not produce a model.
public enum HostScanError: Error, Hashable, Sendable, CustomStringConvertible {
    case rootMissing(String)
    case notSysfsRoot(String, reason: String)
    case linksFlattened(String, example: String)
    case dumpUnreadable(String, reason: String)
    case dumpEmpty(String)
    case dumpMalformed(String, line: Int, text: String)
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
            "\(path) names \(count) functions but gives neither their config-space bytes nor their IDs (lspci text without -nn?); paste `lspci -nnk`, `lspci -nnvvv` or, best, `sudo lspci -nnkvvvxxxx`"
        case let .dumpMalformed(path, line, text):
            "\(path):\(line): a hex line libpci would reject ('\(text)'); expected 'oo: xx xx …' with two hex digits per byte"
        case let .dumpEmpty(path):
            "\(path) holds no PCI listing this tool reads (expected lspci output: `-nnk`, `-nnvvv`, `-xxxx`, `-tvnn`, `-vmmnn`, or an IOMMU group listing)"
        }
    }
}

/// The families of sysfs facts a scan reads beyond what every command needs (identity, config header, driver,
/// IOMMU group, SR-IOV links, VFIO device entries): a command asks for the families it prints or decides with, and
/// the scan opens no other file. A family not read leaves its facts at their "not in the input" defaults, which no
/// command that skips it shows.
public struct ScanFacts: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// `driver_override`, `numa_node`, `d3cold_allowed`, `boot_vga` and `reset_method` of each function.
    public static let attributes = ScanFacts(rawValue: 1 << 0)
    /// The link state: the PCI Express capability's link registers where readable and unambiguous
    /// (`LinkState(pciExpress:)`), else `current_link_speed`, `current_link_width`, `max_link_speed`, `max_link_width`.
    public static let link = ScanFacts(rawValue: 1 << 1)
    /// The walk below each function for net, block, DRM and framebuffer devices, and its cross-check from `sys/class`.
    public static let hostUse = ScanFacts(rawValue: 1 << 2)
    /// Each group's `type` (iommu_group_show_type).
    public static let groupType = ScanFacts(rawValue: 1 << 3)
    /// Each group's `reserved_regions` (iommu_group_show_resv_regions).
    public static let reservedRegions = ScanFacts(rawValue: 1 << 4)
    /// Each function's `resource` (the BAR ranges), read only by a scan that decodes capabilities.
    public static let resources = ScanFacts(rawValue: 1 << 5)
    /// Each group's `type` and `reserved_regions`.
    public static let groupAttributes: ScanFacts = [.groupType, .reservedRegions]

    /// Everything: `show`, `snapshot`, `report`, `check`, `plan`, `tree --format dot` (it colours by verdict),
    /// and every JSON listing (it prints them all).
    public static let all: ScanFacts = [.attributes, .link, .hostUse, .groupType, .reservedRegions, .resources]
    /// `list` as text, and `tree` as text or JSON: identity, driver, group, SR-IOV, the multifunction bit and VFIO
    /// devices only (the tree's ACS state comes from config space).
    public static let listing: ScanFacts = []
    /// `groups` without verdicts: what `listing` reads and each group's `type`, which it prints.
    public static let groupListing: ScanFacts = [.groupType]
}

/// Builds a `HostModel` from a sysfs tree under a `HostRoot`.
/// What a scan reads beyond the header.
public struct ScanOptions: Sendable {
    /// Walk and decode the capability chains (each read is a bus transaction on a live host).
    public var decodeCapabilities: Bool
    /// Name the modules that can drive each function (lspci -k's `Kernel modules:`), from `modalias` and the
    /// kernel's modules.alias; reads that table once (about a megabyte), so only `show` asks for it.
    public var resolveModules: Bool
    /// Name the VFIO variant driver for each function (`alias vfio_pci:` lines of the same table), for the
    /// commands that say which driver to bind (`check`, `report`, `plan`).
    public var resolveVFIOVariants: Bool

    /// The sysfs fact families to read (`.all` unless the command prints less).
    public var facts: ScanFacts

    public init(decodeCapabilities: Bool = false, resolveModules: Bool = false, resolveVFIOVariants: Bool = false, facts: ScanFacts = .all) {
        self.decodeCapabilities = decodeCapabilities
        self.resolveModules = resolveModules
        self.resolveVFIOVariants = resolveVFIOVariants
        self.facts = facts
    }
}

public struct SysfsScanner {
    public let root: HostRoot
    public let names: PCIIDDatabase?
    public let options: ScanOptions
    /// Directories found real during this scan (shared prefixes are resolved once).
    let seen = HostRoot.ResolvedDirectories()
    /// Driver directories resolved and listed during this scan (one listing answers for all a driver's devices).
    let drivers = DriverDirectories()
    /// Texts many functions or groups share, kept once per scan.
    let shared = SharedTexts()

    public init(root: HostRoot, names: PCIIDDatabase? = nil, options: ScanOptions = ScanOptions()) {
        self.root = root
        self.names = names
        self.options = options
    }

    static let devicesDir = "sys/bus/pci/devices"

    public func scan() throws(HostScanError) -> HostModel {
        guard root.isLiveSystem || root.isDirectory else {
            throw .rootMissing(root.description)
        }
        var hostDiagnostics: [Diagnostic] = []
        let (located, skipped) = try locateFunctions(&hostDiagnostics)
        let physicalSlots = readPhysicalSlots(&hostDiagnostics)
        var functions: [PCIFunction] = []
        functions.reserveCapacity(located.count)
        var lost = skipped
        // The kernel release, read once: the link text's form depends on it, and the environment holds it.
        let kernelRelease = try? root.readText("proc/sys/kernel/osrelease")
        let linkFromRegisters = Self.printsLinkSpeedsAsRegistersGive(kernelRelease: kernelRelease)
        for (address, dir) in located {
            if let function = readFunction(address, dir: dir, physicalSlots: physicalSlots, linkFromRegisters: linkFromRegisters,
                                           hostDiagnostics: &hostDiagnostics) {
                functions.append(function)
            } else {
                lost.append(address)
            }
        }
        var environment = readEnvironment(&hostDiagnostics, kernelRelease: kernelRelease)
        Self.deviceCdevFromDevices(functions, &environment.vfioBackends, &hostDiagnostics)
        if options.decodeCapabilities { environment.vfioUsers = readVFIOUsers(&hostDiagnostics) }
        let groups = readGroups(functions, &environment, &hostDiagnostics)
        crossCheck(&functions, groups: groups, hostDiagnostics: &hostDiagnostics)
        if options.facts.contains(.hostUse) { crossCheckHostUse(&functions, &hostDiagnostics) }
        if options.facts.contains(.attributes) { inferAbsentResetMethods(&functions, kernelRelease: environment.kernelRelease) }
        if options.resolveModules || options.resolveVFIOVariants { resolveModules(&functions, kernelRelease: environment.kernelRelease) }
        var model = HostModel(source: .sysfs(root: root.description), functions: consume functions, groups: groups,
                              environment: environment, diagnostics: hostDiagnostics)
        model.skippedFunctions = lost.sorted()
        return model
    }

    /// Whether the kernel makes VFIO device cdevs, as its VFIO devices show it: every `vfio-dev/vfioN` has `dev`
    /// with CONFIG_VFIO_DEVICE_CDEV and none has without (vfio_device_add). Devices that disagree are unknown.
    static func deviceCdevFromDevices(_ functions: [PCIFunction], _ facts: inout VFIOBackendFacts, _ diagnostics: inout [Diagnostic]) {
        let registered = functions.compactMap { f in f.vfioRegistration.map { (f.address, $0) } }
        guard let first = registered.first else { return }
        let with = registered.filter { $0.1.characterDevice }
        if with.count == registered.count || with.isEmpty {
            let config = facts.config("CONFIG_VFIO_DEVICE_CDEV").value
            if let config, (config != nil) != !with.isEmpty {
                diagnostics.append(Diagnostic(code: "inconsistent", message: "the kernel's configuration and its VFIO devices disagree on the device cdev; it is unknown"))
                facts.deviceCdev = .unknown("the kernel's configuration and its VFIO devices disagree on CONFIG_VFIO_DEVICE_CDEV", remedy: "read the host's own sysfs and boot/config-RELEASE")
                return
            }
            facts.deviceCdev = .known(!with.isEmpty, evidence: with.isEmpty
                ? "vfio-dev/\(first.1.name) of \(first.0) has no dev: the kernel makes no VFIO device cdev"
                : "vfio-dev/\(first.1.name)/dev of \(first.0): the kernel makes VFIO device cdevs")
        } else {
            diagnostics.append(Diagnostic(code: "inconsistent", message: "some vfio-dev entries have a dev file and some do not; whether the kernel makes VFIO device cdevs is unknown"))
            facts.deviceCdev = .unknown("the host's vfio-dev entries disagree on whether the kernel makes device cdevs", remedy: "read the host's own sysfs")
        }
    }

    /// lspci -k's `Kernel modules:` for each function: its `modalias` matched against the root's
    /// `lib/modules/RELEASE/modules.alias`. Unknown, with the reason, when either is missing.
    func resolveModules(_ functions: inout [PCIFunction], kernelRelease: String?) {
        func unknown(_ u: Unknown) {
            for i in functions.indices {
                if options.resolveModules { functions[i].kernelModules = .unknown(u) }
                if options.resolveVFIOVariants { functions[i].vfioVariantDrivers = .unknown(u) }
            }
        }
        guard let release = kernelRelease else {
            unknown(Unknown("the kernel release (proc/sys/kernel/osrelease) is not readable, so its module table cannot be found",
                            remedy: "read the host itself, or a snapshot that holds proc/sys/kernel/osrelease"))
            return
        }
        let path = ModuleAliases.path(release: release)
        let text: String
        do {
            text = try root.readText(path, limit: 64 << 20)
        } catch {
            // Missing is said the same way whichever component is missing (a live host and its snapshot agree).
            unknown(Unknown(error.isMissing ? "the kernel's module table \(path) is not in the input" : "the kernel's module table is not readable: \(error)",
                            remedy: "read the host itself with its modules installed, or take a snapshot with this version (it copies the table's PCI lines)"))
            return
        }
        let aliases = ModuleAliases(text: text)
        guard aliases.isPlausible else {
            unknown(Unknown("\(path) is not the kernel's module table (\(aliases.malformedLines) malformed line(s), \(aliases.patterns.isEmpty ? "no `alias pci:` line" : "pci aliases present"))",
                            remedy: "read the host itself with its modules installed"))
            return
        }
        for i in functions.indices {
            let dir = SysfsScanner.devicesDir + "/" + functions[i].address.description
            if options.resolveModules {
                if let modalias = try? root.readText(dir + "/modalias"), modalias.hasPrefix("pci:") {
                    functions[i].kernelModules = .known(aliases.modules(for: modalias), evidence: "modalias \(modalias) matched against \(path)")
                } else {
                    functions[i].kernelModules = .unknown("\(dir)/modalias is not readable or not a PCI modalias", remedy: "read the host's own sysfs")
                }
            }
            // The variant drivers are asked of functions that may be bound: the modalias is made from the IDs the
            // scan has (the kernel's own format, pci_uevent), so no file is read per function.
            if options.resolveVFIOVariants, !functions[i].isBridge {
                guard let modalias = functions[i].modalias else {
                    functions[i].vfioVariantDrivers = .unknown("the subsystem IDs of \(functions[i].address) are unknown, so its modalias is", remedy: "read the host's own sysfs")
                    continue
                }
                let variants = aliases.vfioVariants(for: modalias)
                functions[i].vfioVariantDrivers = .known(variants, evidence: variants.isEmpty
                    ? "no `vfio_pci:` alias of \(path) (\(aliases.vfioLineCount) lines) matches modalias \(modalias)"
                    : "modalias \(modalias) matches the `vfio_pci:` alias of \(variants.joined(separator: ", ")) in \(path)")
            }
        }
    }

    /// Linux 5.15+ shows `reset_method` only for functions that have a reset method
    /// (`pci_dev_reset_method_attr_is_visible`). So where other functions of the same tree have the file,
    /// its absence says the kernel has none for this one; where no function has it, nothing is known.
    /// The kernel release (`proc/sys/kernel/osrelease`, "6.1.0-13-amd64") says so too: 5.15 added the file.
    func inferAbsentResetMethods(_ functions: inout [PCIFunction], kernelRelease: String?) {
        let witness = functions.first(where: { $0.resetMethods != nil })
        let modern = Self.release(kernelRelease, isAtLeast: (5, 15)) == true
        guard witness != nil || modern else { return }
        let evidence = witness.map { "no reset_method file, which this kernel shows for functions that have a reset method (e.g. \($0.address)): the kernel has none for it" }
            ?? "no reset_method file on Linux \(kernelRelease ?? "") (5.15 and later show it for every function with a reset method): the kernel has none for it"
        for i in functions.indices where functions[i].resetMethods == nil && functions[i].sysfsPath != nil && functions[i].header != nil {
            // Only an absent file says so; one that is there but unreadable says nothing.
            if let dir = functions[i].sysfsPath, root.kind(dir + "/reset_method") != nil { continue }
            functions[i].resetMethods = []
            functions[i].resetMethodsEvidence = evidence
        }
    }

    /// The device directories `sys/bus/pci/devices` leads to, and the addresses it names that lead nowhere usable.
    func locateFunctions(_ hostDiagnostics: inout [Diagnostic]) throws(HostScanError) -> (located: [(PCIAddress, String)], skipped: [PCIAddress]) {
        let entries: [String]
        do {
            entries = try root.list(Self.devicesDir)
        } catch {
            throw .notSysfsRoot(root.description, reason: "\(Self.devicesDir): \(error)")
        }
        // The listing's kinds, and the directory itself canonical, for the fast path below.
        let canonicalDevices = try? root.resolve(Self.devicesDir, seen: seen)
        let listing = canonicalDevices.flatMap { root.openDirectoryListing(canonical: $0)?.listing }
        var located: [(PCIAddress, String)] = []
        var skipped: [PCIAddress] = []
        var flattened: [String] = []
        for name in entries {
            let entry = Self.devicesDir + "/" + name
            guard let address = PCIAddress(sysfsName: name) else {
                hostDiagnostics.append(Diagnostic(code: "unexpected-entry", message: "\(entry) is not named like a PCI address; ignored"))
                continue
            }
            let kind = listing.map { $0[name] } ?? root.kind(entry)
            if kind == .file {
                flattened.append(entry)
                skipped.append(address)
                continue
            }
            // The usual case, in two system calls: a link whose target's parent this scan already found real, and
            // the target a real directory. Anything else takes the full resolution below (and its diagnostics).
            if kind == .link, let base = canonicalDevices, let text = try? root.readLinkText(entry),
               HostRoot.isKernelShapedLink(text), let target = HostRoot.lexicalJoin(base, text), let slash = target.lastIndex(of: "/"),
               seen.known.contains(String(target[..<slash])), root.kind(target) == .directory {
                seen.known.insert(target)
                located.append((address, target))
                continue
            }
            do {
                let dir = try root.resolve(entry, seen: seen)
                guard root.kind(dir) == .directory else {
                    hostDiagnostics.append(Diagnostic(code: "unexpected-entry", message: "\(entry) does not lead to a directory; function skipped"))
                    skipped.append(address)
                    continue
                }
                located.append((address, dir))
            } catch {
                hostDiagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(address): \(error); function skipped"))
                skipped.append(address)
            }
        }
        if !flattened.isEmpty && located.isEmpty {
            throw .linksFlattened(root.description, example: flattened[0])
        }
        for entry in flattened {
            hostDiagnostics.append(Diagnostic(code: "not-a-link", message: "\(entry) is a plain file, not a link to a device directory; function skipped"))
        }
        return (located, skipped)
    }

    // MARK: One function

    /// Whether the release `"6.1.0-13-amd64"` is at least `version` (major, minor); `nil` when there is no release
    /// or it does not start with two numbers.
    static func release(_ release: String?, isAtLeast version: (Int, Int)) -> Bool? {
        let numbers = release.map { $0.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) } } ?? []
        guard numbers.count == 2 else { return nil }
        return (numbers[0], numbers[1]) >= version
    }

    /// Whether the kernel prints link speeds in the form `LinkState(pciExpress:)` gives ("8.0 GT/s PCIe",
    /// pci_speed_string, Linux 5.7 and later): `false` for an older release (its files say "8 GT/s"), `true`
    /// where the release is not in the input (a snapshot without `proc/sys/kernel/osrelease`).
    public static func printsLinkSpeedsAsRegistersGive(kernelRelease: String?) -> Bool {
        release(kernelRelease, isAtLeast: (5, 7)) ?? true
    }

    /// Reads one function's directory in named steps: config space, identity, bindings, position,
    /// SR-IOV, host use. Every file that cannot be read is a diagnostic naming it; `nil` only when
    /// the function vanished or cannot be identified (recorded in `hostDiagnostics`).
    func readFunction(_ address: PCIAddress, dir: String, physicalSlots: [PCISlotAddress: String], linkFromRegisters: Bool,
                      hostDiagnostics: inout [Diagnostic]) -> PCIFunction? {
        let reader = AttributeReader(root: root, dir: dir, drivers: drivers)
        let config = readConfig(address, reader: reader)
        if config.vanished {
            hostDiagnostics.append(Diagnostic(code: "vanished", message: "\(address) disappeared while it was being read (hot-unplugged, or its VFs were disabled); left out"))
            return nil
        }
        var ids = readIdentity(reader, header: config.header)
        if config.header == nil && ids.vendor == nil && root.kind(dir) == nil {
            hostDiagnostics.append(Diagnostic(code: "vanished", message: "\(address) disappeared while it was being read; left out"))
            return nil
        }
        guard let vendorID = ids.vendor ?? config.header?.vendorID, let deviceID = ids.device ?? config.header?.deviceID else {
            hostDiagnostics.append(Diagnostic(code: "unidentifiable", message: "\(address): neither sysfs nor config space gives its vendor and device IDs; left out"))
            return nil
        }
        var header = config.header
        var decoded = config.decoded
        var pciExpress = config.pciExpress
        var unusable = config.unusable
        if let h = header, let sysVendor = ids.vendor, !h.idsReadAllOnes, h.vendorID != sysVendor || h.deviceID != (ids.device ?? h.deviceID) {
            // Two sources of one fact disagree: the bytes are not known to be this function's registers.
            reader.note("id-mismatch",
                "config space says \(hex(h.vendorID, 4)):\(hex(h.deviceID, 4)) but sysfs says \(hex(vendorID, 4)):\(hex(deviceID, 4)); nothing is decoded from config space")
            unusable = Unknown("the config space of \(address) names \(hex(h.vendorID, 4)):\(hex(h.deviceID, 4)) while sysfs names \(hex(vendorID, 4)):\(hex(deviceID, 4)): its bytes are not known to be this function's",
                               remedy: "read the host's own sysfs, or a snapshot made by `vfio-inspect snapshot`")
            header = nil
            decoded = nil
            pciExpress = nil
        }
        // Identity from `modalias` leaves the revision to the header: without one (unreadable, or not taken), the
        // `revision` file.
        if header == nil && ids.fromModalias {
            ids.revision = reader.hex("revision").map { UInt8(truncatingIfNeeded: $0) }
        }
        // The class: sysfs `class` (pdev->class), unless readable config space contradicts it, or it is not a
        // 24-bit value: then config space's own register, with a diagnostic (damage must not turn a bridge or a
        // chipset function into an endpoint).
        var classCode = ids.classCode.flatMap { $0 <= 0xff_ffff ? ClassCode(rawValue: $0) : nil } ?? header?.classCode ?? ClassCode(rawValue: 0xff_0000)
        if let h = header, !h.idsReadAllOnes, h.classCode != classCode {
            reader.note("class-mismatch", "class says \(hex(classCode.rawValue, 6)) but config space says \(hex(h.classCode.rawValue, 6)); config space is used")
            classCode = h.classCode
        }
        var function = PCIFunction(
            address: address,
            vendorID: vendorID, deviceID: deviceID,
            subsystemVendorID: ids.subsystemVendor ?? header?.subsystemVendorID,
            subsystemDeviceID: ids.subsystemDevice ?? header?.subsystemID,
            classCode: classCode,
            revision: ids.revision ?? header?.revision ?? 0,
            header: header,
            configBytesReadable: config.readable,
            configSize: config.size)
        function.provenance = root.isLiveSystem ? .liveHost : .snapshot
        function.sysfsPath = dir
        function.config = decoded
        function.configUnusable = unusable
        if let decoded {
            // A VF's ID registers read ffff by design; that is not a problem to report.
            for d in decoded.diagnostics where d.code != "config-all-ones" || ids.vendor == nil { reader.append(d) }
        }
        if options.decodeCapabilities, options.facts.contains(.resources), let text = reader.text("resource", multiline: true) {
            if let ranges = ResourceRange.parseStrict(text) {
                // The lines in use: the kernel prints all PCI_NUM_RESOURCES (17 with SR-IOV), most of them zeros, and
                // an absent line says the same as a zero one (size 0).
                let used = { (r: ResourceRange) in r.start != 0 || r.end != 0 || r.flags != 0 }
                var kept: [ResourceRange] = []
                kept.reserveCapacity(ranges.count(where: used))
                for r in ranges where used(r) { kept.append(r) }
                function.resources = kept
                function.resourcesRead = true
            } else {
                reader.note("malformed-attribute", "resource is not the kernel's table of BAR ranges; the BAR sizes are unknown")
                function.resourcesUnknown = Unknown("the resource file of \(address) is not the kernel's table of BAR ranges", remedy: "read the host's own sysfs")
            }
        }
        readBindings(into: &function, reader: reader, pciExpress: linkFromRegisters ? pciExpress : nil)
        function.physicalSlot = physicalSlots[address.slot]
        (function.upstream, function.position) = position(of: address, dir: dir, reader: reader)
        function.sriov = readSRIOV(header: header, sysVendor: ids.vendor, reader: reader)
        if !options.facts.contains(.hostUse) {
            function.hostUse = .unknown("this command does not read what uses \(address) on the host", remedy: "run `vfio-inspect show` or `report`")
        } else if config.missing {
            function.hostUse = .unknown("\(dir) has no config file, which the kernel always makes: the directory is an incomplete copy, so what lies below it is unknown",
                                        remedy: "read the host's own sysfs, or a snapshot made by `vfio-inspect snapshot`")
        } else {
            function.hostUse = .known(readHostUse(dir: dir, reader: reader), evidence: "sysfs below \(dir)")
        }
        if let names { function.takeNames(from: names) }
        function.diagnostics = reader.diagnostics
        return function
    }

    struct ConfigRead {
        var header: ConfigHeader?
        var decoded: DecodedConfigSpace?
        /// The PCI Express capability: from `decoded`, or read alone where the link state is all a command needs of it.
        var pciExpress: PCIExpress?
        var readable = 0
        var size = 0
        var vanished = false
        /// Why the bytes are not this function's registers (`ConfigResponse`), when they are not.
        var unusable: Unknown?
        /// The kernel always makes `config`: without it the directory is an incomplete copy.
        var missing = false
    }

    /// `config`: the header only (64 bytes) unless capabilities are decoded; the rest is read on demand.
    func readConfig(_ address: PCIAddress, reader: AttributeReader) -> ConfigRead {
        var result = ConfigRead()
        let config: SysfsConfigFile
        do {
            config = try SysfsConfigFile(root: root, relative: reader.dir + "/config")
        } catch {
            if error.isMissing && root.kind(reader.dir) == nil {
                result.vanished = true
            } else {
                result.missing = error.isMissing
                reader.note(error.diagnosticCode, "config: \(error)")
            }
            return result
        }
        result.readable = config.readableCount
        result.size = config.fileSize
        let remedy = "make it answer: check `power_state` (D3cold: `echo 0 > d3cold_allowed`, or wake it), the link state of the port above, then `echo 1 > /sys/bus/pci/rescan`; read again"
        // sysfs makes `config` 256 or 4096 bytes (pci_create_sysfs_dev_files); anything larger is not config space.
        if result.size > SysfsConfigFile.maximum {
            reader.note("config-unusable", "config is \(result.size) bytes, larger than any config space (4096): not the kernel's config file")
            result.unusable = Unknown("\(reader.dir)/config is \(result.size) bytes, which no config space is: its bytes are not this function's registers",
                                      remedy: "read the host's own sysfs, or a snapshot made by `vfio-inspect snapshot`")
            return result
        }
        if let head = config.bytes(at: 0, count: min(64, result.readable)), let problem = ConfigResponse.problem(head) {
            reader.note("config-not-responding", "config: \(problem); nothing is decoded from it")
            result.unusable = Unknown("\(address) is not responding: \(problem)", remedy: root.isLiveSystem ? remedy : "take the snapshot again while the function answers (\(remedy))")
            return result
        }
        do {
            if options.decodeCapabilities {
                let d = try ConfigSpaceDecoder.decode(config)
                result.decoded = d
                result.header = d.header
                result.pciExpress = d.pciExpress
            } else {
                let header = try ConfigHeader(from: config)
                result.header = header
                if options.facts.contains(.link) {
                    result.pciExpress = ConfigSpaceDecoder.pciExpress(in: config, header: header)
                }
            }
        } catch {
            reader.note("config-truncated", "config: only \(result.readable) bytes of config space are readable; the 64-byte header is incomplete")
        }
        if result.readable < result.size && result.readable >= 64 {
            reader.note("config-limited", "config: only \(result.readable) of \(result.size) bytes are readable (run as root to see capabilities)")
        } else if let header = result.header, header.hasCapabilityList, result.readable <= 64 {
            reader.note("config-limited", "config: the function has a capability list but only \(result.readable) bytes were captured; its capabilities are unknown")
        }
        if let failure = config.readFailure {
            reader.note(failure.diagnosticCode, "config: \(failure)")
        }
        return result
    }

    struct Identity {
        var vendor: UInt16?
        var device: UInt16?
        var classCode: UInt32?
        var revision: UInt8?
        var subsystemVendor: UInt16?
        var subsystemDevice: UInt16?
        /// Read from `modalias`, which has no revision.
        var fromModalias = false
    }

    /// The IDs, class, revision and subsystem as sysfs gives them, for the cross-check with config space.
    ///
    /// One file answers: `modalias` (pci_uevent: the vendor, device, subsystem and class the kernel holds in
    /// `struct pci_dev`, a VF's real IDs too); the revision then comes from the header's own register, or from
    /// `revision` where no header is taken (`readFunction`). Without a readable `modalias`, the separate files `vendor`, `device`, `class` (the
    /// kernel always provides them), `revision`, `subsystem_vendor` and `subsystem_device`.
    func readIdentity(_ reader: AttributeReader, header: ConfigHeader?) -> Identity {
        if reader.kind("modalias") == .file {
            if let text = reader.text("modalias"), let ids = Self.parseModalias(text) {
                return ids
            } else {
                reader.note("malformed-attribute", "modalias is not the kernel's `pci:v…d…sv…sd…bc…sc…i…`; the IDs are read from their own files")
            }
        }
        return Identity(
            vendor: reader.hex("vendor", required: true).map { UInt16(truncatingIfNeeded: $0) },
            device: reader.hex("device", required: true).map { UInt16(truncatingIfNeeded: $0) },
            classCode: reader.hex("class", required: true),
            revision: reader.hex("revision").map { UInt8(truncatingIfNeeded: $0) },
            subsystemVendor: reader.hex("subsystem_vendor").map { UInt16(truncatingIfNeeded: $0) },
            subsystemDevice: reader.hex("subsystem_device").map { UInt16(truncatingIfNeeded: $0) })
    }

    /// `pci:vVVVVVVVVdDDDDDDDDsvSSSSSSSSsdTTTTTTTTbcBBscSSiII` (pci_uevent's MODALIAS, upper-case hex), or `nil`.
    static func parseModalias(_ text: String) -> Identity? {
        var text = text
        return text.withUTF8 { u -> Identity? in
            guard u.count == 53 else { return nil }
            // The tags at their fixed offsets, then the hex digits between them.
            let tags: [(Int, StaticString)] = [(0, "pci:v"), (13, "d"), (22, "sv"), (32, "sd"), (42, "bc"), (46, "sc"), (50, "i")]
            for (at, tag) in tags {
                for k in 0..<tag.utf8CodeUnitCount where u[at + k] != tag.utf8Start[k] { return nil }
            }
            func field(_ start: Int, _ digits: Int) -> UInt32? {
                var value: UInt32 = 0
                for i in start..<(start + digits) {
                    guard let d = hexDigitValue(u[i]) else { return nil }
                    value = value << 4 | UInt32(d)
                }
                return value
            }
            guard let vendor = field(5, 8), let device = field(14, 8), let subVendor = field(24, 8), let subDevice = field(34, 8),
                  let base = field(44, 2), let sub = field(48, 2), let progIf = field(51, 2),
                  vendor <= 0xffff, device <= 0xffff, subVendor <= 0xffff, subDevice <= 0xffff else { return nil }
            return Identity(vendor: UInt16(vendor), device: UInt16(device), classCode: base << 16 | sub << 8 | progIf, revision: nil,
                            subsystemVendor: UInt16(subVendor), subsystemDevice: UInt16(subDevice), fromModalias: true)
        }
    }

    /// Driver, driver_override, IOMMU group link, NUMA node, reset methods, boot VGA, link state (from
    /// `pciExpress`, the function's own PCI Express capability, where it answers: `LinkState(pciExpress:)`).
    func readBindings(into function: inout PCIFunction, reader: AttributeReader, pciExpress: PCIExpress?) {
        function.driverBinding = reader.driver()
        if options.facts.contains(.attributes), let override = reader.text("driver_override"), override != "(null)", !override.isEmpty {
            function.driverOverride = override
        }
        readVFIODevice(into: &function, reader: reader)
        if let group = reader.linkName("iommu_group") {
            let target = reader.lexicalTarget("iommu_group")
            if let id = Int(group), id >= 0, target == "sys/kernel/iommu_groups/\(group)" {
                function.iommuGroup = id
            } else if Int(group) != nil {
                // A group number reached some other way is not the kernel's word: the group is unknown (crossCheck).
                reader.note("group-inconsistent", "iommu_group points to \(TerminalSafe.escape(target ?? "a place above the root")), not into sys/kernel/iommu_groups; its group is unknown")
            } else {
                reader.note("malformed-attribute", "iommu_group points to '\(group)', not a group number")
            }
        }
        if options.facts.contains(.link) {
            // Config space's own link registers when decoded and unambiguous (one source per fact, the better
            // first); the four sysfs files otherwise.
            if let e = pciExpress, let state = LinkState(pciExpress: e) {
                function.link = state
            } else {
                function.link = LinkState(
                    currentSpeed: reader.text("current_link_speed"), currentWidth: reader.int("current_link_width"),
                    maxSpeed: reader.text("max_link_speed"), maxWidth: reader.int("max_link_width"))
            }
        }
        guard options.facts.contains(.attributes) else { return }
        if let node = reader.int("numa_node"), node >= 0 { function.numaNode = node }
        readResetMethods(into: &function, reader: reader)
        // pci_is_vga: the kernel shows boot_vga for every VGA-class function (0300xx, and 0001xx pre-2.0 VGA).
        let vga = function.classCode.rawValue >> 8 == 0x0300 || function.classCode.rawValue >> 8 == 0x0001
        let bootVGA = reader.text("boot_vga")
        switch bootVGA {
        case "1"?: function.bootVGA = true
        case "0"?: function.bootVGA = false
        case let other?:
            reader.note("malformed-attribute", "boot_vga holds '\(other.prefix(40))', not 0 or 1")
            function.bootVGAUnknown = Unknown("boot_vga of \(function.address) holds '\(other.prefix(40))', not 0 or 1", remedy: "read the host's own sysfs")
        case nil where vga:
            function.bootVGAUnknown = Unknown("boot_vga of \(function.address), which the kernel shows for every VGA function, is missing or unreadable",
                                              remedy: "read the host's own sysfs, or a snapshot made by `vfio-inspect snapshot`")
        case nil:
            break
        }
        function.d3coldAllowed = reader.text("d3cold_allowed").map { $0 == "1" }
    }

    /// `vfio-dev/vfioN` (vfio_device_add, Linux 6.1+): the VFIO device a driver registered, with `dev` when the
    /// kernel made its cdev (CONFIG_VFIO_DEVICE_CDEV). `mdev_supported_types/` of a mediated-device parent and
    /// NVIDIA's `nvidia/` vGPU files of a VF (read only for NVIDIA functions).
    func readVFIODevice(into function: inout PCIFunction, reader: AttributeReader) {
        func damaged(_ why: String) {
            reader.note("malformed-attribute", why)
            function.vfioRegistrationUnknown = Unknown("vfio-dev of \(function.address) is damaged (\(why))", remedy: "read the host's own sysfs")
        }
        switch reader.kind("vfio-dev") {
        case nil:
            break
        case .directory?:
            let all = (try? root.list(reader.dir + "/vfio-dev")) ?? []
            let names = all.filter { $0.hasPrefix("vfio") && Int($0.dropFirst(4)) != nil }
            guard names.count == 1, all.count == 1, let name = names.first else {
                damaged("vfio-dev holds \(all.count) entries, not one vfioN directory")
                break
            }
            let entry = reader.dir + "/vfio-dev/" + name
            guard root.kind(entry) == .directory else {
                damaged("vfio-dev/\(name) is not a directory")
                break
            }
            // `dev` is the cdev's "major:minor" (CONFIG_VFIO_DEVICE_CDEV); absent without the cdev.
            switch root.kind(entry + "/dev") {
            case nil:
                function.vfioRegistration = VFIODeviceEntry(name: name, characterDevice: false)
            case .file?:
                let text = (try? root.readText(entry + "/dev")) ?? ""
                let parts = text.fastSplit(":")
                if parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
                    function.vfioRegistration = VFIODeviceEntry(name: name, characterDevice: true)
                } else {
                    damaged("vfio-dev/\(name)/dev holds '\(TerminalSafe.escape(String(text.prefix(20))))', not major:minor")
                }
            default:
                damaged("vfio-dev/\(name)/dev is not a regular file")
            }
        default:
            damaged("vfio-dev is not a directory")
        }
        if function.vfioRegistration != nil {
            function.vfioMigrationFeatures = readMigrationFeatures(function.address)
        }
        if reader.kind("mdev_supported_types") == .directory {
            var types: [MediatedDeviceType] = []
            for id in ((try? root.list(reader.dir + "/mdev_supported_types")) ?? []).sorted() {
                let base = "mdev_supported_types/" + id
                guard reader.kind(base) == .directory else { continue }
                var t = MediatedDeviceType(id: TerminalSafe.escape(id))
                t.name = reader.text(base + "/name")
                t.availableInstances = reader.int(base + "/available_instances").flatMap { n in
                    if n < 0 { reader.note("malformed-attribute", "\(base)/available_instances is negative; unknown") }
                    return n < 0 ? nil : n
                }
                t.deviceAPI = reader.text(base + "/device_api")
                t.description = reader.text(base + "/description")
                t.instances = ((try? root.list(reader.dir + "/" + base + "/devices")) ?? []).sorted().map(TerminalSafe.escape)
                types.append(t)
            }
            function.mediatedDeviceTypes = types
        }
        guard function.vendorID == 0x10de else { return }
        switch reader.kind("nvidia") {
        case nil: return
        case .directory?: break
        default:
            reader.note("not-a-directory", "nvidia is not a directory; the VF's vGPU state is unknown")
            function.nvidiaVGPU = NVIDIAVGPUState(creatable: .unknown("nvidia/ of \(function.address) is not a directory", remedy: "read the host's own sysfs"),
                                                  current: .unknown("nvidia/ of \(function.address) is not a directory", remedy: "read the host's own sysfs"))
            return
        }
        let creatable: Fact<[NVIDIAVGPUState.VGPUType]>
        if let text = reader.text("nvidia/creatable_vgpu_types", multiline: true) {
            if let types = NVIDIAVGPUState.parseCreatable(text) {
                creatable = .known(types, evidence: "\(reader.dir)/nvidia/creatable_vgpu_types lists \(types.isEmpty ? "no type" : types.map { "\($0.id) (\($0.name))" }.joined(separator: ", "))")
            } else {
                reader.note("malformed-attribute", "nvidia/creatable_vgpu_types is not NVIDIA's `ID : name` list; the creatable vGPU types are unknown")
                creatable = .unknown("nvidia/creatable_vgpu_types of \(function.address) is not NVIDIA's `ID : name` list", remedy: "read the host's own sysfs")
            }
        } else {
            creatable = .unknown("nvidia/creatable_vgpu_types of \(function.address) is missing or unreadable", remedy: "read the host's own sysfs as root")
        }
        let current: Fact<Int?>
        switch reader.text("nvidia/current_vgpu_type").map({ Int($0) }) {
        case let .some(.some(id)) where id == 0: current = .known(nil, evidence: "\(reader.dir)/nvidia/current_vgpu_type reads 0: no vGPU type is set")
        case let .some(.some(id)) where id > 0: current = .known(id, evidence: "\(reader.dir)/nvidia/current_vgpu_type reads \(id)")
        case .some:
            reader.note("malformed-attribute", "nvidia/current_vgpu_type is not a vGPU type number; the VF's type is unknown")
            current = .unknown("nvidia/current_vgpu_type of \(function.address) is not a vGPU type number", remedy: "read the host's own sysfs")
        case nil:
            current = .unknown("nvidia/current_vgpu_type of \(function.address) is missing or unreadable", remedy: "read the host's own sysfs as root")
        }
        function.nvidiaVGPU = NVIDIAVGPUState(creatable: creatable, current: current)
    }

    /// The tokens vfio's debugfs writes to `migration/features` (drivers/vfio/debugfs.c).
    static let migrationFeatureWords: Set<String> = ["stop-copy", "p2p", "pre-copy", "dirty-tracking"]

    /// debugfs `kernel/debug/vfio/BDF/migration/features` (CONFIG_VFIO_DEBUGFS; `features` since 6.18): `nil` when
    /// debugfs shows no VFIO directory at all; unknown when what it shows is damaged.
    func readMigrationFeatures(_ address: PCIAddress) -> Fact<[String]>? {
        let top = "sys/kernel/debug/vfio"
        switch root.kind(top) {
        case nil: return nil
        case .directory?: break
        default: return .unknown("\(top) is not a directory", remedy: "read debugfs of the host as root")
        }
        let base = "\(top)/\(address)"
        switch root.kind(base) {
        case nil: return .unknown("\(top) has no entry for \(address) although it is a VFIO device", remedy: "read debugfs of the host as root")
        case .directory?: break
        default: return .unknown("\(base) is not a directory", remedy: "read debugfs of the host as root")
        }
        switch root.kind(base + "/migration") {
        case nil: return .known([], evidence: "\(base) has no migration/: the device's VFIO driver has no migration ops")
        case .directory?: break
        default: return .unknown("\(base)/migration is not a directory", remedy: "read debugfs of the host as root")
        }
        guard root.kind(base + "/migration/features") == .file, let text = try? root.readText(base + "/migration/features") else {
            return .unknown("\(base)/migration/features is missing or unreadable (Linux 6.18 added it)", remedy: "read it as root on a 6.18+ kernel")
        }
        let words = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).map(String.init)
        // A device with migration ops always has stop-copy; anything else is not the kernel's file.
        guard words.contains("stop-copy"), words.allSatisfy(Self.migrationFeatureWords.contains) else {
            return .unknown("\(base)/migration/features holds '\(TerminalSafe.escape(String(text.prefix(60))))', not the kernel's feature list", remedy: "read it as root on the host")
        }
        return .known(words, evidence: "\(base)/migration/features: \(words.joined(separator: " "))")
    }

    /// `reset_method` (Linux 5.15+, pci_dev_reset_method_attr_is_visible): the methods the kernel will try, in
    /// order. The file exists only for a function that had a method when it was added; an admin who writes ""
    /// disables them all and the file then reads 0 bytes (reset_method_show): known, and no reset at all.
    func readResetMethods(into function: inout PCIFunction, reader: AttributeReader) {
        guard let kind = reader.kind("reset_method") else { return }
        guard kind == .file else {
            reader.note("not-a-regular-file", "reset_method is a \(kind == .directory ? "directory" : kind == .link ? "link" : "special file"), not the kernel's attribute")
            function.resetMethodsUnknown = Unknown("reset_method of \(function.address) is not a regular file", remedy: "read the host's own sysfs")
            return
        }
        let text: String?
        do {
            if let handle = reader.handle {
                text = try root.readTextIfPresent("reset_method", in: handle)
            } else {
                text = try root.readTextIfPresent(reader.dir + "/reset_method", canonicalParent: true)
            }
        } catch {
            reader.note(error.diagnosticCode, "reset_method: \(error)")
            function.resetMethodsUnknown = Unknown("reset_method of \(function.address) is not readable (\(error))", remedy: "read the host's own sysfs")
            return
        }
        guard let methods = text else { return }
        let known: Set<String> = ["device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus"]
        let names = shared.words(methods)
        guard names.allSatisfy(known.contains) else {
            reader.note("malformed-attribute", "reset_method holds '\(TerminalSafe.escape(String(methods.prefix(60))))', not the kernel's method names")
            function.resetMethodsUnknown = Unknown("reset_method of \(function.address) is not in the kernel's format", remedy: "read the host's own sysfs")
            return
        }
        function.resetMethods = names
        if methods.isEmpty {
            reader.note("reset-disabled", "reset_method is empty: the kernel will not reset this function (every method was disabled by writing '' to it)")
        }
        function.resetMethodsEvidence = methods.isEmpty
            ? "reset_method is empty: every reset method was disabled (echo '' > reset_method)"
            : shared.text("reset_method = \(methods)")
    }

    /// The bridges above a function and its position, from its canonical sysfs path. A device directory
    /// that is not below `sys/devices` (copied as a directory instead of a link) shows no topology.
    func position(of address: PCIAddress, dir: String, reader: AttributeReader) -> ([PCIAddress], Fact<Position>) {
        guard dir.hasPrefix("sys/devices/") else {
            reader.note("copied-directory", "\(dir) is a directory, not a link into sys/devices: the topology above \(address) is lost (copy the tree with `cp -a`, `tar` or `vfio-inspect snapshot`)")
            return ([], .unknown("\(dir) is not a link into sys/devices, so the bridges above \(address) are not known",
                                 remedy: "copy the tree with its links (`vfio-inspect snapshot`)"))
        }
        let upstream = Self.upstreamBridges(fromCanonicalPath: dir)
        if let parent = upstream.first {
            return (upstream, .known(.below(parent), evidence: "sysfs path \(dir)"))
        }
        // sys/devices/pciDDDD:BB/… names the root bus: a function directly below it must be on bus BB.
        if let rootDir = dir.fastSplit("/").first(where: { $0.hasPrefix("pci") && $0.contains(":") }),
           let bus = rootDir.fastSplit(":").last.flatMap({ UInt8($0, radix: 16) }), bus != address.bus {
            reader.note("path-inconsistent", "\(dir) puts \(address) directly on root bus \(hex(bus, 2)), but its bus is \(hex(address.bus, 2))")
            return ([], .unknown("the sysfs path of \(address) is inconsistent with its bus number, so its parent is unknown",
                                 remedy: "read the host's own sysfs"))
        }
        return ([], .known(.rootBus, evidence: "sysfs path \(dir) has no bridge above \(address)"))
    }

    /// `physfn` (a VF), `sriov_*` and `virtfnN` (a PF). A link of the wrong type is a diagnostic, never fatal.
    func readSRIOV(header: ConfigHeader?, sysVendor: UInt16?, reader: AttributeReader) -> SRIOVRole {
        if let pfName = reader.linkName("physfn") {
            guard let pf = PCIAddress(sysfsName: pfName) else {
                reader.note("malformed-attribute", "physfn points to '\(pfName)', not a PCI address")
                return .detachedVirtualFunction
            }
            return .virtualFunction(pf: pf)
        }
        // sriov_totalvfs exists for every PF (sriov_pf_dev_attr_group): there but unreadable is a PF whose counts are unknown.
        if reader.kind("sriov_totalvfs") != nil {
            let total = reader.text("sriov_totalvfs")
            var state = SRIOVPhysicalState()
            state.totalVFs = total.flatMap { Int($0) }.flatMap { (0...65535).contains($0) ? $0 : nil }
            if let total, state.totalVFs == nil { reader.note("malformed-attribute", "sriov_totalvfs holds '\(total.prefix(40))', not a VF count") }
            state.numVFs = reader.int("sriov_numvfs")
            if let n = state.numVFs, n < 0 || n > (state.totalVFs ?? 65535) {
                reader.note("malformed-attribute", "sriov_numvfs is \(n), not a VF count up to sriov_totalvfs")
                state.numVFs = nil
            }
            state.offset = reader.int("sriov_offset")
            state.stride = reader.int("sriov_stride")
            state.vfDeviceID = reader.text("sriov_vf_device").flatMap { UInt16($0, radix: 16) }
            state.driversAutoprobe = reader.text("sriov_drivers_autoprobe").map { $0 == "1" }
            var links: [(Int, PCIAddress)] = []
            for (name, _) in reader.entries() where name.hasPrefix("virtfn") {
                guard let n = Int(name.dropFirst("virtfn".count)) else { continue }
                guard let target = reader.linkName(name) else { continue }
                guard let vf = PCIAddress(sysfsName: target) else {
                    reader.note("malformed-attribute", "\(name) points to '\(target)', not a PCI function")
                    continue
                }
                links.append((n, vf))
            }
            state.virtualFunctions = links.sorted { $0.0 < $1.0 }.map(\.1)
            if let numVFs = state.numVFs, numVFs != state.virtualFunctions.count {
                reader.note("sriov-inconsistent", "sriov_numvfs is \(numVFs) but \(state.virtualFunctions.count) virtfn links exist")
            }
            return .physicalFunction(state)
        }
        if let header, header.idsReadAllOnes, let sysVendor, sysVendor != 0xffff {
            reader.note("detached-vf", "config space reads vendor/device ffff:ffff while sysfs names the function: a virtual function whose physical function is not visible")
            return .detachedVirtualFunction
        }
        return .none
    }

    /// Net interfaces, block devices (and the dm/md devices stacked on them), DRM devices and framebuffers
    /// below the function's directory, found by their `subsystem` link. Child PCI functions are not entered;
    /// the walk is bounded.
    func readHostUse(dir: String, reader: AttributeReader) -> HostUse {
        var use = HostUse()
        var budget = 4000
        // Below these, every entry of a real sysfs is a device directory.
        let containers: Set<String> = ["net", "nvme", "drm", "graphics", "block"]
        func walk(_ path: String, depth: Int) {
            guard depth <= 10, budget > 0 else { return }
            let entries: [(name: String, kind: HostRoot.Kind)]
            if depth == 0, path == reader.dir, reader.handle?.listing != nil {
                // The function's own directory, listed once already.
                entries = reader.entries()
            } else {
                do { entries = try root.entries(ofCanonical: path) } catch {
                    reader.note(error.diagnosticCode, "\(path): \(error); host-use evidence below it is unknown")
                    return
                }
            }
            let container = containers.contains(path.lastPathComponent().map(String.init) ?? "")
            for (name, kind) in entries {
                budget -= 1
                if budget <= 0 {
                    reader.note("walk-truncated", "stopped looking for host-use evidence after 4000 entries")
                    return
                }
                if kind == .other {
                    reader.note("unexpected-entry", "\(path)/\(name) is a special file (FIFO, socket or device node), which sysfs never holds; ignored")
                    continue
                }
                // DRM's compatibility link drm/controlD<64+N> -> cardN (drm_drv.c create_compat_control_link, since 4.10):
                // the kernel's own, not host-use evidence of its own (cardN is walked).
                if kind == .link, path.hasSuffix("/drm"), name.hasPrefix("controlD"), Int(name.dropFirst("controlD".count)).map({ $0 >= 64 }) == true {
                    continue
                }
                if (container && kind != .directory) || (containers.contains(name) && kind != .directory) {
                    reader.note("unexpected-entry", "\(path)/\(name) is a \(kind == .link ? "link" : "regular file") where sysfs has a device directory; host-use evidence there is unknown")
                    continue
                }
                // Only real directories are entered, so every path walked stays canonical.
                guard kind == .directory, !SysfsLayout.notHostUseEvidence.contains(name), PCIAddress(sysfsName: name) == nil else { continue }
                let child = path + "/" + name
                var subsystem: String?
                if let kind = root.kind(child + "/subsystem") {
                    if kind == .link, let text = try? root.readLinkText(child + "/subsystem") {
                        subsystem = text.lastPathComponent().map(String.init)
                    } else {
                        reader.note("not-a-link", "\(child)/subsystem is not a link; what \(name) is, is unknown")
                    }
                }
                switch subsystem {
                case "net":
                    let net = AttributeReader(root: root, dir: child)
                    let flags = net.hex("flags", required: true)
                    use.netInterfaces.append(.init(name: TerminalSafe.escape(name), operstate: net.text("operstate"), administrativelyUp: flags.map { $0 & 1 != 0 }))
                    for d in net.diagnostics { reader.append(Diagnostic(code: d.code, message: "net/\(name)/\(d.message)")) }
                    continue
                case "block":
                    use.blockDevices.append(TerminalSafe.escape(name))
                    use.stackedDevices += stackedHolders(of: child, reader: reader)
                case "drm":
                    use.drmDevices.append(TerminalSafe.escape(name))
                case "graphics":
                    use.framebuffers.append(TerminalSafe.escape(name))
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

    /// Block devices stacked on `blockDir` through `holders/` (device-mapper, md), transitively, with their
    /// `dm/name` (the `/dev/mapper/NAME` spelling) or `md/` name where present.
    func stackedHolders(of blockDir: String, reader: AttributeReader) -> [HostUse.StackedDevice] {
        var result: [HostUse.StackedDevice] = []
        var visited: Set<String> = []
        var pending: [(String, String)] = [(blockDir, blockDir.lastPathComponent().map(String.init) ?? blockDir)]
        while let (dir, below) = pending.popLast(), visited.count < 64 {
            guard let holders = try? root.list(dir + "/holders") else { continue }
            for holder in holders {
                guard let target = try? root.resolve(dir + "/holders/" + holder), visited.insert(target).inserted else { continue }
                let mapperName = (try? root.readText(target + "/dm/name")).map(TerminalSafe.escape)
                result.append(HostUse.StackedDevice(name: TerminalSafe.escape(holder), mapperName: mapperName, on: TerminalSafe.escape(below)))
                pending.append((target, holder))
            }
        }
        return result
    }

    /// The bridges above a function, nearest first, from its canonical sysfs path
    /// (`sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0`).
    static func upstreamBridges(fromCanonicalPath path: String) -> [PCIAddress] {
        let parts = path.fastSplit("/")
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
        let base = "sys/bus/pci/slots"
        guard root.kind(base) != nil else { return result }
        let slots: [String]
        do { slots = try root.list(base) } catch {
            diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(base): \(error); physical slot names are unknown"))
            return result
        }
        for slot in slots {
            let path = "\(base)/\(slot)/address"
            let text: String
            do { text = try root.readText(path) } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(path): \(error)"))
                continue
            }
            // "0000:01:00"; the slot's device number. An empty slot's address may lack the device.
            guard let address = PCIAddress(sysfsName: text + ".0") else {
                if !text.isEmpty, text.fastSplit(":").count != 2 {
                    diagnostics.append(Diagnostic(code: "malformed-attribute", message: "\(path) holds '\(text.prefix(40))', not a slot address"))
                }
                continue
            }
            result[address.slot] = TerminalSafe.escape(slot)
        }
        return result
    }

    /// `kernelRelease`: `proc/sys/kernel/osrelease` as `scan` read it (`nil`: not readable).
    func readEnvironment(_ diagnostics: inout [Diagnostic], kernelRelease: String?) -> HostEnvironment {
        var env = HostEnvironment()
        let provenance: Provenance = root.isLiveSystem ? .liveHost : .snapshot
        func text(_ path: String) -> Fact<String> {
            do {
                return .known(try root.readText(path, limit: 4 << 20), evidence: path)
            } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(path): \(error)"))
                if case .permissionDenied = error { return .unknown("\(path) is not readable", remedy: "read it as root") }
                return .unknown("\(path): \(error)", remedy: provenance.fileRemedy(path))
            }
        }
        /// A /proc table whose every line has at least `fields` fields, else unknown (a damaged or foreign file).
        func table(_ path: String, fields: Int, header: String? = nil) -> Fact<[[Substring]]> {
            let fact = text(path)
            guard let content = fact.value else { return .unknown(fact.unknown ?? Unknown(path, remedy: provenance.fileRemedy(path))) }
            var lines = content.split(separator: "\n", omittingEmptySubsequences: true)
            if let header {
                guard let first = lines.first, first.hasPrefix(header) else {
                    diagnostics.append(Diagnostic(code: "malformed-file", message: "\(path) does not start with its header '\(header)'; ignored"))
                    return .unknown("\(path) is not in the kernel's format", remedy: provenance.fileRemedy(path))
                }
                lines.removeFirst()
            }
            var rows: [[Substring]] = []
            for (i, line) in lines.enumerated() {
                let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard f.count >= fields, line.utf8.allSatisfy({ $0 >= 0x20 || $0 == 0x09 }) else {
                    diagnostics.append(Diagnostic(code: "malformed-file", message: "\(path) line \(i + 1 + (header == nil ? 0 : 1)) is not in the kernel's format; the file is ignored"))
                    return .unknown("\(path) is not in the kernel's format", remedy: provenance.fileRemedy(path))
                }
                rows.append(f)
            }
            return .known(rows, evidence: path)
        }
        let cmdline = text("proc/cmdline")
        if cmdline.value?.isEmpty == true {
            diagnostics.append(Diagnostic(code: "empty-attribute", message: "proc/cmdline is empty (a kernel always has a command line; a damaged copy?); ignored"))
            env.kernelCommandLine = .unknown("proc/cmdline is empty", remedy: provenance.fileRemedy("proc/cmdline"))
        } else if let line = cmdline.value, !line.utf8.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0a }) || line.utf8.count > 65536 {
            diagnostics.append(Diagnostic(code: "malformed-file", message: "proc/cmdline holds control characters or is too long to be a kernel command line; ignored"))
            env.kernelCommandLine = .unknown("proc/cmdline is not a kernel command line", remedy: provenance.fileRemedy("proc/cmdline"))
        } else {
            env.kernelCommandLine = cmdline
        }
        // "name size refcount deps state address"
        env.loadedModules = table("proc/modules", fields: 3).map { rows in rows.map { TerminalSafe.escape(String($0[0])) } }
        // "source mountpoint fstype options dump pass"
        env.mounts = table("proc/mounts", fields: 4).map { rows in
            rows.map { MountEntry(source: unescapeMount($0[0]), mountPoint: unescapeMount($0[1]), fsType: TerminalSafe.escape(String($0[2]))) }
        }
        if env.mounts.value?.contains(where: { $0.mountPoint == "/" }) == false {
            // A running system always has its root mounted: a table without "/" is a damaged or foreign copy.
            diagnostics.append(Diagnostic(code: "malformed-file", message: "proc/mounts has no mount on / (every running system has one); ignored"))
            env.mounts = .unknown("proc/mounts has no mount on /, so it is not a whole mount table", remedy: provenance.fileRemedy("proc/mounts"))
        }
        // proc/swaps: a header line, then "Filename Type Size Used Priority".
        if root.kind("proc/swaps") != nil || root.isLiveSystem {
            env.swaps = table("proc/swaps", fields: 3, header: "Filename").map { rows in rows.map { unescapeMount($0[0]) } }
        }
        env.kernelRelease = kernelRelease.map(TerminalSafe.escape)
        env.hostName = (try? root.readText("proc/sys/kernel/hostname")).map(TerminalSafe.escape)
        // ACPI table names: their presence is the fact (IVRS for pci_quirk_amd_sb_acs). A live host without the
        // directory has no ACPI (device-tree machines); a snapshot without it may just not have copied it.
        let tablesDir = "sys/firmware/acpi/tables"
        if let names = try? root.list(tablesDir) {
            env.acpiTables = .known(Set(names), evidence: "\(tablesDir) lists \(names.isEmpty ? "no table" : names.sorted().joined(separator: " "))")
        } else if root.isLiveSystem && root.kind("sys/firmware") == .directory && root.kind("sys/firmware/acpi") == nil {
            env.acpiTables = .known([], evidence: "sys/firmware has no acpi directory: the firmware has no ACPI")
        } else {
            env.acpiTables = .unknown("\(tablesDir) is not in the input", remedy: provenance == .liveHost ? "read \(tablesDir) on the host" : "take the snapshot with this version, which keeps the IVRS and DMAR tables")
        }
        var interruptsText: String?
        if root.kind("proc/interrupts") != nil {
            do { interruptsText = try root.readText("proc/interrupts", limit: 16 << 20) } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "proc/interrupts: \(error)"))
            }
        }
        if let interrupts = interruptsText {
            if interrupts.contains("IR-PCI-MSI") || interrupts.contains("IR-IO-APIC") {
                env.remappedInterrupts = .known(true, evidence: "proc/interrupts lists remapped (IR-) interrupt chips")
            } else if interrupts.contains("PCI-MSI") {
                env.remappedInterrupts = .known(false, evidence: "proc/interrupts lists PCI-MSI interrupts and no remapped (IR-) chip")
            }
        }
        if root.kind("sys/bus/pci/drivers") != nil {
            do { env.pciDrivers = try root.list("sys/bus/pci/drivers").map(TerminalSafe.escape) } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "sys/bus/pci/drivers: \(error); the registered drivers are unknown"))
            }
        }
        for (module, parameter) in [("vfio_iommu_type1", "allow_unsafe_interrupts"), ("vfio", "enable_unsafe_noiommu_mode"),
                                    ("vfio_pci", "disable_idle_d3"), ("vfio_pci", "nointxmask"), ("vfio_pci", "disable_vga"), ("vfio_pci", "disable_denylist")] {
            let path = "sys/module/\(module)/parameters/\(parameter)"
            do {
                if let value = try root.readTextIfPresent(path) { env.moduleParameters["\(module)/\(parameter)"] = TerminalSafe.escape(value) }
            } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(path): \(error)"))
            }
        }
        env.vfioBackends = readVFIOBackends(env, provenance: provenance, &diagnostics)
        env.vfioPCIIDs = readVFIOPCIIDs(env, provenance: provenance, &diagnostics)
        if root.kind("proc/cpuinfo") != nil {
            // "address sizes	: 46 bits physical, 48 bits virtual" (x86 show_cpuinfo); every CPU says the same.
            let widths = Set((text("proc/cpuinfo").value ?? "").split(separator: "\n").filter { $0.hasPrefix("address sizes") }.compactMap { line -> Int? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                let words = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard words.count >= 3, words[1] == "bits", words[2].hasPrefix("physical"), let n = Int(words[0]), (20...64).contains(n) else { return nil }
                return n
            })
            if widths.count == 1, let n = widths.first {
                env.physicalAddressBits = .known(n, evidence: "proc/cpuinfo: address sizes \(n) bits physical")
            } else {
                env.physicalAddressBits = .unknown(widths.isEmpty ? "proc/cpuinfo has no readable \"address sizes\" line" : "proc/cpuinfo gives different address sizes", remedy: provenance.fileRemedy("proc/cpuinfo"))
            }
        }
        // proc/iomem: as a reader without CAP_SYS_ADMIN the kernel shows every range as 0-0 (unknown, not absent).
        if root.kind("proc/iomem") != nil || root.isLiveSystem {
            let fact = text("proc/iomem")
            if let content = fact.value {
                if let ranges = IOMemRange.parse(content) {
                    env.iomem = IOMemRange.addressesHidden(ranges)
                        ? .unknown("proc/iomem shows every range as 0-0: the kernel hides the addresses from a reader that is not root", remedy: "run as root")
                        : .known(ranges, evidence: "proc/iomem")
                } else {
                    diagnostics.append(Diagnostic(code: "malformed-file", message: "proc/iomem is not in the kernel's format; ignored"))
                    env.iomem = .unknown("proc/iomem is not in the kernel's format", remedy: provenance.fileRemedy("proc/iomem"))
                }
            } else if let u = fact.unknown {
                env.iomem = .unknown(u)
            }
        }
        var units: [String] = []
        if root.kind("sys/class/iommu") != nil {
            do { units = try root.list("sys/class/iommu") } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "sys/class/iommu: \(error); the IOMMU units are unknown"))
            }
        } else if root.kind("sys/class") != nil && root.kind("sys/class") != .directory {
            diagnostics.append(Diagnostic(code: "not-a-directory", message: "sys/class is not a directory; the IOMMU units are unknown"))
        }
        for unit in units {
            let path = "sys/class/iommu/" + unit
            // The kernel names VT-d units dmarN and AMD-Vi units ivhdN.
            var iommu = IOMMUUnit(name: unit, kind: unit.hasPrefix("dmar") ? .intelVTd : unit.hasPrefix("ivhd") ? .amdVi : .other)
            let resolved: Result<String, HostReadError> = Result { () throws(HostReadError) in try root.resolve(path) }
            guard case let .success(dir) = resolved, root.kind(dir) == .directory else {
                let why: String
                switch resolved {
                case let .failure(error): why = error.description
                case let .success(dir): why = "\(dir) is not a directory"
                }
                diagnostics.append(Diagnostic(code: "iommu-unit-unreadable", message: "\(path) does not lead to a directory inside the root (\(why)); the unit's registers are unknown"))
                env.iommuUnits.append(iommu)
                continue
            }
            for (sub, kind, files) in [("intel-iommu", IOMMUUnit.Kind.intelVTd, ["cap", "ecap", "version", "address"]),
                                       ("amd-iommu", IOMMUUnit.Kind.amdVi, ["cap", "features"])] {
                guard root.kind(dir + "/" + sub) == .directory else {
                    if iommu.kind == kind || root.kind(dir + "/" + sub) != nil {
                        diagnostics.append(Diagnostic(code: "iommu-unit-unreadable", message: "IOMMU unit \(unit): \(sub) is not a readable directory; the unit's registers are unknown"))
                    }
                    continue
                }
                iommu.kind = kind
                for file in files {
                    do {
                        let value = try root.readText(dir + "/" + sub + "/" + file)
                        if value.isEmpty {
                            diagnostics.append(Diagnostic(code: "empty-attribute", message: "IOMMU unit \(unit): \(sub)/\(file) is empty; ignored"))
                        } else {
                            iommu.registers[file] = value
                        }
                    } catch {
                        diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "IOMMU unit \(unit): \(sub)/\(file): \(error)"))
                    }
                }
            }
            // AMD-Vi units live below their PCI function: sys/devices/pci0000:00/0000:00:01.0/iommu/ivhd0.
            let parts = dir.fastSplit("/")
            if parts.count >= 3, parts[parts.count - 2] == "iommu", let fn = PCIAddress(sysfsName: parts[parts.count - 3]) {
                iommu.pciFunction = fn
            }
            env.iommuUnits.append(iommu)
        }
        return env
    }

    /// The VFIO backends: the misc devices `vfio` (/dev/vfio/vfio) and `iommu` (/dev/iommu) in `class/misc`,
    /// `vfio_iommu_type1` in `module/` or proc/modules, and the kernel's configuration (`boot/config-RELEASE`).
    /// Whether the kernel makes device cdevs is filled in by `crossCheck` from the functions' `vfio-dev` entries.
    func readVFIOBackends(_ env: HostEnvironment, provenance: Provenance, _ diagnostics: inout [Diagnostic]) -> VFIOBackendFacts {
        var facts = VFIOBackendFacts()
        // class/misc lists every registered misc device: on a live host (or a snapshot that kept the directory)
        // a missing entry is a device the kernel has not registered (its module is not loaded).
        let misc = "sys/class/misc"
        switch root.kind(misc) {
        case .directory?:
            for (name, node) in [("vfio", "/dev/vfio/vfio"), ("iommu", "/dev/iommu")] {
                let fact: Fact<Bool>
                switch root.kind(misc + "/" + name) {
                case nil: fact = .known(false, evidence: "\(misc) has no \(name): the kernel has not registered \(node)")
                case .link?, .directory?:
                    // The kernel's entry leads to the misc device's directory (devices/virtual/misc/NAME) with its `dev`.
                    if let dir = try? root.resolve(misc + "/" + name), root.kind(dir) == .directory, root.kind(dir + "/dev") == .file {
                        fact = .known(true, evidence: "\(misc)/\(name): the kernel registered \(node)")
                    } else {
                        diagnostics.append(Diagnostic(code: "malformed-attribute", message: "\(misc)/\(name) does not lead to a misc device with a dev file; whether \(node) exists is unknown"))
                        fact = .unknown("\(misc)/\(name) does not lead to the kernel's misc device", remedy: provenance.fileRemedy(misc))
                    }
                default:
                    diagnostics.append(Diagnostic(code: "not-a-link", message: "\(misc)/\(name) is neither a link nor a directory; whether \(node) exists is unknown"))
                    fact = .unknown("\(misc)/\(name) is not the kernel's entry", remedy: provenance.fileRemedy(misc))
                }
                if name == "vfio" { facts.containerNode = fact } else { facts.iommufdNode = fact }
            }
        case nil where root.isLiveSystem:
            facts.containerNode = .unknown("\(misc) is not readable", remedy: "mount sysfs")
            facts.iommufdNode = facts.containerNode
        case nil:
            break
        default:
            diagnostics.append(Diagnostic(code: "not-a-directory", message: "\(misc) is not a directory; the VFIO backends are unknown"))
        }
        // vfio_iommu_type1 has parameters, so module/vfio_iommu_type1 exists whether it is built in or loaded.
        if root.kind("sys/module/vfio_iommu_type1") == .directory {
            facts.type1 = .known(true, evidence: "sys/module/vfio_iommu_type1")
        } else if let modules = env.loadedModules.value {
            if modules.contains("vfio_iommu_type1") {
                facts.type1 = .known(true, evidence: "proc/modules lists vfio_iommu_type1")
            } else if root.kind("sys/module") == .directory && (root.isLiveSystem || root.kind("sys/module/vfio") == .directory) {
                facts.type1 = .known(false, evidence: "neither sys/module nor proc/modules has vfio_iommu_type1")
            } else if !modules.contains("vfio") {
                // Built in, type1 would have no proc/modules line; nothing here shows it is.
                facts.type1 = .unknown("proc/modules has no vfio_iommu_type1 and the input has no sys/module to show a built-in one", remedy: "read sys/module of the host")
            }
        }
        if let release = env.kernelRelease {
            let path = "boot/config-" + release
            if root.kind(path) != nil {
                do {
                    let text = try root.readText(path, limit: 16 << 20)
                    if let options = VFIOBackendFacts.parseConfig(text) {
                        let shown = VFIOBackendFacts.configOptions.sorted().map { "\($0.dropFirst(7))=\(options[$0] ?? "n")" }.joined(separator: " ")
                        facts.kernelConfig = .known(options, evidence: "\(path): \(shown)")
                    } else {
                        diagnostics.append(Diagnostic(code: "malformed-file", message: "\(path) holds no CONFIG_ line; ignored"))
                        facts.kernelConfig = .unknown("\(path) is not a kernel configuration", remedy: provenance.fileRemedy(path))
                    }
                } catch {
                    diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(path): \(error)"))
                    facts.kernelConfig = .unknown("\(path): \(error)", remedy: provenance.fileRemedy(path))
                }
            }
        }
        if let cdev = facts.config("CONFIG_VFIO_DEVICE_CDEV").value, let evidence = facts.kernelConfig.evidence {
            facts.deviceCdev = .known(cdev != nil, evidence: evidence.fastSplit(":").first.map(String.init) ?? evidence)
        }
        return facts
    }

    /// vfio-pci's `ids=` from the command line and every `*.conf` of modprobe.d's directories. Unknown when the
    /// command line is, or a directory or file is unreadable, or an entry is not the kernel's form; a snapshot
    /// without `etc/modprobe.d` (made by an older version) leaves it unknown too.
    func readVFIOPCIIDs(_ env: HostEnvironment, provenance: Provenance, _ diagnostics: inout [Diagnostic]) -> Fact<[VFIOPCIIDMatch]> {
        guard let line = env.kernelCommandLine.value else {
            return .unknown(env.kernelCommandLine.unknown ?? Unknown("the kernel command line is unknown", remedy: provenance.fileRemedy("proc/cmdline")))
        }
        guard var found = VFIOPCIIDMatch.parse(commandLine: line, source: "proc/cmdline") else {
            return .unknown("a vfio-pci.ids= entry of proc/cmdline is not vendor:device[:…] in hex", remedy: "read proc/cmdline of the host")
        }
        guard root.isLiveSystem || root.kind("etc/modprobe.d") != nil else {
            return .unknown("the input holds no etc/modprobe.d (a snapshot made before this version, or a copy of /sys only)",
                            remedy: "take the snapshot with this version, which copies modprobe.d")
        }
        var read: [String] = []
        for dir in VFIOPCIIDMatch.modprobeDirectories {
            switch root.kind(dir) {
            case nil: continue
            case .directory?: break
            default: return .unknown("\(dir) is not a directory", remedy: provenance.fileRemedy(dir))
            }
            let names: [String]
            do { names = try root.list(dir) } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(dir): \(error)"))
                return .unknown("\(dir) is not readable: \(error)", remedy: "read it as root")
            }
            for name in names.sorted() where name.hasSuffix(".conf") {
                let path = dir + "/" + TerminalSafe.escape(name)
                let real = dir + "/" + name
                do {
                    let text = try root.readText(real, limit: 1 << 20)
                    guard let ids = VFIOPCIIDMatch.parse(modprobeConfig: text, source: path) else {
                        return .unknown("\(path) has an `options vfio-pci ids=` entry that is not vendor:device[:…] in hex", remedy: "read \(path) of the host")
                    }
                    found += ids
                    read.append(path)
                } catch {
                    diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(path): \(error)"))
                    return .unknown("\(path) is not readable: \(error)", remedy: "read it as root")
                }
            }
        }
        // The initramfs's own configuration: initramfs-tools' modules file ("vfio-pci ids=…" lines) and dracut's
        // kernel_cmdline="… vfio-pci.ids=…" in dracut.conf.d.
        let initramfsModules = "etc/initramfs-tools/modules"
        if root.kind(initramfsModules) != nil {
            guard let text = try? root.readText(initramfsModules, limit: 1 << 20),
                  let ids = VFIOPCIIDMatch.parse(modprobeConfig: VFIOPCIIDMatch.logicalLines(text).map { "options " + $0 }.joined(separator: "\n"), source: initramfsModules) else {
                return .unknown("\(initramfsModules) is unreadable or has a vfio-pci ids= entry that is not vendor:device[:…]", remedy: "read it as root")
            }
            found += ids
            read.append(initramfsModules)
        }
        if root.kind("etc/dracut.conf.d") == .directory {
            for name in ((try? root.list("etc/dracut.conf.d")) ?? []).sorted() where name.hasSuffix(".conf") {
                let path = "etc/dracut.conf.d/" + TerminalSafe.escape(name)
                guard let text = try? root.readText("etc/dracut.conf.d/" + name, limit: 1 << 20),
                      let ids = VFIOPCIIDMatch.parse(commandLine: VFIOPCIIDMatch.dracutCommandLine(text), source: path) else {
                    return .unknown("\(path) is unreadable or has a vfio-pci.ids= entry that is not vendor:device[:…]", remedy: "read it as root")
                }
                found += ids
                read.append(path)
            }
        }
        let evidence = found.isEmpty
            ? "no vfio-pci ids= in proc/cmdline or \(read.isEmpty ? "modprobe.d (no .conf file)" : read.joined(separator: ", "))"
            : found.map { "\($0.source): ids=\($0.text)" }.joined(separator: "; ")
        return .known(found, evidence: evidence)
    }

    /// Processes with a descriptor open on /dev/vfio/N or /dev/vfio/devices/vfioN, from `proc/PID/fd` (as `fuser`).
    /// A process whose fd table cannot be read (another user's, as non-root) leaves the answer unknown.
    func readVFIOUsers(_ diagnostics: inout [Diagnostic]) -> Fact<[VFIOUser]> {
        let provenance: Provenance = root.isLiveSystem ? .liveHost : .snapshot
        if root.isLiveSystem && geteuid() != 0 {
            // Other users' processes may be hidden (proc mounted with hidepid) or their fd tables unreadable.
            return .unknown("not running as root: other users' processes may be hidden (hidepid) or their open files unreadable", remedy: "run as root")
        }
        guard let entries = try? root.list("proc") else {
            return .unknown("the input holds no proc directory", remedy: provenance.fileRemedy("proc/PID/fd"))
        }
        let pids = entries.compactMap { Int($0) }
        guard !pids.isEmpty else {
            return .unknown("the input holds no process table (proc/PID/fd)", remedy: provenance.fileRemedy("proc/PID/fd"))
        }
        var users: [VFIOUser] = []
        var unreadable = 0
        // Entries that are not what /proc holds: a PID that is not a directory, one without an fd table (every
        // process and kernel thread has one, and a snapshot keeps it), an fd entry that is not a link. Each one
        // could hide a VM holding a group open, so the answer is unknown, never "nobody".
        var damaged: [String] = []
        for pid in pids {
            let pidDir = "proc/\(pid)"
            let fdDir = pidDir + "/fd"
            switch root.kind(pidDir) {
            case .directory?, .link?:
                break
            case nil:
                continue // a process that ended while the table was read
            default:
                damaged.append("\(pidDir) is not a directory")
                continue
            }
            guard let fdKind = root.kind(fdDir) else {
                if root.isLiveSystem && root.kind(pidDir) == nil { continue } // ended meanwhile
                damaged.append("\(pidDir) has no fd directory")
                continue
            }
            guard fdKind == .directory else {
                damaged.append("\(fdDir) is not a directory")
                continue
            }
            let fds: [String]
            do { fds = try root.list(fdDir) } catch {
                if error.isMissing && root.isLiveSystem { continue }
                if case .permissionDenied = error { unreadable += 1 } else { damaged.append("\(fdDir): \(error)") }
                continue
            }
            for fd in fds {
                let entry = fdDir + "/" + fd
                let target: String
                do { target = try root.readLinkText(entry) } catch {
                    // A descriptor closed while the table was read is gone; anything else there is damage.
                    if error.isMissing && root.isLiveSystem { continue }
                    damaged.append("\(entry) is not a link (\(error))")
                    continue
                }
                // The kernel writes an absolute path (d_path), or `type:[inode]`, `anon_inode:NAME`: anything
                // else (a relative path, a link to itself) is not what /proc holds, and could hide a VFIO device.
                guard target.hasPrefix("/") || target.contains(":") else {
                    damaged.append("\(entry) points to '\(TerminalSafe.escape(String(target.prefix(60))))', which no open file is")
                    continue
                }
                // The kernel's forms of one device: "/dev/vfio/7", "/dev/vfio/7 (deleted)"; "//" and a leading 0 are
                // not the kernel's but name the same: normalised, and anything else under /dev/vfio is kept as read.
                var normal = target
                if normal.hasSuffix(" (deleted)") { normal = String(normal.dropLast(" (deleted)".count)) }
                while normal.contains("//") { normal = normal.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/"); normal = "/" + normal }
                guard normal.hasPrefix("/dev/vfio/"), normal != "/dev/vfio/vfio" else { continue }
                if let n = Int(normal.dropFirst("/dev/vfio/".count)) { normal = "/dev/vfio/\(n)" }
                if normal.hasPrefix("/dev/vfio/devices/vfio"), let n = Int(normal.dropFirst("/dev/vfio/devices/vfio".count)) { normal = "/dev/vfio/devices/vfio\(n)" }
                users.append(VFIOUser(pid: pid, command: (try? root.readText("proc/\(pid)/comm")).map(TerminalSafe.escape), device: TerminalSafe.escape(normal)))
            }
        }
        if unreadable > 0 {
            diagnostics.append(Diagnostic(code: "permission-denied", message: "the open files of \(unreadable) process(es) are not readable; which VFIO devices are in use is unknown (run as root)"))
            return .unknown("the open files of \(unreadable) process(es) are not readable", remedy: "run as root")
        }
        if !damaged.isEmpty {
            for d in damaged.prefix(5) {
                diagnostics.append(Diagnostic(code: "process-table-damaged", message: "\(d); which processes hold VFIO devices open is unknown"))
            }
            return .unknown("the process table is damaged (\(damaged[0])\(damaged.count > 1 ? ", and \(damaged.count - 1) more" : ""))",
                            remedy: provenance.fileRemedy("proc/PID/fd"))
        }
        return .known(users, evidence: "proc/*/fd of \(pids.count) processes")
    }

    /// The kernel's IOMMU groups: `sys/kernel/iommu_groups/N/devices`, or, in a partial tree without that
    /// directory, the functions' own `iommu_group` links. With neither, the source says whether the input
    /// shows that the kernel made no groups (a complete tree: no links, no units) or cannot say.
    func readGroups(_ functions: [PCIFunction], _ env: inout HostEnvironment, _ diagnostics: inout [Diagnostic]) -> [IOMMUGroup] {
        let directory = "sys/kernel/iommu_groups"
        var ids: [String]?
        var listingUnreadable: HostReadError?
        if root.kind(directory) != nil {
            do { ids = try root.list(directory) } catch {
                listingUnreadable = error
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(directory): \(error); the kernel's groups are taken from the device links, or unknown"))
            }
        }
        if let ids, !ids.isEmpty {
            env.groupSource = .groupDirectory
            var groups = readGroupDirectory(ids, functions: functions, &diagnostics)
            // A function whose iommu_group link names a group the listing lacks: keep the link's group, so every
            // command shows the same group; the disagreement makes that group's membership unknown (crossCheck).
            // A function whose link names a listed group that does not list it: it stays a member (its link is the
            // kernel's word too), and the group's membership is uncertain.
            let listedMembersBefore = Set(groups.flatMap(\.members))
            // Functions by the group their link names, once (not a pass over every function per group).
            var unlistedByLink: [Int: [PCIAddress]] = [:]
            for f in functions {
                if let id = f.iommuGroup, !listedMembersBefore.contains(f.address) { unlistedByLink[id, default: []].append(f.address) }
            }
            for i in groups.indices {
                let claimed = unlistedByLink[groups[i].id] ?? []
                guard !claimed.isEmpty else { continue }
                groups[i].members = (groups[i].members + claimed).sorted()
                groups[i].inconsistency = groups[i].inconsistency ?? "\(claimed.map(\.description).joined(separator: ", ")) link(s) to group \(groups[i].id), whose devices/ does not list them"
            }
            let listed = Set(groups.map(\.id))
            let listedMembers = Set(groups.flatMap(\.members))
            let orphans = Dictionary(grouping: functions.filter { f in
                !listedMembers.contains(f.address) && f.iommuGroup.map { !listed.contains($0) } ?? false
            }, by: { $0.iommuGroup ?? -1 })
            for (id, members) in orphans {
                diagnostics.append(Diagnostic(code: "group-inconsistent",
                    message: "\(members.map(\.address.description).joined(separator: ", ")) link(s) to IOMMU group \(id), which \(directory) does not list"))
                var group = IOMMUGroup(id: id, members: members.map(\.address).sorted())
                group.inconsistency = "the members' iommu_group links name group \(id), which \(directory) does not list"
                groups.append(group)
            }
            // An empty reserved_regions where the host's other groups list regions (x86 lists the MSI window in every
            // group, iommu_get_resv_regions): a damaged copy, not a group without one.
            if let witness = groups.first(where: { !($0.reservedRegions.value?.isEmpty ?? true) }) {
                for i in groups.indices where groups[i].reservedRegions.value?.isEmpty == true {
                    let path = "sys/kernel/iommu_groups/\(groups[i].id)/reserved_regions"
                    diagnostics.append(Diagnostic(code: "empty-attribute", message: "\(path) is empty while group \(witness.id) lists regions; whether group \(groups[i].id) has a firmware 1:1 mapping is unknown"))
                    groups[i].reservedRegions = .unknown("\(path) is empty, while every other group of this host lists reserved regions", remedy: "read the host's own sysfs")
                }
            }
            return groups.sorted { $0.id < $1.id }
        }
        let linked = functions.filter { $0.iommuGroup != nil }
        if !linked.isEmpty {
            env.groupSource = .deviceLinks
            diagnostics.append(Diagnostic(code: "groups-from-links",
                message: "\(directory) is \(listingUnreadable != nil ? "not readable" : ids == nil ? "absent" : "empty") but \(linked.count) function(s) have iommu_group links: the groups are taken from those links"))
            let unlinked = functions.filter { $0.iommuGroup == nil && $0.sysfsPath != nil }
            if !unlinked.isEmpty {
                env.groupMembershipIncomplete = Unknown("the groups come from the devices' iommu_group links, and \(unlinked.count) function(s) have none (e.g. \(unlinked[0].address)): where they belong is unknown",
                                                        remedy: "read sys/kernel/iommu_groups of the host")
            }
            let byID = Dictionary(grouping: linked, by: { $0.iommuGroup ?? -1 })
            return byID.map { IOMMUGroup(id: $0.key, members: $0.value.map(\.address).sorted(), type: nil) }.sorted { $0.id < $1.id }
        }
        let readable = functions.filter { $0.sysfsPath?.hasPrefix("sys/devices/") == true }
        // Evidence that an IOMMU exists although no group is in the input: the tree is incomplete, not IOMMU-less.
        let params = env.commandLineParameters
        let requested = ["intel_iommu", "amd_iommu", "iommu"].compactMap { name in
            params[name].flatMap { $0.fastSplit(",").contains("on") || $0 == "pt" || $0 == "force" ? "\(name)=\($0)" : nil }
        }
        if let error = listingUnreadable {
            env.groupSource = .none(Unknown("\(directory) is not readable (\(error))", remedy: "read it as root"))
        } else if !env.iommuUnits.isEmpty || !requested.isEmpty {
            let why = !env.iommuUnits.isEmpty ? "sys/class/iommu lists \(env.iommuUnits.count) unit(s)" : "the command line asks for one (\(requested.joined(separator: " ")))"
            env.groupSource = .none(Unknown("there is an IOMMU (\(why)) but \(directory) is \(ids == nil ? "absent" : "empty") and no device has an iommu_group link: the tree is incomplete",
                                            remedy: "read the host's own sysfs, or a snapshot made by `vfio-inspect snapshot`"))
        } else if ids == nil && !env.kernelCommandLine.isKnown {
            // A kernel with IOMMU support always has the directory (iommu_init makes the kset, even empty): its absence
            // with no command line either is an incomplete input as much as an IOMMU-less kernel.
            env.groupSource = .none(Unknown("\(directory) and proc/cmdline are both absent: whether the kernel made IOMMU groups is unknown",
                                            remedy: "read the host's own sysfs, or a snapshot made by `vfio-inspect snapshot`"))
        } else if !readable.isEmpty {
            var evidence = ["\(directory) is \(ids == nil ? "absent" : "empty")",
                            "none of the \(readable.count) device directories has an iommu_group link",
                            root.kind("sys/class/iommu") == nil ? "sys/class/iommu is absent" : "sys/class/iommu lists no unit"]
            if let line = env.kernelCommandLine.value { evidence.append("kernel command line: \(line)") }
            env.groupSource = .noneMade(evidence: evidence)
        } else {
            env.groupSource = .none(Unknown("no device directory of this tree could be read, so whether the kernel made IOMMU groups is unknown",
                                            remedy: "read the host's own sysfs"))
        }
        return []
    }

    /// The groups of `sys/kernel/iommu_groups`. A group whose `devices/` cannot be listed keeps the members whose
    /// `iommu_group` links name it, and says its membership is uncertain (never an empty group).
    private func readGroupDirectory(_ ids: [String], functions: [PCIFunction], _ diagnostics: inout [Diagnostic]) -> [IOMMUGroup] {
        var groups: [IOMMUGroup] = []
        var linked: [Int: [PCIAddress]] = [:]
        for f in functions { if let g = f.iommuGroup { linked[g, default: []].append(f.address) } }
        for name in ids {
            guard let id = Int(name) else {
                diagnostics.append(Diagnostic(code: "unexpected-entry", message: "sys/kernel/iommu_groups/\(name) is not a group number; ignored"))
                continue
            }
            let base = "sys/kernel/iommu_groups/\(name)"
            var members: [PCIAddress] = []
            var unreadable: String?
            // The group's directory listed once: its files through that handle, and `devices` listed through it
            // when it is a real directory (a link there, or no listing, takes the full resolution by path).
            let handle = (try? root.resolve(base, seen: seen)).flatMap { root.openDirectoryListing(canonical: $0) }
            do {
                let entries: [String]
                if let handle, handle.listing?["devices"] == .directory,
                   let devices = root.openDirectoryListing(canonical: handle.path + "/devices"), let listing = devices.listing {
                    entries = Array(listing.keys)
                } else {
                    entries = try root.list(base + "/devices", seen: seen)
                }
                for entry in entries {
                    // Groups may hold non-PCI devices (platform devices on ARM); only PCI functions are listed.
                    if let address = PCIAddress(sysfsName: entry) { members.append(address) }
                }
                // The kernel removes a group with its last device: an empty devices/ is a damaged copy.
                if entries.isEmpty { unreadable = "\(base)/devices is empty, which no kernel group is" }
            } catch {
                diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(base)/devices: \(error); the group's members are taken from the devices' iommu_group links"))
                unreadable = "\(base)/devices is not readable (\(error))"
            }
            if unreadable != nil { members = linked[id] ?? [] }
            func text(_ file: String) -> String? {
                if let handle { return (try? root.readTextIfPresent(file, in: handle)) ?? nil }
                return try? root.readText(base + "/" + file)
            }
            var group = IOMMUGroup(id: id, members: members.sorted(),
                                   type: options.facts.contains(.groupType) ? text("type").map(TerminalSafe.escape) : nil)
            group.inconsistency = unreadable.map { "\($0): its members are known only from their own links" }
            if options.facts.contains(.reservedRegions) { group.reservedRegions = reservedRegions(base, handle: handle, &diagnostics) }
            groups.append(group)
        }
        return groups
    }

    /// A group's `reserved_regions` (Linux 4.11 and later make it for every group): known only when it is a
    /// regular file whose every line is `0xSTART 0xEND TYPE` (iommu_group_show_resv_regions); an empty file is
    /// a group with no reserved region. Missing, unreadable or malformed: unknown, never "no 1:1 mapping".
    func reservedRegions(_ base: String, handle: HostRoot.Directory?, _ diagnostics: inout [Diagnostic]) -> Fact<String> {
        let path = base + "/reserved_regions"
        let provenance: Provenance = root.isLiveSystem ? .liveHost : .snapshot
        let text: String?
        do {
            if let handle { text = try root.readTextIfPresent("reserved_regions", in: handle) } else { text = try root.readTextIfPresent(path) }
        } catch {
            diagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(path): \(error); whether the group has a firmware 1:1 mapping is unknown"))
            return .unknown("\(path) is not readable (\(error))", remedy: provenance.fileRemedy(path))
        }
        guard let text else {
            return .unknown("\(path) is missing (every group has it since Linux 4.11)", remedy: provenance.fileRemedy(path))
        }
        for line in text.fastSplit("\n") {
            let f = line.fastSplit(" ")
            let hexField: (Substring) -> Bool = { $0.hasPrefix("0x") && (3...18).contains($0.utf8.count) && $0.utf8.dropFirst(2).allSatisfy(\.isHexDigit) }
            guard f.count == 3, hexField(f[0]), hexField(f[1]), f[2].utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7a || $0 == 0x2d }) else {
                diagnostics.append(Diagnostic(code: "malformed-file", message: "\(path) has a line not in the kernel's format ('\(line.prefix(60))'); whether the group has a firmware 1:1 mapping is unknown"))
                return .unknown("\(path) is not in the kernel's format", remedy: provenance.fileRemedy(path))
            }
        }
        return .known(shared.text(text), evidence: path)
    }

    /// `class/block`, `class/net`, `class/drm` and `class/graphics` name every such device the kernel has, with a
    /// link into its parent's directory. A device that leads into a function's directory but that the walk
    /// below the function did not find means the tree is damaged there: that function's host use is unknown.
    func crossCheckHostUse(_ functions: inout [PCIFunction], _ hostDiagnostics: inout [Diagnostic]) {
        var owner: [String: Int] = [:]
        for (i, f) in functions.enumerated() { if let dir = f.sysfsPath { owner[dir] = i } }
        for cls in ["block", "net", "drm", "graphics"] {
            let base = "sys/class/" + cls
            guard root.kind(base) != nil else { continue }
            let names: [String]
            do { names = try root.list(base) } catch {
                hostDiagnostics.append(Diagnostic(code: error.diagnosticCode, message: "\(base): \(error); host use is not cross-checked"))
                continue
            }
            for name in names {
                guard let text = try? root.readLinkText(base + "/" + name) else { continue }
                // Where the link points, lexically (a damaged tree may not resolve it).
                var parts = base.fastSplit("/").map(String.init)
                if text.hasPrefix("/") { parts = [] }
                for p in text.fastSplit("/") {
                    if p == ".." { if !parts.isEmpty { parts.removeLast() } } else if p != "." { parts.append(String(p)) }
                }
                // The nearest function directory on the path.
                var i = parts.count - 1
                var index: Int?
                while i > 0 {
                    if let k = owner[parts[0..<i].joined(separator: "/")] { index = k; break }
                    i -= 1
                }
                guard let k = index, var use = functions[k].hostUse.value else { continue }
                let found: Bool
                switch cls {
                case "block": found = use.blockDevices.contains(name)
                case "net": found = use.netInterfaces.contains { $0.name == name }
                case "drm": found = use.drmDevices.contains(name)
                default: found = use.framebuffers.contains(name)
                }
                if !found {
                    let path = parts.joined(separator: "/")
                    functions[k].diagnostics.append(Diagnostic(code: "host-use-unreadable",
                        message: "\(base)/\(name) leads to \(path), below this function, but that entry could not be read there: what the host does with it is unknown"))
                    functions[k].hostUse = .unknown("\(cls) device \(name) below \(functions[k].address) could not be read (\(path))", remedy: "read the host's own sysfs")
                    _ = use
                    use = HostUse()
                }
            }
        }
    }

    /// Links that must agree both ways: `iommu_group` against group listings, `physfn` against `virtfnN`.
    func crossCheck(_ functions: inout [PCIFunction], groups: [IOMMUGroup], hostDiagnostics: inout [Diagnostic]) {
        var groupOf: [PCIAddress: Int] = [:]
        for group in groups {
            for member in group.members { groupOf[member] = group.id }
        }
        var index: [PCIAddress: Int] = [:]
        for (i, f) in functions.enumerated() { index[f.address] = i }
        // A VF whose physfn link is damaged is still named by its PF's virtfnN link: take the PF from there.
        var claimedBy: [PCIAddress: PCIAddress] = [:]
        for f in functions { for vf in f.virtualFunctions { claimedBy[vf] = f.address } }
        for i in functions.indices where functions[i].physicalFunction == nil {
            guard let pf = claimedBy[functions[i].address] else { continue }
            let damaged = functions[i].diagnostics.contains { $0.message.hasPrefix("physfn") }
            guard damaged || functions[i].isVirtualFunction else { continue }
            functions[i].sriov = .virtualFunction(pf: pf)
            functions[i].diagnostics.removeAll { $0.code == "detached-vf" }
            functions[i].diagnostics.append(Diagnostic(code: "sriov-inconsistent",
                message: "physfn is missing or damaged, but \(pf)'s virtfn link names this function: it is taken as a VF of \(pf)"))
        }
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
    guard field.contains("\\") else { return TerminalSafe.escape(String(field)) }
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
    return TerminalSafe.escape(String(decoding: bytes, as: UTF8.self))
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
        case .danglingLink: "dangling-link"
        case .io: "io-error"
        }
    }
}

/// Texts many functions or groups of one scan share (`reset_method = flr bus`, a group's `reserved_regions`): one
/// copy each, not one per function (thousands of VFs read the same ones).
final class SharedTexts {
    private var texts: [String: String] = [:]
    private var wordLists: [String: [String]] = [:]

    init() {}

    /// `text`, or the equal text kept before.
    func text(_ text: String) -> String {
        if let kept = texts[text] { return kept }
        texts[text] = text
        return text
    }

    /// The space-separated words of `line`, split once per distinct line.
    func words(_ line: String) -> [String] {
        if let kept = wordLists[line] { return kept }
        let words = line.fastSplit(" ").map(String.init)
        wordLists[line] = words
        return words
    }
}
