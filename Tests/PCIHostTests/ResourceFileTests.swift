import Foundation
import PCIHost
import Testing
import TestSupport

/// `ResourceRange.parseStrict` reads sysfs `resource` in one pass over its bytes; it must take exactly the files the
/// two-pass reading took (validate every line's shape, then parse) and give the same ranges, damaged or not.
@Suite("sysfs resource: the one-pass reader against the two-pass one")
struct ResourceFileTests {
    /// The two-pass reading: every non-empty line `0x%016llx 0x%016llx 0x%016llx`, a count resource_show writes,
    /// then the lines parsed, each numbered by the newlines before it, start ≤ end unless both are 0.
    static func reference(_ text: String) -> [ResourceRange]? {
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for line in lines {
            guard line.count == 56 else { return nil }
            for (i, b) in line.enumerated() {
                let hex = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
                let ok = switch i % 19 { case 18: b == 0x20; case 0: b == 0x30; case 1: b == 0x78; default: hex }
                if !ok { return nil }
            }
        }
        guard [7, 11, 13, 17].contains(lines.count) else { return nil }
        var ranges: [ResourceRange] = []
        var index = 0
        for raw in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            defer { index += 1 }
            guard !raw.isEmpty else { continue }
            let fields = String(decoding: raw, as: UTF8.self).split(separator: " ").map { UInt64($0.dropFirst(2), radix: 16)! }
            guard fields[0] <= fields[1] || (fields[0] == 0 && fields[1] == 0) else { return nil }
            ranges.append(ResourceRange(index: index, start: fields[0], end: fields[1], flags: fields[2]))
        }
        return ranges
    }

    static func seeds() throws -> [String] {
        var seeds: [String] = []
        for name in Fixtures.sysfsNames {
            let devices = Fixtures.sysfs(name) + "/sys/bus/pci/devices"
            for bdf in try FileManager.default.contentsOfDirectory(atPath: devices).sorted() {
                if let text = try? String(contentsOfFile: devices + "/" + bdf + "/resource", encoding: .utf8) { seeds.append(text) }
            }
        }
        return seeds
    }

    @Test("every fixture's resource file, and 40,000 damaged copies: the same answer as the two-pass reading")
    func sameAsTwoPass() throws {
        let seeds = try Self.seeds()
        #expect(seeds.count > 50)
        var accepted = 0
        for seed in seeds {
            let parsed = ResourceRange.parseStrict(seed)
            #expect(parsed == Self.reference(seed))
            #expect(parsed != nil, "a real kernel's resource file is refused: \(seed)")
        }
        var rng = SplitMix64(state: 0x5eed_2026)
        let alphabet = Array("0123456789abcdefABCDEFgGxX \n\r\t".utf8)
        for round in 0..<40_000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count + 1))
                switch rng.next() % 5 {
                case 0 where at < bytes.count: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1 where at < bytes.count: bytes.remove(at: at)
                case 2: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                case 3:
                    // a whole line dropped or repeated, or the last newline cut
                    let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    var kept = Array(lines)
                    let l = Int(rng.next() % UInt64(kept.count))
                    if rng.next() % 2 == 0 { kept.remove(at: l) } else { kept.insert(kept[l], at: l) }
                    bytes = Array(kept.joined(separator: [UInt8(ascii: "\n")]))
                default:
                    if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() } else { bytes.append(UInt8(ascii: "\n")) }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let parsed = ResourceRange.parseStrict(text)
            #expect(parsed == Self.reference(text), "\(text.debugDescription)")
            if parsed != nil { accepted += 1 }
        }
        // The damage must reach both answers, not only refusals.
        #expect(accepted > 1_000)
    }
}
