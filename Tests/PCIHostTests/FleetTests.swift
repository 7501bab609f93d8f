import Foundation
import Testing
import TestSupport
import VFIOFleet

/// Issue 13: every fleet format, from every fixture and from real dumps, read by its real consumer, and saying what
/// `report --json` says; `diff` on fixture pairs and edited copies; the drift gauge.
@Suite("fleet formats and drift")
struct FleetTests {
    /// Each input as (name, the arguments that read it): every oracle fixture, a real dump with the machine's group
    /// and driver lines, a real dump with drivers but no groups (256 bytes: no extended space), one with neither.
    static let inputs: [(name: String, args: [String])] =
        Fixtures.sysfsNames.map { ($0, ["--root", Fixtures.sysfs($0)]) } + [
            ("msi-b550m", ["--dump", Fixtures.realdata("nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt")]),
            ("n1sdp", ["--dump", Fixtures.realdata("linux-pci-mailing-list/arm-neoverse-n1sdp.lspci-vvxxx.txt")]),
            ("thinkcentre", ["--dump", Fixtures.realdata("jailhouse-config-collect/lenovo-thinkcentre-90g0-i5-7500.sysfs-config.lspci-xxxx.txt")]),
        ]

    /// What `report --json` says of an input: units (members, verdict, group) and functions (bridge?, group).
    struct Truth {
        var units: [(members: [String], verdict: String, group: Int?)] = []
        var bridge: [String: Bool] = [:]
        var group: [String: Int] = [:]
        var ids: [String: String] = [:]
        var iommu = "unknown"
        var verdictOf: [String: String] = [:]

        var counts: [String: Int] {
            var c = ["ready": 0, "needs-preparation": 0, "blocked": 0, "undetermined": 0]
            for u in units { c[u.verdict, default: 0] += 1 }
            return c
        }

        /// The lead of each viable unit: its lowest-addressed function that is not a bridge.
        var leads: Set<String> {
            Set(units.filter { $0.verdict == "ready" || $0.verdict == "needs-preparation" }
                .compactMap { $0.members.sorted().first { bridge[$0] == false } })
        }
    }

    static func truth(_ args: [String]) throws -> Truth {
        let r = try Command.tool(["report", "--json"] + args)
        let doc = try Command.json(r.stdout)
        var t = Truth()
        for g in (doc["groups"] as? [[String: Any]]) ?? [] {
            let members = (g["members"] as? [String]) ?? []
            let verdict = (g["verdict"] as? String) ?? ""
            t.units.append((members, verdict, g["id"] as? Int))
            for m in members { t.verdictOf[m] = verdict }
        }
        for f in (doc["functions"] as? [[String: Any]]) ?? [] {
            let a = (f["address"] as? String) ?? ""
            let header = f["headerType"] as? Int
            let cls = (f["classCode"] as? String) ?? ""
            t.bridge[a] = header.map { $0 == 1 || $0 == 2 } ?? cls.hasPrefix("0604")
            if let g = f["iommuGroup"] as? Int { t.group[a] = g }
            t.ids[a] = "\((f["vendorID"] as? String) ?? ""):\((f["deviceID"] as? String) ?? "")"
        }
        let codes = ((doc["host"] as? [String: Any])?["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        t.iommu = codes.contains("iommu-on") ? "on" : codes.contains("iommu-off") ? "off" : "unknown"
        return t
    }

    /// Writes one file per input with `arguments` (plus the input's) into `dir`; returns name → path.
    static func produce(_ dir: String, suffix: String, _ arguments: [String], output: Bool = true) throws -> [String: String] {
        var paths: [String: String] = [:]
        for input in inputs {
            let path = "\(dir)/\(input.name).\(suffix)"
            let r = try Command.tool(arguments + input.args + (output ? ["--output", path] : []))
            #expect(r.status == 0, "\(input.name): \(arguments) exit \(r.status): \(r.stderr)")
            if !output { try r.stdout.write(toFile: path, atomically: true, encoding: .utf8) }
            paths[input.name] = path
        }
        return paths
    }

    static func consumed(_ kind: String, _ paths: [String: String]) throws -> [String: [String: Any]] {
        let c = try FleetConsumers.consume(kind, paths.values.sorted())
        for (file, r) in c.results {
            #expect(r["ok"] as? Bool == true, "\(kind) consumer refused \(file): \(r["error"] ?? "") \(c.stderr.suffix(400))")
        }
        #expect(c.status == 0)
        var byName: [String: [String: Any]] = [:]
        for (name, path) in paths { byName[name] = c.results[path] }
        return byName
    }

    @Test("nfd: kubectl takes every label (apimachinery's rules), NFD's file rules hold, the counts are report's")
    func nfd() throws {
        let dir = try Fixtures.temporaryDirectory("nfd")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let read = try Self.consumed("nfd", try Self.produce(dir, suffix: "features", ["export", "--format", "nfd", "--expiry", "30m"]))
        for input in Self.inputs {
            let t = try Self.truth(input.args)
            let labels = try #require(read[input.name]?["labels"] as? [String: String])
            let p = "vfio.feature.node.kubernetes.io/"
            for (verdict, n) in t.counts { #expect(labels[p + "groups-" + verdict] == String(n), "\(input.name) \(verdict)") }
            #expect(labels[p + "iommu"] == ["on": "true", "off": "false", "unknown": "unknown"][t.iommu], "\(input.name)")
            // assignable-<vendor>-<device>: viable units holding a non-bridge function of those IDs.
            var expected: [String: Int] = [:]
            for u in t.units where u.verdict == "ready" || u.verdict == "needs-preparation" {
                for id in Set(u.members.filter { t.bridge[$0] == false }.compactMap { t.ids[$0] }) {
                    expected[p + "assignable-" + id.replacingOccurrences(of: ":", with: "-"), default: 0] += 1
                }
            }
            let published = labels.filter { $0.key.hasPrefix(p + "assignable-") }.mapValues { Int($0) ?? -1 }
            #expect(published == expected, "\(input.name)")
        }
        // No dotfile left behind: the writer renamed it into place.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test("nfd: names or values that break the label rules, and labels past NFD's 64 KiB limit, are left out and named")
    func nfdLimits() throws {
        var candidates: [(name: String, value: String)] = [("iommu", "true"), ("bad name", "1"), ("x", String(repeating: "v", count: 64)),
                                                          ("-lead", "1"), ("value", "trailing-")]
        for i in 0..<3000 { candidates.append(("assignable-\(String(i, radix: 16))-0000", String(i))) }
        let file = NFDFeatureFile(labels: candidates, expiry: Date().addingTimeInterval(600))
        #expect(file.text.utf8.count <= NFDFeatureFile.maxSize)
        #expect(file.skipped.contains(NFDFeatureFile.prefix + "bad name"))
        #expect(file.skipped.contains(NFDFeatureFile.prefix + "x"))
        #expect(file.skipped.contains(NFDFeatureFile.prefix + "-lead"))
        #expect(file.skipped.contains(NFDFeatureFile.prefix + "value"))
        #expect(file.labels.count + file.skipped.count == candidates.count)
        #expect(file.labels.count > 1000)
        // What was kept, kubectl takes.
        let dir = try Fixtures.temporaryDirectory("nfd-limit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try file.text.write(toFile: dir + "/features", atomically: true, encoding: .utf8)
        let read = try Self.consumed("nfd", ["big": dir + "/features"])
        #expect((read["big"]?["labels"] as? [String: String])?.count == file.labels.count)
    }

    @Test("prometheus: promtool lints clean, prometheus_client parses, a real node_exporter serves every sample; verdicts are report's")
    func prometheus() throws {
        let dir = try Fixtures.temporaryDirectory("prom")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try Self.produce(dir, suffix: "prom", ["export", "--format", "prometheus", "--baseline", Fixtures.sysfs("rp-acs")])
        let read = try Self.consumed("prometheus", paths)
        for input in Self.inputs {
            let t = try Self.truth(input.args)
            let samples = try #require(read[input.name]?["samples"] as? [[String: Any]])
            func values(_ name: String) -> [([String: String], Double)] {
                samples.filter { $0["name"] as? String == name }.map { (($0["labels"] as? [String: String]) ?? [:], ($0["value"] as? Double) ?? -1) }
            }
            for (labels, value) in values("vfio_inspect_units") {
                #expect(Int(value) == t.counts[labels["verdict"] ?? ""], "\(input.name) \(labels)")
            }
            let state = values("vfio_inspect_iommu_state").filter { $0.1 == 1 }.map { $0.0["state"] ?? "" }
            #expect(state == [t.iommu], "\(input.name)")
            let perFunction = values("vfio_inspect_pci_function_verdict")
            #expect(perFunction.count == t.ids.count, "\(input.name)")
            for (labels, _) in perFunction {
                let address = "\(labels["segment"] ?? ""):\(labels["bus"] ?? ""):\(labels["device"] ?? "").\(labels["function"] ?? "")"
                #expect(labels["verdict"] == t.verdictOf[address], "\(input.name) \(address)")
                #expect(labels["iommu_group"] == t.group[address].map(String.init) ?? labels["iommu_group"], "\(input.name) \(address)")
                if t.iommu == "unknown" { #expect(labels["iommu_group"] == "unknown", "\(input.name) \(address)") }
            }
            #expect(values("vfio_inspect_drift_baseline_readable").first?.1 == 1)
            let detected = values("vfio_inspect_drift_detected").first?.1
            #expect(detected == (input.name == "rp-acs" ? 0 : 1), "\(input.name): drift against rp-acs")
        }
    }

    @Test("prometheus --baseline: the drift gauge fires after an IOMMU-off boot, stays 0 for the same host, and says an unreadable baseline")
    func driftGauge() throws {
        func gauge(_ args: [String], _ name: String) throws -> (Int32, [String]) {
            let r = try Command.tool(["export", "--format", "prometheus"] + args)
            return (r.status, r.stdout.split(separator: "\n").filter { $0.hasPrefix(name) }.map(String.init))
        }
        let (s1, on) = try gauge(["--root", Fixtures.sysfs("no-iommu"), "--baseline", Fixtures.sysfs("rp-acs")], "vfio_inspect_drift")
        #expect(s1 == 0)
        #expect(on.contains("vfio_inspect_drift_detected 1.0"))
        #expect(on.contains("vfio_inspect_drift_changes{kind=\"groups-gone\"} 1.0"))
        let (s2, same) = try gauge(["--root", Fixtures.sysfs("rp-acs"), "--baseline", Fixtures.sysfs("rp-acs")], "vfio_inspect_drift")
        #expect(s2 == 0)
        #expect(same.contains("vfio_inspect_drift_detected 0.0"))
        let (s3, missing) = try gauge(["--root", Fixtures.sysfs("rp-acs"), "--baseline", "/nonexistent/baseline"], "vfio_inspect_drift")
        #expect(s3 == 0)
        #expect(missing == ["vfio_inspect_drift_baseline_readable 0.0"])
    }

    @Test("ansible-fact: ansible-core's setup loads every file into ansible_local with report's verdicts; schema holds")
    func ansibleFact() throws {
        let dir = try Fixtures.temporaryDirectory("facts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var paths: [String: String] = [:]
        for input in Self.inputs {
            let key = input.name.replacingOccurrences(of: "-", with: "_")
            let path = "\(dir)/\(key).fact"
            let r = try Command.tool(["export", "--format", "ansible-fact", "--output", path] + input.args)
            #expect(r.status == 0)
            paths[key] = path
        }
        // A fact script that cannot read its host still exits 0 and says so inside (setup runs executable facts).
        let script = "\(dir)/broken_host.fact"
        try "#!/bin/sh\nexec '\(Command.toolPath)' export --format ansible-fact --root /nonexistent-root\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let c = try FleetConsumers.consume("ansible", [dir])
        #expect(c.status == 0, "\(c.results)")
        let local = try #require(c.results[dir]?["ansible_local"] as? [String: Any])
        for input in Self.inputs {
            let t = try Self.truth(input.args)
            let fact = try #require(local[input.name.replacingOccurrences(of: "-", with: "_")] as? [String: Any], "\(input.name)")
            #expect(fact["ok"] as? Bool == true)
            #expect((fact["counts"] as? [String: Int]) == t.counts, "\(input.name)")
            #expect(fact["iommu"] as? String == t.iommu, "\(input.name)")
            let functions = try #require(fact["functions"] as? [String: [String: Any]])
            for (address, verdict) in t.verdictOf { #expect(functions[address]?["verdict"] as? String == verdict, "\(input.name) \(address)") }
        }
        let broken = try #require(local["broken_host"] as? [String: Any])
        #expect(broken["ok"] as? Bool == false)
        #expect((broken["error"] as? String)?.isEmpty == false)
        let python = try #require(JSONSchemaCheck.python)
        let schema = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas/vfio-inspect-ansible-fact.schema.json").path
        for path in paths.values.sorted() {
            let v = try JSONSchemaCheck.validate(python: python, schema: schema, document: path)
            #expect(v.status == 0, "\(path): \(v.stdout)")
        }
    }

    @Test("dra: Kubernetes' own ResourceSlice schema and DRA's limits take every file; attributes are report's; unknown stays unknown")
    func dra() throws {
        let dir = try Fixtures.temporaryDirectory("dra")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try Self.produce(dir, suffix: "json", ["export", "--format", "dra", "--node-name", "node-1"])
        let read = try Self.consumed("dra", paths)
        let python = try #require(JSONSchemaCheck.python)
        let schema = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas/vfio-inspect-dra.schema.json").path
        for input in Self.inputs {
            let t = try Self.truth(input.args)
            let devices = try #require(read[input.name]?["devices"] as? [String: [String: Any]])
            #expect(Set(devices.values.compactMap { $0["resource.kubernetes.io/pciBusID"] as? String }) == Set(t.bridge.filter { !$0.value }.keys),
                    "\(input.name)")
            for d in devices.values {
                let a = (d["resource.kubernetes.io/pciBusID"] as? String) ?? ""
                #expect(d["iommuGroup"] as? Int == t.group[a], "\(input.name) \(a)")
                let viable = t.verdictOf[a] == "ready" || t.verdictOf[a] == "needs-preparation"
                #expect((d["vfioUnsafe"] != nil) == !viable, "\(input.name) \(a)")
                if t.iommu == "unknown" { #expect(d["iommuGroupKnown"] as? Bool == false && d["iommuGroup"] == nil) }
            }
            let v = try JSONSchemaCheck.validate(python: python, schema: schema, document: paths[input.name] ?? "")
            #expect(v.status == 0, "\(input.name): \(v.stdout)")
        }
    }

    @Test("suggest: kubevirt, sriovdp, nova and proxmox name exactly the viable units' leads, and their consumers take the files")
    func suggest() throws {
        let dir = try Fixtures.temporaryDirectory("suggest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for target in ["kubevirt", "sriovdp", "nova", "proxmox"] {
            let paths = try Self.produce(dir, suffix: target, ["suggest", "--for", target, "--node-name", "pve1"], output: false)
            let read = try Self.consumed(target, paths)
            for input in Self.inputs {
                let t = try Self.truth(input.args)
                let r = try #require(read[input.name])
                switch target {
                case "kubevirt":
                    let selectors = Set(((r["pciHostDevices"] as? [[String: Any]]) ?? []).compactMap { $0["pciVendorSelector"] as? String })
                    #expect(selectors == Set(t.leads.compactMap { t.ids[$0] }), "\(input.name)")
                case "sriovdp":
                    let listed = ((r["resourceList"] as? [[String: Any]]) ?? []).flatMap { res in
                        ((res["selectors"] as? [[String: Any]]) ?? []).flatMap { ($0["pciAddresses"] as? [String]) ?? [] }
                    }
                    #expect(Set(listed) == t.leads && listed.count == t.leads.count, "\(input.name)")
                case "nova":
                    let specs = ((r["device_spec"] as? [[String: Any]]) ?? []).compactMap { $0["address"] as? String }
                    #expect(Set(specs) == t.leads && specs.count == t.leads.count, "\(input.name)")
                default:
                    let maps = ((r["mappings"] as? [String: [[String: String]]]) ?? [:]).values.flatMap { $0 }
                    let paths = maps.compactMap { $0["path"] }
                    #expect(paths.count == t.leads.count, "\(input.name)")
                    for lead in t.leads { #expect(paths.contains { $0 == lead || lead.hasPrefix($0 + ".") }, "\(input.name) \(lead)") }
                    for m in maps where m["iommugroup"] != nil {
                        let lead = t.leads.first { $0 == m["path"] || $0.hasPrefix((m["path"] ?? "") + ".") } ?? ""
                        #expect(m["iommugroup"] == t.group[lead].map(String.init), "\(input.name) \(lead)")
                    }
                }
            }
        }
    }

    /// An lspci hex dump of a fixture, as an admin pastes it (`lspci -nnkvvvxxxx -D` reading the fixture's sysfs).
    static func lspciDump(of fixture: String, into dir: String) throws -> String {
        let lspci = try #require(Command.which("lspci"))
        let r = try Command.run(lspci, ["-nnkvvvxxxx", "-D", "-A", "linux-sysfs", "-O", "sysfs.path=\(Fixtures.sysfs(fixture))/sys/bus/pci"])
        #expect(r.status == 0, "\(r.stderr)")
        let path = "\(dir)/\(fixture).lspci.txt"
        try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a dump of an SR-IOV host: the PF's SR-IOV capability makes it a PF, its VFs (ffff in config space) VFs with the PF's IDs")
    func sriovFromDump() throws {
        let dir = try Fixtures.temporaryDirectory("sriov-dump")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dump = try Self.lspciDump(of: "sriov", into: dir)
        let nfd = try Command.tool(["export", "--format", "nfd", "--dump", dump]).stdout
        #expect(nfd.contains("vfio.feature.node.kubernetes.io/sriov-capable=true\n"))
        #expect(nfd.contains("vfio.feature.node.kubernetes.io/sriov-physical-functions=1\n"))
        #expect(nfd.contains("vfio.feature.node.kubernetes.io/sriov-virtual-functions=3\n"))
        let fact = try Command.json(try Command.tool(["export", "--format", "ansible-fact", "--dump", dump]).stdout)
        let functions = try #require(fact["functions"] as? [String: [String: Any]])
        for vf in ["0000:01:00.1", "0000:01:00.2", "0000:01:00.3"] {
            #expect(functions[vf]?["virtualFunction"] as? Bool == true, "\(vf)")
            #expect(functions[vf]?["physicalFunction"] as? String == "0000:01:00.0")
            #expect(functions[vf]?["vendorID"] as? String == "1b36", "\(vf): the PF's vendor, not ffff")
        }
        // The same dump cut to 256 bytes a function: the capability is out of reach, so the counts and what the
        // ffff functions are become unknown, never 0 or "not a VF".
        let short = dir + "/short.txt"
        try (try String(contentsOfFile: dump, encoding: .utf8)).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !(line.count > 4 && line.dropFirst(3).hasPrefix(": ") && line.prefix(3).allSatisfy(\.isHexDigit)) }
            .joined(separator: "\n").write(toFile: short, atomically: true, encoding: .utf8)
        let shortNFD = try Command.tool(["export", "--format", "nfd", "--dump", short]).stdout
        #expect(shortNFD.contains("vfio.feature.node.kubernetes.io/sriov-virtual-functions=unknown\n"))
        let shortFact = try Command.json(try Command.tool(["export", "--format", "ansible-fact", "--dump", short]).stdout)
        let vf1 = try #require((shortFact["functions"] as? [String: [String: Any]])?["0000:01:00.1"])
        #expect(vf1["virtualFunction"] is NSNull && vf1["vendorID"] is NSNull)
        let shortDRA = try Command.tool(["export", "--format", "dra", "--dump", short, "--node-name", "n"]).stdout
        let slices = try Command.json(shortDRA)
        let devices = ((slices["items"] as? [[String: Any]]) ?? []).flatMap { (($0["spec"] as? [String: Any])?["devices"] as? [[String: Any]]) ?? [] }
        let vfDevice = try #require(devices.first { $0["name"] as? String == "pci-0000-01-00-1" })
        #expect((vfDevice["attributes"] as? [String: Any])?["isVF"] == nil)

        // A snapshot whose physfn/virtfn links are gone: the PF's capability places its VFs, each counted once.
        let copy = try Fixtures.scratchCopy(of: "sriov")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let find = try Command.run("/usr/bin/find", [copy, "(", "-name", "physfn", "-o", "-name", "virtfn*", ")", "-delete"])
        #expect(find.status == 0)
        let unlinked = try Command.tool(["export", "--format", "nfd", "--root", copy]).stdout
        #expect(unlinked.contains("vfio.feature.node.kubernetes.io/sriov-virtual-functions=3\n"), "\(unlinked)")

        // The snapshot against its own dump: the VFs' ffff IDs are not a changed device, only not comparable.
        let d = try Command.json(try Command.tool(["diff", "--json", Fixtures.sysfs("sriov"), dump]).stdout)
        let kinds = ((d["changes"] as? [[String: Any]]) ?? []).compactMap { $0["kind"] as? String }
        #expect(!kinds.contains("ids-changed"), "\(kinds)")
        #expect(kinds.contains("not-comparable"))
    }

    @Test("the 1,036-function snapshot as DRA: slices of at most 128 devices, resourceSliceCount their number, each taken by Kubernetes' schema")
    func draLarge() throws {
        let (root, scratch) = try Fixtures.largeSnapshot("dra-large")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let path = scratch + "/slices.json"
        #expect(try Command.tool(["export", "--format", "dra", "--root", root, "--node-name", "big-1", "-o", path]).status == 0)
        let read = try Self.consumed("dra", ["large": path])
        #expect((read["large"]?["slices"] as? Int) ?? 0 >= 8)
        #expect((read["large"]?["devices"] as? [String: Any])?.count ?? 0 > 1000)
    }

    @Test("an unknown fact stays unknown: no groups and no command line is iommu=unknown, never false")
    func iommuUnknownWithoutEvidence() throws {
        let copy = try Fixtures.scratchCopy(of: "no-iommu")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let off = try Command.tool(["export", "--format", "nfd", "--root", Fixtures.sysfs("no-iommu")]).stdout
        #expect(off.contains("vfio.feature.node.kubernetes.io/iommu=false\n"), "the real IOMMU-less kernel stays off")
        try FileManager.default.removeItem(atPath: copy + "/proc/cmdline")
        let unknown = try Command.tool(["export", "--format", "nfd", "--root", copy]).stdout
        #expect(unknown.contains("vfio.feature.node.kubernetes.io/iommu=unknown\n"))
    }

    @Test("suggest -s: a trap outside the selection is still named (a KubeVirt selector matches host-wide)")
    func suggestSelectionKeepsTraps() throws {
        let all = try Command.tool(["suggest", "--for", "kubevirt", "--root", Fixtures.sysfs("sriov")])
        let one = try Command.tool(["suggest", "--for", "kubevirt", "--root", Fixtures.sysfs("sriov"), "-s", "02:00.0"])
        let traps = { (s: String) in s.split(separator: "\n").filter { $0.hasPrefix("# TRAP:") } }
        #expect(!traps(all.stdout).isEmpty)
        #expect(traps(one.stdout) == traps(all.stdout))
        #expect(one.stdout.contains("driverctl set-override 0000:02:00.0 vfio-pci"))
        #expect(!one.stdout.contains("driverctl set-override 0000:01:00.1 vfio-pci"))
    }

    @Test("export --output: written by rename (an open reader keeps the old file), into a directory under the consumer's name; an unwritable place is exit 3")
    func atomicOutput() throws {
        let dir = try Fixtures.temporaryDirectory("atomic")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = Fixtures.sysfs("sriov")
        #expect(try Command.tool(["export", "--format", "prometheus", "--root", root, "-o", dir]).status == 0)
        let file = dir + "/vfio_inspect.prom"
        let before = try String(contentsOfFile: file, encoding: .utf8)
        let reader = try #require(FileHandle(forReadingAtPath: file))
        defer { try? reader.close() }
        try "stale".write(toFile: file + ".keep", atomically: false, encoding: .utf8)
        #expect(try Command.tool(["export", "--format", "prometheus", "--root", Fixtures.sysfs("rp-acs"), "-o", dir]).status == 0)
        let held = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
        #expect(held == before, "the old file was rewritten in place")
        #expect(try String(contentsOfFile: file, encoding: .utf8) != before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }.isEmpty)
        #expect(try Command.tool(["export", "--format", "nfd", "--root", root, "-o", dir]).status == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/vfio-inspect"))
        let bad = try Command.tool(["export", "--format", "nfd", "--root", root, "-o", dir + "/missing/features"])
        #expect(bad.status == 3)
        #expect(bad.stderr.contains("does not exist"))
        let txt = try Command.tool(["export", "--format", "prometheus", "--root", root, "-o", dir + "/metrics.txt"])
        #expect(txt.status == 0)
        #expect(txt.stderr.contains("reads only *.prom"))
        let unreadable = try Command.tool(["export", "--format", "nfd", "--root", dir + "/no-such-root", "-o", dir + "/x"])
        #expect(unreadable.status == 3)
        #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
        for expiry in ["soon", "0.0001s", "0x10", "1e3", "59s", "-5m"] {
            #expect(try Command.tool(["export", "--format", "nfd", "--expiry", expiry]).status == 64, "\(expiry)")
        }
        #expect(try Command.tool(["export", "--format", "dra", "--root", root]).status == 64, "no node name in the input")
    }
}
