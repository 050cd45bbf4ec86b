// FuseLinkTests: libfuse3 is linked and answers.

import Testing
@testable import RecordingFS

@Test func fuseIsLinked() {
    #expect(RecordingFS.fuseVersion >= 312)
}
