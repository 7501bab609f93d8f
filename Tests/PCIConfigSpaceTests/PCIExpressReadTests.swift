import Foundation
import PCIConfigSpace
import Testing
import TestSupport

/// The PCI Express capability is decoded from the registers it needs only (on a live host each dword read is a
/// config transaction): these tests hold the decoded fields to the raw bytes at the spec's offsets, and the reads to
/// the registers the decoder uses.
@Suite("PCI Express capability reads")
struct PCIExpressReadTests {
    /// Config bytes that record every range a decoder asks for.
    final class RecordingSource: ConfigSource {
        let storage: [UInt8]
        var asked: [Range<Int>] = []
        init(_ storage: [UInt8]) { self.storage = storage }
        var readableCount: Int { storage.count }
        func bytes(at offset: Int, count: Int) -> [UInt8]? {
            guard offset >= 0, count >= 0, offset <= storage.count - count else { return nil }
            asked.append(offset..<(offset + count))
            return Array(storage[offset..<(offset + count)])
        }
    }

    /// Every real-kernel fixture's `config` file.
    static let fixtureConfigs: [[UInt8]] = {
        let base = Fixtures.directory.appendingPathComponent("sysfs").path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        var configs: [[UInt8]] = []
        while let next = walker.nextObject() as? String {
            if next.hasSuffix("/config"), next.contains("/devices/"),
               let bytes = try? Fixtures.readBytes(base + "/" + next) {
                configs.append(bytes)
            }
        }
        return configs
    }()

    static func u16(_ b: [UInt8], _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(u16(b, o)) | UInt32(u16(b, o + 2)) << 16 }

    /// Decodes `bytes`, checks the PCI Express fields against the bytes at PCIe r6.0 §7.5.3's offsets and the
    /// ranges read inside the capability against the registers those fields need. Returns whether it had one.
    @discardableResult
    static func check(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
        let source = RecordingSource(bytes)
        let decoded = try ConfigSpaceDecoder.decode(source)
        guard let cap = decoded.capability(.pciExpress), case .pciExpress(let e) = cap.body else { return false }
        let o = cap.offset
        let flags = u16(bytes, o + 2)
        let version = flags & 0xf
        let type = UInt8(flags >> 4 & 0xf)
        let slot = flags & 0x100 != 0
        let hasLink = type != 0x9 && type != 0xa
        #expect(e.version == UInt8(version) && e.portType.rawValue == type && e.slotImplemented == slot, sourceLocation: sourceLocation)
        #expect(e.flrCapable == (u32(bytes, o + 4) & 1 << 28 != 0), sourceLocation: sourceLocation)
        #expect(e.maxReadRequest == 128 << Int(u16(bytes, o + 8) >> 12 & 7), sourceLocation: sourceLocation)
        #expect(e.linkCapabilities == (hasLink ? u32(bytes, o + 0x0c) : nil), sourceLocation: sourceLocation)
        #expect(e.linkStatus == (hasLink ? u16(bytes, o + 0x12) : nil), sourceLocation: sourceLocation)
        #expect(e.slotCapabilities == (slot ? u32(bytes, o + 0x14) : nil), sourceLocation: sourceLocation)
        #expect(e.deviceCapabilities2 == (version >= 2 ? u32(bytes, o + 0x24) : nil), sourceLocation: sourceLocation)
        #expect(e.deviceControl2 == (version >= 2 ? u16(bytes, o + 0x28) : nil), sourceLocation: sourceLocation)
        #expect(e.linkCapabilities2 == (version >= 2 && hasLink ? u32(bytes, o + 0x2c) : nil), sourceLocation: sourceLocation)

        // What was read inside the capability: its first 0x0c bytes and the link registers of a function with a link,
        // the slot capabilities with a slot, DevCap2 to LnkCap2 for version 2; never the root registers,
        // LnkCtl2/LnkSta2 or the second slot registers.
        var allowed = IndexSet(integersIn: o..<(o + (hasLink ? 0x14 : 0x0c)))
        if slot { allowed.insert(integersIn: (o + 0x14)..<(o + 0x18)) }
        if version >= 2 { allowed.insert(integersIn: (o + 0x24)..<(o + 0x30)) }
        // Extended config space starts at 0x100; what lies there is another structure's.
        let capability = o..<min(o + 0x3c, 0x100)
        for range in source.asked {
            let inside = range.clamped(to: capability)
            if inside.isEmpty { continue }
            // Ranges that start in another structure and run on into this one would be a bug too.
            #expect(allowed.contains(integersIn: inside), "read \(inside) of the capability at \(o)", sourceLocation: sourceLocation)
        }
        return true
    }

    @Test("every fixture function: decoded fields equal the bytes, and only decoded registers are read")
    func fixtures() throws {
        var checked = 0
        for bytes in Self.fixtureConfigs where bytes.count >= 64 {
            if try Self.check(bytes) { checked += 1 }
        }
        #expect(checked >= 50)
    }

    @Test("every port type, with and without a slot, versions 1 and 2; the other registers are noise")
    func everyShape() throws {
        var base = HostileInputTests.base()
        // Fill the capability's registers (0x44..0x7f) with noise, so a field taken from the wrong bytes differs.
        for i in 0x44..<0x80 { base[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
        base[0x41] = 0x00 // the PCI Express capability ends the list (its body covers 0x40..0x7b)
        for type in 0..<16 {
            for slot in [false, true] {
                for version in 1...2 {
                    var b = base
                    b[0x42] = UInt8(version) | UInt8(type) << 4
                    b[0x43] = slot ? 0x01 : 0x00
                    #expect(try Self.check(b))
                }
            }
        }
    }

    /// Config bytes whose reads fail in one range (a device that stops answering part-way).
    struct FailingSource: ConfigSource {
        let storage: [UInt8]
        let failing: Range<Int>
        var readableCount: Int { storage.count }
        func bytes(at offset: Int, count: Int) -> [UInt8]? {
            guard offset >= 0, count >= 0, offset <= storage.count - count, !failing.overlaps(offset..<(offset + count)) else { return nil }
            return Array(storage[offset..<(offset + count)])
        }
    }

    @Test("a failed read in a register the decoder needs makes the capability unreadable; one in a register it skips is never made")
    func failingReads() throws {
        var b = HostileInputTests.base()
        b[0x41] = 0x00
        b[0x42] = 0x02 // version 2 endpoint, no slot
        // DevCap2 fails: the capability cannot be decoded.
        let needed = try ConfigSpaceDecoder.decode(FailingSource(storage: b, failing: (0x40 + 0x24)..<(0x40 + 0x28)))
        #expect(needed.capability(.pciExpress)?.body == .truncated)
        // The slot and root registers fail: an endpoint's decoder never reads them.
        let skipped = try ConfigSpaceDecoder.decode(FailingSource(storage: b, failing: (0x40 + 0x14)..<(0x40 + 0x24)))
        guard case .pciExpress(let e) = skipped.capability(.pciExpress)?.body else {
            Issue.record("the endpoint's capability was not decoded")
            return
        }
        #expect(e.deviceCapabilities2 != nil && e.slotCapabilities == nil)
    }

    @Test("lspci's text gives an endpoint's registers but not its slot registers: the gap ends the block, as before")
    func sparseSource() throws {
        var storage = HostileInputTests.base(size: 256)
        storage[0x41] = 0x00
        storage[0x42] = 0x02
        for i in 0x44..<0x7c { storage[i] = UInt8(truncatingIfNeeded: i) }
        var known = [Bool](repeating: false, count: 256)
        for i in 0..<0x40 { known[i] = true }
        for i in 0x40..<0x54 { known[i] = true } // header to LnkSta
        for i in 0x64..<0x70 { known[i] = true } // DevCap2 to LnkCap2, after a gap
        let regions = (0..<256).map { $0 < 0x40 ? UInt16(0) : UInt16(1) }
        let source = SparseConfigBytes(storage: storage, known: known, regions: regions, readableCount: 256)
        let decoded = try ConfigSpaceDecoder.decode(source)
        guard case .pciExpress(let e) = decoded.capability(.pciExpress)?.body else {
            Issue.record("no PCI Express capability decoded")
            return
        }
        // The block is what is known without a gap from the capability's start: DevCap2 after the gap is not in it.
        #expect(e.linkStatus == 0x5352 && e.deviceCapabilities2 == nil && e.linkCapabilities2 == nil)
    }

    @Test("a capability cut short by what is readable decodes what is there, and nothing beyond")
    func shortSource() throws {
        var b = HostileInputTests.base(size: 256)
        b[0x41] = 0x00
        b[0x42] = 0x42 // version 2, root port
        b[0x43] = 0x01 // with a slot
        for i in 0x44..<0x7c { b[i] = 0x5a }
        // Cut at 0x40 + 0x1a: the slot capabilities are readable, DevCap2 is not.
        let cut = Array(b[0..<(0x40 + 0x1a)])
        let source = RecordingSource(cut)
        let decoded = try ConfigSpaceDecoder.decode(source)
        guard case .pciExpress(let e) = decoded.capability(.pciExpress)?.body else {
            Issue.record("no PCI Express capability decoded")
            return
        }
        #expect(e.slotCapabilities == 0x5a5a_5a5a)
        #expect(e.deviceCapabilities2 == nil && e.linkCapabilities2 == nil)
    }
}
