/// Reads the attributes of one sysfs directory and keeps a diagnostic for every file it could not read.
///
/// A class, so that the steps of `SysfsScanner.readFunction` can share it without handing one
/// array of diagnostics to several closures at once (which Swift's exclusivity checks trap on).
final class AttributeReader {
    let root: HostRoot
    /// A canonical root-relative directory (from `HostRoot.resolve`).
    let dir: String
    private(set) var diagnostics: [Diagnostic] = []

    /// The directory opened and listed once for its attributes (`nil`: not a real directory; paths are used).
    private(set) lazy var handle: HostRoot.Directory? = root.openDirectoryListing(canonical: dir)
    /// Link texts already read (`linkName` and `lexicalTarget` of one link read it once).
    private var links: [String: Result<String, HostReadError>] = [:]

    /// The driver directories of the scan this reader belongs to.
    let drivers: DriverDirectories

    init(root: HostRoot, dir: String, drivers: DriverDirectories = DriverDirectories()) {
        self.root = root
        self.dir = dir
        self.drivers = drivers
    }

    /// What `name` in the directory is, without following a link.
    func kind(_ name: String) -> HostRoot.Kind? {
        if let handle { return root.kind(name, in: handle) }
        return root.kind(dir + "/" + name)
    }

    func note(_ code: String, _ message: String) {
        diagnostics.append(Diagnostic(code: code, message: message))
    }

    func append(_ diagnostic: Diagnostic) {
        diagnostics.append(diagnostic)
    }

    /// A text attribute, `nil` when absent (no diagnostic) or unreadable (a diagnostic naming the file).
    /// A one-line attribute has its control characters escaped (`TerminalSafe`): a value holding one is not
    /// what the kernel prints, and never reaches a terminal raw; `multiline` keeps the file's line structure.
    func text(_ name: String, multiline: Bool = false) -> String? {
        do {
            let value: String?
            if let handle {
                value = try root.readTextIfPresent(name, in: handle)
            } else {
                value = try root.readTextIfPresent(dir + "/" + name, canonicalParent: true)
            }
            if value?.isEmpty == true {
                // The kernel never shows an attribute without a value.
                note("empty-attribute", "\(name) is empty; ignored")
                return nil
            }
            return multiline ? value : value.map(TerminalSafe.escape)
        } catch {
            note(error.diagnosticCode, "\(name): \(error)")
            return nil
        }
    }

    /// A hex attribute (`0x8086`). `required`: the kernel always provides it, so absence is a diagnostic.
    func hex(_ name: String, required: Bool = false) -> UInt32? {
        let before = diagnostics.count
        guard let text = text(name) else {
            if required && diagnostics.count == before {
                note("missing-file", "\(name): the kernel always provides this file, but it is missing")
            }
            return nil
        }
        guard let value = parseHex(text) else {
            note("malformed-attribute", "\(name) holds '\(text.prefix(40))', not a hex number")
            return nil
        }
        return value
    }

    func int(_ name: String) -> Int? {
        guard let text = text(name) else { return nil }
        guard let value = Int(text) else {
            note("malformed-attribute", "\(name) holds '\(text.prefix(40))', not a number")
            return nil
        }
        return value
    }

    /// The last component of a link's target, `nil` when there is no such entry (no diagnostic) or it is
    /// not a readable link (a diagnostic naming it).
    func linkName(_ name: String) -> String? {
        let path = dir + "/" + name
        guard let kind = kind(name) else { return nil }
        guard kind == .link else {
            note("not-a-link", "\(name) should be a symbolic link but is a \(kind == .directory ? "directory" : kind == .file ? "regular file" : "special file"); ignored")
            return nil
        }
        do {
            let text = try linkText(name)
            guard let last = text.lastPathComponent(), last != "..", last != "." else {
                note("malformed-attribute", "\(name) points to '\(text)', which names nothing")
                return nil
            }
            return TerminalSafe.escape(String(last))
        } catch {
            note(error.diagnosticCode, "\(name): \(error)")
            return nil
        }
    }

    /// Where the link `name` points, resolved lexically against this directory (root-relative, `nil` when it climbs
    /// above the root): what the kernel wrote, whether or not it exists in this tree.
    func lexicalTarget(_ name: String) -> String? {
        guard let text = try? linkText(name) else { return nil }
        return HostRoot.lexicalJoin(dir, text)
    }

    /// The text of the link `name`, read once per reader.
    func linkText(_ name: String) throws(HostReadError) -> String {
        if let known = links[name] { return try known.get() }
        let result: Result<String, HostReadError>
        do {
            if let handle { result = .success(try root.readLinkText(name, in: handle)) } else { result = .success(try root.readLinkText(dir + "/" + name)) }
        } catch {
            result = .failure(error)
        }
        links[name] = result
        return try result.get()
    }

    /// The `driver` link: `.known(nil)` when absent, the driver's name when it leads to a driver directory,
    /// and a diagnostic when it dangles (the name is still the kernel's word) or loops (unknown).
    func driver() -> Fact<String?> {
        guard kind("driver") != nil else {
            return .known(nil, evidence: "\(dir) has no driver link")
        }
        guard let name = linkName("driver") else {
            return .unknown("the driver link of \(dir) is damaged", remedy: "read the host's own sysfs")
        }
        // The kernel links a bound device to sys/bus/pci/drivers/NAME; a link anywhere else names no driver.
        guard let target = lexicalTarget("driver"), target.hasPrefix("sys/bus/pci/drivers/"), target.fastSplit("/").count == 5 else {
            note("link-misdirected", "driver does not lead into sys/bus/pci/drivers/ (it points to \(TerminalSafe.escape(lexicalTarget("driver") ?? "a place above the root"))); which driver is bound is unknown")
            return .unknown("the driver link of \(dir) does not lead to a PCI driver", remedy: "read the host's own sysfs")
        }
        do {
            // The driver's directory, resolved and listed once per scan (its name, the link's lexical target, is
            // where the link leads: `dir` is canonical).
            // Only a link of the kernel's shape (`../../../bus/pci/drivers/NAME`) is taken lexically: any other `..`
            // or `.` must be walked, since what it passes through may be missing, a file or a loop.
            let shaped = (try? linkText("driver")).map(HostRoot.isKernelShapedLink) ?? false
            let (resolved, isDirectory, members) = shaped
                ? try drivers.directory(target, root: root)
                : try drivers.unshared(root.resolve(dir + "/driver"), root: root)
            if !isDirectory {
                note("not-a-directory", "driver leads to \(resolved), which is not a driver directory")
            } else if let bdf = dir.lastPathComponent(),
                      members.map({ !$0.contains(String(bdf)) }) ?? (root.kind(resolved + "/" + bdf) == nil) {
                // The driver's directory links back to every device it drives (driver_sysfs_add): a driver directory
                // without this device's link contradicts the device's own link.
                note("driver-inconsistent", "driver -> \(name), but \(resolved) has no link back to \(bdf); which driver is bound is unknown")
                return .unknown("the driver link of \(dir) names \(name), whose directory does not list the device", remedy: "read the host's own sysfs")
            }
        } catch where error.isMissing {
            note("dangling-link", "driver -> \(name) leads nowhere in this tree (an incomplete snapshot?); the name is taken from the link")
        } catch {
            note(error.diagnosticCode, "driver -> \(name) cannot be followed: \(error)")
            return .unknown("the driver link of \(dir) (-> \(name)) cannot be followed: \(error)", remedy: "read the host's own sysfs")
        }
        return .known(name, evidence: "driver -> \(name)")
    }

    /// Entries of the directory itself, with their kinds; a diagnostic when it cannot be listed.
    func entries() -> [(name: String, kind: HostRoot.Kind)] {
        if let listing = handle?.listing {
            return listing.map { (name: $0.key, kind: $0.value) }.sorted { $0.name < $1.name }
        }
        do {
            return try root.entries(ofCanonical: dir)
        } catch {
            note(error.diagnosticCode, "\(dir): \(error)")
            return []
        }
    }
}

/// The PCI driver directories (`sys/bus/pci/drivers/NAME`) one scan has resolved and listed: a driver's directory
/// links back to every device it drives (driver_sysfs_add), so one listing answers for all its devices.
final class DriverDirectories {
    private var known: [String: Result<(String, Bool, Set<String>?), HostReadError>] = [:]

    init() {}

    /// `canonical` (already resolved) as `directory` answers it, without caching.
    func unshared(_ canonical: String, root: HostRoot) -> (String, Bool, Set<String>?) {
        root.kind(canonical) == .directory ? (canonical, true, nil) : (canonical, false, nil)
    }

    /// The canonical path of `target`, whether it is a directory, and its entry names (`nil` when it cannot be
    /// listed: the caller then asks for its one entry).
    /// - Throws: `HostReadError` when `target` cannot be resolved (missing: a dangling driver link).
    func directory(_ target: String, root: HostRoot) throws(HostReadError) -> (String, Bool, Set<String>?) {
        if let result = known[target] { return try result.get() }
        let result: Result<(String, Bool, Set<String>?), HostReadError>
        do {
            let canonical = try root.resolve(target)
            if root.kind(canonical) == .directory {
                result = .success((canonical, true, root.openDirectoryListing(canonical: canonical)?.listing.map { Set($0.keys) }))
            } else {
                result = .success((canonical, false, nil))
            }
        } catch {
            result = .failure(error)
        }
        known[target] = result
        return try result.get()
    }
}

/// Names in the sysfs layout that both the scanner and the snapshot writer pass over.
public enum SysfsLayout {
    /// Directories below a function that hold no host-use evidence (and can be large, or loop back).
    public static let notHostUseEvidence: Set<String> = [
        "power", "msi_irqs", "queues", "statistics", "holders", "slaves", "mq", "queue", "integrity", "trace", "bdi",
        "subsystem", "driver", "firmware_node", "iommu", "iommu_group", "physfn", "device", "link", "hwmon", "ptp", "phydev",
    ]
}
