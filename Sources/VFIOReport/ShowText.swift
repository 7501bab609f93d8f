import PCIConfigSpace
import PCIHost
import VFIOAnalysis

/// `show` as text, ordered for someone about to pass the function through: identity, position,
/// driver and group, reset, interrupts, then the capabilities in chain order.
public enum ShowText {
    /// lspci -k's `Kernel modules:`, or why they are unknown.
    static func modulesText(_ f: PCIFunction) -> String {
        switch f.kernelModules {
        case let .known(modules, _): modules.isEmpty ? "none match its modalias" : modules.joined(separator: ", ")
        case let .unknown(u): "unknown (\(u.reason))"
        }
    }

    public static func render(_ f: PCIFunction, model: HostModel, verbosity: Int, hexDump: [UInt8]?) -> String {
        var out: [String] = []
        func line(_ label: String, _ text: String) { out.append("  " + ListText.pad(label + ":", 14) + text) }
        let cls = f.className.map { "\($0) [\(hex(f.classCode.deviceClass, 4))]" } ?? "Class [\(hex(f.classCode.deviceClass, 4))]"
        out.append("\(f.address) \(cls): \(ListText.identity(f)) [\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))] (rev \(hex(f.revision, 2)))")
        // As lspci -nn prints it (show_device): only for a subsystem vendor other than 0000 and ffff; the vendor's
        // name and the subsystem's ("Device" when pci.ids has none; just "Device" when it knows neither), the IDs.
        if let sv = f.subsystemVendorID, let sd = f.subsystemDeviceID, sv != 0, sv != 0xffff {
            let name = f.subsystemVendorName.map { "\($0) \(f.subsystemName ?? "Device")" } ?? f.subsystemName ?? "Device"
            line("Subsystem", "\(name) [\(hex(sv, 4)):\(hex(sd, 4))]")
        }
        if let h = f.header, let u = f.multifunctionUnknown {
            line("Header", "\(h.layout), multifunction bit unknown (\(u.reason); \(u.remedy))")
        } else if let h = f.header {
            line("Header", "\(h.layout), multifunction bit \(h.multifunction ? "set" : "clear")")
        } else if let u = f.configUnusable {
            line("Header", "not decoded: \(u.reason) (\(u.remedy))")
        } else if let g = f.configGap {
            line("Header", "not in the input: \(g.reason) (\(g.remedy))")
        } else {
            line("Header", "unreadable (\(f.configBytesReadable) bytes)")
        }
        var position: String
        switch f.position {
        case .known(.rootBus, _): position = "on a root bus"
        case .known(.below, _): position = "behind " + f.upstream.map(\.description).joined(separator: " ← ")
        case let .unknown(u): position = "unknown: \(u.reason)"
        }
        if let slot = f.physicalSlot { position += "; physical slot \(slot)" }
        if let node = f.numaNode { position += "; NUMA node \(node)" }
        line("Position", position)
        let slotMates = model.functions(inSlot: f.address.slot).filter { $0.address != f.address && !$0.isVirtualFunction }
        if !f.isVirtualFunction && !slotMates.isEmpty {
            line("Slot", "shares \(f.address.slot) with " + slotMates.map(\.address.description).joined(separator: ", "))
        }
        let driver: String
        switch f.driverBinding {
        case let .known(name, _): driver = name ?? "none"
        case let .unknown(u): driver = "unknown (\(u.reason))"
        }
        line("Driver", driver + (f.driverOverride.map { " (driver_override: \($0))" } ?? ""))
        line("Modules", modulesText(f))
        if !f.isBridge { line("VFIO", vfioText(f, model)) }
        if let types = f.mediatedDeviceTypes {
            line("mdev types", types.isEmpty ? "none offered" : types.map { t in
                "\(t.id)" + (t.name.map { " \"\($0)\"" } ?? "") + " (\(t.deviceAPI ?? "?"), \(t.availableInstances.map(String.init) ?? "?") available\(t.instances.isEmpty ? "" : ", \(t.instances.count) created"))"
            }.joined(separator: "; "))
        }
        if let v = f.nvidiaVGPU {
            let current: String
            switch v.current {
            case let .known(id?, _): current = "\(id)" + (v.creatable.value?.first { $0.id == id }.map { " (\($0.name))" } ?? "")
            case .known(nil, _): current = "none set"
            case let .unknown(u): current = "unknown (\(u.reason))"
            }
            let creatable = v.creatable.value.map { $0.isEmpty ? "none" : $0.map { "\($0.id) \($0.name)" }.joined(separator: ", ") } ?? "unknown"
            line("vGPU", "type \(current); creatable: \(creatable)")
        }
        line("IOMMU group", ListText.groupLabel(f, model) == "?" ? "unknown (\(model.environment.groupSource.unknown?.reason ?? "the input has no group line for it"))" : f.iommuGroup.map { g in
            let members = model.groups.first { $0.id == g }?.members ?? []
            let uncertain = model.groups.first { $0.id == g }?.inconsistency != nil || model.environment.groupMembershipIncomplete != nil
                || f.diagnostics.contains { $0.code == "group-inconsistent" }
            if uncertain { return "\(g) (membership not certain: see diagnostics)" }
            return "\(g)" + (members.count > 1 ? " (with " + members.filter { $0 != f.address }.map(\.description).joined(separator: ", ") + ")" : " (alone)")
        } ?? "none")
        switch f.sriov {
        case let .physicalFunction(state):
            line("SR-IOV", "PF, \(state.numVFs.map(String.init) ?? "unknown (sriov_numvfs unreadable)") of \(state.totalVFs.map(String.init) ?? "unknown") VFs enabled" +
                 (state.virtualFunctions.isEmpty ? "" : ": " + state.virtualFunctions.map(\.description).joined(separator: " ")))
        case let .virtualFunction(pf): line("SR-IOV", "VF of \(pf)")
        case .detachedVirtualFunction: line("SR-IOV", "VF whose PF is not visible")
        case .none: break
        }
        line("Reset", resetText(f, model))
        if f.config == nil || f.capabilitiesUnknown != nil {
            let pin = f.interruptPinUnknown != nil ? "INTx pin unknown; " : f.header.map { $0.interruptPin >= 1 && $0.interruptPin <= 4 ? "INTx pin \(["A", "B", "C", "D"][Int($0.interruptPin) - 1]); " : "" } ?? ""
            line("Interrupts", "\(pin)MSI and MSI-X unknown (\(f.capabilitiesUnknown?.reason ?? "capabilities not decoded"))")
        }
        if let config = f.config {
            if f.capabilitiesUnknown == nil { line("Interrupts", interruptText(f, config)) }
            if let e = config.pciExpress {
                var text = "\(e.portType.name) (v\(e.version))"
                if let s = e.linkSpeed, let w = e.linkWidth { text += ", link \(s) x\(w)" }
                if let s = e.maxLinkSpeed, let w = e.maxLinkWidth { text += " (max \(s) x\(w))" }
                if e.hotPlugCapable == true { text += ", hot-plug slot" }
                line("PCI Express", text)
            }
            if verbosity >= 1 {
                for bar in config.bars {
                    let size = f.resources.first { $0.index == bar.index }.map { $0.size > 0 ? " [size=\(sizeText($0.size))]" : "" } ?? ""
                    line("Region \(bar.index)", "\(bar.kind.rawValue)\(bar.prefetchable ? " prefetchable" : "") at \(hex(bar.address, 1))\(size)")
                }
                if let rom = config.expansionROM {
                    line("ROM", "at \(hex(rom.address, 8)) [\(rom.enabled ? "enabled" : "disabled")]")
                }
                if let numbers = f.header?.busNumbers {
                    line("Bus", "primary=\(hex(numbers.primary, 2)), secondary=\(hex(numbers.secondary, 2)), subordinate=\(hex(numbers.subordinate, 2))")
                }
            }
            out.append("  Capabilities (\(config.capabilityCoverage == .complete ? "chain order" : config.capabilityCoverage.rawValue)):")
            for c in config.capabilities {
                out.append("    [\(hex(c.offset, 2))] \(c.id.name)" + detailText(CapabilityDetails.details(c.body), c.body == .truncated, verbosity))
            }
            if config.extendedCoverage != .notImplemented {
                out.append("  Extended capabilities (\(config.extendedCoverage == .complete ? "chain order" : config.extendedCoverage.rawValue)):")
                for c in config.extendedCapabilities {
                    out.append("    [\(hex(c.offset, 3)) v\(c.version)] \(c.id.name)" + detailText(CapabilityDetails.details(c.body), c.body == .truncated, verbosity))
                }
            }
        }
        if !f.diagnostics.isEmpty {
            out.append("  Diagnostics:")
            for d in f.diagnostics { out.append("    \(d.code): \(d.message)") }
        }
        if let hexDump {
            out.append(contentsOf: hexLines(hexDump))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The reset line: the methods `ResetRules` finds (the kernel's `reset_method`, else config space).
    /// The VFIO device the function's driver registered (and its cdev), the VFIO driver it has or would get,
    /// and the migration features the kernel shows.
    static func vfioText(_ f: PCIFunction, _ model: HostModel) -> String {
        var parts: [String] = []
        if let d = f.vfioRegistration {
            parts.append("device \(d.name)" + (d.node.map { " (\($0))" } ?? " (no cdev)"))
        } else {
            parts.append("no VFIO device")
        }
        let (driver, why) = VFIOBackendRules.vfioDriver(f)
        if let driver {
            let info = VFIOPCIDriverInfo.named(driver)
            parts.append("VFIO driver \(driver)" + (VFIODrivers.isVFIO(f.driver) || f.vfioRegistration != nil ? "" : " (to bind)")
                         + (info.map { $0.migrationSince.map { m in ", migration since Linux \(m)" } ?? ", no migration" } ?? ""))
        } else {
            parts.append("VFIO driver unknown (\(why))")
        }
        if let m = f.vfioMigrationFeatures?.value { parts.append("migration features: \(m.isEmpty ? "none" : m.joined(separator: " "))") }
        return parts.joined(separator: "; ")
    }

    static func resetText(_ f: PCIFunction, _ model: HostModel) -> String {
        let capability = ResetRules.capability(f, model)
        switch capability.methods {
        case let .unknown(u):
            return "unknown (\(u.reason))"
        case let .known(methods, evidence):
            let list = methods.isEmpty ? "none" : methods.joined(separator: " ")
            let caveat = capability.unknownBeyondConfig != nil && !methods.contains(where: ResetRules.functionScoped.contains)
                ? "; \(capability.unknownBeyondConfig?.reason ?? "")" : ""
            return "\(list) (\(evidence)\(caveat))"
        }
    }

    static func interruptText(_ f: PCIFunction, _ config: DecodedConfigSpace) -> String {
        var parts: [String] = []
        if f.interruptPinUnknown != nil {
            parts.append("INTx pin unknown (no `Interrupt:` line)")
        } else if let pin = f.header?.interruptPin, pin >= 1, pin <= 4 {
            parts.append("INTx pin \(["A", "B", "C", "D"][Int(pin) - 1])")
        }
        if let m = config.msiX { parts.append("MSI-X \(m.tableSize) vector\(m.tableSize == 1 ? "" : "s")\(m.enabled ? " (enabled)" : "")") }
        if let m = config.msi { parts.append("MSI \(m.vectorsCapable) vector\(m.vectorsCapable == 1 ? "" : "s")\(m.is64Bit ? " 64-bit" : "")\(m.perVectorMasking ? " maskable" : "")\(m.enabled ? " (enabled)" : "")") }
        if parts.isEmpty { parts.append("none") }
        return parts.joined(separator: ", ")
    }

    static func detailText(_ details: [(String, DescribedValue)], _ truncated: Bool, _ verbosity: Int) -> String {
        if truncated { return " <truncated: registers not readable>" }
        guard !details.isEmpty else { return "" }
        let shown = verbosity >= 1 ? details : Array(details.prefix(6))
        let text = shown.map { key, value -> String in
            switch value {
            case let .bool(b): "\(key)\(b ? "+" : "-")"
            case let .int(i): "\(key)=\(i)"
            case let .string(s): "\(key)=\(s)"
            case let .strings(s): "\(key)=[\(s.joined(separator: " "))]"
            }
        }
        return ": " + text.joined(separator: " ")
    }

    static func sizeText(_ size: UInt64) -> String {
        let units = [(UInt64(1) << 30, "G"), (UInt64(1) << 20, "M"), (UInt64(1) << 10, "K")]
        for (unit, name) in units where size >= unit && size % unit == 0 { return "\(size / unit)\(name)" }
        return "\(size)"
    }

    /// lspci's `-x` format: `00: 86 80 ...`.
    public static func hexLines(_ bytes: [UInt8]) -> [String] {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            let row = bytes[start..<min(start + 16, bytes.count)].map { hex($0, 2) }.joined(separator: " ")
            return "\(hex(start, 2)): \(row)"
        }
    }
}
