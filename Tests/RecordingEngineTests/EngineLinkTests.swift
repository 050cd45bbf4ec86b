// EngineLinkTests: libmp3lame is linked and answers.

import Testing
@testable import RecordingEngine

@Test func lameIsLinked() {
    #expect(RecordingEngine.lameVersion.hasPrefix("3."))
}
