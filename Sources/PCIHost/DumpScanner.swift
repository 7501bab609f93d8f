import PCIConfigSpace
import PCILibPCI

/// Builds a `HostModel` from an lspci hex dump (`lspci -x`, `-xxx`, `-xxxx`) through libpci's dump method.
///
/// A dump holds config space only: no drivers, groups or sysfs attributes. Topology
/// comes from the bridges' bus numbers.
public struct DumpScanner {
    public let path: String
    public let names: PCIIDDatabase?
    public let options: ScanOptions

    public init(path: String, names: PCIIDDatabase? = nil, options: ScanOptions = ScanOptions()) {
        self.path = path
        self.names = names
        self.options = options
    }

    public func scan() throws(HostScanError) -> HostModel {
        let dumped: [DumpedFunction]
        do {
            dumped = try LibPCIDump.read(path: path)
        } catch {
            throw .dumpUnreadable(path, reason: error.message)
        }
        guard !dumped.isEmpty else { throw .dumpEmpty(path) }
        var hostDiagnostics: [Diagnostic] = []
        var functions: [PCIFunction] = []
        var seen: Set<PCIAddress> = []
        // A listing may name a function twice, once as text and once with its hex: only the
        // occurrences with at least a header count.
        let usable = Set(dumped.filter { $0.config.count >= 64 }.map {
            PCIAddress(domain: $0.domain, bus: $0.bus, device: $0.device, function: $0.function)
        })
        for d in dumped {
            let address = PCIAddress(domain: d.domain, bus: d.bus, device: d.device, function: d.function)
            let bytes = ConfigBytes(d.config)
            guard let header = try? ConfigHeader(from: bytes) else {
                // lspci cannot show such a function either ("Unable to read the standard configuration space header").
                if !usable.contains(address) {
                    hostDiagnostics.append(Diagnostic(code: "config-truncated", message: "\(address): the dump holds only \(d.config.count) bytes for it, less than the 64-byte header; left out"))
                }
                continue
            }
            guard seen.insert(address).inserted else {
                hostDiagnostics.append(Diagnostic(code: "duplicate-function", message: "\(address) appears more than once in the dump with config bytes; the first is used"))
                continue
            }
            var function = PCIFunction(
                address: address, vendorID: header.vendorID, deviceID: header.deviceID,
                subsystemVendorID: header.subsystemVendorID, subsystemDeviceID: header.subsystemID,
                classCode: header.classCode, revision: header.revision, header: header,
                configBytesReadable: d.config.count, configSize: d.config.count)
            function.rawConfig = d.config
            if options.decodeCapabilities, let decoded = try? ConfigSpaceDecoder.decode(bytes) {
                function.config = decoded
                function.diagnostics += decoded.diagnostics.map { Diagnostic(code: $0.code, message: $0.message) }
            } else if header.idsReadAllOnes {
                function.diagnostics.append(Diagnostic(code: "config-all-ones",
                    message: "vendor and device read ffff: absent, powered off, or a virtual function whose IDs only sysfs knows"))
            }
            if let names, !header.idsReadAllOnes { function.takeNames(from: names) }
            functions.append(function)
        }
        guard !functions.isEmpty else { throw .dumpWithoutConfig(path, functions: dumped.count) }
        Self.assignUpstreamFromBusNumbers(&functions, diagnostics: &hostDiagnostics)
        var environment = HostEnvironment()
        environment.iommuGroupsDirectoryPresent = false
        return HostModel(source: .dump(path: path), functions: functions, groups: [], environment: environment, diagnostics: hostDiagnostics)
    }

    /// With config space only, a function's parent is the bridge whose secondary bus is the function's bus.
    static func assignUpstreamFromBusNumbers(_ functions: inout [PCIFunction], diagnostics: inout [Diagnostic]) {
        struct BusKey: Hashable {
            let domain: UInt32
            let bus: UInt8
        }
        var bridgeFor: [BusKey: PCIAddress] = [:]
        for f in functions {
            guard let numbers = f.header?.busNumbers, numbers.secondary != 0 else { continue }
            let key = BusKey(domain: f.address.domain, bus: numbers.secondary)
            if let other = bridgeFor[key], other != f.address {
                diagnostics.append(Diagnostic(code: "bus-number-conflict",
                    message: "\(other) and \(f.address) both claim secondary bus \(hex(numbers.secondary, 2)); \(other) is taken as its parent"))
                continue
            }
            bridgeFor[key] = f.address
        }
        for i in functions.indices {
            var chain: [PCIAddress] = []
            var visited: Set<PCIAddress> = [functions[i].address]
            var bus = BusKey(domain: functions[i].address.domain, bus: functions[i].address.bus)
            while let parent = bridgeFor[bus], visited.insert(parent).inserted {
                chain.append(parent)
                bus = BusKey(domain: parent.domain, bus: parent.bus)
            }
            functions[i].upstream = chain
        }
    }
}
