// AESGCM: AES-256-GCM, one reusable context per key: recfs's own VAES/VPCLMULQDQ code where
// the CPU has it (CGCM, about twice OpenSSL 3.0's speed there), libcrypto's EVP interface
// elsewhere. Both give the same bytes (AESGCMTests checks them against each other).

import CGCM
import COpenSSL
import Glibc

/// AES-256-GCM with a fixed key. The key schedule is computed once; each seal or open only
/// sets a new nonce, so chunk after chunk costs no allocation.
///
/// Thread safety: an instance holds a key schedule and (on the libcrypto path) EVP contexts,
/// and must not be used by two threads at once. Make one per thread (they are cheap).
public final class AESGCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    /// Which code does the work.
    public enum Implementation: String, Sendable {
        /// VAES and VPCLMULQDQ on 256-bit registers (CGCM).
        case vaes
        /// libcrypto's EVP interface.
        case openssl

        /// The fastest this CPU runs, unless `RECFS_GCM=openssl` asks for libcrypto.
        public static let preferred: Implementation = {
            if let asked = getenv("RECFS_GCM"), String(cString: asked) == "openssl" { return .openssl }
            return vaesAvailable ? .vaes : .openssl
        }()
    }

    /// Whether this CPU has AVX2, VAES and VPCLMULQDQ (and the kernel saves their registers).
    public static let vaesAvailable = recfs_gcm_available() == 1

    public let implementation: Implementation
    /// The VAES schedule, or nil when libcrypto does the work (then the EVP contexts are set).
    private let fast: OpaquePointer?
    private let encryptContext: OpaquePointer?
    private let decryptContext: OpaquePointer?

    /// - Parameters:
    ///   - key: 32 bytes.
    ///   - implementation: `.vaes` falls back to `.openssl` on a CPU without the instructions.
    public init(key: [UInt8], implementation: Implementation = .preferred) throws(OpenSSLError) {
        precondition(key.count == AESGCM.keySize, "AES-256 needs a 32-byte key")
        if implementation == .vaes, AESGCM.vaesAvailable, let f = key.withUnsafeBufferPointer({ recfs_gcm_new($0.baseAddress) }) {
            fast = f
            encryptContext = nil
            decryptContext = nil
            self.implementation = .vaes
            return
        }
        fast = nil
        self.implementation = .openssl
        guard let e = EVP_CIPHER_CTX_new(), let d = EVP_CIPHER_CTX_new() else { throw OpenSSLError.last("EVP_CIPHER_CTX_new") }
        encryptContext = e
        decryptContext = d
        try key.withUnsafeBufferPointer { k throws(OpenSSLError) in
            try OpenSSLError.check(EVP_EncryptInit_ex(e, EVP_aes_256_gcm(), nil, k.baseAddress, nil), "EVP_EncryptInit_ex")
            try OpenSSLError.check(EVP_DecryptInit_ex(d, EVP_aes_256_gcm(), nil, k.baseAddress, nil), "EVP_DecryptInit_ex")
        }
    }

    deinit {
        recfs_gcm_free(fast)
        EVP_CIPHER_CTX_free(encryptContext)
        EVP_CIPHER_CTX_free(decryptContext)
    }

    /// Encrypts `count` bytes from `input` into `output` (same length) and writes the 16-byte tag to `tag`.
    public func seal(nonce: UnsafeRawPointer, aad: UnsafeRawBufferPointer, input: UnsafeRawPointer?, count: Int,
                     output: UnsafeMutableRawPointer?, tag: UnsafeMutableRawPointer) throws(OpenSSLError) {
        if let fast {
            recfs_gcm_seal(fast, nonce.assumingMemoryBound(to: UInt8.self), aad.baseAddress?.assumingMemoryBound(to: UInt8.self),
                           aad.count, input?.assumingMemoryBound(to: UInt8.self), count,
                           output?.assumingMemoryBound(to: UInt8.self), tag.assumingMemoryBound(to: UInt8.self))
            return
        }
        guard let ctx = encryptContext else { preconditionFailure("AESGCM: no EVP context on the VAES path") }
        var outLength: Int32 = 0
        try OpenSSLError.check(EVP_EncryptInit_ex(ctx, nil, nil, nil, nonce.assumingMemoryBound(to: UInt8.self)), "EVP_EncryptInit_ex")
        if aad.count > 0 {
            try OpenSSLError.check(EVP_EncryptUpdate(ctx, nil, &outLength, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)), "EVP_EncryptUpdate(aad)")
        }
        if count > 0 {
            try OpenSSLError.check(EVP_EncryptUpdate(ctx, output!.assumingMemoryBound(to: UInt8.self), &outLength,
                                                     input!.assumingMemoryBound(to: UInt8.self), Int32(count)), "EVP_EncryptUpdate")
        }
        var finalLength: Int32 = 0
        try OpenSSLError.check(EVP_EncryptFinal_ex(ctx, nil, &finalLength), "EVP_EncryptFinal_ex")
        try OpenSSLError.check(EVP_CIPHER_CTX_ctrl(ctx, recfs_EVP_CTRL_GCM_GET_TAG, Int32(AESGCM.tagSize), tag), "EVP_CTRL_GCM_GET_TAG")
    }

    /// Decrypts and authenticates. Returns false when the tag does not match (tampered,
    /// truncated, reordered or spliced data); `output` then holds nothing usable (zeros on
    /// the VAES path).
    public func open(nonce: UnsafeRawPointer, aad: UnsafeRawBufferPointer, input: UnsafeRawPointer?, count: Int,
                     output: UnsafeMutableRawPointer?, tag: UnsafeRawPointer) throws(OpenSSLError) -> Bool {
        if let fast {
            return recfs_gcm_open(fast, nonce.assumingMemoryBound(to: UInt8.self), aad.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                  aad.count, input?.assumingMemoryBound(to: UInt8.self), count,
                                  output?.assumingMemoryBound(to: UInt8.self), tag.assumingMemoryBound(to: UInt8.self)) == 1
        }
        guard let ctx = decryptContext else { preconditionFailure("AESGCM: no EVP context on the VAES path") }
        var outLength: Int32 = 0
        try OpenSSLError.check(EVP_DecryptInit_ex(ctx, nil, nil, nil, nonce.assumingMemoryBound(to: UInt8.self)), "EVP_DecryptInit_ex")
        if aad.count > 0 {
            try OpenSSLError.check(EVP_DecryptUpdate(ctx, nil, &outLength, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)), "EVP_DecryptUpdate(aad)")
        }
        if count > 0 {
            try OpenSSLError.check(EVP_DecryptUpdate(ctx, output!.assumingMemoryBound(to: UInt8.self), &outLength,
                                                     input!.assumingMemoryBound(to: UInt8.self), Int32(count)), "EVP_DecryptUpdate")
        }
        try OpenSSLError.check(EVP_CIPHER_CTX_ctrl(ctx, recfs_EVP_CTRL_GCM_SET_TAG, Int32(AESGCM.tagSize), UnsafeMutableRawPointer(mutating: tag)), "EVP_CTRL_GCM_SET_TAG")
        var finalLength: Int32 = 0
        return EVP_DecryptFinal_ex(ctx, nil, &finalLength) == 1
    }

    /// Seals a small message: returns nonce ‖ ciphertext ‖ tag with a fresh random nonce.
    public func sealMessage(_ plaintext: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        let nonce = SecureRandom.bytes(AESGCM.nonceSize)
        var out = [UInt8](repeating: 0, count: AESGCM.nonceSize + plaintext.count + AESGCM.tagSize)
        out.replaceSubrange(0..<AESGCM.nonceSize, with: nonce)
        let n = plaintext.count
        try out.withUnsafeMutableBytes { o in
            try plaintext.withUnsafeBytes { p in
                try aad.withUnsafeBytes { a in
                    try seal(nonce: o.baseAddress!, aad: a, input: p.baseAddress, count: n,
                             output: o.baseAddress! + AESGCM.nonceSize, tag: o.baseAddress! + AESGCM.nonceSize + n)
                }
            }
        }
        return out
    }

    /// Opens a message made by `sealMessage`; nil if it was altered or the key or aad differ.
    public func openMessage(_ message: [UInt8], aad: [UInt8]) throws -> [UInt8]? {
        guard message.count >= AESGCM.nonceSize + AESGCM.tagSize else { return nil }
        let n = message.count - AESGCM.nonceSize - AESGCM.tagSize
        var out = [UInt8](repeating: 0, count: n)
        let ok = try message.withUnsafeBytes { m in
            try out.withUnsafeMutableBytes { o in
                try aad.withUnsafeBytes { a in
                    try open(nonce: m.baseAddress!, aad: a, input: m.baseAddress! + AESGCM.nonceSize, count: n,
                             output: o.baseAddress, tag: m.baseAddress! + AESGCM.nonceSize + n)
                }
            }
        }
        return ok ? out : nil
    }
}
