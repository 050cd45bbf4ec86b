// Store+Diagnosis: what `recfs doctor` reads about one call: its catalog row and its recording
// row whatever its state (live, expired or deleted), and the store's clock.

import GRDB
import RecordingCore

extension Store {
    /// The call `sid` and its recording row, if it has one, expired or deleted included.
    public func callAndRecording(_ sid: String) throws -> (call: CallRow, recording: RecordingRow?) {
        let call = try call(sid)
        let recording = try call.recordingId.flatMap { id in try catalog.pool.read { db in try RecordingRow.fetchOne(db, key: id) } }
        return (call, recording)
    }

    /// The store's current time (milliseconds since the epoch), as used for expiry.
    public var now: Int64 { clock() }
}
