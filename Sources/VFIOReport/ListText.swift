import PCIConfigSpace
import PCIHost
import VFIOAnalysis

/// `list` as text: one line per function, in address order.
public enum ListText {
    public static func render(_ model: HostModel, functions: [PCIFunction]) -> String {
        var lines: [String] = []
        let groupWidth = max(5, (model.groups.map { String($0.id).count }.max() ?? 1) + 6)
        for f in functions {
            var line = f.address.description
            line += "  " + (f.className ?? "Class \(hex(f.classCode.deviceClass, 4))")
            line += ": " + identity(f)
            line += "  [\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))]"
            var tail = "driver=" + driverLabel(f)
            tail += "  " + pad("group=" + groupLabel(f, model), groupWidth)
            let flags = Self.flags(f, model: model)
            if !flags.isEmpty { tail += "  " + flags.joined(separator: ", ") }
            var full = line + "  " + tail
            while full.utf8.last == UInt8(ascii: " ") { full.removeLast() }
            lines.append(full)
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }

    static func identity(_ f: PCIFunction) -> String {
        switch (f.vendorName, f.deviceName) {
        case let (v?, d?): "\(v) \(d)"
        case let (v?, nil): "\(v) Device \(hex(f.deviceID, 4))"
        default: "Device \(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))"
        }
    }

    /// The driver's name, `-` when the input shows none is bound, `?` when it cannot say.
    public static func driverLabel(_ f: PCIFunction) -> String {
        switch f.driverBinding {
        case let .known(name, _): name ?? "-"
        case .unknown: "?"
        }
    }

    /// The IOMMU group, `-` when the kernel's groups are known and hold the function in none, `?` when unknown.
    public static func groupLabel(_ f: PCIFunction, _ model: HostModel) -> String {
        guard model.groupKnown(f) else { return "?" }
        return f.iommuGroup.map(String.init) ?? "-"
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    public static func flags(_ f: PCIFunction, model: HostModel) -> [String] {
        var flags: [String] = []
        let slotFunctions = model.functions(inSlot: f.address.slot).filter { !$0.isVirtualFunction }
        if !f.isVirtualFunction {
            if slotFunctions.count > 1 {
                flags.append("multifunction slot (\(slotFunctions.count) functions)")
            } else if f.multifunctionBit {
                flags.append("multifunction bit set")
            }
            if !slotFunctions.contains(where: { $0.address.function == 0 }) {
                flags.append(f.provenance == .dump ? "function 0 not in the dump" : "no function 0 in slot")
            }
        }
        switch f.sriov {
        case let .physicalFunction(state):
            flags.append("PF \(state.numVFs ?? state.virtualFunctions.count)/\(state.totalVFs.map(String.init) ?? "?") VFs")
        case let .virtualFunction(pf):
            flags.append("VF of \(pf)")
        case .detachedVirtualFunction:
            flags.append("VF (no PF visible)")
        case .none:
            break
        }
        if let d = f.vfioRegistration, !VFIODrivers.isVFIO(f.driver) {
            flags.append("VFIO device \(d.name) of \(f.driver ?? "its driver")")
        }
        if let v = f.nvidiaVGPU {
            switch v.current {
            case let .known(id?, _): flags.append("vGPU type \(id)" + (v.creatable.value?.first { $0.id == id }.map { " (\($0.name))" } ?? ""))
            case .known(nil, _): flags.append("vGPU type not set")
            case .unknown: flags.append("vGPU type unknown")
            }
        }
        if let types = f.mediatedDeviceTypes, !types.isEmpty {
            flags.append("mdev parent (\(types.count) type\(types.count == 1 ? "" : "s"))")
        }
        if f.configUnusable != nil, f.rawConfig == nil, f.header == nil, f.configBytesReadable == 0 {
            flags.append("from text: class or registers unknown")
        } else if f.configUnusable != nil {
            flags.append("config space not responding")
        } else if f.configBytesReadable < f.configSize {
            flags.append("config \(f.configBytesReadable)/\(f.configSize) bytes readable")
        }
        if !f.diagnostics.isEmpty {
            flags.append("\(f.diagnostics.count) diagnostic\(f.diagnostics.count == 1 ? "" : "s")")
        }
        return flags
    }
}
