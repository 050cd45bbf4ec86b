// OpenSSLError: the one place libcrypto's failures become Swift errors.

import COpenSSL

/// A libcrypto call that failed, with the function name and OpenSSL's own reason.
public struct OpenSSLError: Error, CustomStringConvertible {
    public let function: String
    public let detail: String

    public var description: String { "\(function) failed: \(detail)" }

    /// Drains OpenSSL's error queue into an error naming `function`.
    static func last(_ function: String) -> OpenSSLError {
        var detail = ""
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buf, buf.count)
            let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            detail += detail.isEmpty ? text : "; " + text
        }
        return OpenSSLError(function: function, detail: detail.isEmpty ? "no reason given" : detail)
    }

    /// Checks a libcrypto return value where 1 means success.
    @inline(__always)
    static func check(_ result: Int32, _ function: String) throws(OpenSSLError) {
        if result != 1 { throw last(function) }
    }
}

/// Cryptographically secure random bytes from OpenSSL's DRBG.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed: the system's entropy source is unusable")
        return out
    }
}
