// LocalDate: the date folders of the mount, in the account's time zone.

import Foundation

/// Calendar dates (`2026-11-24`) of instants in an IANA time zone, and the instants a date spans.
public struct LocalDate: Sendable {
    public let timeZone: TimeZone

    /// - Parameter identifier: IANA name; unknown names fall back to UTC.
    public init(timeZone identifier: String) {
        timeZone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
    }

    func offsetSeconds(at ms: Int64) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(ms) / 1000))
    }

    /// The local date of an instant, as `YYYY-MM-DD`.
    public func date(of instant: Timestamp) -> String {
        let c = instant.civil(offsetSeconds: offsetSeconds(at: instant.milliseconds))
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year)-\(two(c.month))-\(two(c.day))"
    }

    /// The instants of a local date: from its first instant to the next date's first instant
    /// (not always midnight: some zones skip it when clocks change). Nil if `date` is not `YYYY-MM-DD`.
    public func range(of date: String) -> Range<Timestamp>? {
        guard let midnight = Timestamp(rfc3339: date + "T00:00:00Z") else { return nil }
        let days = midnight.milliseconds / 86_400_000
        return startOfDay(days: days)..<startOfDay(days: days + 1)
    }

    private func startOfDay(days: Int64) -> Timestamp {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // Local noon of that date is never skipped; its day starts where the calendar says.
        let noonUTC = days * 86_400_000 + 43_200_000
        let localNoon = noonUTC - Int64(offsetSeconds(at: noonUTC)) * 1000
        let start = calendar.startOfDay(for: Date(timeIntervalSince1970: TimeInterval(localNoon) / 1000))
        return Timestamp(milliseconds: Int64((start.timeIntervalSince1970 * 1000).rounded()))
    }
}
