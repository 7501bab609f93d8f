import PCIConfigSpace
import PCIHost

/// Rules about the functions of one unit (a group, or a planned assignment expanded to its groups).
/// One function per check line; each answers UNKNOWN, with the missing fact, where the input lacks it.
public enum FunctionRules {
    public static func isBridge(_ f: PCIFunction) -> Bool {
        f.isBridge || f.config?.pciExpress.map { [.rootPort, .upstreamPort, .downstreamPort, .pcieToPCIBridge, .pciToPCIeBridge].contains($0.portType) } == true
    }

    /// Endpoints of the unit: what would go to the guest. Bridges and ports stay with the host.
    public static func endpoints(_ members: [PCIFunction]) -> [PCIFunction] {
        members.filter { !isBridge($0) }
    }

    /// Every function rule over `members`. `missing` are members the kernel lists that the input could
    /// not read: a rule about "the whole unit" (only bridges here) is then unknown.
    public static func evaluate(_ members: [PCIFunction], model: HostModel, missing: [PCIAddress] = []) -> [Finding] {
        var findings = candidate(members, missing: missing)
        if findings.contains(where: { $0.code == .bridgesOnly }) { return findings }
        let bridges = members.filter(isBridge)
        if !bridges.isEmpty {
            findings.append(Finding(.sharesWithBridge, .info,
                "The group includes \(bridges.map(\.address.description).joined(separator: ", ")), a bridge that stays with the host on \(bridges.first.map { $0.driverBinding.isKnown ? ($0.driver ?? "no driver") : "a driver the input does not show" } ?? "no driver"); VFIO allows that.",
                functions: bridges.map(\.address)))
        }
        for f in members where !isBridge(f) && !isChipset(f) {
            findings += hostUse(f, model) + drivers(f) + KernelRefusals.denylisted(f, model: model) + reset(f, model) + interrupts(f) + sriov(f, model) + mmioWindow(f)
                + VFIOBackendRules.vgpu(f)
        }
        let candidates = members.filter { !isBridge($0) && !isChipset($0) }
        if !candidates.isEmpty {
            findings += VFIOBackendRules.backend(candidates, model) + VFIOBackendRules.migration(candidates, model)
            findings += MMIOBudget.findings(candidates, model)
        }
        // A chipset function is never a candidate, but its reset line says what is true of it (never a silent PASS).
        for f in members where !isBridge(f) && isChipset(f) {
            findings += reset(f, model)
        }
        // A member the input could not read: every per-function line is unknown for it, never a pass.
        if !missing.isEmpty {
            let u = Unknown("the kernel lists \(missing.map(\.description).joined(separator: ", ")) in the unit, but the input could not read it", remedy: "read the host's own sysfs, or a complete snapshot")
            let which = missing.map(\.description).joined(separator: ", ")
            findings += [
                .unknown(.driverUnknown, "Which driver \(which) is bound to is unknown.", functions: missing, u),
                .unknown(.hostUseUnknown, "Whether the host uses \(which) is unknown.", functions: missing, u),
                .unknown(.resetUnknown, "Whether \(which) can be reset is unknown.", functions: missing, u),
                .unknown(.interruptsUnknown, "Which interrupts \(which) supports is unknown.", functions: missing, u),
                .unknown(.sriovUnknown, "Whether \(which) is an SR-IOV PF with VFs enabled is unknown.", functions: missing, u),
                .unknown(.largeBAR, "Whether the BARs of \(which) fit the guest's MMIO window is unknown.", functions: missing, u),
                Finding(.notMigratable, .warn, "Whether \(which) can be live-migrated is unknown.", functions: missing, evidence: ["unknown: \(u.reason)"]),
            ]
        }
        return findings
    }

    /// Host bridges (0600), ISA/LPC bridges (0601) and IOMMUs (0806, e.g. the AMD-Vi function): the platform.
    public static func isChipset(_ f: PCIFunction) -> Bool {
        f.classCode.deviceClass == 0x0600 || f.classCode.deviceClass == 0x0601 || f.classCode.deviceClass == 0x0806
    }

    /// Only endpoints are candidates; host and ISA/LPC bridges are the platform itself.
    static func candidate(_ members: [PCIFunction], missing: [PCIAddress]) -> [Finding] {
        var findings: [Finding] = []
        if members.isEmpty {
            return [Finding(.identityUnknown, .unknown, "Nothing the input can read is in this unit: what it holds is unknown.",
                            evidence: ["unknown: no member of the unit could be read"], fix: "read the host's own sysfs")]
        }
        if endpoints(members).isEmpty {
            if missing.isEmpty {
                findings.append(Finding(.bridgesOnly, .fail, "Only bridges or ports are here: not a passthrough candidate (ports are never assigned; they stay on pcieport).",
                                        functions: members.map(\.address)))
            }
            return findings
        }
        // Config bytes that are not the function's registers (ConfigResponse): what it is and what it can do are unknown.
        for f in members where !isBridge(f) {
            guard let u = f.configUnusable else { continue }
            findings.append(.unknown(.notResponding, "\(f.address) does not give readable config space: what it is and what it supports are unknown until it answers.",
                                     functions: [f.address], u))
        }
        // A member the kernel lists that the input could not read may be a chipset function or a bridge.
        if !missing.isEmpty {
            findings.append(.unknown(.identityUnknown, "What \(missing.map(\.description).joined(separator: ", ")) is (a chipset function? a bridge?) is unknown: the input lists it in the group but could not read it.",
                                     functions: missing, Unknown("the group names function(s) the scan skipped or that are not in the input", remedy: "read the host's own sysfs, or a complete snapshot")))
        }
        let endpointsKnown = endpoints(members).filter { !isChipset($0) && $0.configUnusable == nil }
        if !endpointsKnown.isEmpty {
            findings.append(Finding(.endpoint, .info, "\(endpointsKnown.map(\.address.description).joined(separator: ", ")) \(endpointsKnown.count == 1 ? "is an endpoint" : "are endpoints"): what a guest is given.",
                                    functions: endpointsKnown.map(\.address),
                                    evidence: endpointsKnown.map { "\($0.address): class \(hex($0.classCode.rawValue, 6))\($0.header.map { h in ", header type \(h.layout)" } ?? "")" }))
        }
        for f in members where isChipset(f) {
            findings.append(Finding(.chipsetFunction, .fail,
                "\(f.address) is \(f.classCode.deviceClass == 0x0600 ? "a host bridge" : f.classCode.deviceClass == 0x0806 ? "the IOMMU itself" : "an ISA/LPC bridge"): part of the platform the host runs on, never a passthrough candidate.",
                functions: [f.address], evidence: ["class \(hex(f.classCode.rawValue, 6))"]))
        }
        return findings
    }

    // MARK: Host use

    /// The host uses the function: a mounted or swapped block device (also through LVM/dm or md stacked on
    /// it), an interface that is up, the boot display.
    static func hostUse(_ f: PCIFunction, _ model: HostModel) -> [Finding] {
        let findings = hostUseFindings(f, model)
        guard findings.isEmpty, let evidence = f.hostUse.evidence else { return findings }
        // Nothing the host uses was found: say what was looked at.
        var basis = [evidence]
        if let use = f.hostUse.value {
            basis += use.netInterfaces.map { "net/\($0.name): flags without IFF_UP, operstate \($0.operstate ?? "?")" }
            if !use.blockDevices.isEmpty, let m = model.environment.mounts.evidence { basis.append(m) }
        }
        if let users = model.environment.vfioUsers.evidence, VFIODrivers.isVFIO(f.driver) { basis.append(users) }
        if f.bootVGA == false { basis.append("boot_vga = 0") }
        return [Finding(.hostUseClear, .info, "Nothing shows the host using \(f.address).", functions: [f.address], evidence: basis)]
    }

    /// A firmware framebuffer (efifb, vesafb, simplefb, simpledrm, sysfb's BOOTFB) whose range in proc/iomem lies
    /// in one of the function's BARs: the host still claims that memory, and vfio-pci's request of the BAR fails
    /// at VM start ("vfio-pci …: BAR N: can't reserve [mem …]", pci_request_selected_regions). Read for display
    /// functions (class 03xx); unknown for them when proc/iomem is not readable.
    static func firmwareFramebuffer(_ f: PCIFunction, _ model: HostModel) -> [Finding] {
        let a = f.address
        guard f.classCode.baseClass == 0x03, !f.isVirtualFunction else { return [] }
        let bars = f.resources.filter { $0.index < 6 && $0.size > 0 }
        // Linux 6.0+: vfio-pci removes the firmware framebuffers over a VGA-class (0300) device when it binds
        // (vfio_pci_core_register_device → aperture_remove_conflicting_pci_devices): nothing to do until it is bound.
        let removesItself = f.classCode.rawValue >> 8 == 0x0300 && (kernelVersion(model.environment.kernelRelease).map { $0 >= (6, 0) } ?? false)
        if removesItself && !VFIODrivers.isVFIO(f.driver) { return [] }
        switch model.environment.iomem {
        case let .unknown(u):
            guard f.provenance != .dump else { return [] }
            return [.unknown(.firmwareFramebufferUnknown, "Whether a firmware framebuffer still claims a BAR of \(a) is unknown.", functions: [a], u)]
        case let .known(ranges, _):
            guard f.resourcesRead else {
                guard f.provenance != .dump else { return [] }
                return [.unknown(.firmwareFramebufferUnknown, "Whether a firmware framebuffer still claims a BAR of \(a) is unknown.", functions: [a],
                                 Unknown("the BAR ranges of \(a) (its resource file) are unknown", remedy: "read the host's own sysfs"))]
            }
            // A framebuffer range that is not a real range (0-0 in a file that otherwise shows addresses) says nothing.
            if ranges.contains(where: { $0.isFirmwareFramebuffer && $0.start == 0 && $0.end == 0 }) {
                return [.unknown(.firmwareFramebufferUnknown, "Whether a firmware framebuffer still claims a BAR of \(a) is unknown.", functions: [a],
                                 Unknown("proc/iomem shows a firmware framebuffer without its addresses", remedy: "read proc/iomem as root"))]
            }
            let hits = ranges.filter { r in r.isFirmwareFramebuffer && bars.contains { r.start <= $0.end && $0.start <= r.end } }
            guard !hits.isEmpty else { return [] }
            let evidence = hits.map { r in
                let bar = bars.first { r.start <= $0.end && $0.start <= r.end }
                return "proc/iomem: \(hex(r.start, 8))-\(hex(r.end, 8)) : \(r.name), inside BAR \(bar?.index ?? 0) (\(hex(bar?.start ?? 0, 8))-\(hex(bar?.end ?? 0, 8)))"
            }
            let names = Set(hits.map(\.name)).sorted()
            // The parameter that keeps each one from claiming it: efifb and vesafb are fbdev drivers
            // (video=NAME:off); BOOTFB, simplefb and simpledrm come from sysfb (initcall_blacklist=sysfb_init).
            var fixes: [String] = []
            if names.contains(where: { $0.hasPrefix("efifb") }) { fixes.append("video=efifb:off") }
            if names.contains(where: { $0.hasPrefix("vesafb") }) { fixes.append("video=vesafb:off") }
            if names.contains(where: { $0.hasPrefix("BOOTFB") || $0.hasPrefix("simple") }) { fixes.append("initcall_blacklist=sysfb_init") }
            return [Finding(.firmwareFramebuffer, .warn,
                "The firmware framebuffer (\(names.joined(separator: ", "))) still claims memory in a BAR of \(a): vfio-pci cannot map that BAR when the VM starts (\"BAR N: can't reserve\").",
                functions: [a], evidence: evidence,
                fix: "boot the host with \(fixes.joined(separator: " ")) (then nothing claims the range), or unbind the framebuffer's platform device before starting the VM")]
        }
    }

    /// `major.minor` of a kernel release string (`6.1.0-13-amd64` → (6, 1)); `nil` when it does not start so.
    static func kernelVersion(_ release: String?) -> (Int, Int)? {
        guard let parts = release?.split(whereSeparator: { $0 == "." || $0 == "-" }), parts.count >= 2,
              let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }

    static func hostUseFindings(_ f: PCIFunction, _ model: HostModel) -> [Finding] {
        let a = f.address
        var findings: [Finding] = []
        if let u = f.bootVGAUnknown {
            findings.append(.unknown(.hostUseUnknown, "Whether \(a) is the boot VGA device (the host's console) is unknown.", functions: [a], u))
        }
        if f.bootVGA == true {
            let display = f.hostUse.value.map { ($0.drmDevices + $0.framebuffers) } ?? []
            findings.append(Finding(.bootVGA, .warn,
                "\(a) is the boot VGA device\(display.isEmpty ? "" : " and drives the host console (\(display.joined(separator: ", ")))"): the host loses its display, and the firmware's VGA shadow may need a ROM file.",
                functions: [a], evidence: ["boot_vga = 1"], fix: "Use another GPU for the host console, or run headless; pass video=efifb:off."))
        }
        findings += firmwareFramebuffer(f, model)
        findings += vfioInUse(f, model)
        let use: HostUse
        switch f.hostUse {
        case let .unknown(u):
            return findings + [.unknown(.hostUseUnknown, "Whether the host uses \(a) (mounted, swap, an interface that is up) is unknown.", functions: [a], u)]
        case let .known(value, _):
            use = value
        }
        for iface in use.netInterfaces {
            switch iface.administrativelyUp {
            case true?:
                findings.append(Finding(.hostNetUp, .fail, "\(a) is network interface \(iface.name), which is up on the host.",
                    functions: [a], evidence: ["sys/class/net/\(iface.name)/flags has IFF_UP; operstate=\(iface.operstate ?? "?")"],
                    fix: "ip link set \(iface.name) down, and move its addresses and routes elsewhere.",
                    steps: [.run(["ip", "link", "set", iface.name, "down"])]))
            case false? where iface.operstate == "up" || iface.operstate == "dormant":
                // IFF_UP clear with an operational link contradicts itself: up, or damaged evidence.
                findings.append(.unknown(.hostUseUnknown, "Whether interface \(iface.name) of \(a) is up is unknown: its flags say down but operstate says \(iface.operstate ?? "?").",
                    functions: [a], Unknown("flags and operstate of net/\(iface.name) contradict each other", remedy: "read the host's own sysfs (ip link show \(iface.name))")))
            case false?:
                break
            case nil:
                findings.append(.unknown(.hostUseUnknown, "Whether interface \(iface.name) of \(a) is up is unknown (operstate: \(iface.operstate ?? "unknown")).",
                    functions: [a], Unknown("net/\(iface.name)/flags is missing or unreadable", remedy: "read the host's own sysfs (ip link show \(iface.name))")))
            }
        }
        guard !use.blockDevices.isEmpty else { return findings }
        // Every name a mount or swap line can use for this function's storage.
        var names: [String: String] = [:]   // device path → what it is
        for dev in use.blockDevices { names["/dev/" + dev] = dev }
        for s in use.stackedDevices {
            let what = "\(s.name)\(s.mapperName.map { " (\($0))" } ?? "") stacked on \(s.on)"
            names["/dev/" + s.name] = what
            if let m = s.mapperName { names["/dev/mapper/" + m] = what }
            if s.name.hasPrefix("md") { names["/dev/md/" + s.name.dropFirst(2)] = what }
        }
        var decided = true
        switch model.environment.mounts {
        case let .known(mounts, _):
            let used = mounts.filter { names[$0.source] != nil }
            if !used.isEmpty {
                let points = used.map { "\($0.source) on \($0.mountPoint) (\($0.fsType))\(names[$0.source].map { $0.contains("stacked") ? " via \($0)" : "" } ?? "")" }
                findings.append(Finding(.hostMounted, .fail, "\(a) backs a mounted filesystem: the host is using it.",
                    functions: [a], evidence: points, fix: "Unmount \(used.map(\.mountPoint).joined(separator: ", ")) (and close what is stacked on it) and remove it from /etc/fstab first.",
                    steps: used.reversed().map { .run(["umount", $0.mountPoint]) }))
            }
        case let .unknown(u):
            decided = false
            findings.append(.unknown(.hostUseUnknown, "Whether a filesystem on \(a)'s block devices (\(use.blockDevices.joined(separator: ", "))) is mounted is unknown.", functions: [a], u))
        }
        switch model.environment.swaps {
        case let .known(swaps, _):
            let used = swaps.filter { names[$0] != nil }
            if !used.isEmpty {
                findings.append(Finding(.hostSwap, .fail, "\(a) holds active swap: the host is using it.", functions: [a],
                    evidence: used.map { "proc/swaps: \($0)" }, fix: "swapoff \(used.joined(separator: " ")) and remove it from /etc/fstab first.",
                    steps: used.map { .run(["swapoff", $0]) }))
            }
        case let .unknown(u):
            decided = false
            findings.append(.unknown(.hostUseUnknown, "Whether \(a)'s block devices hold active swap is unknown.", functions: [a], u))
        }
        // Mounts and swaps whose source names no block device this input knows (`/dev/root`, a ZFS dataset, a
        // /dev/disk/by-* link, UUID=/LABEL=, a /dev path that is no known device name, a "(deleted)" form): they may
        // be on these disks. And a device-mapper holder whose /dev/mapper name is unreadable may back any of them.
        var knownDevices: Set<String> = []
        for other in model.functions {
            guard let u = other.hostUse.value, !u.blockDevices.isEmpty else { continue }
            for b in u.blockDevices { knownDevices.insert("/dev/" + b) }
            for h in u.stackedDevices {
                knownDevices.insert("/dev/" + h.name)
                if let m = h.mapperName { knownDevices.insert("/dev/mapper/" + m) }
            }
        }
        let unnamedHolder = use.stackedDevices.contains { $0.name.hasPrefix("dm-") && $0.mapperName == nil }
        func doubtful(_ source: String) -> Bool {
            if source == "/dev/root" || source.hasPrefix("/dev/disk/") || source.hasPrefix("UUID=") || source.hasPrefix("LABEL=")
                || source.hasPrefix("PARTUUID=") || source.contains("(deleted)") { return true }
            if source.hasPrefix("/dev/mapper/") { return unnamedHolder && !knownDevices.contains(source) }
            return source.hasPrefix("/dev/") && !knownDevices.contains(source) && !source.hasPrefix("/dev/loop") && !source.hasPrefix("/dev/zram")
                && (source.contains("//") || source.hasSuffix("/") || use.blockDevices.contains { source.hasPrefix("/dev/" + $0) })
        }
        let unmatched = (model.environment.mounts.value ?? []).filter { $0.fsType == "zfs" || doubtful($0.source) }.map { "\($0.source) on \($0.mountPoint) (\($0.fsType))" }
            + (model.environment.swaps.value ?? []).filter(doubtful).map { "\($0) (swap)" }
        if decided && !unmatched.isEmpty && !findings.contains(where: { $0.code == .hostMounted || $0.code == .hostSwap }) {
            let which = unmatched
            return findings + [.unknown(.hostUseUnknown, "Whether \(a)'s block devices (\(use.blockDevices.joined(separator: ", "))) back \(which.joined(separator: ", ")) is unknown: that mount names no block device.",
                                        functions: [a], Unknown("proc/mounts lists \(which.joined(separator: ", ")), whose device cannot be told from its name",
                                                                remedy: "check with `findmnt -no SOURCE,MAJ:MIN` or `zpool status` on the host"))]
        }
        if decided && !findings.contains(where: { $0.code == .hostMounted || $0.code == .hostSwap }) {
            let stacked = use.stackedDevices.map { "\($0.name)\($0.mapperName.map { " (\($0))" } ?? "") on \($0.on)" }
            findings.append(Finding(.hostBlockDevice, .warn,
                "\(a) carries block devices (\(use.blockDevices.joined(separator: ", "))) that are neither mounted nor swap\(stacked.isEmpty ? "" : "; stacked on them: \(stacked.joined(separator: ", "))"); make sure nothing else uses them (a VM disk, a boot partition).",
                functions: [a], evidence: use.blockDevices.map { "block device \($0)" } + stacked.map { "holder \($0)" }))
        }
        return findings
    }

    /// A function bound to vfio-pci may already be in use: a process (a VM) holding its group
    /// (`/dev/vfio/N`) or its device file (`/dev/vfio/devices/vfioN`) open.
    static func vfioInUse(_ f: PCIFunction, _ model: HostModel) -> [Finding] {
        let a = f.address
        // Every group the input puts the function in (its own link, a listing that holds it) and its VFIO device
        // file: a process holding any of them has the function, whatever its driver link says.
        var groups = Set(model.groupIDsByMember[a] ?? [])
        if let g = f.iommuGroup { groups.insert(g) }
        let names = groups.sorted().map { "/dev/vfio/\($0)" } + [f.vfioRegistration.map { "/dev/vfio/devices/" + $0.name }].compactMap { $0 }
        // Only a VFIO-bound function (or one whose driver is unknown) can be held through VFIO.
        let mayBeHeld = VFIODrivers.isVFIO(f.driver) || !f.driverBinding.isKnown || f.vfioRegistration != nil
        // A holder of a /dev/vfio path this input cannot attribute to a group or a VFIO device it knows (a form the
        // kernel writes such as "… (deleted)", a device file whose vfio-dev entry is damaged) may be holding this one.
        if case let .known(users, _) = model.environment.vfioUsers, mayBeHeld {
            // Built once for the model (a set per function was quadratic on SR-IOV hosts).
            let stray = users.filter { !model.vfioNodes.contains($0.device) }
            if !stray.isEmpty, !users.contains(where: { names.contains($0.device) }) {
                return [.unknown(.vfioInUse, "Whether \(a) is in use is unknown: PID \(stray[0].pid) holds \(stray[0].device), which names no group or VFIO device the input shows.",
                                 functions: [a], Unknown("a process holds \(stray[0].device), which cannot be matched to a group or device", remedy: "read the host's own /proc and sysfs"))]
            }
        }
        switch model.environment.vfioUsers {
        case .known where names.isEmpty, .unknown where !mayBeHeld || names.isEmpty:
            return []
        case let .known(users, _) where !mayBeHeld:
            let holding = users.filter { names.contains($0.device) }
            guard !holding.isEmpty else { return [] }
            return [.unknown(.vfioInUse, "\(a) is on \(f.driver ?? "no driver"), yet \(holding.map { "PID \($0.pid)" }.joined(separator: ", ")) holds \(holding[0].device) open: the input contradicts itself.",
                             functions: [a], Unknown("a process holds the VFIO group of a function whose driver is not a VFIO driver", remedy: "read the host's own sysfs and /proc"))]
        default:
            break
        }
        switch model.environment.vfioUsers {
        case let .known(users, evidence):
            let holding = users.filter { names.contains($0.device) }
            guard !holding.isEmpty else { return [] }
            let who = holding.map { "PID \($0.pid)\($0.command.map { " (\($0))" } ?? "") has \($0.device) open" }
            return [Finding(.vfioInUse, .fail, "\(a) is in use: \(who.joined(separator: "; ")).", functions: [a],
                            evidence: [evidence] + who, fix: "Stop that guest (or process) first; a group is used by one owner at a time.")]
        case let .unknown(u):
            return [.unknown(.vfioInUse, "Whether a process (a running VM) holds \(names.joined(separator: " or ")) open is unknown.", functions: [a], u)]
        }
    }

    // MARK: Drivers

    static func drivers(_ f: PCIFunction) -> [Finding] {
        let a = f.address
        // A VFIO device (vfio-dev/vfioN) whatever driver registered it: vfio-pci, a variant driver, or a vendor
        // driver such as NVIDIA's for vGPU VFs (17+), which stay on nvidia. Rebinding one would fail or break it.
        if let u = f.vfioRegistrationUnknown, !VFIODrivers.isVFIO(f.driver) {
            // A damaged vfio-dev on a function a vendor driver may own through VFIO: never advise rebinding it.
            return [.unknown(.driverUnknown, "Whether VFIO owns \(a) (through \(f.driver ?? "its driver")) is unknown.", functions: [a], u)]
        }
        if let device = f.vfioRegistration, !VFIODrivers.isVFIO(f.driver), !VFIODrivers.registersVFIODevices(f.driver) {
            return [.unknown(.driverUnknown, "\(a) has a VFIO device (vfio-dev/\(device.name)) but its driver is \(f.driver ?? "none"), which does not register VFIO devices: the two contradict each other.",
                             functions: [a], Unknown("vfio-dev/\(device.name) and driver \(f.driver ?? "none") of \(a) contradict each other", remedy: "read the host's own sysfs"))]
        }
        if let device = f.vfioRegistration, !VFIODrivers.isVFIO(f.driver) {
            return [Finding(.vfioBound, .info, "\(a) is a VFIO device (\(device.name)) registered by \(f.driver ?? "its driver"): VFIO owns it; do not rebind it (binding vfio-pci to it would fail or take it from its driver).",
                            functions: [a], evidence: ["vfio-dev/\(device.name) below \(f.sysfsPath ?? a.description)"] + (f.driverBinding.evidence.map { [$0] } ?? []))]
        }
        switch f.driverBinding {
        case let .unknown(u):
            return [.unknown(.driverUnknown, "Which driver \(a) is bound to is unknown.", functions: [a], u)]
        case let .known(driver?, evidence) where !VFIODrivers.isHeldFromHost(driver):
            let (target, why, load) = bindTarget(f)
            return [Finding(.hostDriver, .warn, "\(a) is bound to the host driver \(driver).\(why)",
                functions: [a], evidence: [evidence] + variantEvidence(f),
                fix: "driverctl set-override \(a) \(target)   (or: \(load.map { "modprobe \($0); " } ?? "")echo \(target) > /sys/bus/pci/devices/\(a)/driver_override; echo \(a) > /sys/bus/pci/devices/\(a)/driver/unbind; echo \(a) > /sys/bus/pci/drivers_probe)",
                steps: (load.map { [FixStep.run(["modprobe", $0])] } ?? []) + FixStep.bindVFIO(a, bound: true, driver: target))]
        case let .known(nil, evidence):
            let (target, why, load) = bindTarget(f)
            return [Finding(.noDriver, .warn, "\(a) has no driver; bind it to \(target) before starting the guest (libvirt's managed='yes' does this).\(why)",
                functions: [a], evidence: [evidence] + variantEvidence(f), fix: "driverctl set-override \(a) \(target)",
                steps: (load.map { [FixStep.run(["modprobe", $0])] } ?? []) + FixStep.bindVFIO(a, bound: false, driver: target))]
        case let .known(driver?, evidence):
            return [Finding(.vfioBound, .info, "\(a) is bound to \(driver), a driver that keeps it from the host.", functions: [a], evidence: [evidence])]
        }
    }

    /// What the module table says of VFIO variant drivers for `f`: its evidence, or why it is unknown.
    static func variantEvidence(_ f: PCIFunction) -> [String] {
        switch f.vfioVariantDrivers {
        case let .known(_, evidence): [evidence]
        case let .unknown(u): ["VFIO variant driver unknown: \(u.reason)"]
        }
    }

    /// The VFIO driver to bind: the variant driver the kernel's module table names for the function (its
    /// `alias vfio_pci:` entry: the driver that adds migration or device-specific regions, as libvirt ≥ 10.0
    /// picks for managed='yes'), else vfio-pci. Returns the driver's sysfs name, a sentence saying why, and the
    /// module to load first (a variant driver is never loaded by the device's own alias).
    static func bindTarget(_ f: PCIFunction) -> (driver: String, why: String, load: String?) {
        switch f.vfioVariantDrivers {
        case let .known(modules, _) where !modules.isEmpty:
            let module = modules[0]
            let driver = VFIOPCIDriverInfo.named(module)?.driver ?? module
            let others = modules.count > 1 ? " (the table also names \(modules.dropFirst().joined(separator: ", ")))" : ""
            return (driver, " Its VFIO driver is \(driver), the variant driver whose `vfio_pci:` alias matches it in the kernel's module table\(others): it adds what vfio-pci lacks for this device (live migration where the driver has it).", module)
        case .known:
            return ("vfio-pci", "", nil)
        case .unknown:
            // Said in the evidence (`vfioVariantDrivers`' reason): vfio-pci works whether or not a variant exists.
            return ("vfio-pci", "", nil)
        }
    }

    // MARK: Reset

    static func reset(_ f: PCIFunction, _ model: HostModel) -> [Finding] {
        let a = f.address
        let capability = ResetRules.capability(f, model)
        switch capability.methods {
        case let .unknown(u):
            return [.unknown(.resetUnknown, "Whether \(a) can be reset is unknown.", functions: [a], u)]
        case let .known(methods, evidence):
            if methods.contains(where: ResetRules.functionScoped.contains) {
                return [Finding(.resetAvailable, .info, "\(a) can be reset on its own (\(methods.filter(ResetRules.functionScoped.contains).joined(separator: ", "))).",
                                functions: [a], evidence: [evidence])]
            }
            if methods.contains(where: { $0 == "bus" || $0 == "cxl_bus" }) || capability.hotResetThrough != nil {
                return [busResetFinding(f, capability, evidence, model: model)]
            }
            if methods.isEmpty && f.resetMethods != nil {
                return [Finding(.noReset, .warn, "\(a) cannot be reset: the kernel has no reset method for it, so device state carries over from one guest (or the host) to the next.",
                                functions: [a], evidence: [evidence])]
            }
            if let u = capability.unknownBeyondConfig {
                return [.unknown(.resetUnknown, "\(a) shows no reset in config space; whether the kernel has another method for it is unknown.", functions: [a], u)]
            }
            return [Finding(.noReset, .warn, "\(a) cannot be reset: no FLR, no PM reset, and no bus reset above it; device state carries over between guests.", functions: [a], evidence: [evidence])]
        }
    }

    static func busResetFinding(_ f: PCIFunction, _ capability: ResetCapability, _ evidence: String, model: HostModel) -> Finding {
        let a = f.address
        // From config space alone, only what it shows is claimed: a device-specific or ACPI reset is not visible there.
        let none = capability.unknownBeyondConfig == nil ? "has no function-level reset"
            : "shows no function-level reset in config space (an ACPI _RST method would not show there)"
        guard let parent = capability.hotResetThrough else {
            return Finding(.busResetOnly, .warn, "\(a) \(none); only a bus reset.", functions: [a], evidence: [evidence])
        }
        switch capability.busResetCollateral {
        case let .known(hit, _):
            // vfio_pci_dev_set_resettable: every device the reset reaches must be a vfio-pci device of the same
            // dev_set (and, since 6.6, the opened ones owned by the caller); a bridge below stays on pcieport.
            let others = hit.compactMap { model.function($0) }
            let bridges = others.filter { FunctionRules.isBridge($0) }
            if !bridges.isEmpty {
                return Finding(.busResetOnly, .warn,
                    "\(a) \(none); a secondary bus reset at \(parent) would also reset \(hit.map(\.description).joined(separator: ", ")), including the bridge(s) \(bridges.map(\.address.description).joined(separator: ", ")), which vfio-pci never drives: VFIO cannot perform this hot reset (every device it reaches must be bound to vfio-pci, vfio_pci_dev_set_resettable), so device state carries over between guests.",
                    functions: [a] + hit, evidence: [evidence])
            }
            var message = "\(a) \(none); only a secondary bus reset at \(parent)"
            if !others.isEmpty {
                let named = others.map { o -> String in
                    switch o.driverBinding {
                    case let .known(d?, _): return "\(o.address) (\(d))"
                    case .known(nil, _): return "\(o.address) (no driver)"
                    case .unknown: return "\(o.address) (driver unknown)"
                    }
                }
                // Only a known binding is named as not yet on vfio-pci; an unknown one is said to be unknown.
                let notVFIO = others.filter { $0.driverBinding.isKnown && !VFIODrivers.isVFIO($0.driver) }
                let unknown = others.filter { !$0.driverBinding.isKnown }
                message += ", which also resets \(named.joined(separator: ", ")): VFIO performs it only when all of them are bound to vfio-pci and the opened ones belong to the same user (vfio_pci_dev_set_hot_reset)"
                if !notVFIO.isEmpty { message += "; not yet bound to vfio-pci: \(notVFIO.map(\.address.description).joined(separator: ", "))" }
                if !unknown.isEmpty { message += "; driver unknown: \(unknown.map(\.address.description).joined(separator: ", "))" }
            }
            return Finding(.busResetOnly, .warn, message + ".", functions: [a] + hit, evidence: [evidence])
        case let .unknown(u):
            return Finding(.resetUnknown, .unknown, "\(a) \(none); a secondary bus reset at \(parent) would also reset what is below it, which is not fully known.",
                           functions: [a], evidence: [evidence, "unknown: \(u.reason)"], fix: u.remedy)
        }
    }

    // MARK: Interrupts

    static func interrupts(_ f: PCIFunction) -> [Finding] {
        let a = f.address
        var findings: [Finding] = []
        let masking = INTxQuirks.brokenMasking(f)
        if case let .unknown(u) = masking, let pin = f.header?.interruptPin, pin != 0 {
            findings.append(.unknown(.interruptsUnknown, "Whether \(a) can mask INTx at the device depends on its firmware.", functions: [a], u))
        }
        if case let .known(quirk?, _) = masking, let pin = f.header?.interruptPin, pin != 0 {
            findings.append(Finding(.intxMaskingBroken, .warn,
                "\(a) cannot mask INTx at the device (\(quirk)): vfio-pci must own its interrupt line exclusively, or the guest driver must use MSI.",
                functions: [a], evidence: ["\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4)) is in the kernel's quirk_broken_intx_masking list (drivers/pci/quirks.c)", "interrupt pin \(pin)"],
                fix: "Give it an interrupt line no other device shares (another slot), or use vfio-pci nointxmask=1 only if the line is exclusive."))
        }
        guard let config = f.config, f.capabilitiesUnknown == nil else {
            let u = f.capabilitiesUnknown ?? Unknown("config space of \(a) was not decoded", remedy: f.provenance.configRemedy)
            return findings + [.unknown(.interruptsUnknown, "Which interrupts \(a) supports (INTx, MSI, MSI-X) is unknown.", functions: [a], u)]
        }
        // What config space shows: the MSI and MSI-X capabilities. Whether the device can mask INTx (DisINTx) is
        // not in it: the kernel tests the bit at enumeration (pci_intx_mask_broken, drivers/pci/probe.c) and vfio-pci
        // relies on it (vdev->pci_2_3 = pci_intx_mask_supported) only when the guest driver uses INTx; without it,
        // vfio-pci needs the line for itself. So the line passes on MSI/MSI-X alone, saying what it did not read.
        let vectors = [config.msiX.map { "MSI-X (\($0.tableSize) vectors)" }, config.msi.map { _ in "MSI" }].compactMap { $0 }
        if !vectors.isEmpty, findings.isEmpty {
            let pin = f.header?.interruptPin ?? 0
            let offsets = config.capabilities.filter { $0.id == .msi || $0.id == .msiX }.map { "\($0.id.name) capability at 0x\(hex($0.offset, 2))" }
            findings.append(Finding(.msiAvailable, .info,
                "\(a) supports \(vectors.joined(separator: " and "))\(pin == 0 ? "; it has no INTx pin" : "; whether it can mask INTx was not read (it matters only if the guest driver uses INTx: then vfio-pci needs the line to itself, or the kernel's test of DisINTx to have passed)").",
                functions: [a], evidence: offsets + (pin == 0 ? ["interrupt pin 0"] : ["interrupt pin \(pin): INTx masking untested"])))
        }
        if config.msi == nil, config.msiX == nil, let pin = f.header?.interruptPin, pin != 0 {
            findings.append(Finding(.intxOnly, .warn,
                "\(a) has only INTx interrupts: VFIO must mask them at the device (DisINTx), which some devices do not support; then the line cannot be shared.",
                functions: [a], evidence: ["capability list read to its end: no MSI or MSI-X capability", "interrupt pin \(pin)"],
                fix: "If vfio-pci reports that INTx masking is unsupported, give the device an unshared interrupt line (or vfio-pci nointxmask=1)."))
        }
        return findings
    }

    // MARK: SR-IOV

    static func sriov(_ f: PCIFunction, _ model: HostModel) -> [Finding] {
        let a = f.address
        switch f.sriov {
        case let .physicalFunction(state):
            // sriov_numvfs, or where it is unreadable the virtfnN links the kernel makes for enabled VFs.
            // The kernel makes a virtfn link for each enabled VF: links beyond sriov_numvfs mean VFs exist whatever it says.
            let links = state.virtualFunctions.count
            let enabled = state.numVFs.map { max($0, links) } ?? (links == 0 ? nil : links)
            if let n = enabled, n > 0 {
                let vfs = state.virtualFunctions
                let held = vfs.filter { model.function($0).map { VFIODrivers.isVFIO($0.driver) || $0.vfioRegistration != nil } ?? false }
                // Whether disabling SR-IOV can take a VF from under a guest: every VF's driver known and none a VFIO
                // driver, and as many VFs seen as are enabled.
                let free = held.isEmpty && vfs.count >= n && vfs.allSatisfy { model.function($0)?.driverBinding.isKnown == true }
                let release = held.isEmpty ? "" : "stop the guests that use \(held.map(\.description).joined(separator: ", ")) (bound to vfio-pci) and unbind them, then "
                let source = state.numVFs.map { $0 == links ? "sriov_numvfs = \($0)" : "sriov_numvfs = \($0), but \(links) virtfn links (they disagree)" }
                    ?? "sriov_numvfs unreadable; \(links) virtfn links"
                // vfio_pci_core_register_device refuses a PF with VFs (pci_num_vf); its own driver's remove() may leave
                // them enabled (nvme does: pci_iov_remove only warns), so SR-IOV is switched off first. With no VF in a
                // guest that is preparation; with one bound to VFIO (or not known not to be) it blocks.
                return [Finding(.pfWithVFs, free ? .warn : .fail,
                    "\(a) is an SR-IOV PF with \(n) VF(s) enabled: vfio-pci refuses to bind a PF with SR-IOV enabled (\"Cannot bind to PF with SR-IOV enabled\", vfio_pci_core_register_device)\(free ? "; none of its VFs is bound to VFIO, so disabling them is the preparation" : "").",
                    functions: [a] + vfs, evidence: [source] + (held.isEmpty ? [] : ["bound to vfio-pci: \(held.map(\.description).joined(separator: ", "))"]),
                    fix: "Assign the VFs instead, or \(release)\(f.driverBinding.isKnown && f.driver == nil ? "bind the PF's own driver again (sriov_numvfs needs a driver), then " : "")echo 0 > /sys/bus/pci/devices/\(a)/sriov_numvfs before assigning the PF.",
                    // sriov_numvfs is written through the PF's driver (sriov_numvfs_store: "no driver bound to device;
                    // cannot configure SR-IOV"): a driverless PF needs its own driver bound again first, by hand.
                    steps: free && f.driver != nil ? [.write(path: "/sys/bus/pci/devices/\(a)/sriov_numvfs", value: "0")] : nil)]
            } else if enabled == nil {
                return [.unknown(.vfSharedStateUnknown, "How many VFs \(a) has enabled is unknown (vfio-pci refuses a PF with VFs enabled).", functions: [a],
                                 Unknown("sriov_numvfs of \(a) is not readable and it has no virtfn links", remedy: "read the host's own sysfs"))]
            } else if let total = state.totalVFs, total > 0 {
                return [Finding(.vfsNotCreated, .info, "\(a) supports \(total) SR-IOV VFs and none are created.",
                    functions: [a], evidence: ["sriov_totalvfs = \(total)", "sriov_numvfs = 0"],
                    fix: "echo N > /sys/bus/pci/devices/\(a)/sriov_numvfs (N ≤ \(total)) to create VFs that can be assigned one by one.")]
            }
        case let .virtualFunction(pfAddress):
            var findings: [Finding] = []
            guard let pf = model.function(pfAddress) else {
                return [.unknown(.vfSharedStateUnknown, "\(a) is a VF of \(pfAddress), which is not in the input: its shared ATS/PRI/PASID state and its driver are unknown.",
                                 functions: [a], Unknown("\(pfAddress) is not among the input's functions", remedy: "read the whole host"))]
            }
            let shared = [("ATS", pf.config?.ats?.enabled), ("PRI", pf.config?.pri?.enabled), ("PASID", pf.config?.pasid?.enabled)]
                .filter { $0.1 == true }.map(\.0)
            if !shared.isEmpty {
                findings.append(Finding(.vfSharesPFState, .warn,
                    "\(a) is a VF of \(pfAddress), which has \(shared.joined(separator: ", ")) enabled: that state is partly shared between the PF and its VFs.",
                    functions: [a, pfAddress], evidence: shared.map { "\($0) enabled on \(pfAddress)" }))
            } else if pf.capabilitiesUnknown != nil || pf.config?.extendedCoverage == .unreadable {
                let u = pf.capabilitiesUnknown ?? Unknown("extended config space of \(pfAddress) is beyond the bytes the input holds", remedy: pf.provenance.configRemedy)
                findings.append(.unknown(.vfSharedStateUnknown, "Whether \(pfAddress) has ATS, PRI or PASID enabled (state its VF \(a) shares) is unknown.",
                                         functions: [a, pfAddress], u))
            }
            if !VFIODrivers.isHeldFromHost(pf.driver) || pf.driver == nil {
                findings.append(Finding(.vfDependsOnPF, .info,
                    "\(a) is a VF of \(pfAddress) (driver \(pf.driver ?? "none")): keep the PF and its driver on the host while the VF is assigned.",
                    functions: [a, pfAddress], evidence: ["physfn -> \(pfAddress)"]))
            }
            return findings
        case .detachedVirtualFunction:
            if let damaged = f.diagnostics.first(where: { $0.message.hasPrefix("physfn") }) {
                return [.unknown(.sriovUnknown, "\(a) looks like a VF, but its physfn link is damaged: which PF it belongs to is unknown.", functions: [a],
                                 Unknown(damaged.message, remedy: "read the host's own sysfs"))]
            }
            return [Finding(.detachedVF, .warn,
                "\(a) is a VF whose PF is not visible to this host: the PF's driver, reset and VF state are out of this host's control.",
                functions: [a], evidence: ["config space reads ffff:ffff at 0; no physfn link"])]
        case .none where f.sysfsPath != nil && f.config?.sriov == nil:
            // The kernel makes sriov_* files for every function with an SR-IOV capability (sriov_pf_dev_attr_group).
            return [Finding(.notSRIOVPF, .info, "\(a) is not an SR-IOV PF.", functions: [a],
                            evidence: ["no sriov_totalvfs in \(f.sysfsPath ?? "its directory") (the kernel makes it for every SR-IOV PF)"])]
        case .none:
            // No sysfs SR-IOV files (a dump, or a damaged tree): the SR-IOV capability itself says whether VFs are on.
            if let cap = f.config?.sriov {
                if cap.vfEnable && cap.numVFs > 0 {
                    return [Finding(.pfWithVFs, .fail,
                        "\(a) is an SR-IOV PF with \(cap.numVFs) VF(s) enabled: vfio-pci refuses to bind a PF with SR-IOV enabled (\"Cannot bind to PF with SR-IOV enabled\", vfio_pci_core_register_device).",
                        functions: [a], evidence: ["SR-IOV capability: VF Enable+, NumVFs \(cap.numVFs)"],
                        fix: "Assign the VFs instead, or echo 0 > /sys/bus/pci/devices/\(a)/sriov_numvfs before assigning the PF.")]
                }
                return []
            }
            if f.provenance == .dump || f.sysfsPath == nil, let u = f.capabilitiesUnknown ?? (f.config?.extendedCoverage == .unreadable
                ? Unknown("extended config space of \(a) is beyond the bytes the input holds", remedy: f.provenance.configRemedy) : nil) {
                return [.unknown(.sriovUnknown, "Whether \(a) is an SR-IOV PF with VFs enabled (which vfio-pci refuses) is unknown.", functions: [a], u)]
            }
        }
        return []
    }

    // MARK: MMIO window

    static func mmioWindow(_ f: PCIFunction) -> [Finding] {
        let a = f.address
        guard f.resourcesRead else {
            let u = f.resourcesUnknown ?? (f.provenance == .dump
                ? Unknown("a dump holds BAR addresses, not their sizes", remedy: "read the host's sysfs `resource` files (a snapshot has them)")
                : Unknown("the `resource` file of \(a) was not read", remedy: "run vfio-inspect on a tree that has it"))
            return [.unknown(.largeBAR, "Whether \(a)'s BARs fit the guest's default 64-bit MMIO window is unknown.", functions: [a], u)]
        }
        let large = f.resources.filter { $0.index < 6 && $0.needs64Bit && $0.size >= 1 << 32 }
        guard !large.isEmpty else {
            let sized = f.resources.filter { $0.index < 6 && $0.size > 0 }
            return [Finding(.barsSized, .info, "\(a) has no 64-bit BAR of 4 GiB or more.", functions: [a],
                            evidence: ["resource: " + (sized.isEmpty ? "no BAR in use" : sized.map { "BAR \($0.index) \($0.size >> 10) KiB" }.joined(separator: ", "))])]
        }
        let total = large.reduce(UInt64(0)) { a, b in a.addingReportingOverflow(b.size).overflow ? .max : a + b.size }
        return [Finding(.largeBAR, .info,
            "\(a) has 64-bit BARs of \(total >> 30) GiB in all: the guest firmware needs a 64-bit MMIO window at least that large.",
            functions: [a], evidence: large.map { "BAR \($0.index): \($0.size >> 30) GiB" })]
    }
}
