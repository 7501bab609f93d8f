import PCIConfigSpace
import PCIHost

/// Rules about the functions of one unit (a group, or a planned assignment expanded to its groups).
public enum FunctionRules {
    static func isBridge(_ f: PCIFunction) -> Bool {
        f.isBridge || f.config?.pciExpress.map { [.rootPort, .upstreamPort, .downstreamPort, .pcieToPCIBridge, .pciToPCIeBridge].contains($0.portType) } == true
    }

    /// Endpoints of the unit: what would go to the guest. Bridges and ports stay with the host.
    public static func endpoints(_ members: [PCIFunction]) -> [PCIFunction] {
        members.filter { !isBridge($0) }
    }

    public static func evaluate(_ members: [PCIFunction], model: HostModel) -> [Finding] {
        var findings: [Finding] = []
        let endpoints = endpoints(members)
        let bridges = members.filter(isBridge)
        if endpoints.isEmpty {
            findings.append(Finding("bridges-only", .fail, "Only bridges or ports are here: not a passthrough candidate (ports are never assigned; they stay on pcieport).",
                                    functions: members.map(\.address)))
            return findings
        }
        if !bridges.isEmpty {
            findings.append(Finding("shares-with-bridge", .info,
                "The group includes \(bridges.map(\.address.description).joined(separator: ", ")), a bridge that stays with the host on \(bridges.compactMap(\.driver).first ?? "no driver"); VFIO allows that.",
                functions: bridges.map(\.address)))
        }
        let mounts = model.environment.mounts ?? []
        for f in members {
            let a = f.address
            // The host is using it.
            let mounted = f.hostUse.blockDevices.filter { dev in mounts.contains { $0.source == "/dev/" + dev } }
            if !mounted.isEmpty {
                let points = mounts.filter { m in mounted.contains { "/dev/" + $0 == m.source } }.map { "\($0.source) on \($0.mountPoint) (\($0.fsType))" }
                findings.append(Finding("host-mounted", .fail, "\(a) backs a mounted filesystem: the host is using it.",
                    functions: [a], evidence: points, fix: "Unmount \(points.map { $0.split(separator: " ").first.map(String.init) ?? "" }.joined(separator: ", ")) and remove it from /etc/fstab first."))
            }
            for iface in f.hostUse.netInterfaces where iface.administrativelyUp == true {
                findings.append(Finding("host-net-up", .fail, "\(a) is network interface \(iface.name), which is up on the host.",
                    functions: [a], evidence: ["sys/class/net/\(iface.name)/flags has IFF_UP; operstate=\(iface.operstate ?? "?")"],
                    fix: "ip link set \(iface.name) down, and move its addresses and routes elsewhere."))
            }
            let unmounted = f.hostUse.blockDevices.filter { dev in !mounted.contains(dev) && !f.hostUse.blockDevices.contains { $0 != dev && dev.hasPrefix($0) && mounted.contains($0) } }
            if !unmounted.isEmpty && mounted.isEmpty {
                findings.append(Finding("host-block-device", .warn,
                    "\(a) carries block devices (\(unmounted.joined(separator: ", "))) that are not mounted; make sure nothing else uses them (swap, LVM, RAID, a boot partition).",
                    functions: [a], evidence: unmounted.map { "block device \($0)" }))
            }
            if f.classCode.deviceClass == 0x0600 || f.classCode.deviceClass == 0x0601 {
                findings.append(Finding("chipset-function", .fail,
                    "\(a) is a \(f.classCode.deviceClass == 0x0600 ? "host bridge" : "ISA/LPC bridge"): part of the platform the host runs on, never a passthrough candidate.",
                    functions: [a], evidence: ["class \(hex(f.classCode.rawValue, 6))"]))
                continue
            }
            if f.bootVGA == true {
                findings.append(Finding("boot-vga", .warn,
                    "\(a) is the boot VGA device\(f.hostUse.drmDevices.isEmpty ? "" : " and drives the host console (\((f.hostUse.drmDevices + f.hostUse.framebuffers).joined(separator: ", ")))"): the host loses its display, and the firmware's VGA shadow may need a ROM file.",
                    functions: [a], evidence: ["boot_vga = 1"], fix: "Use another GPU for the host console, or run headless; pass video=efifb:off."))
            }
            // Drivers.
            if !isBridge(f), !VFIODrivers.isHeldFromHost(f.driver), let driver = f.driver {
                findings.append(Finding("host-driver", .warn, "\(a) is bound to the host driver \(driver).",
                    functions: [a], evidence: ["driver -> \(driver)"],
                    fix: "driverctl set-override \(a) vfio-pci   (or: echo vfio-pci > /sys/bus/pci/devices/\(a)/driver_override; echo \(a) > /sys/bus/pci/devices/\(a)/driver/unbind; echo \(a) > /sys/bus/pci/drivers_probe)"))
            }
            if !isBridge(f), f.driver == nil {
                findings.append(Finding("no-driver", .warn, "\(a) has no driver; bind it to vfio-pci before starting the guest (libvirt's managed='yes' does this).",
                    functions: [a], fix: "driverctl set-override \(a) vfio-pci"))
            }
            guard !isBridge(f) else { continue }
            // Reset.
            if let methods = f.resetMethods, methods.isEmpty {
                findings.append(Finding("no-reset", .fail, "\(a) cannot be reset: the kernel lists no reset method, so state leaks between guests and VFIO may refuse it.",
                    functions: [a], evidence: ["reset_method is empty"]))
            } else if let config = f.config, config.functionLevelReset == false, !(f.resetMethods ?? []).contains(where: { ["flr", "af_flr", "pm", "device_specific", "acpi"].contains($0) }) {
                let siblings = model.functions(onBusOf: a).filter { $0.address != a }
                let hit = siblings.map(\.address.description)
                let message = f.upstream.isEmpty
                    ? "\(a) has no function-level reset and sits on a root bus, where no secondary bus reset exists: it may not be resettable between guests."
                    : "\(a) has no function-level reset; only a secondary bus reset at \(f.upstream[0])\(hit.isEmpty ? "" : ", which also resets \(hit.joined(separator: ", "))")."
                findings.append(Finding("bus-reset-only", .warn, message,
                    functions: [a] + siblings.map(\.address),
                    evidence: ["no FLR in PCIe DevCap or Advanced Features", "reset_method = \((f.resetMethods ?? ["(not reported)"]).joined(separator: " "))"]))
            }
            // Interrupts.
            if let config = f.config, config.msi == nil, config.msiX == nil, let pin = f.header?.interruptPin, pin != 0 {
                findings.append(Finding("intx-only", .warn,
                    "\(a) has only INTx interrupts: VFIO must mask them at the device (DisINTx), which some devices do not support; then the line cannot be shared.",
                    functions: [a], evidence: ["no MSI or MSI-X capability", "interrupt pin \(pin)"],
                    fix: "If vfio-pci reports that INTx masking is unsupported, give the device an unshared interrupt line (or vfio-pci nointxmask=1)."))
            }
            // SR-IOV.
            switch f.sriov {
            case let .physicalFunction(state):
                if let n = state.numVFs, n > 0 {
                    findings.append(Finding("pf-with-vfs", .warn,
                        "\(a) is an SR-IOV PF with \(n) VF(s) enabled; assigning the PF takes the VFs' parent away from the host, and its driver will disable them.",
                        functions: [a] + state.virtualFunctions, evidence: ["sriov_numvfs = \(n)"],
                        fix: "Assign the VFs instead, or echo 0 > /sys/bus/pci/devices/\(a)/sriov_numvfs before assigning the PF."))
                } else if let total = state.totalVFs, total > 0 {
                    findings.append(Finding("vfs-not-created", .info, "\(a) supports \(total) SR-IOV VFs and none are created.",
                        functions: [a], evidence: ["sriov_totalvfs = \(total)", "sriov_numvfs = 0"],
                        fix: "echo N > /sys/bus/pci/devices/\(a)/sriov_numvfs (N ≤ \(total)) to create VFs that can be assigned one by one."))
                }
            case let .virtualFunction(pfAddress):
                if let pf = model.function(pfAddress) {
                    let shared = [("ATS", pf.config?.ats?.enabled), ("PRI", pf.config?.pri?.enabled), ("PASID", pf.config?.pasid?.enabled)]
                        .filter { $0.1 == true }.map(\.0)
                    if !shared.isEmpty {
                        findings.append(Finding("vf-shares-pf-state", .warn,
                            "\(a) is a VF of \(pfAddress), which has \(shared.joined(separator: ", ")) enabled: that state is partly shared between the PF and its VFs.",
                            functions: [a, pfAddress], evidence: shared.map { "\($0) enabled on \(pfAddress)" }))
                    }
                    if !VFIODrivers.isHeldFromHost(pf.driver) || pf.driver == nil {
                        findings.append(Finding("vf-depends-on-pf", .info,
                            "\(a) is a VF of \(pfAddress) (driver \(pf.driver ?? "none")): keep the PF and its driver on the host while the VF is assigned.",
                            functions: [a, pfAddress]))
                    }
                }
            case .detachedVirtualFunction:
                findings.append(Finding("detached-vf", .warn,
                    "\(a) is a VF whose PF is not visible to this host: the PF's driver, reset and VF state are out of this host's control.",
                    functions: [a], evidence: ["config space reads ffff:ffff at 0; no physfn link"]))
            case .none:
                break
            }
            // Large BARs.
            let large = f.resources.filter { $0.index < 6 && $0.is64Bit && $0.size >= 1 << 32 }
            if !large.isEmpty {
                let total = large.reduce(UInt64(0)) { $0 + $1.size }
                findings.append(Finding("large-bar", .info,
                    "\(a) has 64-bit BARs of \(total >> 30) GiB in all: the guest firmware needs a 64-bit MMIO window at least that large.",
                    functions: [a], evidence: large.map { "BAR \($0.index): \($0.size >> 30) GiB" },
                    fix: "q35/OVMF: give the guest a larger 64-bit PCI hole (e.g. -global q35-pcihost.pci-hole64-size=\(max(64, Int(total >> 30) * 2))G, or <maxphysaddr>)."))
            }
            if f.config?.capabilityCoverage == .unreadable {
                findings.append(Finding("capabilities-unreadable", .warn,
                    "\(a): only \(f.configBytesReadable) config bytes are readable; reset and interrupt checks are incomplete.",
                    functions: [a], fix: "Run as root."))
            }
        }
        return findings
    }
}
