import PCIConfigSpace
import PCIHost
import VFIOAnalysis

/// Terminal styling: colour only on a terminal and without NO_COLOR.
public struct Style: Sendable {
    public let color: Bool
    public init(color: Bool) { self.color = color }

    func paint(_ s: String, _ code: String) -> String { color ? "\u{1b}[\(code)m\(s)\u{1b}[0m" : s }
    func severity(_ s: Finding.Severity) -> String {
        switch s {
        case .fail: paint("FAIL", "1;31")
        case .unknown: paint("UNKNOWN", "1;35")
        case .warn: paint("WARN", "1;33")
        case .info: paint("info", "2")
        }
    }
    func verdict(_ v: UnitVerdict) -> String {
        switch v {
        case .ready: paint("ready", "1;32")
        case .needsPreparation: paint("needs-preparation", "1;33")
        case .blocked: paint("blocked", "1;31")
        case .undetermined: paint("undetermined", "1;35")
        }
    }
    func result(_ r: String) -> String {
        switch r {
        case "FAIL": paint(r, "1;31")
        case "WARN": paint(r, "1;33")
        case "UNKNOWN": paint(r, "1;35")
        default: paint(r, "1;32")
        }
    }
}

public enum ReportText {
    static func findingLines(_ f: Finding, _ style: Style, indent: String) -> [String] {
        var lines = ["\(indent)\(style.severity(f.severity)) \(f.code): \(f.message)"]
        for e in f.evidence { lines.append("\(indent)     evidence: \(e)") }
        if let fix = f.fix { lines.append("\(indent)     fix: \(fix)") }
        return lines
    }

    /// A group's members as a small tree: slot, then PF with its VFs.
    static func memberTree(_ members: [PCIAddress], _ model: HostModel) -> [String] {
        var lines: [String] = []
        let bySlot = Dictionary(grouping: members, by: \.slot)
        for slot in bySlot.keys.sorted() {
            let fs = (bySlot[slot] ?? []).sorted()
            if fs.count > 1 { lines.append("    slot \(slot)") }
            for a in fs {
                guard let f = model.function(a) else { continue }
                let indent = fs.count > 1 ? "      " : "    "
                var role = ""
                switch f.sriov {
                case let .physicalFunction(s) where !s.virtualFunctions.isEmpty: role = "  PF of \(s.virtualFunctions.count) VFs"
                case let .virtualFunction(pf): role = "  VF of \(pf)"
                case .detachedVirtualFunction: role = "  VF, PF not visible"
                default: break
                }
                lines.append("\(indent)\(a)  \(ListText.identity(f)) [\(hex(f.vendorID, 4)):\(hex(f.deviceID, 4))]  driver=\(ListText.driverLabel(f))\(role)")
            }
        }
        return lines
    }

    public static func render(_ model: HostModel, _ report: HostReport, style: Style) -> String {
        var out: [String] = []
        out.append("Host")
        if !report.hostFindings.contains(where: { $0.severity != .info }) { out.append("  " + style.result("PASS") + " IOMMU on, interrupt remapping present, no ACS override") }
        for f in report.hostFindings where !f.code.isPassEvidence { out += findingLines(f, style, indent: "  ") }
        for unit in report.units {
            out.append("")
            let title = unit.groupID.map { "IOMMU group \($0)" } ?? "predicted group"
            out.append("\(title): \(style.verdict(unit.verdict))")
            out += memberTree(unit.members, model)
            for c in unit.causes {
                out.append("    why shared: \(c.kind.rawValue)\(c.at.map { " at \($0)" } ?? "")\(c.missingACS.isEmpty ? "" : " (missing ACS \(c.missingACS.joined(separator: " ")))")")
            }
            if !unit.predicted && unit.members.count > 1 {
                let decided = report.prediction.unexplainedKernelGroups.contains(unit.members.sorted())
                out.append(decided ? "    why shared: unknown (config space predicts otherwise)"
                                   : "    why shared: not decided from config space (it rests on facts the input does not hold)")
            }
            let hostCodes = Set(report.hostFindings.map(\.code))
            for f in unit.findings where !hostCodes.contains(f.code) && !f.code.isPassEvidence { out += findingLines(f, style, indent: "    ") }
        }
        if !report.ungrouped.isEmpty {
            out.append("")
            out.append("Not in any IOMMU group (not candidates): " + report.ungrouped.map(\.description).joined(separator: ", "))
        }
        let counts = Dictionary(grouping: report.units, by: \.verdict).mapValues(\.count)
        out.append("")
        out.append("\(report.units.count) units: \(counts[.ready] ?? 0) ready, \(counts[.needsPreparation] ?? 0) need preparation, \(counts[.blocked] ?? 0) blocked, \(counts[.undetermined] ?? 0) undetermined")
        return out.joined(separator: "\n") + "\n"
    }

    public static func renderCheck(_ model: HostModel, _ result: CheckResult, style: Style) -> String {
        var out: [String] = []
        out.append("Checking assignment of " + result.selected.map(\.description).joined(separator: " "))
        if !result.added.isEmpty {
            out.append("The unit is whole IOMMU groups; it also holds:")
            for (_, why) in result.added { out.append("  \(why)") }
        }
        for line in CheckLines.lines(result.findings) {
            out.append("  \(ListText.pad(line.check, 40)): \(style.result(line.result))")
            for f in result.findings where f.code.line.id == line.id && f.severity != .info {
                out += findingLines(f, style, indent: "      ")
            }
        }
        out.append("Verdict: \(style.verdict(result.verdict))")
        return out.joined(separator: "\n") + "\n"
    }
}
