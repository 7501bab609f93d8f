/// Reads the attributes of one sysfs directory and keeps a diagnostic for every file it could not read.
///
/// A class, so that the steps of `SysfsScanner.readFunction` can share it without handing one
/// array of diagnostics to several closures at once (which Swift's exclusivity checks trap on).
final class AttributeReader {
    let root: HostRoot
    /// A canonical root-relative directory (from `HostRoot.resolve`).
    let dir: String
    private(set) var diagnostics: [Diagnostic] = []

    /// The directory opened once for its attributes (`nil`: not a real directory; paths are used).
    private(set) lazy var handle: HostRoot.Directory? = root.openDirectory(canonical: dir)

    init(root: HostRoot, dir: String) {
        self.root = root
        self.dir = dir
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
            let text: String
            if let handle { text = try root.readLinkText(name, in: handle) } else { text = try root.readLinkText(path) }
            guard let last = text.split(separator: "/").last, last != "..", last != "." else {
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
        let text: String
        do {
            if let handle { text = try root.readLinkText(name, in: handle) } else { text = try root.readLinkText(dir + "/" + name) }
        } catch {
            return nil
        }
        var parts = text.hasPrefix("/") ? [] : dir.split(separator: "/").map(String.init)
        for p in text.split(separator: "/") {
            if p == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else if p != "." {
                parts.append(String(p))
            }
        }
        return parts.joined(separator: "/")
    }

    /// The `driver` link: `.known(nil)` when absent, the driver's name when it leads to a driver directory,
    /// and a diagnostic when it dangles (the name is still the kernel's word) or loops (unknown).
    func driver() -> Fact<String?> {
        let path = dir + "/driver"
        guard kind("driver") != nil else {
            return .known(nil, evidence: "\(dir) has no driver link")
        }
        guard let name = linkName("driver") else {
            return .unknown("the driver link of \(dir) is damaged", remedy: "read the host's own sysfs")
        }
        // The kernel links a bound device to sys/bus/pci/drivers/NAME; a link anywhere else names no driver.
        guard let target = lexicalTarget("driver"), target.hasPrefix("sys/bus/pci/drivers/"), target.split(separator: "/").count == 5 else {
            note("link-misdirected", "driver does not lead into sys/bus/pci/drivers/ (it points to \(TerminalSafe.escape(lexicalTarget("driver") ?? "a place above the root"))); which driver is bound is unknown")
            return .unknown("the driver link of \(dir) does not lead to a PCI driver", remedy: "read the host's own sysfs")
        }
        do {
            let target = try root.resolve(path)
            if root.kind(target) != .directory {
                note("not-a-directory", "driver leads to \(target), which is not a driver directory")
            } else if let bdf = dir.split(separator: "/").last, root.kind(target + "/" + bdf) == nil {
                // The driver's directory links back to every device it drives (driver_sysfs_add): a driver directory
                // without this device's link contradicts the device's own link.
                note("driver-inconsistent", "driver -> \(name), but \(target) has no link back to \(bdf); which driver is bound is unknown")
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
        do {
            return try root.entries(ofCanonical: dir)
        } catch {
            note(error.diagnosticCode, "\(dir): \(error)")
            return []
        }
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
