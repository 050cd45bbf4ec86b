// Names: the rules for names that become paths (flow names, outcomes, role names, call sids).

/// Validation of names that end up as directory names in the mount or keys in the catalog.
public enum Names {
    /// Why `name` cannot be a flow name (it becomes a directory of the mount), or nil if it can.
    /// Letters, digits, `.`, `_`, `-`; starting with a letter or digit; at most 64 characters.
    public static func flowProblem(_ name: String) -> String? {
        identifierProblem(name, what: "flow name", maxLength: 64)
    }

    /// Why `name` cannot be a call outcome label, or nil.
    public static func outcomeProblem(_ name: String) -> String? {
        identifierProblem(name, what: "outcome", maxLength: 32)
    }

    /// Why `name` cannot be a role name, or nil.
    public static func roleProblem(_ name: String) -> String? {
        identifierProblem(name, what: "role name", maxLength: 32)
    }

    /// Why `sid` cannot be a call sid (it becomes a directory of the mount), or nil.
    public static func callSidProblem(_ sid: String) -> String? {
        identifierProblem(sid, what: "call sid", maxLength: 64)
    }

    /// Why `sid` cannot be an account sid, or nil.
    public static func accountSidProblem(_ sid: String) -> String? {
        identifierProblem(sid, what: "account sid", maxLength: 64)
    }

    static func identifierProblem(_ name: String, what: String, maxLength: Int) -> String? {
        if name.isEmpty { return "\(what) is empty" }
        if name.utf8.count > maxLength { return "\(what) is longer than \(maxLength) characters" }
        let allowed: (UInt8) -> Bool = { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        guard name.utf8.allSatisfy(allowed) else {
            return "\(what) \"\(name)\" may hold only letters, digits, '.', '_' and '-'"
        }
        guard let first = name.utf8.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-"), first != UInt8(ascii: "_") else {
            return "\(what) \"\(name)\" must start with a letter or digit"
        }
        return nil
    }
}
