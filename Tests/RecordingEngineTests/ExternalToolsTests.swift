// ExternalToolsTests: every kind of file the engine makes opens in Python's `wave` (WAV),
// `sox --i` and `ffprobe` with no warning, and ffmpeg decodes it to the expected length.

import Foundation
import RecordingCore
import RecordingStore
import Testing
@testable import RecordingEngine

/// Each shape of recording: name, fixture call, settings change.
let shapes: [(String, String, @Sendable (inout RecordingSettings) -> Void)] = [
    ("dual 8 kHz", Sid.dual, { _ in }),
    ("dual 16 kHz", Sid.wideband, { _ in }),
    ("dual with beep and pause", Sid.paused, { $0.account.beep = true }),
    ("mono WAV 8 kHz", Sid.collections, { $0.account.format = .wav }),
    ("mono WAV from connect", Sid.support, { $0.account.format = .wav; $0.account.startPoint = .connect }),
    ("MP3 128 kbps", Sid.support, { _ in }),
    ("MP3 from 16 kHz legs", Sid.wideband, { $0.account.mode = .single; $0.flows["support"] = FlowOverride(override: true, mode: .single) }),
    ("MP3 192 kbps with beep", Sid.optOut, { $0.account.mp3BitrateKbps = 192; $0.account.beep = true }),
    ("MP3 after opt-out", Sid.optOut, { _ in }),
]

struct ExternalToolsTests {
    @Test(arguments: shapes.indices)
    func everyProducedFileOpensWithoutWarnings(_ i: Int) throws {
        let (name, sid, change) = shapes[i]
        var r = try render(sid, change)
        if name == "MP3 from 16 kHz legs" {
            // The call itself asks for dual; render it as if it had not.
            let (call, legs) = try fixture(sid)
            var plain = call
            plain.recordingChannels = nil
            r = try #require(try RecordingEngine.render(plain, legs: legs, settings: settings(plain, change)).recording)
            #expect(r.format == .mp3)
        }
        let tmp = Scratch()
        let path = try tmp.write("recording.\(r.format.rawValue)", r.bytes)

        if r.format == .wav {
            let py = try run("python3", ["-W", "error", "-c", """
                import sys, wave
                with wave.open(sys.argv[1]) as w:
                    print(w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes(), w.getcomptype())
                """, path])
            #expect(py.status == 0 && py.err.isEmpty, "\(name): python wave: \(py.err)")
            let fields = py.out.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(fields == ["\(r.channels)", "2", "\(r.sampleRate)", "\(Int(r.durationMilliseconds) * r.sampleRate / 1000)", "NONE"], "\(name): \(py.out)")
        }

        let sox = try run("sox", ["--i", path])
        #expect(sox.status == 0 && sox.err.isEmpty, "\(name): sox --i: \(sox.err)")
        #expect(sox.out.contains("Channels       : \(r.channels)") && sox.out.contains("Sample Rate    : \(r.sampleRate)"), "\(name): \(sox.out)")

        let probe = try run("ffprobe", ["-v", "warning", "-show_entries", "stream=codec_name,channels,sample_rate", "-of", "csv=p=0", path])
        #expect(probe.status == 0 && probe.err.isEmpty, "\(name): ffprobe: \(probe.err)")
        let codec = r.format == .wav ? "pcm_s16le" : "mp3"
        #expect(probe.out.trimmingCharacters(in: .whitespacesAndNewlines) == "\(codec),\(r.sampleRate),\(r.channels)", "\(name): \(probe.out)")

        // Decoded length (ffmpeg honours the LAME tag's delay and padding): within 20 ms. At
        // -v warning ffmpeg notes "Guessed Channel Layout" for any plain-PCM (tag 1) stereo WAV,
        // which has no channel mask by design; ffprobe above is the no-warning check.
        let decode = try run("ffmpeg", ["-v", "error", "-i", path, "-f", "s16le", tmp.path + "/decoded.raw"])
        #expect(decode.status == 0 && decode.err.isEmpty, "\(name): ffmpeg: \(decode.err)")
        let bytes = (try FileManager.default.attributesOfItem(atPath: tmp.path + "/decoded.raw")[.size] as? Int) ?? 0
        let ms = Int64(bytes / 2 / r.channels) * 1000 / Int64(r.sampleRate)
        #expect(abs(ms - r.durationMilliseconds) <= 20, "\(name): decoded \(ms) ms, catalogued \(r.durationMilliseconds) ms")
    }
}
