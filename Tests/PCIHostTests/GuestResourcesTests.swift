import Foundation
import PCIHost
import Testing
import TestSupport

/// Issue 21 (in part): the unit's 64-bit MMIO budget against the guest's window, a firmware framebuffer on a BAR,
/// functions of the same device in other groups, and binding that lasts (`plan --format persist`).
@Suite("What the guest and the host's firmware need")
struct GuestResourcesTests {
    static let nic = "sys/devices/pci0000:00/0000:00:03.0/0000:02:00.0"

    /// A copy of the real 6.12 iommufd snapshot (02:00.0 on vfio-pci, ready) to change.
    static func copy(_ name: String = "iommufd-cdev") throws -> String {
        let scratch = try Fixtures.temporaryDirectory("resources-\(name)")
        let source = Fixtures.vfio(name)
        #expect(try Command.run("/bin/cp", ["-a", source + "/.", scratch]).status == 0)
        _ = try Command.run("/bin/chmod", ["-R", "u+w", scratch])
        return scratch
    }

    static func write(_ text: String, _ path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// BAR 0 of the NIC becomes a 64-bit prefetchable BAR of `gib` GiB (IORESOURCE_MEM | PREFETCH | MEM_64).
    static func bigBAR(_ root: String, gib: UInt64, physicalBits: Int?) throws {
        let start: UInt64 = 0x80_0000_0000
        let end = start + (gib << 30) - 1
        let lines = try String(contentsOfFile: root + "/" + nic + "/resource", encoding: .utf8).split(separator: "\n")
        let bar0 = String(format: "0x%016llx 0x%016llx 0x%016llx", start, end, 0x0014_220c as UInt64)
        try write(([bar0] + lines.dropFirst().map(String.init)).joined(separator: "\n") + "\n", root + "/" + nic + "/resource")
        if let bits = physicalBits {
            try write("processor\t: 0\naddress sizes\t: \(bits) bits physical, 48 bits virtual\n\nprocessor\t: 1\naddress sizes\t: \(bits) bits physical, 48 bits virtual\n", root + "/proc/cpuinfo")
        }
    }

    static func check(_ root: String, _ selector: String = "02:00.0") throws -> [String: Any] {
        try Command.json(try Command.tool(["check", "--json", "--root", root, selector]).stdout)
    }

    static func codes(_ json: [String: Any], _ line: String) -> [String] {
        ((json["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == line }?["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }

    @Test("64-bit BARs beyond the 32 GiB default: a caution with the knobs, emitted by plan; beyond the host's width: blocked")
    func mmioBudget() throws {
        let fits = try Self.check(Fixtures.vfio("iommufd-cdev"))
        #expect(!Self.codes(fits, "mmio-window").contains("mmio-budget-large"))

        let root = try Self.copy()
        try Self.bigBAR(root, gib: 64, physicalBits: 46)
        let json = try Self.check(root)
        #expect(Self.codes(json, "mmio-window").contains("mmio-budget-large") && json["verdict"] as? String == "ready", "\(Self.codes(json, "mmio-window")) \(json["verdict"] ?? "?")")
        let qemu = try Command.tool(["plan", "--format", "qemu", "--root", root, "02:00.0"]).stdout
        #expect(qemu.contains("-global q35-pcihost.pci-hole64-size=128G") && qemu.contains("-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=131072") && qemu.contains("host-phys-bits=on"), "\(qemu)")
        let xml = try Command.tool(["plan", "--format", "libvirt", "--root", root, "02:00.0"]).stdout
        #expect(xml.contains("<pcihole64 unit='KiB'>134217728</pcihole64>"), "\(xml)")
        let valid = try GuestTopology.validateLibvirt(xml)
        #expect(valid.status == 0, "virt-xml-validate: \(valid.stdout) \(valid.stderr)")

        // A 128 GiB BAR (Hopper H100 NVL's BAR 1): a 256 GiB window.
        let huge = try Self.copy()
        try Self.bigBAR(huge, gib: 128, physicalBits: 46)
        let hugeQEMU = try Command.tool(["plan", "--format", "qemu", "--root", huge, "02:00.0"]).stdout
        #expect(hugeQEMU.contains("-global q35-pcihost.pci-hole64-size=256G") && hugeQEMU.contains("X-PciMmio64Mb,string=262144"), "\(hugeQEMU)")
        // A host whose 36-bit address space cannot hold 64 GiB of BARs in any guest window.
        let narrow = try Self.copy()
        try Self.bigBAR(narrow, gib: 64, physicalBits: 36)
        let blocked = try Self.check(narrow)
        #expect(Self.codes(blocked, "mmio-window").contains("mmio-budget") && blocked["verdict"] as? String == "blocked")
        // No cpuinfo: the knobs, and the width said unknown (never a pass on the window's size).
        let unknown = try Self.copy()
        try Self.bigBAR(unknown, gib: 64, physicalBits: nil)
        let u = try Self.check(unknown)
        let message = ((u["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "mmio-window" }?["findings"] as? [[String: Any]] ?? [])
            .first { $0["code"] as? String == "mmio-budget-large" }?["message"] as? String ?? ""
        #expect(message.contains("address width is unknown"), "\(message)")
    }

    /// The base of the damage cases: a 3D controller (0302) with efifb inside BAR 0 (needs preparation).
    static func framebufferBase() throws -> String {
        let root = try copy()
        try write("0x030200\n", root + "/" + nic + "/class")
        try? FileManager.default.removeItem(atPath: root + "/" + nic + "/modalias") // else modalias names the old class
        var config = try Data(contentsOf: URL(fileURLWithPath: root + "/" + nic + "/config"))
        config[0x09] = 0x00; config[0x0a] = 0x02; config[0x0b] = 0x03
        try config.write(to: URL(fileURLWithPath: root + "/" + nic + "/config"))
        try write("00000000-00000fff : Reserved\nfe200000-fe3fffff : PCI Bus 0000:02\n  fe240000-fe25ffff : 0000:02:00.0\n    fe240000-fe24ffff : efifb\n", root + "/proc/iomem")
        return root
    }

    static func rank(_ verdict: String?) -> Int {
        switch verdict { case "ready": 0; case "needs-preparation": 1; default: 2 }
    }

    static let damages: [(name: String, line: String, change: @Sendable (String) throws -> Void)] = [
        ("resource garbage", "host-use", { r in try write("garbage\n", r + "/" + nic + "/resource") }),
        ("resource first line deleted", "host-use", { r in
            let lines = try String(contentsOfFile: r + "/" + nic + "/resource", encoding: .utf8).split(separator: "\n")
            try write(lines.dropFirst().joined(separator: "\n") + "\n", r + "/" + nic + "/resource") }),
        ("resource BAR 0 reversed", "host-use", { r in
            var lines = try String(contentsOfFile: r + "/" + nic + "/resource", encoding: .utf8).split(separator: "\n").map(String.init)
            lines[0] = "0x00000000fe25ffff 0x00000000fe240000 0x0000000000040200"
            try write(lines.joined(separator: "\n") + "\n", r + "/" + nic + "/resource") }),
        ("resource missing", "host-use", { r in try FileManager.default.removeItem(atPath: r + "/" + nic + "/resource") }),
        ("iomem efifb zeroed", "host-use", { r in
            try write("00000000-00000fff : Reserved\nfe200000-fe3fffff : PCI Bus 0000:02\n  fe240000-fe25ffff : 0000:02:00.0\n    00000000-00000000 : efifb\n", r + "/proc/iomem") }),
        ("iomem efifb outside its parent", "host-use", { r in
            try write("00000000-00000fff : Reserved\nfe200000-fe3fffff : PCI Bus 0000:02\n  fe240000-fe25ffff : 0000:02:00.0\n    c0000000-c0ffffff : efifb\n", r + "/proc/iomem") }),
        ("iomem efifb name with an escape", "host-use", { r in
            try write("00000000-00000fff : Reserved\nfe200000-fe3fffff : PCI Bus 0000:02\n  fe240000-fe25ffff : 0000:02:00.0\n    fe240000-fe24ffff : \u{1b}[31mefifb\n", r + "/proc/iomem") }),
        ("iomem empty", "host-use", { r in try write("", r + "/proc/iomem") }),
    ]

    @Test("damaged BAR ranges, proc/iomem or address sizes never make the verdict better", arguments: damages.map(\.name))
    func damagedResources(_ name: String) throws {
        let d = try #require(Self.damages.first { $0.name == name })
        let base = try Self.check(try Self.framebufferBase())
        let root = try Self.framebufferBase()
        try d.change(root)
        let json = try Self.check(root)
        #expect(Self.rank(json["verdict"] as? String) >= Self.rank(base["verdict"] as? String), "\(name): \(base["verdict"] ?? "?") → \(json["verdict"] ?? "?")")
        let line = (json["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == d.line }
        #expect(line?["result"] as? String != "PASS", "\(name): \(d.line) passes")
    }

    @Test("a narrow host's FAIL stays no better when its address sizes line is damaged; overflowing BARs do not trap",
          arguments: ["address sizes\t: -36 bits physical, 48 bits virtual", "address sizes\t: 36 bits virtual, 48 bits physical", "address sizes\t:\t36 bits physical, 48 bits virtual"])
    func damagedWidth(_ line: String) throws {
        let root = try Self.copy()
        try Self.bigBAR(root, gib: 64, physicalBits: 36)
        try Self.write("processor\t: 0\n\(line)\n", root + "/proc/cpuinfo")
        let json = try Self.check(root)
        #expect(json["verdict"] as? String != "ready" && json["verdict"] as? String != "needs-preparation", "\(line): \(json["verdict"] ?? "?")")
        // Ranges whose sizes overflow a 64-bit sum.
        let lines = try String(contentsOfFile: root + "/" + Self.nic + "/resource", encoding: .utf8).split(separator: "\n").map(String.init)
        var huge = lines
        huge[0] = "0x8000000000000000 0xffffffffffffffff 0x000000000014220c"
        huge[2] = "0x0000000000000000 0x7fffffffffffffff 0x000000000014220c"
        try Self.write(huge.joined(separator: "\n") + "\n", root + "/" + Self.nic + "/resource")
        let r = try Command.tool(["check", "--json", "--root", root, "02:00.0"])
        #expect(r.status != 132 && !r.stderr.contains("Fatal") && !r.stderr.contains("overflow"), "\(r.status) \(r.stderr.prefix(300))")
    }

    @Test("a dump's Region line that disagrees with the hex (a 64-bit BAR said 32-bit) leaves the sizes unknown")
    func damagedRegion() throws {
        let source = Fixtures.directory.appendingPathComponent("realdata/nvidia-bug-report-lspci/asus-proart-x670e-creator-wifi_b.lspci-nnDvvvxxxx.txt").path
        let text = try String(contentsOfFile: source, encoding: .utf8)
        let damaged = text.replacingOccurrences(of: "Region 1: Memory at e000000000 (64-bit, prefetchable) [size=64G]", with: "Region 1: Memory at e000000000 (32-bit, prefetchable) [size=64G]")
        #expect(damaged != text)
        let dir = try Fixtures.temporaryDirectory("region")
        try damaged.write(toFile: dir + "/dump.txt", atomically: false, encoding: .utf8)
        let json = try Command.json(try Command.tool(["check", "--json", "--dump", dir + "/dump.txt", "01:00.0"]).stdout)
        let line = (json["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "mmio-window" }
        #expect(line?["result"] as? String == "UNKNOWN", "\(line ?? [:])")
    }

    @Test("persist never carries a name from the input into a command")
    func persistInjection() throws {
        let source = Fixtures.directory.appendingPathComponent("realdata/nvidia-bug-report-lspci/lambda-vector-asus-pro-ws-wrx80e-sage-se_b.lspci-nnDvvvxxx.txt").path
        let text = try String(contentsOfFile: source, encoding: .utf8)
        let dir = try Fixtures.temporaryDirectory("persist-injection")
        for (i, evil) in ["ixgbe$(touch PWNED)", "vfio-pci x;touch PWNED", "vfio-pci_garbage"].enumerated() {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var inBlock = false
            for j in lines.indices {
                if lines[j].hasPrefix("0000:25:00.0 ") { inBlock = true } else if !lines[j].hasPrefix("\t") && !lines[j].isEmpty && !lines[j].hasPrefix("0") { }
                else if lines[j].hasPrefix("0000:") { inBlock = false }
                if inBlock, lines[j].contains("Kernel driver in use:") { lines[j] = "\tKernel driver in use: " + evil; inBlock = false }
            }
            let file = dir + "/dump\(i).txt"
            try lines.joined(separator: "\n").write(toFile: file, atomically: false, encoding: .utf8)
            let script = try Command.tool(["plan", "--format", "persist", "--force", "--dump", file, "25:00.0"]).stdout
            let commands = script.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(!commands.contains { $0.contains("PWNED") || $0.contains("x;touch") || $0.contains("$(") }, "\(evil): \(commands)")
            let check = try Command.json(try Command.tool(["check", "--json", "--dump", file, "25:00.0"]).stdout)
            let drivers = (check["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "drivers" }
            #expect(drivers?["result"] as? String != "PASS", "\(evil): the drivers line passes")
        }
    }

    @Test("a real machine's dump: an Ada GPU with a 64 GiB Resizable BAR 1 (lspci's Region sizes) needs a 128 GiB window")
    func realLargeBAR() throws {
        // nvidia-bug-report lspci -nnDvvvxxxx of an ASUS ProArt X670E with two Ada GPUs (../shared/realdata/SOURCES.md).
        let dump = Fixtures.directory.appendingPathComponent("realdata/nvidia-bug-report-lspci/asus-proart-x670e-creator-wifi_b.lspci-nnDvvvxxxx.txt").path
        let r = try Command.tool(["check", "--json", "--dump", dump, "01:00.0"])
        let json = try Command.json(r.stdout)
        let finding = ((json["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "mmio-window" }?["findings"] as? [[String: Any]] ?? [])
            .first { $0["code"] as? String == "mmio-budget-large" }
        let evidence = finding?["evidence"] as? [String] ?? []
        #expect(evidence.contains("0000:01:00.0 BAR 1: 64 GiB 64-bit prefetchable"), "\(evidence)")
        #expect((finding?["fix"] as? String ?? "").contains("X-PciMmio64Mb,string=131072"), "\(finding ?? [:])")
        let qemu = try Command.tool(["plan", "--format", "qemu", "--force", "--dump", dump, "01:00.0"]).stdout
        #expect(qemu.contains("-global q35-pcihost.pci-hole64-size=128G"), "\(qemu)")
    }

    @Test("a firmware framebuffer on a BAR: a warning with the fix; proc/iomem hidden (non-root zeros) is unknown")
    func framebuffer() throws {
        let root = try Self.copy()
        // A 3D controller (0302: vfio-pci does not remove framebuffers over it) whose BAR 0 efifb still claims.
        try Self.write("0x030200\n", root + "/" + Self.nic + "/class")
        try? FileManager.default.removeItem(atPath: root + "/" + Self.nic + "/modalias") // else modalias names the old class
        var config = try Data(contentsOf: URL(fileURLWithPath: root + "/" + Self.nic + "/config"))
        config[0x09] = 0x00; config[0x0a] = 0x02; config[0x0b] = 0x03
        try config.write(to: URL(fileURLWithPath: root + "/" + Self.nic + "/config"))
        let iomem = "00000000-00000fff : Reserved\nfe200000-fe3fffff : PCI Bus 0000:02\n  fe240000-fe25ffff : 0000:02:00.0\n    fe240000-fe24ffff : efifb\n"
        try Self.write(iomem, root + "/proc/iomem")
        let json = try Self.check(root)
        #expect(Self.codes(json, "host-use").contains("firmware-framebuffer") && json["verdict"] as? String == "needs-preparation",
                "\(Self.codes(json, "host-use")) \(json["verdict"] ?? "?")")
        let zeros = "00000000-00000000 : Reserved\n00000000-00000000 : PCI Bus 0000:02\n  00000000-00000000 : efifb\n"
        try Self.write(zeros, root + "/proc/iomem")
        let hidden = try Self.check(root)
        #expect(Self.codes(hidden, "host-use").contains("firmware-framebuffer-unknown") && hidden["verdict"] as? String == "undetermined")
        // The framebuffer elsewhere: nothing to say.
        try Self.write("00000000-00000fff : Reserved\nc0000000-c0ffffff : PCI Bus 0000:00\n  c0000000-c03fffff : efifb\n", root + "/proc/iomem")
        let clear = try Self.check(root)
        #expect(!Self.codes(clear, "host-use").contains { $0.hasPrefix("firmware-framebuffer") } && clear["verdict"] as? String == "ready")
    }

    @Test("a real kernel's /proc/iomem (OVMF guest): efifb nested in BAR 0 of the display, as the parser reads it")
    func realIOMem() throws {
        let text = try String(contentsOfFile: Fixtures.directory.appendingPathComponent("vfio/iomem-ovmf-bochs-display.txt").path, encoding: .utf8)
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        let ranges = try #require(IOMemRange.parse(body))
        let fb = try #require(ranges.first { $0.isFirmwareFramebuffer })
        let bar = try #require(ranges.first { $0.name == "0000:00:01.0" && $0.start <= fb.start && fb.end <= $0.end })
        #expect(fb.name == "efifb" && fb.depth == bar.depth + 1 && !IOMemRange.addressesHidden(ranges))
        // What a reader without CAP_SYS_ADMIN sees of the same file: every range 0-0, which is unknown, not absent.
        let zeroed = body.split(separator: "\n").map { line -> String in
            let indent = line.prefix { $0 == " " }
            let name = line.split(separator: ":", maxSplits: 1).last ?? ""
            return indent + "00000000-00000000 :" + name
        }.joined(separator: "\n")
        #expect(IOMemRange.addressesHidden(try #require(IOMemRange.parse(zeroed))))
    }

    @Test("a real machine whose kernel split a dual-port card over two groups: each unit names the other port")
    func realSplitCard() throws {
        // Lambda Vector (ASUS Pro WS WRX80E-SAGE SE) lspci with the kernel's IOMMU group lines: the X550T's two ports
        // 25:00.0 and 25:00.1 in groups 49 and 50 (../shared/realdata/SOURCES.md).
        let dump = Fixtures.directory.appendingPathComponent("realdata/nvidia-bug-report-lspci/lambda-vector-asus-pro-ws-wrx80e-sage-se_b.lspci-nnDvvvxxx.txt").path
        let json = try Command.json(try Command.tool(["check", "--json", "--dump", dump, "25:00.0"]).stdout)
        let related = json["related"] as? [[String: Any]] ?? []
        #expect(related.contains { $0["address"] as? String == "0000:25:00.1" && $0["group"] as? Int == 50 }, "\(related)")
        #expect(Self.codes(json, "whole-group").contains("related-elsewhere"))
    }

    @Test("functions of the same slot in another group: a caution on check and report; plan --with-related takes them")
    func related() throws {
        let root = try Fixtures.scratchCopy(of: "multifunction")
        _ = try Command.run("/bin/chmod", ["-R", "u+w", root])
        // Split the four-function endpoint: functions 2 and 3 into a group of their own (as ACS between functions does).
        let fm = FileManager.default
        let group = root + "/sys/kernel/iommu_groups/9/devices"
        try fm.createDirectory(atPath: group, withIntermediateDirectories: true)
        for fn in ["0000:01:00.2", "0000:01:00.3"] {
            let dir = try #require(try? fm.destinationOfSymbolicLink(atPath: root + "/sys/bus/pci/devices/" + fn))
            let device = URL(fileURLWithPath: root + "/sys/bus/pci/devices/" + dir).standardizedFileURL.path
            try fm.removeItem(atPath: root + "/sys/kernel/iommu_groups/4/devices/" + fn)
            try fm.createSymbolicLink(atPath: group + "/" + fn, withDestinationPath: "../../../../" + String(device.dropFirst(root.count + 5)))
            try fm.removeItem(atPath: device + "/iommu_group")
            let up = String(repeating: "../", count: device.dropFirst(root.count + 1).split(separator: "/").count - 1)
            try fm.createSymbolicLink(atPath: device + "/iommu_group", withDestinationPath: up + "kernel/iommu_groups/9")
        }
        let json = try Self.check(root, "01:00.0")
        #expect(Self.codes(json, "whole-group").contains("related-elsewhere"), "\(Self.codes(json, "whole-group"))")
        let related = (json["related"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
        #expect(related == ["0000:01:00.2", "0000:01:00.3"] && (json["related"] as? [[String: Any]])?.first?["group"] as? Int == 9, "\(json["related"] ?? "")")
        let report = try Command.json(try Command.tool(["report", "--json", "--root", root]).stdout)
        let unit = (report["groups"] as? [[String: Any]] ?? []).first { $0["id"] as? Int == 4 }
        #expect((unit?["related"] as? [[String: Any]])?.count == 2)
        let plan = try Command.tool(["plan", "--format", "qemu", "--with-related", "--root", root, "01:00.0"]).stdout
        #expect(plan.contains("host=0000:01:00.2") && plan.contains("host=0000:01:00.3"), "\(plan)")
        let without = try Command.tool(["plan", "--format", "qemu", "--root", root, "01:00.0"]).stdout
        #expect(!without.contains("host=0000:01:00.2"))
    }

    @Test("persist: by address with driverctl or udev, softdeps, and every ids= binding that would take a host device")
    func persist() throws {
        let root = try Fixtures.scratchCopy(of: "sriov")
        _ = try Command.run("/bin/chmod", ["-R", "u+w", root])
        // Without modprobe.d in the input, whether an ids= binding captures more is unknown, and said.
        let unknown = try Command.tool(["plan", "--format", "persist", "--root", root, "01:00.1"]).stdout
        #expect(unknown.contains("ids= binding") && unknown.contains("is unknown"), "\(unknown)")
        // vfio-pci ids=1b36:0010 in modprobe.d: the PF 01:00.0 and the NVMe 02:00.0 (both on nvme) go too.
        try Self.write("# passthrough\noptions vfio-pci ids=1b36:0010 disable_vga=1\n", root + "/etc/modprobe.d/vfio.conf")
        let plan = try Command.tool(["plan", "--format", "persist", "--root", root, "01:00.1"])
        #expect(plan.stdout.contains("driverctl set-override 0000:01:00.1 vfio-pci") && plan.stdout.contains("ATTR{driver_override}=\"vfio-pci\""), "\(plan.stdout)")
        #expect(plan.stdout.contains("vfio-pci ids=1b36:0010 (etc/modprobe.d/vfio.conf) also matches 0000:02:00.0"), "\(plan.stdout)")
        #expect(try Command.run("/bin/sh", ["-n", "-c", plan.stdout]).status == 0, "the script does not parse")
        let json = try Command.json(try Command.tool(["plan", "--json", "--root", root, "01:00.1"]).stdout)
        #expect("\(json)".contains("plan-ids-capture"))
        // A malformed entry is not "no binding".
        try Self.write("options vfio-pci ids=1b36:zz10\n", root + "/etc/modprobe.d/vfio.conf")
        let damaged = try Command.tool(["plan", "--format", "persist", "--root", root, "01:00.1"]).stdout
        #expect(damaged.contains("is unknown") && !damaged.contains("No vfio-pci ids= binding"), "\(damaged)")
        // The kernel command line form.
        try FileManager.default.removeItem(atPath: root + "/etc/modprobe.d/vfio.conf")
        let cmdline = try String(contentsOfFile: root + "/proc/cmdline", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.write(cmdline + " vfio-pci.ids=1b36:0010:1af4:1100\n", root + "/proc/cmdline")
        let fromCmdline = try Command.tool(["plan", "--format", "persist", "--root", root, "01:00.1"]).stdout
        #expect(fromCmdline.contains("(proc/cmdline) also matches 0000:02:00.0"), "\(fromCmdline)")
        // The initramfs's own configuration (initramfs-tools' modules file, dracut's kernel_cmdline).
        try Self.write(cmdline + "\n", root + "/proc/cmdline")
        try Self.write("vfio\nvfio-pci ids=1b36:0010\n", root + "/etc/initramfs-tools/modules")
        let fromInitramfs = try Command.tool(["plan", "--format", "persist", "--root", root, "01:00.1"]).stdout
        #expect(fromInitramfs.contains("(etc/initramfs-tools/modules) also matches 0000:02:00.0"), "\(fromInitramfs)")
        try FileManager.default.removeItem(atPath: root + "/etc/initramfs-tools/modules")
        try Self.write("force_drivers+=\" vfio-pci \"\nkernel_cmdline=\"vfio-pci.ids=1b36:0010\"\n", root + "/etc/dracut.conf.d/vfio.conf")
        let fromDracut = try Command.tool(["plan", "--format", "persist", "--root", root, "01:00.1"]).stdout
        #expect(fromDracut.contains("(etc/dracut.conf.d/vfio.conf) also matches 0000:02:00.0"), "\(fromDracut)")
    }
}
