import Foundation
import Testing
import TestSupport

/// No command reads a sysfs file whose fact it neither prints nor decides with: each command runs under strace on a
/// real-kernel fixture, and the attribute files it opens are held to what its output needs. The commands with
/// verdicts read everything, which shows the tracing sees every family.
@Suite("Files each command reads")
struct CommandReadsTests {
    /// The names of the files and directories below `root` that `arguments` opened (their last component).
    static func opened(_ arguments: [String], root: String) throws -> Set<String> {
        let strace = try #require(Command.which("strace"), "strace is missing: Scripts/install-deps.sh --test installs it")
        let dir = try Fixtures.temporaryDirectory("reads")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/strace.log"
        let result = try Command.run(strace, ["-f", "-qq", "-y", "-e", "trace=openat", "-o", log, Command.toolPath] + arguments + ["--root", root])
        #expect([0, 1, 2, 4].contains(result.status), "\(arguments): \(result.stderr)")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.contains("openat(") && !line.contains("= -1") {
            // openat(AT_FDCWD</cwd>, "/abs/path", …) or openat(3</dir>, "name", …): the directory and the name.
            guard let open = line.range(of: "openat("), let quote = line[open.upperBound...].firstIndex(of: "\"") else { continue }
            let directory = line[open.upperBound..<quote]
            let rest = line[line.index(after: quote)...]
            guard let end = rest.firstIndex(of: "\"") else { continue }
            let name = String(rest[..<end])
            let full = name.hasPrefix("/") ? name : String(directory.split(separator: "<").last?.split(separator: ">").first ?? "") + "/" + name
            if full.hasPrefix(root + "/sys/") { names.insert(String(full.split(separator: "/").last ?? "")) }
        }
        return names
    }

    /// The per-function and per-group attribute files a command reads only when it prints or decides with them.
    static let families: Set<String> = [
        "numa_node", "d3cold_allowed", "driver_override", "reset_method", "boot_vga", "resource",
        "current_link_speed", "current_link_width", "max_link_speed", "max_link_width", "type", "reserved_regions",
    ]

    @Test("list, tree and groups read identity, config, links and (groups) the group type only; the verdicts read every family",
          arguments: [
              (["list"], Set<String>()),
              (["tree"], Set<String>()),
              (["tree", "--json"], Set<String>()),
              (["groups"], Set(["type"])),
              (["groups", "--json"], Set(["type"])),
          ])
    func readsOnlyWhatItPrints(_ arguments: [String], _ allowed: Set<String>) throws {
        let root = Fixtures.sysfs("vfio-bound")
        let names = try Self.opened(arguments, root: root)
        #expect(names.contains("config") && names.contains("modalias"), "\(arguments) read no identity: \(names.sorted())")
        #expect(names.intersection(Self.families) == allowed, "\(arguments) read \(names.intersection(Self.families).sorted())")
    }

    @Test("the commands with verdicts read the families the others skip", arguments: [
        ["report", "--json"], ["groups", "--exit-status"], ["tree", "--format", "dot"],
    ])
    func verdictsReadEverything(_ arguments: [String]) throws {
        let names = try Self.opened(arguments, root: Fixtures.sysfs("vfio-bound"))
        for family in ["numa_node", "d3cold_allowed", "driver_override", "reset_method", "resource", "type", "reserved_regions"] {
            #expect(names.contains(family), "\(arguments) did not read \(family)")
        }
    }
}
