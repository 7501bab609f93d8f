import Foundation
import PCIHost
import Testing
import TestSupport
import VFIOAnalysis

/// Issue 20: backends (container, iommufd and the device cdev), VFIO ownership whatever the driver, variant drivers
/// from the module table, migration, and NVIDIA vGPU types, on a real 6.12 snapshot with iommufd
/// (`Tests/Fixtures/vfio/iommufd-cdev.tar.gz`) and the layouts derived from it (`Tests/Fixtures/vfio/README.md`).
@Suite("VFIO backends, variant drivers, migration and vGPU types")
struct VFIOBackendTests {
    static func root(_ name: String) -> String {
        name.hasPrefix("../sysfs/") ? Fixtures.sysfs(String(name.dropFirst("../sysfs/".count))) : Fixtures.vfio(name)
    }

    static func check(_ name: String, _ selectors: [String]) throws -> (status: Int32, json: [String: Any]) {
        let r = try Command.tool(["check", "--json", "--root", root(name)] + selectors)
        return (r.status, try Command.json(r.stdout))
    }

    static func line(_ check: [String: Any], _ id: String) -> [String: Any]? {
        (check["checks"] as? [[String: Any]] ?? []).first { $0["id"] as? String == id }
    }

    static func codes(_ line: [String: Any]?) -> [String] {
        (line?["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
    }

    static func copy(_ name: String) throws -> String {
        let scratch = try Fixtures.temporaryDirectory("vfio-\(name)")
        let r = try Command.run("/bin/cp", ["-a", root(name) + "/.", scratch])
        try #require(r.status == 0, "cp: \(r.stderr)")
        _ = try Command.run("/bin/chmod", ["-R", "u+w", scratch])
        return scratch
    }

    @Test("the real iommufd kernel: both backends, with the kernel's own entries as evidence")
    func iommufdSnapshot() throws {
        let (status, json) = try Self.check("iommufd-cdev", ["02:00.0"])
        #expect(status == 0 && json["verdict"] as? String == "ready")
        let backend = try #require(Self.line(json, "backend"))
        #expect(backend["result"] as? String == "PASS")
        let message = (backend["findings"] as? [[String: Any]])?.first?["message"] as? String ?? ""
        #expect(message.contains("legacy container") && message.contains("iommufd ("), "\(message)")
        let basis = backend["restsOn"] as? [String] ?? []
        #expect(basis.contains { $0.contains("sys/class/misc/iommu") } && basis.contains { $0.contains("vfio-dev/vfio0/dev") }, "\(basis)")
        // report --json: the host's backends and the function's cdev.
        let report = try Command.json(try Command.tool(["report", "--json", "--root", Self.root("iommufd-cdev")]).stdout)
        let backends = try #require((report["host"] as? [String: Any])?["vfioBackends"] as? [String: Any])
        for key in ["containerNode", "type1", "iommufdNode", "deviceCdev"] {
            #expect((backends[key] as? [String: Any])?["value"] as? Bool == true, "\(key): \(backends[key] ?? "missing")")
        }
        let nic = try #require((report["functions"] as? [[String: Any]])?.first { $0["address"] as? String == "0000:02:00.0" })
        let vfio = try #require(nic["vfio"] as? [String: Any])
        #expect(vfio["device"] as? String == "vfio0" && vfio["cdev"] as? String == "/dev/vfio/devices/vfio0")
        // What VFIO itself answered in that guest: the cdev bound to iommufd and attached.
        let probe = try String(contentsOfFile: Self.root("iommufd-cdev") + "/probe-group5.txt", encoding: .utf8)
        #expect(probe.contains("\"cdev\":[{\"address\":\"0000:02:00.0\",\"device\":\"vfio0\",\"attached\":true"), "\(probe)")
    }

    @Test("a 6.1 snapshot: the container from vfio_iommu_type1 in proc/modules; iommufd unknown, never absent")
    func kernel61() throws {
        let (_, json) = try Self.check("../sysfs/vfio-bound", ["01:00.0"])
        let backend = try #require(Self.line(json, "backend"))
        #expect(backend["result"] as? String == "PASS")
        let message = (backend["findings"] as? [[String: Any]])?.first?["message"] as? String ?? ""
        #expect(message.contains("legacy container") && message.contains("Whether iommufd can: "), "\(message)")
    }

    @Test("without /dev/iommu or without cdevs, iommufd is refused by plan; unknown is a warning, never a pass")
    func planBackends() throws {
        let qemu = try Command.tool(["plan", "--format", "qemu", "--backend", "iommufd", "--root", Self.root("iommufd-cdev"), "02:00.0"])
        #expect(qemu.status == 0, "\(qemu.stderr)")
        #expect(qemu.stdout.contains("-object iommufd,id=iommufd0") && qemu.stdout.contains("host=0000:02:00.0") && qemu.stdout.contains(",iommufd=iommufd0"), "\(qemu.stdout)")
        let xml = try Command.tool(["plan", "--format", "libvirt", "--backend", "iommufd", "--root", Self.root("iommufd-cdev"), "02:00.0"])
        #expect(xml.stdout.contains("<driver iommufd='yes'/>") && xml.stdout.contains("libvirt 12.1+"), "\(xml.stdout)")
        let legacy = try Command.tool(["plan", "--format", "qemu", "--root", Self.root("iommufd-cdev"), "02:00.0"])
        #expect(!legacy.stdout.contains("iommufd=") && legacy.stdout.contains("Backend: the legacy container"))
        // The kernel registered no /dev/iommu: refused.
        let scratch = try Self.copy("iommufd-cdev")
        try FileManager.default.removeItem(atPath: scratch + "/sys/class/misc/iommu")
        let refused = try Command.tool(["plan", "--format", "qemu", "--backend", "iommufd", "--root", scratch, "02:00.0"])
        #expect(refused.status != 0 && refused.stderr.contains("plan-backend-unavailable"), "\(refused.status) \(refused.stderr)")
        // A 6.1 snapshot that does not show misc devices: planned with a warning.
        let unknown = try Command.tool(["plan", "--format", "qemu", "--backend", "iommufd", "--root", Fixtures.sysfs("vfio-bound"), "01:00.0"])
        #expect(unknown.stdout.contains("UNKNOWN plan-backend-unverified") && unknown.status == 4, "\(unknown.status) \(unknown.stdout)")
        // The plan's JSON names the backend and validates.
        let json = try Command.json(try Command.tool(["plan", "--json", "--backend", "iommufd", "--root", Self.root("iommufd-cdev"), "02:00.0"]).stdout)
        #expect(json["backend"] as? String == "iommufd")
    }

    @Test("cdev evidence that contradicts itself is unknown; a damaged vfio-dev never makes the unit better")
    func damagedCdev() throws {
        let scratch = try Self.copy("mlx5-variant-bound")
        // One VFIO device with a cdev, the other without: the kernel cannot have made both.
        try FileManager.default.removeItem(atPath: scratch + "/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0/vfio-dev/vfio2/dev")
        let report = try Command.json(try Command.tool(["report", "--json", "--root", scratch]).stdout)
        let cdev = ((report["host"] as? [String: Any])?["vfioBackends"] as? [String: Any])?["deviceCdev"] as? [String: Any]
        #expect(cdev?["value"] is NSNull && cdev?["unknown"] is [String: Any], "\(cdev ?? [:])")
        // vfio-dev as a file: ownership is read from the driver alone (vfio-pci still owns it), with a diagnostic.
        let nic = scratch + "/sys/devices/pci0000:00/0000:00:03.0/0000:02:00.0/vfio-dev"
        try FileManager.default.removeItem(atPath: nic)
        try "x\n".write(toFile: nic, atomically: false, encoding: .utf8)
        let r = try Command.tool(["check", "--json", "--root", scratch, "02:00.0"])
        let json = try Command.json(r.stdout)
        #expect(json["verdict"] as? String != "ready" || Self.line(json, "drivers")?["result"] as? String == "PASS")
        let listed = try Command.tool(["report", "--json", "--root", scratch]).stdout
        #expect(listed.contains("vfio-dev is not a directory"), "no diagnostic for the damaged vfio-dev")
    }

    /// Damage found by review: each must leave the verdict no better and the named line not PASS.
    static let damages: [(name: String, fixture: String, selector: String, line: String, change: @Sendable (String) throws -> Void)] = [
        ("nvidia/ removed", "nvidia-vgpu-unset", "02:00.0", "vgpu", { r in try FileManager.default.removeItem(atPath: r + "/" + nic + "/nvidia") }),
        ("nvidia/ a file", "nvidia-vgpu-unset", "02:00.0", "vgpu", { r in try replace(r + "/" + nic + "/nvidia", "x\n") }),
        ("vfio-dev of the NVIDIA VF a file", "nvidia-vgpu-set", "02:00.0", "drivers", { r in try replace(r + "/" + nic + "/vfio-dev", "x\n") }),
        ("vfio-dev of the NVIDIA VF empty", "nvidia-vgpu-set", "02:00.0", "drivers", { r in
            try FileManager.default.removeItem(atPath: r + "/" + nic + "/vfio-dev/vfio0") }),
        ("cdev dev garbage on a vendor-owned VF", "nvidia-vgpu-set", "02:00.0", "drivers", { r in try replace(r + "/" + nic + "/vfio-dev/vfio0/dev", "banana\n") }),
        // The container still rests on vfio_iommu_type1 (sys/module): only the iommufd claim must go.
        ("class/misc/iommu dangling", "mlx5-variant-bound", "01:00.0", "backend-no-iommufd", { r in
            try FileManager.default.removeItem(atPath: r + "/sys/class/misc/iommu")
            try FileManager.default.createSymbolicLink(atPath: r + "/sys/class/misc/iommu", withDestinationPath: "../../devices/virtual/misc/nothing") }),
        ("vfio-dev on a host driver", "mlx5-variant-unbound", "01:00.0", "drivers", { r in
            try FileManager.default.createDirectory(atPath: r + "/" + nvme + "/vfio-dev/vfio7", withIntermediateDirectories: true) }),
        ("debugfs device entry a file", "mlx5-variant-bound", "01:00.0", "migration", { r in
            try FileManager.default.removeItem(atPath: r + "/sys/kernel/debug/vfio/0000:01:00.0")
            try "x\n".write(toFile: r + "/sys/kernel/debug/vfio/0000:01:00.0", atomically: false, encoding: .utf8) }),
        ("debugfs features a directory", "mlx5-variant-bound", "01:00.0", "migration", { r in
            let f = r + "/sys/kernel/debug/vfio/0000:01:00.0/migration/features"
            try FileManager.default.removeItem(atPath: f)
            try FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true) }),
        ("debugfs features garbage", "mlx5-variant-bound", "01:00.0", "migration", { r in
            try replace(r + "/sys/kernel/debug/vfio/0000:01:00.0/migration/features", "yes please\n") }),
        ("class/misc without vfio, type1 loaded", "iommufd-cdev", "02:00.0", "backend", { r in try FileManager.default.removeItem(atPath: r + "/sys/class/misc/vfio") }),
        ("modules.alias with a malformed line", "mlx5-variant-unbound", "01:00.0", "migration", { r in
            let p = r + "/lib/modules/6.12.118/modules.alias"
            try replace(p, (try String(contentsOfFile: p, encoding: .utf8)).replacingOccurrences(of: " mlx5_vfio_pci", with: "\tmlx5_vfio_pci extra")) }),
        ("modules.alias naming a shell command", "mlx5-variant-unbound", "01:00.0", "migration", { r in
            let p = r + "/lib/modules/6.12.118/modules.alias"
            try replace(p, (try String(contentsOfFile: p, encoding: .utf8)).replacingOccurrences(of: " mlx5_vfio_pci", with: " mlx5$(reboot)")) }),
    ]

    static let nvme = "sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0"
    static let nic = "sys/devices/pci0000:00/0000:00:03.0/0000:02:00.0"

    static func replace(_ path: String, _ text: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    static func rank(_ verdict: String?) -> Int {
        switch verdict { case "ready": 0; case "needs-preparation": 1; default: 2 }
    }

    @Test("damaged VFIO evidence is unknown: never a better verdict, never a PASS, never rebind advice", arguments: damages.map(\.name))
    func damagedVFIOEvidence(_ name: String) throws {
        let d = try #require(Self.damages.first { $0.name == name })
        let (_, base) = try Self.check(d.fixture, [d.selector])
        let scratch = try Self.copy(d.fixture)
        try d.change(scratch)
        let r = try Command.tool(["check", "--json", "--root", scratch, d.selector])
        let json = try Command.json(r.stdout)
        #expect(Self.rank(json["verdict"] as? String) >= Self.rank(base["verdict"] as? String), "\(name): \(base["verdict"] ?? "?") → \(json["verdict"] ?? "?")")
        if d.line == "backend-no-iommufd" {
            let message = ((Self.line(json, "backend")?["findings"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
            #expect(!message.contains("iommufd ("), "\(name): iommufd still claimed: \(message)")
        } else {
            #expect(Self.line(json, d.line)?["result"] as? String != "PASS", "\(name): the \(d.line) line passes: \(Self.line(json, d.line) ?? [:])")
        }
        let script = try Command.tool(["check", "--fix-script", "--root", scratch, d.selector]).stdout
        if d.fixture.hasPrefix("nvidia") { #expect(!script.contains("driver_override"), "\(name): rebind advice for a vendor-owned VF: \(script)") }
        #expect(!script.contains("$(reboot)") && !r.stdout.contains("$(reboot)"), "\(name): a module name from the input reached the advice")
    }

    @Test("a kernel configuration that is not one is unknown, never 'no iommufd'")
    func damagedKernelConfig() throws {
        let scratch = try Self.copy("iommufd-cdev")
        let release = try String(contentsOfFile: scratch + "/proc/sys/kernel/osrelease", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.removeItem(atPath: scratch + "/sys/class/misc")
        for text in ["# CONFIG_IOMMUFD is not set\n", "CONFIG_VFIO=banana\n" + String(repeating: "CONFIG_X=y\n", count: 60)] {
            try FileManager.default.createDirectory(atPath: scratch + "/boot", withIntermediateDirectories: true)
            try Self.replace(scratch + "/boot/config-" + release, text)
            let report = try Command.json(try Command.tool(["report", "--json", "--root", scratch]).stdout)
            let b = (report["host"] as? [String: Any])?["vfioBackends"] as? [String: Any]
            #expect(b?["kernelConfig"] is NSNull, "\(text.prefix(30)): \(b?["kernelConfig"] ?? "")")
            let plan = try Command.tool(["plan", "--format", "qemu", "--backend", "iommufd", "--root", scratch, "02:00.0"])
            #expect(plan.status != 2 || !plan.stderr.contains("makes no VFIO device cdevs"), "\(plan.stderr)")
        }
    }

    @Test("a VF owned by NVIDIA's vendor driver: never rebound; needs a vGPU type, then ready")
    func nvidiaVGPU() throws {
        let (status, unset) = try Self.check("nvidia-vgpu-unset", ["02:00.0"])
        #expect(status == 1 && unset["verdict"] as? String == "needs-preparation")
        #expect(Self.codes(Self.line(unset, "drivers")) == ["vfio-bound"])
        let vgpu = try #require(Self.line(unset, "vgpu"))
        #expect(vgpu["result"] as? String == "WARN" && Self.codes(vgpu) == ["vgpu-type-unset"])
        let fix = ((vgpu["findings"] as? [[String: Any]])?.first?["fix"] as? String) ?? ""
        #expect(fix.contains("/sys/bus/pci/devices/0000:02:00.0/nvidia/current_vgpu_type") && fix.contains("1147 NVIDIA L40S-1Q"), "\(fix)")
        // The fix script: the type by hand, and no rebinding of a device NVIDIA's driver owns.
        let script = try Command.tool(["check", "--fix-script", "--root", Self.root("nvidia-vgpu-unset"), "02:00.0"]).stdout
        #expect(script.contains("# by hand first (vgpu-type-unset)") && !script.contains("driver_override"), "\(script)")
        let plan = try Command.tool(["plan", "--format", "libvirt", "--root", Self.root("nvidia-vgpu-unset"), "02:00.0"]).stdout
        #expect(plan.contains("managed='no'"), "\(plan)")

        let (setStatus, set) = try Self.check("nvidia-vgpu-set", ["02:00.0"])
        #expect(setStatus == 0 && set["verdict"] as? String == "ready", "\(set["verdict"] ?? "?")")
        #expect(Self.line(set, "vgpu")?["result"] as? String == "PASS")
        let list = try Command.tool(["list", "--root", Self.root("nvidia-vgpu-set")]).stdout
        #expect(list.contains("vGPU type 1147") && list.contains("VFIO device vfio0 of nvidia"), "\(list)")
        // Fleet exports carry the type: an NFD label and a DRA attribute.
        let nfd = try Command.tool(["export", "--format", "nfd", "--root", Self.root("nvidia-vgpu-set")]).stdout
        #expect(nfd.contains("vgpu-type-1147=1") && nfd.contains("iommufd=true"), "\(nfd)")
        let dra = try Command.json(try Command.tool(["export", "--format", "dra", "--root", Self.root("nvidia-vgpu-set")]).stdout)
        let devices = ((dra["items"] as? [[String: Any]])?.first?["spec"] as? [String: Any])?["devices"] as? [[String: Any]] ?? []
        let vf = devices.first { (($0["attributes"] as? [String: Any])?["resource.kubernetes.io/pciBusID"] as? [String: Any])?["string"] as? String == "0000:02:00.0" }
        let attributes = vf?["attributes"] as? [String: Any] ?? [:]
        #expect((attributes["vgpuType"] as? [String: Any])?["int"] as? Int == 1147 && (attributes["vfioDriver"] as? [String: Any])?["string"] as? String == "nvidia", "\(attributes)")
    }

    @Test("NVIDIA's vGPU files damaged: unknown, never better than no type set")
    func damagedVGPU() throws {
        for damage in ["", "1147x\n", "-3\n"] {
            let scratch = try Self.copy("nvidia-vgpu-unset")
            let file = scratch + "/sys/devices/pci0000:00/0000:00:03.0/0000:02:00.0/nvidia/current_vgpu_type"
            try FileManager.default.removeItem(atPath: file)
            try damage.write(toFile: file, atomically: false, encoding: .utf8)
            let json = try Command.json(try Command.tool(["check", "--json", "--root", scratch, "02:00.0"]).stdout)
            #expect(json["verdict"] as? String == "undetermined", "current_vgpu_type '\(damage)': \(json["verdict"] ?? "?")")
            #expect(Self.codes(Self.line(json, "vgpu")) == ["vgpu-type-unknown"])
        }
        let scratch = try Self.copy("nvidia-vgpu-set")
        let creatable = scratch + "/sys/devices/pci0000:00/0000:00:03.0/0000:02:00.0/nvidia/creatable_vgpu_types"
        try FileManager.default.removeItem(atPath: creatable)
        try "garbage without a colon\n".write(toFile: creatable, atomically: false, encoding: .utf8)
        let json = try Command.json(try Command.tool(["report", "--json", "--root", scratch]).stdout)
        let vf = (json["functions"] as? [[String: Any]])?.first { $0["address"] as? String == "0000:02:00.0" }
        let v = (vf?["vfio"] as? [String: Any])?["nvidiaVGPU"] as? [String: Any]
        #expect(v?["creatable"] is NSNull && (v?["unknown"] as? [String: Any])?["creatable"] != nil, "\(v ?? [:])")
    }

    @Test("the variant driver the module table names is what the fix binds, and it migrates")
    func variantDriver() throws {
        let (status, json) = try Self.check("mlx5-variant-unbound", ["01:00.0"])
        #expect(status == 1)
        let steps = (json["fixSteps"] as? [[String: Any]] ?? []).map { "\($0)" }.joined(separator: "\n")
        #expect(steps.contains("mlx5_vfio_pci") && !steps.contains("value = vfio-pci") , "\(steps)")
        let script = try Command.tool(["check", "--fix-script", "--root", Self.root("mlx5-variant-unbound"), "01:00.0"]).stdout
        let lines = script.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.contains("modprobe mlx5_vfio_pci") && lines.contains("echo mlx5_vfio_pci > /sys/bus/pci/devices/0000:01:00.0/driver_override"), "\(script)")
        #expect(lines.firstIndex(of: "modprobe mlx5_vfio_pci") ?? 99 < lines.firstIndex(of: "echo mlx5_vfio_pci > /sys/bus/pci/devices/0000:01:00.0/driver_override") ?? 0)
        // The driver migrates; whether this VF does only the kernel says once it is bound: a caution, never a PASS.
        #expect(Self.codes(Self.line(json, "migration")) == ["migration-unverified"] && json["migratable"] is NSNull)
        let qemu = try Command.tool(["plan", "--format", "qemu", "--root", Self.root("mlx5-variant-unbound"), "01:00.0"]).stdout
        #expect(qemu.contains("driverctl set-override 0000:01:00.0 mlx5_vfio_pci") && qemu.contains("Variant driver: 0000:01:00.0 takes mlx5_vfio_pci"), "\(qemu)")

        // Bound: the kernel's debugfs is the evidence; vfio-pci's NIC next to it does not migrate.
        let (_, bound) = try Self.check("mlx5-variant-bound", ["01:00.0"])
        let migration = try #require(Self.line(bound, "migration"))
        #expect(Self.codes(migration) == ["migratable"] && (migration["restsOn"] as? [String] ?? []).contains { $0.contains("migration/features: stop-copy p2p pre-copy dirty-tracking") })
        let (_, nic) = try Self.check("mlx5-variant-bound", ["02:00.0"])
        #expect(Self.codes(Self.line(nic, "migration")) == ["not-migratable"] && nic["verdict"] as? String == "ready")
    }

    @Test("modules.alias: vfio_pci's own match-all alias is not a variant; the most specific variant comes first")
    func aliases() {
        let table = ModuleAliases(text: """
            alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci
            alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* broad_vfio_pci
            alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci
            alias pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_core
            """)
        #expect(table.vfioVariants(for: "pci:v000015B3d0000101Esv000015B3sd00000043bc02sc00i00") == ["mlx5_vfio_pci", "broad_vfio_pci"])
        #expect(table.vfioVariants(for: "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00") == [])
        #expect(table.modules(for: "pci:v000015B3d0000101Esv000015B3sd00000043bc02sc00i00") == ["mlx5_core"])
        #expect(VFIOPCIDriverInfo.named("xe_vfio_pci")?.driver == "xe-vfio-pci")
        #expect(VFIODrivers.driverManagedDMA.isSuperset(of: ["vfio-pci", "mlx5_vfio_pci", "xe-vfio-pci", "pci-stub", "pcieport"]))
    }

    @Test("the JSON of each fixture validates against the schemas", arguments: ["iommufd-cdev", "nvidia-vgpu-unset", "nvidia-vgpu-set", "mlx5-variant-unbound", "mlx5-variant-bound"])
    func schemas(_ name: String) throws {
        let python = try #require(JSONSchemaCheck.python, "needs python3-jsonschema (Scripts/install-deps.sh --test)")
        let schemas = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas").path
        let dir = try Fixtures.temporaryDirectory("vfio-schema-\(name)")
        let address = name.hasPrefix("mlx5") ? "01:00.0" : "02:00.0"
        for (args, schema) in [(["report", "--json"], "vfio-inspect.schema.json"), (["check", "--json", address], "vfio-inspect-check.schema.json"),
                               (["plan", "--json", "--backend", "iommufd", address], "vfio-inspect-plan.schema.json"), (["export", "--format", "dra"], "vfio-inspect-dra.schema.json")] {
            let r = try Command.tool(args + ["--root", Self.root(name)])
            let file = dir + "/out.json"
            try r.stdout.write(toFile: file, atomically: false, encoding: .utf8)
            let v = try JSONSchemaCheck.validate(python: python, schema: schemas + "/" + schema, document: file)
            #expect(v.status == 0, "\(name) \(args): \(v.stdout) \(v.stderr)")
        }
    }
}
