/// What `diff` compares of a host: the facts a passthrough setup depends on, as `report --json` publishes them
/// (a saved report, a snapshot, a dump and the live host all reach this shape through that one contract).
/// IDs are lower-case hex strings as in the JSON. A fact the input did not hold is `nil` with its `…Known` false.
public struct PassthroughState: Sendable {
    public struct Function: Sendable {
        public var address: String
        public var vendorID: String
        public var deviceID: String
        public var subsystemVendorID: String?
        public var subsystemDeviceID: String?
        public var driver: String?
        public var driverKnown: Bool
        /// The ACS Control register (`PCI_ACS_CTRL`) as 4 hex digits; `nil` with `acsKnown` true: no ACS capability.
        public var acsControl: String?
        public var acsKnown: Bool
        public var iommuGroup: Int?

        public init(address: String, vendorID: String, deviceID: String, subsystemVendorID: String?, subsystemDeviceID: String?,
                    driver: String?, driverKnown: Bool, acsControl: String?, acsKnown: Bool, iommuGroup: Int?) {
            self.address = address; self.vendorID = vendorID; self.deviceID = deviceID
            self.subsystemVendorID = subsystemVendorID; self.subsystemDeviceID = subsystemDeviceID
            self.driver = driver; self.driverKnown = driverKnown; self.acsControl = acsControl; self.acsKnown = acsKnown
            self.iommuGroup = iommuGroup
        }
    }

    public struct Unit: Sendable {
        /// The kernel's group number; `nil` for a predicted unit (no kernel groups in the input).
        public var groupID: Int?
        public var members: [String]
        public var verdict: String
        /// The `why` lines of the report (`cause: explanation`).
        public var why: [String]
        /// The code of the finding that decides a verdict other than ready.
        public var deciding: String?
        /// A unit whose group the input does not hold (the rules predicted it, or the input's account of it contradicts
        /// itself); false for a kernel group and for a function the kernel put in no group although it made groups
        /// (an IOMMU's own function).
        public var predicted: Bool

        public init(groupID: Int?, members: [String], verdict: String, why: [String], deciding: String?, predicted: Bool) {
            self.groupID = groupID; self.members = members; self.verdict = verdict; self.why = why; self.deciding = deciding
            self.predicted = predicted
        }
    }

    /// What the input is (`sysfs DIR`, `dump FILE`, `report FILE`).
    public var source: String
    public var kernelRelease: String?
    public var kernelCommandLine: String?
    /// Whether the kernel made IOMMU groups, as the input shows it (`host.iommu.groupSource`).
    public enum Groups: String, Sendable {
        /// The input holds the kernel's groups.
        case present
        /// The input shows the kernel made none (the IOMMU is off).
        case noneMade = "none-made"
        /// The input does not say (a dump without `IOMMU group:` lines, an incomplete tree).
        case unknown
    }

    public var groups: Groups
    /// Whether the input holds the kernel's groups.
    public var groupsPresent: Bool { groups == .present }
    public var functions: [Function]
    public var units: [Unit]

    public init(source: String, kernelRelease: String?, kernelCommandLine: String?, groups: Groups,
                functions: [Function], units: [Unit]) {
        self.source = source; self.kernelRelease = kernelRelease; self.kernelCommandLine = kernelCommandLine
        self.groups = groups; self.functions = functions; self.units = units
    }
}

/// One difference between two states.
public struct DriftChange: Hashable, Sendable {
    /// The kinds, by stable name (part of the `diff --json` and Prometheus contracts).
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case functionAdded = "function-added"
        case functionRemoved = "function-removed"
        case idsChanged = "ids-changed"
        case subsystemChanged = "subsystem-changed"
        case driverChanged = "driver-changed"
        case acsChanged = "acs-changed"
        case groupsAppeared = "groups-appeared"
        case groupsGone = "groups-gone"
        case groupSplit = "group-split"
        case groupMerged = "group-merged"
        case groupRegrouped = "group-regrouped"
        case groupRenumbered = "group-renumbered"
        case verdictChanged = "verdict-changed"
        case kernelChanged = "kernel-changed"
        case commandLineChanged = "command-line-changed"
        /// A fact one side does not hold, so whether it changed is unknown.
        case notComparable = "not-comparable"
    }

    public let kind: Kind
    /// Whether the change can break or alter a passthrough setup (`diff`'s exit status 1); for `not-comparable`,
    /// whether the fact that could not be compared is such a fact (exit status 4). Kernel and command line changes
    /// are context: what they do to groups and verdicts is reported as its own change.
    public let matters: Bool
    public let functions: [String]
    public let before: String?
    public let after: String?
    public let message: String
}

/// The drift between two states of a host.
public struct Drift: Sendable {
    public let changes: [DriftChange]

    /// Changes that matter for passthrough.
    public var mattering: [DriftChange] { changes.filter { $0.matters && $0.kind != .notComparable } }
    /// Facts that matter for passthrough and could not be compared (one input does not hold them).
    public var notComparable: [DriftChange] { changes.filter { $0.matters && $0.kind == .notComparable } }

    /// `diff`'s exit status: 1 when something that matters changed; else 4 when something could not be compared
    /// (the answer is undetermined); else 0.
    public var exitStatus: Int32 {
        if !mattering.isEmpty { return 1 }
        return notComparable.isEmpty ? 0 : 4
    }

    /// Compares `baseline` with `current`. One pass over each side's functions and units (dictionaries by address):
    ///
    /// - functions present on one side only: added or removed;
    /// - on both: vendor/device IDs, subsystem IDs, the bound driver and the ACS Control register (a side that does
    ///   not hold the fact makes it `not-comparable`, never "unchanged");
    /// - units: compared on the functions both sides have. A group whose members (so restricted) are the same on both
    ///   sides is unchanged, or renumbered when its number differs (Proxmox's mapping `iommugroup=` and
    ///   `/dev/vfio/N` name it); otherwise each connected set of changed groups is one change: a split (one group
    ///   became several), a merge (several became one) or a regrouping, with the report's `why` of each side;
    /// - a verdict change of a unit whose membership stayed; `undetermined` on either side (or both) is not-comparable,
    ///   never a change or "the same": a fact that decides is missing there;
    /// - kernel release and command line, as context.
    public static func compare(baseline: PassthroughState, current: PassthroughState) -> Drift {
        var changes: [DriftChange] = []
        // Context: what the kernel and its command line do to groups and verdicts is reported as its own change.
        func context(_ kind: DriftChange.Kind, _ name: String, _ b: String?, _ a: String?, changed: String) {
            guard b != a else { return }
            if b == nil || a == nil {
                changes.append(change(.notComparable, false, [], b, a, "the \(name) is not in \(b == nil ? "the baseline" : "the current input")"))
            } else {
                changes.append(change(kind, false, [], b, a, changed))
            }
        }
        context(.kernelChanged, "kernel release", baseline.kernelRelease, current.kernelRelease,
                changed: "kernel release \(baseline.kernelRelease ?? "") → \(current.kernelRelease ?? "")")
        context(.commandLineChanged, "kernel command line", baseline.kernelCommandLine, current.kernelCommandLine,
                changed: "kernel command line changed")

        let before = Dictionary(baseline.functions.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(current.functions.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        var driverUnknown: [String] = [], acsUnknown: [String] = [], idsUnknown: [String] = [], subsystemUnknown: [String] = []
        for b in baseline.functions {
            guard let a = after[b.address] else {
                changes.append(change(.functionRemoved, true, [b.address], "\(b.vendorID):\(b.deviceID)", nil,
                                      "\(b.address) [\(b.vendorID):\(b.deviceID)] is gone"))
                continue
            }
            // A VF's ID registers read ffff in config space (PCIe r6.0 §9.3.4.1.1): a dump shows that, sysfs the real IDs.
            if b.vendorID == "ffff" || a.vendorID == "ffff" {
                if (b.vendorID, b.deviceID) != (a.vendorID, a.deviceID) { idsUnknown.append(b.address) }
            } else if (b.vendorID, b.deviceID) != (a.vendorID, a.deviceID) {
                changes.append(change(.idsChanged, true, [b.address], "\(b.vendorID):\(b.deviceID)", "\(a.vendorID):\(a.deviceID)",
                                      "\(b.address) is now a different device: [\(b.vendorID):\(b.deviceID)] → [\(a.vendorID):\(a.deviceID)]"))
            }
            switch (subsystemPair(b), subsystemPair(a)) {
            case let (bs??, asub??):
                if bs != asub {
                    changes.append(change(.subsystemChanged, true, [b.address], bs, asub, "\(b.address)'s subsystem IDs changed: [\(bs)] → [\(asub)]"))
                }
            case (.some(nil), .some(nil)):
                break
            default:
                subsystemUnknown.append(b.address)
            }
            if b.driverKnown && a.driverKnown {
                if b.driver != a.driver {
                    changes.append(change(.driverChanged, true, [b.address], b.driver ?? "none", a.driver ?? "none",
                                          "\(b.address) driver \(b.driver ?? "none") → \(a.driver ?? "none")"))
                }
            } else {
                driverUnknown.append(b.address)
            }
            if b.acsKnown && a.acsKnown {
                if b.acsControl != a.acsControl {
                    changes.append(change(.acsChanged, true, [b.address], b.acsControl ?? "no ACS", a.acsControl ?? "no ACS",
                                          "\(b.address) ACS Control \(b.acsControl ?? "no capability") → \(a.acsControl ?? "no capability")"))
                }
            } else {
                acsUnknown.append(b.address)
            }
        }
        for a in current.functions where before[a.address] == nil {
            changes.append(change(.functionAdded, true, [a.address], nil, "\(a.vendorID):\(a.deviceID)",
                                  "\(a.address) [\(a.vendorID):\(a.deviceID)] is new"))
        }
        // Facts that matter and one input (or both) does not hold, one line per kind of fact.
        let unknownFacts: [([String], (Int) -> String)] = [
            (idsUnknown, { "the IDs of \($0) function(s) read ffff in one input (a VF's config space in a dump): whether the device changed is unknown" }),
            (subsystemUnknown, { "the subsystem IDs of \($0) function(s) are in one input only" }),
            (driverUnknown, { "the bound driver of \($0) function(s) is not in both inputs (a dump without `Kernel driver in use:` lines, or a saved report without it)" }),
            (acsUnknown, { "whether \($0) function(s) have an ACS capability, and its control bits, is not in both inputs (the config space that holds it is missing, or a saved report lacks acsControl)" }),
        ]
        for (addresses, message) in unknownFacts where !addresses.isEmpty {
            changes.append(change(.notComparable, true, addresses, nil, nil, message(addresses.count)))
        }

        let sameKind: Bool
        switch (baseline.groups, current.groups) {
        case (.unknown, _), (_, .unknown):
            // Groups one input does not hold are not "gone": the units compared below are predictions on that side.
            changes.append(change(.notComparable, true, [], baseline.groups.rawValue, current.groups.rawValue,
                                  "the kernel's IOMMU groups are not in \(baseline.groups == .unknown ? "the baseline" : "the current input"): whether they changed is unknown"))
            sameKind = false
        case (.present, .noneMade), (.noneMade, .present):
            changes.append(change(current.groupsPresent ? .groupsAppeared : .groupsGone, true, [],
                                  baseline.groupsPresent ? "kernel groups" : "no kernel groups",
                                  current.groupsPresent ? "kernel groups" : "no kernel groups",
                                  current.groupsPresent
                                      ? "the kernel now makes IOMMU groups (the baseline had none)"
                                      : "the kernel made no IOMMU groups (IOMMU off); units below are predicted"))
            sameKind = false
        default:
            sameKind = true
        }
        changes += unitChanges(baseline, current, common: Set(before.keys).intersection(after.keys), verdictsOnly: !sameKind)
        return Drift(changes: changes)
    }

    private static func change(_ kind: DriftChange.Kind, _ matters: Bool, _ functions: [String], _ before: String?, _ after: String?,
                               _ message: String) -> DriftChange {
        DriftChange(kind: kind, matters: matters, functions: functions, before: before, after: after, message: message)
    }

    /// A function's subsystem IDs as `vvvv:dddd`: `.some(nil)` when the input has neither (a bridge without an SSVID
    /// capability), `nil` when it has half a pair, which is no fact to compare.
    private static func subsystemPair(_ f: PassthroughState.Function) -> String?? {
        switch (f.subsystemVendorID, f.subsystemDeviceID) {
        case let (v?, d?): .some("\(v):\(d)")
        case (nil, nil): .some(nil)
        default: .none
        }
    }

    private static func unitLabel(_ u: PassthroughState.Unit) -> String {
        (u.groupID.map { "group \($0)" } ?? (u.predicted ? "predicted unit" : "in no group")) + " {" + u.members.joined(separator: ", ") + "}"
    }

    /// `verdictsOnly`: the two sides' units are not both the kernel's (or both predictions), so only the verdicts of
    /// units with the same members are compared, never their grouping.
    private static func unitChanges(_ baseline: PassthroughState, _ current: PassthroughState, common: Set<String>,
                                    verdictsOnly: Bool) -> [DriftChange] {
        // Functions both inputs hold but one of them puts in no unit (a report saved with -s, -d or --verdict keeps
        // every function but only the chosen groups) are left out of the grouping compared, and said below.
        let coveredB = Set(baseline.units.flatMap(\.members)), coveredA = Set(current.units.flatMap(\.members))
        let uncovered = common.filter { !coveredB.contains($0) || !coveredA.contains($0) }.sorted()
        let compared = common.subtracting(uncovered)
        // Units restricted to those functions (functions added or removed are reported above).
        func restrict(_ units: [PassthroughState.Unit]) -> [(unit: PassthroughState.Unit, key: [String])] {
            units.compactMap { u in
                let key = u.members.filter(compared.contains).sorted()
                return key.isEmpty ? nil : (u, key)
            }
        }
        let b = restrict(baseline.units), a = restrict(current.units)
        var aByKey: [[String]: Int] = [:]
        for (i, x) in a.enumerated() { aByKey[x.key] = i }
        var bUnitOf: [String: Int] = [:], aUnitOf: [String: Int] = [:]
        for (i, x) in b.enumerated() { for m in x.key { bUnitOf[m] = i } }
        for (i, x) in a.enumerated() { for m in x.key { aUnitOf[m] = i } }

        var changes: [DriftChange] = []
        if !uncovered.isEmpty {
            changes.append(change(.notComparable, true, uncovered, nil, nil,
                                  "\(uncovered.count) function(s) are in no unit of \(uncovered.contains { !coveredB.contains($0) } ? "the baseline" : "the current input") (a report saved with -s, -d or --verdict): their groups and verdicts cannot be compared"))
        }
        var unchangedB = Set<Int>(), unchangedA = Set<Int>()
        for (i, x) in b.enumerated() {
            guard let j = aByKey[x.key] else { continue }
            unchangedB.insert(i); unchangedA.insert(j)
            let y = a[j]
            if let bid = x.unit.groupID, let aid = y.unit.groupID, bid != aid {
                changes.append(change(.groupRenumbered, true, x.key, "group \(bid)", "group \(aid)",
                                      "group \(bid) is now group \(aid) with the same members; configs that name the number (Proxmox iommugroup=, /dev/vfio/\(bid)) need it changed"))
            } else if !verdictsOnly, baseline.groups == .present, x.unit.predicted || y.unit.predicted {
                changes.append(change(.notComparable, true, x.key, x.unit.groupID.map { "group \($0)" } ?? "predicted",
                                      y.unit.groupID.map { "group \($0)" } ?? "predicted",
                                      "\(unitLabel(x.unit)) is a prediction on \(x.unit.predicted && y.unit.predicted ? "both sides" : "one side") though the kernel made groups (a group line or link missing): whether its group changed is unknown"))
            }
            if x.unit.verdict != y.unit.verdict {
                if x.unit.verdict == "undetermined" || y.unit.verdict == "undetermined" {
                    // One side lacks a fact that decides: the verdicts differ in what is known, not (necessarily) in what is.
                    changes.append(change(.notComparable, true, x.key, x.unit.verdict, y.unit.verdict,
                                          "\(unitLabel(y.unit)): \(x.unit.verdict) → \(y.unit.verdict)"
                                              + ((y.unit.verdict == "undetermined" ? y.unit.deciding : x.unit.deciding).map { " (\($0)): " } ?? ": ")
                                              + "a fact that decides is missing from \(y.unit.verdict == "undetermined" ? "the current input" : "the baseline")"))
                } else {
                    changes.append(change(.verdictChanged, true, x.key, x.unit.verdict, y.unit.verdict,
                                          "\(unitLabel(y.unit)): \(x.unit.verdict) → \(y.unit.verdict)"
                                              + (y.unit.deciding.map { " (\($0))" } ?? "")))
                }
            } else if x.unit.verdict == "undetermined" {
                // The same word on both sides, but over a fact neither input holds: it may have changed underneath.
                changes.append(change(.notComparable, true, x.key, x.unit.verdict, y.unit.verdict,
                                      "\(unitLabel(y.unit)) is undetermined on both sides"
                                          + (y.unit.deciding.map { " (\($0))" } ?? "")
                                          + ": a fact that decides is in neither input, so whether its readiness changed is unknown"))
            }
        }
        if verdictsOnly { return changes }
        // Connected sets of changed units: walk from each changed baseline unit through shared functions.
        var seenB = Set<Int>()
        for start in b.indices where !unchangedB.contains(start) && !seenB.contains(start) {
            var queueB = [start], compB: [Int] = [], compA = Set<Int>()
            seenB.insert(start)
            while let i = queueB.popLast() {
                compB.append(i)
                for m in b[i].key {
                    guard let j = aUnitOf[m], !compA.contains(j) else { continue }
                    compA.insert(j)
                    for m2 in a[j].key {
                        if let i2 = bUnitOf[m2], !seenB.contains(i2) { seenB.insert(i2); queueB.append(i2) }
                    }
                }
            }
            let bs = compB.sorted().map { b[$0].unit }, as_ = compA.sorted().map { a[$0].unit }
            let functions = compB.flatMap { b[$0].key }.sorted()
            if baseline.groups == .present && (bs + as_).contains(where: \.predicted) {
                // Kernel groups on one side, predictions on the other: a regrouping would rest on a guess.
                changes.append(change(.notComparable, true, functions, bs.map(unitLabel).joined(separator: "; "), as_.map(unitLabel).joined(separator: "; "),
                                      "\(bs.map(unitLabel).joined(separator: " + ")) → \(as_.map(unitLabel).joined(separator: " + ")): one side's units are predictions (a group line or link missing), so whether the grouping changed is unknown"))
                continue
            }
            let kind: DriftChange.Kind = bs.count == 1 && as_.count > 1 ? .groupSplit : bs.count > 1 && as_.count == 1 ? .groupMerged : .groupRegrouped
            let word = kind == .groupSplit ? "split" : kind == .groupMerged ? "merged" : "regrouped"
            let whyBefore = bs.flatMap(\.why), whyAfter = as_.flatMap(\.why)
            changes.append(change(kind, true, functions,
                                  bs.map(unitLabel).joined(separator: "; ") + (whyBefore.isEmpty ? "" : " — why: " + whyBefore.joined(separator: "; ")),
                                  as_.map(unitLabel).joined(separator: "; ") + (whyAfter.isEmpty ? "" : " — why: " + whyAfter.joined(separator: "; ")),
                                  "\(bs.map(unitLabel).joined(separator: " + ")) \(word) → \(as_.map(unitLabel).joined(separator: " + "))"))
        }
        return changes
    }
}
