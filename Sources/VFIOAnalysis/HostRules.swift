import PCIConfigSpace
import PCIHost

/// Rules about the host as a whole: is there an IOMMU, does it remap interrupts, can groups be trusted.
public enum HostRules {
    public static func evaluate(_ model: HostModel) -> [Finding] {
        var findings: [Finding] = []
        let env = model.environment
        let params = env.commandLineParameters
        let cmdline = env.kernelCommandLine.map { "kernel command line: \($0)" }
        let intel = env.iommuUnits.contains { $0.kind == .intelVTd }
        if model.groups.isEmpty {
            var evidence = ["sys/kernel/iommu_groups is \(env.iommuGroupsDirectoryPresent ? "empty" : "absent")",
                            "sys/class/iommu lists \(env.iommuUnits.count) unit(s)"]
            if let cmdline { evidence.append(cmdline) }
            let parameterHint: String
            if let value = params["intel_iommu"], value.split(separator: ",").contains("off") {
                parameterHint = "remove intel_iommu=off and add intel_iommu=on"
            } else if params["amd_iommu"] == "off" || params["iommu"] == "off" {
                parameterHint = "remove amd_iommu=off / iommu=off from the kernel command line"
            } else {
                parameterHint = "add intel_iommu=on on Intel (AMD-Vi is on by default once the firmware exposes it)"
            }
            findings.append(Finding("iommu-off", .fail,
                "The IOMMU is not enabled: the kernel made no IOMMU groups, so VFIO cannot assign any device. Functions without a group are not isolated singletons.",
                evidence: evidence,
                fix: "Enable VT-d (Intel) or AMD-Vi/IOMMU in the firmware setup, \(parameterHint), and reboot."))
        }
        if let override = params["pcie_acs_override"] {
            findings.append(Finding("acs-override", .warn,
                "pcie_acs_override=\(override) makes the kernel pretend that devices are isolated: the groups no longer prove that devices cannot reach each other by peer-to-peer DMA.",
                evidence: cmdline.map { [$0] } ?? [], fix: "Remove pcie_acs_override unless you accept that risk for every group it splits."))
        }
        if let pci = params["pci"], pci.split(separator: ",").contains("noacs") {
            findings.append(Finding("acs-disabled", .warn, "pci=noacs: the kernel does not enable ACS, so groups are larger than the hardware allows.",
                                    evidence: cmdline.map { [$0] } ?? [], fix: "Remove pci=noacs."))
        }
        // Interrupt remapping: VT-d reports it in ECAP bit 3 (IR); the kernel can also be told not to use it.
        for unit in env.iommuUnits where unit.kind == .intelVTd {
            if let ecap = unit.registers["ecap"], let value = UInt64(ecap, radix: 16), value & (1 << 3) == 0 {
                findings.append(Finding("no-interrupt-remapping", .fail,
                    "IOMMU unit \(unit.name) does not support interrupt remapping: a guest could inject arbitrary interrupts; vfio_iommu_type1 refuses such hosts unless allow_unsafe_interrupts=1.",
                    evidence: ["sys/class/iommu/\(unit.name)/intel-iommu/ecap = \(ecap) (bit 3, IR, clear)"],
                    fix: "Use a platform with interrupt remapping (enable x2APIC/IR in the firmware)."))
            }
        }
        if intel, let intremap = params["intremap"], intremap == "off" {
            findings.append(Finding("interrupt-remapping-off", .fail, "intremap=off disables interrupt remapping.",
                                    evidence: cmdline.map { [$0] } ?? [], fix: "Remove intremap=off from the kernel command line."))
        }
        let unsafeInterrupts = env.moduleParameters["vfio_iommu_type1/allow_unsafe_interrupts"]
            ?? params["vfio_iommu_type1.allow_unsafe_interrupts"]
        if let unsafe = unsafeInterrupts, unsafe == "Y" || unsafe == "1" {
            findings.append(Finding("unsafe-interrupts-allowed", .warn,
                "vfio_iommu_type1 allow_unsafe_interrupts is set: assignment proceeds without interrupt isolation.",
                evidence: ["allow_unsafe_interrupts = \(unsafe)"], fix: "Unset it unless this platform truly lacks interrupt remapping and you accept the risk."))
        }
        if let noiommu = env.moduleParameters["vfio/enable_unsafe_noiommu_mode"], noiommu == "Y" || noiommu == "1" {
            findings.append(Finding("noiommu-mode", .warn, "vfio is in unsafe no-IOMMU mode: devices get no DMA isolation at all.",
                                    evidence: ["vfio enable_unsafe_noiommu_mode = \(noiommu)"]))
        }
        if let drivers = env.pciDrivers, !drivers.contains("vfio-pci") {
            let modules = env.loadedModules
            findings.append(Finding("vfio-pci-not-loaded", .info,
                "vfio-pci is not registered on the PCI bus (neither loaded nor built in).",
                evidence: ["sys/bus/pci/drivers has no vfio-pci"] + (modules.map { _ in ["proc/modules has no vfio_pci"] } ?? []),
                fix: "modprobe vfio-pci (and add it to /etc/modules-load.d to keep it across reboots)."))
        }
        if model.groups.isEmpty == false, model.groups.allSatisfy({ $0.type == "identity" }) {
            findings.append(Finding("iommu-passthrough-default", .info,
                "Every group uses an identity (passthrough) default domain (iommu=pt): host DMA is untranslated, which does not prevent VFIO.",
                evidence: ["kernel/iommu_groups/*/type = identity"]))
        }
        return findings
    }
}
