import Foundation
import Testing
import TestSupport

/// Ready means VFIO opens it. Each topology of Tests/Fixtures/guests/ boots the distribution's kernel under QEMU
/// with an emulated IOMMU (Scripts/guest-vfio.sh); in the guest vfio-inspect runs live as root, VFIO itself is asked
/// (Scripts/guest/vfio-probe.c: group viable, container, type1v2, device files, the RESET flag, the hot-reset
/// list), the fixes vfio-inspect prints run as a script, and everything is asked again. Held here:
/// - the kernel did what the topology file says it must (its groups; functions it must not enumerate);
/// - `ready` ⇒ VFIO opens the group and hands out every member's device file;
/// - `needs-preparation` ⇒ before the fixes VFIO does not; the fixes, run as printed, make the verdict `ready`
///   and VFIO opens it (a fix that cannot be a command is said so in the JSON, and is not run);
/// - `blocked` for a kernel reason (a PF with VFs, the denylist, a 1:1 mapping, a group held open) ⇒ VFIO refuses
///   even when the members are bound to vfio-pci anyway; `blocked` for the host's use or the platform is
///   vfio-inspect's judgement, not VFIO's, and VFIO's answer is only recorded;
/// - reset: `resettable` ⇔ VFIO_DEVICE_FLAGS_RESET; the hot-reset list = the function and what the report says a
///   bus reset also hits (no bus reset on a root bus ⇔ ENODEV);
/// - live = snapshot: `report --json` in the guest equals `report --root` on the guest's snapshot.
@Suite("Ready means VFIO opens it (real kernels, emulated IOMMUs)")
struct KernelHarnessTests {
    /// Blocks that are the kernel's own refusals, with how VFIO refuses when the members are forced onto vfio-pci
    /// anyway: the group busy (held open), no group file (vfio-pci refused to bind: a PF with VFs, the denylist),
    /// the container or the type1 IOMMU refused (a 1:1 mapping; no interrupt remapping without
    /// allow_unsafe_interrupts).
    static let kernelReasons: [String: @Sendable (Probe) -> Bool] = [
        "vfio-in-use": { $0.groupErrno == 16 },
        "pf-with-vfs": { $0.groupErrno == 2 || $0.viable == false },
        "vfio-denylist": { $0.groupErrno == 2 || $0.viable == false },
        "direct-mapping": { $0.json["setContainerErrno"] != nil || $0.json["setIOMMUErrno"] != nil },
        "no-interrupt-remapping": { $0.json["setIOMMUErrno"] as? Int == 1 },
    ]

    static func deciding(_ check: [String: Any]) -> [String] {
        let findings = (check["checks"] as? [[String: Any]] ?? []).flatMap { $0["findings"] as? [[String: Any]] ?? [] }
        return findings.filter { $0["severity"] as? String == "fail" }.compactMap { $0["code"] as? String }
    }

    /// The report without what names the input (the source path) and what the snapshot leaves out by design.
    static func comparable(_ report: [String: Any]) -> [String: Any] {
        var r = report
        r.removeValue(forKey: "source")
        return r
    }

    static func differences(_ a: Any?, _ b: Any?, path: String = "") -> [String] {
        switch (a, b) {
        case let (x as [String: Any], y as [String: Any]):
            return Set(x.keys).union(y.keys).sorted().flatMap { differences(x[$0], y[$0], path: path + "." + $0) }
        case let (x as [Any], y as [Any]):
            guard x.count == y.count else { return ["\(path): \(x.count) vs \(y.count) items"] }
            return zip(x, y).enumerated().flatMap { differences($0.element.0, $0.element.1, path: path + "[\($0.offset)]") }
        default:
            let l = a.map { "\($0)" } ?? "nil", r = b.map { "\($0)" } ?? "nil"
            return l == r ? [] : ["\(path): \(l.prefix(120)) vs \(r.prefix(120))"]
        }
    }

    @Test("each topology in a real kernel: verdicts, fixes, resets and the snapshot against what VFIO says",
          arguments: GuestHarness.topologies)
    func topology(_ name: String) throws {
        let run = try #require(GuestHarness.runs[name], "\(name) was not booted")
        if run.status == 77 {
            // The kernel's own config says it has no such IOMMU: said, not passed silently.
            #expect(run.stderr.contains("is built without"), "\(run.stderr)")
            print("guest \(name): not run: \(run.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            return
        }
        try #require(run.status == 0, "the guest for \(name) failed: \(run.stderr.suffix(3000))")
        let report = try #require(run.json("report.json"), "no report.json")
        var table = ["guest \(name) (\(run.seconds) s, kernel \(run.text("release")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?")):"]

        // The kernel did what the topology says.
        let snapshot = run.out + "/snapshot"
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        #expect(try Command.run("/bin/tar", ["-xf", run.out + "/snapshot.tar", "-C", run.out]).status == 0)
        // The kernel's groups as the guest listed them itself (ls of /sys/kernel/iommu_groups, not the tool's snapshot).
        var kernelGroups: [Int: Set<String>] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: run.out) where file.hasPrefix("group-") && file.hasSuffix(".members") {
            let g = try #require(Int(file.dropFirst("group-".count).dropLast(".members".count)))
            kernelGroups[g] = Set((run.text(file) ?? "").split(separator: "\n").map(String.init))
        }
        try #require(!kernelGroups.isEmpty, "\(name): the guest listed no IOMMU group")
        for expected in GuestHarness.array("EXPECT_GROUPS", in: name) {
            let set = Set(expected.split(separator: " ").map(String.init))
            #expect(kernelGroups.values.contains(set), "\(name): the kernel made no group \(set): \(kernelGroups.values.map { $0.sorted() })")
        }
        // A BAR the topology gives (EXPECT_BAR "BDF index size"): the kernel assigned it and check read it back.
        for expected in GuestHarness.array("EXPECT_BAR", in: name) {
            let words = expected.split(separator: " ", maxSplits: 2).map(String.init)
            try #require(words.count == 3)
            let g = try #require(kernelGroups.first { $0.value.contains(words[0]) }?.key, "\(name): \(words[0]) is in no group")
            let check = run.text("check-before-\(g).json") ?? ""
            #expect(check.contains("\(words[0]) BAR \(words[1]): \(words[2]) 64-bit"), "\(name): the guest's check does not read BAR \(words[1]) of \(words[0]) as \(words[2])")
            table.append("  BAR \(words[1]) of \(words[0]): \(words[2]), assigned by the guest kernel and read by check")
        }
        let functions = Set((report["functions"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String })
        for absent in (GuestHarness.value("EXPECT_ABSENT", in: name) ?? "").split(separator: " ") {
            #expect(!functions.contains(String(absent)), "\(name): \(absent) must not be enumerated, yet the report lists it")
        }

        // Live = snapshot.
        let fromSnapshot = try Command.tool(["report", "--json", "--root", snapshot])
        let replayed = try Command.json(fromSnapshot.stdout)
        let diff = Self.differences(Self.comparable(report), Self.comparable(replayed))
        #expect(diff.isEmpty, "\(name): live and snapshot reports differ: \(diff.prefix(12))")
        table.append("  live vs snapshot: \(diff.count) differences")

        // Reset claims, from the live report.
        let resets = Dictionary((report["resets"] as? [[String: Any]] ?? []).compactMap { r in (r["address"] as? String).map { ($0, r) } }, uniquingKeysWith: { a, _ in a })

        var resetCompared = 0, hotResetCompared = 0
        let classes = Dictionary((report["functions"] as? [[String: Any]] ?? []).compactMap { f in
            (f["address"] as? String).map { ($0, f["classCode"] as? String ?? "") } }, uniquingKeysWith: { a, _ in a })
        for g in kernelGroups.keys.sorted() {
            let members = kernelGroups[g]?.sorted() ?? []
            let probeBefore = try #require(run.probe("probe-before-\(g)"), "\(name) group \(g): VFIO was not asked")
            // Every group with a member that is neither a bridge nor the host bridge must have been checked.
            let candidate = members.contains { m in !(classes[m] ?? "0604").hasPrefix("0604") && !(classes[m] ?? "0600").hasPrefix("0600") }
            guard candidate else { continue }
            let before = try #require(run.json("check-before-\(g).json"), "\(name) group \(g): check --json gave nothing: \(run.text("check-before-\(g).err") ?? "")")
            let verdict = before["verdict"] as? String ?? "?"
            var row = "  group \(g) {\(members.joined(separator: " "))}: \(verdict); VFIO before: \(probeBefore.summary)"
            switch verdict {
            case "ready":
                #expect(probeBefore.opened, "\(name) group \(g) is ready but VFIO says: \(probeBefore.summary)")
            case "needs-preparation":
                #expect(!probeBefore.opened, "\(name) group \(g) needs preparation, yet VFIO opens it already")
                let script = run.text("fix-\(g).sh") ?? ""
                let status = run.text("fix-\(g).status")?.trimmingCharacters(in: .whitespacesAndNewlines)
                if status == "gone" {
                    // An earlier group's fix removed this one (disabling SR-IOV removes the VFs).
                    row += "; gone before its turn (an earlier fix removed it)"
                } else if script.contains("\nexit 2\n") {
                    // An earlier group's fix changed this one (its VFs now on vfio-pci): blocked now, and VFIO agrees.
                    let codes = script.split(separator: "\n").filter { $0.hasPrefix("# fail: ") }.map { String($0.dropFirst(8).prefix { $0 != ":" }) }
                    let forced = try #require(run.probe("probe-forced-\(g)"), "\(name) group \(g): VFIO was not asked after the forced bind")
                    for code in codes { if let refuses = Self.kernelReasons[code] { #expect(refuses(forced), "\(name) group \(g) became blocked by \(code), yet VFIO says \(forced.summary)") } }
                    row += "; when its turn came, blocked by \(codes) (an earlier fix changed it): VFIO with every member on vfio-pci: \(forced.summary)"
                } else if let status {
                    let after = try #require(run.json("check-after-\(g).json"), "\(name) group \(g): no check after the fixes")
                    let probeAfter = try #require(run.probe("probe-after-\(g)"), "\(name) group \(g): VFIO was not asked after the fixes")
                    #expect(status == "0", "\(name) group \(g): the fix script failed: \(run.text("fix-\(g).log") ?? "")")
                    // Ready, or only fixes that cannot be commands are left (the JSON says so: fixSteps null).
                    let left = (after["checks"] as? [[String: Any]] ?? []).flatMap { $0["findings"] as? [[String: Any]] ?? [] }
                        .filter { $0["severity"] as? String != "info" }
                    let manual = left.filter { $0["fixSteps"] is NSNull && $0["severity"] as? String == "warn" }.compactMap { $0["code"] as? String }
                    #expect(after["verdict"] as? String == "ready" || (after["verdict"] as? String == "needs-preparation" && !manual.isEmpty && !left.contains { $0["fixSteps"] is [Any] }),
                            "\(name) group \(g): after the fixes the verdict is \(after["verdict"] ?? "?"): \(left.compactMap { $0["code"] as? String })")
                    if after["verdict"] as? String != "ready" { row += "; left by hand: \(manual)" }
                    #expect(probeAfter.opened, "\(name) group \(g): after the fixes VFIO says \(probeAfter.summary)")
                    row += "; fixes: \(script.split(separator: "\n").filter { !$0.hasPrefix("#") && $0 != "set -e" }.count) step(s), exit \(status); after: \(after["verdict"] ?? "?"), VFIO: \(probeAfter.summary)"
                } else {
                    // No step ran: every fix is by hand, and the JSON says that it cannot be a command.
                    let findings = (before["checks"] as? [[String: Any]] ?? []).flatMap { $0["findings"] as? [[String: Any]] ?? [] }
                    let preparation = findings.filter { $0["severity"] as? String == "warn" }
                    #expect(!preparation.isEmpty && preparation.allSatisfy { $0["fixSteps"] is NSNull }, "\(name) group \(g): fix steps were printed but not run")
                    row += "; fixes by hand only: \(preparation.compactMap { $0["code"] as? String })"
                }
            case "blocked":
                let codes = Self.deciding(before)
                let forced = try #require(run.probe("probe-forced-\(g)"), "\(name) group \(g): VFIO was not asked after the forced bind")
                let kernel = codes.filter { Self.kernelReasons[$0] != nil }
                if !kernel.isEmpty {
                    // The kernel's own refusal: VFIO refuses the way the finding says.
                    #expect(kernel.contains { Self.kernelReasons[$0]?(forced) == true }, "\(name) group \(g) is blocked by \(kernel), yet VFIO says \(forced.summary)")
                    row += "; blocked by the kernel (\(kernel.joined(separator: ","))): VFIO with every member on vfio-pci: \(forced.summary)"
                } else {
                    // The product's judgement (the host uses it, it is the platform): VFIO lets the forced bind through.
                    #expect(forced.opened, "\(name) group \(g) is blocked by \(codes) (a judgement), yet VFIO refuses too: \(forced.summary): a kernel reason the tool does not name")
                    row += "; blocked by judgement (\(codes.joined(separator: ","))), not VFIO's: with every member on vfio-pci VFIO \(forced.summary)"
                }
            default:
                row += "; undetermined: \(Self.deciding(before)) (a live root guest should know every fact)"
                Issue.record("\(name) group \(g) is undetermined live as root: \((before["checks"] as? [[String: Any]] ?? []).filter { $0["result"] as? String == "UNKNOWN" }.compactMap { $0["id"] })")
            }
            // The backend line against both of VFIO's paths: a unit check calls openable through iommufd must attach
            // through each member's cdev, and one VFIO opens through a cdev must not be called unable by check.
            for (probe, check) in [(Optional(probeBefore), Optional(before)), (run.probe("probe-after-\(g)"), run.json("check-after-\(g).json"))] {
                guard let probe, let check else { continue }
                let backend = (check["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "backend" }
                let backendFindings = backend?["findings"] as? [[String: Any]] ?? []
                let claimsIOMMUFD = backendFindings.contains { ($0["code"] as? String) == "backend-available" && ($0["message"] as? String ?? "").contains("iommufd (") }
                let claimsContainer = backendFindings.contains { ($0["code"] as? String) == "backend-available" && ($0["message"] as? String ?? "").contains("legacy container") }
                let attached = probe.cdevAttached
                if check["verdict"] as? String == "ready" {
                    #expect(backend?["result"] as? String == "PASS", "\(name) group \(g): ready, but the backend line is \(backend?["result"] ?? "missing")")
                    if claimsContainer { #expect(probe.opened, "\(name) group \(g): check says the container opens it, VFIO says \(probe.summary)") }
                    if claimsIOMMUFD {
                        let endpoints = members.filter { !(classes[$0] ?? "0604").hasPrefix("0604") }
                        #expect(endpoints.allSatisfy { attached[$0] == true }, "\(name) group \(g): check says iommufd opens it, VFIO's cdev path says \(attached)")
                        row += "; iommufd: \(attached.values.filter { $0 }.count) cdev(s) attached"
                    }
                }
                if attached.values.contains(true) {
                    #expect(claimsIOMMUFD, "\(name) group \(g): VFIO attaches a cdev through iommufd, but check does not say iommufd can open it: \(backendFindings.compactMap { $0["message"] as? String })")
                }
            }
            // Mapping the BARs, as QEMU does: a framebuffer check names makes VFIO's mmap fail (EBUSY); a ready unit's
            // BARs all map.
            for (probe, check) in [(Optional(probeBefore), Optional(before)), (run.probe("probe-after-\(g)"), run.json("check-after-\(g).json"))] {
                guard let probe, let check else { continue }
                let findings = (check["checks"] as? [[String: Any]] ?? []).flatMap { $0["findings"] as? [[String: Any]] ?? [] }
                let held = Set(findings.filter { $0["code"] as? String == "firmware-framebuffer" }.flatMap { $0["functions"] as? [String] ?? [] })
                for d in probe.devices {
                    guard let address = d["address"] as? String, let mmap = d["mmap"] as? [String: Int] else { continue }
                    if held.contains(address) {
                        #expect(mmap.values.contains(16), "\(name) \(address): check says a framebuffer holds a BAR, yet VFIO maps every BAR: \(mmap)")
                        row += "; \(address) framebuffer: VFIO's mmap EBUSY on BAR \(mmap.filter { $0.value == 16 }.keys.sorted().joined(separator: ","))"
                    } else if check["verdict"] as? String == "ready" {
                        #expect(mmap.values.allSatisfy { $0 == 0 }, "\(name) \(address): ready, yet VFIO cannot map a BAR: \(mmap)")
                    }
                }
            }
            // Every answer VFIO gave about a device: its RESET flag and hot-reset list against what check said in the
            // same state (before the fixes: check-before; after them: check-after; a forced bind changes no topology).
            func claims(_ check: [String: Any]?) -> [String: [String: Any]] {
                Dictionary((check?["resets"] as? [[String: Any]] ?? []).compactMap { r in (r["address"] as? String).map { ($0, r) } }, uniquingKeysWith: { a, _ in a })
            }
            let after = run.json("check-after-\(g).json")
            for (probe, state) in [(Optional(probeBefore), claims(before)), (run.probe("probe-after-\(g)"), claims(after)), (run.probe("probe-forced-\(g)"), claims(before))] {
                guard let probe else { continue }
                for d in probe.devices where d["deviceErrno"] == nil {
                    let address = try #require(d["address"] as? String)
                    let claim = try #require(state[address] ?? resets[address], "\(name) \(address): the report makes no reset claim")
                    #expect(d["reset"] is Bool && (d["hotReset"] != nil || d["hotResetErrno"] != nil), "\(name) \(address): VFIO's answer is incomplete: \(d)")
                    if let flag = d["reset"] as? Bool {
                        resetCompared += 1
                        #expect(claim["resettable"] as? Bool == flag, "\(name) \(address): VFIO says RESET=\(flag), the report says resettable=\(claim["resettable"] ?? "null") (methods \(claim["methods"] ?? "?"))")
                    }
                    let through = claim["hotResetThrough"] as? String
                    if d["hotReset"] != nil || d["hotResetErrno"] != nil { hotResetCompared += 1 }
                    if let list = d["hotReset"] as? [[String: Any]] {
                        let hit = Set(list.compactMap { $0["address"] as? String })
                        let named = Set([address] + (claim["hotResetAlsoResets"] as? [String] ?? []))
                        #expect(through != nil && hit == named, "\(name) \(address): VFIO's hot reset hits \(hit.sorted()), the report names \(named.sorted()) through \(through ?? "nothing")")
                    } else if let e = d["hotResetErrno"] as? Int {
                        #expect(e == 19 && through == nil, "\(name) \(address): VFIO has no hot reset (errno \(e)); the report says through \(through ?? "nothing")")
                    }
                }
            }
            if let d = (run.probe("probe-after-\(g)") ?? probeBefore).devices.first, let a = d["address"] as? String {
                row += "; \(a) RESET=\(d["reset"] ?? "-") (claim \(resets[a]?["resettable"] ?? "null")), hot reset \((d["hotReset"] as? [[String: Any]])?.compactMap { $0["address"] as? String }.joined(separator: " ") ?? "errno \(d["hotResetErrno"] ?? "-")")"
            }
            table.append(row)
        }
        table.append("  compared with VFIO: \(resetCompared) RESET flags, \(hotResetCompared) hot-reset answers")
        print(table.joined(separator: "\n"))
    }
}
