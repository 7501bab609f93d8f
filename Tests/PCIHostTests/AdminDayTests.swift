import Foundation
import Testing
import TestSupport
import VFIOAnalysis

/// The options an admin reaches for (issue 11): the summary, filters, quiet checks, colour, tree JSON, exit
/// statuses for a whole host, lspci's subsystem and module lines, and the Graphviz picture.
@Suite("the admin's day")
struct AdminDayTests {
    /// `report --json`'s units as (members, verdict).
    func units(_ arguments: [String]) throws -> [(members: [String], verdict: String)] {
        let r = try Command.tool(["report", "--json"] + arguments)
        // A --verdict that no unit has exits 5 (the help's "a filter matched nothing"), with the empty JSON.
        let filtered = arguments.contains("--verdict")
        #expect(r.status == 0 || (filtered && r.status == 5), "\(r.stderr)")
        let groups = try #require(try Command.json(r.stdout)["groups"] as? [[String: Any]])
        return groups.map { (($0["members"] as? [String]) ?? [], ($0["verdict"] as? String) ?? "") }
    }

    @Test("report --summary: one line per unit (or per run of like VFs), verdicts and counts as report --json gives them",
          arguments: Fixtures.sysfsNames)
    func summary(_ fixture: String) throws {
        let root = Fixtures.sysfs(fixture)
        let all = try units(["--root", root])
        let r = try Command.tool(["report", "--summary", "--root", root])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").filter { !$0.hasPrefix("host:") }
        let counts = try #require(lines.last)
        let expected = ["ready", "needs-preparation", "blocked", "undetermined"].map { v in all.filter { $0.verdict == v }.count }
        #expect(counts == "\(all.count) units: \(expected[0]) ready, \(expected[1]) need preparation, \(expected[2]) blocked, \(expected[3]) undetermined")
        // Every unit's first member appears on a line that starts with its verdict (a shared line names a range).
        let body = lines.dropLast()
        for u in all where u.members.count > 0 {
            let short = String(u.members[0].dropFirst(5))
            let slot = String(short.dropLast(2))
            let found = body.contains { l in
                l.hasPrefix(u.verdict + " ") && (l.contains(short) || l.contains(slot + ".{") || l.contains("VFs of"))
            }
            #expect(found, "\(fixture): \(u.members) \(u.verdict) not on a summary line")
        }
        // The answer first: ready, then needs-preparation, undetermined, blocked.
        let order = ["ready", "needs-preparation", "undetermined", "blocked"]
        let ranks = body.compactMap { l in order.firstIndex { l.hasPrefix($0 + " ") } }
        #expect(ranks == ranks.sorted())
    }

    @Test("report --summary on the 1,036-function snapshot fits a screen: the 1,016 VFs share one line per PF")
    func summaryLarge() throws {
        let (root, scratch) = try Fixtures.largeSnapshot("summary-large")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let r = try Command.tool(["report", "--summary", "--root", root])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count <= 30)
        #expect(lines.filter { $0.contains("127 VFs of") }.count == 8)
        // The 8 PFs have driverless VFs: disabling SR-IOV is their preparation (pf-with-vfs is a warning then).
        #expect(lines.last == "1034 units: 0 ready, 1024 need preparation, 10 blocked, 0 undetermined")
    }

    @Test("--verdict splits report, groups and list into parts that add up to the whole", arguments: ["switch", "sriov", "host-in-use"])
    func verdictFilter(_ fixture: String) throws {
        let root = Fixtures.sysfs(fixture)
        let all = try units(["--root", root])
        var seen = 0
        var listed = 0
        for v in ["ready", "needs-preparation", "blocked", "undetermined"] {
            let some = try units(["--root", root, "--verdict", v])
            let status = try Command.tool(["report", "--root", root, "--verdict", v]).status
            #expect(status == (some.isEmpty ? 5 : 0), "report --verdict \(v) that matches \(some.count) unit(s) exits \(status)")
            #expect(some.allSatisfy { $0.verdict == v })
            #expect(some.count == all.filter { $0.verdict == v }.count)
            seen += some.count
            let groups = try Command.tool(["groups", "--json", "--root", root, "--verdict", v])
            let ids = (try Command.json(groups.stdout)["groups"] as? [[String: Any]])?.count
            #expect(ids == some.count)
            let list = try Command.tool(["list", "--json", "--root", root, "--verdict", v])
            let functions = try #require(try Command.json(list.stdout)["functions"] as? [[String: Any]])
            #expect(Set(functions.compactMap { $0["address"] as? String }) == Set(some.flatMap(\.members)))
            listed += functions.count
        }
        #expect(seen == all.count)
        #expect(listed == Set(all.flatMap(\.members)).count)
        let bad = try Command.tool(["report", "--root", root, "--verdict", "fine"])
        #expect(bad.status == 64)
    }

    /// Groups that hold only platform devices (an ARM host's, or an x86 host's serial port) have no PCI members:
    /// two such units have the same (empty) member list, and --verdict must still pick each by its own verdict.
    @Test("--verdict picks units, not member lists: two groups of platform devices only, one the kernel refuses")
    func verdictPicksUnits() throws {
        let root = try Fixtures.scratchCopy(of: "switch")
        let fm = FileManager.default
        for (group, device, regions) in [(90, "serial8250", "0x00000000fee00000 0x00000000feefffff msi\n0x0000000000000000 0x0000000000ffffff direct\n"),
                                         (91, "i8042", "0x00000000fee00000 0x00000000feefffff msi\n")] {
            try fm.createDirectory(atPath: root + "/sys/devices/platform/" + device, withIntermediateDirectories: true)
            let dir = root + "/sys/kernel/iommu_groups/\(group)"
            try fm.createDirectory(atPath: dir + "/devices", withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: dir + "/devices/" + device, withDestinationPath: "../../../../devices/platform/" + device)
            try "DMA\n".write(toFile: dir + "/type", atomically: true, encoding: .utf8)
            try regions.write(toFile: dir + "/reserved_regions", atomically: true, encoding: .utf8)
        }
        let all = try units(["--root", root])
        let empty = all.filter(\.members.isEmpty)
        #expect(empty.count == 2)
        #expect(Set(empty.map(\.verdict)).count == 2, "the two groups' verdicts must differ for this test to mean anything: \(empty)")
        for v in Set(empty.map(\.verdict)) {
            let some = try units(["--root", root, "--verdict", v])
            #expect(some.count == all.filter { $0.verdict == v }.count, "--verdict \(v)")
            #expect(some.allSatisfy { $0.verdict == v })
        }
    }

    @Test("-s and -d pick whole units in report and groups, functions in tree and show; unmatched exits 5")
    func selectors() throws {
        let root = Fixtures.sysfs("switch")
        // 05:00.0 (virtio) shares group 7 with its downstream port 02:02.0.
        let byDevice = try units(["--root", root, "-d", "1af4:"])
        #expect(byDevice.map(\.members) == [["0000:02:02.0", "0000:05:00.0"]])
        #expect(try units(["--root", root, "-s", "05:00.0"]).map(\.members) == byDevice.map(\.members))
        let byClass = try units(["--root", root, "-d", "::0200"]) // Ethernet controllers
        #expect(byClass.count == 3)
        let groups = try Command.tool(["groups", "--root", root, "-d", "1af4:1041"])
        #expect(groups.stdout.contains("IOMMU group 7") && !groups.stdout.contains("IOMMU group 5"))
        let tree = try Command.tool(["tree", "--root", root, "-d", "1af4:"])
        #expect(tree.stdout.split(separator: "\n").filter { $0.contains("group=") }.count == 4) // root port, upstream, downstream, device
        let show = try Command.tool(["show", "--root", root, "-d", "8086:10d3"])
        #expect(show.stdout.components(separatedBy: "Ethernet controller [0200]").count - 1 == 2)
        for command in ["report", "groups", "tree", "show", "list"] {
            let r = try Command.tool([command, "--root", root, "-d", "dead:"])
            #expect(r.status == 5, "\(command): \(r.stderr)")
            #expect(r.stderr.contains("matches no function"))
        }
    }

    @Test("check -q prints exactly the lines that are not PASS for what they ask (cautions left out) and exits as check does", arguments: ["01:00.1", "01:00.0", "00:1f.2"])
    func quietCheck(_ selector: String) throws {
        let root = Fixtures.sysfs("sriov")
        let full = try Command.tool(["check", "--json", "--root", root, selector])
        let quiet = try Command.tool(["check", "-q", "--root", root, selector])
        #expect(quiet.status == full.status)
        let checks = try #require(try Command.json(full.stdout)["checks"] as? [[String: Any]])
        // A line counts when a finding on it asks for something: not info, and not a caution (a WARN that leaves the unit ready).
        let cautions = Set(FindingCode.all.filter(\.isCaution).map(\.rawValue))
        let asking = checks.filter { c in
            (c["findings"] as? [[String: Any]] ?? []).contains { f in
                let severity = f["severity"] as? String
                return severity != "info" && !(severity == "warn" && cautions.contains(f["code"] as? String ?? ""))
            }
        }
        let notPass = asking.compactMap { c in (c["result"] as? String).map { "\($0) \(c["id"] as? String ?? "")" } }
        var printed: [String] = []
        for line in quiet.stdout.split(separator: "\n") {
            let key = line.split(separator: ":").first.map(String.init) ?? ""
            if printed.last != key { printed.append(key) }
        }
        #expect(printed == notPass) // one line per finding, grouped by check line
        #expect(try Command.tool(["check", "-q", "--json", "--root", root, selector]).status == 64)
    }

    @Test("--exit-status on report and groups is check's status for the worst unit shown")
    func exitStatus() throws {
        let root = Fixtures.sysfs("switch")
        let statuses = ["ready": 0, "needs-preparation": 1, "blocked": 2, "undetermined": 4]
        let rank = ["ready": 0, "needs-preparation": 1, "undetermined": 2, "blocked": 3]
        for selector in ["03:00.0", "00:00.0", "02:03.0", "04:00.0"] {
            let shown = try units(["--root", root, "-s", selector])
            let worst = try #require(shown.map(\.verdict).max { rank[$0]! < rank[$1]! })
            for command in ["report", "groups"] {
                let r = try Command.tool([command, "--root", root, "-s", selector, "--exit-status"])
                #expect(r.status == Int32(statuses[worst]!), "\(command) -s \(selector)")
            }
        }
        #expect(try Command.tool(["report", "--root", root]).status == 0) // without the flag, a report is not a gate
    }

    @Test("--color: always paints, never and auto (a pipe) do not; NO_COLOR and TERM=dumb keep auto plain")
    func color() throws {
        let root = Fixtures.sysfs("switch")
        let escape = "\u{1b}["
        for command in [["report"], ["report", "--summary"], ["check", "03:00.0"], ["tree"]] {
            let always = try Command.tool(command + ["--root", root, "--color", "always"])
            #expect(always.stdout.contains(escape), "\(command)")
            let never = try Command.tool(command + ["--root", root, "--color", "never"])
            #expect(!never.stdout.contains(escape))
            #expect(never.stdout == (try Command.tool(command + ["--root", root])).stdout)
        }
        // A pseudo-terminal makes `auto` colour; NO_COLOR or TERM=dumb then keeps it plain (script(1) gives the terminal).
        let script = try #require(Command.which("script"), "needs script (bsdutils)")
        func onTerminal(_ env: String) throws -> String {
            let r = try Command.run(script, ["-qec", "env -u NO_COLOR \(env) \(Command.toolPath) report --summary --root \(root)", "/dev/null"])
            return r.stdout + r.stderr
        }
        let plain = try onTerminal("TERM=xterm")
        #expect(plain.contains(escape), "\(plain)")
        #expect(!(try onTerminal("TERM=xterm NO_COLOR=1")).contains(escape))
        #expect(!(try onTerminal("TERM=dumb")).contains(escape))
    }

    @Test("tree --json validates against its schema and nests every function under its parent", arguments: Fixtures.sysfsNames)
    func treeJSON(_ fixture: String) throws {
        let python = try #require(JSONSchemaCheck.python, "needs python3-jsonschema (Scripts/install-deps.sh --test)")
        let root = Fixtures.sysfs(fixture)
        let r = try Command.tool(["tree", "--json", "--root", root])
        #expect(r.status == 0)
        let dir = try Fixtures.temporaryDirectory("tree-json")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try r.stdout.write(toFile: dir + "/tree.json", atomically: true, encoding: .utf8)
        let schema = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas/vfio-inspect-tree.schema.json").path
        let v = try JSONSchemaCheck.validate(python: python, schema: schema, document: dir + "/tree.json")
        #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        // Each node's parent in the JSON is the function whose bus range holds it: compare with list's upstream.
        var parentOf: [String: String] = [:]
        func walk(_ nodes: [[String: Any]], parent: String?) {
            for n in nodes {
                let a = n["address"] as? String ?? ""
                parentOf[a] = parent ?? "root"
                walk(n["children"] as? [[String: Any]] ?? [], parent: a)
            }
        }
        let roots = try #require(try Command.json(r.stdout)["roots"] as? [[String: Any]])
        for bus in roots { walk(bus["functions"] as? [[String: Any]] ?? [], parent: nil) }
        #expect(Set(parentOf.keys) == (try Fixtures.lspciFunctions(fixture)))
        let text = try Command.tool(["tree", "--root", root]).stdout
        #expect(text.split(separator: "\n").filter { $0.contains("group=") }.count == parentOf.count)
    }

    /// `Subsystem:` lines by address from lspci -nn style text (`show` or lspci itself), addresses as `0000:BB:DD.F`.
    static func subsystemLines(_ text: String, addressPrefix: String = "") -> [String: String] {
        var lines: [String: String] = [:]
        var current = ""
        for line in text.split(separator: "\n") {
            if let first = line.first, first.isHexDigit {
                let address = String(line.prefix { $0 != " " })
                current = address.count == 7 ? "0000:" + address : address
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("Subsystem:") { lines[current] = trimmed.dropFirst("Subsystem:".count).trimmingCharacters(in: .whitespaces) }
        }
        return lines
    }

    @Test("show's Subsystem line is lspci -nn's, both ways (present exactly where lspci prints one), for every function of every fixture",
          arguments: Fixtures.sysfsNames)
    func subsystemLines(_ fixture: String) throws {
        let expected = Self.subsystemLines(try String(contentsOfFile: Fixtures.sysfsFile(fixture, "lspci.txt"), encoding: .utf8))
        #expect(!expected.isEmpty)
        let show = try Command.tool(["show", "--root", Fixtures.sysfs(fixture), "-s", "::"])
        #expect(Self.subsystemLines(show.stdout) == expected)
    }

    @Test("show's Subsystem line agrees with lspci -F -nnv on every real machine's dump (bridges from their SSVID capability)")
    func subsystemLinesDumps() throws {
        let lspci = try #require(Command.which("lspci"))
        var compared = 0
        for file in Fixtures.realdataFiles {
            let path = Fixtures.realdata(file)
            let reference = try Command.run(lspci, ["-F", path, "-nnv", "-D"])
            guard reference.status == 0 else { continue }
            let show = try Command.tool(["show", "--dump", path, "-s", "::"])
            guard show.status == 0 else { continue }
            let expected = Self.subsystemLines(reference.stdout)
            // Only the functions whose hex lspci -F reads (a text without hex gives lspci -F nothing to compare).
            let dumped = Lspci.addresses(in: reference.stdout.split(separator: "\n").filter { !$0.contains("[ffff:ffff]") }.joined(separator: "\n"))
            guard !dumped.isEmpty else { continue }
            let got = Self.subsystemLines(show.stdout).filter { dumped.contains($0.key) }
            let differ = Set(got.map { "\($0.key) \($0.value)" }).symmetricDifference(expected.map { "\($0.key) \($0.value)" }).sorted()
            #expect(differ.isEmpty, "\(file): \(differ.prefix(4))")
            compared += 1
        }
        #expect(compared > 60)
    }

    @Test("show names the kernel modules from modalias and the kernel's own modules.alias, as lspci -k; unknown without the table")
    func kernelModules() throws {
        let kernel = try #require(GuestTopology.guestKernel, "needs a guest kernel: Scripts/guest-kernel.sh")
        let cache = URL(fileURLWithPath: kernel).deletingLastPathComponent()
        let alias = cache.appendingPathComponent("modules.alias").path
        let release = try String(contentsOfFile: cache.appendingPathComponent("RELEASE").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let root = try Fixtures.scratchCopy(of: "switch")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let before = try Command.tool(["show", "--root", root, "03:00.0"])
        #expect(before.stdout.contains("Modules:      unknown ("))
        try FileManager.default.createDirectory(atPath: root + "/proc/sys/kernel", withIntermediateDirectories: true)
        try (release + "\n").write(toFile: root + "/proc/sys/kernel/osrelease", atomically: true, encoding: .utf8)
        let before2 = try Command.tool(["show", "--root", root, "03:00.0"])
        #expect(before2.stdout.contains("module table lib/modules/\(release)/modules.alias is not in the input"))
        try FileManager.default.createDirectory(atPath: root + "/lib/modules/\(release)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: alias, toPath: root + "/lib/modules/\(release)/modules.alias")
        let show = try Command.tool(["show", "--root", root, "-s", "::"])
        // Every function bound to a modular driver names that driver among its modules (the fixture's kernel
        // and the table's are both Debian's, so the aliases agree); the JSON carries the same list.
        var driver: [String: String] = [:], modules: [String: String] = [:]
        var current = ""
        for line in show.stdout.split(separator: "\n") {
            if let first = line.first, first.isHexDigit { current = String(line.prefix { $0 != " " }) }
            if line.hasPrefix("  Driver:") { driver[current] = line.dropFirst(9).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("  Modules:") { modules[current] = line.dropFirst(10).trimmingCharacters(in: .whitespaces) }
        }
        // A driver's name is not always its module's (lspci -k shows the same: i801_smbus is module i2c_i801).
        let moduleOf = ["e1000e": "e1000e", "nvme": "nvme", "ahci": "ahci", "i801_smbus": "i2c_i801", "lpc_ich": "lpc_ich", "virtio-pci": "virtio_pci"]
        var checked = 0
        for (a, d) in driver {
            guard let module = moduleOf[d] else { continue }
            #expect(modules[a]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains(module) == true, "\(a): driver \(d), modules \(modules[a] ?? "-")")
            checked += 1
        }
        #expect(checked == 7)
        // Ports bind pcieport, which is built in: no module alias names them.
        #expect(modules["0000:02:00.0"] == "none match its modalias")
        let json = try Command.json(try Command.tool(["show", "--json", "--root", root, "03:00.0"]).stdout)
        let f = try #require((json["functions"] as? [[String: Any]])?.first)
        #expect((f["kernelModules"] as? [String])?.contains("e1000e") == true)
    }

    @Test("functions in no IOMMU group are units of their own: report, --summary, groups and --exit-status never lose them")
    func ungroupedUnits() throws {
        let root = Fixtures.sysfs("amd-iommu") // 00:01.0, the AMD IOMMU itself, is in no group
        let summary = try Command.tool(["report", "--root", root, "-s", "00:01.0", "--summary", "--exit-status"])
        #expect(summary.status == 2)
        #expect(summary.stdout.contains("no group") && summary.stdout.contains("not-in-group"))
        let groups = try Command.tool(["groups", "--root", root, "-s", "00:01.0", "--exit-status"])
        #expect(groups.status == 2 && groups.stdout.contains("In no IOMMU group: 0000:00:01.0"))
        let check = try Command.tool(["check", "--root", root, "00:01.0"])
        #expect(check.status == summary.status)
        // A dump whose group lines leave out a function (the AMD IOMMU itself): its own unit, "group unknown",
        // blocked as the platform, as check says.
        let dump = Fixtures.realdata("nvidia-bug-report-lspci/asus-tuf-fx505dt-laptop.lspci-nnDvvvxxx.txt")
        let partial = try Command.tool(["report", "--dump", dump, "-s", "00:00.2", "--summary", "--exit-status"])
        #expect(partial.status == (try Command.tool(["check", "--dump", dump, "00:00.2"])).status)
        #expect(partial.status == 2 && partial.stdout.contains("group unknown") && partial.stdout.contains("the IOMMU itself"))
        // Nothing to judge is never "ready".
        #expect(try Command.tool(["report", "--root", Fixtures.sysfs("switch"), "--verdict", "ready", "--exit-status"]).status == 5)
        // Every function of every fixture is in exactly one unit.
        for fixture in Fixtures.sysfsNames {
            let json = try Command.json(try Command.tool(["report", "--json", "--root", Fixtures.sysfs(fixture)]).stdout)
            let members = ((json["groups"] as? [[String: Any]]) ?? []).flatMap { ($0["members"] as? [String]) ?? [] }
            #expect(members.sorted() == (try Fixtures.lspciFunctions(fixture)).sorted(), "\(fixture)")
        }
    }

    @Test("unknown is drawn and exported as unknown: groups of a dump without group lines, a bridge whose config is unreadable")
    func unknownInPictures() throws {
        let dump = Fixtures.realdata("coreboot-autoport-logs/dell-latitude-e6430-nvs5200m.lspci-nnvvvxxxx.txt")
        let dot = try Command.tool(["tree", "--format", "dot", "--dump", dump]).stdout
        #expect(!dot.contains("in no IOMMU group") && dot.contains("IOMMU group not known"))
        let partial = Fixtures.realdata("nvidia-bug-report-lspci/asus-tuf-fx505dt-laptop.lspci-nnDvvvxxx.txt")
        let tree = try Command.json(try Command.tool(["tree", "--json", "--dump", partial]).stdout)
        var nodes: [String: [String: Any]] = [:]
        func walk(_ list: [[String: Any]]) { for n in list { nodes[n["address"] as? String ?? ""] = n; walk(n["children"] as? [[String: Any]] ?? []) } }
        for bus in tree["roots"] as? [[String: Any]] ?? [] { walk(bus["functions"] as? [[String: Any]] ?? []) }
        #expect(nodes["0000:00:00.2"]?["groupKnown"] as? Bool == false)
        let cases = try Command.json(try Command.tool(["tree", "--json", "--root", Fixtures.directory.appendingPathComponent("cases/partial-sysfs-group-links").path]).stdout)
        nodes = [:]
        for bus in cases["roots"] as? [[String: Any]] ?? [] { walk(bus["functions"] as? [[String: Any]] ?? []) }
        let bridge = try #require(nodes["0000:00:06.0"])
        let isolation = bridge["isolation"] as? [String: Any]
        #expect(isolation != nil && isolation?["isolates"] is NSNull, "\(bridge)")
    }

    @Test("a hex row cut short is not padded into facts: the bytes end there, with a diagnostic naming the line")
    func shortHexRow() throws {
        let text = try String(contentsOfFile: Fixtures.directory.appendingPathComponent("cases/navi-switch-64-bytes/dump.txt").path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let row = try #require(lines.firstIndex { $0.hasPrefix("10: ") })
        lines[row] = "10: 00 00 b0"
        let r = try Command.run(Command.toolPath, ["list", "--json", "--dump", "-"], input: lines.joined(separator: "\n"))
        let functions = try #require(try Command.json(r.stdout)["functions"] as? [[String: Any]])
        let first = try #require(functions.first)
        #expect(first["configBytesReadable"] as? Int == 16)
        let diagnostics = (first["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
        #expect(diagnostics.contains { $0.contains("line \(row + 1)") && $0.contains("fewer than 16 bytes") }, "\(diagnostics)")
    }

    @Test("the Graphviz picture: verdict-coloured clusters, a legend, VFs past four collapsed; dot renders it", arguments: ["sriov", "switch", "pcie-pci-bridge", "large"])
    func picture(_ fixture: String) throws {
        let dot = try #require(Command.which("dot"), "needs graphviz (Scripts/install-deps.sh --test)")
        var root = Fixtures.sysfs(fixture)
        var scratch: String?
        if fixture == "large" {
            let large = try Fixtures.largeSnapshot("picture-large")
            root = large.root
            scratch = large.scratch
        }
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        let r = try Command.tool(["tree", "--format", "dot", "--root", root])
        #expect(r.status == 0)
        let verdicts = try units(["--root", root])
        // Each cluster's label carries its unit's verdict.
        for u in verdicts.prefix(fixture == "large" ? 3 : 40) {
            let list = try Command.json(try Command.tool(["list", "--json", "--root", root, "-s", u.members[0]]).stdout)
            guard let g = ((list["functions"] as? [[String: Any]])?.first?["iommuGroup"]) as? Int else { continue }
            let label = r.stdout.contains("label=\"IOMMU group \(g): \(u.verdict)")
                || (u.verdict == "blocked" && r.stdout.contains("label=\"IOMMU group \(g): not a candidate\""))
            #expect(label, "group \(g)")
        }
        #expect(r.stdout.contains("group verdict"))
        if fixture == "large" {
            #expect(r.stdout.components(separatedBy: "more VFs of").count - 1 == 8)
            #expect(r.stdout.split(separator: "\n").count < 400) // 2,000+ lines with every VF drawn
        }
        let dir = try Fixtures.temporaryDirectory("picture")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try r.stdout.write(toFile: dir + "/t.dot", atomically: true, encoding: .utf8)
        let svg = try Command.run(dot, ["-Tsvg", dir + "/t.dot", "-o", dir + "/t.svg"])
        #expect(svg.status == 0, "\(svg.stderr)")
        #expect(svg.stderr.isEmpty, "dot warned: \(svg.stderr)")
    }
}
