// JSONTests: the strict JSON parser (literals, numbers, strings, nesting, errors) and the printer, with a print → parse property test.

import Testing
@testable import RecordingCore

private func parse(_ text: String) -> JSONValue? { try? JSONValue.parse(text) }

private func syntaxError(_ text: String) -> JSONSyntaxError? {
    do {
        _ = try JSONValue.parse(text)
        return nil
    } catch {
        return error
    }
}

private func syntaxError(_ bytes: [UInt8]) -> JSONSyntaxError? {
    do {
        _ = try JSONValue.parse(bytes)
        return nil
    } catch {
        return error
    }
}

struct JSONLiteralTests {
    @Test(arguments: [("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null), (" \t\r\n null \n", .null)])
    func literalParses(text: String, value: JSONValue) {
        #expect(parse(text) == value)
    }

    @Test(arguments: ["tru", "True", "nul", "NULL", "falsey", "nan", "Infinity", "undefined", "truefalse"])
    func misspelledLiteralIsRefused(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test func valueTypeNamesReadNaturally() {
        #expect(JSONValue.null.typeName == "null")
        #expect(JSONValue.bool(true).typeName == "a boolean")
        #expect(JSONValue.int(1).typeName == "a number")
        #expect(JSONValue.string("").typeName == "a string")
        #expect(JSONValue.array([]).typeName == "an array")
        #expect(JSONValue.object([]).typeName == "an object")
    }
}

struct JSONNumberTests {
    @Test(arguments: ["0", "-0", "7", "-12", "1234567890123456789012345678901234567890", "3.25", "-0.5", "1e3", "1E+3", "2.5e-10", "0e0"])
    func numberKeepsItsTextExactly(text: String) {
        #expect(parse(text) == .number(text))
        guard case let .number(kept)? = parse("[\(text)]").flatMap({ if case let .array(a) = $0 { a.first } else { nil } }) else {
            Issue.record("not a number in an array"); return
        }
        #expect(kept == text)
        #expect(JSONValue.number(text).compact() == text)
    }

    @Test func bigIntegerIsNotRoundedThroughDouble() throws {
        let big = "9007199254740993"  // 2^53 + 1: a Double would make it ...992
        let doc = try JSONValue.parse(#"{"n": \#(big)}"#)
        #expect(doc["n"].map { if case let .number(t) = $0 { t } else { "" } } == big)
        #expect(doc.compact() == #"{"n": 9007199254740993}"#)
    }

    @Test(arguments: ["01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "0x10", "1.5.2", "--1", "- 1", "1_000", "١"])
    func badNumberIsRefused(text: String) {
        #expect(syntaxError(text) != nil)
        #expect(syntaxError("[\(text)]") != nil)
    }

    @Test func intBuildsANumber() {
        #expect(JSONValue.int(-42) == .number("-42"))
        #expect(JSONValue.int(Int.max).compact() == String(Int.max))
    }

    @Test func equalNumbersWrittenDifferentlyAreEqualValues() {
        #expect(JSONValue.number("1.0") == .number("1"))
        #expect(JSONValue.number("1e2") == .number("100"))
        #expect(JSONValue.number("1") != .number("2"))
        #expect(JSONValue.number("1") != .string("1"))
    }
}

struct JSONStringTests {
    @Test(arguments: [
        (#""""#, ""),
        (#""plain""#, "plain"),
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"),
        (#""\u0041\u00e9\u20AC""#, "Aé€"),
        (#""\ud83d\ude00""#, "😀"),
        (#""\uD834\uDD1E clef""#, "𝄞 clef"),
        (#""\u0000""#, "\u{0}"),
        ("\"naïve 日本 😀\"", "naïve 日本 😀"),
    ])
    func stringWithEscapesParses(text: String, value: String) {
        #expect(parse(text) == .string(value))
    }

    @Test(arguments: [
        #""\ud83d""#, #""\ude00""#, #""\ud83d\u0041""#, #""\ud83dx""#, #""\u12""#, #""\u12G4""#, #""\x""#, #""\'""#,
        "\"unterminated", "\"tab\there\"", "\"line\nbreak\"", "\"\\", "'single'",
    ])
    func badStringIsRefused(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test func invalidUTF8IsRefused() {
        #expect(syntaxError([0x22, 0xC3, 0x28, 0x22]) != nil)
        #expect(syntaxError([0x22, 0xFF, 0x22]) != nil)
        #expect(syntaxError([0x22, 0xED, 0xA0, 0x80, 0x22]) != nil)  // an encoded surrogate
    }
}

struct JSONStructureTests {
    @Test func objectsKeepTheirMemberOrder() throws {
        let doc = try JSONValue.parse(#"{"z": 1, "a": [true, null], "m": {"k": "v"}}"#)
        guard case let .object(members) = doc else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["z", "a", "m"])
        #expect(doc["a"] == .array([.bool(true), .null]))
        #expect(doc["m"]?["k"] == .string("v"))
        #expect(doc["missing"] == nil)
        #expect(JSONValue.array([])["a"] == nil)
    }

    @Test func objectsWithTheSameMembersInAnotherOrderDiffer() {
        #expect(parse(#"{"a": 1, "b": 2}"#) != parse(#"{"b": 2, "a": 1}"#))
        #expect(parse(#"{"a": 1}"#) != parse(#"{"a": 1, "b": 2}"#))
    }

    @Test(arguments: ["[]", "{}", "[[]]", "[{}]", " [ 1 , 2 ] ", "{ \"a\" : { } }"])
    func emptyAndSpacedContainersParse(text: String) {
        #expect(parse(text) != nil)
    }

    @Test(arguments: ["[1,]", "[,1]", "[1 2]", "{\"a\" 1}", "{\"a\": 1,}", "{a: 1}", "{1: 1}", "[", "]", "{\"a\"}", "[1]]"])
    func malformedContainerIsRefused(text: String) {
        #expect(syntaxError(text) != nil)
    }

    @Test func duplicateKeyIsRefusedEvenWhenSpelledWithAnEscape() throws {
        let e = try #require(syntaxError(#"{"ab": 1, "a\u0062": 2}"#))
        #expect(e.reason.contains("duplicate"))
        #expect(e.line == 1)
        #expect(e.column == 11)
        #expect(parse(#"{"a": {"x": 1}, "b": {"x": 2}}"#) != nil)
    }

    @Test func nestingUpToSixtyFourLevelsIsAccepted() {
        #expect(parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) != nil)
        let objects = String(repeating: #"{"a":"#, count: 63) + "{}" + String(repeating: "}", count: 63)
        #expect(parse(objects) != nil)
    }

    @Test func nestingDeeperThanSixtyFourLevelsIsRefused() throws {
        let e = try #require(syntaxError(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)))
        #expect(e.reason.contains("64"))
        #expect(syntaxError(String(repeating: #"{"a":"#, count: 64) + "{}" + String(repeating: "}", count: 64)) != nil)
        // Deep input must fail cleanly, not overflow the stack.
        #expect(syntaxError(String(repeating: "[", count: 100_000)) != nil)
    }

    @Test(arguments: ["{} {}", "1 2", "null x", "[] ,", "\"a\"\"b\"", "{}\u{0}"])
    func trailingGarbageIsRefused(text: String) throws {
        let e = try #require(syntaxError(text))
        #expect(e.reason.contains("after the document"))
    }

    @Test func byteOrderMarkAtTheStartIsSkipped() throws {
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array(#"{"a": 1}"#.utf8)) == .object([("a", .int(1))]))
    }

    @Test func byteOrderMarkElsewhereIsRefused() {
        #expect(syntaxError(Array("[1,".utf8) + [0xEF, 0xBB, 0xBF] + Array("2]".utf8)) != nil)
        #expect(syntaxError([0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + Array("1".utf8)) != nil)
    }

    @Test(arguments: ["", " ", "\n\n"])
    func emptyDocumentIsRefused(text: String) throws {
        let e = try #require(syntaxError(text))
        #expect(e.reason.contains("end of document"))
    }
}

struct JSONErrorPositionTests {
    @Test(arguments: [
        ("{\"a\": x}", 1, 7),
        ("{\n  \"a\": 1,\n  \"b\": ?\n}", 3, 8),
        ("[\n\n      01]", 3, 8),
        ("{\"é\": 1, \"b\" 2}", 1, 14),
        ("[1,\n 2,\n 3", 3, 3),
    ])
    func errorSaysLineAndColumn(text: String, line: Int, column: Int) throws {
        let e = try #require(syntaxError(text))
        #expect(e.line == line)
        #expect(e.column == column)
        #expect(e.description.hasPrefix("not valid JSON at line \(line), column \(column): "))
    }
}

struct JSONPrinterTests {
    @Test func controlCharactersAreEscaped() throws {
        let s = String(decoding: (0..<0x20).map { UInt8($0) } + [0x22, 0x5C, 0x7F], as: UTF8.self)
        let quoted = JSONValue.quote(s)
        #expect(quoted.unicodeScalars.allSatisfy { $0.value >= 0x20 })
        #expect(quoted.contains(#"\u0000"#))
        #expect(quoted.contains(#"\u001f"#))
        #expect(quoted.contains(#"\n"#) && quoted.contains(#"\t"#) && quoted.contains(#"\r"#))
        #expect(quoted.contains(#"\""#) && quoted.contains(#"\\"#))
        #expect(try JSONValue.parse(quoted) == .string(s))
    }

    @Test func nonASCIIIsWrittenAsIs() {
        #expect(JSONValue.quote("é😀/") == "\"é😀/\"")
    }

    @Test func compactIsOneLine() {
        let v = JSONValue.object([("a", .array([.int(1), .bool(false), .null])), ("b", .object([("c", .string("d"))])), ("e", .object([]))])
        #expect(v.compact() == #"{"a": [1, false, null], "b": {"c": "d"}, "e": {}}"#)
    }

    @Test func prettyPrintIndentsByTwoAndKeepsShortScalarArraysOnOneLine() {
        let v = JSONValue.object([
            ("flows", .array([.string("*")])),
            ("rules", .array([.object([("flow", .string("sales")), ("days", .int(180))])])),
            ("empty", .array([])), ("none", .object([])),
            ("long", .array((0..<30).map { JSONValue.int($0) })),
        ])
        let expected = """
        {
          "flows": ["*"],
          "rules": [
            {
              "flow": "sales",
              "days": 180
            }
          ],
          "empty": [],
          "none": {},
          "long": [
        \((0..<30).map { "    \($0)" }.joined(separator: ",\n"))
          ]
        }

        """
        #expect(v.prettyPrinted() == expected)
    }

    @Test func scalarsPrintAlone() {
        #expect(JSONValue.null.prettyPrinted() == "null\n")
        #expect(JSONValue.string("x").prettyPrinted() == "\"x\"\n")
    }
}

/// Random JSON values for the print → parse property.
struct RandomJSON {
    var rng: SeededGenerator

    mutating func string() -> String {
        let pool: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\r", "\u{0}", "\u{1F}", "\u{7F}",
                                      "é", "€", "日", "😀", "\u{2028}", "\u{FEFF}", "{", "}", ":", ","]
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &rng) { s.append(pool.randomElement(using: &rng)!) }
        return String(s)
    }

    mutating func number() -> String {
        var t = Bool.random(using: &rng) ? "-" : ""
        t += Bool.random(using: &rng) ? "0" : String(Int.random(in: 1...9, using: &rng)) + String(UInt64.random(in: 0...UInt64.max, using: &rng)).prefix(Int.random(in: 0...25, using: &rng))
        if Int.random(in: 0..<3, using: &rng) == 0 { t += "." + String(Int.random(in: 0...99999, using: &rng)) }
        if Int.random(in: 0..<4, using: &rng) == 0 { t += ["e", "E"].randomElement(using: &rng)! + ["", "+", "-"].randomElement(using: &rng)! + String(Int.random(in: 0...300, using: &rng)) }
        return t
    }

    mutating func value(depth: Int) -> JSONValue {
        let kinds = depth >= 6 ? 4 : 6
        switch Int.random(in: 0..<kinds, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(number())
        case 3: return .string(string())
        case 4: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1) })
        default:
            var seen = Set<[Unicode.Scalar]>()
            var members: [(key: String, value: JSONValue)] = []
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                let key = string()
                guard seen.insert(Array(key.unicodeScalars)).inserted, !members.contains(where: { $0.key == key }) else { continue }
                members.append((key, value(depth: depth + 1)))
            }
            return .object(members)
        }
    }
}

/// Structural equality that compares numbers by their text and strings by their scalars.
private func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case let (.bool(x), .bool(y)): return x == y
    case let (.number(x), .number(y)): return x == y
    case let (.string(x), .string(y)): return Array(x.unicodeScalars) == Array(y.unicodeScalars)
    case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy(identical)
    case let (.object(x), .object(y)):
        return x.count == y.count && zip(x, y).allSatisfy { Array($0.key.unicodeScalars) == Array($1.key.unicodeScalars) && identical($0.value, $1.value) }
    default: return false
    }
}

struct JSONPropertyTests {
    @Test(arguments: [1, 2, 3, 42, 2026] as [UInt64])
    func printedValuesParseBackIdentical(seed: UInt64) throws {
        var gen = RandomJSON(rng: SeededGenerator(seed: seed))
        for _ in 0..<300 {
            let v = gen.value(depth: 0)
            let compact = try JSONValue.parse(v.compact())
            let pretty = try JSONValue.parse(v.prettyPrinted())
            #expect(identical(compact, v), "compact: \(v.compact())")
            #expect(identical(pretty, v), "pretty: \(v.prettyPrinted())")
            #expect(compact == v)
            // Printing what was parsed gives the same text again.
            #expect(compact.compact() == v.compact())
        }
    }
}
