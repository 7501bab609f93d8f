import Foundation
import PCIHost
import PCILibPCI
import Testing
import TestSupport
import VFIOAnalysis
import VFIOReport

/// `JSONOutput` writes JSON with its own small encoder; its bytes must be Foundation's `JSONEncoder` output with
/// `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`, whatever the shape of the value.
@Suite("JSON output: the sorted encoder against JSONEncoder")
struct JSONOutputTests {
    static func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    struct Inner: Encodable {
        var zeta: Int
        var alpha: String?
        var list: [Int]
        var empty: [String: Int]
    }

    struct Outer: Encodable {
        var name: String
        var nested: [Inner]
        var map: [String: [Int]]
        var flag: Bool
        var optional: Int8?
        var big: UInt64
        var negative: Int64
        var small: Int16
        var fraction: Double
        var matrix: [[String]]
    }

    /// A custom `encode(to:)` that uses nested containers and asks for its container twice, as
    /// `DescribedFunctionDetails` does.
    struct Custom: Encodable {
        enum Keys: String, CodingKey { case b, a, inner, items, c }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode("second", forKey: .b)
            var inner = c.nestedContainer(keyedBy: Keys.self, forKey: .inner)
            try inner.encode(2, forKey: .c)
            try inner.encode(1, forKey: .a)
            var items = c.nestedUnkeyedContainer(forKey: .items)
            try items.encode("x")
            var deeper = items.nestedContainer(keyedBy: Keys.self)
            try deeper.encodeNil(forKey: .b)
            try deeper.encode(true, forKey: .a)
            var again = encoder.container(keyedBy: Keys.self)
            try again.encode("first", forKey: .a)
        }
    }

    /// Every control character, the characters JSON escapes, DEL, non-ASCII and a slash.
    static let awkward: String = {
        var s = ""
        for i in 0..<0x80 { s.unicodeScalars.append(Unicode.Scalar(UInt8(i))) }
        return s + "é\u{2028}\u{FEFF}😀/\\\"end"
    }()

    @Test("scalars, nesting, empty containers, dictionaries, optionals, every escape and custom encoders give JSONEncoder's bytes")
    func agreesWithFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200 {
            func word() -> String {
                let pool = ["", "a", "B", "a_", "aa", "0", Self.awkward, "ünï", "x y", "\t"]
                return pool[Int.random(in: 0..<pool.count, using: &generator)]
            }
            let inners = (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                Inner(zeta: Int.random(in: Int.min...Int.max, using: &generator), alpha: Bool.random() ? word() : nil,
                      list: (0..<Int.random(in: 0...3, using: &generator)).map { _ in Int.random(in: -5...5) },
                      empty: Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...4)).map { ("k\($0)\(word())", $0) }))
            }
            let value = Outer(name: word(), nested: inners,
                              map: Dictionary(uniqueKeysWithValues: ["b", "a", "B", "ä", "a_"].shuffled().prefix(round % 6).map { ($0, [round]) }),
                              flag: round % 2 == 0, optional: round % 3 == 0 ? nil : Int8(truncatingIfNeeded: round),
                              big: UInt64.random(in: 0...UInt64.max), negative: Int64.min + Int64(round), small: Int16(truncatingIfNeeded: -round),
                              fraction: Double(round) / 7, matrix: round % 4 == 0 ? [] : [[], [word()]])
            #expect(try JSONOutput.render(value) == Self.foundation(value))
        }
        #expect(try JSONOutput.render(Custom()) == Self.foundation(Custom()))
        #expect(try JSONOutput.render([String]()) == Self.foundation([String]()))
        #expect(try JSONOutput.render(Self.awkward) == Self.foundation(Self.awkward))
    }

    /// The string writer scans eight bytes at a time: every character that needs an escape, at every offset
    /// in and across those words, beside ASCII and multi-byte UTF-8, must come out as Foundation writes it.
    @Test("strings with an escape at every offset of eight-byte words give JSONEncoder's bytes")
    func escapesAtEveryOffset() throws {
        let specials: [String] = ["\"", "\\", "\n", "\u{0}", "\u{1f}", "\t", "\u{7f}", "é", "€", "𝄞", " ", "~", "/"]
        for length in 0...24 {
            for special in specials {
                for at in 0...length {
                    var text = String(repeating: "a", count: length)
                    text.insert(contentsOf: special, at: text.index(text.startIndex, offsetBy: at))
                    let values = [text, text + text, special + text + special]
                    #expect(try JSONOutput.render(values) == Self.foundation(values), "\(values)")
                }
            }
        }
    }

    @Test("the real listings, details and reports of the fixtures: the same bytes as JSONEncoder")
    func realOutputs() throws {
        for name in ["sriov", "multifunction", "host-in-use", "vfio-bound", "switch"] {
            let model = try SysfsScanner(root: HostRoot(Fixtures.sysfs(name)), options: ScanOptions(decodeCapabilities: true, resolveVFIOVariants: true)).scan()
            let listing = DescribedListing(model, functions: model.functions)
            #expect(try JSONOutput.render(listing) == Self.foundation(listing), "\(name)")
            let shown = DescribedShow(model, functions: model.functions)
            #expect(try JSONOutput.render(shown) == Self.foundation(shown), "\(name)")
            // The report's units, findings and resets write themselves (JSONDirect): the same bytes again.
            let report = DescribedReport(model, Reporter.report(model))
            #expect(try JSONOutput.render(report) == Self.foundation(report), "\(name)")
        }
    }

    /// Every fixture: kernel groups (functions outside them on amd-iommu, where the IOMMU's own function has none),
    /// and predicted groups (no-iommu).
    @Test("report --json evaluates each unit as it writes it: the same bytes and verdicts as the evaluated report, whole and filtered",
          arguments: Fixtures.sysfsNames)
    func unitsEvaluatedAsWritten(name: String) throws {
        let model = try SysfsScanner(root: HostRoot(Fixtures.sysfs(name)), options: ScanOptions(decodeCapabilities: true, resolveVFIOVariants: true)).scan()
        let evaluated = Reporter.report(model)
        let plan = Reporter.plan(model)
        #expect(plan.units.map(\.members) == evaluated.units.map(\.members), "\(name)")
        // Whole, then the units holding the last function, then every other unit: the order given is kept.
        let last = model.functions.last.map(\.address)
        let picks: [[Int]] = [Array(plan.units.indices), plan.units.indices.filter { plan.units[$0].members.contains { $0 == last } },
                              plan.units.indices.filter { $0 % 2 == 1 }]
        for kept in picks {
            let log = WrittenVerdicts(count: kept.count)
            let streamed = try JSONOutput.render(DescribedReport(model, plan, units: kept, recording: log))
            let expected = try JSONOutput.render(DescribedReport(model, evaluated.keeping(units: kept.map { evaluated.units[$0] })))
            #expect(streamed == expected, "\(name): units \(kept)")
            #expect(log.verdicts == kept.map { evaluated.units[$0].verdict }, "\(name): units \(kept)")
        }
    }

    /// `report` as text evaluates and prints each unit in turn: the command's bytes equal the evaluated report's text.
    @Test("report as text evaluates each unit as it prints it: the same text as the evaluated report, whole and for a verdict",
          arguments: Fixtures.sysfsNames)
    func textUnitsEvaluatedAsPrinted(name: String) throws {
        let root = Fixtures.sysfs(name)
        let names = try PCIIDDatabase()
        let model = try SysfsScanner(root: HostRoot(root), names: names.isAvailable ? names : nil,
                                     options: ScanOptions(decodeCapabilities: true, resolveVFIOVariants: true)).scan()
        let evaluated = Reporter.report(model)
        let whole = try Command.tool(["report", "--root", root, "--color", "never"])
        #expect(whole.stdout == ReportText.render(model, evaluated, style: Style(color: false)), "\(name)")
        // The units holding the last function, as -s picks them, with the exit status --exit-status gives.
        if let last = model.functions.last?.address {
            let kept = evaluated.units(holding: [last], verdict: nil)
            let picked = try Command.tool(["report", "--root", root, "--color", "never", "-s", last.description, "--exit-status"])
            #expect(picked.stdout == ReportText.render(model, evaluated, units: kept, style: Style(color: false)), "\(name) -s \(last)")
            let worst: Int32 = kept.contains { $0.verdict == .blocked } ? 2 : kept.contains { $0.verdict == .undetermined } ? 4
                : kept.contains { $0.verdict == .needsPreparation } ? 1 : 0
            #expect(picked.status == worst, "\(name) -s \(last): exit \(picked.status)")
        }
        for verdict in [UnitVerdict.ready, .blocked] {
            let kept = evaluated.units(holding: nil, verdict: verdict)
            let filtered = try Command.tool(["report", "--root", root, "--color", "never", "--verdict", verdict.rawValue])
            if kept.isEmpty {
                #expect(filtered.status == 5 && filtered.stdout.hasSuffix("0 of \(evaluated.units.count) units: 0 ready, 0 need preparation, 0 blocked, 0 undetermined\n"), "\(name) \(verdict)")
            } else {
                #expect(filtered.stdout == ReportText.render(model, evaluated, units: kept, style: Style(color: false)), "\(name) \(verdict)")
            }
        }
    }
}
