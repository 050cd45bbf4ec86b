// StorageSettingsTests: the storage section (default, S3, Azure, SFTP): plan gate, TLS endpoints, secret masking.

import Testing
@testable import RecordingCore

private let s3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
private let azureKey = "bXktYXp1cmUtc3RvcmFnZS1hY2NvdW50LWtleQ=="
private let hostKey = "SHA256:" + String(repeating: "Q", count: 43)

private func s3Doc(_ extra: [(String, JSONValue)] = [], secret: String = s3Secret) -> JSONValue {
    var doc = JSONValue.object([
        ("kind", .string("s3")), ("bucket", .string("acme-recordings")), ("region", .string("ap-south-1")),
        ("accessKeyId", .string("AKIAIOSFODNN7EXAMPLE")), ("secretAccessKey", .string(secret)),
    ])
    for (k, v) in extra { doc = doc.setting(k, v) }
    return doc
}

private func azureDoc(_ extra: [(String, JSONValue)] = [], key: String = azureKey) -> JSONValue {
    var doc = JSONValue.object([
        ("kind", .string("azure")), ("accountName", .string("acmerec")), ("container", .string("calls")),
        ("accountKey", .string(key)),
    ])
    for (k, v) in extra { doc = doc.setting(k, v) }
    return doc
}

private func sftpDoc(_ extra: [(String, JSONValue)] = []) -> JSONValue {
    var doc = JSONValue.object([
        ("kind", .string("sftp")), ("host", .string("sftp.acme.example")), ("user", .string("recfs")),
        ("privateKeyFile", .string("/etc/recfs/id_ed25519")), ("hostKeySha256", .string(hostKey)),
    ])
    for (k, v) in extra { doc = doc.setting(k, v) }
    return doc
}

/// A settings document holding only `storage`.
private func document(_ storage: JSONValue) -> String { JSONValue.object([("storage", storage)]).compact() }

private func storageViolations(_ storage: JSONValue, plan: Plan = .enterprise, current: RecordingSettings? = nil) -> [SettingsViolation] {
    settingsViolations(document(storage), plan: plan, current: current)
}

private func decodeStorage(_ storage: JSONValue, plan: Plan = .enterprise, current: RecordingSettings? = nil) throws -> StorageSettings {
    try decodeSettings(document(storage), plan: plan, current: current).storage
}

private func current(_ storage: StorageSettings) -> RecordingSettings {
    var s = RecordingSettings.defaults(plan: .enterprise, region: .apSouth1)
    s.storage = storage
    return s
}

private let currentS3 = S3Target(bucket: "acme-recordings", region: "ap-south-1", endpoint: nil, accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                 secretAccessKey: s3Secret, serverSideEncryption: "AES256", kmsKeyId: nil, prefix: "")
private let currentAzure = AzureTarget(accountName: "acmerec", container: "calls", accountKey: azureKey, endpoint: nil, prefix: "")

struct CustomStoragePlanTests {
    @Test(arguments: [Plan.starter, .growth], ["s3", "azure", "sftp"])
    func customStorageIsEnterpriseOnly(plan: Plan, kind: String) throws {
        let storage = kind == "s3" ? s3Doc() : kind == "azure" ? azureDoc() : sftpDoc()
        let violations = storageViolations(storage, plan: plan)
        #expect(violations.map(\.path) == ["storage.kind"])
        #expect(violations.first?.reason.contains("Enterprise") == true)
        #expect(violations.first?.reason.contains(plan.displayName) == true)
    }

    @Test(arguments: Plan.allCases)
    func defaultStorageIsFineOnEveryPlan(plan: Plan) throws {
        #expect(try decodeStorage(.object([("kind", .string("default"))]), plan: plan) == .default)
    }

    @Test func enterpriseMayUseEachKind() throws {
        #expect(try decodeStorage(s3Doc([("prefix", .string("calls/"))])) == .s3(S3Target(
            bucket: "acme-recordings", region: "ap-south-1", endpoint: nil, accessKeyId: "AKIAIOSFODNN7EXAMPLE",
            secretAccessKey: s3Secret, serverSideEncryption: "AES256", kmsKeyId: nil, prefix: "calls/")))
        #expect(try decodeStorage(azureDoc()) == .azure(currentAzure))
        #expect(try decodeStorage(sftpDoc()) == .sftp(SFTPTarget(host: "sftp.acme.example", port: 22, user: "recfs",
                                                                  privateKeyFile: "/etc/recfs/id_ed25519", hostKeySha256: hostKey, path: ".")))
    }

    @Test(arguments: [JSONValue.object([]), .object([("kind", .string("gcs"))]), .object([("kind", .int(3))])])
    func kindIsRequiredAndKnown(storage: JSONValue) {
        #expect(storageViolations(storage).map(\.path) == ["storage.kind"])
    }
}

struct S3StorageTests {
    @Test func kmsEncryptionNeedsAKeyId() throws {
        let v = storageViolations(s3Doc([("serverSideEncryption", .string("aws:kms"))]))
        #expect(v.map(\.path) == ["storage.kmsKeyId"])
        #expect(v.first?.reason.contains("aws:kms") == true)
        #expect(storageViolations(s3Doc([("serverSideEncryption", .string("aws:kms")), ("kmsKeyId", .string(""))])).map(\.path) == ["storage.kmsKeyId"])
    }

    @Test func kmsEncryptionWithAKeyIdIsAccepted() throws {
        let key = "arn:aws:kms:ap-south-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        guard case let .s3(t) = try decodeStorage(s3Doc([("serverSideEncryption", .string("aws:kms")), ("kmsKeyId", .string(key))])) else {
            Issue.record("not s3"); return
        }
        #expect(t.serverSideEncryption == "aws:kms")
        #expect(t.kmsKeyId == key)
    }

    @Test func keyIdWithoutKMSIsRefused() {
        #expect(storageViolations(s3Doc([("kmsKeyId", .string("k"))])).map(\.path) == ["storage.kmsKeyId"])
    }

    @Test(arguments: ["none", "", "aes256", "AES128"])
    func encryptionIsAlwaysOn(sse: String) {
        #expect(storageViolations(s3Doc([("serverSideEncryption", .string(sse))])).map(\.path) == ["storage.serverSideEncryption"])
    }

    @Test(arguments: ["http://s3.example.com", "http://10.0.0.5:9000", "ftp://s3.example.com", "s3.example.com", "https://",
                      "http://128.0.0.1:9000", "http://localhost.example.com"])
    func plainOrMalformedEndpointIsRefused(endpoint: String) {
        let v = storageViolations(s3Doc([("endpoint", .string(endpoint))]))
        #expect(v.map(\.path) == ["storage.endpoint"])
        #expect(v.first?.reason.contains("https://") == true)
    }

    @Test(arguments: ["https://s3.ap-south-1.amazonaws.com", "https://127.0.0.1:8443", "http://127.0.0.1:8333", "http://localhost:9000",
                      "http://localhost", "http://localhost/", "http://[::1]:9000"])
    func tlsOrLoopbackEndpointIsAccepted(endpoint: String) throws {
        guard case let .s3(t) = try decodeStorage(s3Doc([("endpoint", .string(endpoint))])) else { Issue.record("not s3"); return }
        #expect(t.endpoint == endpoint)
    }

    @Test func nullEndpointMeansTheRegionalOne() throws {
        guard case let .s3(t) = try decodeStorage(s3Doc([("endpoint", .null)])) else { Issue.record("not s3"); return }
        #expect(t.endpoint == nil)
    }

    @Test(arguments: ["http://127.0.0.1@attacker.example/", "http://127.attacker.example", "http://localhost:80@attacker.example/",
                      "http://127.0.0.1.nip.io:9000"])
    func endpointThatOnlyLooksLikeLoopbackIsRefused(endpoint: String) {
        #expect(storageViolations(s3Doc([("endpoint", .string(endpoint))])).map(\.path) == ["storage.endpoint"])
    }

    @Test(arguments: ["ab", "Acme", "acme_recordings", "-acme", "acme-", "acme..rec", String(repeating: "a", count: 64)])
    func badBucketIsRefused(bucket: String) {
        #expect(storageViolations(s3Doc([("bucket", .string(bucket))])).map(\.path) == ["storage.bucket"])
    }

    @Test(arguments: ["/calls", "calls/../other", ".."])
    func prefixMustStayRelative(prefix: String) {
        #expect(storageViolations(s3Doc([("prefix", .string(prefix))])).map(\.path) == ["storage.prefix"])
    }

    @Test func requiredFieldsAreNamed() {
        let doc = JSONValue.object([("kind", .string("s3")), ("region", .string("Mumbai"))])
        #expect(Set(storageViolations(doc).map(\.path)) == ["storage.bucket", "storage.accessKeyId", "storage.secretAccessKey", "storage.region"])
    }

    @Test func emptySecretIsRefused() {
        #expect(storageViolations(s3Doc(secret: "")).map(\.path) == ["storage.secretAccessKey"])
    }

    @Test func unknownS3FieldIsRefused() {
        #expect(storageViolations(s3Doc([("sessionToken", .string("x"))])).map(\.path) == ["storage.sessionToken"])
    }
}

struct AzureAndSFTPStorageTests {
    @Test func accountKeyMustBeBase64() {
        #expect(storageViolations(azureDoc(key: "not base64 at all!")).map(\.path) == ["storage.accountKey"])
    }

    @Test(arguments: [("accountName", "AcmeRec"), ("accountName", "ab"), ("container", "Calls"), ("container", "a--b"),
                      ("container", "-calls"), ("endpoint", "http://acmerec.blob.core.windows.net")])
    func badAzureFieldIsRefused(field: String, value: String) {
        #expect(storageViolations(azureDoc([(field, .string(value))])).map(\.path) == ["storage.\(field)"])
    }

    @Test(arguments: [("hostKeySha256", JSONValue.string("SHA256:short")), ("hostKeySha256", .string("MD5:" + String(repeating: "Q", count: 46))),
                      ("privateKeyFile", .string("id_ed25519")), ("port", .int(0)), ("port", .int(65536)),
                      ("path", .string("uploads/../../etc")), ("path", .string("")), ("host", .string("a b")), ("user", .string("me@host"))])
    func badSFTPFieldIsRefused(field: String, value: JSONValue) {
        #expect(storageViolations(sftpDoc([(field, value)])).map(\.path) == ["storage.\(field)"])
    }

    @Test func sftpWithPortAndPathIsKept() throws {
        let s = try decodeStorage(sftpDoc([("port", .int(2222)), ("path", .string("/srv/recordings"))]))
        #expect(s == .sftp(SFTPTarget(host: "sftp.acme.example", port: 2222, user: "recfs", privateKeyFile: "/etc/recfs/id_ed25519",
                                      hostKeySha256: hostKey, path: "/srv/recordings")))
    }
}

struct SecretMaskingTests {
    @Test(arguments: [StorageSettings.s3(currentS3), .azure(currentAzure)])
    func secretsReadBackMasked(storage: StorageSettings) throws {
        let printed = SettingsDocument.json(current(storage), accountSid: testAccountSid, plan: .enterprise).prettyPrinted()
        #expect(!printed.contains(s3Secret))
        #expect(!printed.contains(azureKey))
        let doc = try JSONValue.parse(printed)
        let key = storage.kind == "s3" ? "secretAccessKey" : "accountKey"
        #expect(doc["storage"]?[key] == .string(StorageSettings.secretMask))
        #expect(doc["storage"]?["kind"] == .string(storage.kind))
    }

    @Test func unmaskedStorageJSONHoldsTheSecret() {
        #expect(SettingsDocument.storageJSON(.s3(currentS3), maskSecrets: false)["secretAccessKey"] == .string(s3Secret))
        #expect(SettingsDocument.storageJSON(.azure(currentAzure), maskSecrets: false)["accountKey"] == .string(azureKey))
    }

    @Test(arguments: [StorageSettings.s3(currentS3), .azure(currentAzure)])
    func maskedDocumentKeepsTheCurrentSecret(storage: StorageSettings) throws {
        let settings = current(storage)
        let printed = SettingsDocument.json(settings, accountSid: testAccountSid, plan: .enterprise).prettyPrinted()
        #expect(try decodeSettings(printed, plan: .enterprise, current: settings) == settings)
    }

    @Test func maskedSecretKeepsItWhileOtherFieldsChange() throws {
        let s = try decodeStorage(s3Doc([("prefix", .string("2026/"))], secret: StorageSettings.secretMask), current: current(.s3(currentS3)))
        guard case let .s3(t) = s else { Issue.record("not s3"); return }
        #expect(t.secretAccessKey == s3Secret)
        #expect(t.prefix == "2026/")
    }

    @Test func newSecretReplacesTheCurrentOne() throws {
        let s = try decodeStorage(s3Doc(secret: "rotated"), current: current(.s3(currentS3)))
        guard case let .s3(t) = s else { Issue.record("not s3"); return }
        #expect(t.secretAccessKey == "rotated")
    }

    @Test func maskedS3SecretWithNoSecretStoredIsRefused() throws {
        let v = storageViolations(s3Doc(secret: StorageSettings.secretMask), current: current(.default))
        #expect(v.map(\.path) == ["storage.secretAccessKey"])
        #expect(v.first?.reason.contains("masked") == true)
    }

    @Test func maskedAzureKeyWhenAnS3SecretIsStoredIsRefused() {
        #expect(storageViolations(azureDoc(key: StorageSettings.secretMask), current: current(.s3(currentS3))).map(\.path) == ["storage.accountKey"])
    }

    @Test func maskedS3SecretWhenAnAzureKeyIsStoredIsRefused() {
        #expect(storageViolations(s3Doc(secret: StorageSettings.secretMask), current: current(.azure(currentAzure))).map(\.path) == ["storage.secretAccessKey"])
    }
}
