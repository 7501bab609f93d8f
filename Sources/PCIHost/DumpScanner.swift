#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PCIConfigSpace
import PCILibPCI

/// Builds a `HostModel` from an lspci hex dump (`lspci -x`, `-xxx`, `-xxxx`) through libpci's dump method.
///
/// A dump holds config space only: no drivers, groups or sysfs attributes. Topology
/// comes from the bridges' bus numbers.
public struct DumpScanner {
    public let path: String
    public let names: PCIIDDatabase?
    public let options: ScanOptions

    public init(path: String, names: PCIIDDatabase? = nil, options: ScanOptions = ScanOptions()) {
        self.path = path
        self.names = names
        self.options = options
    }

    public func scan() throws(HostScanError) -> HostModel {
        let text = try DumpText(DumpText.readInput(path), name: path == "-" ? "standard input" : path)
        let dumped = try readBytes(text)
        guard !dumped.isEmpty else { throw .dumpEmpty(path) }
        var hostDiagnostics: [Diagnostic] = text.notes.map { Diagnostic(code: "dump-normalized", message: $0) }
        var functions: [PCIFunction] = []
        var seen: Set<PCIAddress> = []
        // A listing may name a function twice, once as text and once with its hex: only the
        // occurrences with bytes count.
        let usable = Set(dumped.filter { $0.config.count >= Self.minimumBytes }.map(\.address))
        for d in dumped {
            let address = d.address
            guard d.config.count >= Self.minimumBytes else {
                if !usable.contains(address) {
                    hostDiagnostics.append(Diagnostic(code: "config-truncated", message: "\(address): the dump holds only \(d.config.count) bytes for it, too few for its IDs and class; left out"))
                }
                continue
            }
            guard seen.insert(address).inserted else {
                hostDiagnostics.append(Diagnostic(code: "duplicate-function", message: "\(address) appears more than once in the dump with config bytes; the first is used"))
                continue
            }
            functions.append(function(from: d, annotations: text.annotations[address], text: text))
        }
        guard !functions.isEmpty else { throw .dumpWithoutConfig(path, functions: dumped.count) }
        Self.assignUpstreamFromBusNumbers(&functions, diagnostics: &hostDiagnostics)
        var environment = HostEnvironment()
        let remedy = Provenance.dump.fileRemedy("")
        environment.kernelCommandLine = .unknown("a dump holds no kernel command line", remedy: remedy)
        environment.loadedModules = .unknown("a dump holds no module list", remedy: remedy)
        environment.mounts = .unknown("a dump holds no mount table", remedy: remedy)
        environment.swaps = .unknown("a dump holds no swap table", remedy: remedy)
        var groups: [IOMMUGroup] = []
        if text.hasGroupLines {
            environment.groupSource = .dumpLines
            let grouped = Dictionary(grouping: functions.filter { $0.iommuGroup != nil }, by: { $0.iommuGroup ?? -1 })
            groups = grouped.map { IOMMUGroup(id: $0.key, members: $0.value.map(\.address).sorted()) }.sorted { $0.id < $1.id }
            // lspci numbers groups 0…N in probe order; a whole-machine dump shows them all and the host bridge at
            // 00:00.0. Gaps, or no 00:00.0, mean a filtered dump (`lspci -s`, `-d`) that may leave members out.
            let ids = Set(groups.map(\.id))
            let contiguous = ids.count == (ids.max() ?? -1) + 1
            let hasFirst = functions.contains { $0.address == PCIAddress(bus: 0, device: 0, function: 0) }
            // lspci prints 64, 256 or 4096 bytes a function: another length means the text was cut off.
            let cut = functions.first { ![64, 256, 4096].contains($0.configBytesReadable) && $0.configBytesReadable > 16 }
            // An add-in endpoint (off bus 00, where chipset functions set the bit freely) whose function 0 sets the
            // multifunction bit, with no other function of its slot in the dump.
            let slots = Dictionary(grouping: functions, by: \.address.slot)
            let lonely = functions.first { f in
                f.address.bus != 0 && f.classCode.baseClass != 0x06 && f.address.function == 0 && f.multifunctionBit && f.header?.layout == .endpoint && (slots[f.address.slot]?.count ?? 0) == 1
            }
            if !contiguous || !hasFirst || cut != nil || lonely != nil {
                let why = !contiguous ? "its group numbers have gaps (\(ids.count) groups, the highest \(ids.max() ?? 0))"
                    : !hasFirst ? "it lacks 0000:00:00.0"
                    : cut.map { "\($0.address) has \($0.configBytesReadable) bytes, not the 64, 256 or 4096 lspci prints: the text was cut off" }
                    ?? "\(lonely?.address.description ?? "a function 0") sets the multifunction bit, but no other function of its slot is in the dump"
                environment.groupMembershipIncomplete = Unknown("the dump looks filtered (\(why)): members of its groups that it does not show may exist",
                                                                remedy: "capture the whole machine: `lspci -nnkvvvxxxx` as root")
                hostDiagnostics.append(Diagnostic(code: "dump-partial", message: "the dump looks filtered (\(why)); group membership beyond it is unknown"))
            }
            // A function whose group lines contradict each other may belong to any group: all groups are uncertain.
            if environment.groupMembershipIncomplete == nil,
               let torn = functions.first(where: { f in f.diagnostics.contains { $0.code == "group-inconsistent" } }) {
                environment.groupMembershipIncomplete = Unknown("\(torn.address) has IOMMU group lines that disagree or name no group: which group holds it, and so every group's membership, is uncertain",
                                                                remedy: "capture the dump again, once: `lspci -nnkvvvxxxx` as root")
            }
            let without = functions.filter { $0.iommuGroup == nil && !$0.diagnostics.contains { $0.code == "group-inconsistent" } }
            if !without.isEmpty {
                hostDiagnostics.append(Diagnostic(code: "group-line-missing",
                    message: "the dump has IOMMU group lines, but not for \(without.count) function(s) (e.g. \(without[0].address)); their groups are unknown"))
            }
        } else {
            environment.groupSource = .none(Unknown("the dump has no `IOMMU group:` lines (lspci 3.7 and later print them on the live machine)",
                                                    remedy: "capture with `lspci -nnkvvvxxxx` on the host, as root"))
        }
        var model = HostModel(source: .dump(path: path), functions: functions, groups: groups, environment: environment, diagnostics: hostDiagnostics)
        model.skippedFunctions = text.annotations.keys.filter { !seen.contains($0) }.sorted()
        return model
    }

    /// Vendor, device, revision and class: the fewest bytes a function is kept with (lspci shows it from 12).
    static let minimumBytes = 12

    /// The dump's bytes, read by libpci's dump method from the normalised text.
    func readBytes(_ text: DumpText) throws(HostScanError) -> [DumpedFunction] {
        // The C library's temporary directory (TMPDIR, else P_tmpdir): libpci's dump method reads a path.
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? P_tmpdir
        var template = Array((directory + "/vfio-inspect-dump-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .dumpUnreadable(path, reason: "cannot create a temporary file: \(String(cString: strerror(errno)))") }
        let tempPath = String(cString: template)
        defer { unlink(tempPath) }
        let bytes = Array(text.normalized.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                close(fd)
                throw .dumpUnreadable(path, reason: "cannot write a temporary file: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        close(fd)
        do {
            return try LibPCIDump.read(path: tempPath)
        } catch {
            throw .dumpUnreadable(path, reason: error.message)
        }
    }

    /// One function from its dumped bytes and what the text says of it.
    func function(from d: DumpedFunction, annotations: DumpText.Annotations?, text: DumpText) -> PCIFunction {
        let address = d.address
        // libpci fills rows the text skips with ff: only the rows given from offset 0 without a gap are known.
        var config = d.config
        var gap: Diagnostic?
        if let covered = annotations?.contiguousBytes, covered < config.count {
            if let short = annotations?.shortRows.first(where: { $0.offset & ~0xf == covered }) {
                gap = Diagnostic(code: "dump-gap", message: "the dump's row at 0x\(hex(short.offset, 2)) for \(address) (line \(short.line)) holds fewer than 16 bytes (cut off?): only its first \(covered) bytes are known")
            } else {
                gap = Diagnostic(code: "dump-gap", message: "the dump has no row at 0x\(hex(covered, 2)) for \(address): only its first \(covered) bytes are known")
            }
            config = Array(config.prefix(covered))
        }
        let d = DumpedFunction(domain: d.domain, bus: d.bus, device: d.device, function: d.function, config: config)
        let bytes = ConfigBytes(d.config)
        // Bytes that are not a function's registers (all ones: it did not answer; see ConfigResponse) decode to nothing.
        let problem = ConfigResponse.problem(Array(d.config.prefix(64)))
        let header = problem == nil ? try? ConfigHeader(from: bytes) : nil
        let vendor = bytes.u16(0) ?? 0xffff
        let device = bytes.u16(2) ?? 0xffff
        var function = PCIFunction(
            address: address, vendorID: header?.vendorID ?? vendor, deviceID: header?.deviceID ?? device,
            subsystemVendorID: header?.subsystemVendorID, subsystemDeviceID: header?.subsystemID,
            classCode: header?.classCode ?? ClassCode(rawValue: bytes.u32(8).map { $0 >> 8 } ?? 0xff_0000),
            revision: header?.revision ?? bytes.u8(8) ?? 0, header: header,
            configBytesReadable: d.config.count, configSize: d.config.count)
        function.provenance = .dump
        function.rawConfig = d.config
        if let gap { function.diagnostics.append(gap) }
        if let problem {
            function.configUnusable = Unknown("\(address) is not responding in the dump: \(problem)",
                                              remedy: "capture it again while it answers (check its power state and link; `echo 1 > /sys/bus/pci/rescan`), with `lspci -nnkvvvxxxx` as root")
            function.diagnostics.append(Diagnostic(code: "config-not-responding", message: "\(problem); nothing is decoded from it"))
        } else if header == nil {
            function.diagnostics.append(Diagnostic(code: "config-truncated",
                message: "the dump holds only \(d.config.count) bytes: not the whole 64-byte header; everything beyond the IDs and class is unknown"))
        }
        if let header {
            if options.decodeCapabilities, let decoded = try? ConfigSpaceDecoder.decode(bytes) {
                function.config = decoded
                function.diagnostics += decoded.diagnostics
                // A bridge keeps its subsystem IDs in the SSVID capability (sysfs shows them; lspci reads them there).
                if function.subsystemVendorID == nil,
                   let ssvid = decoded.capabilities.lazy.compactMap({ c -> BridgeSubsystem? in
                       if case let .bridgeSubsystem(b) = c.body { return b } else { return nil }
                   }).first {
                    function.subsystemVendorID = ssvid.subsystemVendorID
                    function.subsystemDeviceID = ssvid.subsystemID
                }
            } else if header.idsReadAllOnes {
                function.diagnostics.append(Diagnostic(code: "config-all-ones",
                    message: "vendor and device read ffff: absent, powered off, or a virtual function whose IDs only sysfs knows"))
            }
        }
        let line = annotations.map { " (line \($0.line))" } ?? ""
        if annotations?.groupConflict == true {
            function.diagnostics.append(Diagnostic(code: "group-inconsistent",
                message: "\(address) has `IOMMU group` lines that disagree (a function pasted twice) or name no group: its group is unknown"))
        } else if let group = annotations?.iommuGroup {
            function.iommuGroup = group
        }
        if annotations?.driverUnclear == true {
            function.driverBinding = .unknown("the dump's `Kernel driver in use:` line\(line) for \(address) is empty or contradicted by a second block",
                                              remedy: "capture with `lspci -k` (e.g. `lspci -nnkvvvxxxx`)")
        } else if let driver = annotations?.driver {
            function.driverBinding = .known(driver, evidence: "the dump's `Kernel driver in use: \(driver)`\(line)")
        } else if text.hasKernelLines {
            function.driverBinding = .known(nil, evidence: "the dump was made with `lspci -k` and shows no driver for \(address)\(line)")
        } else {
            function.driverBinding = .unknown("the dump has no `Kernel driver in use:` lines", remedy: "capture with `lspci -k` (e.g. `lspci -nnkvvvxxxx`)")
        }
        if let modules = annotations?.modules {
            function.kernelModules = .known(modules, evidence: "the dump's `Kernel modules:` line\(line)")
        } else {
            function.kernelModules = .unknown(text.hasKernelLines ? "the dump has no `Kernel modules:` line for \(address) (lspci prints one only when it finds a module)" : "the dump has no `Kernel modules:` lines",
                                              remedy: "capture with `lspci -k` on the host, which has its modules installed")
        }
        // lspci -v's `Region N: … [size=…]` lines: the BAR sizes lspci read from sysfs on the live machine. Only
        // when every line was clear and each address agrees with the BAR register the hex holds.
        if let regions = annotations?.regions, annotations?.regionsUnclear == false, problem == nil {
            let bars = function.config?.bars ?? []
            // Each line must agree with its BAR register: the address, and 64-bit or not.
            let agree = regions.values.allSatisfy { r in
                bars.first { $0.index == r.index }.map { $0.address == r.start && ($0.kind == .memory64) == r.is64Bit } ?? (function.config == nil)
            }
            if agree {
                function.resources = regions.values.sorted { $0.index < $1.index }
                function.resourcesRead = true
            } else {
                function.diagnostics.append(Diagnostic(code: "region-mismatch",
                    message: "a `Region` line\(line) names an address or width its BAR register in the hex does not hold: the BAR sizes are unknown"))
                function.resourcesUnknown = Unknown("a `Region` line\(line) of \(address) disagrees with its BAR register in the hex", remedy: "capture the dump again with `lspci -nnkvvvxxxx`")
            }
        }
        function.hostUse = .unknown("a dump holds no interfaces, block devices or displays", remedy: Provenance.dump.fileRemedy(""))
        if let names, problem == nil, !(function.vendorID == 0xffff && function.deviceID == 0xffff) { function.takeNames(from: names) }
        return function
    }

    /// With config space only, a function's parent is the bridge whose secondary bus is the function's bus.
    /// Without one in the dump, the function is on a root bus only where that is certain: bus 00 (no bridge
    /// can have secondary bus 0), a host bridge, a Root Port, a Root Complex Integrated Endpoint or Event
    /// Collector. A PCI Express Endpoint, Legacy Endpoint, switch port or PCIe-to-PCI bridge always has a
    /// port above it (PCIe r6.0 §7.5.3.2), which the dump simply lacks; anything else is unknown.
    static func position(_ f: PCIFunction, parentChain: [PCIAddress], functions: [PCIFunction]) -> Fact<Position> {
        if let parent = parentChain.first {
            return .known(.below(parent), evidence: "\(parent) has secondary bus \(hex(f.address.bus, 2))")
        }
        let bus = hex(f.address.bus, 2)
        if f.address.bus == 0 {
            return .known(.rootBus, evidence: "bus 00 is a root bus (no bridge can have secondary bus 0)")
        }
        if f.classCode.isHostBridge {
            return .known(.rootBus, evidence: "a host bridge sits on a root bus")
        }
        let missing = Unknown("no function of the dump has secondary bus \(bus), so the port above \(f.address) is not in the input",
                              remedy: "capture the whole machine: `lspci -nnkvvvxxxx` as root")
        switch f.portType {
        case let .known(type?, _):
            switch type {
            case .rootPort, .rootComplexIntegratedEndpoint, .rootComplexEventCollector:
                return .known(.rootBus, evidence: "a PCI Express \(type.name) sits on a root bus")
            default:
                return .unknown(missing)
            }
        case .known(nil, _):
            return .unknown("\(f.address) is conventional PCI on bus \(bus), and no function of the dump has that secondary bus: a root bus, or a bridge not in the input",
                            remedy: "capture the whole machine: `lspci -nnkvvvxxxx` as root")
        case let .unknown(u):
            return .unknown(Unknown("the port type of \(f.address) is unknown (\(u.reason)) and no function of the dump has secondary bus \(bus)", remedy: u.remedy))
        }
    }

    static func assignUpstreamFromBusNumbers(_ functions: inout [PCIFunction], diagnostics: inout [Diagnostic]) {
        struct BusKey: Hashable {
            let domain: UInt32
            let bus: UInt8
        }
        var bridgeFor: [BusKey: PCIAddress] = [:]
        for f in functions {
            guard let numbers = f.header?.busNumbers, numbers.secondary != 0 else { continue }
            let key = BusKey(domain: f.address.domain, bus: numbers.secondary)
            if let other = bridgeFor[key], other != f.address {
                diagnostics.append(Diagnostic(code: "bus-number-conflict",
                    message: "\(other) and \(f.address) both claim secondary bus \(hex(numbers.secondary, 2)); \(other) is taken as its parent"))
                continue
            }
            bridgeFor[key] = f.address
        }
        for i in functions.indices {
            var chain: [PCIAddress] = []
            var visited: Set<PCIAddress> = [functions[i].address]
            var bus = BusKey(domain: functions[i].address.domain, bus: functions[i].address.bus)
            while let parent = bridgeFor[bus], visited.insert(parent).inserted {
                chain.append(parent)
                bus = BusKey(domain: parent.domain, bus: parent.bus)
            }
            functions[i].upstream = chain
            functions[i].position = position(functions[i], parentChain: chain, functions: functions)
        }
    }
}

extension DumpedFunction {
    var address: PCIAddress { PCIAddress(domain: domain, bus: bus, device: device, function: function) }
}
