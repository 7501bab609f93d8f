import PCIConfigSpace
import PCIHost
import VFIOAnalysis

/// A plan as libvirt domain XML, QEMU arguments, or a virsh hotplug script.
public enum PlanRender {
    // MARK: Shared pieces

    /// What the plan rests on, as comment lines (no comment markers).
    static func summary(_ plan: Plan, _ model: HostModel) -> [String] {
        var lines: [String] = []
        lines.append("vfio-inspect plan for a \(plan.machine.rawValue) guest: " + plan.selected.map(\.description).joined(separator: " "))
        let groups = Set(plan.unit.compactMap { model.function($0)?.iommuGroup }).sorted()
        let noGroups: String
        switch model.environment.groupSource {
        case .noneMade: noGroups = "no IOMMU groups on this host"
        default: noGroups = "the kernel's IOMMU groups are not in the input; the predicted group"
        }
        lines.append("Unit: " + (groups.isEmpty ? noGroups : "IOMMU group\(groups.count == 1 ? "" : "s") \(groups.map(String.init).joined(separator: ", "))")
            + " = " + plan.unit.map(\.description).joined(separator: " "))
        for (_, why) in plan.added { lines.append("Added (whole IOMMU group): \(why)") }
        let added = Set(plan.added.map(\.0))
        for h in plan.hidden where !added.contains(h.host) { lines.append("Hidden (\(h.reason)): \(h.host), held unassigned") }
        for s in plan.slots {
            let fs = s.functions.map { "\($0.host) at function \($0.guestFunction)\($0.multifunction ? " (multifunction='on')" : "")" }
            let place = s.controller.model == .pcieRootPort
                ? "Guest slot 0x\(hex(s.slot, 2)) below pcie-root-port \(s.controller.index)"
                : "Guest slot 0x\(hex(s.slot, 2)) on vPHB \(s.controller.index)\(s.group.map { " (IOMMU group \($0))" } ?? "")"
            lines.append(place + ": " + fs.joined(separator: ", "))
        }
        // Drivers to release are one line: managed='yes' (libvirt) or the binding step (QEMU) takes care of them.
        let release = plan.findings.filter { $0.code == .hostDriver || $0.code == .noDriver }.flatMap(\.functions)
        if !release.isEmpty {
            let targets = release.map { a in model.function(a).flatMap { VFIOBackendRules.vfioDriver($0).driver } ?? "vfio-pci" }
            if targets.allSatisfy({ $0 == "vfio-pci" }) {
                lines.append("To bind to vfio-pci: " + release.map { a in "\(a) (\(model.function(a)?.driver ?? "no driver"))" }.joined(separator: ", "))
            } else {
                lines.append("To bind to VFIO: " + zip(release, targets).map { a, t in "\(a) (\(model.function(a)?.driver ?? "no driver") → \(t))" }.joined(separator: ", "))
            }
        }
        switch plan.backend {
        case .container:
            lines.append("Backend: the legacy container (each group's /dev/vfio/N); --backend iommufd plans the iommufd form")
        case .iommufd:
            lines.append("Backend: iommufd (/dev/iommu and each device's /dev/vfio/devices/vfioN): QEMU 8.2+ (-object iommufd), libvirt 12.1+ (<driver iommufd='yes'/> per hostdev; 12.2+ also <iommufd enabled='yes'/> for the whole domain), Linux 6.6+ with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV; the groups still go whole")
        }
        for a in plan.detached {
            guard let f = model.function(a), !VFIODrivers.isVFIO(f.driver), f.vfioRegistration == nil,
                  let variant = f.vfioVariantDrivers.value?.first else { continue }
            let driver = VFIOPCIDriverInfo.named(variant)?.driver ?? variant
            lines.append("Variant driver: \(a) takes \(driver) (its `vfio_pci:` alias in the kernel's module table); libvirt 10.0+ binds it itself for managed='yes' (<driver model='\(driver)'/> insists), QEMU needs it bound first")
        }
        if plan.findings.contains(where: { $0.code == .migratable }) {
            lines.append("Migration: every member's VFIO driver implements it; the domain must have no vIOMMU (<iommu> device: QEMU blocks migrating VFIO devices with one) and the destination the same driver; QEMU 8.1+ (vfio-pci enable-migration=auto), libvirt 8.6+ asks QEMU")
        }
        for f in plan.findings where (f.severity != .info || f.code.line == .placement) && f.code != .hostDriver && f.code != .noDriver {
            lines.append("\(f.severity.rawValue.uppercased()) \(f.code): \(f.message)")
            if let fix = f.fix { lines.append("  fix: \(fix)") }
        }
        return lines
    }

    /// Where a guest slot is: its controller (libvirt's `bus` attribute) and slot number.
    static func guestAddress(_ s: GuestSlot) -> String {
        "controller \(s.controller.index) slot 0x\(hex(s.slot, 2))"
    }

    static func xmlComment(_ lines: [String], indent: String) -> String {
        // "--" may not appear inside an XML comment.
        let safe = lines.map { line in
            var l = line
            while l.contains("--") { l = l.replacing("--", with: "- -") }
            return l.hasSuffix("-") ? l + " " : l
        }
        if safe.count == 1 { return "\(indent)<!-- \(safe[0]) -->" }
        return "\(indent)<!--\n" + safe.map { "\(indent)  \($0)" }.joined(separator: "\n") + "\n\(indent)-->"
    }

    static func sourceAddress(_ a: PCIAddress) -> String {
        "<address domain='0x\(hex(a.domain, 4))' bus='0x\(hex(a.bus, 2))' slot='0x\(hex(a.device, 2))' function='0x\(hex(a.function, 1))'/>"
    }

    // MARK: libvirt

    static func controllerXML(_ c: GuestController, indent: String) -> [String] {
        switch c.model {
        case .pcieRootPort:
            return ["\(indent)<controller type='pci' index='\(c.index)' model='pcie-root-port'>",
                    "\(indent)  <target chassis='\(c.index)' port='0x\(hex(c.index & 0xff, 2))'/>",
                    "\(indent)</controller>"]
        case .spaprPHB:
            return ["\(indent)<controller type='pci' index='\(c.index)' model='pci-root'>",
                    "\(indent)  <model name='spapr-pci-host-bridge'/>",
                    "\(indent)  <target index='\(c.index)'/>",
                    "\(indent)</controller>"]
        }
    }

    /// A VFIO device registered by a driver that is not vfio-pci's family (vfio-dev/vfioN under, say, nvidia).
    static func vfioOwned(_ a: PCIAddress, _ model: HostModel) -> Bool {
        guard let f = model.function(a) else { return false }
        return f.vfioRegistration != nil && !VFIODrivers.isVFIO(f.driver)
    }

    /// One `<hostdev>`: placed in a guest slot, or `unassigned` (detached from the host, invisible to the guest).
    static func hostdevXML(_ host: PCIAddress, placement: (GuestSlot, PlannedFunction)?, indent: String, vfioOwned: Bool = false,
                           iommufd: Bool = false) -> [String] {
        // A VFIO device registered by a driver other than vfio-pci (vfio-dev/vfioN: a vendor driver such as NVIDIA's
        // for vGPU VFs) must not be rebound: managed='no', libvirt leaves its driver alone.
        var lines = ["\(indent)<hostdev mode='subsystem' type='pci' managed='\(vfioOwned ? "no" : "yes")'>"]
        // libvirt 12.1+: open the device through iommufd and its cdev (tests/qemuxmlconfdata/iommufd.xml).
        if iommufd { lines.append("\(indent)  <driver iommufd='yes'/>") }
        lines += ["\(indent)  <source>",
                     "\(indent)    \(sourceAddress(host))",
                     "\(indent)  </source>"]
        lines.append("\(indent)  <alias name='ua-\(PlannedFunction.deviceID(host))'/>")
        if let (slot, f) = placement {
            lines.append("\(indent)  <address type='pci' domain='0x0000' bus='0x\(hex(slot.controller.index, 2))' slot='0x\(hex(slot.slot, 2))' function='0x\(hex(f.guestFunction, 1))'\(f.multifunction ? " multifunction='on'" : "")/>")
        } else {
            lines.append("\(indent)  <address type='unassigned'/>")
        }
        lines.append("\(indent)</hostdev>")
        return lines
    }

    public static func libvirt(_ plan: Plan, _ model: HostModel) -> String {
        var out: [String] = []
        var head = summary(plan, model)
        if !plan.detached.isEmpty {
            head.append("managed='yes': libvirt binds every <hostdev> (the unassigned ones too) to its VFIO driver when the guest starts")
            head.append("(vfio-pci; libvirt 10.0+ a variant driver that modules.alias names); managed='no' ones keep their vendor driver.")
        }
        head.append("")
        head.append("Copy the <controller> and <hostdev> elements into your domain (virsh edit DOMAIN); the <domain> around them only")
        head.append("makes this file valid on its own (virt-xml-validate). Controller indexes start at \(plan.controllers.first?.index ?? 1) (option first-index):")
        head.append("they must not clash with the domain's own <controller type='pci' index=...>.")
        out.append(xmlComment(head, indent: ""))
        if let w = plan.mmioWindowGiB, plan.machine == .q35 {
            out.append(xmlComment(["The devices' 64-bit BARs need a \(w) GiB window (32 GiB by default): pcihole64 on the root controller below,",
                                   "and in your domain <cpu mode='host-passthrough'><maxphysaddr mode='passthrough'/></cpu> (libvirt 8.7+) and",
                                   "<sysinfo type='fwcfg'><entry name='opt/ovmf/X-PciMmio64Mb'>\(w << 10)</entry></sysinfo> for OVMF."], indent: ""))
        }
        let (arch, rootController) = plan.machine == .q35
            ? ("x86_64", plan.mmioWindowGiB.map { w in ["    <controller type='pci' index='0' model='pcie-root'>", "      <pcihole64 unit='KiB'>\(w << 20)</pcihole64>", "    </controller>"] }
                ?? ["    <controller type='pci' index='0' model='pcie-root'/>"])
            : ("ppc64", ["    <controller type='pci' index='0' model='pci-root'>", "      <model name='spapr-pci-host-bridge'/>",
                         "      <target index='0'/>", "    </controller>"])
        out.append("<domain type='kvm'>")
        out.append("  <name>vfio-plan</name>")
        out.append("  <memory unit='MiB'>1024</memory>")
        out.append("  <os>")
        out.append("    <type arch='\(arch)' machine='\(plan.machine.rawValue)'>hvm</type>")
        out.append("  </os>")
        out.append("  <devices>")
        out += rootController
        var emitted = Set<Int>()
        for s in plan.slots {
            if emitted.insert(s.controller.index).inserted {
                let what = s.controller.model == .spaprPHB
                    ? "vPHB for IOMMU group \(s.group.map(String.init) ?? "?") (one partitionable endpoint per vPHB)"
                    : "pcie-root-port \(s.controller.index): one per guest slot"
                out.append(xmlComment([what], indent: "    "))
                out += controllerXML(s.controller, indent: "    ")
            }
            out.append(xmlComment(["host slot \(s.hostSlot)\(s.group.map { ", IOMMU group \($0)" } ?? ""): \(s.functions.count) function\(s.functions.count == 1 ? "" : "s") in guest slot 0x\(hex(s.slot, 2)) of controller \(s.controller.index)"], indent: "    "))
            for f in s.functions { out += hostdevXML(f.host, placement: (s, f), indent: "    ", vfioOwned: vfioOwned(f.host, model), iommufd: plan.backend == .iommufd) }
        }
        if !plan.hidden.isEmpty {
            out.append(xmlComment(["detached from the host, not shown to the guest"], indent: "    "))
            for h in plan.hidden { out += hostdevXML(h.host, placement: nil, indent: "    ", vfioOwned: vfioOwned(h.host, model), iommufd: plan.backend == .iommufd) }
        }
        out.append("  </devices>")
        out.append("</domain>")
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: QEMU

    static func qemuDevices(_ plan: Plan) -> [String] {
        // QEMU 8.2+: one iommufd object; every vfio-pci device names it (docs/devel/vfio-iommufd.rst).
        var args: [String] = plan.backend == .iommufd ? ["-object iommufd,id=iommufd0"] : []
        if let w = plan.mmioWindowGiB, plan.machine == .q35 {
            // The 64-bit window the devices' BARs need: QEMU's hole, OVMF's aperture, and the CPU's address width.
            args += ["-global q35-pcihost.pci-hole64-size=\(w)G", "-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=\(w << 10)"]
        }
        let iommufd = plan.backend == .iommufd ? ",iommufd=iommufd0" : ""
        var emitted = Set<Int>()
        for s in plan.slots {
            if emitted.insert(s.controller.index).inserted {
                switch s.controller.model {
                case .pcieRootPort:
                    args.append("-device pcie-root-port,id=\(s.controller.qemuID),chassis=\(s.controller.index),port=\(s.controller.index & 0xff)")
                case .spaprPHB:
                    args.append("-device spapr-pci-host-bridge,index=\(s.controller.index),id=\(s.controller.qemuID)")
                }
            }
            for f in s.functions {
                args.append("-device vfio-pci,host=\(f.host),id=\(f.deviceID),bus=\(s.controller.qemuBus),addr=0x\(String(s.slot, radix: 16)).0x\(f.guestFunction)\(f.multifunction ? ",multifunction=on" : "")\(iommufd)")
            }
        }
        return args
    }

    public static func qemu(_ plan: Plan, _ model: HostModel) -> String {
        var out = summary(plan, model).map { "# " + $0 }
        out.append("#")
        out.append("# Before QEMU starts, bind every endpoint of the unit to its VFIO driver (QEMU does not do it), the ones the")
        out.append("# guest does not see too: VFIO opens a group only when no endpoint in it has a host driver.")
        for a in plan.detached {
            let driver = model.function(a)?.driver
            if vfioOwned(a, model) {
                out.append("#   \(a) is a VFIO device of \(driver ?? "its driver") already (vfio-dev): leave its driver as it is")
                continue
            }
            let target = model.function(a).map { VFIOBackendRules.vfioDriver($0).driver ?? "vfio-pci" } ?? "vfio-pci"
            out.append("#   driverctl set-override \(a) \(target)" + (VFIODrivers.isVFIO(driver) ? "   (already on \(driver ?? ""))" : ""))
        }
        if let w = plan.mmioWindowGiB, plan.machine == .q35 {
            out.append("# The devices' 64-bit BARs need a \(w) GiB window: use -cpu host,host-phys-bits=on (or phys-bits=N) so the guest can address it.")
        }
        out.append("# Then add these arguments to qemu-system-\(plan.machine == .q35 ? "x86_64 -machine q35" : "ppc64 -machine pseries"):")
        let args = qemuDevices(plan)
        for (i, a) in args.enumerated() { out.append(a + (i == args.count - 1 ? "" : " \\")) }
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: Persistent binding

    /// `plan --format persist`: a script that keeps the unit on VFIO across reboots, by address (never by IDs):
    /// `driverctl set-override` per endpoint (driverctl keeps it in /etc/driverctl.d and applies it from udev),
    /// else a udev rule that sets `driver_override` when the device appears; `softdep HOSTDRIVER pre: vfio-pci` so
    /// vfio-pci is loaded before the host driver probes; the initramfs rebuilt (a driver in it binds first); the
    /// kernel parameters the host findings ask for; and every vfio-pci `ids=` binding that would also capture a
    /// device outside the unit.
    public static func persist(_ plan: Plan, _ model: HostModel) -> String {
        // Every word from the input that reaches a command is a name the kernel could have written (letters,
        // digits, '_', '-', '.'); anything else is left out with a comment, and comments carry no line ends.
        func safeName(_ s: String?) -> String? {
            guard let s, !s.isEmpty, s.utf8.allSatisfy({ $0 == 0x5f || $0 == 0x2d || $0 == 0x2e || (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) }) else { return nil }
            return s
        }
        func comment(_ s: String) -> String { "# " + TerminalSafe.escape(s).split(separator: "\n").joined(separator: " ") }
        var out = ["#!/bin/sh"] + summary(plan, model).map(comment)
        out += ["#", "# Keeps the unit on VFIO across reboots, by address. Run once as root on this host.", "set -eu"]
        var bind: [(PCIAddress, String)] = []
        var softdeps: [String: Set<String>] = [:]
        for a in plan.detached {
            guard let f = model.function(a) else { continue }
            // Bridges and the platform's own functions are never bound, whatever --force planned.
            if FunctionRules.isBridge(f) || FunctionRules.isChipset(f) {
                out.append(comment("\(a) is a bridge or part of the platform: left with the host"))
                continue
            }
            if vfioOwned(a, model) {
                out.append(comment("\(a) is a VFIO device of \(f.driver ?? "its driver") already (vfio-dev): its driver stays"))
                continue
            }
            guard let target = safeName(VFIOBackendRules.vfioDriver(f).driver ?? "vfio-pci") else {
                out.append(comment("\(a): the VFIO driver's name from the input is not a driver name; bind it by hand"))
                continue
            }
            bind.append((a, target))
            if let d = f.driver, !VFIODrivers.isVFIO(d) {
                if let host = safeName(d) {
                    // A variant driver depends on the host driver's module (mlx5_vfio_pci on mlx5_core): a softdep
                    // cannot put it first; driver_override alone keeps the host driver off the function.
                    if target == "vfio-pci" { softdeps[host, default: []].insert("vfio-pci") }
                } else {
                    out.append(comment("\(a)'s host driver name from the input is not a driver name: no softdep for it"))
                }
            }
            if f.isVirtualFunction {
                out.append(comment("\(a) is a VF: it exists only after its PF's sriov_numvfs is written at boot (a udev rule or unit of your own); the binding below applies when it appears"))
            }
        }
        if !bind.isEmpty {
            out.append("if command -v driverctl >/dev/null 2>&1; then")
            for (a, d) in bind { out.append("    driverctl set-override \(a) \(d)") }
            out.append("else")
            out.append("    # No driverctl: a udev rule sets driver_override when each device appears, before a driver probes it.")
            out.append("    cat > /etc/udev/rules.d/60-vfio-inspect-\(fileName(bind[0].0)).rules <<'EOF'")
            for (a, d) in bind { out.append("ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"\(a)\", ATTR{driver_override}=\"\(d)\"") }
            out.append("EOF")
            out.append("fi")
        }
        for (d, modules) in softdeps.sorted(by: { $0.key < $1.key }) {
            out.append("# Load \(modules.sorted().joined(separator: ", ")) before \(d), which would claim the device first.")
            out.append("cat > /etc/modprobe.d/vfio-inspect-\(d).conf <<'EOF'")
            out.append("softdep \(d) pre: \(modules.sorted().joined(separator: " "))")
            out.append("EOF")
        }
        out.append("# A driver in the initramfs binds before the root file system is mounted: rebuild it with the above.")
        out.append("if command -v update-initramfs >/dev/null 2>&1; then update-initramfs -u; elif command -v dracut >/dev/null 2>&1; then dracut -f; fi")
        // Kernel parameters: what the host's IOMMU and interrupt-remapping findings ask for, and a firmware framebuffer's.
        let params = plan.findings.filter { ($0.code.line == .iommu || $0.code.line == .interruptRemapping || $0.code == .firmwareFramebuffer) && $0.severity != .info }
        for f in params {
            out.append(comment("kernel command line (\(f.code)): \(f.fix ?? f.message)"))
        }
        switch model.environment.vfioPCIIDs {
        case let .unknown(u):
            out.append(comment("Whether a vfio-pci ids= binding (kernel command line, modprobe.d, the initramfs's configuration) also captures other devices at boot is unknown: \(u.reason) (\(u.remedy))."))
        case let .known(ids, evidence):
            if ids.isEmpty { out.append(comment("No vfio-pci ids= binding on this host (\(evidence)).")) }
            for f in plan.findings where f.code == .planIDsCapture { out.append(comment("WARNING \(f.message) Fix: \(f.fix ?? "")")) }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// An address as a file-name part (`0000-01-00.0`).
    static func fileName(_ a: PCIAddress) -> String { a.description.replacingColons }

    // MARK: virsh hotplug

    public static func virshHotplug(_ plan: Plan, _ model: HostModel) -> String {
        var out = ["#!/bin/sh"] + summary(plan, model).map { "# " + $0 }
        out += ["#", "# Usage: sh THIS-FILE DOMAIN [attach|detach]   (a running \(plan.machine.rawValue) guest)", "set -eu",
                "DOMAIN=\"${1:?usage: sh $0 DOMAIN}\"", "dir=$(mktemp -d)", "trap 'rm -rf \"$dir\"' EXIT", ""]
        if !plan.controllers.isEmpty {
            out.append("# Prerequisite: libvirt cannot hot-add PCI controllers, so the domain must already have these when it starts")
            out.append("# (virsh edit \"$DOMAIN\", then power it off and start it; --format libvirt shows them in place):")
            for c in plan.controllers { out += controllerXML(c, indent: "#   ") }
            out.append("")
        }
        let configOnly = plan.attachOrder.map(\.host).filter { !plan.hotplugLive($0) } + plan.hidden.map(\.host).filter { !plan.hotplugLive($0) }
        if !configOnly.isEmpty {
            out.append("# libvirt hot-plugs only function 0 of a guest slot (it refuses others: \"Only PCI device addresses with")
            out.append("# function=0 are supported\") and will not hot-unplug a device whose guest slot is multifunction. So the")
            out.append("# steps for \(configOnly.map(\.description).joined(separator: ", ")) change only the persistent definition (--config),")
            out.append("# in the order QEMU needs (functions N>0 first, function 0 last); they take effect at the next cold start.")
            out.append("# The hidden members of the same IOMMU group follow them: while the group is in use, none may go back to the host.")
            out.append("# Every other step is live and persistent (--live --config).")
            out.append("")
        }
        out.append("action=\"${2:-attach}\"")
        out.append("case \"$action\" in attach|detach) ;; *) echo \"usage: sh $0 DOMAIN [attach|detach]; '$action' is neither\" >&2; exit 64 ;; esac")
        out.append("if [ \"$action\" = attach ]; then")
        out.append("# 1. Detach every function VFIO must hold from its host driver (the hidden ones too).")
        for a in plan.detached where !vfioOwned(a, model) { out.append("virsh nodedev-detach pci_\(nodedevName(a))") }
        out.append("")
        var step = 2
        func emit(_ verb: String, _ host: PCIAddress, _ placement: (GuestSlot, PlannedFunction)?, live: Bool, note: String) {
            let file = "\"$dir/\(verb)-\(nodedevName(host)).xml\""
            out.append("# \(step). \(verb == "attach" ? "Attach" : "Detach") \(host): \(note)")
            out.append("cat > \(file) <<'EOF'")
            out += hostdevXML(host, placement: placement, indent: "", vfioOwned: vfioOwned(host, model), iommufd: plan.backend == .iommufd)
            out.append("EOF")
            out.append("virsh \(verb)-device \"$DOMAIN\" \(file) \(live ? "--live --config" : "--config")")
            out.append("")
            step += 1
        }
        for h in plan.hidden {
            emit("attach", h.host, nil, live: plan.hotplugLive(h.host), note: "unassigned: libvirt holds it for the guest, which does not see it")
        }
        for f in plan.attachOrder {
            guard let slot = plan.slot(of: f) else { continue }
            let note = "guest \(guestAddress(slot)) function \(f.guestFunction)" + (f.multifunction ? ", multifunction='on', last: it completes the slot" : "")
            emit("attach", f.host, (slot, f), live: plan.hotplugLive(f.host), note: note)
        }
        out.append("fi")
        out.append("")
        out.append("# Detach sequence (sh THIS-FILE DOMAIN detach): functions N>0 first, function 0 last, then the hidden ones.")
        out.append("if [ \"$action\" = detach ]; then")
        step = 1
        for f in plan.detachOrder {
            guard let slot = plan.slot(of: f) else { continue }
            emit("detach", f.host, (slot, f), live: plan.hotplugLive(f.host), note: "guest \(guestAddress(slot)) function \(f.guestFunction)")
        }
        for h in plan.hidden { emit("detach", h.host, nil, live: plan.hotplugLive(h.host), note: "unassigned") }
        out.append("fi")
        out.append("# managed='yes': libvirt gives each function back to its host driver on detach (virsh nodedev-reattach otherwise).")
        return out.joined(separator: "\n") + "\n"
    }

    static func nodedevName(_ a: PCIAddress) -> String {
        "\(hex(a.domain, 4))_\(hex(a.bus, 2))_\(hex(a.device, 2))_\(hex(a.function, 1))"
    }

    // MARK: Exit status and refusals

    /// 0: planned, nothing to prepare; 1: planned, with warnings or preparation (or forced); 2: refused.
    public static func exitStatus(_ plan: Plan) -> Int32 {
        if plan.isRefused { return 2 }
        switch plan.verdict {
        case .ready: return 0
        case .undetermined: return 4
        default: return 1
        }
    }

    /// The refusal, for stderr.
    public static func refusalText(_ plan: Plan, style: Style) -> String {
        var out = ["vfio-inspect: no plan for \(plan.selected.map(\.description).joined(separator: " ")) on \(plan.machine.rawValue):"]
        for f in plan.refusals { out += ReportText.findingLines(f, style, indent: "  ") }
        let others = plan.findings.filter { $0.severity != .info }
        if !others.isEmpty {
            out.append("Also:")
            for f in others { out.append("  \(style.severity(f.severity)) \(f.code): \(f.message)") }
        }
        if plan.refusals.allSatisfy({ $0.code.line != .placement }) {
            out.append("check calls this unit blocked; --force plans it anyway.")
        }
        return out.joined(separator: "\n") + "\n"
    }
}

extension String {
    var replacingColons: String { String(map { $0 == ":" ? "-" : $0 }) }
}
