import Foundation
import PCIHost
import VFIOAnalysis

/// Why a file is not a `report --json` that `diff` can compare.
public struct SavedReportError: Error, CustomStringConvertible {
    public let description: String
}

/// The part of `report --json` (schema version 1) that `diff` reads back. Every input reaches `PassthroughState`
/// through this one decoder: a saved report as it is, a snapshot, a dump or the live host by encoding their report
/// first, so a saved baseline and a live host are compared field for field.
struct SavedReport: Decodable {
    struct Source: Decodable { let kind: String; let path: String }
    struct Unknown: Decodable {}
    struct Function: Decodable {
        let address: String
        let vendorID: String
        let deviceID: String
        let subsystemVendorID: String?
        let subsystemDeviceID: String?
        let driver: String?
        let iommuGroup: Int?
        let acsControl: String?
        let unknown: [String: Unknown]
        /// Whether the report carried the key at all: a report from before `acsControl` existed (or an edited one)
        /// says nothing about ACS, which is unknown, not "no capability".
        let hasDriver: Bool
        let hasACSControl: Bool
        /// The input's account of the function's group contradicts itself (`group-inconsistent`): its grouping is unknown.
        let groupInconsistent: Bool

        struct Diagnostic: Decodable { let code: String }

        enum CodingKeys: String, CodingKey {
            case address, vendorID, deviceID, subsystemVendorID, subsystemDeviceID, driver, iommuGroup, acsControl, unknown, diagnostics
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            address = try c.decode(String.self, forKey: .address)
            vendorID = try c.decode(String.self, forKey: .vendorID)
            deviceID = try c.decode(String.self, forKey: .deviceID)
            subsystemVendorID = try c.decodeIfPresent(String.self, forKey: .subsystemVendorID)
            subsystemDeviceID = try c.decodeIfPresent(String.self, forKey: .subsystemDeviceID)
            driver = try c.decodeIfPresent(String.self, forKey: .driver)
            iommuGroup = try c.decodeIfPresent(Int.self, forKey: .iommuGroup)
            acsControl = try c.decodeIfPresent(String.self, forKey: .acsControl)
            unknown = try c.decodeIfPresent([String: Unknown].self, forKey: .unknown) ?? ["driver": Unknown(), "acs": Unknown()]
            hasDriver = c.contains(.driver)
            hasACSControl = c.contains(.acsControl)
            groupInconsistent = (try c.decodeIfPresent([Diagnostic].self, forKey: .diagnostics) ?? []).contains { $0.code == "group-inconsistent" }
        }
    }
    struct Cause: Decodable { let kind: String; let explanation: String }
    struct Finding: Decodable { let code: String; let severity: String }
    struct Unit: Decodable {
        let id: Int?
        let members: [String]
        let verdict: String
        let why: [Cause]
        let findings: [Finding]
        let predicted: Bool?
    }
    struct IOMMU: Decodable { let groupsPresent: Bool; let groupSource: String? }
    struct Host: Decodable { let iommu: IOMMU; let kernelCommandLine: String? }
    struct Rules: Decodable { let kernelRelease: String? }
    let schemaVersion: Int
    let source: Source
    let host: Host
    let functions: [Function]
    let groups: [Unit]
    let groupRules: Rules
}

extension PassthroughState {
    /// Reads a saved `report --json`. Throws `SavedReportError` for JSON that is not a version-1 report
    /// (a `list --json`, another tool's file, a truncated save).
    public init(reportJSON data: Data, name: String) throws {
        try self.init(reportJSON: data, name: name, savedFile: true)
    }

    /// `savedFile`: false for a scanned input whose report was encoded here (its source is named as it is).
    init(reportJSON data: Data, name: String, savedFile: Bool) throws {
        struct Version: Decodable { let schemaVersion: Int }
        if let version = try? JSONDecoder().decode(Version.self, from: data), version.schemaVersion != JSONSchemaVersion.current {
            throw SavedReportError(description: "\(name) has report schema version \(version.schemaVersion); this vfio-inspect reads version \(JSONSchemaVersion.current)")
        }
        let saved: SavedReport
        do {
            saved = try JSONDecoder().decode(SavedReport.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw SavedReportError(description: "\(name) is JSON but not a `vfio-inspect report --json` (no \"\(key.stringValue)\"; a list --json or another file?)")
        } catch {
            throw SavedReportError(description: "\(name) is not a readable `vfio-inspect report --json`: \(error)")
        }
        let functions = saved.functions.map { f in
            PassthroughState.Function(
                address: f.address, vendorID: f.vendorID, deviceID: f.deviceID,
                subsystemVendorID: f.subsystemVendorID, subsystemDeviceID: f.subsystemDeviceID,
                driver: f.driver, driverKnown: f.hasDriver && f.unknown["driver"] == nil,
                acsControl: f.acsControl, acsKnown: f.hasACSControl && f.unknown["acs"] == nil && f.unknown["capabilities"] == nil,
                iommuGroup: f.iommuGroup)
        }
        let inconsistent = Set(saved.functions.filter(\.groupInconsistent).map(\.address))
        let units = saved.groups.map { u in
            // As `UnitReport.decidingFinding`: the first finding of the worst severity.
            let severities = u.findings.map { Finding.Severity(rawValue: $0.severity) ?? .info }
            let worst = severities.max() ?? .info
            let deciding = u.verdict == "ready" ? nil : zip(u.findings, severities).first { $0.1 == worst }?.0.code
            return PassthroughState.Unit(groupID: u.id, members: u.members, verdict: u.verdict,
                                         why: u.why.map { "\($0.kind): \($0.explanation)" }, deciding: deciding,
                                         predicted: (u.id == nil && ((u.predicted ?? true) || u.findings.contains { $0.code == "group-unknown" }))
                                             || u.members.contains(where: inconsistent.contains))
        }
        let source = "\(saved.source.kind) \(saved.source.path)"
        self.init(source: savedFile ? "report \(name) (of \(source))" : source, kernelRelease: saved.groupRules.kernelRelease,
                  kernelCommandLine: saved.host.kernelCommandLine,
                  groups: saved.host.iommu.groupsPresent ? .present : saved.host.iommu.groupSource == "none-made" ? .noneMade : .unknown,
                  functions: functions, units: units)
    }

    /// The state of a scanned host, through the same contract as a saved report.
    public init(_ model: HostModel, _ report: HostReport) throws {
        let encoder = JSONEncoder()
        let data = try encoder.encode(DescribedReport(model, report))
        try self.init(reportJSON: data, name: model.source.description, savedFile: false)
    }
}

/// One change in `diff --json`.
public struct DescribedDriftChange: Encodable, Sendable {
    public let kind: String
    public let matters: Bool
    public let functions: [String]
    @Nullable public var before: String?
    @Nullable public var after: String?
    public let message: String
}

/// `diff --json` (`Schemas/vfio-inspect-diff.schema.json`).
public struct DescribedDrift: Encodable, Sendable {
    public let schemaVersion: Int
    public let baseline: String
    public let current: String
    /// Whether anything that matters for passthrough changed (exit status 1).
    public let changed: Bool
    /// Whether some fact could not be compared (exit status 4 when nothing that matters changed).
    public let undetermined: Bool
    public let exitStatus: Int32
    public let changes: [DescribedDriftChange]

    public init(_ drift: Drift, baseline: PassthroughState, current: PassthroughState) {
        schemaVersion = JSONSchemaVersion.current
        self.baseline = baseline.source
        self.current = current.source
        changed = !drift.mattering.isEmpty
        undetermined = !drift.notComparable.isEmpty
        exitStatus = drift.exitStatus
        changes = drift.changes.map {
            DescribedDriftChange(kind: $0.kind.rawValue, matters: $0.matters, functions: $0.functions, before: $0.before,
                                 after: $0.after, message: $0.message)
        }
    }
}

public enum DriftText {
    /// `diff`'s text: one line per change (`!` matters, `?` not comparable, `·` context), then a verdict line.
    public static func render(_ drift: Drift, baseline: PassthroughState, current: PassthroughState) -> String {
        var out = "baseline: \(baseline.source)\ncurrent:  \(current.source)\n"
        for c in drift.changes {
            let mark = c.kind == .notComparable ? "?" : c.matters ? "!" : "·"
            out += "\(mark) \(c.kind.rawValue): \(c.message)\n"
            // The two sides in full where the message only names the change.
            if [.groupSplit, .groupMerged, .groupRegrouped, .commandLineChanged].contains(c.kind) || c.kind == .notComparable && c.functions.isEmpty {
                if let b = c.before { out += "    before: \(b)\n" }
                if let a = c.after { out += "    after:  \(a)\n" }
            }
        }
        let n = drift.mattering.count
        switch drift.exitStatus {
        case 1: out += "\(n) change(s) that matter for passthrough\n"
        case 4: out += "nothing that matters changed among the facts both inputs hold; \(drift.notComparable.count) could not be compared\n"
        default: out += "nothing that matters for passthrough changed\n"
        }
        return out
    }
}
