import PCIHost
import Testing

@Suite("Addresses and selectors")
struct SelectorTests {
    let target = PCIAddress(domain: 0, bus: 0x01, device: 0x00, function: 2)

    @Test("addresses print and parse as the kernel writes them")
    func addressRoundTrip() {
        #expect(target.description == "0000:01:00.2")
        #expect(PCIAddress(sysfsName: "0000:01:00.2") == target)
        #expect(PCIAddress(sysfsName: "10000:01:1f.7")?.domain == 0x10000)
        for bad in ["01:00.2", "0000:01:20.0", "0000:01:00.8", "0000:1:00.0", "garbage", "0000:01:00.0x"] {
            #expect(PCIAddress(sysfsName: bad) == nil, "\(bad)")
        }
    }

    @Test("selectors in the forms lspci takes", arguments: [
        ("01:00.2", true), ("0000:01:00.2", true), ("01:00", true), ("00.2", true), (".2", true),
        ("1:0.2", true), ("01:00.3", false), ("02:00", false), ("0001:01:00.2", false), ("*:00.2", true),
    ])
    func matching(_ text: String, _ expected: Bool) throws {
        #expect(try PCISelector(parsing: text).matches(target) == expected)
    }

    @Test("malformed selectors are refused with the reason", arguments: ["", "zz:00.0", "01:00.9", "01:20.0", "1:2:3:4"])
    func malformed(_ text: String) {
        #expect(throws: SelectorError.self) { try PCISelector(parsing: text) }
    }

    @Test("vendor:device filters")
    func idFilters() throws {
        #expect(try IDFilter(parsing: "8086:").matches(vendor: 0x8086, device: 0x1234))
        #expect(try !IDFilter(parsing: ":10d3").matches(vendor: 0x8086, device: 0x1234))
        #expect(throws: SelectorError.self) { try IDFilter(parsing: "8086") }
        #expect(throws: SelectorError.self) { try IDFilter(parsing: "80861:0") }
    }
}
