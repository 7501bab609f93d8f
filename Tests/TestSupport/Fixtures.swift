import Foundation

/// The test data, read in place (copied resources would mangle the sysfs links).
public enum Fixtures {
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The real-kernel sysfs snapshots (see Tests/Fixtures/sysfs/FORMAT.md).
    public static var sysfsNames: [String] {
        let base = directory.appendingPathComponent("sysfs")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
        return names.filter { name in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: base.appendingPathComponent(name).path, isDirectory: &isDir) && isDir.boolValue
        }.sorted()
    }

    /// A file of a case reduced from a bug report (`Tests/Fixtures/cases/NAME/`, copied from shared/cases).
    public static func cases(_ name: String, _ file: String = "dump.txt") -> String {
        directory.appendingPathComponent("cases").appendingPathComponent(name).appendingPathComponent(file).path
    }

    public static func sysfs(_ name: String) -> String {
        directory.appendingPathComponent("sysfs").appendingPathComponent(name).path
    }

    public static func sysfsFile(_ name: String, _ file: String) -> String {
        sysfs(name) + "/" + file
    }

    /// Real machines' config-space text files, relative to Tests/Fixtures/realdata.
    public static var realdataFiles: [String] {
        let base = directory.appendingPathComponent("realdata")
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        var files: [String] = []
        while let next = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            let full = base.appendingPathComponent(next).path
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
               !next.hasSuffix(".md"), !next.hasSuffix(".tsv") {
                files.append(next)
            }
        }
        return files.sorted()
    }

    public static func realdata(_ relative: String) -> String {
        directory.appendingPathComponent("realdata").appendingPathComponent(relative).path
    }

    /// `groups.txt`: "N: BDF BDF ..." per line; the kernel's groups as sets of addresses.
    public static func kernelGroups(_ name: String) throws -> Set<Set<String>> {
        let text = try String(contentsOfFile: sysfsFile(name, "groups.txt"), encoding: .utf8)
        var groups: Set<Set<String>> = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let members = line[line.index(after: colon)...].split(separator: " ").map(String.init)
            if !members.isEmpty { groups.insert(Set(members)) }
        }
        return groups
    }

    /// The functions `lspci.txt` shows (domain 0 addresses, as lspci prints them without -D).
    public static func lspciFunctions(_ name: String) throws -> Set<String> {
        let text = try String(contentsOfFile: sysfsFile(name, "lspci.txt"), encoding: .utf8)
        return Lspci.addresses(in: text)
    }

    public static func readBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A private scratch directory, removed by the caller.
    public static func temporaryDirectory(_ label: String) throws -> String {
        let path = NSTemporaryDirectory() + "vfio-inspect-tests-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Replaces whatever is at `path` in a scratch copy with a symbolic link to `target`.
    public static func replace(_ path: String, withLinkTo target: String) throws {
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    /// Replaces whatever is at `path` in a scratch copy with a regular file holding `text`.
    public static func replace(_ path: String, withText text: String) throws {
        if FileManager.default.fileExists(atPath: path) || (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil {
            try FileManager.default.removeItem(atPath: path)
        }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Unpacks ../shared/fixtures/large.tar.gz (1,036 functions of a real kernel) into a scratch directory
    /// and returns the snapshot's root; the caller removes `scratch`.
    public static func largeSnapshot(_ label: String) throws -> (root: String, scratch: String) {
        let tarball = directory.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/fixtures/large.tar.gz").path
        guard FileManager.default.fileExists(atPath: tarball) else {
            throw CommandFailure(result: CommandResult(status: -1, stdout: "", stderr: "needs ../shared/fixtures/large.tar.gz beside the project"))
        }
        let dir = try temporaryDirectory(label)
        let untar = try Command.run("/bin/tar", ["-xzf", tarball, "-C", dir])
        guard untar.status == 0 else { throw CommandFailure(result: untar) }
        return (dir + "/large", dir)
    }

    /// The VFIO fixtures (`Tests/Fixtures/vfio/NAME.tar.gz`: real sysfs trees keep empty directories, such as a
    /// process's `fd/`, which git cannot hold), unpacked once per test process into a scratch directory; the
    /// returned root is shared: copy it before changing anything.
    public static func vfio(_ name: String) -> String {
        vfioLock.lock()
        defer { vfioLock.unlock() }
        if let root = vfioRoots[name] { return root }
        let tarball = directory.appendingPathComponent("vfio").appendingPathComponent(name + ".tar.gz").path
        let dir = (try? temporaryDirectory("vfio-fixture-\(name)")) ?? NSTemporaryDirectory()
        let untar = try? Command.run("/bin/tar", ["-xzf", tarball, "-C", dir])
        let root = dir + "/" + name
        if untar?.status == 0 { vfioRoots[name] = root }
        return root
    }

    nonisolated(unsafe) static var vfioRoots: [String: String] = [:]
    static let vfioLock = NSLock()

    /// Copies a fixture (links kept as links) to a scratch directory for tests that damage it.
    public static func scratchCopy(of name: String) throws -> String {
        let dir = try temporaryDirectory(name)
        let result = try Command.run("/bin/cp", ["-a", sysfs(name) + "/.", dir])
        guard result.status == 0 else { throw CommandFailure(result: result) }
        return dir
    }
}

public enum Lspci {
    /// Addresses at the start of lspci's device lines, normalised to `0000:BB:DD.F`.
    public static func addresses(in text: String) -> Set<String> {
        var result: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let first = line.split(separator: " ", maxSplits: 1).first,
                  let address = normalise(first) else { continue }
            result.insert(address)
        }
        return result
    }

    public static func normalise(_ s: Substring) -> String? {
        let hexDigits = Set("0123456789abcdefABCDEF")
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let devfn = parts[parts.count - 1].split(separator: ".")
        guard devfn.count == 2, devfn[0].count == 2, devfn[1].count == 1,
              parts[parts.count - 2].count == 2,
              parts.allSatisfy({ $0.allSatisfy { hexDigits.contains($0) || $0 == "." } }) else { return nil }
        let domain = parts.count == 3 ? String(parts[0]) : "0000"
        guard domain.count >= 4, domain.allSatisfy({ hexDigits.contains($0) }) else { return nil }
        return "\(domain.lowercased()):\(parts[parts.count - 2].lowercased()):\(devfn[0].lowercased()).\(devfn[1])"
    }
}
