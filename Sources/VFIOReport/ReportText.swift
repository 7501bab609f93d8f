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

    /// The full report of `units` (every unit when `nil`), host findings first, then the counts.
    public static func render(_ model: HostModel, _ report: HostReport, units selected: [UnitReport]? = nil, style: Style) -> String {
        var out = ""
        write(model, hostFindings: report.hostFindings, prediction: report.prediction, of: report.units.count,
              units: selected ?? report.units, style: style) { out += $0 }
        return out
    }

    /// The text `render` gives, handed to `emit` a piece at a time (the host, then each unit as `units` yields it,
    /// then the counts; every piece ends a line), so a caller that evaluates each unit as it is written never holds
    /// the whole report (`report` on a host of 16,000 functions). `total` is the number of units on the host.
    public static func write(_ model: HostModel, hostFindings: [Finding], prediction: GroupPrediction, of total: Int,
                             units: some Sequence<UnitReport>, style: Style, emit: (String) -> Void) {
        var out: [String] = []
        func flush() {
            emit(out.map { $0 + "\n" }.joined())
            out.removeAll(keepingCapacity: true)
        }
        out.append("Host")
        if !hostFindings.contains(where: { $0.severity != .info }) { out.append("  " + style.result("PASS") + " IOMMU on, interrupt remapping present, no ACS override") }
        for f in hostFindings where !f.code.isPassEvidence { out += findingLines(f, style, indent: "  ") }
        flush()
        let hostCodes = Set(hostFindings.map(\.code))
        var counts: [UnitVerdict: Int] = [:]
        var shown = 0
        for unit in units {
            shown += 1
            counts[unit.verdict, default: 0] += 1
            out.append("")
            let title = unit.groupID.map { "IOMMU group \($0)" } ?? (unit.outsideGroups ? "in no known IOMMU group" : "predicted group")
            out.append("\(title): \(style.verdict(unit.verdict))")
            out += memberTree(unit.members, model)
            for c in unit.causes {
                out.append("    why shared: \(c.kind.rawValue)\(c.at.map { " at \($0)" } ?? "")\(c.missingACS.isEmpty ? "" : " (missing ACS \(c.missingACS.joined(separator: " ")))")")
            }
            if !unit.predicted && !unit.outsideGroups && unit.members.count > 1 {
                let decided = prediction.unexplainedKernelGroups.contains(unit.members.sorted())
                out.append(decided ? "    why shared: unknown (config space predicts otherwise)"
                                   : "    why shared: not decided from config space (it rests on facts the input does not hold)")
            }
            for f in unit.findings where !hostCodes.contains(f.code) && !f.code.isPassEvidence { out += findingLines(f, style, indent: "    ") }
            flush()
        }
        out.append("")
        out.append("\(shown == total ? "\(shown) \(shown == 1 ? "unit" : "units")" : "\(shown) of \(total) \(total == 1 ? "unit" : "units")"): \(counts[.ready] ?? 0) ready, \(counts[.needsPreparation] ?? 0) need preparation, \(counts[.blocked] ?? 0) blocked, \(counts[.undetermined] ?? 0) undetermined")
        flush()
    }

    /// `check` as text; `quiet` keeps only the lines that are not PASS, with the findings that ask for something
    /// (cautions, which leave a unit ready, are left out: a ready unit prints nothing).
    public static func renderCheck(_ model: HostModel, _ result: CheckResult, style: Style, quiet: Bool = false) -> String {
        var out: [String] = []
        if quiet {
            for line in CheckLines.lines(result.findings) where line.result != "PASS" {
                for f in result.findings where f.code.line.id == line.id && f.severity != .info && !(f.severity == .warn && f.code.isCaution) {
                    out.append("\(style.result(line.result)) \(line.id): \(f.code): \(f.message)")
                }
            }
            return out.isEmpty ? "" : out.joined(separator: "\n") + "\n"
        }
        out.append("Checking assignment of " + result.selected.map(\.description).joined(separator: " "))
        if !result.added.isEmpty {
            out.append("The unit is whole IOMMU groups; it also holds:")
            for (_, why) in result.added { out.append("  \(why)") }
        }
        for line in CheckLines.lines(result.findings) {
            out.append("  \(ListText.pad(line.check, 40)): \(style.result(line.result))")
            // A PASS says what it rests on (the facts its rules read), so a pass is never a silence.
            if line.result == "PASS", !line.restsOn.isEmpty {
                out.append("      rests on: " + line.restsOn.joined(separator: "; "))
            }
            for f in result.findings where f.code.line.id == line.id && f.severity != .info {
                out += findingLines(f, style, indent: "      ")
            }
        }
        out.append("Verdict: \(style.verdict(result.verdict))")
        return out.joined(separator: "\n") + "\n"
    }
}

extension ReportText {
    /// Addresses with each slot's functions collapsed as `01:00.{0-3}` (domain 0000 left out, as lspci does).
    public static func collapsed(_ addresses: [PCIAddress]) -> String {
        var slots: [(PCISlotAddress, [UInt8])] = []
        for a in addresses.sorted() {
            if let last = slots.last, last.0 == a.slot { slots[slots.count - 1].1.append(a.function) } else { slots.append((a.slot, [a.function])) }
        }
        return slots.map { slot, functions in
            let prefix = (slot.domain == 0 ? "" : hex(slot.domain, 4) + ":") + "\(hex(slot.bus, 2)):\(hex(slot.device, 2))."
            guard functions.count > 1 else { return prefix + String(functions[0], radix: 16) }
            var runs: [String] = []
            var start = functions[0], end = functions[0]
            func close() { runs.append(start == end ? String(start, radix: 16) : "\(String(start, radix: 16))-\(String(end, radix: 16))") }
            for f in functions.dropFirst() {
                if f == end + 1 { end = f } else { close(); start = f; end = f }
            }
            close()
            return prefix + "{" + runs.joined(separator: ",") + "}"
        }.joined(separator: " ")
    }

    /// `report --summary`: the units ordered ready, needs-preparation, undetermined, blocked (the answer first),
    /// one line each: verdict, group, members collapsed by slot, what they are, and the finding that decides the
    /// verdict; then the counts. Single-function units that say the same thing about functions of one slot or
    /// the VFs of one PF share a line (`groups 18-144  01:00.1 … 01:0f.7 (127 VFs of 01:00.0)`).
    /// `width`: cut each line to that many characters (a terminal's width), `nil` for whole lines (a pipe).
    public static func renderSummary(_ model: HostModel, _ report: HostReport, units: [UnitReport], style: Style, width: Int? = nil) -> String {
        var out: [String] = []
        let blocking = report.hostFindings.filter { $0.severity == .fail || $0.severity == .unknown }
        for f in blocking { out.append("host: \(style.severity(f.severity)) \(f.code): \(f.message)") }
        struct Row {
            var verdict: UnitVerdict
            var groups: [Int?]
            var members: [PCIAddress]
            var what: String
            var finding: Finding?
            var family: String?
            var outside: Bool
        }
        func names(_ u: UnitReport) -> String {
            let fs = u.members.compactMap { model.function($0) }
            let endpoints = FunctionRules.endpoints(fs)
            var names: [String] = []
            for f in endpoints.isEmpty ? fs : endpoints where !names.contains(ListText.identity(f)) { names.append(ListText.identity(f)) }
            return names.prefix(2).joined(separator: "; ") + (names.count > 2 ? "; +\(names.count - 2) more" : "")
        }
        /// What lets single-function units share a line: the PF of a VF, else the slot.
        func family(_ u: UnitReport) -> String? {
            guard u.members.count == 1, let f = model.function(u.members[0]) else { return nil }
            if case let .virtualFunction(pf) = f.sriov { return "vf:" + (pf.domain == 0 ? pf.shortDescription : pf.description) }
            return "slot:\(f.address.slot)"
        }
        var rows: [Row] = []
        for u in units.sorted(by: { ($0.verdict.rank == 3 ? 4 : $0.verdict.rank, $0.groupID ?? -1) < ($1.verdict.rank == 3 ? 4 : $1.verdict.rank, $1.groupID ?? -1) }) {
            let row = Row(verdict: u.verdict, groups: [u.groupID], members: u.members, what: names(u), finding: u.decidingFinding,
                          family: family(u), outside: u.outsideGroups)
            if var last = rows.last, last.family != nil, last.family == row.family, last.verdict == row.verdict, last.outside == row.outside,
               last.what == row.what, last.finding?.code == row.finding?.code {
                last.groups += row.groups
                last.members += row.members
                rows[rows.count - 1] = last
            } else {
                rows.append(row)
            }
        }
        func groupText(_ ids: [Int?], outside: Bool, groupUnknown: Bool) -> String {
            let known = ids.compactMap { $0 }
            if outside { return groupUnknown ? "group unknown" : "no group" }
            guard known.count == ids.count, !known.isEmpty else { return ids.count == 1 ? "predicted" : "\(ids.count) predicted" }
            if known.count == 1 { return "group \(known[0])" }
            let contiguous = zip(known, known.dropFirst()).allSatisfy { $1 == $0 + 1 }
            if contiguous { return "groups \(known[0])-\(known[known.count - 1])" }
            return known.count <= 4 ? "groups " + known.map(String.init).joined(separator: ",") : "\(known.count) groups"
        }
        func memberText(_ r: Row) -> String {
            if r.members.count > 3, let family = r.family, family.hasPrefix("vf:") {
                let sorted = r.members.sorted()
                var total = sorted.count
                if let vf = model.function(sorted[0]), case let .virtualFunction(pf) = vf.sriov,
                   case let .physicalFunction(state)? = model.function(pf)?.sriov {
                    total = state.virtualFunctions.count
                }
                let count = total > sorted.count ? "\(sorted.count) of the \(total)" : "\(sorted.count)"
                return "\(sorted[0].shortDescription) … \(sorted[sorted.count - 1].shortDescription) (\(count) VFs of \(family.dropFirst(3)))"
            }
            return collapsed(r.members)
        }
        let cells = rows.map { r in
            let unknown = r.members.contains { a in model.function(a).map { !model.groupKnown($0) } ?? true }
            return (groupText(r.groups, outside: r.outside, groupUnknown: unknown), memberText(r))
        }
        let w0 = rows.map(\.verdict.rawValue.count).max() ?? 0, w1 = cells.map(\.0.count).max() ?? 0
        let w2 = min(28, cells.map(\.1.count).max() ?? 0)
        for (r, cell) in zip(rows, cells) {
            var line = "\(ListText.pad(r.verdict.rawValue, w0))  \(ListText.pad(cell.0, w1))  \(ListText.pad(cell.1, w2))  \(r.what)"
            if let f = r.finding {
                line += "  — \(f.code): \(f.message)" + (r.members.count > 1 && r.family != nil ? " (the same for each of the \(r.members.count))" : "")
            }
            if let width, line.count > width, width > 20 { line = String(line.prefix(width - 1)) + "…" }
            // Colour only the verdict, after cutting, so the cut counts visible characters.
            out.append(style.verdict(r.verdict) + line.dropFirst(r.verdict.rawValue.count))
        }
        let counts = Dictionary(grouping: units, by: \.verdict).mapValues(\.count)
        let shown = units.count == report.units.count ? "\(units.count) \(units.count == 1 ? "unit" : "units")" : "\(units.count) of \(report.units.count) \(report.units.count == 1 ? "unit" : "units")"
        out.append("\(shown): \(counts[.ready] ?? 0) ready, \(counts[.needsPreparation] ?? 0) need preparation, \(counts[.blocked] ?? 0) blocked, \(counts[.undetermined] ?? 0) undetermined")
        return out.joined(separator: "\n") + "\n"
    }
}
