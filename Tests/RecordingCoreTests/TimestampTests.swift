// TimestampTests: RFC 3339 parsing and printing, the civil-date arithmetic, and LocalDate's date folders in a time zone.

import Foundation
import Testing
@testable import RecordingCore

/// Milliseconds since the epoch of a UTC civil time, computed by Foundation's Gregorian calendar (an independent oracle).
private func oracle(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Int64 {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    let date = cal.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))!
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}

private func ts(_ text: String) -> Timestamp? { Timestamp(rfc3339: text) }

struct TimestampParseTests {
    @Test func epochIsZero() {
        #expect(ts("1970-01-01T00:00:00Z")?.milliseconds == 0)
    }

    @Test(arguments: [
        ("2026-11-24T10:00:04Z", oracle(2026, 11, 24, 10, 0, 4)),
        ("2000-02-29T23:59:59Z", oracle(2000, 2, 29, 23, 59, 59)),
        ("2024-02-29T00:00:00Z", oracle(2024, 2, 29)),
        ("1999-12-31T23:59:59Z", oracle(1999, 12, 31, 23, 59, 59)),
        ("1969-07-20T20:17:40Z", oracle(1969, 7, 20, 20, 17, 40)),
        ("1601-01-01T00:00:00Z", oracle(1601, 1, 1)),
        ("9999-12-31T23:59:59Z", oracle(9999, 12, 31, 23, 59, 59)),
    ])
    func utcTimeParses(text: String, milliseconds: Int64) {
        #expect(ts(text)?.milliseconds == milliseconds)
    }

    @Test(arguments: [(".250", 250), (".2", 200), (".05", 50), (".000", 0), (".999", 999), (".1234", 123), (".9999999", 999)])
    func fractionalSecondsGiveMilliseconds(fraction: String, millis: Int64) {
        #expect(ts("2026-11-21T12:40:03\(fraction)Z")?.milliseconds == oracle(2026, 11, 21, 12, 40, 3) + millis)
    }

    @Test(arguments: [("+05:30", -330), ("-08:00", 480), ("+00:00", 0), ("-00:00", 0), ("+14:00", -840), ("-12:45", 765)])
    func offsetIsSubtracted(offset: String, minutesToUTC: Int64) {
        let local = ts("2026-11-24T10:00:04\(offset)")
        #expect(local?.milliseconds == oracle(2026, 11, 24, 10, 0, 4) + minutesToUTC * 60_000)
    }

    @Test func sameInstantWrittenThreeWays() {
        let a = ts("2026-11-24T10:00:04.500Z"), b = ts("2026-11-24T15:30:04.500+05:30"), c = ts("2026-11-24t02:00:04.5-08:00")
        #expect(a != nil)
        #expect(a == b)
        #expect(a == c)
        #expect(ts("2026-11-24T10:00:04z") == ts("2026-11-24T10:00:04Z"))
    }

    @Test(arguments: [
        "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T23:60:00Z",
        "2026-11-24T23:59:61Z", "2026-11-24T10:00:04", "2026-11-24T10:00:04.Z", "2026-11-24T10:00:04+05", "2026-11-24T10:00:04+0530",
        "2026-11-24T10:00:04+24:00", "2026-11-24T10:00:04+05:60", "2026-11-24T10:00:04ZZ", "2026-11-24T10:00:04Z ", "2026-11-24",
        "2026-11-24X10:00:04Z", "2026/11/24T10:00:04Z", "26-11-24T10:00:04Z", "2026-1-24T10:00:04Z", "2026-11-24T1:00:04Z",
        "-026-11-24T10:00:04Z", "2026-11-24T10:00:04.-1Z", "", "now", "2026-11-24T10:00:04+05:30x", "２０２６-11-24T10:00:04Z",
    ])
    func invalidTimeIsRefused(text: String) {
        #expect(ts(text) == nil)
    }
}

struct TimestampDescriptionTests {
    @Test(arguments: ["2026-11-24T10:00:04Z", "2026-11-21T12:40:03.200Z", "1970-01-01T00:00:00.001Z", "0001-01-01T00:00:00Z",
                      "9999-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z", "2024-02-29T12:00:00Z"])
    func canonicalTextRoundTrips(text: String) throws {
        let t = try #require(ts(text))
        #expect(t.description == text)
    }

    @Test func offsetsPrintInUTC() {
        #expect(ts("2026-11-24T01:30:00+05:30")?.description == "2026-11-23T20:00:00Z")
        #expect(ts("2026-11-24T10:00:04.25Z")?.description == "2026-11-24T10:00:04.250Z")
    }

    @Test func instantsBeforeTheEpochPrintCorrectly() {
        #expect(Timestamp(milliseconds: -1).description == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(milliseconds: -1000).description == "1969-12-31T23:59:59Z")
        #expect(Timestamp(milliseconds: -86_400_000).description == "1969-12-31T00:00:00Z")
        #expect(Timestamp(milliseconds: -86_400_001).description == "1969-12-30T23:59:59.999Z")
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func randomInstantsRoundTripThroughText(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let first = Timestamp(rfc3339: "0001-01-01T00:00:00Z")!.milliseconds, last = oracle(9999, 12, 31, 23, 59, 59) + 999
        for _ in 0..<2000 {
            let t = Timestamp(milliseconds: Int64.random(in: first...last, using: &rng))
            let back = try #require(Timestamp(rfc3339: t.description), "\(t.milliseconds) printed as \(t.description)")
            #expect(back == t)
        }
    }

    @Test func civilFieldsAtAnOffset() {
        let t = ts("2026-11-23T20:00:00Z")!
        let c = t.civil(offsetSeconds: 19_800)
        #expect(c.year == 2026 && c.month == 11 && c.day == 24 && c.hour == 1 && c.minute == 30 && c.second == 0)
        let w = t.civil(offsetSeconds: -21 * 3600)
        #expect(w.day == 22 && w.hour == 23)
    }

    @Test func ordering() {
        #expect(ts("2026-11-24T10:00:04Z")! < ts("2026-11-24T10:00:04.001Z")!)
        #expect(ts("2026-11-24T10:00:04+05:30")! < ts("2026-11-24T10:00:04Z")!)
    }
}

struct CivilDayTests {
    /// The day after (y, m, d), computed by plain calendar rules.
    static func successor(_ y: Int, _ m: Int, _ d: Int) -> (Int, Int, Int) {
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let length = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        if d < length { return (y, m, d + 1) }
        if m < 12 { return (y, m + 1, 1) }
        return (y + 1, 1, 1)
    }

    @Test func anchors() {
        #expect(Timestamp.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
        #expect(Timestamp.daysFromCivil(year: 2000, month: 3, day: 1) == Int(oracle(2000, 3, 1) / 86_400_000))
        #expect(Timestamp.civilFromDays(0) == (1970, 1, 1))
        #expect(Timestamp.civilFromDays(-1) == (1969, 12, 31))
        #expect(Timestamp.civilFromDays(-719_468) == (0, 3, 1))
    }

    @Test(arguments: [101, 202, 303] as [UInt64])
    func daysAndDatesAreInverseOverAWideRange(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<20_000 {
            let n = Int.random(in: -400_000_000...400_000_000, using: &rng)
            let (y, m, d) = Timestamp.civilFromDays(n)
            #expect((1...12).contains(m) && (1...31).contains(d))
            #expect(Timestamp.daysFromCivil(year: y, month: m, day: d) == n, "\(n) -> \(y)-\(m)-\(d)")
            #expect(Timestamp.civilFromDays(n + 1) == Self.successor(y, m, d), "day after \(y)-\(m)-\(d)")
        }
    }

    @Test func everyDayOfFourCenturiesFollowsTheCalendar() {
        var date = (1900, 1, 1)
        var n = Timestamp.daysFromCivil(year: 1900, month: 1, day: 1)
        #expect(n == Int(oracle(1900, 1, 1) / 86_400_000))
        var wrong: [String] = []
        for _ in 0..<146_097 {
            if Timestamp.daysFromCivil(year: date.0, month: date.1, day: date.2) != n { wrong.append("\(date)") }
            if Timestamp.civilFromDays(n) != date { wrong.append("day \(n)") }
            date = Self.successor(date.0, date.1, date.2)
            n += 1
        }
        #expect(wrong.isEmpty, "first mismatches: \(wrong.prefix(5))")
        #expect(date == (2300, 1, 1))
    }

    @Test(arguments: [5, 6] as [UInt64])
    func datesAgreeWithFoundation(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let y = Int.random(in: 1600...9999, using: &rng), m = Int.random(in: 1...12, using: &rng), d = Int.random(in: 1...28, using: &rng)
            #expect(Int64(Timestamp.daysFromCivil(year: y, month: m, day: d)) * 86_400_000 == oracle(y, m, d), "\(y)-\(m)-\(d)")
        }
    }
}

struct LocalDateTests {
    @Test func kolkataEveningInUTCIsTheNextDay() throws {
        let t = try #require(ts("2026-11-23T20:00:00Z"))
        #expect(LocalDate(timeZone: "Asia/Kolkata").date(of: t) == "2026-11-24")
        #expect(LocalDate(timeZone: "UTC").date(of: t) == "2026-11-23")
        #expect(LocalDate(timeZone: "America/New_York").date(of: t) == "2026-11-23")
    }

    @Test func kolkataDateStartsAtSixThirtyPMUTCTheDayBefore() throws {
        let r = try #require(LocalDate(timeZone: "Asia/Kolkata").range(of: "2026-11-24"))
        #expect(r.lowerBound == ts("2026-11-23T18:30:00Z"))
        #expect(r.upperBound == ts("2026-11-24T18:30:00Z"))
        #expect(r.contains(ts("2026-11-23T20:00:00Z")!))
        #expect(!r.contains(ts("2026-11-23T18:29:59.999Z")!))
        #expect(!r.contains(ts("2026-11-24T18:30:00Z")!))
    }

    @Test func utcDateIsMidnightToMidnight() throws {
        let r = try #require(LocalDate(timeZone: "UTC").range(of: "2026-11-24"))
        #expect(r.lowerBound == ts("2026-11-24T00:00:00Z"))
        #expect(r.upperBound == ts("2026-11-25T00:00:00Z"))
    }

    @Test func daylightSavingDaysAreShortAndLong() throws {
        let ny = LocalDate(timeZone: "America/New_York")
        let spring = try #require(ny.range(of: "2026-03-08"))
        #expect(spring.lowerBound == ts("2026-03-08T05:00:00Z"))
        #expect(spring.upperBound == ts("2026-03-09T04:00:00Z"))
        let autumn = try #require(ny.range(of: "2026-11-01"))
        #expect(autumn.upperBound.milliseconds - autumn.lowerBound.milliseconds == 25 * 3_600_000)
    }

    @Test func unknownZoneFallsBackToUTC() throws {
        let t = try #require(ts("2026-11-23T20:00:00Z"))
        #expect(LocalDate(timeZone: "Mars/Olympus").date(of: t) == "2026-11-23")
        #expect(LocalDate(timeZone: "Mars/Olympus").range(of: "2026-11-24")?.lowerBound == ts("2026-11-24T00:00:00Z"))
    }

    @Test(arguments: ["2026-13-01", "2026-02-30", "2026-11-24T00:00:00Z", "24-11-2026", "", "2026-11-2"])
    func badDateHasNoRange(text: String) {
        #expect(LocalDate(timeZone: "Asia/Kolkata").range(of: text) == nil)
    }

    @Test(arguments: ["Asia/Kolkata", "America/New_York", "Europe/London", "Pacific/Chatham", "Australia/Lord_Howe", "UTC"])
    func everyInstantLiesInItsOwnDatesRange(zone: String) throws {
        let local = LocalDate(timeZone: zone)
        var rng = SeededGenerator(seed: 99)
        let first = oracle(2020, 1, 1), last = oracle(2030, 12, 31)
        for _ in 0..<500 {
            let t = Timestamp(milliseconds: Int64.random(in: first...last, using: &rng))
            let date = local.date(of: t)
            let r = try #require(local.range(of: date), "\(date)")
            #expect(r.contains(t), "\(t) in \(zone) is \(date), range \(r.lowerBound)..<\(r.upperBound)")
        }
    }

    /// The start of each day of 2026 in `zone`, as Foundation's calendar computes it.
    static func foundationDayStarts(_ zone: String) -> [(String, Int64)] {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: zone)!
        var out: [(String, Int64)] = []
        for n in Timestamp.daysFromCivil(year: 2026, month: 1, day: 1)..<Timestamp.daysFromCivil(year: 2027, month: 1, day: 1) {
            let (y, m, d) = Timestamp.civilFromDays(n)
            let noon = cal.date(from: DateComponents(year: y, month: m, day: d, hour: 12))!
            let start = cal.startOfDay(for: noon)
            let text = "\(y)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)"
            out.append((text, Int64((start.timeIntervalSince1970 * 1000).rounded())))
        }
        return out
    }

    @Test(arguments: ["Asia/Kolkata", "Asia/Singapore", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham"])
    func dayStartsWhereFoundationSaysItDoes(zone: String) throws {
        let local = LocalDate(timeZone: zone)
        for (date, start) in Self.foundationDayStarts(zone) {
            #expect(local.range(of: date)?.lowerBound.milliseconds == start, "\(zone) \(date)")
        }
    }

    /// Zones whose clocks change at local midnight: on those days midnight is skipped or repeated.
    @Test(arguments: ["America/Havana", "America/Santiago"])
    func dayStartsWhereFoundationSaysItDoesWhenClocksChangeAtMidnight(zone: String) throws {
        let local = LocalDate(timeZone: zone)
        let wrong = Self.foundationDayStarts(zone).filter { local.range(of: $0.0)?.lowerBound.milliseconds != $0.1 }
        #expect(wrong.isEmpty, "\(zone): \(wrong.map(\.0))")
        // Whatever the bounds, an instant must lie in the range of the date it is filed under.
        for (date, start) in Self.foundationDayStarts(zone) where wrong.contains(where: { $0.0 == date }) {
            for offset in stride(from: Int64(-2 * 3_600_000), through: 2 * 3_600_000, by: 15 * 60_000) {
                let t = Timestamp(milliseconds: start + offset)
                #expect(local.range(of: local.date(of: t))?.contains(t) == true, "\(zone) \(t)")
            }
        }
    }

    @Test func havanaSpringForwardDay() throws {
        // Havana springs from 00:00 CST (UTC-5) to 01:00 CDT (UTC-4) on 2026-03-08: that day starts at 05:00Z.
        let havana = LocalDate(timeZone: "America/Havana")
        #expect(havana.date(of: ts("2026-03-08T04:30:00Z")!) == "2026-03-07")
        #expect(havana.date(of: ts("2026-03-08T05:00:00Z")!) == "2026-03-08")
        #expect(havana.range(of: "2026-03-07")?.upperBound == ts("2026-03-08T05:00:00Z"))
        #expect(havana.range(of: "2026-03-08")?.lowerBound == ts("2026-03-08T05:00:00Z"))
    }

    @Test func fixtureCallOnTheTimeZoneEdge() throws {
        // Manifest row 10: started 2026-11-23 in UTC, 2026-11-24 01:30 in Asia/Kolkata.
        let call = try CallDescription.decode(try Fixtures.bytes("calls/CAbda05a1c596c28408f9afad4e0717ee9.json"))
        #expect(LocalDate(timeZone: "Asia/Kolkata").date(of: call.startedAt) == "2026-11-24")
        #expect(LocalDate(timeZone: "UTC").date(of: call.startedAt) == "2026-11-23")
    }
}

/// call.json's catalogued size relies on this: an expiry (a start plus whole days) prints with
/// as many characters as the start, so moving it never changes the document's size.
struct TimestampWidthTests {
    @Test func wholeDaysLaterPrintsJustAsWide() {
        var g = SeededGenerator(seed: 25)
        for _ in 0..<20_000 {
            // 1970 … 2200, with and without milliseconds.
            var start = Int64.random(in: 0..<7_258_118_400_000, using: &g)
            if Bool.random(using: &g) { start -= start % 1000 }
            let days = Int64.random(in: 0...36_500, using: &g)
            let a = Timestamp(milliseconds: start).description, b = Timestamp(milliseconds: start + days * 86_400_000).description
            #expect(a.utf8.count == b.utf8.count, "\(a) vs \(b)")
        }
    }
}
