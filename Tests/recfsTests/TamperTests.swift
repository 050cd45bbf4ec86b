// Covers tamper detection: flipped, truncated, extended, swapped, dropped and spliced chunks and damaged headers make `recfs cat` fail with an integrity error and never write wrong bytes.

import Foundation
import Testing

/// One way of damaging the blob of the dual 8 kHz recording (224,044 bytes: chunks 0–12 of
/// 16,384 + 16 bytes after the 160-byte header, then a last chunk of 11,052 + 16).
enum Tamper: String, CaseIterable, CustomTestStringConvertible {
    case flipMiddleByte          // one bit of a byte in the middle of the blob
    case flipFirstChunkByte      // one bit of chunk 0's ciphertext
    case flipFirstChunkTag       // one bit of chunk 0's tag
    case flipLastByte            // one bit of the last chunk's tag
    case truncate100             // the last 100 bytes cut off
    case truncateLastTag         // the last 16 bytes (a whole tag) cut off
    case extend16                // 16 zero bytes appended
    case swapChunks01            // chunks 0 and 1 exchanged
    case swapChunks12            // chunks 1 and 2 exchanged
    case dropChunk1              // chunk 1 removed, the rest moved up
    case duplicateChunk0         // chunk 0 written over chunk 1
    case spliceTwinChunk1        // chunk 1 from a recording of the same audio, another data key
    case spliceTwinChunk0        // chunk 0 from that twin
    case spliceOtherChunk0       // chunk 0 from the 16 kHz dual recording (another call)
    case spliceTwinLastChunk     // the last chunk from the twin
    case swapWholeBlob           // the twin's whole blob put in place of this one
    case headerChunkShift        // header byte 13: log2 of the chunk size
    case headerRecordingId       // header byte 20: the recording id
    case headerNonceSalt         // header byte 33: the nonce salt
    case headerReserved          // header byte 40: reserved, bound into every chunk
    case headerKeyId             // header byte 66: the account key id
    case headerWrappedKey        // header byte 100: the wrapped data key
    case headerTail              // header byte 150: reserved tail
    case headerMagic             // header byte 0: the magic

    var testDescription: String { rawValue }

    /// Whether chunk 0 is among the damaged bytes (or the blob as a whole cannot be trusted),
    /// so not one byte of output is acceptable.
    var damagesStart: Bool {
        switch self {
        case .flipMiddleByte, .flipLastByte, .swapChunks12, .spliceTwinChunk1, .spliceTwinLastChunk, .duplicateChunk0:
            return false
        default:
            return true
        }
    }
}

@Suite("tampering")
struct TamperTests {
    static let sid = Fixtures.dualSid
    static let twinSid = "CA00000000000000000000000000000twin"

    /// A store with the dual recording, the 16 kHz dual recording, and a twin call whose
    /// recording is the same file (so its chunks line up with the dual one's, under another key).
    static func makeStore(_ tmp: TempDir) throws -> String {
        let store = try StoreHelper.demoStore(tmp, calls: [sid, Fixtures.widebandSid])
        let twinDir = tmp.sub("twin")
        try Fixtures.copyLegs(into: twinDir)
        var call = try Fixtures.callJSON(sid)
        call["callSid"] = twinSid
        call["startedAt"] = "2026-11-17T04:30:00Z"
        call["answeredAt"] = "2026-11-17T04:30:04Z"
        call["connectedAt"] = "2026-11-17T04:30:08Z"
        call["endedAt"] = "2026-11-17T04:30:11Z"
        try JSONSerialization.data(withJSONObject: call).write(to: URL(fileURLWithPath: twinDir + "/twin.json"))
        let r = try CLI.run(["ingest", "--store", store, twinDir + "/twin.json"])
        #expect(r.status == 0, "\(r.summary)")
        return store
    }

    static func twinBlobPath(_ store: String) throws -> String {
        let dir = store + "/blobs/ap-south-1/ACdemo/2026/11/17"
        let files = StoreHelper.files(under: dir)
        guard files.count == 1 else { throw CLIFailure("expected the twin's blob alone in \(dir): \(files)") }
        return dir + "/" + files[0]
    }

    static func copyStore(_ store: String, to copy: String) throws {
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-a", store, copy]
        try cp.run()
        cp.waitUntilExit()
        guard cp.terminationStatus == 0 else { throw CLIFailure("cp -a \(store) \(copy) failed") }
    }

    static func apply(_ tamper: Tamper, blob path: String, twin: String, other: String) throws {
        let url = URL(fileURLWithPath: path)
        var b = try Data(contentsOf: url)
        let twinBytes = try Data(contentsOf: URL(fileURLWithPath: twin))
        let otherBytes = try Data(contentsOf: URL(fileURLWithPath: other))
        let n = 224_044
        let chunk = { (i: Int) in Blob.chunkRange(i, plaintext: n) }
        func flip(_ offset: Int) { b[offset] ^= 0x01 }
        switch tamper {
        case .flipMiddleByte: flip(b.count / 2)
        case .flipFirstChunkByte: flip(Blob.headerSize + 1000)
        case .flipFirstChunkTag: flip(chunk(0).upperBound - 3)
        case .flipLastByte: flip(b.count - 1)
        case .truncate100: b = b.prefix(b.count - 100)
        case .truncateLastTag: b = b.prefix(b.count - 16)
        case .extend16: b.append(Data(count: 16))
        case .swapChunks01, .swapChunks12:
            let (x, y) = tamper == .swapChunks01 ? (chunk(0), chunk(1)) : (chunk(1), chunk(2))
            let bx = b.subdata(in: x), by = b.subdata(in: y)
            b.replaceSubrange(x, with: by)
            b.replaceSubrange(y, with: bx)
        case .dropChunk1: b.removeSubrange(chunk(1))
        case .duplicateChunk0: b.replaceSubrange(chunk(1), with: b.subdata(in: chunk(0)))
        case .spliceTwinChunk1: b.replaceSubrange(chunk(1), with: twinBytes.subdata(in: chunk(1)))
        case .spliceTwinChunk0: b.replaceSubrange(chunk(0), with: twinBytes.subdata(in: chunk(0)))
        case .spliceTwinLastChunk: b.replaceSubrange(chunk(3), with: twinBytes.subdata(in: chunk(3)))
        case .spliceOtherChunk0: b.replaceSubrange(chunk(0), with: otherBytes.subdata(in: Blob.chunkRange(0, plaintext: 128_044)))
        case .swapWholeBlob: b = twinBytes
        case .headerChunkShift: flip(13)
        case .headerRecordingId: flip(20)
        case .headerNonceSalt: flip(33)
        case .headerReserved: flip(40)
        case .headerKeyId: flip(66)
        case .headerWrappedKey: flip(100)
        case .headerTail: flip(150)
        case .headerMagic: flip(0)
        }
        try b.write(to: url)
    }

    @Test("a damaged blob makes cat fail naming the call and integrity, with no wrong bytes", arguments: Tamper.allCases)
    func tampered(_ tamper: Tamper) throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let original = try Fixtures.recording(Self.sid)
        let store = try Self.makeStore(tmp)
        #expect(try StoreHelper.cat(store, Self.twinSid) == original, "the twin reads back as the same audio")

        let copy = tmp.sub("copy")
        try Self.copyStore(store, to: copy)
        let blob = try StoreHelper.blobPath(copy, sid: Self.sid)
        try Self.apply(tamper, blob: blob, twin: try Self.twinBlobPath(copy), other: try StoreHelper.blobPath(copy, sid: Fixtures.widebandSid))

        let r = try CLI.run(["cat", "--store", copy, Self.sid])
        expectFailure(r, mentioning: [Self.sid, "integrity"])
        #expect(r.stdout.isPrefix(of: original), "\(tamper): wrong bytes written (\(r.stdout.count) bytes)")
        if tamper.damagesStart {
            #expect(r.stdout.isEmpty, "\(tamper): \(r.stdout.count) bytes written before the damaged first chunk failed")
        }
        // A ranged read of the whole recording fails the same way.
        let ranged = try CLI.run(["cat", "--store", copy, Self.sid, "--range", "0-"])
        expectFailure(ranged, mentioning: [Self.sid, "integrity"])
        #expect(ranged.stdout.isPrefix(of: original), "\(tamper): wrong bytes written by --range 0-")

        // The untouched original store, and the copy's other recordings, still read correctly.
        #expect(try StoreHelper.cat(store, Self.sid) == original, "\(tamper): the original store was affected")
        #expect(try StoreHelper.cat(copy, Fixtures.widebandSid) == (try Fixtures.recording(Fixtures.widebandSid)))
    }

    @Test("only the chunks a range touches are read: damage elsewhere does not stop it, damage inside does")
    func rangeAroundDamage() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let original = try Fixtures.recording(Self.sid)
        let store = try Self.makeStore(tmp)
        let blob = try StoreHelper.blobPath(store, sid: Self.sid)
        try Self.apply(.flipMiddleByte, blob: blob, twin: try Self.twinBlobPath(store), other: try StoreHelper.blobPath(store, sid: Fixtures.widebandSid))

        // The flipped byte sits in the middle of the blob: find the chunk it damaged.
        let damaged = (Blob.size(plaintext: original.count) / 2 - Blob.headerSize) / Blob.sealedChunk
        let lo = damaged * Blob.chunkSize, hi = min(original.count, lo + Blob.chunkSize)
        #expect(damaged > 0 && hi < original.count)

        let before = try CLI.run(["cat", "--store", store, Self.sid, "--range", "0-\(lo - 1)"])
        #expect(before.status == 0, "\(before.summary)")
        #expect(before.stdout == original.prefix(lo))
        let after = try CLI.run(["cat", "--store", store, Self.sid, "--range", "\(hi)-"])
        #expect(after.status == 0, "\(after.summary)")
        #expect(after.stdout == original.subdata(in: hi..<original.count))

        let inside = try CLI.run(["cat", "--store", store, Self.sid, "--range", "\(lo + 100)-\(lo + 110)"])
        expectFailure(inside, mentioning: [Self.sid, "integrity"])
        #expect(inside.stdout.isEmpty, "\(inside.summary)")
        let across = try CLI.run(["cat", "--store", store, Self.sid, "--range", "\(lo - 6)-\(lo + 4)"])
        expectFailure(across, mentioning: [Self.sid, "integrity"])
        #expect(across.stdout.isPrefix(of: original.subdata(in: (lo - 6)..<(lo + 5))), "wrong bytes: \(across.summary)")
    }
}
