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
    static let kernelReasons: Set<String> = ["pf-with-vfs", "vfio-denylist", "direct-mapping", "vfio-in-use"]

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
        let groupsDir = snapshot + "/sys/kernel/iommu_groups"
        var kernelGroups: [Int: Set<String>] = [:]
        for g in (try? FileManager.default.contentsOfDirectory(atPath: groupsDir)) ?? [] {
            kernelGroups[Int(g) ?? -1] = Set((try? FileManager.default.contentsOfDirectory(atPath: groupsDir + "/" + g + "/devices")) ?? [])
        }
        for expected in GuestHarness.array("EXPECT_GROUPS", in: name) {
            let set = Set(expected.split(separator: " ").map(String.init))
            #expect(kernelGroups.values.contains(set), "\(name): the kernel made no group \(set): \(kernelGroups.values.map { $0.sorted() })")
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

        for g in kernelGroups.keys.sorted() {
            let members = kernelGroups[g]?.sorted() ?? []
            guard let before = run.json("check-before-\(g).json") else { continue }
            let verdict = before["verdict"] as? String ?? "?"
            let probeBefore = run.probe("probe-before-\(g)")
            var row = "  group \(g) {\(members.joined(separator: " "))}: \(verdict); VFIO before: \(probeBefore?.summary ?? "no probe")"
            switch verdict {
            case "ready":
                #expect(probeBefore?.opened == true, "\(name) group \(g) is ready but VFIO says: \(probeBefore?.summary ?? "nothing")")
            case "needs-preparation":
                #expect(probeBefore?.opened != true, "\(name) group \(g) needs preparation, yet VFIO opens it already")
                let script = run.text("fix-\(g).sh") ?? ""
                let status = run.text("fix-\(g).status")?.trimmingCharacters(in: .whitespacesAndNewlines)
                if status == "gone" {
                    // An earlier group's fix removed this one (disabling SR-IOV removes the VFs).
                    row += "; gone before its turn (an earlier fix removed it)"
                } else if script.contains("\nexit 2\n") {
                    // An earlier group's fix changed this one (its VFs now on vfio-pci): blocked now, and VFIO agrees.
                    let codes = script.split(separator: "\n").filter { $0.hasPrefix("# fail: ") }.map { String($0.dropFirst(8).prefix { $0 != ":" }) }
                    let forced = run.probe("probe-forced-\(g)")
                    if !Self.kernelReasons.isDisjoint(with: codes) {
                        #expect(forced?.opened != true, "\(name) group \(g) became blocked by \(codes), yet VFIO opens it")
                    }
                    row += "; when its turn came, blocked by \(codes) (an earlier fix changed it): VFIO with every member on vfio-pci: \(forced?.summary ?? "no probe")"
                } else if let status {
                    let after = run.json("check-after-\(g).json")
                    let probeAfter = run.probe("probe-after-\(g)")
                    #expect(status == "0", "\(name) group \(g): the fix script failed: \(run.text("fix-\(g).log") ?? "")")
                    // Ready, or only fixes that cannot be commands are left (the JSON says so: fixSteps null).
                    let left = (after?["checks"] as? [[String: Any]] ?? []).flatMap { $0["findings"] as? [[String: Any]] ?? [] }
                        .filter { $0["severity"] as? String != "info" }
                    let manual = left.filter { $0["fixSteps"] is NSNull && $0["severity"] as? String == "warn" }.compactMap { $0["code"] as? String }
                    #expect(after?["verdict"] as? String == "ready" || (after?["verdict"] as? String == "needs-preparation" && !left.contains { $0["fixSteps"] is [Any] }),
                            "\(name) group \(g): after the fixes the verdict is \(after?["verdict"] ?? "?"): \(left.compactMap { $0["code"] as? String })")
                    if after?["verdict"] as? String != "ready" { row += "; left by hand: \(manual)" }
                    #expect(probeAfter?.opened == true, "\(name) group \(g): after the fixes VFIO says \(probeAfter?.summary ?? "nothing")")
                    row += "; fixes: \(script.split(separator: "\n").filter { !$0.hasPrefix("#") && $0 != "set -e" }.count) step(s), exit \(status); after: \(after?["verdict"] ?? "?"), VFIO: \(probeAfter?.summary ?? "no probe")"
                } else {
                    // No step ran: every fix is by hand, and the JSON says that it cannot be a command.
                    let findings = (before["checks"] as? [[String: Any]] ?? []).flatMap { $0["findings"] as? [[String: Any]] ?? [] }
                    let preparation = findings.filter { $0["severity"] as? String == "warn" }
                    #expect(preparation.allSatisfy { $0["fixSteps"] is NSNull }, "\(name) group \(g): fix steps were printed but not run")
                    row += "; fixes by hand only: \(preparation.compactMap { $0["code"] as? String })"
                }
            case "blocked":
                let codes = Self.deciding(before)
                let forced = run.probe("probe-forced-\(g)")
                if !Self.kernelReasons.isDisjoint(with: codes) {
                    #expect(forced?.opened != true, "\(name) group \(g) is blocked by \(codes), yet VFIO opens it when its members are bound to vfio-pci")
                    row += "; blocked by the kernel (\(codes.joined(separator: ","))): VFIO with every member on vfio-pci: \(forced?.summary ?? "no probe")"
                } else {
                    // The product's judgement (the host uses it, it is the platform): VFIO's answer is recorded.
                    row += "; blocked by judgement (\(codes.joined(separator: ","))), not VFIO's: with every member on vfio-pci VFIO \(forced?.summary ?? "was not asked")"
                }
            default:
                row += "; undetermined: \(Self.deciding(before)) (a live root guest should know every fact)"
                Issue.record("\(name) group \(g) is undetermined live as root: \((before["checks"] as? [[String: Any]] ?? []).filter { $0["result"] as? String == "UNKNOWN" }.compactMap { $0["id"] })")
            }
            // Every answer VFIO gave about a device: its RESET flag and hot-reset list against what check said in the
            // same state (before the fixes: check-before; after them: check-after; a forced bind changes no topology).
            func claims(_ check: [String: Any]?) -> [String: [String: Any]] {
                Dictionary((check?["resets"] as? [[String: Any]] ?? []).compactMap { r in (r["address"] as? String).map { ($0, r) } }, uniquingKeysWith: { a, _ in a })
            }
            let after = run.json("check-after-\(g).json")
            for (probe, state) in [(probeBefore, claims(before)), (run.probe("probe-after-\(g)"), claims(after)), (run.probe("probe-forced-\(g)"), claims(before))] {
                guard let probe else { continue }
                for d in probe.devices {
                    guard let address = d["address"] as? String, let claim = state[address] ?? resets[address] else { continue }
                    if let flag = d["reset"] as? Bool {
                        #expect(claim["resettable"] as? Bool == flag, "\(name) \(address): VFIO says RESET=\(flag), the report says resettable=\(claim["resettable"] ?? "null") (methods \(claim["methods"] ?? "?"))")
                    }
                    let through = claim["hotResetThrough"] as? String
                    if let list = d["hotReset"] as? [[String: Any]] {
                        let hit = Set(list.compactMap { $0["address"] as? String })
                        let named = Set([address] + (claim["hotResetAlsoResets"] as? [String] ?? []))
                        #expect(through != nil && hit == named, "\(name) \(address): VFIO's hot reset hits \(hit.sorted()), the report names \(named.sorted()) through \(through ?? "nothing")")
                    } else if let e = d["hotResetErrno"] as? Int {
                        #expect(e == 19 && through == nil, "\(name) \(address): VFIO has no hot reset (errno \(e)); the report says through \(through ?? "nothing")")
                    }
                }
            }
            if let d = (run.probe("probe-after-\(g)") ?? probeBefore)?.devices.first, let a = d["address"] as? String {
                row += "; \(a) RESET=\(d["reset"] ?? "-") (claim \(resets[a]?["resettable"] ?? "null")), hot reset \((d["hotReset"] as? [[String: Any]])?.compactMap { $0["address"] as? String }.joined(separator: " ") ?? "errno \(d["hotResetErrno"] ?? "-")")"
            }
            table.append(row)
        }
        print(table.joined(separator: "\n"))
    }
}
