// Covers `recfs cat`: whole recordings byte-identical to the originals, --range slices (chunk edges, open ranges) and refused ranges.

import Foundation
import Testing

@Suite("cat and --range")
struct CatTests {
    @Test("cat gives back every recording byte for byte (same sha256)")
    func wholeRecordings() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp)
        for sid in Fixtures.recorded.keys.sorted() {
            let original = try Fixtures.recording(sid)
            let out = try StoreHelper.cat(store, sid)
            #expect(out.count == original.count, "\(sid): \(out.count) bytes, expected \(original.count)")
            #expect(SHA256.hex(out) == SHA256.hex(original), "\(sid): sha256 differs")
        }
        // RECFS_STORE stands in for --store.
        let viaEnv = try CLI.run(["cat", Fixtures.dualSid], environment: ["RECFS_STORE": store])
        #expect(viaEnv.status == 0, "\(viaEnv.summary)")
        #expect(viaEnv.stdout == (try Fixtures.recording(Fixtures.dualSid)))
    }

    /// `--range` arguments and the slice of the original they must give, for the dual 8 kHz
    /// fixture (224,044 bytes: chunks 0–12 of 16,384 bytes and a last chunk of 11,052).
    static let rangeCases: [(String, Range<Int>)] = {
        let size = 224_044, c = 16_384
        return [
            ("0-0", 0..<1),                                   // the first byte
            ("\(size - 1)-\(size - 1)", (size - 1)..<size),   // the last byte
            ("0-\(size - 1)", 0..<size),                      // all of it
            ("0-", 0..<size),                                 // all of it, open
            ("\(c - 10)-\(c + 9)", (c - 10)..<(c + 10)),      // across the chunk 0/1 boundary
            ("\(c - 1)-\(c)", (c - 1)..<(c + 1)),             // the two bytes either side of it
            ("\(c)-\(2 * c - 1)", c..<(2 * c)),               // exactly chunk 1
            ("\(c - 5)-\(3 * c + 5)", (c - 5)..<(3 * c + 6)), // four chunks, partial at both ends
            ("\(3 * c)-", (3 * c)..<size),                    // START-: the last, partial chunk
            ("200000-", 200_000..<size),                      // START- inside the last chunk
            ("\(2 * c + 100)-", (2 * c + 100)..<size),        // START- across a boundary
            ("44-1043", 44..<1044),                           // audio data after the WAV header
            ("\(size - 10)-\(size + 1000)", (size - 10)..<size), // END past the end is clamped (HTTP)
        ]
    }()

    @Test("--range START-END and START- give exactly the byte slice", arguments: 0..<CatTests.rangeCases.count)
    func ranges(_ i: Int) throws {
        let (arg, slice) = Self.rangeCases[i]
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid])
        let original = try Fixtures.recording(Fixtures.dualSid)
        #expect(original.count == 224_044, "the dual 8 kHz fixture changed size")
        let r = try CLI.run(["cat", "--store", store, Fixtures.dualSid, "--range", arg])
        #expect(r.status == 0, "\(r.summary)")
        #expect(r.stdout.count == slice.count, "--range \(arg): \(r.stdout.count) bytes, expected \(slice.count)")
        #expect(r.stdout == original.subdata(in: slice), "--range \(arg): bytes differ from the original slice")
    }

    @Test("ranges of a two-chunk and a one-chunk recording")
    func rangesOfOtherShapes() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let mp3 = "CAbda05a1c596c28408f9afad4e0717ee9"
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.widebandSid, mp3])
        for sid in [Fixtures.widebandSid, mp3] {
            let original = try Fixtures.recording(sid)
            let n = original.count
            // (argument, first byte, one past the last byte before clamping to the size)
            for (arg, lo, hi) in [("0-0", 0, 1), ("\(n - 1)-", n - 1, n), ("\(n / 2)-\(n / 2 + 70_000)", n / 2, n / 2 + 70_001),
                                  ("65535-65536", 65_535, 65_537), ("1-", 1, n)] where lo < n {
                let slice = lo..<min(n, hi)
                let r = try CLI.run(["cat", "--store", store, sid, "--range", arg])
                #expect(r.status == 0, "\(r.summary)")
                #expect(r.stdout == original.subdata(in: slice), "\(sid) --range \(arg)")
            }
        }
    }

    @Test("bad ranges exit non-zero, write nothing and name --range",
          arguments: ["5-2", "x-1", "224044-", "224044-224050", "300000-", "999999-1000000", "-5", "5", "1-x", "a-", "-"])
    func badRanges(_ arg: String) throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.demoStore(tmp, calls: [Fixtures.dualSid])
        let r = try CLI.run(["cat", "--store", store, Fixtures.dualSid, "--range=\(arg)"])
        expectFailure(r, mentioning: ["--range"])
        #expect(r.stdout.isEmpty, "nothing on stdout for a refused range: \(r.summary)")
        #expect(r.errLines.count == 1, "a one-line message: \(r.summary)")
    }
}
