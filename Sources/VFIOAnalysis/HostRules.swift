import PCIConfigSpace
import PCIHost

/// Rules about the host as a whole: is there an IOMMU, does it remap interrupts, can groups be trusted.
/// Pure functions over the model; each says UNKNOWN where the fact it reads is not in the input.
public enum HostRules {
    /// Every host finding, in check-line order.
    public static func evaluate(_ model: HostModel) -> [Finding] {
        iommu(model) + interruptRemapping(model) + groupTrust(model) + vfioDriver(model)
    }

    /// The IOMMU is on when the kernel made groups (`iommu_group_add_device` links every device it covers).
    static func iommu(_ model: HostModel) -> [Finding] {
        let env = model.environment
        switch env.groupSource {
        case .groupDirectory, .deviceLinks, .dumpLines:
            var findings = [Finding(.iommuOn, .info, "The IOMMU is on: the kernel made \(model.groups.count) IOMMU group(s).",
                                    evidence: [groupSourceEvidence(env.groupSource)])]
            if model.groups.allSatisfy({ $0.type == "identity" }) {
                findings.append(Finding(.iommuPassthroughDefault, .info,
                    "Every group uses an identity (passthrough) default domain (iommu=pt): host DMA is untranslated, which does not prevent VFIO.",
                    evidence: ["kernel/iommu_groups/*/type = identity"]))
            }
            return findings
        case let .noneMade(evidence):
            let params = env.commandLineParameters
            let parameterHint: String
            if let value = params["intel_iommu"], value.split(separator: ",").contains("off") {
                parameterHint = "remove intel_iommu=off and add intel_iommu=on"
            } else if params["amd_iommu"] == "off" || params["iommu"] == "off" {
                parameterHint = "remove amd_iommu=off / iommu=off from the kernel command line"
            } else {
                parameterHint = "add intel_iommu=on on Intel (AMD-Vi is on by default once the firmware exposes it)"
            }
            return [Finding(.iommuOff, .fail,
                "The IOMMU is not enabled: the kernel made no IOMMU groups, so VFIO cannot assign any device. Functions without a group are not isolated singletons.",
                evidence: evidence,
                fix: "Enable VT-d (Intel) or AMD-Vi/IOMMU in the firmware setup, \(parameterHint), and reboot.")]
        case let .none(unknown):
            return [.unknown(.iommuUnknown, "Whether the IOMMU is on is unknown: the input holds no IOMMU groups.", unknown)]
        }
    }

    static func groupSourceEvidence(_ source: GroupSource) -> String {
        switch source {
        case .groupDirectory: "sys/kernel/iommu_groups lists the groups"
        case .deviceLinks: "the functions' iommu_group links (sys/kernel/iommu_groups is not in the input)"
        case .dumpLines: "the dump's `IOMMU group:` lines"
        case let .noneMade(evidence): evidence.joined(separator: "; ")
        case let .none(u): "unknown: \(u.reason)"
        }
    }

    /// Interrupt remapping: `nointremap` and `intremap=off` disable it on any x86 IOMMU
    /// (`irq_remapping_prepare`, drivers/iommu/irq_remapping.c); VT-d units report it in ECAP bit 3 (IR);
    /// AMD-Vi has no such register in sysfs; remapped interrupts show as `IR-` chips in /proc/interrupts.
    static func interruptRemapping(_ model: HostModel) -> [Finding] {
        var findings: [Finding] = []
        let env = model.environment
        let params = env.commandLineParameters
        let cmdline = env.kernelCommandLine.value.map { "kernel command line: \($0)" }
        if case let .noneMade(evidence) = env.groupSource {
            findings.append(Finding(.noInterruptRemapping, .fail, "Without an IOMMU there is no interrupt remapping.", evidence: evidence,
                                    fix: "Enable the IOMMU first."))
        }
        let intremap = params["intremap"]?.split(separator: ",") ?? []
        // setup_irqremap matches "off" by prefix (strncmp(str, "off", 3)).
        if params["nointremap"] != nil || intremap.contains(where: { $0.hasPrefix("off") }) {
            findings.append(Finding(.interruptRemappingOff, .fail,
                "\(params["nointremap"] != nil ? "nointremap" : "intremap=off") disables interrupt remapping (on Intel and AMD alike): a guest could inject arbitrary interrupts; vfio_iommu_type1 refuses such hosts unless allow_unsafe_interrupts=1.",
                evidence: cmdline.map { [$0] } ?? [], fix: "Remove \(params["nointremap"] != nil ? "nointremap" : "intremap=off") from the kernel command line."))
        }
        for unit in env.iommuUnits where unit.kind == .intelVTd {
            if let ecap = unit.registers["ecap"], let value = UInt64(ecap, radix: 16), value & (1 << 3) == 0 {
                findings.append(Finding(.noInterruptRemapping, .fail,
                    "IOMMU unit \(unit.name) does not support interrupt remapping: a guest could inject arbitrary interrupts; vfio_iommu_type1 refuses such hosts unless allow_unsafe_interrupts=1.",
                    evidence: ["sys/class/iommu/\(unit.name)/intel-iommu/ecap = \(ecap) (bit 3, IR, clear)"],
                    fix: "Use a platform with interrupt remapping (enable x2APIC/IR in the firmware)."))
            }
        }
        let unsafeInterrupts = env.moduleParameters["vfio_iommu_type1/allow_unsafe_interrupts"]
            ?? params["vfio_iommu_type1.allow_unsafe_interrupts"]
        if let unsafe = unsafeInterrupts, unsafe == "Y" || unsafe == "1" {
            findings.append(Finding(.unsafeInterruptsAllowed, .warn,
                "vfio_iommu_type1 allow_unsafe_interrupts is set: assignment proceeds without interrupt isolation.",
                evidence: ["allow_unsafe_interrupts = \(unsafe)"], fix: "Unset it unless this platform truly lacks interrupt remapping and you accept the risk."))
        }
        if let noiommu = env.moduleParameters["vfio/enable_unsafe_noiommu_mode"], noiommu == "Y" || noiommu == "1" {
            findings.append(Finding(.noiommuMode, .warn, "vfio is in unsafe no-IOMMU mode: devices get no DMA isolation at all.",
                                    evidence: ["vfio enable_unsafe_noiommu_mode = \(noiommu)"]))
        }
        if findings.contains(where: { $0.severity == .fail }) { return findings }
        // Nothing known fails: PASS needs positive evidence for every unit, and a known command line.
        if let u = env.kernelCommandLine.unknown {
            findings.append(.unknown(.interruptRemappingUnknown, "Whether interrupt remapping is on is unknown: nointremap or intremap=off on the command line would turn it off.", u))
            return findings
        }
        guard env.groupSource.isKnown else {
            if let u = env.groupSource.unknown {
                findings.append(.unknown(.interruptRemappingUnknown, "Whether interrupt remapping is on is unknown: whether there is an IOMMU is unknown.", u))
            }
            return findings
        }
        if let remapped = env.remappedInterrupts.value {
            if remapped {
                findings.append(Finding(.interruptRemappingOn, .info, "Interrupts are remapped.", evidence: [env.remappedInterrupts.evidence ?? ""]))
            } else {
                findings.append(Finding(.noInterruptRemapping, .fail, "The kernel does not remap MSI interrupts: a guest could inject arbitrary interrupts.",
                                        evidence: [env.remappedInterrupts.evidence ?? ""], fix: "Enable interrupt remapping (x2APIC/IR) in the firmware."))
            }
            return findings
        }
        var evidence: [String] = cmdline.map { [$0 + " (no nointremap, no intremap=off)"] } ?? []
        var unknownUnits: [String] = []
        for unit in env.iommuUnits {
            switch unit.kind {
            case .intelVTd:
                if let ecap = unit.registers["ecap"], UInt64(ecap, radix: 16) != nil {
                    evidence.append("sys/class/iommu/\(unit.name)/intel-iommu/ecap = \(ecap) (bit 3, IR, set)")
                } else {
                    unknownUnits.append(unit.name)
                }
            case .amdVi:
                evidence.append("\(unit.name) is an AMD-Vi unit: the kernel remaps interrupts with AMD-Vi unless the command line disables it, and vfio_iommu_type1 refuses a host without it")
            case .other:
                unknownUnits.append(unit.name)
            }
        }
        if env.iommuUnits.isEmpty {
            findings.append(.unknown(.interruptRemappingUnknown, "Whether interrupt remapping is on is unknown: sys/class/iommu lists no unit to read it from.",
                                     Unknown("no IOMMU unit in sys/class/iommu", remedy: "include sys/class/iommu and proc/interrupts (`vfio-inspect snapshot` copies both)")))
        } else if !unknownUnits.isEmpty {
            findings.append(.unknown(.interruptRemappingUnknown, "Whether IOMMU unit(s) \(unknownUnits.joined(separator: ", ")) remap interrupts is unknown.",
                                     Unknown("their capability registers are not readable in the input", remedy: "include sys/class/iommu/*/intel-iommu and proc/interrupts")))
        } else {
            findings.append(Finding(.interruptRemappingOn, .info, "Interrupt remapping is supported and not disabled.", evidence: evidence))
        }
        return findings
    }

    /// Groups prove isolation only without an ACS override; an unknown command line leaves that open.
    static func groupTrust(_ model: HostModel) -> [Finding] {
        var findings: [Finding] = []
        let env = model.environment
        let params = env.commandLineParameters
        let cmdline = env.kernelCommandLine.value.map { "kernel command line: \($0)" }
        if let u = env.kernelCommandLine.unknown {
            findings.append(.unknown(.commandLineUnknown, "Whether the kernel overrides ACS (pcie_acs_override, pci=noacs) is unknown.", u))
        }
        if let override = params["pcie_acs_override"], ACSOverride(parsing: override).isActive {
            findings.append(Finding(.acsOverride, .warn,
                "pcie_acs_override=\(override) makes the kernel pretend that devices are isolated: the groups no longer prove that devices cannot reach each other by peer-to-peer DMA.",
                evidence: cmdline.map { [$0] } ?? [], fix: "Remove pcie_acs_override unless you accept that risk for every group it splits."))
        }
        for option in (params["pci"] ?? "").split(separator: ",") {
            if option.hasPrefix("config_acs=") || option.hasPrefix("disable_acs_redir=") {
                findings.append(acsParameter(String(option), evidence: cmdline))
            }
        }
        if let pci = params["pci"], pci.split(separator: ",").contains("noacs") {
            findings.append(Finding(.acsDisabled, .warn, "pci=noacs: the kernel does not enable ACS, so groups are larger than the hardware allows.",
                                    evidence: cmdline.map { [$0] } ?? [], fix: "Remove pci=noacs."))
        }
        if findings.isEmpty, let cmdline {
            findings.append(Finding(.noACSOverride, .info, "The kernel command line overrides no ACS: the groups are the hardware's.",
                                    evidence: [cmdline + " (no pcie_acs_override, no pci=noacs)"]))
        }
        return findings
    }

    /// `pci=config_acs=FLAGS@DEVICE[;…]` (Linux 6.11+) and `pci=disable_acs_redir=DEVICE[;…]` (4.19+), applied by
    /// `pci_enable_acs` at enumeration, before groups are made: the ACS control bits read now already show
    /// them, and so do the groups. Flags are read right to left (bit 0 SV, TB, RR, CR, UF, EC, DT); `0` clears,
    /// `1` sets, `x` keeps the firmware's value (6.15 and later). Only devices with an ACS capability are touched.
    static func acsParameter(_ option: String, evidence: String?) -> Finding {
        let isConfig = option.hasPrefix("config_acs=")
        let value = option.drop { $0 != "=" }.dropFirst()
        var malformed: [String] = []
        var meaning: [String] = []
        let names = ["SV", "TB", "RR", "CR", "UF", "EC", "DT"]
        for entry in value.split(separator: ";") {
            if isConfig {
                guard let at = entry.firstIndex(of: "@"), !entry[..<at].isEmpty,
                      entry[..<at].allSatisfy({ "01xX".contains($0) }), entry[..<at].count <= 7 else {
                    malformed.append(String(entry)); continue
                }
                let flags = Array(entry[..<at].reversed())
                let set = flags.indices.filter { flags[$0] == "1" }.map { names[$0] }
                let cleared = flags.indices.filter { flags[$0] == "0" }.map { names[$0] }
                meaning.append("\(entry[entry.index(after: at)...]): " + [set.isEmpty ? nil : "set " + set.joined(separator: " "), cleared.isEmpty ? nil : "clear " + cleared.joined(separator: " ")].compactMap { $0 }.joined(separator: ", "))
            } else {
                meaning.append("\(entry): clear RR CR EC")
            }
        }
        let what = isConfig ? "pci=config_acs" : "pci=disable_acs_redir"
        var message = "\(what) sets the ACS control of the devices it names at boot, before the groups are made (\(meaning.joined(separator: "; "))): the groups and the ACS bits read now both show it; a port with RR or CR cleared no longer isolates what is below it."
        if !malformed.isEmpty {
            message += " The kernel ignores what it cannot parse: \(malformed.joined(separator: ", "))."
        }
        return Finding(.acsConfigured, .info, message, evidence: evidence.map { [$0] } ?? [])
    }

    static func vfioDriver(_ model: HostModel) -> [Finding] {
        let env = model.environment
        guard let drivers = env.pciDrivers, !drivers.contains("vfio-pci") else { return [] }
        return [Finding(.vfioPCINotLoaded, .info,
            "vfio-pci is not registered on the PCI bus (neither loaded nor built in).",
            evidence: ["sys/bus/pci/drivers has no vfio-pci"] + (env.loadedModules.value.map { _ in ["proc/modules has no vfio_pci"] } ?? []),
            fix: "modprobe vfio-pci (and add it to /etc/modules-load.d to keep it across reboots).",
            steps: [.run(["modprobe", "vfio-pci"])])]
    }
}

extension GroupSource {
    /// Why the groups are unknown, when they are.
    public var unknown: Unknown? {
        if case let .none(u) = self { u } else { nil }
    }
}
