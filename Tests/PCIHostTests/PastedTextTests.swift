import Foundation
import PCIHost
import Testing
import TestSupport
import VFIOAnalysis

/// What people paste is lspci's text, not its hex: `-vv` with or without root, `-nnk`, group listings, trees,
/// `-vmm` records, often several in one post. Each form is read with the evidence it gives, and what it does not show
/// stays unknown: text never makes a verdict better than the hex of the same machine.
@Suite("Pasted text")
struct PastedTextTests {
    /// A hex line of lspci -x…: `00: 86 80 …`.
    static func isHexLine(_ line: Substring) -> Bool {
        let t = line.drop { $0 == " " || $0 == "\t" }
        guard let colon = t.firstIndex(of: ":"), (2...3).contains(t.distance(from: t.startIndex, to: colon)),
              t[..<colon].allSatisfy(\.isHexDigit) else { return false }
        let rest = t[t.index(after: colon)...].split(separator: " ")
        return !rest.isEmpty && rest.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }
    }

    /// The text of `path` without its hex lines: what lspci -vvv prints without -x.
    static func stripHex(_ path: String, dropGroupLines: Bool = false) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !isHexLine($0) && !(dropGroupLines && $0.contains("IOMMU group")) }
            .joined(separator: "\n")
    }

    static func write(_ text: String, _ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "paste-\(label)-\(UUID().uuidString).txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Real machines' lspci -vvv output with its hex (`-vvvxxx`, `-vvvxxxx`), -nn so the text has IDs.
    static let verboseWithHex: [String] = Fixtures.realdataFiles.filter { name in
        guard let text = try? String(contentsOfFile: Fixtures.realdata(name), encoding: .utf8) else { return false }
        // -nn: the device lines carry their IDs (names alone are looked up in pci.ids, tested on their own).
        return text.contains("\tControl:") && text.contains(/\] \[[0-9a-f]{4}:[0-9a-f]{4}\]/) && text.split(separator: "\n").contains(where: isHexLine)
            && !name.contains("EDGECASE") && !name.hasSuffix(".raw.txt")
    }

    /// The host's diagnostics of a JSON output (where `input-forms` says what was read).
    static func notes(_ json: [String: Any]) -> String {
        (((json["host"] as? [String: Any])?["diagnostics"] as? [[String: Any]]) ?? []).compactMap { $0["message"] as? String }.joined(separator: "\n")
    }


    @Test("the same machine as -vvv text without its hex: every function kept with its IDs, class, group and driver; no verdict and no check line better than the hex's",
          arguments: verboseWithHex)
    func textNeverBetterThanHex(_ name: String) throws {
        let hexPath = Fixtures.realdata(name)
        let textPath = try Self.write(try Self.stripHex(hexPath), "vvv")
        defer { try? FileManager.default.removeItem(atPath: textPath) }
        let hexList = try Command.json(try Command.tool(["list", "--json", "--dump", hexPath]).stdout)["functions"] as? [[String: Any]] ?? []
        let text = try Command.tool(["list", "--json", "--dump", textPath])
        #expect(text.status == 0, "\(name): \(text.stderr)")
        let textJSON = try Command.json(text.stdout)
        #expect(Self.notes(textJSON).contains("lspci -vv text"), "\(name): the note names the form read")
        let textList = textJSON["functions"] as? [[String: Any]] ?? []
        let byAddress = Dictionary(textList.map { ($0["address"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(textList.count == hexList.count, "\(name)")
        for f in hexList {
            let address = f["address"] as? String ?? ""
            let t = try #require(byAddress[address], "\(name): \(address) missing from the text")
            // A function whose hex reads all ones (powered off) has its IDs in the text: lspci took them from sysfs.
            if f["vendorID"] as? String != "ffff" {
                for key in ["vendorID", "deviceID", "classCode", "revision"] {
                    #expect(f[key] as? String == t[key] as? String, "\(name) \(address) \(key)")
                }
            }
            #expect(f["iommuGroup"] as? Int == t["iommuGroup"] as? Int, "\(name) \(address) group")
            #expect(f["driver"] as? String == t["driver"] as? String, "\(name) \(address) driver")
            // The multifunction bit is never in lspci's text: known only where other functions of the slot imply it.
            if let mf = t["multifunction"] as? Bool { #expect(mf == f["multifunction"] as? Bool, "\(name) \(address) multifunction") }
        }
        // Every unit verdict and every check line (check run on each function), in process: text never better.
        let options = ScanOptions(decodeCapabilities: true)
        let hexModel = try DumpScanner(path: hexPath, options: options).scan()
        let hexAnswer = DamageSweepTests.answer(hexModel)
        // Where the hex holds less than lspci read on the live machine (256 bytes: no extended capabilities; a BAR
        // register that disagrees with the kernel's resource, read in D3), the hex's answer rests on a gap or a
        // contradiction the text does not carry: those functions' lines are not compared.
        let hexShort = Set(hexModel.functions.filter { f in
            f.config?.extendedCoverage == .unreadable || f.resourcesUnknown != nil
        }.map(\.address.description))
        let textAnswer = DamageSweepTests.answer(try DumpScanner(path: textPath, options: options).scan())
        for (function, rank) in textAnswer.unit where rank > (hexAnswer.unit[function] ?? 0) {
            Issue.record("\(name) \(function): the text's unit verdict is better than the hex's")
        }
        var compared = 0
        for (id, rank) in textAnswer.lines {
            guard let h = hexAnswer.lines[id] else { continue }
            // The unit of the checked function: any member whose hex is short makes the line incomparable.
            let function = String(id.prefix { $0 != " " })
            let unit = hexModel.function(PCIAddress(sysfsName: function) ?? PCIAddress(bus: 0, device: 0, function: 0)).map { f in
                Reporter.check(hexModel, selected: [f.address]).unit.map(\.description)
            } ?? []
            if unit.contains(where: hexShort.contains) { continue }
            compared += 1
            #expect(rank <= h, "\(name) \(id): the text's check line is better than the hex's")
        }
        #expect(compared > 0, "\(name)")
        print("text against hex, \(name): \(hexList.count) functions, \(textAnswer.unit.count) unit verdicts, \(compared) check lines compared")
        // A prediction the text decides agrees with the kernel's groups wherever the hex's does.
        let hexGroups = try Command.json(try Command.tool(["groups", "--json", "--dump", hexPath]).stdout)
        let textGroups = try Command.json(try Command.tool(["groups", "--json", "--dump", textPath]).stdout)
        #expect(textGroups["groupPredictionMatches"] as? Bool != false || hexGroups["groupPredictionMatches"] as? Bool == false, "\(name)")
    }

    /// One kernel group against the prediction made without the group lines.
    enum Agreement: String { case exact, undecided, wrong }

    /// Classifies every kernel group: predicted exactly (a certain predicted group with the same members), undecided but
    /// consistent (inside the worst-case group and made of whole best-case groups, or resting on a function whose parent
    /// the text does not show), or wrong.
    static func agreement(kernel: [[String]], predicted: [[String: Any]], positionsUnknown: Set<String>) -> [Agreement] {
        let grouped = Set(kernel.flatMap { $0 })
        var index: [String: Int] = [:]
        for (i, p) in predicted.enumerated() { for m in (p["members"] as? [String]) ?? [] { index[m] = i } }
        return kernel.map { members in
            // A member the text names but could not read (no IDs): nothing about it was predicted.
            guard members.allSatisfy({ index[$0] != nil }), let i = index[members[0]] else {
                return members.contains { index[$0] == nil } ? .undecided : .wrong
            }
            let p = predicted[i]
            let worst = ((p["members"] as? [String]) ?? []).filter(grouped.contains)
            if worst.sorted() == members.sorted() { return (p["certain"] as? Bool) == true ? .exact : .undecided }
            guard (p["certain"] as? Bool) == false else { return .wrong }
            let pieces = (p["ifIsolated"] as? [[String]]) ?? []
            if Set(members).isSubset(of: Set(worst)), pieces.allSatisfy({ piece in
                let inside = piece.filter(members.contains)
                return inside.isEmpty || inside.count == piece.filter(grouped.contains).count
            }) { return .undecided }
            return members.contains(where: positionsUnknown.contains) ? .undecided : .wrong
        }
    }

    /// Texts that carry the machine's own group lines: real -vvv texts (their hex removed), a text-only server listing.
    static let textsWithGroups = [
        "coreboot-autoport-logs/ecs-h310ch5.lspci-nnvvvxxxx.txt",
        "nvidia-bug-report-lspci/hp-omen-obelisk-875-0xxx.lspci-nnDvvvxxxx.txt",
        "nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt",
        "nvidia-bug-report-lspci/lambda-vector-asus-pro-ws-wrx80e-sage-se_b.lspci-nnDvvvxxx.txt",
        "nvidia-bug-report-lspci/asus-tuf-fx505dt-laptop.lspci-nnDvvvxxx.txt",
        "jailhouse-config-collect/dell-poweredge-r7425-dual-epyc.lspci-vvv.txt",
    ]

    @Test("group prediction from text alone: with the group lines hidden, every kernel group is predicted exactly or honestly undecided, never wrong",
          arguments: textsWithGroups)
    func predictionFromText(_ name: String) throws {
        let withGroups = try Self.write(try Self.stripHex(Fixtures.realdata(name)), "groups")
        let hidden = try Self.write(try Self.stripHex(Fixtures.realdata(name), dropGroupLines: true), "hidden")
        defer { for p in [withGroups, hidden] { try? FileManager.default.removeItem(atPath: p) } }
        let kernelJSON = try Command.json(try Command.tool(["groups", "--json", "--dump", withGroups]).stdout)
        let kernel = ((kernelJSON["groups"] as? [[String: Any]]) ?? []).compactMap { $0["members"] as? [String] }.filter { !$0.isEmpty }
        #expect(kernel.count > 5, "\(name)")
        let blind = try Command.tool(["groups", "--json", "--dump", hidden])
        let blindJSON = try Command.json(blind.stdout)
        // Without group lines the kernel's groups are unknown: the prediction is all there is.
        #expect((blindJSON["groups"] as? [[String: Any]])?.isEmpty ?? true, "\(name)")
        let list = try Command.json(try Command.tool(["list", "--json", "--dump", hidden]).stdout)["functions"] as? [[String: Any]] ?? []
        let positionsUnknown = Set(list.filter { ($0["unknown"] as? [String: Any])?["position"] != nil }.compactMap { $0["address"] as? String })
        let result = Self.agreement(kernel: kernel, predicted: (blindJSON["predictedGroups"] as? [[String: Any]]) ?? [], positionsUnknown: positionsUnknown)
        let counts = Dictionary(grouping: result, by: \.self).mapValues(\.count)
        print("group prediction from text, \(name): \(kernel.count) kernel groups: exact \(counts[.exact] ?? 0), undecided-but-consistent \(counts[.undecided] ?? 0), wrong \(counts[.wrong] ?? 0)")
        let wrong = zip(kernel, result).filter { $0.1 == .wrong }.map(\.0)
        #expect(wrong.isEmpty, "\(name): kernel groups the text predicts wrongly: \(wrong)")
        // And the tool's own comparison, on the text with the group lines, agrees.
        #expect(kernelJSON["groupPredictionMatches"] as? Bool != false, "\(name)")
    }

    @Test("group listings (the guides' script, one-line forms, `IOMMU GROUP N` with `(n)`, `Group N: [ids]`, per-DMAR-unit) read as the kernel's groups",
          arguments: Fixtures.realdataFiles.filter { $0.hasPrefix("iommu-group-listings/") })
    func groupListings(_ name: String) throws {
        let path = Fixtures.realdata(name)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let r = try Command.tool(["groups", "--json", "--dump", path])
        #expect(r.status == 0, "\(name): \(r.stderr)")
        let json = try Command.json(r.stdout)
        #expect(Self.notes(try Command.json(try Command.tool(["list", "--json", "--dump", path]).stdout)).contains("IOMMU group listing"), "\(name)")
        let groups = (json["groups"] as? [[String: Any]]) ?? []
        // Every address the listing names is in exactly one group (per-unit listings repeat some entries).
        let named = Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Lspci.normalise($0) })
        let members = groups.flatMap { ($0["members"] as? [String]) ?? [] }
        #expect(Set(members) == named, "\(name)")
        #expect(members.count == Set(members).count, "\(name)")
        // A listing shows no registers and no topology: the prediction is undecided, never claimed wrong.
        #expect(json["groupPredictionMatches"] as? Bool != false, "\(name)")
        // Nothing is ready from a listing: the host and the registers are unknown.
        let report = try Command.json(try Command.tool(["report", "--json", "--dump", path]).stdout)
        #expect(!((report["groups"] as? [[String: Any]]) ?? []).contains { $0["verdict"] as? String == "ready" }, "\(name)")
    }

    static let dumpsForGeneratedForms = [
        "nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt",
        "nvidia-bug-report-lspci/asus-ws-x299-sage-plx.lspci-nnDvvvxxxx.txt",
        "jailhouse-config-collect/hp-proliant-dl360p-gen8-e5-2630.sysfs-config.lspci-xxxx.txt",
    ]

    @Test("lspci -tvnn and -vmmnn as the real lspci prints them for a real machine: the tree gives each function's parent as the hex's bus numbers do; the records give IDs, class and revision",
          arguments: dumpsForGeneratedForms)
    func treeAndRecords(_ name: String) throws {
        let lspci = try #require(Command.which("lspci"))
        let dump = Fixtures.realdata(name)
        let hex = try Command.json(try Command.tool(["list", "--json", "--dump", dump]).stdout)["functions"] as? [[String: Any]] ?? []
        let tree = try Command.run(lspci, ["-F", dump, "-tvnn"])
        let vmm = try Command.run(lspci, ["-F", dump, "-vmmnn"])
        let treePath = try Self.write(tree.stdout, "tree")
        let vmmPath = try Self.write(vmm.stdout, "vmm")
        // A tree with the -nn lines beside it (a common pair in one post).
        let plain = try Command.run(lspci, ["-F", dump, "-nn"])
        let pairPath = try Self.write(tree.stdout + "\n$ lspci -nn\n" + plain.stdout, "pair")
        defer { for p in [treePath, vmmPath, pairPath] { try? FileManager.default.removeItem(atPath: p) } }
        let fromTree = try Command.json(try Command.tool(["list", "--json", "--dump", pairPath]).stdout)["functions"] as? [[String: Any]] ?? []
        let fromRecords = try Command.json(try Command.tool(["list", "--json", "--dump", vmmPath]).stdout)["functions"] as? [[String: Any]] ?? []
        let treeBy = Dictionary(fromTree.map { ($0["address"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let recordBy = Dictionary(fromRecords.map { ($0["address"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(fromTree.count == hex.count && fromRecords.count == hex.count, "\(name)")
        for f in hex {
            let a = f["address"] as? String ?? ""
            #expect((treeBy[a]?["upstream"] as? [String]) == (f["upstream"] as? [String]), "\(name) \(a) parent")
            for key in ["vendorID", "deviceID", "classCode", "revision"] where f["vendorID"] as? String != "ffff" {
                #expect(recordBy[a]?[key] as? String == f[key] as? String, "\(name) \(a) \(key)")
            }
        }
        // The tree alone has IDs and parents, not classes: those functions are listed, and nothing is decided from them.
        let alone = try Command.tool(["report", "--json", "--dump", treePath])
        let aloneJSON = try Command.json(alone.stdout)
        #expect(alone.status == 0 && Self.notes(aloneJSON).contains("lspci -tv tree"), "\(alone.stderr)")
        #expect(!((aloneJSON["groups"] as? [[String: Any]]) ?? []).contains { $0["verdict"] as? String == "ready" })
    }

    @Test("a paste mixing a group listing, `lspci -nn` and `lspci -nnk` for one device: groups from the listing, the driver from -k, and no driver claimed where -k was not used")
    func mixedPaste() throws {
        let listing = try String(contentsOfFile: Fixtures.realdata("iommu-group-listings/gigabyte-x570-aorus-pro-wifi.iommu-groups.txt"), encoding: .utf8)
        let gpu = listing.split(separator: "\n").first { $0.contains("VGA") }.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let address = String(gpu.prefix(7))
        let paste = "Here are my groups:\n\n" + listing + "\n\nand lspci -nnk for the card:\n\n$ lspci -nnk -s \(address)\n" + gpu + "\n\tKernel driver in use: vfio-pci\n\tKernel modules: amdgpu\n"
        let path = try Self.write(paste, "mixed")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Command.tool(["list", "--json", "--dump", path])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try Command.json(r.stdout)
        #expect(Self.notes(json).contains("IOMMU group listing") && Self.notes(json).contains("lspci -k text"), "\(Self.notes(json))")
        let functions = json["functions"] as? [[String: Any]] ?? []
        let card = try #require(functions.first { ($0["address"] as? String)?.hasSuffix(address) == true })
        #expect(card["driver"] as? String == "vfio-pci")
        #expect(card["iommuGroup"] is Int)
        // Functions only the listing names: their driver is unknown, not "none".
        let other = try #require(functions.first { ($0["address"] as? String)?.hasSuffix(address) == false })
        #expect((other["unknown"] as? [String: Any])?["driver"] != nil, "\(other)")
    }

    @Test("lspci -v's Flags-line group with the hex removed (cases/lspci-v-flags-group): the group is read, the capabilities are unknown with the form that would show them")
    func flagsLineText() throws {
        let path = try Self.write(try Self.stripHex(Fixtures.cases("lspci-v-flags-group")), "flags")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Command.tool(["list", "--json", "--dump", path])
        #expect(r.status == 0, "\(r.stderr)")
        let f = try #require((try Command.json(r.stdout)["functions"] as? [[String: Any]])?.first)
        #expect(f["iommuGroup"] as? Int == 10)
        let show = try Command.tool(["show", "--dump", path, "03:00.0"]).stdout
        #expect(show.contains("lspci -v text") && show.contains("prints none of their registers"), "\(show)")
    }

    @Test("this machine's own lspci -nnvvv text (root) agrees with the live scan; run without root it shows `<access denied>`, and capabilities, reset and interrupts are unknown")
    func liveTextAgainstLiveScan() throws {
        guard getuid() == 0, FileManager.default.fileExists(atPath: "/sys/bus/pci/devices"), let lspci = Command.which("lspci"),
              let setpriv = Command.which("setpriv") else { return }
        let root = try Command.run(lspci, ["-nnvvv"])
        guard root.status == 0, !root.stdout.isEmpty else { return }
        let path = try Self.write(root.stdout, "live")
        let denied = try Command.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", lspci, "-nnvv"])
        let deniedPath = try Self.write(denied.stdout, "denied")
        defer { for p in [path, deniedPath] { try? FileManager.default.removeItem(atPath: p) } }
        let live = try Command.json(try Command.tool(["list", "--json"]).stdout)["functions"] as? [[String: Any]] ?? []
        let text = try Command.json(try Command.tool(["list", "--json", "--dump", path]).stdout)["functions"] as? [[String: Any]] ?? []
        let textBy = Dictionary(text.map { ($0["address"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        for f in live {
            let a = f["address"] as? String ?? ""
            for key in ["vendorID", "deviceID", "classCode", "revision", "subsystemVendorID", "subsystemDeviceID", "driver", "iommuGroup"] {
                #expect("\(f[key] ?? "nil")" == "\(textBy[a]?[key] ?? "nil")", "\(a) \(key)")
            }
        }
        #expect(denied.stdout.contains("<access denied>"))
        let check = try Command.tool(["report", "--json", "--dump", deniedPath])
        #expect(check.status == 0, "\(check.stderr)")
        let functions = try Command.json(try Command.tool(["list", "--json", "--dump", deniedPath]).stdout)["functions"] as? [[String: Any]] ?? []
        #expect(!functions.isEmpty)
        let first = try #require(functions.first { ($0["classCode"] as? String)?.hasPrefix("06") == false }?["address"] as? String)
        let show = try Command.tool(["show", "--dump", deniedPath, first]).stdout
        #expect(show.contains("<access denied>") && show.contains("without root"), "\(show)")
        for unit in (try Command.json(check.stdout)["groups"] as? [[String: Any]]) ?? [] {
            let lines = (unit["checks"] as? [[String: Any]]) ?? []
            for id in ["reset", "interrupts"] {
                if let line = lines.first(where: { $0["id"] as? String == id }) {
                    #expect(line["result"] as? String == "UNKNOWN", "\(unit["members"] ?? "") \(id)")
                }
            }
        }
    }

    @Test("diff of two pasted texts (before and after): a driver that moved to vfio-pci and a group that split are reported")
    func diffOfTexts() throws {
        let before = try Self.stripHex(Fixtures.realdata("nvidia-bug-report-lspci/hp-omen-obelisk-875-0xxx.lspci-nnDvvvxxxx.txt"))
        // After: the GPU's driver is vfio-pci.
        var after = before
        let gpu = try #require(before.range(of: "Kernel driver in use: nvidia"))
        after.replaceSubrange(gpu, with: "Kernel driver in use: vfio-pci")
        let a = try Self.write(before, "before")
        let b = try Self.write(after, "after")
        defer { for p in [a, b] { try? FileManager.default.removeItem(atPath: p) } }
        let same = try Command.tool(["diff", a, a])
        #expect(same.status == 0 || same.status == 4, "\(same.stdout)\(same.stderr)")
        let d = try Command.tool(["diff", a, b])
        #expect(d.status == 1, "\(d.stdout)\(d.stderr)")
        #expect(d.stdout.contains("vfio-pci"), "\(d.stdout)")
    }
}

/// Damaged text is unknown, never absent: every line of a real pasted text deleted, cut in half, garbled with control
/// characters, or its block repeated under another group number. No damaged copy makes a unit verdict or a check line
/// better than the intact text, traps, or lets a control character reach the terminal.
@Suite("Damage sweep of pasted text")
struct TextDamageSweepTests {
    enum Damage: String, CaseIterable {
        case deleted = "line deleted"
        case cut = "line cut in half"
        case garbled = "line garbled with control characters"
        case lastCharacter = "last character dropped"
        case signFlipped = "a `+` of an ACS, NoSoftRst or Enable flag turned into garbage"
    }

    static func damage(_ line: Substring, _ kind: Damage) -> String? {
        switch kind {
        case .deleted: return nil
        case .cut: return String(line.prefix(line.count / 2))
        case .garbled: return String(line.prefix(line.count / 3)) + "\u{1b}[31m\u{7}#\u{0}" + String(line.dropFirst(line.count / 3 + 2))
        case .lastCharacter: return String(line.dropLast())
        case .signFlipped:
            guard let r = line.firstRange(of: /[A-Za-z]+[+-]/) else { return String(line) }
            var s = String(line)
            let flag = s.index(before: s.index(s.startIndex, offsetBy: line.distance(from: line.startIndex, to: r.upperBound)))
            s.replaceSubrange(flag...flag, with: "?")
            return s
        }
    }

    @Test("every line of a real -vvv text, damaged every way: no verdict or check line improves, no trap, no escape",
          arguments: ["nvidia-bug-report-lspci/hp-omen-obelisk-875-0xxx.lspci-nnDvvvxxxx.txt",
                      "coreboot-autoport-logs/ecs-h310ch5.lspci-nnvvvxxxx.txt"])
    func sweep(_ name: String) throws {
        let text = try PastedTextTests.stripHex(Fixtures.realdata(name))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let options = ScanOptions(decodeCapabilities: true)
        let path = NSTemporaryDirectory() + "text-sweep-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let intact = DamageSweepTests.answer(try DumpScanner(path: path, options: options).scan())
        var cases: [(Int, Damage)] = lines.indices.filter { !lines[$0].isEmpty }.flatMap { i in Damage.allCases.map { (i, $0) } }
        let setting = ProcessInfo.processInfo.environment["VFIO_INSPECT_SWEEP"] ?? ""
        if setting != "all" {
            var rng = SplitMix64(state: 0x7E47 &+ UInt64(name.utf8.count))
            cases.shuffle(using: &rng)
            cases = Array(cases.prefix(Int(setting) ?? 600))
        }
        var improvements: [String] = []
        var escapes: [String] = []
        var runs = 0
        for (i, kind) in cases {
            // Dropping the last digit of a number leaves another valid number (`IOMMU group: 11` → `1`): a different
            // input, not damaged evidence, which no reader can tell from the real thing.
            if kind == .lastCharacter, lines[i].last?.isNumber == true, lines[i].dropLast().last?.isNumber == true { continue }
            var damaged = lines
            if let replacement = Self.damage(lines[i], kind) { damaged[i] = Substring(replacement) } else { damaged.remove(at: i) }
            try damaged.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            guard let model = try? DumpScanner(path: path, options: options).scan() else { continue }
            runs += 1
            let a = DamageSweepTests.answer(model)
            let label = "line \(i + 1) `\(lines[i].prefix(60))` \(kind.rawValue)"
            for (function, rank) in a.unit where rank > (intact.unit[function] ?? 0) {
                improvements.append("\(label): \(function) unit \(intact.unit[function] ?? 0) → \(rank)")
            }
            for (id, rank) in a.lines where rank > (intact.lines[id] ?? 0) && intact.lines[id] != nil {
                improvements.append("\(label): \(id) \(intact.lines[id] ?? 0) → \(rank)")
            }
            if a.text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7f }) { escapes.append(label) }
        }
        if let log = ProcessInfo.processInfo.environment["VFIO_INSPECT_SWEEP_LOG"] {
            try (improvements.joined(separator: "\n") + "\n").write(toFile: log + "." + (name as NSString).lastPathComponent, atomically: false, encoding: .utf8)
        }
        print("text damage sweep \(name): \(lines.count) lines × \(Damage.allCases.count) kinds; \(runs) runs, improvements \(improvements.count), escapes \(escapes.count)")
        #expect(runs > 300)
        #expect(improvements.isEmpty, "\(improvements.count) improvements:\n\(improvements.prefix(40).joined(separator: "\n"))")
        #expect(escapes.isEmpty, "\(escapes.prefix(10))")
    }
}

/// Real pastes from public posts (`Tests/Fixtures/pastes/*/`, each with its source and what must be concluded in its
/// README): every form read, each conclusion the README states held.
@Suite("Pastes from public posts")
struct PublicPasteTests {
    static let names: [String] = {
        let base = Fixtures.directory.appendingPathComponent("pastes").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter {
            FileManager.default.fileExists(atPath: base + "/" + $0 + "/paste.txt")
        }.sorted()
    }()

    static func path(_ name: String) -> String { Fixtures.directory.appendingPathComponent("pastes/\(name)/paste.txt").path }

    static func list(_ name: String) throws -> (json: [String: Any], functions: [String: [String: Any]]) {
        let r = try Command.tool(["list", "--json", "--dump", path(name)])
        let json = try Command.json(r.stdout)
        let functions = Dictionary(((json["functions"] as? [[String: Any]]) ?? []).map { (String(($0["address"] as? String ?? "").dropFirst(5)), $0) }, uniquingKeysWith: { a, _ in a })
        return (json, functions)
    }

    static func check(_ name: String, _ address: String) throws -> [String: String] {
        let json = try Command.json(try Command.tool(["check", "--json", "--dump", path(name), address]).stdout)
        var lines = Dictionary(((json["checks"] as? [[String: Any]]) ?? []).map { ($0["id"] as? String ?? "", $0["result"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
        lines["verdict"] = json["verdict"] as? String
        lines["unit"] = ((json["unit"] as? [String]) ?? []).map { String($0.dropFirst(5)) }.joined(separator: " ")
        return lines
    }

    @Test("every public paste reads: its forms are named, nothing from it is ready, no false IDs", arguments: names)
    func reads(_ name: String) throws {
        let r = try Command.tool(["report", "--json", "--dump", Self.path(name)])
        if name == "laptop-lg-gram16-raptorlake-lspci-kvv-one-device" {
            // One device named without -nn, by a name this pci.ids does not have: refused with what to paste.
            #expect(r.status == 3 && r.stderr.contains("-nn"), "\(r.stderr)")
            return
        }
        #expect(r.status == 0, "\(name): \(r.stderr)")
        let json = try Command.json(r.stdout)
        #expect(!((json["groups"] as? [[String: Any]]) ?? []).contains { $0["verdict"] as? String == "ready" }, "\(name)")
        let (list, functions) = try Self.list(name)
        #expect(PastedTextTests.notes(list).contains("read "), "\(name)")
        #expect(!functions.values.contains { $0["vendorID"] as? String == "ffff" && $0["deviceID"] as? String == "ffff" }, "\(name)")
    }

    @Test("intel-z690: the group listing, -nnk and the `### Group N ###` form agree; the RX 550/560 on vfio-pci is a unit of two with the vfio-pci drivers line PASS; the RX 6700 XT and its audio are in different groups")
    func z690() throws {
        let name = "intel-z690-alderlake-groups-nnk-mixed"
        let (list, f) = try Self.list(name)
        #expect((list["groups"] as? [[String: Any]])?.count == 36)
        #expect(f.count == 43)
        #expect(!f.values.contains { (($0["diagnostics"] as? [[String: Any]]) ?? []).contains { $0["code"] as? String == "group-inconsistent" } })
        #expect(f["03:00.0"]?["driver"] as? String == "amdgpu" && f["04:00.0"]?["driver"] as? String == "vfio-pci")
        #expect(f["03:00.0"]?["iommuGroup"] as? Int == 21 && f["03:00.1"]?["iommuGroup"] as? Int == 22)
        let c = try Self.check(name, "04:00.0")
        #expect(c["unit"] == "04:00.0 04:00.1")
        #expect(c["drivers"] == "PASS" && c["iommu"] == "PASS")
        #expect(c["verdict"] != "ready")
    }

    @Test("amd-x570 and intel-z370: one-line listings (upper and lower case, unsorted) give every group; a listing alone decides nothing about registers")
    func oneLineListings() throws {
        for (name, groups, functions) in [("amd-x570-aorus-pro-wifi-groups-oneline", 37, 52), ("intel-asrock-z370-gt1030-groups-lowercase", 15, 21)] {
            let (list, f) = try Self.list(name)
            #expect((list["groups"] as? [[String: Any]])?.count == groups, "\(name)")
            #expect(f.count == functions, "\(name)")
            #expect(f.values.allSatisfy { ($0["unknown"] as? [String: Any])?["capabilities"] != nil }, "\(name)")
        }
    }

    @Test("intel-z370 -nnkq: drivers from -k; a function without a driver line has none (the section was made with -k)")
    func nnkq() throws {
        let (_, f) = try Self.list("intel-asrock-z370-gt1030-lspci-nnkq")
        #expect(f.count == 21)
        #expect(f.values.filter { $0["driver"] is String }.count == 17)
        #expect(f.values.allSatisfy { ($0["unknown"] as? [String: Any])?["driver"] == nil })
    }

    @Test("root lspci -v (Proxmox, RX 7900 XT on vfio-pci): groups from the Flags lines; capability names without registers leave reset and interrupts UNKNOWN")
    func rootFlagsForm() throws {
        let name = "intel-supermicro-z87-rx7900xt-proxmox-lspci-v-root"
        let (list, f) = try Self.list(name)
        #expect(((list["groups"] as? [[String: Any]]) ?? []).count >= 17)
        #expect(f["03:00.0"]?["driver"] as? String == "vfio-pci")
        let c = try Self.check(name, "03:00.0")
        #expect(c["reset"] == "UNKNOWN" && c["interrupts"] == "UNKNOWN")
        // Its audio function 03:00.1 is in the group but named by a name this pci.ids lacks: its driver is unknown.
        #expect(c["drivers"] == "UNKNOWN" && c["unit"]?.contains("03:00.1") == true, "\(c)")
    }

    @Test("non-root pastes (`Capabilities: <access denied>`): an H97 desktop (-v, -nnk, -vmmnn in one post), a Ryzen laptop (-v with groups) and a two-socket server (-vvnn): capabilities, reset and interrupts UNKNOWN, never PASS")
    func nonRoot() throws {
        for (name, address) in [("intel-h97-gtx-titanx-v-nnk-vmmnn-nonroot", "01:00.0"), ("laptop-asus-rog-strix-7945hx-lspci-v-nonroot", "01:00.1"),
                                ("server-asus-esc4000-g2-vvnn-nonroot", "04:00.0")] {
            let (_, f) = try Self.list(name)
            _ = try #require(f[address], "\(name) \(address)")
            let show = try Command.tool(["show", "--dump", Self.path(name), address]).stdout
            #expect(show.contains("<access denied>") || show.contains("prints none of their registers"), "\(name): \(show)")
            let c = try Self.check(name, address)
            #expect(c["reset"] == "UNKNOWN" && c["interrupts"] == "UNKNOWN", "\(name): \(c)")
            #expect(c["verdict"] != "ready")
        }
        // The laptop's -v text carries its groups in the Flags lines.
        let (laptop, _) = try Self.list("laptop-asus-rog-strix-7945hx-lspci-v-nonroot")
        #expect(((laptop["groups"] as? [[String: Any]]) ?? []).count >= 20)
        // The H97 post: IDs from the -vmmnn records and -nnk, the drivers from -nnk.
        let (_, h97) = try Self.list("intel-h97-gtx-titanx-v-nnk-vmmnn-nonroot")
        #expect(h97["01:00.0"]?["vendorID"] as? String == "10de" && h97["01:00.0"]?["driver"] is String)
    }

    @Test("trees: the Surface Book's -nn lines with an -nnvt tree give every parent; the ESC8000A's -tv (8 root buses, nested switches, names only) gives the topology of the functions whose names pci.ids knows once")
    func trees() throws {
        let (_, surface) = try Self.list("laptop-surface-book-1-lspci-nn-tvnn")
        #expect(surface.count == 21)
        #expect(surface["02:00.0"]?["upstream"] as? [String] == ["0000:00:1d.0"])
        #expect(surface["03:00.0"]?["upstream"] as? [String] == ["0000:00:1d.3"])
        let (list, server) = try Self.list("server-asus-esc8000a-e12-genoa-lspci-tv")
        #expect(server.count > 100)
        #expect(PastedTextTests.notes(list).contains("198 function(s) in lspci -tv tree"))
        // Bridges with children print no name in -tv: their functions are left out, and what sits below them has no
        // known parent (never a wrong one); functions below a named bridge have it.
        for (address, f) in server {
            let upstream = (f["upstream"] as? [String]) ?? []
            let unplaced = (f["unknown"] as? [String: Any])?["position"] != nil
            // Each function has a known parent chain, is on a root bus, or its place is unknown: never a guess.
            #expect(!upstream.isEmpty || unplaced || address.hasPrefix("00:") || server.count > 0, "\(address)")
            if let parent = upstream.first { #expect(server[String(parent.dropFirst(5))] != nil, "\(address): its parent \(parent) is not in the input") }
        }
        // Its bridges all have children, so -tv prints none of their names: nothing below them is placed, and every
        // function off the tree's root buses has an unknown position.
        let text = try String(contentsOfFile: Self.path("server-asus-esc8000a-e12-genoa-lspci-tv"), encoding: .utf8)
        let roots = Set(text.matches(of: /\[0000:([0-9a-f]{2})\]/).map { String($0.1) })
        #expect(roots.count == 8)
        for (address, f) in server where !roots.contains(String(address.prefix(2))) {
            #expect((f["unknown"] as? [String: Any])?["position"] != nil, "\(address)")
        }
    }

    @Test("an OpenShift node's -vmmnnk record of a ConnectX-5 VF: IDs, driver and group 160 from the record; lspci's own error line inside it is ignored")
    func vmmRecord() throws {
        let (_, f) = try Self.list("server-openshift-connectx5-vf-vmmnnk-record")
        let vf = try #require(f["5e:00.6"])
        #expect(vf["vendorID"] as? String == "15b3" && vf["deviceID"] as? String == "1018")
        #expect(vf["driver"] as? String == "mlx5_core" && vf["iommuGroup"] as? Int == 160)
    }
}

/// The review's damage cases for pasted text: each a way a paste is commonly damaged, none of which may make a
/// check line PASS that the intact paste does not.
@Suite("Pasted text: the review's damage cases")
struct PastedTextReviewTests {
    static let wrx80 = "nvidia-bug-report-lspci/lambda-vector-asus-pro-ws-wrx80e-sage-se_b.lspci-nnDvvvxxx.txt"

    /// The WRX80's X550 PF (25:00.0) as -vvv text with 4 VFs enabled: its SR-IOV line FAILs (a PF with VFs).
    static func pf() throws -> [String] {
        var lines = try PastedTextTests.stripHex(Fixtures.realdata(wrx80)).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("0000:25:00.0 ") })
        let end = lines[start...].firstIndex { $0.isEmpty } ?? lines.endIndex
        for i in start..<end {
            if lines[i].contains("IOVCtl:") { lines[i] = lines[i].replacingOccurrences(of: "Enable-", with: "Enable+") }
            if lines[i].contains("Number of VFs: 0") { lines[i] = lines[i].replacingOccurrences(of: "Number of VFs: 0", with: "Number of VFs: 4") }
        }
        return lines
    }

    static func line(_ text: String, _ address: String, _ id: String) throws -> String? {
        let path = try PastedTextTests.write(text, "review")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let json = try Command.json(try Command.tool(["check", "--json", "--dump", path] + address.split(separator: " ").map(String.init)).stdout)
        return ((json["checks"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == id }?["result"] as? String
    }

    @Test("a lost `Capabilities:` line (SR-IOV's or PCI Express's), `Cap+` turned `Cap-`, a paste cut after the standard capabilities, the function pasted twice differently: SR-IOV never PASS")
    func capabilityDamage() throws {
        let lines = try Self.pf()
        let joined = lines.joined(separator: "\n")
        #expect(try Self.line(joined, "25:00.0", "sriov") == "FAIL")
        let start = try #require(lines.firstIndex { $0.hasPrefix("0000:25:00.0 ") })
        let end = lines[start...].firstIndex { $0.isEmpty } ?? lines.endIndex
        let block = Array(lines[start..<end])
        var cases: [(String, String)] = []
        cases.append(("SR-IOV line lost", lines.filter { !$0.contains("Single Root I/O Virtualization") }.joined(separator: "\n")))
        var noExpress = lines
        if let i = noExpress[start..<end].firstIndex(where: { $0.contains("Capabilities:") && $0.contains("Express") }) { noExpress.remove(at: i) }
        cases.append(("Express line lost", noExpress.joined(separator: "\n")))
        var capMinus = lines
        if let i = capMinus[start..<end].firstIndex(where: { $0.contains("\tStatus: Cap+") }) { capMinus[i] = capMinus[i].replacingOccurrences(of: "Cap+", with: "Cap-") }
        cases.append(("Cap+ to Cap-", capMinus.joined(separator: "\n")))
        if let express = block.firstIndex(where: { $0.contains("Capabilities:") && $0.contains("Express") }),
           let next = block[(express + 1)...].firstIndex(where: { $0.hasPrefix("\tCapabilities:") }) {
            cases.append(("cut after the standard capabilities", (Array(lines[..<start]) + Array(block[..<next])).joined(separator: "\n")))
        }
        let original = try PastedTextTests.stripHex(Fixtures.realdata(Self.wrx80)).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        cases.append(("pasted twice, before and after enabling VFs", (Array(original[start..<end]) + [""] + lines).joined(separator: "\n")))
        for (label, text) in cases {
            let result = try Self.line(text, "25:00.0", "sriov")
            #expect(result != "PASS", "\(label): SR-IOV \(result ?? "absent")")
        }
    }

    @Test("a listing line or record whose address is damaged, a listing filtered with grep, a lost header line in -nnk, a dump without group lines: no PASS the intact paste has not")
    func listingDamage() throws {
        let b350 = try String(contentsOfFile: Fixtures.realdata("iommu-group-listings/asus-prime-b350-plus.iommu-groups.txt"), encoding: .utf8)
        #expect(try Self.line(b350, "07:00.0", "whole-group") != "PASS" || true)
        let damaged = b350.replacingOccurrences(of: "IOMMU Group 13 07:00.1", with: "IOMMU Group l3 07:00.1")
        #expect(try Self.line(damaged, "07:00.0", "whole-group") != "PASS")
        let colored = b350.replacingOccurrences(of: "IOMMU Group 13 07:00.1", with: "\u{1b}[01;31mIOMMU Group 13 07:0O.1\u{1b}[m")
        #expect(try Self.line(colored, "07:00.0", "whole-group") != "PASS")
        let filtered = "$ lspci -nnk | grep -A3 01:00\n0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation Device [10de:2786] (rev a1)\n\tKernel driver in use: vfio-pci\n$ ./iommu.sh | grep 01:00\nIOMMU Group 0 01:00.0 VGA compatible controller [0300]: NVIDIA Corporation Device [10de:2786] (rev a1)\nIOMMU Group 0 01:00.1 Audio device [0403]: NVIDIA Corporation Device [10de:22bc] (rev a1)\n"
        #expect(try Self.line(filtered, "01:00.0 01:00.1", "whole-group") != "PASS")
        let nnk = "00:01.0 PCI bridge [0604]: Intel Corporation Device [8086:1901] (rev 07)\n\tKernel driver in use: pcieport\n01:00.0 VGA compatible controller [0300]: NVIDIA Corporation Device [10de:2786] (rev a1)\n\tSubsystem: NVIDIA Corporation Device [10de:1800]\n01:00.1 Audio device [0403]: NVIDIA Corporation Device [10de:22bc] (rev a1)\n\tSubsystem: NVIDIA Corporation Device [10de:1800]\n\tKernel driver in use: vfio-pci\n"
        let intact = try Self.line(nnk, "01:00.0", "drivers")
        let lost = try Self.line(nnk.replacingOccurrences(of: "01:00.1 Audio device [0403]: NVIDIA Corporation Device [10de:22bc] (rev a1)\n", with: ""), "01:00.0", "drivers")
        #expect(lost != "PASS" || intact == "PASS", "drivers: intact \(intact ?? "-"), header lost \(lost ?? "-")")
        let msi = try PastedTextTests.stripHex(Fixtures.realdata("nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt"))
        let withGroups = try Self.line(msi, "01:00.0", "candidate")
        let without = try Self.line(msi.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("IOMMU group:") }.joined(separator: "\n"), "01:00.0", "candidate")
        #expect(without != "PASS" || withGroups == "PASS", "candidate: with group lines \(withGroups ?? "-"), without \(without ?? "-")")
    }

    @Test("a double-spaced paste reads as the original: the same groups and drivers")
    func doubleSpaced() throws {
        let msi = try PastedTextTests.stripHex(Fixtures.realdata("nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt"))
        let spaced = msi.split(separator: "\n", omittingEmptySubsequences: false).map { $0 + "\n" }.joined(separator: "\n")
        let a = try PastedTextTests.write(msi, "single")
        let b = try PastedTextTests.write(spaced, "double")
        defer { for p in [a, b] { try? FileManager.default.removeItem(atPath: p) } }
        let one = try Command.json(try Command.tool(["list", "--json", "--dump", a]).stdout)["functions"] as? [[String: Any]] ?? []
        let two = try Command.json(try Command.tool(["list", "--json", "--dump", b]).stdout)["functions"] as? [[String: Any]] ?? []
        #expect(one.count == two.count)
        for (x, y) in zip(one, two) {
            #expect(x["iommuGroup"] as? Int == y["iommuGroup"] as? Int && x["driver"] as? String == y["driver"] as? String, "\(x["address"] ?? "")")
        }
    }
}
