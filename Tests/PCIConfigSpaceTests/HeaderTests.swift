import PCIConfigSpace
import Testing

@Suite("Standard header")
struct HeaderTests {
    /// A type 1 header: QEMU's PCIe root port, multifunction (0x81), buses 00/01/01.
    static let rootPort: [UInt8] = {
        var b = [UInt8](repeating: 0, count: 64)
        b[0] = 0x36; b[1] = 0x1b; b[2] = 0x0c; b[3] = 0x00
        b[6] = 0x10 // capability list
        b[0x0a] = 0x04; b[0x0b] = 0x06
        b[0x0e] = 0x81
        b[0x18] = 0x00; b[0x19] = 0x01; b[0x1a] = 0x01
        b[0x34] = 0x54
        return b
    }()

    @Test("type 1 with the multifunction bit")
    func bridge() throws {
        let h = try ConfigHeader(from: ConfigBytes(Self.rootPort))
        #expect(h.vendorID == 0x1b36 && h.deviceID == 0x000c)
        #expect(h.layout == .bridge && h.multifunction)
        #expect(h.classCode.isPCIBridge)
        #expect(h.busNumbers == BridgeBusNumbers(primary: 0, secondary: 1, subordinate: 1))
        #expect(h.capabilitiesPointer == 0x54 && h.hasCapabilityList)
        #expect(h.subsystemVendorID == nil)
    }

    @Test("reserved layouts keep their number")
    func reservedLayout() throws {
        var b = Self.rootPort
        b[0x0e] = 0x7f
        let h = try ConfigHeader(from: ConfigBytes(b))
        #expect(h.layout.rawValue == 0x7f && !h.multifunction)
        #expect(h.busNumbers == nil && h.capabilitiesPointer == nil)
    }

    @Test("fewer than 64 bytes is an error carrying the readable count", arguments: [0, 4, 63])
    func truncated(_ count: Int) {
        #expect(throws: HeaderDecodeError.truncated(readable: count)) {
            try ConfigHeader(from: ConfigBytes(Array(Self.rootPort.prefix(count))))
        }
    }

    @Test("all ones reads as absent IDs")
    func allOnes() throws {
        let h = try ConfigHeader(from: ConfigBytes([UInt8](repeating: 0xff, count: 256)))
        #expect(h.idsReadAllOnes)
    }

    @Test("sources refuse reads beyond what is readable")
    func bounds() {
        let s = ConfigBytes([1, 2, 3, 4])
        #expect(s.u32(0) == 0x0403_0201)
        #expect(s.u32(1) == nil)
        #expect(s.bytes(at: -1, count: 1) == nil)
        #expect(s.bytes(at: 4, count: 0) == [])
        #expect(s.bytes(at: Int.max, count: 2) == nil)
    }
}
