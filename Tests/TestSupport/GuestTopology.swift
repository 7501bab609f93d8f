import Foundation

/// Where QEMU put a device: from `info qtree`.
public struct PlacedDevice: Hashable, Sendable {
    public let type: String
    public let bus: String
    /// `SS.F` as qtree prints it (`00.1`).
    public let addr: String?
    public let multifunction: Bool
}

public struct QEMURun: Sendable {
    public let arguments: [String]
    public let result: CommandResult
    /// Devices by QEMU id.
    public let devices: [String: PlacedDevice]
    /// Exit 0 and nothing on stderr but pseries' TCG notes (the host has no KVM): any other warning counts against it.
    public var accepted: Bool {
        result.status == 0 && result.stderr.split(separator: "\n").allSatisfy { $0.contains("warning: TCG doesn't support requested feature") }
    }
}

/// Starts real QEMU with a plan's guest-side topology, paused, and reads back where every device landed.
public enum GuestTopology {
    /// The `-device` arguments of `plan --format qemu` output (comment lines and line continuations dropped).
    public static func deviceArguments(_ planOutput: String) -> [String] {
        var args: [String] = []
        for line in planOutput.split(separator: "\n") where !line.hasPrefix("#") {
            var l = Substring(line)
            if l.hasSuffix("\\") { l = l.dropLast() }
            args += l.split(separator: " ").map(String.init)
        }
        return args
    }

    /// `vfio-pci,host=…,id=…` → the emulated stand-in with the same id, bus, addr and multifunction.
    /// virtio-rng-pci needs no backend and takes any bus and function.
    public static func standIn(_ arguments: [String]) -> [String] {
        arguments.map { a in
            guard a.hasPrefix("vfio-pci,") else { return a }
            let props = a.split(separator: ",").dropFirst().filter { !$0.hasPrefix("host=") }
            return (["virtio-rng-pci"] + props.map(String.init)).joined(separator: ",")
        }
    }

    /// Starts `qemu-system-x86_64 -machine q35` or `qemu-system-ppc64 -machine pseries` with `-S -display none -nodefaults`,
    /// asks the monitor for the device tree and quits through it.
    public static func start(machine: String, arguments: [String]) throws -> QEMURun {
        let binary = machine == "pseries" ? "qemu-system-ppc64" : "qemu-system-x86_64"
        guard let qemu = Command.which(binary), let timeout = Command.which("timeout") else {
            throw CommandFailure(result: CommandResult(status: -1, stdout: "", stderr: "\(binary) is not installed (Scripts/install-deps.sh --test installs it)"))
        }
        let full = [qemu, "-machine", machine, "-S", "-display", "none", "-nodefaults", "-monitor", "stdio"] + arguments
        let result = try Command.run(timeout, ["120"] + full, input: "info qtree\nquit\n")
        return QEMURun(arguments: full, result: result, devices: parseQtree(result.stdout))
    }

    /// Parses `info qtree`: each `dev:` line with its id, the bus it hangs on, its `addr` and `multifunction`.
    public static func parseQtree(_ text: String) -> [String: PlacedDevice] {
        struct Node { let indent: Int; let isBus: Bool; let name: String; let type: String }
        var stack: [Node] = []
        var props: [String: (type: String, bus: String, addr: String?, mf: Bool)] = [:]
        // The monitor ends lines with \r\n (one Character in Swift).
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.replacingOccurrences(of: "(qemu) ", with: "")
            let indent = line.prefix { $0 == " " }.count
            let body = line.dropFirst(indent)
            while let last = stack.last, last.indent >= indent { stack.removeLast() }
            if body.hasPrefix("bus: ") {
                stack.append(Node(indent: indent, isBus: true, name: String(body.dropFirst(5)), type: ""))
            } else if body.hasPrefix("dev: ") {
                let parts = body.dropFirst(5).components(separatedBy: ", id ")
                let id = parts.count > 1 ? parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : ""
                let bus = stack.last(where: \.isBus)?.name ?? ""
                stack.append(Node(indent: indent, isBus: false, name: id, type: parts[0]))
                if !id.isEmpty { props[id] = (parts[0], bus, nil, false) }
            } else if let dev = stack.last(where: { !$0.isBus }), !dev.name.isEmpty, stack.last?.isBus == false {
                if body.hasPrefix("addr = ") { props[dev.name]?.addr = String(body.dropFirst(7)) }
                if body.hasPrefix("multifunction = ") { props[dev.name]?.mf = body.hasSuffix("true") }
            }
        }
        return props.mapValues { PlacedDevice(type: $0.type, bus: $0.bus, addr: $0.addr, multifunction: $0.mf) }
    }

    /// Parses a domain XML with libvirt's own parser (`virsh -c test:///default define`), which also checks what the
    /// schema cannot (a PCI controller index used twice, say). The test driver keeps nothing after the call.
    public static func defineInLibvirt(_ xml: String) throws -> CommandResult {
        guard let virsh = Command.which("virsh") else {
            throw CommandFailure(result: CommandResult(status: -1, stdout: "", stderr: "virsh is not installed (libvirt-clients)"))
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vfio-plan-\(UUID().uuidString).xml")
        try xml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try Command.run(virsh, ["-q", "-c", "test:///default", "define", file.path])
    }

    /// Validates a libvirt XML file against libvirt's schema with the real `virt-xml-validate`.
    public static func validateLibvirt(_ xml: String) throws -> CommandResult {
        guard let tool = Command.which("virt-xml-validate") else {
            throw CommandFailure(result: CommandResult(status: -1, stdout: "", stderr: "virt-xml-validate is not installed (libvirt-clients)"))
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vfio-plan-\(UUID().uuidString).xml")
        try xml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try Command.run(tool, [file.path, "domain"])
    }

    /// The x86_64 guest kernel: $VFIO_INSPECT_GUEST_KERNEL, or the copy Scripts/guest-kernel.sh caches in .build/guest-kernel/.
    public static var guestKernel: String? {
        if let k = ProcessInfo.processInfo.environment["VFIO_INSPECT_GUEST_KERNEL"], FileManager.default.isReadableFile(atPath: k) { return k }
        let cached = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/guest-kernel/vmlinuz").path
        return FileManager.default.isReadableFile(atPath: cached) ? cached : nil
    }

    /// Boots a real Linux kernel on q35 with the topology (no root file system: it panics after PCI enumeration, and
    /// `-no-reboot` with `panic=-1` ends QEMU) and returns what the guest enumerated: `BB:DD.F` → `vendor:device`.
    public static func bootLinux(kernel: String, arguments: [String]) throws -> (result: CommandResult, enumerated: [String: String]) {
        guard let qemu = Command.which("qemu-system-x86_64"), let timeout = Command.which("timeout") else {
            throw CommandFailure(result: CommandResult(status: -1, stdout: "", stderr: "qemu-system-x86_64 is not installed"))
        }
        let full = [qemu, "-machine", "q35", "-m", "256", "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot",
                    "-kernel", kernel, "-append", "console=ttyS0 panic=-1 loglevel=7"] + arguments
        let result = try Command.run(timeout, ["300"] + full)
        var found: [String: String] = [:]
        // "pci 0000:01:00.1: [1af4:1044] type 00 class 0x00ff00"
        for line in result.stdout.split(whereSeparator: \.isNewline) {
            guard let r = line.range(of: "] pci 0000:") else { continue }
            let rest = line[r.upperBound...]
            let fields = rest.split(separator: " ")
            guard fields.count >= 2, fields[0].hasSuffix(":"), fields[1].hasPrefix("["), fields[1].hasSuffix("]") else { continue }
            found[String(fields[0].dropLast())] = String(fields[1].dropFirst().dropLast())
        }
        return (result, found)
    }
}
