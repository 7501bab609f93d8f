import Foundation
import PCIHost
import Testing
import TestSupport

/// Dumps are first-class input: what people paste (indented, CRLF, no final newline, from a pipe) is read as
/// `lspci -F` reads it, with the machine's own `IOMMU group:` and `Kernel driver in use:` lines.
@Suite("Pasted dumps")
struct DumpInputTests {
    static let header = "00:00.0 Host bridge: Intel Corporation Device\n"
    static let row = "00: 86 80 00 00 00 00 00 00 00 00 00 06 00 00 00 00"

    static func run(_ text: String, _ args: [String] = ["list", "--json"]) throws -> CommandResult {
        try Command.run(Command.toolPath, args + ["--dump", "-"], input: text)
    }

    @Test("a 16-byte dump without a final newline is accepted, as lspci -F accepts it, with its names")
    func sixteenBytesNoNewline() throws {
        let r = try Self.run(Self.header + Self.row)
        #expect(r.status == 0, "\(r.stderr)")
        let f = try #require((try Command.json(r.stdout)["functions"] as? [[String: Any]])?.first)
        #expect(f["vendorID"] as? String == "8086" && f["classCode"] as? String == "060000")
        #expect(f["vendorName"] as? String == "Intel Corporation")
        // 16 bytes hold the header-type byte but not the whole header: the multifunction bit is not claimed either way.
        #expect(f["multifunction"] is NSNull)
        // lspci agrees that there is one function.
        let path = NSTemporaryDirectory() + "dump16-\(UUID().uuidString)"
        try (Self.header + Self.row + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Command.run(Command.which("lspci") ?? "/usr/bin/lspci", ["-F", path]).stdout.hasPrefix("00:00.0 Host bridge"))
    }

    @Test("indented, CRLF and domain-prefixed pastes read the same bytes")
    func pastedForms() throws {
        let plain = try Self.run(Self.header + Self.row + "\n")
        let pasted = try Self.run("    0000:" + Self.header.replacingOccurrences(of: "\n", with: "\r\n") + "    " + Self.row + "\r\n")
        #expect(plain.status == 0 && pasted.status == 0)
        let a = try Command.json(plain.stdout)["functions"] as? [[String: Any]]
        let b = try Command.json(pasted.stdout)["functions"] as? [[String: Any]]
        #expect(a?.first?["vendorID"] as? String == b?.first?["vendorID"] as? String)
        #expect(a?.first?["classCode"] as? String == b?.first?["classCode"] as? String)
    }

    @Test("a damaged hex line is refused with its line number")
    func lineNumbers() throws {
        let r = try Self.run("\n" + Self.header + "00: 86 80 zz 00\n")
        #expect(r.status == 3)
        #expect(r.stderr.contains(":3:") && r.stderr.contains("zz"), "\(r.stderr)")
    }

    @Test("a FIFO nobody writes to, given as --dump (or --pci-ids), is never waited on")
    func fifoDoesNotHang() throws {
        let path = NSTemporaryDirectory() + "dump-fifo-\(UUID().uuidString)"
        #expect(mkfifo(path, 0o644) == 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let start = Date()
        let r = try Command.tool(["list", "--dump", path])
        #expect(Date().timeIntervalSince(start) < 10)
        // No writer: end of file at once, an empty input.
        #expect(r.status == 3 && r.stderr.contains("holds no PCI listing"), "\(r.stderr)")
        let ids = try Command.tool(["list", "--root", Fixtures.sysfs("sriov"), "--pci-ids", path])
        #expect(Date().timeIntervalSince(start) < 20)
        #expect(ids.status == 0 && ids.stderr.contains("not a regular file"), "\(ids.stderr)")
    }

    @Test("--dump reads /dev/stdin and process substitution; a directory gets a clear message")
    func pipesAndDirectories() throws {
        let text = Self.header + Self.row + "\n"
        let stdin = try Command.run(Command.toolPath, ["list", "--dump", "/dev/stdin"], input: text)
        #expect(stdin.status == 0 && stdin.stdout.contains("0000:00:00.0"), "\(stdin.stderr)")
        let bash = try #require(Command.which("bash"))
        let substituted = try Command.run(bash, ["-c", "\"$0\" list --dump <(printf '%s' \"$1\")", Command.toolPath, text])
        #expect(substituted.status == 0 && substituted.stdout.contains("0000:00:00.0"), "\(substituted.stderr)")
        let dir = try Command.tool(["list", "--dump", NSTemporaryDirectory()])
        #expect(dir.status == 3 && dir.stderr.contains("is a directory") && dir.stderr.contains("--root"), "\(dir.stderr)")
    }

    @Test("a byte-order mark and e-mail quoting do not hide functions; each is noted")
    func bomAndQuoting() throws {
        let bom = try Self.run("\u{FEFF}" + Self.header + Self.row + "\n", ["list"])
        #expect(bom.status == 0 && bom.stdout.contains("0000:00:00.0"), "\(bom.stderr)")
        #expect(bom.stderr.contains("byte-order mark"))
        let quoted = try Self.run("> " + Self.header + ">> " + Self.row + "\n> \n", ["list"])
        #expect(quoted.status == 0 && quoted.stdout.contains("0000:00:00.0"), "\(quoted.stderr)")
        #expect(quoted.stderr.contains("quoted for e-mail"))
    }

    @Test("the -v form `Flags: …, IOMMU group N` is the kernel's group (cases/lspci-v-flags-group)")
    func flagsGroup() throws {
        let path = Fixtures.cases("lspci-v-flags-group")
        let r = try Command.tool(["list", "--json", "--dump", path])
        let f = try #require((try Command.json(r.stdout)["functions"] as? [[String: Any]])?.first)
        #expect(f["iommuGroup"] as? Int == 10)
        #expect(try Command.tool(["list", "--dump", path]).stdout.contains("group=10"))
    }

    @Test("two different IOMMU group lines for one function are a contradiction: its group is unknown")
    func conflictingGroups() throws {
        let block = Self.header + Self.row + "\n"
        let r = try Self.run(block + "\tIOMMU group: 3\n\n" + block + "\tIOMMU group: 4\n", ["list"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("group=?"), "\(r.stdout)")
        let json = try Command.json(try Self.run(block + "\tIOMMU group: 3\n\n" + block + "\tIOMMU group: 4\n", ["list", "--json"]).stdout)
        let f = try #require((json["functions"] as? [[String: Any]])?.first)
        #expect((f["diagnostics"] as? [[String: Any]])?.contains { ($0["message"] as? String)?.contains("disagree") == true } == true)
    }

    @Test("a dump's IOMMU group and driver lines are the kernel's groups and drivers; check expands to them")
    func groupAndDriverLines() throws {
        let path = Fixtures.realdata("nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt")
        let json = try Command.json(try Command.tool(["groups", "--dump", path, "--json"]).stdout)
        #expect(json["iommuEnabled"] as? Bool == true)
        // The groups are the dump's own lines, regrouped.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let distinct = Set(text.split(separator: "\n").filter { $0.contains("IOMMU group:") }.map { $0.trimmingCharacters(in: .whitespaces) })
        #expect((json["groups"] as? [[String: Any]])?.count == distinct.count)
        // On this machine every group is predicted exactly from config space.
        #expect(json["groupPredictionMatches"] as? Bool == true)
        let list = try Command.json(try Command.tool(["list", "--dump", path, "--json"]).stdout)
        let functions = (list["functions"] as? [[String: Any]]) ?? []
        let drivers = Set(text.split(separator: "\n").filter { $0.contains("Kernel driver in use:") }.map { $0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "" })
        #expect(Set(functions.compactMap { $0["driver"] as? String }) == drivers)
        // The dump was made with -k, so a function without a driver line has no driver (not unknown).
        #expect(functions.allSatisfy { ($0["unknown"] as? [String: Any])?["driver"] == nil })
        // check expands to the kernel group from the dump, and says the host facts a dump cannot hold are unknown.
        let groups = (json["groups"] as? [[String: Any]]) ?? []
        let shared = try #require(groups.first { ($0["members"] as? [String])?.count ?? 0 > 1 })
        let members = try #require(shared["members"] as? [String])
        let check = try Command.json(try Command.tool(["check", "--dump", path, String(members[0].dropFirst(5)), "--json"]).stdout)
        #expect(check["unit"] as? [String] == members)
        let lines = (check["checks"] as? [[String: Any]]) ?? []
        let iommu = try #require(lines.first { $0["id"] as? String == "iommu" })
        #expect(iommu["result"] as? String == "PASS")
        let hostUse = try #require(lines.first { $0["id"] as? String == "host-use" })
        #expect(hostUse["result"] as? String == "UNKNOWN")
        #expect(check["verdict"] as? String != "ready")
    }

    @Test("realdata dumps with the machine's group lines: predicted groups equal the kernel's, or the difference is flagged",
          arguments: ["nvidia-bug-report-lspci/msi-b550m-pro-vdh-wifi.lspci-nnDvvvxxxx.txt",
                      "nvidia-bug-report-lspci/hp-omen-obelisk-875-0xxx.lspci-nnDvvvxxxx.txt",
                      "nvidia-bug-report-lspci/asus-tuf-fx505dt-laptop.lspci-nnDvvvxxx.txt",
                      "nvidia-bug-report-lspci/lambda-vector-asus-pro-ws-wrx80e-sage-se_b.lspci-nnDvvvxxx.txt",
                      "coreboot-autoport-logs/ecs-h310ch5.lspci-nnvvvxxxx.txt"])
    func realGroups(_ file: String) throws {
        let r = try Command.tool(["report", "--dump", Fixtures.realdata(file), "--json"])
        let json = try Command.json(r.stdout)
        let units = (json["groups"] as? [[String: Any]]) ?? []
        #expect(!units.isEmpty)
        // Every unit that the prediction does not make exactly says why not (a mismatch finding, or an uncertain prediction).
        let host = (json["host"] as? [String: Any])?["findings"] as? [[String: Any]] ?? []
        let mismatch = host.contains { $0["code"] as? String == "group-prediction-mismatch" }
        let matches = json["groupPredictionMatches"]
        if units.contains(where: { $0["predicted"] as? Bool == false && ($0["members"] as? [String])?.count ?? 0 > 1 }) {
            #expect(mismatch || matches is NSNull, "\(file)")
        }
        // Measured: every kernel group of these five machines equals a certain prediction, or lies between the
        // best and worst outcome of the facts the dump lacks (256-byte dumps hide ACS); none is unexplained.
        #expect(!mismatch, "\(file): \(host.first { $0["code"] as? String == "group-prediction-mismatch" }?["evidence"] ?? "")")
        // The text never says config space "predicts otherwise" for a group it merely cannot decide.
        let text = try Command.tool(["report", "--dump", Fixtures.realdata(file)]).stdout
        if matches is NSNull && !mismatch { #expect(!text.contains("predicts otherwise"), "\(file)") }
        // Nothing from a dump is ready: the host facts it cannot hold are unknown.
        #expect(!units.contains { $0["verdict"] as? String == "ready" })
    }

    @Test("a non-root run on the live host: capabilities unreadable, so interrupts and reset are UNKNOWN, never PASS or 'none'")
    func nonRootLive() throws {
        guard getuid() == 0, FileManager.default.fileExists(atPath: "/sys/bus/pci/devices"),
              let setpriv = Command.which("setpriv") else { return }
        let devices = try FileManager.default.contentsOfDirectory(atPath: "/sys/bus/pci/devices").sorted()
        // A function with a capability list (status bit 4), whose config space a non-root reader sees only 64 bytes of.
        guard let target = devices.first(where: { name in
            guard let bytes = FileManager.default.contents(atPath: "/sys/bus/pci/devices/\(name)/config"), bytes.count > 64 else { return false }
            return bytes[6] & 0x10 != 0 && bytes[0x0e] & 0x7f == 0
        }) else { return }
        let r = try Command.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", Command.toolPath, "check", target, "--json"])
        #expect(r.status != 0 && r.status != 134, "\(r.stderr)")
        let json = try Command.json(r.stdout)
        let lines = (json["checks"] as? [[String: Any]]) ?? []
        for id in ["interrupts"] {
            let line = lines.first { $0["id"] as? String == id }
            #expect(line?["result"] as? String == "UNKNOWN", "\(id) on \(target)")
        }
        let show = try Command.run(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", Command.toolPath, "show", target])
        #expect(!show.stdout.contains("Interrupts:   none"))
        #expect(show.stdout.contains("MSI and MSI-X unknown"))
    }
}
