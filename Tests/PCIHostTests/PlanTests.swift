import Foundation
import Testing
import TestSupport

/// A unit whose functions share a host slot: from the fixture's `groups.txt` (the kernel's groups) and the
/// classes in `lspci.txt`, not from vfio-inspect. On the host without an IOMMU, a slot is the unit.
struct MultiFunctionUnit: Sendable, CustomTestStringConvertible {
    let fixture: String
    let root: String
    let members: [String]
    var testDescription: String { "\(fixture) {\(members.joined(separator: " "))}" }

    static func all() throws -> [MultiFunctionUnit] {
        var units: [MultiFunctionUnit] = []
        for fixture in Fixtures.sysfsNames {
            let text = try String(contentsOfFile: Fixtures.sysfsFile(fixture, "lspci.txt"), encoding: .utf8)
            var bridges: Set<String> = []
            var all: [String] = []
            for line in text.split(separator: "\n") where line.first?.isHexDigit == true {
                let address = "0000:" + line.prefix { $0 != " " }
                all.append(address)
                if line.contains("[0604]") { bridges.insert(address) }
            }
            var groups = Array(try Fixtures.kernelGroups(fixture)).map { $0.sorted() }
            if groups.isEmpty { groups = Dictionary(grouping: all, by: { String($0.dropLast(2)) }).values.map { $0.sorted() } }
            for members in groups.sorted(by: { $0[0] < $1[0] }) {
                let endpoints = members.filter { !bridges.contains($0) }
                let perSlot = Dictionary(grouping: endpoints, by: { String($0.dropLast(2)) })
                if perSlot.values.contains(where: { $0.count > 1 }) {
                    units.append(MultiFunctionUnit(fixture: fixture, root: Fixtures.sysfs(fixture), members: endpoints))
                }
            }
        }
        return units
    }
}

/// Checks one plan with the real tools: libvirt's schema, QEMU's device model, and the rules.
enum PlanChecks {
    static func planJSON(_ root: String, _ args: [String]) throws -> [String: Any] {
        let r = try Command.tool(["plan", "--root", root, "--json"] + args)
        return try Command.json(r.stdout)
    }

    static func slots(_ json: [String: Any]) -> [[String: Any]] { json["guestSlots"] as? [[String: Any]] ?? [] }
    static func functions(_ slot: [String: Any]) -> [[String: Any]] { slot["functions"] as? [[String: Any]] ?? [] }

    /// The rules every plan keeps, read from its JSON.
    static func expectRules(_ json: [String: Any], _ label: String) {
        let attach = (json["hotplug"] as? [String: Any])?["attach"] as? [String] ?? []
        let detach = (json["hotplug"] as? [String: Any])?["detach"] as? [String] ?? []
        #expect(Set(attach) == Set(detach), "\(label): every attached function has a detach step")
        for slot in slots(json) {
            let fs = functions(slot)
            let several = fs.count > 1
            #expect(slot["multifunction"] as? Bool == several, "\(label): slot multifunction")
            for f in fs {
                let fn = f["guestFunction"] as? Int ?? -1
                // multifunction='on' exactly on function 0 of a slot with more than one function.
                #expect(f["multifunction"] as? Bool == (several && fn == 0), "\(label): \(f["host"] ?? "?") multifunction")
                let host = f["host"] as? String ?? ""
                if f["virtualFunction"] as? Bool == true {
                    #expect(fn == 0 && fs.count == 1, "\(label): a VF sits alone at function 0")
                } else {
                    #expect(Int(String(host.last ?? "x")) == fn, "\(label): \(host) keeps its function number")
                    #expect(String(host.dropLast(2)) == slot["hostSlot"] as? String, "\(label): one host slot per guest slot")
                }
            }
            // Hotplug: function 0 after every other function of its slot, on the way in and on the way out.
            let hosts = fs.map { $0["host"] as? String ?? "" }
            if let f0 = fs.first(where: { $0["guestFunction"] as? Int == 0 })?["host"] as? String, let i0 = attach.firstIndex(of: f0),
               let d0 = detach.firstIndex(of: f0) {
                for h in hosts where h != f0 {
                    #expect((attach.firstIndex(of: h) ?? Int.max) < i0, "\(label): \(h) is attached before function 0 \(f0)")
                    #expect((detach.firstIndex(of: h) ?? Int.max) < d0, "\(label): \(h) is detached before function 0 \(f0)")
                }
            }
            // libvirt hot-plugs function 0 of a single-function slot only.
            for f in fs where several || f["guestFunction"] as? Int != 0 {
                #expect(f["hotplugLive"] as? Bool == false, "\(label): \(f["host"] ?? "?") cannot be hot-plugged through libvirt")
            }
        }
    }

    /// Every `<hostdev>` of a domain XML: source address → guest address (`unassigned` for hidden ones).
    static func hostdevs(_ xml: String) -> [String: String] {
        var result: [String: String] = [:]
        for block in xml.components(separatedBy: "<hostdev ").dropFirst() {
            let body = block.components(separatedBy: "</hostdev>")[0]
            let addresses = body.components(separatedBy: "<address ").dropFirst().map { $0.components(separatedBy: "/>")[0] }
            guard addresses.count == 2 else { continue }
            func field(_ s: String, _ name: String) -> String? {
                guard let r = s.range(of: "\(name)='0x") else { return nil }
                return String(s[r.upperBound...].prefix { $0 != "'" })
            }
            let src = addresses[0]
            let source = "\(field(src, "domain") ?? "?"):\(field(src, "bus") ?? "?"):\(field(src, "slot") ?? "?").\(field(src, "function") ?? "?")"
            let guest = addresses[1]
            result[source] = guest.contains("type='unassigned'") ? "unassigned"
                : "0000:\(field(guest, "bus") ?? "?"):\(field(guest, "slot") ?? "?").\(field(guest, "function") ?? "?")" + (guest.contains("multifunction='on'") ? " mf" : "")
        }
        return result
    }

    /// libvirt XML validates, QEMU starts the topology with stand-ins at the planned places, and both agree with the JSON.
    static func expectRealToolsAccept(_ root: String, _ args: [String], machine: String, _ label: String) throws {
        let json = try planJSON(root, args + ["--machine", machine])
        expectRules(json, label)
        let xml = try Command.tool(["plan", "--root", root, "--machine", machine, "--format", "libvirt"] + args)
        #expect(Int(xml.status) == json["exitStatus"] as? Int, "\(label): same exit status")
        let valid = try GuestTopology.validateLibvirt(xml.stdout)
        #expect(valid.status == 0, "\(label) \(machine): virt-xml-validate: \(valid.stdout) \(valid.stderr)\n\(xml.stdout)")
        let defined = try GuestTopology.defineInLibvirt(xml.stdout)
        #expect(defined.status == 0, "\(label) \(machine): libvirt's parser: \(defined.stderr)")
        // The XML places every function where the JSON says, and holds the hidden ones unassigned.
        let placed = hostdevs(xml.stdout)
        var expected: [String: String] = [:]
        for slot in slots(json) {
            for f in functions(slot) {
                expected[f["host"] as? String ?? ""] = (f["guestAddress"] as? String ?? "") + (f["multifunction"] as? Bool == true ? " mf" : "")
            }
        }
        for h in json["hidden"] as? [[String: Any]] ?? [] { expected[h["function"] as? String ?? ""] = "unassigned" }
        #expect(placed == expected, "\(label) \(machine): libvirt hostdevs")

        let q = try Command.tool(["plan", "--root", root, "--machine", machine, "--format", "qemu"] + args)
        let arguments = GuestTopology.standIn(GuestTopology.deviceArguments(q.stdout))
        #expect(!arguments.contains { $0.contains("vfio-pci") }, "\(label): every vfio-pci has a stand-in")
        let run = try GuestTopology.start(machine: machine, arguments: arguments)
        #expect(run.accepted, "\(label) \(machine): QEMU refused \(run.arguments.joined(separator: " ")): \(run.result.stderr)")
        let buses = Dictionary(uniqueKeysWithValues: (json["controllers"] as? [[String: Any]] ?? []).map { ($0["index"] as? Int ?? -1, $0["qemuBus"] as? String ?? "") })
        for slot in slots(json) {
            for f in functions(slot) {
                let id = f["qemuID"] as? String ?? ""
                let device = run.devices[id]
                #expect(device?.bus == buses[slot["controller"] as? Int ?? -2], "\(label) \(machine): \(id) bus")
                let addr = String(format: "%02x.%d", slot["slot"] as? Int ?? -1, f["guestFunction"] as? Int ?? -1)
                #expect(device?.addr == addr, "\(label) \(machine): \(id) at \(addr), QEMU says \(device?.addr ?? "nothing")")
                #expect(device?.multifunction == (f["multifunction"] as? Bool), "\(label) \(machine): \(id) multifunction")
            }
        }
        if machine == "q35" {
            #expect(!q.stdout.contains("spapr"), "\(label): no vPHB on q35")
            #expect((json["controllers"] as? [[String: Any]])?.count == slots(json).count, "\(label): one root port per guest slot")
        } else {
            #expect(!q.stdout.contains("pcie-root-port") && !xml.stdout.contains("pcie-root-port") && !xml.stdout.contains("pci-bridge"),
                    "\(label): no root ports or bridges on pseries")
            let groups = Set(slots(json).compactMap { $0["iommuGroup"] as? Int })
            #expect((json["controllers"] as? [[String: Any]])?.count == max(groups.count, 1), "\(label): one vPHB per IOMMU group")
        }
    }
}

@Suite("plan")
struct PlanTests {
    @Test("every multi-function unit of the fixtures: libvirt validates, QEMU starts it (q35 and pseries)", arguments: try MultiFunctionUnit.all())
    func multiFunctionUnits(_ unit: MultiFunctionUnit) throws {
        for machine in ["q35", "pseries"] {
            // The chipset units are blocked: --force plans them, which is what this test needs.
            let json = try PlanChecks.planJSON(unit.root, unit.members + ["--force", "--machine", machine])
            #expect(json["status"] as? String != "refused", "\(unit.testDescription)")
            #expect(PlanChecks.slots(json).contains { $0["multifunction"] as? Bool == true }, "\(unit.testDescription): a multifunction guest slot")
            try PlanChecks.expectRealToolsAccept(unit.root, unit.members + ["--force"], machine: machine, unit.testDescription)
        }
    }

    @Test("the fixtures hold the multi-function units this test is about")
    func unitsFound() throws {
        let units = try MultiFunctionUnit.all()
        #expect(units.contains { $0.fixture == "multifunction" && $0.members == ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"] })
        // Every fixture with IOMMU groups has the ICH9 group {00:1f.0, 00:1f.2, 00:1f.3}; no-iommu has the slot itself.
        #expect(units.filter { $0.members == ["0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"] }.count == Fixtures.sysfsNames.count)
    }

    @Test("the multifunction slot: one guest slot, same function numbers, multifunction='on' on function 0 only")
    func multifunctionSlot() throws {
        let root = Fixtures.sysfs("multifunction")
        let json = try PlanChecks.planJSON(root, ["01:00"])
        let slots = PlanChecks.slots(json)
        try #require(slots.count == 1)
        #expect(PlanChecks.functions(slots[0]).map { $0["guestFunction"] as? Int } == [0, 1, 2, 3])
        #expect(PlanChecks.functions(slots[0]).map { $0["multifunction"] as? Bool } == [true, false, false, false])
        #expect((json["hotplug"] as? [String: Any])?["attach"] as? [String] == ["0000:01:00.1", "0000:01:00.2", "0000:01:00.3", "0000:01:00.0"])
        #expect(json["exitStatus"] as? Int == 1, "host drivers to release")
        let xml = try Command.tool(["plan", "--root", root, "01:00"]).stdout
        #expect(xml.components(separatedBy: "multifunction='on'/>").count == 2, "exactly one multifunction='on' attribute")
    }

    @Test("a wrong multifunction layout makes QEMU refuse: the harness can fail")
    func negativeControl() throws {
        let q = try Command.tool(["plan", "--root", Fixtures.sysfs("multifunction"), "01:00", "--format", "qemu"])
        let good = GuestTopology.standIn(GuestTopology.deviceArguments(q.stdout))
        #expect(try GuestTopology.start(machine: "q35", arguments: good).accepted)
        let withoutBit = good.map { $0.replacingOccurrences(of: ",multifunction=on", with: "") }
        let run = try GuestTopology.start(machine: "q35", arguments: withoutBit)
        #expect(!run.accepted)
        #expect(run.result.stderr.contains("single function"), "\(run.result.stderr)")
        let pseries = try Command.tool(["plan", "--root", Fixtures.sysfs("multifunction"), "01:00", "--format", "qemu", "--machine", "pseries"])
        let bad = GuestTopology.standIn(GuestTopology.deviceArguments(pseries.stdout)).map { $0.replacingOccurrences(of: ",multifunction=on", with: "") }
        #expect(!(try GuestTopology.start(machine: "pseries", arguments: bad).accepted))
    }

    @Test("a VF: function 0 of a guest slot of its own, never multifunction", arguments: ["q35", "pseries"])
    func virtualFunction(_ machine: String) throws {
        let root = Fixtures.sysfs("sriov")
        let json = try PlanChecks.planJSON(root, ["01:00.2", "--machine", machine])
        // Planned; undetermined only because the snapshot has no process table to show that no VM holds it.
        #expect(json["status"] as? String == "undetermined")
        #expect(json["exitStatus"] as? Int == 4)
        #expect(((json["findings"] as? [[String: Any]]) ?? []).filter { $0["severity"] as? String == "unknown" }.compactMap { $0["code"] as? String } == ["vfio-in-use"])
        let fs = PlanChecks.slots(json).flatMap(PlanChecks.functions)
        #expect(fs.count == 1)
        #expect(fs.first?["guestFunction"] as? Int == 0)
        #expect(fs.first?["multifunction"] as? Bool == false)
        #expect(fs.first?["virtualFunction"] as? Bool == true)
        #expect(fs.first?["hotplugLive"] as? Bool == true)
        try PlanChecks.expectRealToolsAccept(root, ["01:00.2"], machine: machine, "sriov VF")
    }

    @Test("a group with a hidden member: detached, unassigned, not in QEMU", arguments: ["q35", "pseries"])
    func hiddenMember(_ machine: String) throws {
        let root = Fixtures.sysfs("multifunction")
        let args = ["01:00.0", "01:00.2", "--hide", "01:00.3"]
        let json = try PlanChecks.planJSON(root, args + ["--machine", machine])
        let hidden = (json["hidden"] as? [[String: Any]] ?? []).map { $0["function"] as? String ?? "" }
        #expect(hidden == ["0000:01:00.1", "0000:01:00.3"])
        #expect(json["detachFromHost"] as? [String] == ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"])
        let added = (json["added"] as? [[String: Any]] ?? []).map { $0["function"] as? String ?? "" }
        #expect(added == ["0000:01:00.1", "0000:01:00.3"], "the expansion says what it added")
        let q = try Command.tool(["plan", "--root", root, "--format", "qemu", "--machine", machine] + args).stdout
        #expect(!q.contains("host=0000:01:00.1") && !q.contains("host=0000:01:00.3"))
        #expect(q.contains("driverctl set-override 0000:01:00.3 vfio-pci"), "hidden members are still bound to vfio-pci")
        try PlanChecks.expectRealToolsAccept(root, args, machine: machine, "hidden member")
    }

    @Test("a slot without function 0: refused on q35, a warning on pseries, allowed on q35 with the flag")
    func missingFunction0() throws {
        let root = Fixtures.sysfs("multifunction")
        for selection in [["01:00.1"], ["01:00", "--hide", "01:00.0"]] {
            let refused = try Command.tool(["plan", "--root", root] + selection)
            #expect(refused.status == 2)
            #expect(refused.stdout.isEmpty)
            #expect(refused.stderr.contains("plan-function0-missing") && refused.stderr.contains("PCI enumeration reads function 0 first"), "\(refused.stderr)")
            let json = try PlanChecks.planJSON(root, selection)
            #expect(json["status"] as? String == "refused")
            #expect((json["refusals"] as? [[String: Any]])?.first?["code"] as? String == "plan-function0-missing")

            let pseries = try PlanChecks.planJSON(root, selection + ["--machine", "pseries"])
            #expect(pseries["status"] as? String == "needs-preparation")
            #expect((pseries["findings"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "plan-function0-missing" && $0["severity"] as? String == "warn" })
            try PlanChecks.expectRealToolsAccept(root, selection, machine: "pseries", "no function 0 \(selection)")
            try PlanChecks.expectRealToolsAccept(root, selection + ["--allow-missing-function0"], machine: "q35", "no function 0 allowed \(selection)")
        }
    }

    @Test("a blocked unit is refused with its findings, and planned with --force")
    func blocked() throws {
        let root = Fixtures.sysfs("host-in-use")
        let r = try Command.tool(["plan", "--root", root, "02:00.0"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("host-mounted") && r.stderr.contains("--force"), "\(r.stderr)")
        let forced = try Command.tool(["plan", "--root", root, "02:00.0", "--force"])
        #expect(forced.status == 1)
        #expect(forced.stdout.contains("plan-forced") && forced.stdout.contains("<hostdev"))
    }

    @Test("single-function slots never get multifunction: a group spread over five slots", arguments: ["q35", "pseries"])
    func spreadGroup(_ machine: String) throws {
        let root = Fixtures.sysfs("pcie-pci-bridge")
        let args = ["02:01.0", "02:02.0", "02:03.0", "02:04.0", "03:01.0"]
        let json = try PlanChecks.planJSON(root, args + ["--machine", machine])
        #expect(PlanChecks.slots(json).count == 5)
        #expect(!PlanChecks.slots(json).flatMap(PlanChecks.functions).contains { $0["multifunction"] as? Bool == true })
        #expect(json["stayWithHost"] as? [String] == ["0000:01:00.0", "0000:02:05.0"], "the bridges stay with the host")
        if machine == "pseries" {
            #expect(PlanChecks.slots(json).map { $0["slot"] as? Int } == [1, 2, 3, 4, 5], "one vPHB, slots from 1")
        }
        try PlanChecks.expectRealToolsAccept(root, args, machine: machine, "pcie-pci-bridge group")
    }

    @Test("virsh-hotplug: the script runs the attach and detach sequences in order, and each step's XML validates")
    func virshHotplug() throws {
        for (fixture, args) in [("multifunction", ["01:00.0", "01:00.2", "--hide", "01:00.3"]), ("sriov", ["01:00.2"])] {
            let root = Fixtures.sysfs(fixture)
            let dir = try Fixtures.temporaryDirectory("hotplug")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let script = try Command.tool(["plan", "--root", root, "--format", "virsh-hotplug"] + args).stdout
            try script.write(toFile: dir + "/plan.sh", atomically: true, encoding: .utf8)
            // A recording virsh: logs each call and keeps each step's XML file.
            try """
                #!/bin/sh
                n=$(wc -l < "\(dir)/log" 2>/dev/null || echo 0)
                echo "$*" >> "\(dir)/log"
                case "$1" in attach-device|detach-device) cp "$3" "\(dir)/step-$n.xml" ;; esac
                """.write(toFile: dir + "/virsh", atomically: true, encoding: .utf8)
            _ = try Command.run("/bin/chmod", ["+x", dir + "/virsh"])
            let sh = try #require(Command.which("sh"))
            let env = try #require(Command.which("env"))
            let syntax = try Command.run(sh, ["-n", dir + "/plan.sh"])
            #expect(syntax.status == 0, "\(syntax.stderr)")
            for action in ["attach", "detach"] {
                let run = try Command.run(env, ["PATH=\(dir):/usr/bin:/bin", sh, dir + "/plan.sh", "guest1", action])
                #expect(run.status == 0, "\(fixture) \(action): \(run.stderr)")
            }
            let log = try String(contentsOfFile: dir + "/log", encoding: .utf8).split(separator: "\n").map(String.init)
            let json = try PlanChecks.planJSON(root, args)
            let detached = json["detachFromHost"] as? [String] ?? []
            #expect(Array(log.prefix(detached.count)) == detached.map { "nodedev-detach pci_" + $0.replacingOccurrences(of: ":", with: "_").replacingOccurrences(of: ".", with: "_") })
            let hotplug = json["hotplug"] as? [String: Any] ?? [:]
            let hidden = (json["hidden"] as? [[String: Any]] ?? []).map { $0["function"] as? String ?? "" }
            let attached = log.filter { $0.hasPrefix("attach-device") }
            let detachedSteps = log.filter { $0.hasPrefix("detach-device") }
            #expect(attached.count == hidden.count + (hotplug["attach"] as? [String] ?? []).count)
            #expect(detachedSteps.count == attached.count)
            let domainXML = try Command.tool(["plan", "--root", root] + args).stdout
            let live = Dictionary(uniqueKeysWithValues: PlanChecks.slots(json).flatMap(PlanChecks.functions).map { ($0["host"] as? String ?? "", $0["hotplugLive"] as? Bool ?? false) })
            // Visible functions in the planned order, each with --live only where libvirt allows it.
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("step-") }
                .sorted { Int($0.dropFirst(5).dropLast(4)) ?? 0 < Int($1.dropFirst(5).dropLast(4)) ?? 0 }
            var order: [String] = []
            for (call, file) in zip(log.filter { $0.hasPrefix("attach-device") || $0.hasPrefix("detach-device") }, files) {
                let xml = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
                let placed = PlanChecks.hostdevs(xml)
                try #require(placed.count == 1, "\(file): one hostdev")
                let (host, placement) = try #require(placed.first)
                if placement != "unassigned" {
                    order.append((call.hasPrefix("attach") ? "a " : "d ") + host)
                    #expect(call.hasSuffix(live[host] == true ? "--live --config" : " --config") && (live[host] == true || !call.contains("--live")), "\(call)")
                } else {
                    let hiddenLive = (json["hidden"] as? [[String: Any]] ?? []).first { $0["function"] as? String == host }?["hotplugLive"] as? Bool
                    #expect(call.hasSuffix(hiddenLive == true ? "--live --config" : "xml --config"), "\(call)")
                }
                // The step's XML, in a domain with the plan's controllers, validates.
                let wrapped = domainXML.replacingOccurrences(of: "  </devices>", with: xml + "  </devices>")
                let valid = try GuestTopology.validateLibvirt(wrapped)
                #expect(valid.status == 0, "\(file): \(valid.stderr)")
            }
            #expect(order == (hotplug["attach"] as? [String] ?? []).map { "a " + $0 } + (hotplug["detach"] as? [String] ?? []).map { "d " + $0 })
        }
    }

    @Test("plan --json validates against Schemas/vfio-inspect-plan.schema.json: planned, forced, refused, both machines")
    func schema() throws {
        let python = try #require(JSONSchemaCheck.python, "needs python3-jsonschema (Scripts/install-deps.sh --test)")
        let schema = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas/vfio-inspect-plan.schema.json").path
        let dir = try Fixtures.temporaryDirectory("plan-schema")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [(String, [String])] = [
            ("multifunction", ["01:00"]), ("multifunction", ["01:00.1"]), ("multifunction", ["01:00.1", "--machine", "pseries"]),
            ("multifunction", ["01:00.0", "01:00.2", "--hide", "01:00.3"]), ("sriov", ["01:00.2"]), ("sriov", ["01:00.0"]),
            ("host-in-use", ["02:00.0"]), ("host-in-use", ["02:00.0", "--force"]), ("no-iommu", ["00:1f", "--force", "--machine", "pseries"]),
            ("pcie-pci-bridge", ["02:01.0", "03:01.0", "--machine", "pseries"]),
        ]
        for (fixture, args) in cases {
            let r = try Command.tool(["plan", "--root", Fixtures.sysfs(fixture), "--json"] + args)
            try r.stdout.write(toFile: dir + "/plan.json", atomically: true, encoding: .utf8)
            let v = try JSONSchemaCheck.validate(python: python, schema: schema, document: dir + "/plan.json")
            #expect(v.status == 0, "\(fixture) \(args): \(v.stdout) \(v.stderr)")
            #expect(Int32((try Command.json(r.stdout))["exitStatus"] as? Int ?? -1) == r.status, "\(fixture) \(args): exitStatus is the exit status")
        }
    }

    @Test("review cases: PF with VFs refused, extended capabilities named, hide outside the unit, index overflow, refusals not repeated")
    func edgeCases() throws {
        let sriov = try PlanChecks.planJSON(Fixtures.sysfs("sriov"), ["01:00"])
        #expect(sriov["status"] as? String == "refused")
        #expect((sriov["refusals"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "plan-pf-with-vfs" })

        let pseries = try PlanChecks.planJSON(Fixtures.sysfs("multifunction"), ["01:00", "--machine", "pseries"])
        let ext = (pseries["findings"] as? [[String: Any]] ?? []).filter { $0["code"] as? String == "plan-extended-config" }
        #expect(ext.count == 4, "one statement per function")
        #expect(ext.contains { ($0["message"] as? String ?? "").contains("0000:01:00.0 has extended capabilities (Advanced Error Reporting") })
        let withExt = PlanChecks.slots(pseries).flatMap(PlanChecks.functions).filter { !($0["extendedCapabilities"] as? [String] ?? []).isEmpty }
        #expect(withExt.map { $0["host"] as? String } == ["0000:01:00.0", "0000:01:00.3"])

        let hide = try PlanChecks.planJSON(Fixtures.sysfs("multifunction"), ["01:00", "--hide", "02:00.0"])
        #expect((hide["findings"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "plan-hide-ignored" && $0["severity"] as? String == "warn" })
        #expect(!(hide["detachFromHost"] as? [String] ?? []).contains("0000:02:00.0"))

        let overflow = try PlanChecks.planJSON(Fixtures.sysfs("pcie-pci-bridge"), ["02:01.0", "02:02.0", "02:03.0", "02:04.0", "03:01.0", "--first-index", "254"])
        #expect((overflow["refusals"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "plan-too-many-controllers" })

        let blocked = try PlanChecks.planJSON(Fixtures.sysfs("host-in-use"), ["02:00.0"])
        let codes = ((blocked["findings"] as? [[String: Any]] ?? []) + (blocked["refusals"] as? [[String: Any]] ?? [])).compactMap { $0["code"] as? String }
        #expect(codes.filter { $0 == "host-mounted" }.count == 1, "a refusal is not repeated among the findings")
        let text = try Command.tool(["plan", "--root", Fixtures.sysfs("sriov"), "01:00"])
        #expect(!text.stderr.contains("--force"), "--force cannot lift a plan-* refusal, so it is not offered")
    }

    @Test("a host slot whose functions sit in two IOMMU groups: one vPHB per group on pseries, one slot on q35")
    func slotAcrossGroups() throws {
        // The multifunction snapshot with functions 2 and 3 moved to a group of their own, as the kernel groups a
        // multifunction device whose functions have ACS.
        let dir = try Fixtures.temporaryDirectory("split")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/root"
        _ = try Command.run("/bin/cp", ["-a", Fixtures.sysfs("multifunction"), root])
        let groups = root + "/sys/kernel/iommu_groups"
        try FileManager.default.createDirectory(atPath: groups + "/9/devices", withIntermediateDirectories: true)
        for fn in ["0000:01:00.2", "0000:01:00.3"] {
            try FileManager.default.moveItem(atPath: groups + "/4/devices/" + fn, toPath: groups + "/9/devices/" + fn)
            let link = root + "/sys/devices/pci0000:00/0000:00:02.0/\(fn)/iommu_group"
            try Fixtures.replace(link, withLinkTo: "../../../../kernel/iommu_groups/9")
        }
        let json = try PlanChecks.planJSON(root, ["01:00", "--machine", "pseries"])
        #expect((json["controllers"] as? [[String: Any]])?.compactMap { $0["iommuGroup"] as? Int } == [4, 9])
        #expect(PlanChecks.slots(json).map { PlanChecks.functions($0).map { $0["host"] as? String ?? "" } } == [["0000:01:00.0", "0000:01:00.1"], ["0000:01:00.2", "0000:01:00.3"]])
        let codes = (json["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes.contains("plan-slot-split") && codes.contains("plan-function0-missing"))
        try PlanChecks.expectRealToolsAccept(root, ["01:00"], machine: "pseries", "slot across groups")
        let q35 = try PlanChecks.planJSON(root, ["01:00"])
        #expect(PlanChecks.slots(q35).count == 1)
        try PlanChecks.expectRealToolsAccept(root, ["01:00"], machine: "q35", "slot across groups")
    }

    /// Plans whose guest side a real x86 Linux kernel boots: the fixtures' multi-function layouts, a VF, a hidden member,
    /// a five-slot group, and function 1 without function 0 (planned with --allow-missing-function0).
    static let bootCases: [(fixture: String, args: [String])] = [
        ("multifunction", ["01:00"]),
        ("multifunction", ["00:1f", "--force"]),
        ("multifunction", ["01:00.0", "01:00.2", "--hide", "01:00.3"]),
        ("multifunction", ["01:00.1", "--allow-missing-function0"]),
        ("sriov", ["01:00.2"]),
        ("pcie-pci-bridge", ["02:01.0", "02:02.0", "02:03.0", "02:04.0", "03:01.0"]),
    ]

    @Test("a real x86 Linux guest enumerates exactly the functions each q35 plan places (and none of a slot without function 0)",
          arguments: 0..<bootCases.count)
    func guestEnumerates(_ i: Int) throws {
        let (fixture, args) = Self.bootCases[i]
        let kernel = try #require(GuestTopology.guestKernel, "needs a guest kernel: Scripts/test.sh fetches one (Scripts/guest-kernel.sh)")
        let root = Fixtures.sysfs(fixture)
        let json = try PlanChecks.planJSON(root, args)
        let q = try Command.tool(["plan", "--root", root, "--format", "qemu"] + args)
        let arguments = GuestTopology.standIn(GuestTopology.deviceArguments(q.stdout))
        let (result, enumerated) = try GuestTopology.bootLinux(kernel: kernel, arguments: arguments)
        #expect(result.stdout.contains("Kernel panic"), "the guest ran to the end of its boot: \(result.stderr)")
        // Root ports are enumerated in the order QEMU placed them (the plan's order), one bus each from bus 1.
        var expected: [String: String] = [:]
        for (n, slot) in PlanChecks.slots(json).enumerated() where slot["slot"] as? Int == 0 {
            let fs = PlanChecks.functions(slot)
            guard fs.contains(where: { $0["guestFunction"] as? Int == 0 }) else { continue }  // no function 0: invisible
            for f in fs { expected[String(format: "%02x:00.%d", n + 1, f["guestFunction"] as? Int ?? -1)] = "1af4:1044" }
        }
        let standIns = enumerated.filter { $0.value == "1af4:1044" }
        #expect(standIns == expected, "\(fixture) \(args): the guest enumerated \(standIns.keys.sorted()), the plan places \(expected.keys.sorted())")
        if args.contains("--allow-missing-function0") {
            #expect(standIns.isEmpty, "function 1 without function 0 stays invisible to an x86 Linux guest")
        } else {
            #expect(!standIns.isEmpty)
        }
    }

    @Test("the libvirt checks can fail: a PCI controller index used twice is refused by libvirt's parser")
    func libvirtNegativeControl() throws {
        let xml = try Command.tool(["plan", "--root", Fixtures.sysfs("multifunction"), "01:00"]).stdout
        #expect(try GuestTopology.defineInLibvirt(xml).status == 0)
        let twice = xml.replacingOccurrences(of: "<controller type='pci' index='0' model='pcie-root'/>",
                                             with: "<controller type='pci' index='0' model='pcie-root'/>\n    <controller type='pci' index='1' model='pcie-root-port'/>")
        let r = try GuestTopology.defineInLibvirt(twice)
        #expect(r.status != 0 && r.stderr.contains("index '1'"), "\(r.stderr)")
        let broken = xml.replacingOccurrences(of: "<address type='pci'", with: "<address type='bogus'")
        #expect(try GuestTopology.validateLibvirt(broken).status != 0)
    }

    @Test("the large SR-IOV snapshot: its multi-function unit starts in QEMU and validates; a VF of it too")
    func largeSnapshot() throws {
        let (root, dir) = try Fixtures.largeSnapshot("plan-large")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Its kernel groups, read like the small fixtures': only the ICH9 group shares a slot between endpoints.
        let groups = try String(contentsOfFile: root + "/groups.txt", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.split(separator: " ").map(String.init) } ?? [] }
        let shared = groups.filter { g in Dictionary(grouping: g, by: { $0.dropLast(2) }).values.contains { $0.count > 1 } }
        #expect(shared == [["0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"]])
        for machine in ["q35", "pseries"] {
            try PlanChecks.expectRealToolsAccept(root, ["00:1f", "--force"], machine: machine, "large ICH9")
            try PlanChecks.expectRealToolsAccept(root, ["01:00.1"], machine: machine, "large VF")
        }
    }

    @Test("bad input: unknown --hide, bad machine, nothing visible")
    func badInput() throws {
        let root = Fixtures.sysfs("multifunction")
        #expect(try Command.tool(["plan", "--root", root, "01:00.0", "--hide", "07:00.0"]).status == 5)
        #expect(try Command.tool(["plan", "--root", root, "01:00.0", "--machine", "virt"]).status == 64)
        #expect(try Command.tool(["plan", "--root", root, "09:00.0"]).status == 5)
        let hiddenAll = try Command.tool(["plan", "--root", root, "01:00.0", "--hide", "01:00"])
        #expect(hiddenAll.status == 2)
        #expect(hiddenAll.stderr.contains("plan-nothing-visible"))
        let bridge = try Command.tool(["plan", "--root", Fixtures.sysfs("pcie-pci-bridge"), "01:00.0"])
        #expect(bridge.status == 2, "a bridge alone gives the guest nothing: \(bridge.stderr)")
    }
}
