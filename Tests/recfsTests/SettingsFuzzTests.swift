// SettingsFuzzTests: 10,000 mutated settings documents written through the mount's `.settings/`
// files (open/write/close in this process, some by rename of a scratch file), from a fixed seed.
// Each write is either applied or refused with EINVAL (EFBIG past 1 MiB), never anything else,
// and exactly as the library's own rules (`SettingsFile.decode`, run here as an oracle) say;
// afterwards the daemon still serves recordings byte for byte, `recfs settings show` and
// `recfs fsck` are clean, and every settings version in the catalog validates.

import Foundation
import Glibc
import RecordingCore
import Testing

/// A small deterministic generator (SplitMix64).
struct SettingsFuzzRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// Mutations of a pretty-printed settings document.
enum SettingsMutator {
    static let extremes = ["0", "-1", "-0", "1", "7", "180", "181", "6", "2147483648", "-2147483649", "9223372036854775807",
                           "-9223372036854775808", "9223372036854775808", "123456789012345678901234567890", "1e308", "-1e308",
                           "1.5", "1e-300", "3.0", "0.0001", "1E2", "0x10", "01", "NaN", "Infinity", "-", "1.", ".5"]
    static let values = ["null", "true", "false", "\"\"", "\"dual\"", "\"single\"", "\"wav\"", "\"mp3\"", "\"connect\"", "\"skip\"",
                         "\"ap-southeast-1\"", "\"UTC\"", "\"Europe/London\"", "\"s3\"", "\"default\"", "[]", "{}", "[1, 2]",
                         "{\"a\": 1}", "\"uid:1000\"", "\"10.0.0.0/8\"", "\"*\"", "\"\\u0000\"", "\"\\ud800\"", "\"é\"", "\"../x\"",
                         "\"analyst\"", "\"none\"", "\"read\"", "\"write\"", "24", "720", "0", "-5", "90", "30", "365", "128", "64", "320"]
    /// Field changes that are often valid on Growth (so some documents are applied).
    static let plausible: [(String, [String])] = [
        ("retentionDays", (7...180).map(String.init) + ["5", "200"]),
        ("beep", ["true", "false"]), ("mode", ["\"single\"", "\"dual\""]), ("format", ["\"mp3\"", "\"wav\""]),
        ("startPoint", ["\"answer\"", "\"connect\""]), ("pauses", ["\"silence\"", "\"skip\""]),
        ("mp3BitrateKbps", ["32", "64", "96", "128", "192", "256", "320", "100"]), ("enabled", ["true", "false"]),
        ("downloadUrlTtlHours", ["1", "4", "24", "48", "168", "0"]), ("timeZone", ["\"Asia/Kolkata\"", "\"UTC\"", "\"Asia/Singapore\""]),
        ("region", ["\"ap-south-1\"", "\"ap-southeast-1\""]), ("override", ["true", "false"]),
    ]

    /// Lines of the form `  "key": value[,]`: (line index, key, value range in the line).
    static func members(_ lines: [[UInt8]]) -> [(Int, String, Range<Int>)] {
        var out: [(Int, String, Range<Int>)] = []
        for (i, line) in lines.enumerated() {
            guard let q1 = line.firstIndex(of: UInt8(ascii: "\"")) else { continue }
            guard let q2 = line[(q1 + 1)...].firstIndex(of: UInt8(ascii: "\"")), q2 + 2 < line.count,
                  line[q2 + 1] == UInt8(ascii: ":"), line[q2 + 2] == UInt8(ascii: " ") else { continue }
            var end = line.count
            if line.last == UInt8(ascii: ",") { end -= 1 }
            let start = q2 + 3
            guard start < end else { continue }
            out.append((i, String(decoding: line[(q1 + 1)..<q2], as: UTF8.self), start..<end))
        }
        return out
    }

    static func split(_ doc: [UInt8]) -> [[UInt8]] { doc.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init) }
    static func join(_ lines: [[UInt8]]) -> [UInt8] { Array(lines.joined(separator: [0x0A])) }

    /// One to three mutations of `doc`.
    static func mutate(_ doc: [UInt8], _ r: inout SettingsFuzzRandom) -> [UInt8] {
        var out = doc
        for _ in 0..<(1 + (r.chance(70) ? 0 : r.below(3))) { out = once(out, &r) }
        return out
    }

    static func once(_ doc: [UInt8], _ r: inout SettingsFuzzRandom) -> [UInt8] {
        var d = doc
        var lines = split(d)
        let ms = members(lines)
        func setValue(_ m: (Int, String, Range<Int>), _ v: [UInt8]) -> [UInt8] {
            var ls = lines
            ls[m.0].replaceSubrange(m.2, with: v)
            return join(ls)
        }
        switch r.below(16) {
        case 0:  // flip bits in a few bytes
            guard !d.isEmpty else { return d }
            for _ in 0..<(1 + r.below(3)) { d[r.below(d.count)] ^= UInt8(1 << r.below(8)) }
            return d
        case 1:  // delete a span
            guard d.count > 1 else { return d }
            let start = r.below(d.count), len = 1 + r.below(min(64, d.count - start))
            d.removeSubrange(start..<(start + len))
            return d
        case 2:  // insert garbage: punctuation, bytes that are not UTF-8, control characters
            let pool: [[UInt8]] = [Array("{".utf8), Array("}".utf8), Array("[".utf8), Array("]".utf8), Array(",".utf8), Array(":".utf8),
                                   Array("\"".utf8), Array("\\".utf8), [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x00], [0x07], Array("//".utf8),
                                   Array("/*x*/".utf8), Array("\u{FEFF}".utf8), Array(",,".utf8), Array("null".utf8)]
            d.insert(contentsOf: r.pick(pool), at: r.below(d.count + 1))
            return d
        case 3:  // a member twice (duplicate key), with the same or another value
            guard let m = ms.isEmpty ? nil : r.pick(ms) else { return d }
            var copy = lines[m.0]
            if r.chance(50) { copy.replaceSubrange(m.2, with: Array(r.pick(values).utf8)) }
            if copy.last != UInt8(ascii: ",") { copy.append(UInt8(ascii: ",")) }
            lines.insert(copy, at: m.0)
            return join(lines)
        case 4:  // a number to an extreme, a negative, a string
            let numeric = ms.filter { m in lines[m.0][m.2].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") } }
            guard let m = numeric.isEmpty ? ms.first : r.pick(numeric) else { return d }
            let v = r.chance(75) ? r.pick(extremes) : "\"\(String(decoding: lines[m.0][m.2], as: UTF8.self))\""
            return setValue(m, Array(v.utf8))
        case 5:  // any value to another kind of value
            guard !ms.isEmpty else { return d }
            return setValue(r.pick(ms), Array(r.pick(values).utf8))
        case 6:  // swap two values
            guard ms.count > 1 else { return d }
            let a = r.pick(ms), b = r.pick(ms)
            guard a.0 != b.0 else { return d }
            let va = Array(lines[a.0][a.2]), vb = Array(lines[b.0][b.2])
            lines[a.0].replaceSubrange(a.2, with: vb)
            lines[b.0].replaceSubrange(b.2, with: va)
            return join(lines)
        case 7:  // deep nesting
            guard !ms.isEmpty else { return d }
            let depth = r.pick([8, 40, 63, 64, 65, 100, 1000, 20000])
            let v = r.chance(50) ? String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                : String(repeating: "{\"a\": ", count: depth) + "1" + String(repeating: "}", count: depth)
            return setValue(r.pick(ms), Array(v.utf8))
        case 8:  // a huge string (sometimes past 1 MiB)
            guard !ms.isEmpty else { return d }
            let size = r.chance(8) ? (1 << 20) + r.below(200_000) : r.pick([256, 4096, 65536, 300_000])
            let fill = r.pick(["a", "é", "\\n", "\\u00e9", " "])
            var s = "\""
            s.reserveCapacity(size + 2)
            while s.utf8.count < size { s += fill }
            return setValue(r.pick(ms), Array((s + "\"").utf8))
        case 9:  // delete a member line
            guard let m = ms.isEmpty ? nil : r.pick(ms) else { return d }
            lines.remove(at: m.0)
            return join(lines)
        case 10:  // truncate
            return Array(d.prefix(r.below(d.count + 1)))
        case 11:  // an unknown member
            guard let m = ms.isEmpty ? nil : r.pick(ms) else { return d }
            var line = lines[m.0]
            line.replaceSubrange(line.startIndex..<m.2.lowerBound,
                                 with: Array("    \"\(r.pick(["colour", "retention", "account", "Mode", "mode ", "flows", "", "\\u0000"]))\": ".utf8))
            if line.last != UInt8(ascii: ",") { line.append(UInt8(ascii: ",")) }
            lines.insert(line, at: m.0)
            return join(lines)
        case 12:  // the read-only members changed
            let ro = ms.filter { ["accountSid", "plan", "flow", "default", "min", "max", "dualChannel", "customStorage"].contains($0.1) }
            guard let m = ro.isEmpty ? nil : r.pick(ro) else { return d }
            return setValue(m, Array(r.pick(["\"ACother\"", "\"enterprise\"", "\"other\"", "3650", "true", "null"]).utf8))
        case 13:  // not an object at all, or whitespace
            return Array(r.pick(["", " \n", "[]", "null", "42", "\"account\"", "{}", "{\"account\": {}}", "{\"account\": null}"]).utf8)
        default:  // a plausible change (often valid)
            let known = ms.filter { m in plausible.contains { $0.0 == m.1 } }
            guard let m = known.isEmpty ? nil : r.pick(known) else { return d }
            let options = plausible.first { $0.0 == m.1 }!.1
            return setValue(m, Array(r.pick(options).utf8))
        }
    }
}

@Suite struct SettingsFuzzTests {
    @Test("10,000 mutated documents through .settings: each applied or refused, and afterwards the daemon, the store and every settings version are sound")
    func mutatedDocuments() throws {
        let m = try SettingsFSMount(prepare: { store, _ in
            let gen = try CLI.run(["gen", "--store", store, "--calls", "12", "--days", "3", "--seed", "5", "--max-duration", "5"])
            guard gen.status == 0 else { throw CLIFailure("gen failed: \(gen.summary)") }
        })
        defer { m.tearDown() }
        try m.expectApplied("flows/sales.json", #"{"override": true, "mode": "dual"}"#, create: true)
        try m.expectApplied("flows/support.json", #"{"enabled": true}"#, create: true)
        let targets = ["account.json", "retention.json", "access.json", "storage.json", "flows/sales.json", "flows/support.json"]
        // What each file is mutated from, and what it must read as (nil: a flow file that is gone).
        var bases: [String: [UInt8]] = [:]
        for t in targets {
            let bytes = try #require(m.read(t), "\(t) unreadable")
            bases[t] = bytes
        }
        var expected: [String: [UInt8]?] = bases.mapValues { Optional($0) }

        // The oracle: the library's own reading of each document (the rules `recfs settings`
        // and the mount share), from the settings as they are. The mount must agree with it.
        let defaults = RecordingSettings.defaults(plan: .growth, region: .apSouth1)
        let shown = try CLI.run(["settings", "show", "--store", m.store])
        var current = try SettingsDocument.decode(Array(shown.stdout), plan: .growth, accountSid: Fixtures.demoAccount, current: defaults)
        func verdict(_ target: String, _ doc: [UInt8]) -> RecordingSettings? {
            let file = target.hasPrefix("flows/") ? SettingsFile.flow(String(target.dropFirst(6).dropLast(5))) : SettingsFile(name: target)!
            guard let s = try? file.decode(doc, plan: .growth, accountSid: Fixtures.demoAccount, current: current) else { return nil }
            return SettingsDocument.planViolations(s, plan: .growth).isEmpty ? s : nil
        }
        var disagreements: [String] = [], swallowed: [String] = []

        var r = SettingsFuzzRandom(seed: 0x5E77_1265_F022_2026)
        var accepted = 0, refused = 0, tooBig = 0, byRename = 0, checked = 0
        var unexpected: [String] = []
        let started = Date()
        for i in 0..<10_000 {
            let target = r.pick(targets)
            let doc = SettingsMutator.mutate(bases[target]!, &r)
            var outcome: SettingsFS.Outcome
            let viaRename = r.chance(10)
            let predicted = doc.count <= 1 << 20 ? verdict(target, doc) : nil
            if viaRename {
                // Written to a scratch file in the same folder, then renamed onto the settings file.
                byRename += 1
                let folder = target.hasPrefix("flows/") ? "flows/" : ""
                let scratch = m.path(folder + "fuzz.tmp")
                outcome = SettingsFS.write(scratch, doc, flags: O_WRONLY | O_CREAT | O_TRUNC)
                if outcome == .ok {
                    outcome = rename(scratch, m.path(target)) == 0 ? .ok : .failed("rename", errno)
                }
                if outcome != .ok { unlink(scratch) }
            } else {
                // Flow files with O_CREAT: a mutation may have removed the override ("override": false).
                outcome = SettingsFS.write(m.path(target), doc, flags: O_WRONLY | O_TRUNC | (target.hasPrefix("flows/") ? O_CREAT : 0))
            }
            if doc.count <= 1 << 20, (outcome == .ok) != (predicted != nil) {
                let error = m.lastError
                let line = """
                    #\(i) \(target) \(viaRename ? "by rename" : "open/write/close"): the mount says \(outcome), the library says \(predicted == nil ? "invalid" : "valid"); .last-error: \(error.prefix(300)); document (\(doc.count) bytes): \(String(decoding: doc.prefix(700), as: UTF8.self))
                    """
                // Refused by the daemon, but at the flush of a copy of the descriptor that a child
                // process (started by another test's thread) inherited: close(2) here said 0.
                if outcome == .ok, predicted == nil, error.contains("refused") {
                    swallowed.append(line)
                    outcome = .failed("close (swallowed)", EINVAL)
                } else {
                    disagreements.append(line)
                }
            }
            if outcome == .ok, let predicted { current = predicted }
            switch outcome {
            case .ok:
                accepted += 1
                let now = m.read(target)
                expected[target] = now
                if let now { bases[target] = now }
            case .failed("close (swallowed)", EINVAL):
                refused += 1
            case .failed("close", EINVAL), .failed("rename", EINVAL):
                refused += 1
                if i % 25 == 0 {
                    checked += 1
                    if m.read(target) != expected[target]! { unexpected.append("#\(i) \(target): changed after a refused write") }
                }
            case .failed(_, EFBIG):
                tooBig += 1
                if doc.count <= 1 << 20 { unexpected.append("#\(i) \(target): EFBIG for \(doc.count) bytes") }
            case .failed:
                unexpected.append("#\(i) \(target) (\(doc.count) bytes): \(outcome); .last-error: \(m.lastError.prefix(300))")
            }
            if unexpected.count > 20 { break }
            if case .failed(_, ENOTCONN) = outcome { break }
        }
        let seconds = Date().timeIntervalSince(started)
        print("settings fuzz: \(swallowed.count) refusals swallowed by a child's close, \(accepted) applied, \(refused) refused (EINVAL), \(tooBig) too big (EFBIG), \(byRename) by rename, \(checked) refusals re-read, \(Int(seconds)) s")
        #expect(unexpected.isEmpty, "\(unexpected.prefix(10).joined(separator: "\n"))")
        // Other suites start processes while these writes hold descriptors: a child's close must
        // never take the verdict (SettingsMountTests.aChildProcessDoesNotSwallowTheRefusal).
        #expect(swallowed.isEmpty, "\(swallowed.count) refused writes whose close(2) returned 0:\n\(swallowed.prefix(3).joined(separator: "\n"))")
        #expect(disagreements.isEmpty, "\(disagreements.count) writes where the mount and `recfs settings` rules disagree:\n\(disagreements.prefix(5).joined(separator: "\n"))")
        #expect(accepted + refused + tooBig == 10_000, "only \(accepted + refused + tooBig) of 10,000 writes were applied or refused")
        #expect(accepted > 0 && refused > 0, "\(accepted) applied, \(refused) refused")
        #expect(tooBig > 0)

        // The daemon is alive and serves recordings byte for byte.
        #expect(m.daemons().count == 1, "daemons: \(m.daemons())")
        for t in targets where !t.hasPrefix("flows/") {
            #expect(m.read(t).flatMap(SettingsFS.json) != nil, "\(t) does not read as a JSON object")
        }
        let rows = try StoreHelper.list(m.store)
        #expect(!rows.isEmpty, "no recordings listed")
        for row in rows.prefix(4) {
            let sid = row["callSid"] as! String
            let path = "\(m.mountpoint)/\(row["date"] as! String)/\(row["flow"] as! String)/\(sid)/\(row["file"] as! String)"
            let got = SettingsFS.read(path)
            #expect(got != nil, "\(path) unreadable through the mount")
            #expect(got.map { SHA256.hex(Data($0)) } == SHA256.hex(try StoreHelper.cat(m.store, sid)), "\(path) differs from recfs cat")
        }

        // The store: settings show works, fsck is clean.
        let show = try CLI.run(["settings", "show", "--store", m.store])
        #expect(show.status == 0, "\(show.summary)")
        let fsck = try CLI.run(["fsck", "--store", m.store])
        #expect(fsck.status == 0 && fsck.out.contains("0 orphan blob(s), 0 staging leftover(s), 0 damaged"), "\(fsck.summary)")

        // Every settings version in the catalog is a valid Growth document, versions without gaps.
        let dump = try SettingsFS.run("/usr/bin/sqlite3", ["-readonly", "-json", m.store + "/catalog.sqlite",
                                                           "SELECT version, document FROM settings ORDER BY version"])
        #expect(dump.status == 0, "\(dump.out.prefix(500))")
        let versions = (try? JSONSerialization.jsonObject(with: Data(dump.out.utf8))) as? [[String: Any]] ?? []
        #expect(versions.count > 3, "\(versions.count) settings versions")
        #expect(versions.count - 1 <= accepted + 2, "\(versions.count) versions for \(accepted) applied writes")
        var invalid: [String] = []
        for (i, v) in versions.enumerated() {
            guard let version = v["version"] as? Int, let document = v["document"] as? String else {
                invalid.append("row \(i): \(v)")
                continue
            }
            if version != i + 1 { invalid.append("version \(version) at position \(i + 1)") }
            do {
                _ = try SettingsDocument.decode(Array(document.utf8), plan: .growth, accountSid: Fixtures.demoAccount, current: defaults)
            } catch {
                invalid.append("version \(version): \(error)")
            }
        }
        #expect(invalid.isEmpty, "\(invalid.prefix(5))")
    }
}
