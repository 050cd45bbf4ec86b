// RecordingEngine: turns a finished call's legs into the recording its effective settings ask for.

import CLame
import RecordingCore
import RecordingStore

/// The recording engine (filled in by the engine issue).
public enum RecordingEngine {
    /// The libmp3lame version linked in.
    public static var lameVersion: String { String(cString: get_lame_version()) }
}
