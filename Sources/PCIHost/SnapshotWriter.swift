#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum SnapshotError: Error, Hashable, Sendable, CustomStringConvertible {
    case destinationNotEmpty(String)
    case destinationInsideSource(String)
    case cannotWrite(String, errno: Int32)
    case source(HostScanError)

    public var description: String {
        switch self {
        case let .destinationNotEmpty(p): "\(p) already exists and is not an empty directory"
        case let .destinationInsideSource(p): "\(p) lies inside the source's sys/ or proc/; choose another place"
        case let .cannotWrite(p, e): "cannot write \(p): \(String(cString: strerror(e)))"
        case let .source(e): e.description
        }
    }
}

/// What a snapshot copied and what it passed over.
public struct SnapshotSummary: Sendable {
    public var functions = 0
    public var files = 0
    public var links = 0
    public var skipped: [Diagnostic] = []
    /// Functions whose `config` could not be read in full (a non-root reader gets 64 bytes).
    public var limitedConfig: [String] = []
    /// Why the process table (who holds /dev/vfio open) was left out, when it was.
    public var processTableOmitted: String?
}

/// Copies what vfio-inspect reads of a host into a directory that `--root` reads as that host.
///
/// It only reads the source, through `HostRoot` (so it never follows a link out of the
/// source root), never reads `resourceN`, `rom` or `vpd` (BAR contents, option ROMs and VPD
/// are not config space, and reading some of them can hang a device), and writes only
/// below the destination. Links are written relative, as sysfs has them.
public final class SnapshotWriter {
    public let source: HostRoot
    public let destination: String
    /// Directories already made below the destination (saves a failing mkdir per file).
    private var made: Set<String> = []
    /// Called after each function is copied with (functions copied, functions in all); for a progress line.
    public var progress: ((Int, Int) -> Void)?

    public init(source: HostRoot, destination: String) {
        self.source = source
        var d = destination
        while d.count > 1, d.hasSuffix("/") { d.removeLast() }
        self.destination = d
    }

    /// Files in a device directory that are never read.
    static func isExcludedFile(_ name: String) -> Bool {
        if name == "rom" || name == "vpd" || name == "remove" || name == "rescan" || name == "reset"
            || name == "reset_subordinate" || name == "new_id" || name == "remove_id" || name == "bind" || name == "unbind" {
            return true
        }
        if name.hasPrefix("resource") && name != "resource" { return true } // resource0, resource0_wc, resource0_resize
        return false
    }

    /// Links in a device directory worth keeping (each must lead inside the snapshot).
    static let keptDeviceLinks: Set<String> = ["driver", "iommu_group", "physfn", "iommu", "subsystem", "device"]

    /// Writes the snapshot. On failure, a destination directory that this call created is removed again
    /// (with what it had written), so no half snapshot is left behind.
    public func write() throws(SnapshotError) -> SnapshotSummary {
        let created = try prepareDestination()
        do {
            return try writeAll()
        } catch {
            if created { removeTree(destination) }
            throw error
        }
    }

    private func writeAll() throws(SnapshotError) -> SnapshotSummary {
        var summary = SnapshotSummary()
        let devicesDir = SysfsScanner.devicesDir
        let entries: [String]
        do {
            entries = try source.list(devicesDir)
        } catch {
            throw .source(.notSysfsRoot(source.description, reason: "\(devicesDir): \(error)"))
        }
        try makeDirectories("sys/bus/pci/devices")
        var deviceDirs: [String] = []
        for name in entries {
            let entry = devicesDir + "/" + name
            let dir: String
            do {
                dir = try source.resolve(entry)
            } catch {
                summary.skipped.append(Diagnostic(code: error.diagnosticCode, message: "\(entry): \(error)"))
                continue
            }
            guard source.kind(dir) == .directory, PCIAddress(sysfsName: name) != nil else {
                summary.skipped.append(Diagnostic(code: "unexpected-entry", message: "\(entry): not a device directory"))
                continue
            }
            try copyLink(entry, resolvedTarget: dir, summary: &summary)
            deviceDirs.append(dir)
        }
        if deviceDirs.isEmpty && !entries.isEmpty {
            throw .source(.notSysfsRoot(source.description, reason: "no entry of \(devicesDir) leads to a device directory inside the root"))
        }
        for dir in deviceDirs {
            try copyDevice(dir, summary: &summary)
            summary.functions += 1
            progress?(summary.functions, deviceDirs.count)
        }
        try copyBusFiles(&summary)
        try copyGroups(&summary)
        try copyIOMMUUnits(&summary)
        try copyClassLinks(&summary)
        try copyModuleParameters(&summary)
        for file in ["proc/cmdline", "proc/mounts", "proc/modules", "proc/swaps", "proc/interrupts", "proc/iomem", "proc/cpuinfo", "proc/sys/kernel/osrelease", "proc/sys/kernel/hostname"] {
            try copyFile(file, to: file, summary: &summary, required: false)
        }
        try copyACPITables(&summary)
        try copyMiscDevices(&summary)
        // modprobe's configuration: vfio-pci ids= bindings and soft dependencies (the directories are kept even
        // when empty, so a snapshot says there were none).
        if source.isLiveSystem { try makeDirectories("etc/modprobe.d") }
        try copyFile("etc/initramfs-tools/modules", to: "etc/initramfs-tools/modules", summary: &summary, required: false, limit: 1 << 20)
        if source.kind("etc/dracut.conf.d") == .directory {
            try makeDirectories("etc/dracut.conf.d")
            for name in ((try? source.list("etc/dracut.conf.d")) ?? []) where name.hasSuffix(".conf") {
                try copyFile("etc/dracut.conf.d/" + name, to: "etc/dracut.conf.d/" + name, summary: &summary, required: false, limit: 1 << 20)
            }
        }
        for dir in VFIOPCIIDMatch.modprobeDirectories where source.kind(dir) == .directory {
            try makeDirectories(dir)
            for name in ((try? source.list(dir)) ?? []) where name.hasSuffix(".conf") {
                try copyFile(dir + "/" + name, to: dir + "/" + name, summary: &summary, required: false, limit: 1 << 20)
            }
        }
        try copyVFIODebugfs(&summary)
        // The kernel's configuration decides which VFIO backends it can offer before VFIO is loaded.
        if let release = try? source.readText("proc/sys/kernel/osrelease") {
            try copyFile("boot/config-" + release, to: "boot/config-" + release, summary: &summary, required: false, limit: 4 << 20)
        }
        // The module alias table of the running kernel, for `show`'s kernel modules (lspci -k).
        if let release = try? source.readText("proc/sys/kernel/osrelease") {
            let table = ModuleAliases.path(release: release)
            try copyFile(table, to: table, summary: &summary, required: false, limit: 32 << 20)
        }
        try copyVFIOUsers(&summary)
        return summary
    }

    // MARK: Pieces

    private func copyDevice(_ dir: String, summary: inout SnapshotSummary) throws(SnapshotError) {
        try makeDirectories(dir)
        let entries: [(name: String, kind: HostRoot.Kind)]
        do { entries = try source.entries(ofCanonical: dir) } catch {
            summary.skipped.append(Diagnostic(code: error.diagnosticCode, message: "\(dir): \(error)"))
            return
        }
        for (name, kind) in entries {
            let path = dir + "/" + name
            switch kind {
            case .file:
                guard !Self.isExcludedFile(name) else { continue }
                let copied = try copyFile(path, to: path, summary: &summary, required: false, limit: name == "config" ? 4096 : 65536, canonicalParent: true)
                // The kernel gives a non-root reader fewer config bytes than the file's size.
                if name == "config", let copied, copied.bytes < min(copied.size, 4096) {
                    summary.limitedConfig.append(dir)
                }
            case .link:
                guard Self.keptDeviceLinks.contains(name) || name.hasPrefix("virtfn") else { continue }
                try copyLinkIfInside(path, summary: &summary)
            case .directory:
                // Child functions are copied as functions of their own.
                if PCIAddress(sysfsName: name) != nil || ["power", "msi_irqs", "link"].contains(name) { continue }
                try copyEvidence(path, depth: 0, summary: &summary)
            default:
                continue
            }
        }
    }

    /// Block devices stacked on a block device (`holders/dm-0`): the link, and the holder's `dm/name`,
    /// transitively, so that `--root` sees LVM, LUKS and md on top of a function's disks.
    private func copyHolders(_ blockDir: String, depth: Int, summary: inout SnapshotSummary) throws(SnapshotError) {
        guard depth < 8, let holders = try? source.list(blockDir + "/holders") else { return }
        try makeDirectories(blockDir + "/holders")
        for holder in holders {
            let link = blockDir + "/holders/" + holder
            guard let target = try? source.resolve(link), target.hasPrefix("sys/devices/") else { continue }
            try makeDirectories(target)
            for file in ["dm/name", "dm/uuid", "dev", "size", "md/level"] {
                try copyFile(target + "/" + file, to: target + "/" + file, summary: &summary, required: false)
            }
            try copyLink(link, resolvedTarget: target, summary: &summary)
            try copyHolders(target, depth: depth + 1, summary: &summary)
        }
    }

    /// Host-use evidence below a function: net/, nvme/, block devices, drm/, graphics/, ata hosts.
    private func copyEvidence(_ dir: String, depth: Int, summary: inout SnapshotSummary) throws(SnapshotError) {
        guard depth < 10 else { return }
        var skip = SysfsLayout.notHostUseEvidence
        skip.subtract(["subsystem", "device"])
        guard let entries = try? source.entries(ofCanonical: dir) else { return }
        try makeDirectories(dir)
        for (name, kind) in entries {
            let path = dir + "/" + name
            switch kind {
            case .file:
                guard !Self.isExcludedFile(name), name != "uevent" || depth < 4 else { continue }
                try copyFile(path, to: path, summary: &summary, required: false, limit: 65536, canonicalParent: true)
            case .link:
                // The instances of a mediated-device type (mdev_supported_types/TYPE/devices/UUID) are links too.
                let mdevInstance = dir.hasSuffix("/devices") && dir.contains("/mdev_supported_types/")
                guard name == "subsystem" || name == "device" || mdevInstance else { continue }
                try copyLinkIfInside(path, summary: &summary)
            case .directory:
                if name == "holders" {
                    try copyHolders(dir, depth: 0, summary: &summary)
                    continue
                }
                if skip.contains(name) || PCIAddress(sysfsName: name) != nil { continue }
                try copyEvidence(path, depth: depth + 1, summary: &summary)
            default:
                continue
            }
        }
    }

    private func copyBusFiles(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        for file in ["sys/bus/pci/drivers_autoprobe", "sys/bus/pci/resource_alignment"] {
            try copyFile(file, to: file, summary: &summary, required: false)
        }
        for driver in (try? source.list("sys/bus/pci/drivers")) ?? [] {
            let dir = "sys/bus/pci/drivers/" + driver
            try makeDirectories(dir)
            for name in (try? source.list(dir)) ?? [] where PCIAddress(sysfsName: name) != nil {
                try copyLinkIfInside(dir + "/" + name, summary: &summary)
            }
        }
        for slot in (try? source.list("sys/bus/pci/slots")) ?? [] {
            let dir = "sys/bus/pci/slots/" + slot
            for name in (try? source.list(dir)) ?? [] where source.kind(dir + "/" + name) == .file {
                try copyFile(dir + "/" + name, to: dir + "/" + name, summary: &summary, required: false)
            }
        }
    }

    private func copyGroups(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        guard source.kind("sys/kernel/iommu_groups") == .directory else { return }
        try makeDirectories("sys/kernel/iommu_groups")
        for group in (try? source.list("sys/kernel/iommu_groups")) ?? [] {
            let dir = "sys/kernel/iommu_groups/" + group
            try makeDirectories(dir + "/devices")
            for file in ["type", "reserved_regions"] {
                try copyFile(dir + "/" + file, to: dir + "/" + file, summary: &summary, required: false)
            }
            for name in (try? source.list(dir + "/devices")) ?? [] {
                try copyLinkIfInside(dir + "/devices/" + name, summary: &summary)
            }
        }
    }

    private func copyIOMMUUnits(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        guard let units = try? source.list("sys/class/iommu") else { return }
        try makeDirectories("sys/class/iommu")
        for unit in units {
            let link = "sys/class/iommu/" + unit
            guard let dir = try? source.resolve(link) else {
                summary.skipped.append(Diagnostic(code: "link-outside-root", message: "\(link) does not lead inside the root"))
                continue
            }
            try makeDirectories(dir)
            for name in (try? source.list(dir)) ?? [] {
                let path = dir + "/" + name
                switch source.kind(path) {
                case .file?:
                    try copyFile(path, to: path, summary: &summary, required: false)
                case .directory?:
                    if name == "power" { continue }
                    try makeDirectories(path)
                    for inner in (try? source.list(path)) ?? [] {
                        let p = path + "/" + inner
                        switch source.kind(p) {
                        case .file?: try copyFile(p, to: p, summary: &summary, required: false)
                        case .link?: if PCIAddress(sysfsName: inner) != nil { try copyLinkIfInside(p, summary: &summary) }
                        default: continue
                        }
                    }
                default:
                    continue
                }
            }
            try copyLinkIfInside(link, summary: &summary)
        }
    }

    /// `class/misc` for the VFIO backends: the directory (so a snapshot shows which misc devices are missing) and
    /// the entries `vfio` (/dev/vfio/vfio) and `iommu` (/dev/iommu) with their `dev` numbers.
    private func copyMiscDevices(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        guard source.kind("sys/class/misc") == .directory else { return }
        try makeDirectories("sys/class/misc")
        for name in ["vfio", "iommu"] {
            let link = "sys/class/misc/" + name
            guard source.kind(link) != nil else { continue }
            guard let dir = try? source.resolve(link), source.kind(dir) == .directory else {
                summary.skipped.append(Diagnostic(code: "link-outside-root", message: "\(link) does not lead to a directory inside the root"))
                continue
            }
            try makeDirectories(dir)
            try copyFile(dir + "/dev", to: dir + "/dev", summary: &summary, required: false)
            try copyLink(link, resolvedTarget: dir, summary: &summary)
        }
    }

    /// debugfs `kernel/debug/vfio/BDF/migration/{features,state}` (CONFIG_VFIO_DEBUGFS; root): each device's
    /// directory is kept, so one without `migration/` still says its driver has no migration ops.
    private func copyVFIODebugfs(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        let base = "sys/kernel/debug/vfio"
        guard source.kind(base) == .directory, let devices = try? source.list(base) else { return }
        for device in devices where PCIAddress(sysfsName: device) != nil && source.kind(base + "/" + device) == .directory {
            try makeDirectories(base + "/" + device)
            guard source.kind(base + "/" + device + "/migration") == .directory else { continue }
            try makeDirectories(base + "/" + device + "/migration")
            for file in ["features", "state"] {
                let path = base + "/" + device + "/migration/" + file
                try copyFile(path, to: path, summary: &summary, required: false)
            }
        }
    }

    /// `class/net`, `class/block` and friends: only links that lead into a copied device.
    private func copyClassLinks(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        for cls in ["net", "block", "nvme", "nvme-generic", "drm", "graphics"] {
            let dir = "sys/class/" + cls
            guard let names = try? source.list(dir) else { continue }
            for name in names {
                let link = dir + "/" + name
                guard let target = try? source.resolve(link), target.hasPrefix("sys/devices/pci"),
                      destinationKind(target) == .directory else { continue }
                try makeDirectories(dir)
                try copyLink(link, resolvedTarget: target, summary: &summary)
            }
        }
    }

    /// Every process's `comm` and, of its `fd` table, only the links into /dev/vfio (kept as the kernel
    /// wrote them: they are read, never followed). An `fd` directory in the snapshot is complete for VFIO.
    private func copyVFIOUsers(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        guard let entries = try? source.list("proc") else { return }
        if source.isLiveSystem && geteuid() != 0 {
            summary.processTableOmitted = "not running as root: other users' processes may be hidden (hidepid) or unreadable"
            return
        }
        var tables: [(pid: String, links: [(String, String)])] = []
        var unreadable = 0
        for pid in entries where Int(pid) != nil {
            let fdDir = "proc/\(pid)/fd"
            guard let fds = try? source.list(fdDir) else {
                if source.kind(fdDir) != nil { unreadable += 1 }
                continue
            }
            let links = fds.compactMap { fd -> (String, String)? in
                guard let target = try? source.readLinkText(fdDir + "/" + fd), target.hasPrefix("/dev/vfio/") else { return nil }
                return (fd, target)
            }
            tables.append((pid, links))
        }
        // A process table with holes would read as "nobody holds a VFIO device": leave it out instead.
        guard unreadable == 0 else {
            summary.processTableOmitted = "the open files of \(unreadable) process(es) are not readable (not root)"
            return
        }
        for (pid, links) in tables {
            let fdDir = "proc/\(pid)/fd"
            try makeDirectories(fdDir)
            try copyFile("proc/\(pid)/comm", to: "proc/\(pid)/comm", summary: &summary, required: false)
            for (fd, target) in links {
                if symlink(target, out(fdDir + "/" + fd)) != 0 && errno != EEXIST {
                    throw .cannotWrite(out(fdDir + "/" + fd), errno: errno)
                }
                summary.links += 1
            }
        }
    }

    /// The IOMMU tables (IVRS: AMD-Vi, DMAR: Intel VT-d), whose presence the ACS quirks read. The directory
    /// is made only when every one that exists was copied, so a snapshot never shows a table as absent that
    /// was only unreadable (they are root-only).
    private func copyACPITables(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        let dir = "sys/firmware/acpi/tables"
        guard let names = try? source.list(dir) else { return }
        let wanted = names.filter { $0 == "IVRS" || $0 == "DMAR" }
        var readable: [(String, [UInt8])] = []
        for name in wanted {
            guard let bytes = try? source.readBytes(dir + "/" + name, limit: 1 << 20) else {
                summary.skipped.append(Diagnostic(code: "unreadable", message: "\(dir)/\(name) is not readable (run snapshot as root); the snapshot leaves out the ACPI tables"))
                return
            }
            readable.append((name, bytes))
        }
        try makeDirectories(dir)
        for (name, _) in readable {
            try copyFile(dir + "/" + name, to: dir + "/" + name, summary: &summary, required: false, limit: 1 << 20)
        }
    }

    private func copyModuleParameters(_ summary: inout SnapshotSummary) throws(SnapshotError) {
        for module in ["vfio", "vfio_iommu_type1", "vfio_pci", "vfio_pci_core", "pci_stub", "pcieport", "kvm"] {
            let dir = "sys/module/\(module)/parameters"
            for name in (try? source.list(dir)) ?? [] where source.kind(dir + "/" + name) == .file {
                try copyFile(dir + "/" + name, to: dir + "/" + name, summary: &summary, required: false)
            }
        }
    }

    // MARK: Primitives (reads through HostRoot; writes only below the destination)

    /// Makes sure the destination is an empty directory; `true` when this call created it.
    private func prepareDestination() throws(SnapshotError) -> Bool {
        let sourceAbs = source.absolute("")
        for inner in ["sys", "proc"] {
            let prefix = (sourceAbs == "/" ? "" : sourceAbs) + "/" + inner
            if destination == prefix || destination.hasPrefix(prefix + "/") {
                throw .destinationInsideSource(destination)
            }
        }
        var info = stat()
        if lstat(destination, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .destinationNotEmpty(destination) }
            guard let dir = opendir(destination) else { throw .cannotWrite(destination, errno: errno) }
            defer { closedir(dir) }
            var count = 0
            while readdir(dir) != nil { count += 1 }
            if count > 2 { throw .destinationNotEmpty(destination) }
            return false
        } else if mkdir(destination, 0o755) != 0 {
            throw .cannotWrite(destination, errno: errno)
        }
        return true
    }

    /// Removes what this writer made below the destination (never follows a link).
    private func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR, let dir = opendir(path) {
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(dir)
            for name in names { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    private func out(_ relative: String) -> String { destination + "/" + relative }

    private func destinationKind(_ relative: String) -> HostRoot.Kind? {
        HostRoot(destination).kind(relative)
    }

    private func makeDirectories(_ relative: String) throws(SnapshotError) {
        guard !made.contains(relative) else { return }
        var path = destination
        var partial = ""
        for part in relative.split(separator: "/") {
            path += "/" + part
            partial += partial.isEmpty ? String(part) : "/" + part
            if made.contains(partial) { continue }
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw .cannotWrite(path, errno: errno)
            }
            made.insert(partial)
        }
    }

    /// Copies one regular file; returns how many bytes were read and the size the source reported, or `nil`
    /// when it was passed over (recorded in `summary.skipped` unless it is an optional file that is missing).
    @discardableResult
    private func copyFile(_ from: String, to relative: String, summary: inout SnapshotSummary, required: Bool, limit: Int = 4 << 20,
                          canonicalParent: Bool = false) throws(SnapshotError) -> (bytes: Int, size: Int)? {
        let bytes: [UInt8]
        let size: Int
        do {
            (bytes, size) = try source.readBytesAndSize(from, limit: limit, canonicalParent: canonicalParent)
        } catch {
            if !(error.isMissing && !required) {
                summary.skipped.append(Diagnostic(code: error.diagnosticCode, message: "\(from): \(error)"))
            }
            return nil
        }
        if let slash = relative.lastIndex(of: "/") {
            try makeDirectories(String(relative[..<slash]))
        }
        let path = out(relative)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o444)
        guard fd >= 0 else {
            if errno == EEXIST { return (bytes.count, size) }
            throw .cannotWrite(path, errno: errno)
        }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + offset }, bytes.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path, errno: errno)
            }
            offset += n
        }
        summary.files += 1
        return (bytes.count, size)
    }

    private func copyLinkIfInside(_ link: String, summary: inout SnapshotSummary) throws(SnapshotError) {
        let target: String
        do {
            target = try source.resolve(link)
        } catch {
            summary.skipped.append(Diagnostic(code: error.diagnosticCode, message: "\(link): \(error)"))
            return
        }
        try copyLink(link, resolvedTarget: target, summary: &summary)
    }

    /// Writes `link` as a relative link to `resolvedTarget` (both root-relative).
    private func copyLink(_ link: String, resolvedTarget: String, summary: inout SnapshotSummary) throws(SnapshotError) {
        let linkParts = link.split(separator: "/").dropLast()
        let targetParts = resolvedTarget.split(separator: "/")
        var common = 0
        while common < linkParts.count, common < targetParts.count,
              linkParts[linkParts.startIndex + common] == targetParts[common] {
            common += 1
        }
        let ups = Array(repeating: "..", count: linkParts.count - common)
        let text = (ups + targetParts[common...].map(String.init)).joined(separator: "/")
        try makeDirectories(linkParts.joined(separator: "/"))
        let path = out(link)
        if symlink(text.isEmpty ? "." : text, path) != 0 {
            if errno == EEXIST { return }
            throw .cannotWrite(path, errno: errno)
        }
        summary.links += 1
    }
}
