import Foundation
import PCIConfigSpace
import PCIHost
import Testing
import TestSupport

/// Real machines' hex dumps, read through libpci's dump method and compared with the real `lspci -F`.
@Suite("lspci hex dumps from real machines")
struct DumpTests {
    static let files = Fixtures.realdataFiles

    @Test("the real lspci is installed for the cross-check")
    func lspciPresent() {
        #expect(Command.which("lspci") != nil, "install pciutils (Scripts/install-deps.sh --test)")
    }

    /// INDEX.tsv's kind column: which files are hex dumps (the rest are listings without config bytes).
    static let hexDumps: Set<String> = {
        guard let text = try? String(contentsOfFile: Fixtures.realdata("INDEX.tsv"), encoding: .utf8) else { return [] }
        return Set(text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            return f.count > 1 && f[1].hasPrefix("hexdump") ? String(f[0]) : nil
        })
    }()

    @Test("INDEX.tsv names the hex dumps")
    func indexPresent() {
        #expect(Self.hexDumps.count >= 60)
    }

    @Test("function count equals what lspci -F prints", arguments: files)
    func countMatchesLspci(_ file: String) throws {
        guard Self.hexDumps.contains(file) else {
            // No hex at all: lspci -F invents ffff:ffff functions from the header lines. We read the text instead:
            // each function with the IDs it prints (or none, with a note), never an invented ffff:ffff; or a refusal.
            if let model = try? DumpScanner(path: Fixtures.realdata(file)).scan() {
                #expect(!model.functions.contains { $0.vendorID == 0xffff && $0.deviceID == 0xffff }, "\(file)")
                #expect(model.diagnostics.contains { $0.code == "input-forms" }, "\(file)")
            }
            return
        }
        let lspci = try #require(Command.which("lspci"))
        let path = Fixtures.realdata(file)
        let reference = try Command.run(lspci, ["-F", path, "-n"])
        let expected = Lspci.addresses(in: reference.stdout)
        let outcome: Result<HostModel, HostScanError> = Result { () throws(HostScanError) in try DumpScanner(path: path).scan() }
        switch outcome {
        case let .success(model):
            #expect(reference.status == 0, "lspci failed (\(reference.stderr)) where we read \(model.functions.count) functions")
            #expect(Set(model.functions.map(\.address.description)) == expected)
        case let .failure(error):
            // Where we refuse, lspci must have found nothing either (or failed), and we must say why.
            #expect(expected.isEmpty, "we refused (\(error)) but lspci read \(expected.count) functions")
            #expect(!error.description.isEmpty)
        }
    }

    @Test("the dump header matches lspci's [vendor:device] and class for every function", arguments: [
        "pciutils-tests/tree-asus-p6t6", "pciutils-tests/cap-pcie-2",
        "nvidia-bug-report-lspci/asus-ws-x299-sage-plx.lspci-nnDvvvxxxx.txt",
    ])
    func identityMatchesLspci(_ file: String) throws {
        let lspci = try #require(Command.which("lspci"))
        let path = Fixtures.realdata(file)
        let reference = try Command.run(lspci, ["-F", path, "-mm", "-n", "-D"])
        #expect(reference.status == 0)
        let model = try DumpScanner(path: path).scan()
        var checked = 0
        for line in reference.stdout.split(separator: "\n") {
            // -mm -n: 0000:00:00.0 "0600" "8086" "3405" ...
            let fields = line.split(separator: "\"").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            guard fields.count >= 4, let address = PCIAddress(sysfsName: fields[0].trimmingCharacters(in: .whitespaces)) else { continue }
            let f = try #require(model.function(address))
            #expect(hex(f.classCode.deviceClass, 4) == fields[1])
            #expect(hex(f.vendorID, 4) == fields[2])
            #expect(hex(f.deviceID, 4) == fields[3])
            checked += 1
        }
        #expect(checked == model.functions.count)
    }

    @Test("topology from bus numbers: a function's parent is the bridge whose secondary bus it sits on")
    func busNumberTopology() throws {
        let model = try DumpScanner(path: Fixtures.realdata("pciutils-tests/tree-asus-p6t6")).scan()
        for f in model.functions {
            guard let parent = f.upstream.first else { continue }
            let bridge = try #require(model.function(parent))
            #expect(bridge.header?.busNumbers?.secondary == f.address.bus)
        }
        #expect(model.functions.contains { f in f.upstream.count >= 2 })
    }
}
