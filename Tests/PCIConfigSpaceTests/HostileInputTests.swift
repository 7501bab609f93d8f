import PCIConfigSpace
import Testing
import TestSupport

@Suite("Hostile config space")
struct HostileInputTests {
    /// A PCIe endpoint with a capability list: header type 0, status bit 4 set, pointer at 0x34.
    static func base(size: Int = 4096) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        b[0] = 0x86; b[1] = 0x80; b[2] = 0x34; b[3] = 0x12
        b[6] = 0x10
        b[0x34] = 0x40
        // [40] PCI Express v2 endpoint, next 0x50
        b[0x40] = 0x10; b[0x41] = 0x50; b[0x42] = 0x02
        // [50] MSI, end
        b[0x50] = 0x05; b[0x51] = 0x00
        return b
    }

    func decode(_ bytes: [UInt8]) throws -> DecodedConfigSpace {
        try ConfigSpaceDecoder.decode(ConfigBytes(bytes))
    }

    @Test("a well-formed list decodes")
    func wellFormed() throws {
        let d = try decode(Self.base())
        #expect(d.capabilities.map(\.offset) == [0x40, 0x50])
        #expect(d.pciExpress?.portType == .endpoint)
        #expect(d.extendedCoverage == .complete && d.extendedCapabilities.isEmpty)
        #expect(d.diagnostics.isEmpty)
    }

    @Test("a capability pointing to itself")
    func selfLoop() throws {
        var b = Self.base()
        b[0x51] = 0x50
        let d = try decode(b)
        #expect(d.capabilities.map(\.offset) == [0x40, 0x50])
        #expect(d.diagnostics.map(\.code) == ["capability-chain-loop"])
    }

    @Test("two capabilities pointing at each other")
    func twoNodeLoop() throws {
        var b = Self.base()
        b[0x51] = 0x40
        let d = try decode(b)
        #expect(d.capabilities.map(\.offset) == [0x40, 0x50])
        #expect(d.diagnostics.map(\.code) == ["capability-chain-loop"])
    }

    @Test("a pointer into the header", arguments: [0x04, 0x10, 0x3c])
    func pointerIntoHeader(_ target: UInt8) throws {
        var b = Self.base()
        b[0x51] = target
        let d = try decode(b)
        #expect(d.capabilities.map(\.offset) == [0x40, 0x50])
        #expect(d.diagnostics.map(\.code) == ["capability-pointer-into-header"])
    }

    @Test("ID 0xff ends the list as broken")
    func brokenID() throws {
        var b = Self.base()
        b[0x50] = 0xff
        let d = try decode(b)
        #expect(d.capabilities.map(\.offset) == [0x40])
        #expect(d.diagnostics.map(\.code) == ["capability-chain-broken"])
    }

    @Test("pointer bits 0-1 are masked, as the spec reserves them")
    func maskedPointer() throws {
        var b = Self.base()
        b[0x34] = 0x43
        b[0x41] = 0x53
        #expect(try decode(b).capabilities.map(\.offset) == [0x40, 0x50])
    }

    @Test("64 readable bytes: capabilities unknown, not absent")
    func sixtyFourBytes() throws {
        let d = try decode(Array(Self.base().prefix(64)))
        #expect(d.capabilities.isEmpty)
        #expect(d.capabilityCoverage == .unreadable)
        #expect(d.extendedCoverage == .unreadable)
        #expect(d.functionLevelReset == nil)
        #expect(d.diagnostics.map(\.code) == ["capabilities-unreadable"])
    }

    @Test("256 readable bytes of a PCIe function: extended space unknown")
    func twoFiftySixBytes() throws {
        let d = try decode(Array(Self.base().prefix(256)))
        #expect(d.capabilities.count == 2)
        #expect(d.extendedCoverage == .unreadable)
    }

    @Test("no PCIe or PCI-X mode 2 capability: extended space is not looked at")
    func conventionalPCI() throws {
        var b = Self.base()
        b[0x40] = 0x01 // power management instead of PCIe
        b[0x100] = 0x0d; b[0x102] = 0x01 // an ACS header that must be ignored
        let d = try decode(b)
        #expect(d.extendedCoverage == .notImplemented && d.extendedCapabilities.isEmpty)
    }

    @Test("extended chain: loops, pointers below 0x100, all-ones")
    func extendedChain() throws {
        var b = Self.base()
        func put(_ o: Int, _ v: UInt32) { for i in 0..<4 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        put(0x100, 0x0001_000d | 0x140 << 20) // ACS v1 -> 0x140
        put(0x140, 0x0001_0010 | 0x100 << 20) // SR-IOV v1 -> back to 0x100
        var d = try decode(b)
        #expect(d.extendedCapabilities.map(\.offset) == [0x100, 0x140])
        #expect(d.diagnostics.map(\.code) == ["extended-chain-loop"])
        put(0x140, 0x0001_0010 | 0x080 << 20)
        d = try decode(b)
        #expect(d.diagnostics.map(\.code) == ["extended-pointer-into-standard-space"])
        put(0x140, 0xffff_ffff)
        d = try decode(b)
        #expect(d.extendedCapabilities.map(\.offset) == [0x100])
        #expect(d.diagnostics.map(\.code) == ["extended-chain-broken"])
    }

    @Test("a capability whose registers run past the readable end is kept, marked truncated")
    func truncatedCapability() throws {
        var b = Array(Self.base().prefix(256))
        b[0x51] = 0xfc
        b[0xfc] = 0x11 // MSI-X needs 12 bytes; only 4 are there
        let d = try decode(b)
        #expect(d.capabilities.last?.body == .truncated)
        #expect(d.diagnostics.contains { $0.code == "capability-truncated" })
    }

    @Test("all ones: absent function, no capabilities invented", arguments: [64, 256, 4096])
    func allOnes(_ size: Int) throws {
        let d = try decode([UInt8](repeating: 0xff, count: size))
        #expect(d.header.idsReadAllOnes)
        #expect(d.capabilities.isEmpty && d.extendedCapabilities.isEmpty)
        #expect(d.diagnostics.contains { $0.code == "config-all-ones" })
    }

    @Test("unknown IDs keep their number and offset")
    func unknownIDs() throws {
        var b = Self.base()
        b[0x50] = 0x42
        let d = try decode(b)
        #expect(d.capabilities.last?.id.rawValue == 0x42 && d.capabilities.last?.body == .other)
        #expect(d.capabilities.last?.id.name == "Capability ID 0x42")
    }

    @Test("5,000 seeded random configs of every size: always terminate, never trap")
    func randomBytes() throws {
        var rng = SplitMix64(state: 0x5eed_1234)
        let sizes = [0, 1, 63, 64, 65, 128, 255, 256, 257, 1000, 4095, 4096]
        var decoded = 0, diagnosed = 0, capabilitiesSeen = 0
        for i in 0..<5000 {
            let size = sizes[i % sizes.count]
            var bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if size >= 64 && i % 3 == 0 {
                // Bias towards the interesting paths: a capability list and a PCIe capability.
                bytes[6] |= 0x10
                bytes[0x0e] = UInt8(i % 3)
                let p = Int(bytes[0x34] & 0xfc)
                if p >= 64, p + 1 < size { bytes[p] = 0x10 }
            }
            do {
                let d = try ConfigSpaceDecoder.decode(ConfigBytes(bytes))
                decoded += 1
                if !d.diagnostics.isEmpty { diagnosed += 1 }
                capabilitiesSeen += d.capabilities.count + d.extendedCapabilities.count
                #expect(d.capabilities.count <= 48, "a list can hold at most 48 distinct dword-aligned entries above 0x40")
                #expect(d.extendedCapabilities.count <= 960)
                #expect(Set(d.capabilities.map(\.offset)).count == d.capabilities.count)
            } catch {
                #expect(size < 64)
            }
        }
        #expect(decoded == 5000 - 5000 / 12 * 3 - (5000 % 12 > 2 ? 3 : 5000 % 12))
        #expect(diagnosed > 0 && capabilitiesSeen > 0)
    }
}
