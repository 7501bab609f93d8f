import PCIHost

/// What the product knows of each in-tree VFIO PCI driver: the driver name sysfs shows, its module, the Linux
/// release that added it, and whether it implements VFIO live migration (the v2 state machine,
/// `VFIO_DEVICE_FEATURE_MIGRATION` with `VFIO_MIGRATION_STOP_COPY`) and device dirty-page tracking
/// (`VFIO_DEVICE_FEATURE_DMA_LOGGING_*`, a `vfio_log_ops`). Taken from drivers/vfio/pci/ of a mainline tree
/// (torvalds/linux after v7.0-rc1: each driver's `pci_driver.name`, `migration_flags`, `mig_ops` and `log_ops`) and
/// the VFIO pull requests of each release. Every one sets `driver_managed_dma`. The drivers other than vfio-pci
/// offer migration only for VFs, and mlx5, hisi_acc and virtio only where the device or its firmware reports it:
/// the device's own answer is `VFIO_DEVICE_FEATURE_MIGRATION`, or debugfs `vfio/BDF/migration/features` (6.18+).
public struct VFIOPCIDriverInfo: Hashable, Sendable {
    public enum DirtyTracking: String, Hashable, Sendable {
        /// The device tracks the pages it writes (`log_ops`): QEMU migrates it with or without IOMMU dirty tracking.
        case device
        /// The device does not: QEMU needs the IOMMU's dirty tracking (iommufd, Linux 6.7+ and a capable IOMMU)
        /// or stops the guest to copy all of its memory (QEMU's vfio-pci `enable-migration=on`).
        case none
    }

    /// The driver as sysfs names it (`bus/pci/drivers/NAME`, what driver_override takes).
    public let driver: String
    /// The module modprobe loads (modules.alias names it).
    public let module: String
    /// The Linux release that added the driver.
    public let addedIn: String
    /// The Linux release from which the driver implements VFIO migration (v2); `nil` when it does not.
    public let migrationSince: String?
    public let dirtyTracking: DirtyTracking
    /// What the driver is for.
    public let devices: String

    /// The in-tree VFIO PCI drivers (drivers/vfio/pci/ of mainline after v7.0-rc1).
    public static let inTree: [VFIOPCIDriverInfo] = [
        VFIOPCIDriverInfo(driver: "vfio-pci", module: "vfio_pci", addedIn: "3.6", migrationSince: nil, dirtyTracking: .none,
                          devices: "any PCI function"),
        VFIOPCIDriverInfo(driver: "mlx5_vfio_pci", module: "mlx5_vfio_pci", addedIn: "5.18", migrationSince: "5.18", dirtyTracking: .device,
                          devices: "NVIDIA/Mellanox ConnectX-7 and BlueField-3 VFs"),
        VFIOPCIDriverInfo(driver: "hisi_acc_vfio_pci", module: "hisi_acc_vfio_pci", addedIn: "5.18", migrationSince: "5.18", dirtyTracking: .none,
                          devices: "HiSilicon accelerator (SEC, HPRE, ZIP) VFs"),
        VFIOPCIDriverInfo(driver: "pds_vfio_pci", module: "pds_vfio_pci", addedIn: "6.6", migrationSince: "6.6", dirtyTracking: .device,
                          devices: "AMD/Pensando DSC VFs"),
        VFIOPCIDriverInfo(driver: "virtio_vfio_pci", module: "virtio_vfio_pci", addedIn: "6.8", migrationSince: "6.13", dirtyTracking: .none,
                          devices: "virtio-net VFs (legacy I/O), virtio-net and virtio-blk VFs (migration)"),
        VFIOPCIDriverInfo(driver: "nvgrace_gpu_vfio_pci", module: "nvgrace_gpu_vfio_pci", addedIn: "6.9", migrationSince: nil, dirtyTracking: .none,
                          devices: "NVIDIA Grace Hopper/Blackwell GPUs"),
        VFIOPCIDriverInfo(driver: "qat_vfio_pci", module: "qat_vfio_pci", addedIn: "6.10", migrationSince: "6.10", dirtyTracking: .none,
                          devices: "Intel QAT 4xxx VFs"),
        VFIOPCIDriverInfo(driver: "xe-vfio-pci", module: "xe_vfio_pci", addedIn: "6.19", migrationSince: "6.19", dirtyTracking: .none,
                          devices: "Intel Xe graphics SR-IOV VFs"),
        VFIOPCIDriverInfo(driver: "ism_vfio_pci", module: "ism_vfio_pci", addedIn: "7.1", migrationSince: nil, dirtyTracking: .none,
                          devices: "IBM Z ISM devices (s390)"),
    ]

    /// The entry for a driver or module name (`-` and `_` alike, as modprobe reads them).
    public static func named(_ name: String?) -> VFIOPCIDriverInfo? {
        guard let name else { return nil }
        let key = name.replacingUnderscores
        return inTree.first { $0.driver.replacingUnderscores == key || $0.module.replacingUnderscores == key }
    }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }
}

/// The unit-level VFIO rules: which backend can open the unit, whether it can migrate, and the vGPU type of
/// NVIDIA vGPU VFs.
public enum VFIOBackendRules {
    /// The VFIO driver each endpoint has or will have: the VFIO driver it is bound to, the variant driver the
    /// module table names for it, else vfio-pci; with the evidence. `nil` driver: unknown (and why).
    public static func vfioDriver(_ f: PCIFunction) -> (driver: String?, evidence: String) {
        if let d = f.driver, VFIODrivers.isVFIO(d) { return (d, f.driverBinding.evidence ?? "driver -> \(d)") }
        if f.vfioRegistration != nil, let d = f.driver { return (d, "vfio-dev below \(f.address): \(d) registered a VFIO device") }
        switch f.vfioVariantDrivers {
        case let .known(variants, evidence):
            guard let module = variants.first else { return ("vfio-pci", evidence) }
            return (VFIOPCIDriverInfo.named(module)?.driver ?? module, evidence)
        case let .unknown(u):
            return (nil, u.reason)
        }
    }

    /// The backends that can open the unit's endpoints (check line `backend`). PASS: the legacy container
    /// (`/dev/vfio/vfio` with vfio_iommu_type1, or iommufd's compatibility container) or iommufd with the VFIO
    /// device cdev is there now. WARN: VFIO is not loaded yet (`modprobe vfio-pci` loads vfio and, by its soft
    /// dependency, vfio_iommu_type1). FAIL: the kernel's configuration has neither. UNKNOWN otherwise. Groups
    /// decide what goes together under both backends (iommufd does not split a group: vfio_device_cdev_open
    /// blocks the group, and the group's viability still applies).
    public static func backend(_ members: [PCIFunction], _ model: HostModel) -> [Finding] {
        let b = model.environment.vfioBackends
        let addresses = members.map(\.address)
        var evidence: [String] = []
        // The legacy container.
        var container: Bool?
        if b.containerNode.value == true, b.type1.value == true {
            container = true
            evidence += [b.containerNode.evidence, b.type1.evidence].compactMap { $0 }
        } else if b.containerNode.value == true, b.iommufdNode.value == true, b.type1.value == false {
            // /dev/vfio/vfio without type1 but with iommufd: iommufd's compatibility container (IOMMUFD_VFIO_CONTAINER).
            container = true
            evidence += [b.containerNode.evidence, b.iommufdNode.evidence, b.type1.evidence].compactMap { $0 }
            evidence.append("/dev/vfio/vfio is iommufd's compatibility container (no vfio_iommu_type1)")
        } else if b.type1.value == true && b.containerNode.value == false {
            // type1 is there but the kernel's misc devices lack vfio: the two contradict each other.
            return [.unknown(.backendUnknown, "Which VFIO backend can open the unit is unknown.", functions: addresses,
                             Unknown("\(b.type1.evidence ?? "vfio_iommu_type1 is loaded") but \(b.containerNode.evidence ?? "class/misc has no vfio"): they contradict each other", remedy: "read the host's own sysfs"))]
        } else if b.type1.value == true {
            // type1 needs the container (VFIO_IOMMU_TYPE1 depends on VFIO_CONTAINER, Linux 6.2+; before, always).
            container = true
            evidence += [b.type1.evidence].compactMap { $0 } + ["vfio_iommu_type1 serves the container /dev/vfio/vfio"]
        } else if b.containerNode.value == false {
            container = false
            evidence += [b.containerNode.evidence].compactMap { $0 }
        }
        // iommufd with the device cdev.
        var cdev: Bool?
        if b.iommufdNode.value == true, b.deviceCdev.value == true {
            cdev = true
            evidence += [b.iommufdNode.evidence, b.deviceCdev.evidence].compactMap { $0 }
            let bound = members.filter { $0.vfioRegistration != nil }
            for f in bound where f.vfioRegistration?.characterDevice != true {
                cdev = false
                evidence.append("\(f.address) is a VFIO device without a cdev")
            }
            if let node = bound.first?.vfioDevice { evidence.append("\(bound.first?.address.description ?? ""): \(node)") }
        } else if b.iommufdNode.value == false || b.deviceCdev.value == false {
            cdev = false
            evidence += [b.iommufdNode.value == false ? b.iommufdNode.evidence : b.deviceCdev.evidence].compactMap { $0 }
        }
        let names = [container == true ? "the legacy container (/dev/vfio/vfio, one group at a time)" : nil,
                     cdev == true ? "iommufd (/dev/iommu with the device cdevs /dev/vfio/devices/vfioN)" : nil].compactMap { $0 }
        if !names.isEmpty {
            let other = container == true && cdev == nil ? " Whether iommufd can: \(b.iommufdNode.unknown?.reason ?? b.deviceCdev.unknown?.reason ?? "unknown")."
                : cdev == true && container == nil ? " Whether the legacy container can: unknown." : ""
            return [Finding(.backendAvailable, .info, "VFIO can open the unit through \(names.joined(separator: " and ")).\(other)",
                            functions: addresses, evidence: evidence)]
        }
        // Neither is there now. Is VFIO just not loaded yet?
        let config = b.kernelConfig
        if case let .unknown(u) = config, !(u.reason.hasPrefix("the kernel's configuration (boot/config-RELEASE) is not in the input")) {
            return [.unknown(.backendUnknown, "Which VFIO backend can open the unit is unknown.", functions: addresses, u)]
        }
        if let options = config.value {
            let legacy = options["CONFIG_VFIO_CONTAINER"] != nil || options["CONFIG_IOMMUFD_VFIO_CONTAINER"] != nil
            let iommufd = options["CONFIG_IOMMUFD"] != nil && options["CONFIG_VFIO_DEVICE_CDEV"] != nil
            if options["CONFIG_VFIO"] == nil || (!legacy && !iommufd) {
                return [Finding(.noBackend, .fail, "The kernel has no VFIO backend: \(options["CONFIG_VFIO"] == nil ? "CONFIG_VFIO is not set" : "neither the container nor iommufd with the device cdev is built").",
                                functions: addresses, evidence: evidence + [config.evidence].compactMap { $0 },
                                fix: "boot a kernel built with CONFIG_VFIO, CONFIG_VFIO_PCI and CONFIG_VFIO_IOMMU_TYPE1 (or CONFIG_IOMMUFD with CONFIG_VFIO_DEVICE_CDEV)")]
            }
        }
        if container == false || b.containerNode.value == false || (b.containerNode.isKnown == false && b.type1.value == false) {
            let has = config.value.map { o in
                [o["CONFIG_VFIO_CONTAINER"] != nil ? "the legacy container" : nil, o["CONFIG_IOMMUFD"] != nil && o["CONFIG_VFIO_DEVICE_CDEV"] != nil ? "iommufd with the device cdev" : nil].compactMap { $0 }.joined(separator: " and ")
            }
            return [Finding(.backendNotLoaded, .warn,
                            "VFIO is not loaded, so no backend is there yet: `modprobe vfio-pci` loads vfio and vfio_iommu_type1 (its soft dependency)\(has.map { "; the kernel's configuration has \($0)" } ?? ", if the kernel has them (its configuration is not in the input)").",
                            functions: addresses, evidence: evidence + [config.evidence].compactMap { $0 },
                            fix: "modprobe vfio-pci", steps: [.run(["modprobe", "vfio-pci"])])]
        }
        let why = b.containerNode.unknown ?? b.type1.unknown ?? b.iommufdNode.unknown ?? Unknown("the input does not show VFIO's devices", remedy: "read the host's sysfs")
        return [.unknown(.backendUnknown, "Which VFIO backend can open the unit is unknown.", functions: addresses, why)]
    }

    /// Live-migration readiness (check line `migration`, never blocking): every endpoint's VFIO driver must
    /// implement VFIO migration (v2). INFO when all do, WARN (a caution) naming those that do not or are unknown.
    public static func migration(_ members: [PCIFunction], _ model: HostModel) -> [Finding] {
        var cannot: [(PCIAddress, String)] = []
        var evidence: [String] = []
        var unknown: [(PCIAddress, String)] = []
        var unverified: [(PCIAddress, String)] = []
        var tracking: [String] = []
        for f in members {
            // The kernel's own word first: debugfs lists the device's migration features.
            if let features = f.vfioMigrationFeatures {
                switch features {
                case let .known(words, e) where words.contains("stop-copy"):
                    evidence.append("\(f.address): \(e)")
                    if !words.contains("dirty-tracking") { tracking.append(f.address.description) }
                    continue
                case let .known(_, e):
                    cannot.append((f.address, "its VFIO device offers no stop-copy migration"))
                    evidence.append("\(f.address): \(e)")
                    continue
                case .unknown:
                    break
                }
            }
            let (driver, why) = vfioDriver(f)
            guard let driver else {
                unknown.append((f.address, why))
                continue
            }
            guard let info = VFIOPCIDriverInfo.named(driver) else {
                unknown.append((f.address, "\(driver) is not an in-tree VFIO PCI driver this version knows (a vendor driver: its documentation says whether it migrates)"))
                evidence.append(why)
                continue
            }
            evidence.append("\(f.address): \(info.driver) (\(why))")
            if let since = info.migrationSince {
                evidence.append("\(info.driver) implements VFIO migration (v2) since Linux \(since) for VFs whose device offers it; dirty pages tracked by \(info.dirtyTracking == .device ? "the device" : "the IOMMU (iommufd dirty tracking) or not at all")")
                // The driver can; whether this device does (firmware, devlink's migratable bit) only the kernel says.
                unverified.append((f.address, info.driver))
                if info.dirtyTracking == .none { tracking.append(f.address.description) }
            } else {
                cannot.append((f.address, "\(info.driver) does not implement VFIO migration"))
            }
        }
        let addresses = members.map(\.address)
        if cannot.isEmpty && unknown.isEmpty && !unverified.isEmpty {
            return [Finding(.migrationUnverified, .warn,
                "\(unverified.map { "\($0.0) (\($0.1))" }.joined(separator: ", ")): the VFIO driver implements live migration, but whether this device offers it (its firmware, devlink's migratable setting) only the kernel says: kernel/debug/vfio/BDF/migration/features (Linux 6.18+, CONFIG_VFIO_DEBUGFS) once bound, or QEMU's migration blockers.",
                functions: unverified.map(\.0), evidence: evidence)]
        }
        if cannot.isEmpty && unknown.isEmpty {
            let note = tracking.isEmpty ? "" : " \(tracking.joined(separator: ", ")) track\(tracking.count == 1 ? "s" : "") no dirty pages: QEMU needs the IOMMU's dirty tracking (iommufd) or copies the guest's memory while it is stopped."
            return [Finding(.migratable, .info, "Every member's VFIO driver implements live migration (QEMU 8.1+ migrates it with vfio-pci's enable-migration=auto when the guest has no vIOMMU; libvirt 8.6+ asks QEMU and needs nothing in the hostdev; the destination needs the same driver).\(note)",
                            functions: addresses, evidence: evidence)]
        }
        var reasons: [String] = []
        for (_, why) in unknown where !reasons.contains(why) { reasons.append(why) }
        var basis: [String] = []
        for e in evidence + reasons.map({ "unknown: \($0)" }) where !basis.contains(e) { basis.append(e) }
        let message = cannot.isEmpty
            ? "Whether the unit can be live-migrated is unknown for \(unknown.map(\.0.description).joined(separator: ", ")): which VFIO driver it will have, or whether that driver migrates, is unknown."
            : "The unit cannot be live-migrated: \(cannot.map { "\($0.0) (\($0.1))" }.joined(separator: ", "))\(unknown.isEmpty ? "" : "; unknown for \(unknown.map(\.0.description).joined(separator: ", "))"). A VM holding it must stop to move; assignment is not affected."
        return [Finding(cannot.isEmpty ? .migrationUnknown : .notMigratable, .warn, message, functions: cannot.map(\.0) + unknown.map(\.0), evidence: basis)]
    }

    /// Whether the unit can be live-migrated: `true` when every endpoint's VFIO driver implements migration (or
    /// the kernel's debugfs says its device does), `false` when one does not, `nil` when that is unknown.
    public static func migratable(_ members: [PCIFunction], _ model: HostModel) -> Bool? {
        let endpoints = members.filter { !FunctionRules.isBridge($0) && !FunctionRules.isChipset($0) }
        guard !endpoints.isEmpty, let finding = migration(endpoints, model).first else { return nil }
        if finding.code == .migratable { return true }
        return finding.message.hasPrefix("The unit cannot") ? false : nil
    }

    /// NVIDIA vGPU on SR-IOV VFs: a VF with NVIDIA's vGPU files is usable only with a vGPU type set.
    public static func vgpu(_ f: PCIFunction) -> [Finding] {
        let a = f.address
        guard let v = f.nvidiaVGPU else {
            // A VF NVIDIA's driver keeps as a VFIO device always has its nvidia/ files: without them the state is unknown.
            if f.vendorID == 0x10de, f.driver == "nvidia", f.vfioRegistration != nil || f.vfioRegistrationUnknown != nil {
                return [.unknown(.vgpuTypeUnknown, "Whether \(a) has a vGPU type is unknown.", functions: [a],
                                 Unknown("\(a) is a VFIO device of the nvidia driver without its nvidia/ vGPU files", remedy: "read the host's own sysfs"))]
            }
            return []
        }
        let file = "/sys/bus/pci/devices/\(a)/nvidia/current_vgpu_type"
        switch v.current {
        case let .known(id?, evidence):
            let name = v.creatable.value?.first { $0.id == id }?.name
            return [Finding(.vgpuTypeSet, .info, "\(a) has vGPU type \(id)\(name.map { " (\($0))" } ?? "").", functions: [a], evidence: [evidence])]
        case let .known(nil, evidence):
            let list: String
            switch v.creatable {
            case let .known(types, _):
                list = types.isEmpty ? "creatable_vgpu_types lists none now (the GPU may be full, or its mode mixed)" : types.map { "\($0.id) \($0.name)" }.joined(separator: ", ")
            case let .unknown(u):
                list = "unknown: \(u.reason)"
            }
            return [Finding(.vgpuTypeUnset, .warn, "\(a) is an NVIDIA vGPU VF with no vGPU type set: a guest cannot use it until one is.",
                            functions: [a], evidence: [evidence] + [v.creatable.evidence].compactMap { $0 },
                            fix: "echo ID > \(file) (types it can take: \(list))")]
        case let .unknown(u):
            return [.unknown(.vgpuTypeUnknown, "Whether \(a) has a vGPU type is unknown.", functions: [a], u)]
        }
    }
}
