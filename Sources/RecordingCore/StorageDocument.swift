// StorageDocument: reading and checking the `storage` section (default or custom storage).

import Foundation

extension SettingsDocument {
    static let s3Fields = ["kind", "bucket", "region", "endpoint", "accessKeyId", "secretAccessKey",
                           "serverSideEncryption", "kmsKeyId", "prefix"]
    static let azureFields = ["kind", "accountName", "container", "accountKey", "endpoint", "prefix"]
    static let sftpFields = ["kind", "host", "port", "user", "privateKeyFile", "hostKeySha256", "path"]

    static func storage(_ v: JSONValue, plan: Plan, current: StorageSettings, log: ViolationLog) -> StorageSettings {
        guard case .object = v else {
            log.add("storage", "expected an object, got \(v.typeName)")
            return current
        }
        let kinds = ["default", "s3", "azure", "sftp"]
        guard case let .string(kind)? = v["kind"] else {
            log.add("storage.kind", "required: one of \(kinds.joined(separator: ", "))")
            return current
        }
        if kind != "default" && !plan.allowsCustomStorage {
            log.add("storage.kind", "custom storage (\(kind)) is available on the Enterprise plan only; this account is on \(plan.displayName)")
        }
        switch kind {
        case "default":
            _ = FieldReader(v, path: "storage", allowed: ["kind"], log: log)
            return .default
        case "s3": return s3(v, current: current, log: log).map(StorageSettings.s3) ?? current
        case "azure": return azure(v, current: current, log: log).map(StorageSettings.azure) ?? current
        case "sftp": return sftp(v, log: log).map(StorageSettings.sftp) ?? current
        default:
            log.add("storage.kind", "\"\(kind)\" is not one of \(kinds.joined(separator: ", "))")
            return current
        }
    }

    /// A secret from the document; the mask stands for the current secret of the same kind.
    static func secret(_ r: FieldReader, _ key: String, current: String?) -> String? {
        guard let s = r.requiredString(key) else { return nil }
        if s == StorageSettings.secretMask {
            guard let c = current else {
                r.log.add(r.child(key), "is masked but no secret is stored yet: give the real value")
                return nil
            }
            return c
        }
        if s.isEmpty { r.log.add(r.child(key), "must not be empty") }
        return s
    }

    static func s3(_ v: JSONValue, current: StorageSettings, log: ViolationLog) -> S3Target? {
        guard let r = FieldReader(v, path: "storage", allowed: s3Fields, log: log) else { return nil }
        let bucket = r.requiredString("bucket"), region = r.requiredString("region")
        let keyId = r.requiredString("accessKeyId")
        var currentSecret: String?
        if case let .s3(t) = current { currentSecret = t.secretAccessKey }
        let secretKey = secret(r, "secretAccessKey", current: currentSecret)
        let sse = r.string("serverSideEncryption") ?? "AES256"
        let kms = r.string("kmsKeyId")
        let endpoint = optionalEndpoint(r)
        let prefix = objectPrefix(r)
        if let b = bucket, let p = s3BucketProblem(b) { log.add("storage.bucket", p) }
        if let reg = region, reg.isEmpty || !reg.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) {
            log.add("storage.region", "\"\(reg)\" is not a region name such as ap-south-1")
        }
        if let k = keyId, k.isEmpty { log.add("storage.accessKeyId", "must not be empty") }
        switch sse {
        case "AES256":
            if kms != nil { log.add("storage.kmsKeyId", "only with serverSideEncryption aws:kms") }
        case "aws:kms":
            if kms == nil || kms!.isEmpty { log.add("storage.kmsKeyId", "required with serverSideEncryption aws:kms") }
        default:
            log.add("storage.serverSideEncryption", "\"\(sse)\" is not AES256 or aws:kms (recordings are always encrypted at rest)")
        }
        guard let bucket, let region, let keyId, let secretKey else { return nil }
        return S3Target(bucket: bucket, region: region, endpoint: endpoint, accessKeyId: keyId, secretAccessKey: secretKey,
                        serverSideEncryption: sse, kmsKeyId: kms, prefix: prefix)
    }

    static func azure(_ v: JSONValue, current: StorageSettings, log: ViolationLog) -> AzureTarget? {
        guard let r = FieldReader(v, path: "storage", allowed: azureFields, log: log) else { return nil }
        let name = r.requiredString("accountName"), container = r.requiredString("container")
        var currentKey: String?
        if case let .azure(t) = current { currentKey = t.accountKey }
        let key = secret(r, "accountKey", current: currentKey)
        let endpoint = optionalEndpoint(r)
        let prefix = objectPrefix(r)
        if let n = name, !(3...24).contains(n.count) || !n.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) {
            log.add("storage.accountName", "\"\(n)\" is not a storage account name (3–24 lowercase letters and digits)")
        }
        if let c = container, let p = azureContainerProblem(c) { log.add("storage.container", p) }
        if let k = key, k != currentKey, Data(base64Encoded: k) == nil { log.add("storage.accountKey", "is not base64 (copy the key from the storage account's access keys)") }
        guard let name, let container, let key else { return nil }
        return AzureTarget(accountName: name, container: container, accountKey: key, endpoint: endpoint, prefix: prefix)
    }

    static func sftp(_ v: JSONValue, log: ViolationLog) -> SFTPTarget? {
        guard let r = FieldReader(v, path: "storage", allowed: sftpFields, log: log) else { return nil }
        let host = r.requiredString("host"), user = r.requiredString("user")
        let keyFile = r.requiredString("privateKeyFile"), hostKey = r.requiredString("hostKeySha256")
        let port = r.int("port") ?? 22
        let path = r.string("path") ?? "."
        if let h = host, h.isEmpty || h.contains("/") || h.contains(" ") { log.add("storage.host", "\"\(h)\" is not a host name or address") }
        if !(1...65535).contains(port) { log.add("storage.port", "\(port) is not a TCP port (1–65535)") }
        if let u = user, u.isEmpty || u.contains("@") || u.contains(" ") { log.add("storage.user", "\"\(u)\" is not a user name") }
        if let k = keyFile, !k.hasPrefix("/") { log.add("storage.privateKeyFile", "must be an absolute path") }
        if let hk = hostKey, !(hk.hasPrefix("SHA256:") && hk.count == 50) {
            log.add("storage.hostKeySha256", "expected SHA256:<43 base64 characters> as ssh-keygen -lf prints (the host key is pinned; TOFU is not accepted)")
        }
        if path.isEmpty || path.split(separator: "/").contains("..") { log.add("storage.path", "\"\(path)\" is not a usable remote folder") }
        guard let host, let user, let keyFile, let hostKey else { return nil }
        return SFTPTarget(host: host, port: port, user: user, privateKeyFile: keyFile, hostKeySha256: hostKey, path: path)
    }

    /// Endpoints must use TLS; plain http is accepted only for loopback (test servers).
    static func optionalEndpoint(_ r: FieldReader) -> String? {
        guard r.has("endpoint"), r.value("endpoint") != .null, let e = r.string("endpoint") else { return nil }
        if let problem = endpointProblem(e) { r.log.add(r.child("endpoint"), problem) }
        return e
    }

    /// Why `url` cannot be a storage endpoint, or nil.
    static func endpointProblem(_ url: String) -> String? {
        let scheme: String
        if url.hasPrefix("https://") { scheme = "https" } else if url.hasPrefix("http://") { scheme = "http" } else {
            return "\"\(url)\" must be an https:// URL (TLS 1.2+ in transit)"
        }
        let rest = url.dropFirst(scheme.count + 3)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.contains("@") { return "\"\(url)\" must not carry credentials (give them in their own fields)" }
        var host = Substring(authority)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return "\"\(url)\" has an unterminated [IPv6] host" }
            let after = host[host.index(after: close)...]
            guard after.isEmpty || (after.hasPrefix(":") && after.dropFirst().allSatisfy(\.isNumber) && after.count > 1) else {
                return "\"\(url)\" has a malformed port"
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isNumber), let p = Int(port), (1...65535).contains(p) else {
                return "\"\(url)\" has a malformed port"
            }
            host = host[..<colon]
        }
        if host.isEmpty { return "\"\(url)\" names no host" }
        guard scheme == "http" else { return nil }
        let loopback: Bool
        if host == "localhost" {
            loopback = true
        } else if let address = IPAddress(String(host)) {
            loopback = CIDR("127.0.0.0/8")!.contains(address) || CIDR("::1/128")!.contains(address)
        } else {
            loopback = false
        }
        return loopback ? nil : "\"\(url)\" must be an https:// URL (TLS 1.2+ in transit; plain http only for loopback test servers)"
    }

    static func objectPrefix(_ r: FieldReader) -> String {
        let p = r.string("prefix") ?? ""
        if p.hasPrefix("/") || p.split(separator: "/").contains("..") {
            r.log.add(r.child("prefix"), "\"\(p)\" must be a relative key prefix without '..'")
        }
        return p
    }

    static func s3BucketProblem(_ b: String) -> String? {
        let charset = b.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }
        let ends = b.first.map { $0.isLetter || $0.isNumber } == true && b.last.map { $0.isLetter || $0.isNumber } == true
        let ok = (3...63).contains(b.utf8.count) && charset && ends && !b.contains("..")
        return ok ? nil : "\"\(b)\" is not an S3 bucket name (3–63 lowercase letters, digits, '.' and '-')"
    }

    static func azureContainerProblem(_ c: String) -> String? {
        let ok = (3...63).contains(c.count)
            && c.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
            && c.first != "-" && c.last != "-" && !c.contains("--")
        return ok ? nil : "\"\(c)\" is not a container name (3–63 lowercase letters, digits and single '-')"
    }
}
