import Foundation
import PCIHost
import Testing
import TestSupport

/// `HostRoot.lexicalJoin` builds a link's lexical target in one byte buffer; it must give exactly what joining the
/// split components gave, for every link the fixtures hold and for damaged link texts.
@Suite("Lexical link targets: the byte-buffer join against the component join")
struct LexicalJoinTests {
    /// The component join: `base`'s components (none for an absolute link), then the link's, `.` and empty ones
    /// skipped, `..` dropping the last one kept (`nil` when there is none to drop), joined by "/".
    static func reference(_ base: String, _ link: String) -> String? {
        var parts = link.hasPrefix("/") ? [] : base.fastSplit("/")
        for p in link.fastSplit("/") {
            if p == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else if p != "." {
                parts.append(p)
            }
        }
        return parts.joined(separator: "/")
    }

    /// (directory, link text) for every link below the fixtures' `sys`.
    static func seeds() throws -> [(String, String)] {
        var seeds: [(String, String)] = []
        for name in Fixtures.sysfsNames {
            let root = Fixtures.sysfs(name)
            guard let walker = FileManager.default.enumerator(atPath: root + "/sys") else { continue }
            while let next = walker.nextObject() as? String {
                let path = root + "/sys/" + next
                if let text = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                    seeds.append(("sys/" + (next as NSString).deletingLastPathComponent, text))
                }
            }
        }
        return seeds
    }

    @Test("every fixture link, and 30,000 damaged ones: the same target as the component join")
    func sameAsComponentJoin() throws {
        let seeds = try Self.seeds()
        #expect(seeds.count > 500)
        for (base, link) in seeds {
            #expect(HostRoot.lexicalJoin(base, link) == Self.reference(base, link), "\(base) + \(link)")
        }
        var rng = SplitMix64(state: 0x10_2026)
        let alphabet = Array("/./../a0:é\u{301}".unicodeScalars).map(String.init) + ["..", "/", "//", "./", "../"]
        for round in 0..<30_000 {
            let (base, link) = seeds[round % seeds.count]
            var parts = [Array(base.unicodeScalars).map(String.init), Array(link.unicodeScalars).map(String.init)]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let which = Int(rng.next() % 2)
                guard !parts[which].isEmpty else { continue }
                let at = Int(rng.next() % UInt64(parts[which].count))
                let piece = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 3 {
                case 0: parts[which][at] = piece
                case 1: parts[which].insert(piece, at: at)
                default: parts[which].remove(at: at)
                }
            }
            let (b, l) = (parts[0].joined(), parts[1].joined())
            #expect(HostRoot.lexicalJoin(b, l) == Self.reference(b, l), "\(b) + \(l)")
        }
    }
}

/// The byte-level text helpers of the scan against the Character-level forms they replace.
@Suite("Text helpers: bytes against Characters")
struct TextHelperTests {
    static func randomText(_ rng: inout SplitMix64, _ alphabet: [String]) -> String {
        (0..<Int(rng.next() % 12)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
    }

    @Test("lastPathComponent is fastSplit(\"/\").last, for 20,000 paths")
    func lastComponent() {
        var rng = SplitMix64(state: 0x1a57)
        let alphabet = ["/", "//", "a", "0000:00:02.0", "é", "\u{301}", ".", ".."]
        for _ in 0..<20_000 {
            let text = Self.randomText(&rng, alphabet)
            #expect(text.lastPathComponent() == text.fastSplit("/").last, "\(text.debugDescription)")
            let sub = Substring(text).dropFirst()
            #expect(sub.lastPathComponent() == sub.fastSplit("/").last, "\(sub.debugDescription)")
        }
    }

    @Test("trimmingWhitespace trims exactly the whitespace Characters, for 20,000 texts, ASCII or not")
    func trimming() {
        func reference(_ text: String) -> String {
            var s = Substring(text)
            while let f = s.first, f.isWhitespace { s.removeFirst() }
            while let l = s.last, l.isWhitespace { s.removeLast() }
            return String(s)
        }
        var rng = SplitMix64(state: 0x7e11)
        let ascii = [" ", "\t", "\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1F}", "\u{7F}", "a", "0"]
        let other = ascii + ["\u{85}", "\u{A0}", "\u{301}", "\u{600}", "é", "\u{2028}", "\u{3000}"]
        for round in 0..<20_000 {
            let text = Self.randomText(&rng, round % 2 == 0 ? ascii : other)
            #expect(text.trimmingWhitespace() == reference(text), "\(text.debugDescription)")
        }
    }
}
