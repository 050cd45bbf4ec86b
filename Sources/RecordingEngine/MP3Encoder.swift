// MP3Encoder: mono PCM into a constant-bitrate MP3 through libmp3lame, with the LAME Info
// frame written at the start so players know the exact length (encoder delay and padding).

import CLame

/// A libmp3lame call that failed, with its return code.
public struct MP3EncoderError: Error, CustomStringConvertible {
    public let function: String
    public let code: Int32
    public var description: String { "libmp3lame \(function) failed (return code \(code))" }
}

/// Encodes mono 16-bit PCM to CBR MP3. One encoder per recording; not shared between threads.
public enum MP3Encoder {
    /// The output sample rate for a bitrate: lame caps 8 kHz MP3 at 64 kbps, so 16 kHz (MPEG-2,
    /// up to 160 kbps) carries the usual bitrates and 32 kHz (MPEG-1) the higher ones.
    public static func outputSampleRate(bitrateKbps: Int) -> Int { bitrateKbps <= 160 ? 16000 : 32000 }

    /// Encodes `audio` (mono) at `bitrateKbps`; lame resamples to `outputSampleRate`.
    public static func encode(_ audio: PCMAudio, bitrateKbps: Int) throws -> [UInt8] {
        precondition(audio.channels == 1, "MP3 recordings are mono")
        guard let lame = lame_init() else { throw MP3EncoderError(function: "lame_init", code: -1) }
        defer { lame_close(lame) }
        func check(_ function: String, _ code: Int32) throws {
            if code < 0 { throw MP3EncoderError(function: function, code: code) }
        }
        try check("lame_set_in_samplerate", lame_set_in_samplerate(lame, Int32(audio.sampleRate)))
        try check("lame_set_out_samplerate", lame_set_out_samplerate(lame, Int32(outputSampleRate(bitrateKbps: bitrateKbps))))
        try check("lame_set_num_channels", lame_set_num_channels(lame, 1))
        try check("lame_set_mode", lame_set_mode(lame, MONO))
        try check("lame_set_VBR", lame_set_VBR(lame, vbr_off))
        try check("lame_set_brate", lame_set_brate(lame, Int32(bitrateKbps)))
        try check("lame_set_quality", lame_set_quality(lame, 5))
        try check("lame_set_bWriteVbrTag", lame_set_bWriteVbrTag(lame, 1))
        lame_set_write_id3tag_automatic(lame, 0)
        try check("lame_init_params", lame_init_params(lame))

        // lame's bound for one call is 1.25 × output samples + 7200 bytes; resampling up to
        // `outRate` multiplies the samples.
        let outRate = Int(lame_get_out_samplerate(lame))
        let block = 1152 * 32
        var buffer = [UInt8](repeating: 0, count: block * max(1, (outRate + audio.sampleRate - 1) / audio.sampleRate) * 5 / 4 + 7200)
        var out: [UInt8] = []
        out.reserveCapacity(audio.samples.count / audio.sampleRate * bitrateKbps * 125 + 8192)
        try audio.samples.withUnsafeBufferPointer { pcm in
            var i = 0
            while i < pcm.count {
                let n = min(block, pcm.count - i)
                let written = buffer.withUnsafeMutableBufferPointer { b in
                    lame_encode_buffer(lame, pcm.baseAddress! + i, pcm.baseAddress! + i, Int32(n), b.baseAddress, Int32(b.count))
                }
                try check("lame_encode_buffer", written)
                out += buffer[0..<Int(written)]
                i += n
            }
        }
        let flushed = buffer.withUnsafeMutableBufferPointer { b in lame_encode_flush(lame, b.baseAddress, Int32(b.count)) }
        try check("lame_encode_flush", flushed)
        out += buffer[0..<Int(flushed)]

        // The first frame was a placeholder; lame fills in the Info/LAME tag once it has seen
        // everything. At the lowest bitrates a frame cannot hold the tag and lame writes none.
        let tagSize = buffer.withUnsafeMutableBufferPointer { b in lame_get_lametag_frame(lame, b.baseAddress, b.count) }
        if tagSize == 0 { return out }
        guard tagSize <= buffer.count, tagSize <= out.count else {
            throw MP3EncoderError(function: "lame_get_lametag_frame", code: Int32(truncatingIfNeeded: tagSize))
        }
        out.replaceSubrange(0..<tagSize, with: buffer[0..<tagSize])
        return out
    }
}
