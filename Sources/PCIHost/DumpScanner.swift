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
        var text = try DumpText(DumpText.readInput(path), name: path == "-" ? "standard input" : path)
        let hasHex = text.annotations.values.contains { !$0.rows.isEmpty || !$0.shortRows.isEmpty }
        let dumped = hasHex ? try readBytes(text) : []
        guard !dumped.isEmpty || !text.annotations.isEmpty else { throw .dumpEmpty(path) }
        var hostDiagnostics: [Diagnostic] = text.notes.map { Diagnostic(code: "dump-normalized", message: $0) }
        // What was read, form by form (a paste often mixes several).
        let forms = text.formCounts.sorted { $0.key < $1.key }.map { "\($0.value) function(s) in \($0.key.rawValue)" }
        if !forms.isEmpty { hostDiagnostics.append(Diagnostic(code: "input-forms", message: "read " + forms.joined(separator: "; "))) }
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
        // Functions the text gives without hex: their facts as lspci printed them.
        let known = Set(functions.map(\.address))
        text = resolvingNames(text, skipping: known)
        let named = Set(text.annotations.keys)
        let extendedDomains = Set(text.annotations.filter { $0.value.text.capabilities.contains(where: \.extended) || $0.value.rows.contains(0x100) }.map(\.key.domain))
        for (address, a) in text.annotations.sorted(by: { $0.key < $1.key }) where !known.contains(address) {
            guard a.text.vendorID != nil, a.text.deviceID != nil else { continue }
            let siblings = named.contains { $0.slot == address.slot && $0.function > 0 }
            functions.append(textFunction(address, annotations: a, text: text, multifunction: address.function == 0 && siblings,
                                          extendedReadable: extendedDomains.contains(address.domain)))
            seen.insert(address)
        }
        let withoutIDs = text.annotations.filter { !known.contains($0.key) && ($0.value.text.vendorID == nil || $0.value.text.deviceID == nil) }.keys.sorted()
        if let first = withoutIDs.first {
            hostDiagnostics.append(Diagnostic(code: "text-without-ids",
                message: "\(withoutIDs.count) function(s) (e.g. \(first)) are named without their vendor and device IDs (lspci without -nn, or a tree without -nn): left out; paste `lspci -nnk` with it"))
        }
        guard !functions.isEmpty else { throw .dumpWithoutConfig(path, functions: max(dumped.count, text.annotations.count)) }
        Self.assignUpstreamFromBusNumbers(&functions, diagnostics: &hostDiagnostics)
        var environment = HostEnvironment()
        let remedy = Provenance.dump.fileRemedy("")
        environment.kernelCommandLine = .unknown("a dump holds no kernel command line", remedy: remedy)
        environment.loadedModules = .unknown("a dump holds no module list", remedy: remedy)
        environment.mounts = .unknown("a dump holds no mount table", remedy: remedy)
        environment.swaps = .unknown("a dump holds no swap table", remedy: remedy)
        var groups: [IOMMUGroup] = []
        if text.hasGroupLines {
            if !text.listedGroups.isEmpty, text.annotations.values.contains(where: { $0.text.forms.contains(.groupListing) || $0.text.forms.contains(.sysfsLinks) }) {
                hostDiagnostics.append(Diagnostic(code: "group-listing", message: "the IOMMU groups are those of the pasted group listing (\(Set(text.listedGroups.values).count) groups, \(text.listedGroups.count) functions)"))
            }
            environment.groupSource = .dumpLines
            // Members are every function with a group line, read or not: a function the text names but could not be
            // read (no IDs) is in its group all the same.
            var memberships: [Int: [PCIAddress]] = [:]
            for f in functions { if let g = f.iommuGroup { memberships[g, default: []].append(f.address) } }
            let built = Set(functions.map(\.address))
            for (address, a) in text.annotations where !built.contains(address) && !a.groupConflict {
                if let g = a.iommuGroup { memberships[g, default: []].append(address) }
            }
            groups = memberships.map { IOMMUGroup(id: $0.key, members: $0.value.sorted()) }.sorted { $0.id < $1.id }
            // lspci numbers groups 0…N in probe order; a whole-machine dump shows them all and the host bridge at
            // 00:00.0. Gaps, or no 00:00.0, mean a filtered dump (`lspci -s`, `-d`) that may leave members out.
            let ids = Set(groups.map(\.id))
            let contiguous = ids.count == (ids.max() ?? -1) + 1
            // A group listing names only grouped functions (00:00.0 of an AMD host is in none), so only gaps count there.
            let hasFirst = functions.contains { $0.address == PCIAddress(bus: 0, device: 0, function: 0) } || !text.listedGroups.isEmpty
            // lspci prints 64, 256 or 4096 bytes a function: another length means the text was cut off.
            let cut = functions.first { ![64, 256, 4096].contains($0.configBytesReadable) && $0.configBytesReadable > 16 }
            // An add-in endpoint (off bus 00, where chipset functions set the bit freely) whose function 0 sets the
            // multifunction bit, with no other function of its slot in the dump.
            let slots = Dictionary(grouping: functions, by: \.address.slot)
            let lonely = functions.first { f in
                f.address.bus != 0 && f.classCode.baseClass != 0x06 && f.address.function == 0 && f.multifunctionBit && f.header?.layout == .endpoint && (slots[f.address.slot]?.count ?? 0) == 1
                    && !text.annotations.keys.contains { $0.slot == f.address.slot && $0 != f.address }
            }
            // A function above 0 without its function 0 (the kernel scans functions 1-7 only behind function 0), where no
            // SR-IOV PF could have made it a VF: function 0 was cut away.
            let sriovBuses = Set(functions.filter { ($0.config?.sriov?.numVFs ?? 0) > 0 }.map { $0.address.bus })
            let orphan = functions.first { f in
                f.address.function > 0 && slots[f.address.slot]?.contains(where: { $0.address.function == 0 }) != true
                    && !text.annotations.keys.contains(PCIAddress(domain: f.address.domain, bus: f.address.bus, device: f.address.device, function: 0))
                    && sriovBuses.isEmpty
            }
            // A function the kernel would group (not the host bridge or the IOMMU itself, which AMD-Vi leaves out) with
            // no group line while others have one: its line was lost, and it may belong to any group.
            let lineless = functions.first { f in
                f.iommuGroup == nil && !f.diagnostics.contains { $0.code == "group-inconsistent" }
                    && !f.classCode.isHostBridge && f.classCode.deviceClass != 0x0806 && f.configUnusable == nil
            }
            if !contiguous || !hasFirst || cut != nil || lonely != nil || orphan != nil || lineless != nil {
                let why = !contiguous ? "its group numbers have gaps (\(ids.count) groups, the highest \(ids.max() ?? 0))"
                    : !hasFirst ? "it lacks 0000:00:00.0"
                    : cut.map { "\($0.address) has \($0.configBytesReadable) bytes, not the 64, 256 or 4096 lspci prints: the text was cut off" }
                    ?? orphan.map { "\($0.address) is there without function 0 of its slot" }
                    ?? lineless.map { "\($0.address) has no `IOMMU group` line while other functions do" }
                    ?? "\(lonely?.address.description ?? "a function 0") sets the multifunction bit, but no other function of its slot is in the dump"
                environment.groupMembershipIncomplete = Unknown("the dump looks filtered (\(why)): members of its groups that it does not show may exist",
                                                                remedy: "capture the whole machine: `lspci -nnkvvvxxxx` as root")
                hostDiagnostics.append(Diagnostic(code: "dump-partial", message: "the dump looks filtered (\(why)); group membership beyond it is unknown"))
            }
            // A line that names a function no form could read (a damaged listing line or record), or groups read from a
            // section of the paste that follows a filtering command (`| grep`, `lspci -s`): members may be missing.
            if environment.groupMembershipIncomplete == nil, let line = text.unreadFunctionLines.first {
                environment.groupMembershipIncomplete = Unknown("line \(line) of the paste names a function but cannot be read: that function may belong to any group",
                                                                remedy: "paste the listing again, unedited")
            }
            if environment.groupMembershipIncomplete == nil, !text.filteredSections.isDisjoint(with: text.listingSections) {
                environment.groupMembershipIncomplete = Unknown("the group listing follows a filtering command (`grep`, `head`, `lspci -s`/`-d`): it may leave members out",
                                                                remedy: "paste the whole listing, unfiltered")
            }
            // A text that contradicts itself about a function (a header line lost, so its block ran into the one
            // before): a function may be missing from its group, so every group's membership is uncertain.
            if environment.groupMembershipIncomplete == nil,
               let torn = functions.first(where: { f in f.diagnostics.contains { $0.code == "text-contradiction" } }) {
                environment.groupMembershipIncomplete = Unknown("the text says contradictory things about \(torn.address) (a block run together with another, or pasted twice differently): a function may be missing from its group",
                                                                remedy: "paste the whole `lspci -nnkvvv` output again, unedited")
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
        applyText(&function, annotations: annotations, text: text, problem: problem)
        function.hostUse = .unknown("a dump holds no interfaces, block devices or displays", remedy: Provenance.dump.fileRemedy(""))
        if let names, problem == nil, !(function.vendorID == 0xffff && function.deviceID == 0xffff) { function.takeNames(from: names) }
        return function
    }

    /// Text without -nn names functions without IDs: their IDs, class and subsystem are looked up in the pci.ids file
    /// `names` reads, where exactly one entry renders as the printed name (`PCINameIndex`).
    func resolvingNames(_ text: DumpText, skipping known: Set<PCIAddress>) -> DumpText {
        let needing = text.annotations.filter { !known.contains($0.key) && (($0.value.text.vendorID == nil && $0.value.text.nameText != nil) || ($0.value.text.deviceClass == nil && $0.value.text.className != nil)) }
        guard !needing.isEmpty, let file = names?.filePath, !file.hasSuffix(".gz"),
              let bytes = try? DumpText.readInput(file, limit: 32 << 20) else { return text }
        let index = PCINameIndex(bytes)
        var copy = text
        for (address, a) in needing {
            var t = a.text
            if t.vendorID == nil, let n = t.nameText, let (v, d) = index.ids(n) {
                t.vendorID = v
                t.deviceID = d
                t.idsFromNames = "\(hex(v, 4)):\(hex(d, 4)) is the one entry of \(file) named `\(n)` (the text has no -nn IDs)"
                if t.identityLine == nil { t.identityLine = a.line }
            }
            if t.deviceClass == nil, let c = t.className, let code = index.deviceClass(c) { t.deviceClass = code }
            if t.subsystemVendorID == nil, let s = t.subsystemText, let v = t.vendorID, let d = t.deviceID, let (sv, sd) = index.subsystem(s, vendor: v, device: d) {
                t.subsystemVendorID = sv
                t.subsystemDeviceID = sd
            }
            copy.replaceFacts(t, for: address)
        }
        return copy
    }

    /// A function known only from lspci's text: its identity as printed, and config space rebuilt from `-vv` register
    /// lines where the text has them (`TextConfigImage`); everything else unknown with the form that would show it.
    func textFunction(_ address: PCIAddress, annotations a: DumpText.Annotations, text: DumpText, multifunction: Bool, extendedReadable: Bool) -> PCIFunction {
        let t = a.text
        let line = t.identityLine ?? a.line
        let remedy = "paste `sudo lspci -nnkvvvxxxx` (as root, with the hex) for the whole machine"
        var cls = UInt32(t.deviceClass ?? 0xff00) << 8 | UInt32(t.progIf ?? 0)
        if t.deviceClass == nil { cls = 0xff_0000 }
        var function = PCIFunction(
            address: address, vendorID: t.vendorID ?? 0xffff, deviceID: t.deviceID ?? 0xffff,
            subsystemVendorID: t.subsystemVendorID, subsystemDeviceID: t.subsystemDeviceID,
            classCode: ClassCode(rawValue: cls), revision: t.revision ?? 0, header: nil,
            configBytesReadable: 0, configSize: 0)
        function.provenance = .dump
        if let how = t.idsFromNames { function.diagnostics.append(Diagnostic(code: "ids-from-names", message: how)) }
        let forms = t.forms.sorted().map(\.rawValue).joined(separator: ", ")
        // A second block whose capability lines differ from the first's: the two disagree.
        let repeatedDiffers = t.capabilities.contains { $0.repeatedDetail != nil && $0.repeatedDetail != $0.detail }
        if t.identityConflict || repeatedDiffers {
            function.configUnusable = Unknown("blocks of the text about \(address) disagree on its IDs, class, revision or capabilities (line \(line)): what it is, is unknown", remedy: remedy)
            function.diagnostics.append(Diagnostic(code: "text-contradiction", message: "the text describes \(address) twice, differently; nothing is taken from it"))
        } else if t.deviceClass == nil {
            function.configUnusable = Unknown("the text (\(forms), line \(line)) names \(address) with its IDs but not its class", remedy: "paste `lspci -nnk` with it")
        } else if let (source, image) = TextConfigImage.build(t, multifunction: multifunction, extendedReadable: extendedReadable),
                  let header = try? ConfigHeader(from: source) {
            function.header = header
            function.configBytesReadable = source.readableCount
            function.configSize = source.readableCount
            if t.capabilitiesDenied {
                function.configGap = Unknown("the text shows `Capabilities: <access denied>` for \(address) (line \(t.capabilitiesDeniedLine ?? line)): lspci ran without root and read only the 64-byte header",
                                             remedy: "run lspci as root: `sudo lspci -nnkvvv`")
            } else if let gap = image.chainGap {
                function.configGap = Unknown(gap + " for \(address)", remedy: "paste `sudo lspci -nnkvvvxxxx`, whose hex holds every register")
            }
            if options.decodeCapabilities, let decoded = try? ConfigSpaceDecoder.decode(source) {
                function.config = decoded
                // The decoder's words for bytes it could not read speak of a dump's length; the text's reason is configGap.
                function.diagnostics += decoded.diagnostics.filter { !["capability-truncated", "capabilities-unreadable", "extended-capabilities-unreadable"].contains($0.code) }
                if let ssvid = decoded.capabilities.lazy.compactMap({ c -> BridgeSubsystem? in
                    if case let .bridgeSubsystem(b) = c.body { return b } else { return nil }
                }).first, function.subsystemVendorID == nil {
                    function.subsystemVendorID = ssvid.subsystemVendorID
                    function.subsystemDeviceID = ssvid.subsystemID
                }
            }
            if !image.notShown.isEmpty {
                function.diagnostics.append(Diagnostic(code: "text-registers-not-shown",
                    message: "lspci's text gives no registers for \(image.notShown.joined(separator: ", ")): no rule reads them"))
            }
            if !t.interruptShown {
                function.interruptPinUnknown = Unknown("the text has no `Interrupt:` line for \(address): its interrupt pin is unknown (taken as pin A)", remedy: "paste the function's whole `lspci -vv` block")
            }
            if !multifunction {
                function.multifunctionUnknown = Unknown(address.function == 0
                    ? "lspci's text never prints the header-type register, and the text shows no other function of slot \(address.slot): whether \(address) sets the multifunction bit is unknown"
                    : "lspci's text never prints the header-type register of \(address) (the kernel counts it multifunction as a function above 0)",
                                                        remedy: "`lspci -s \(address) -xxx` shows it (byte 0e, bit 7)")
            }
            if function.subsystemVendorID == nil, header.layout == .endpoint {
                // lspci -vv prints `Subsystem:` unless the register reads 0000 or ffff (show_verbose): none either way.
                function.subsystemVendorID = header.subsystemVendorID
                function.subsystemDeviceID = header.subsystemID
            }
        } else {
            function.declaredBusNumbers = t.busNumbers
            let why: String
            if let damaged = t.damagedLines.first {
                why = "line \(damaged) of the text, a register line lspci prints for \(address), cannot be read (cut or garbled): its header registers are unknown"
            } else if t.verbosity >= 2, t.busNumbers == nil, t.deviceClass == 0x0604 || t.deviceClass == 0x0609 {
                why = "the lspci -vv text of bridge \(address) has no `Bus:` line: its header is unknown"
            } else {
            switch t.verbosity {
            case 1: why = "lspci -v text (line \(line)) names the capabilities of \(address) but prints none of their registers, and no Control or Status line"
            default: why = "the text (\(forms), line \(line)) gives the IDs and class of \(address), not its registers"
            }
            }
            function.configGap = Unknown(why, remedy: "paste `sudo lspci -nnkvvv` (as root), or `sudo lspci -nnkvvvxxxx`")
            if !multifunction {
                function.multifunctionUnknown = Unknown("the text does not show the header-type register of \(address)", remedy: "`lspci -s \(address) -xxx` shows it (byte 0e, bit 7)")
            }
        }
        applyText(&function, annotations: a, text: text, problem: function.configUnusable?.reason)
        if t.identityConflict || repeatedDiffers {
            // A text that contradicts itself about the function (a header line lost, so two functions' lines ran
            // together): its driver lines may be another function's.
            let why = Unknown("the text contradicts itself about \(address) (line \(line)): its driver lines may belong to another function", remedy: remedy)
            function.driverBinding = .unknown(why)
            function.kernelModules = .unknown(why)
        }
        function.hostUse = .unknown("lspci's text holds no interfaces, block devices or displays", remedy: Provenance.dump.fileRemedy(""))
        if let names, function.configUnusable == nil { function.takeNames(from: names) }
        return function
    }

    /// What the text says of a function besides its bytes: group, driver, modules, BAR sizes.
    func applyText(_ function: inout PCIFunction, annotations: DumpText.Annotations?, text: DumpText, problem: String?) {
        let address = function.address
        let line = annotations.map { " (line \($0.line))" } ?? ""
        if annotations?.groupConflict == true {
            function.claimedGroups = (annotations?.claimedGroups ?? []).sorted()
            function.diagnostics.append(Diagnostic(code: "group-inconsistent",
                message: "\(address) has `IOMMU group` lines that disagree (a function pasted twice) or name no group: its group is unknown"))
        } else if let group = annotations?.iommuGroup {
            function.iommuGroup = group
        }
        if annotations?.driverUnclear == true {
            function.driverBinding = .unknown("the dump's `Kernel driver in use:` line\(line) for \(address) is empty or contradicted by a second block",
                                              remedy: "capture with `lspci -k` (e.g. `lspci -nnkvvvxxxx`)")
        } else if let driver = annotations?.driver {
            function.driverBinding = .known(driver, evidence: "`Kernel driver in use: \(driver)` in the input's block for \(address)\(line.isEmpty ? "" : " (its header at " + line.dropFirst(2))")
        } else if let section = annotations?.section, text.sectionsWithKernelLines.contains(section) {
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
            guard let numbers = f.bridgeBusNumbers, numbers.secondary != 0 else { continue }
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
