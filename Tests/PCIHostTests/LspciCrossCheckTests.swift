import Foundation
import PCIConfigSpace
import PCIHost
import Testing
import TestSupport

/// The decoder against the real lspci: every function of every fixture (lspci.txt) and of every real
/// hex dump (the installed `lspci -F FILE -vvv`) is its own test case.
@Suite("Decoder agrees with lspci -vvv")
struct LspciCrossCheckTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let source: String
        let address: String
        var testDescription: String { "\(source) \(address)" }
    }

    static let fixtureModels: [String: HostModel] = {
        var result: [String: HostModel] = [:]
        for name in Fixtures.sysfsNames {
            result[name] = try? SysfsScanner(root: HostRoot(Fixtures.sysfs(name)), options: ScanOptions(decodeCapabilities: true)).scan()
        }
        return result
    }()

    static let fixtureLspci: [String: [String: LspciDevice]] = {
        var result: [String: [String: LspciDevice]] = [:]
        for name in Fixtures.sysfsNames {
            let text = (try? String(contentsOfFile: Fixtures.sysfsFile(name, "lspci.txt"), encoding: .utf8)) ?? ""
            result[name] = LspciVerbose.parse(text)
        }
        return result
    }()

    static let fixtureCases: [Case] = fixtureModels.keys.sorted().flatMap { name in
        (fixtureModels[name]?.functions ?? []).map { Case(source: name, address: $0.address.description) }
    }

    static let dumpFiles: [String] = {
        // The hex dumps of INDEX.tsv.
        guard let text = try? String(contentsOfFile: Fixtures.realdata("INDEX.tsv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            return f.count > 2 && f[1].hasPrefix("hexdump") && f[2] == "ok" ? String(f[0]) : nil
        }.sorted()
    }()

    @Test("every fixture function", arguments: fixtureCases)
    func fixtureFunction(_ c: Case) throws {
        let model = try #require(Self.fixtureModels[c.source])
        let f = try #require(model.functions.first { $0.address.description == c.address })
        let lspci = try #require(Self.fixtureLspci[c.source]?[c.address], "lspci.txt has no \(c.address)")
        try Self.compare(f, lspci)
    }

    @Test("every function of every real hex dump", arguments: dumpFiles)
    func dumpFile(_ file: String) throws {
        let lspci = try #require(Command.which("lspci"))
        let path = Fixtures.realdata(file)
        let reference = try Command.run(lspci, ["-F", path, "-vvv", "-D"])
        #expect(reference.status == 0)
        let devices = LspciVerbose.parse(reference.stdout)
        let model = try DumpScanner(path: path, options: ScanOptions(decodeCapabilities: true)).scan()
        #expect(!model.functions.isEmpty)
        for f in model.functions {
            let device = try #require(devices[f.address.description], "lspci did not show \(f.address)")
            // A function whose bytes read all ones (it did not answer when the dump was taken) is not decoded:
            // lspci shows those bytes as registers, which they are not.
            if f.configUnusable != nil {
                #expect(f.config == nil && f.header == nil, "\(f.address): nothing is decoded from bytes that are not registers")
                #expect(f.rawConfig.map { ConfigResponse.problem(Array($0.prefix(64))) != nil } == true)
                continue
            }
            try Self.compare(f, device)
        }
    }

    static func compare(_ f: PCIFunction, _ lspci: LspciDevice) throws {
        let config = try #require(f.config, "\(f.address) was not decoded")
        let name = f.address.description
        #expect(config.capabilities.map(\.offset) == lspci.capabilityOffsets, "\(name) capability offsets")
        #expect(config.extendedCapabilities.map(\.offset) == lspci.extendedCapabilities.map(\.offset), "\(name) extended offsets")
        #expect(config.extendedCapabilities.map { Int($0.version) } == lspci.extendedCapabilities.map(\.version), "\(name) extended versions")
        if let ctl = lspci.acsControl {
            let acs = try #require(config.acs, "\(name): lspci shows ACS, we decoded none")
            for (flag, label) in ACSFlags.all {
                #expect(acs.control.contains(flag) == ctl[label], "\(name) ACSCtl \(label)")
                if let cap = lspci.acsCapability?[label] { #expect(acs.capability.contains(flag) == cap, "\(name) ACSCap \(label)") }
            }
        } else {
            #expect(config.acs == nil, "\(name): we decoded ACS that lspci did not show")
        }
        if let counts = lspci.sriovCounts {
            let sriov = try #require(config.sriov)
            #expect(sriov.initialVFs == counts.initial && sriov.totalVFs == counts.total && sriov.numVFs == counts.number, "\(name) VF counts")
        }
        if let placement = lspci.sriovPlacement {
            let sriov = try #require(config.sriov)
            #expect(sriov.firstVFOffset == placement.offset && sriov.vfStride == placement.stride, "\(name) VF offset/stride")
            #expect(hex(sriov.vfDeviceID, 4) == placement.deviceID, "\(name) VF device ID")
        }
        if let flr = lspci.devCapFLR {
            #expect(config.pciExpress?.flrCapable == flr, "\(name) DevCap FLR")
        }
    }
}
