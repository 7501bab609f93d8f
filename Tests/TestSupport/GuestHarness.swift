import Foundation

/// One boot of `Scripts/guest-vfio.sh`: a topology run in a real kernel under QEMU, with what the guest sent back.
public struct GuestRun: Sendable {
    public let topology: String
    /// 0: results in `out`; 77: the kernel lacks the topology's IOMMU; anything else: the boot failed.
    public let status: Int32
    public let stderr: String
    /// The guest's results (`report.json`, `snapshot.tar`, per group `check-*`, `probe-*`, `fix-*`).
    public let out: String
    public let seconds: Int

    public func text(_ name: String) -> String? {
        try? String(contentsOfFile: out + "/" + name, encoding: .utf8)
    }

    public func json(_ name: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: out + "/" + name) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// A `PROBE {…}` line of vfio-probe, parsed.
    public func probe(_ name: String) -> Probe? {
        guard let line = text(name)?.split(separator: "\n").first(where: { $0.hasPrefix("PROBE ") }),
              let data = line.dropFirst(6).data(using: .utf8),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        return Probe(json: json)
    }
}

/// What VFIO answered for one group (Scripts/guest/vfio-probe.c).
public struct Probe: @unchecked Sendable {
    public let json: [String: Any]

    public var groupErrno: Int? { json["groupErrno"] as? Int }
    public var viable: Bool? { json["viable"] as? Bool }
    public var devices: [[String: Any]] { json["devices"] as? [[String: Any]] ?? [] }

    /// The group opened, attached to a type1v2 container, and every device file handed out.
    public var opened: Bool {
        viable == true && json["setContainerErrno"] == nil && json["setIOMMUErrno"] == nil && !devices.isEmpty
            && devices.allSatisfy { $0["deviceErrno"] == nil }
    }

    /// The iommufd path per device (`cdev` in the JSON): address → whether VFIO_DEVICE_BIND_IOMMUFD and
    /// VFIO_DEVICE_ATTACH_IOMMUFD_PT succeeded through `/dev/vfio/devices/vfioN`.
    public var cdevAttached: [String: Bool] {
        Dictionary((json["cdev"] as? [[String: Any]] ?? []).compactMap { d in
            (d["address"] as? String).map { ($0, d["attached"] as? Bool == true) } }, uniquingKeysWith: { a, _ in a })
    }

    /// A one-line account for tables: `open`, `no group file (errno 2)`, `not viable`, `EBUSY`…
    public var summary: String {
        if opened { return "opens, \(devices.count) device(s)" }
        if let e = groupErrno { return e == 2 ? "no group file" : e == 16 ? "group busy (EBUSY)" : "group errno \(e)" }
        if viable == false { return "not viable" }
        if let e = json["setContainerErrno"] as? Int { return "container refused (errno \(e))" }
        if let e = json["setIOMMUErrno"] as? Int { return "type1v2 IOMMU refused (errno \(e))" }
        if let e = json["containerErrno"] as? Int { return "no /dev/vfio/vfio (errno \(e))" }
        if let d = devices.first(where: { $0["deviceErrno"] != nil }) { return "device \(d["address"] ?? "?") errno \(d["deviceErrno"] ?? "?")" }
        return "no device"
    }
}

/// Boots every topology of `Tests/Fixtures/guests/`, two at a time (one QEMU per core), once per test run.
public enum GuestHarness {
    public static var topologies: [String] {
        let dir = Fixtures.directory.appendingPathComponent("guests").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".topology") }.map { String($0.dropLast(".topology".count)) }.sorted()
    }

    public static func topologyFile(_ name: String) -> String {
        Fixtures.directory.appendingPathComponent("guests").appendingPathComponent(name + ".topology").path
    }

    /// The repository root (Scripts/ lives there).
    static var repository: URL { Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent() }

    /// Every run, by topology; the boots happen on first use.
    public static let runs: [String: GuestRun] = bootAll()

    static func bootAll() -> [String: GuestRun] {
        let scratch = (try? Fixtures.temporaryDirectory("guests")) ?? NSTemporaryDirectory()
        let names = topologies
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var runs: [String: GuestRun] = [:]
            func add(_ run: GuestRun) { lock.lock(); runs[run.topology] = run; lock.unlock() }
        }
        let results = Results()
        // The initramfs is built by the first boot; the rest then share it.
        if let first = names.first { results.add(boot(first, scratch: scratch)) }
        let rest = Array(names.dropFirst())
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for (i, name) in rest.enumerated() where i % 2 == worker {
                results.add(boot(name, scratch: scratch))
            }
        }
        return results.runs
    }

    static func boot(_ name: String, scratch: String) -> GuestRun {
        let outdir = scratch + "/" + name
        let script = repository.appendingPathComponent("Scripts/guest-vfio.sh").path
        let start = Date()
        let result = (try? Command.run(script, [topologyFile(name), outdir, Command.toolPath]))
            ?? CommandResult(status: -1, stdout: "", stderr: "could not start \(script)")
        return GuestRun(topology: name, status: result.status, stderr: result.stderr, out: outdir + "/out",
                        seconds: Int(Date().timeIntervalSince(start)))
    }

    /// The quoted words of a bash array assignment `NAME=("a b" "c")` in a topology file.
    public static func array(_ name: String, in topology: String) -> [String] {
        guard let text = try? String(contentsOfFile: topologyFile(topology), encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + "=(") }) else { return [] }
        return line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// A scalar `NAME="…"` of a topology file.
    public static func value(_ name: String, in topology: String) -> String? {
        guard let text = try? String(contentsOfFile: topologyFile(topology), encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + "=\"") }) else { return nil }
        return line.split(separator: "\"").dropFirst().first.map(String.init)
    }
}
