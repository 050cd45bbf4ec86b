// RecordingFS: the mount's filesystem core and its libfuse3 adapter.

import CFuse3
import RecordingCore
import RecordingStore

/// The FUSE face (filled in by the mount issue).
public enum RecordingFS {
    /// The libfuse version linked in.
    public static var fuseVersion: Int32 { fuse_version() }
}
