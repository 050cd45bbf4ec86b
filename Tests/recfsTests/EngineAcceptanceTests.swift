// Covers the engine's acceptance through the CLI: 60 s calls in each shape (sizes), start point,
// beep, and every produced file opened by Python's wave, sox and ffprobe without warnings.

import Foundation
import Testing

@Suite("recording engine through the CLI")
struct EngineAcceptanceTests {
    /// Writes a call of `seconds` with tone legs (agent 440 Hz, customer 660 Hz at `rate`) into
    /// `dir`; answered at +2 s, connected at +5 s. Returns the JSON's path.
    static func toneCall(_ dir: String, sid: String, seconds: Int, rate: Int, channels: String?) throws -> String {
        try FileManager.default.createDirectory(atPath: dir + "/legs", withIntermediateDirectories: true)
        for (party, hz) in [("agent", 440.0), ("customer", 660.0)] {
            let n = seconds * rate
            var data = Data()
            func le32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { data.append(contentsOf: $0) } }
            func le16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { data.append(contentsOf: $0) } }
            data.append(contentsOf: Array("RIFF".utf8)); le32(36 + 2 * n); data.append(contentsOf: Array("WAVEfmt ".utf8))
            le32(16); le16(1); le16(1); le32(rate); le32(2 * rate); le16(2); le16(16)
            data.append(contentsOf: Array("data".utf8)); le32(2 * n)
            for i in 0..<n { le16(Int(UInt16(bitPattern: Int16(6000 * sin(2 * Double.pi * hz * Double(i) / Double(rate)))))) }
            try data.write(to: URL(fileURLWithPath: dir + "/legs/\(sid)-\(party).wav"))
        }
        var call: [String: Any] = [
            "account": "ACdemo", "callSid": sid, "flow": "sales", "from": "+919876543210", "to": "+919876543211",
            "direction": "inbound", "outcome": "completed", "startedAt": "2026-11-24T10:00:00Z", "answeredAt": "2026-11-24T10:00:02Z",
            "connectedAt": "2026-11-24T10:00:05Z", "endedAt": String(format: "2026-11-24T10:%02d:%02dZ", (2 + seconds) / 60, (2 + seconds) % 60),
            "legs": ["agent": "legs/\(sid)-agent.wav", "customer": "legs/\(sid)-customer.wav"],
        ]
        if let channels { call["recordingChannels"] = channels }
        let path = dir + "/\(sid).json"
        try JSONSerialization.data(withJSONObject: call).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func tool(_ program: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [program] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test("60 s calls: MP3 about 1 MB, dual WAV exactly 1,920,044 (8 kHz) and 3,840,044 bytes (16 kHz); each opens cleanly")
    func sixtySecondSizes() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let store = try StoreHelper.initStore(tmp)
        let calls = [("CAsixtymp3", 8000, nil as String?), ("CAsixtydual8k", 8000, "dual"), ("CAsixtydual16k", 16000, "dual")]
        let files = try calls.map { try Self.toneCall(tmp.sub("calls"), sid: $0.0, seconds: 60, rate: $0.1, channels: $0.2) }
        try CLI.ok(["ingest", "--store", store] + files)
        let rows = try StoreHelper.list(store)
        func size(_ sid: String) -> Int { (rows.first { $0["callSid"] as? String == sid }?["size"] as? Int) ?? -1 }
        #expect((900_000...1_100_000).contains(size("CAsixtymp3")), "\(size("CAsixtymp3"))")
        #expect(size("CAsixtydual8k") == 1_920_044)
        #expect(size("CAsixtydual16k") == 3_840_044)

        for (sid, _, _) in calls {
            let row = try #require(rows.first { $0["callSid"] as? String == sid })
            let path = tmp.sub("\(sid).\(row["format"] as! String)")
            try StoreHelper.cat(store, sid).write(to: URL(fileURLWithPath: path))
            #expect(row["durationMs"] as? Int == 60_000, "answer: ended − answered")
            if row["format"] as? String == "wav" {
                let py = try Self.tool("python3", ["-W", "error", "-c", "import sys, wave; w = wave.open(sys.argv[1]); print(w.getnchannels(), w.getnframes())", path])
                #expect(py.status == 0 && py.err.isEmpty && py.out.hasPrefix("2 "), "\(sid): \(py)")
            }
            let sox = try Self.tool("sox", ["--i", path])
            #expect(sox.status == 0 && sox.err.isEmpty, "\(sid): \(sox)")
            let probe = try Self.tool("ffprobe", ["-v", "warning", "-hide_banner", path])
            #expect(probe.status == 0 && probe.err.isEmpty, "\(sid): \(probe)")
        }
    }

    @Test("start point connect drops the IVR; the beep is at 1 kHz in the first 0.5 s only when enabled")
    func connectAndBeep() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        func store(_ name: String, _ settings: String) throws -> String {
            let s = try StoreHelper.initStore(tmp, name: name)
            let f = tmp.sub("\(name).json")
            try settings.write(toFile: f, atomically: false, encoding: .utf8)
            try CLI.ok(["settings", "set", "--store", s, f])
            try CLI.ok(["ingest", "--store", s, Fixtures.callFile(Fixtures.dualSid)])
            return s
        }
        let plain = try store("plain", #"{"account": {"startPoint": "answer", "beep": false}}"#)
        let connect = try store("connect", #"{"account": {"startPoint": "connect", "beep": true}}"#)
        let call = try Fixtures.callJSON(Fixtures.dualSid)
        let iso = ISO8601DateFormatter()
        func ms(_ key: String) -> Int { Int(iso.date(from: call[key] as! String)!.timeIntervalSince1970 * 1000) }
        #expect(try StoreHelper.list(plain).first?["durationMs"] as? Int == ms("endedAt") - ms("answeredAt"))
        #expect(try StoreHelper.list(connect).first?["durationMs"] as? Int == ms("endedAt") - ms("connectedAt"))

        // Goertzel at 1 kHz over the first 0.5 s of the left channel, against the total power.
        func beepShare(_ wav: Data) -> Double {
            let bytes = [UInt8](wav)
            var s1 = 0.0, s2 = 0.0, total = 0.0
            let k = 2 * cos(2 * Double.pi * 1000 / 8000)
            for i in 0..<4000 {
                let o = 44 + 4 * i
                let x = Double(Int16(bitPattern: UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8))
                let s0 = x + k * s1 - s2
                s2 = s1; s1 = s0
                total += x * x
            }
            return 2 * (s1 * s1 + s2 * s2 - k * s1 * s2) / (4000 * 4000) / max(1, total / 4000)
        }
        let withBeep = beepShare(try StoreHelper.cat(connect, Fixtures.dualSid))
        let without = beepShare(try StoreHelper.cat(plain, Fixtures.dualSid))
        #expect(withBeep > 0.5, "1 kHz share with the beep: \(withBeep)")
        #expect(without < 0.05, "1 kHz share without: \(without)")
    }
}
