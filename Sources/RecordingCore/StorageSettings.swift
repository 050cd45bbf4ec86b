// StorageSettings: the account's default storage, or an Enterprise customer's own store.

/// Where recordings are kept: the account's region (default) or the customer's own storage.
public enum StorageSettings: Equatable, Sendable {
    case `default`
    case s3(S3Target)
    case azure(AzureTarget)
    case sftp(SFTPTarget)

    /// The kind's name in settings files.
    public var kind: String {
        switch self {
        case .default: return "default"
        case .s3: return "s3"
        case .azure: return "azure"
        case .sftp: return "sftp"
        }
    }

    /// What secrets look like when settings are read back.
    public static let secretMask = "********"
}

/// A customer's S3 bucket (or an S3-compatible service).
public struct S3Target: Equatable, Sendable {
    public var bucket: String
    public var region: String
    /// Service endpoint; nil means AWS's regional endpoint.
    public var endpoint: String?
    public var accessKeyId: String
    public var secretAccessKey: String
    /// The `x-amz-server-side-encryption` header: `AES256` or `aws:kms`.
    public var serverSideEncryption: String
    public var kmsKeyId: String?
    public var prefix: String

    public init(bucket: String, region: String, endpoint: String?, accessKeyId: String, secretAccessKey: String,
                serverSideEncryption: String, kmsKeyId: String?, prefix: String) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.serverSideEncryption = serverSideEncryption
        self.kmsKeyId = kmsKeyId
        self.prefix = prefix
    }
}

/// A customer's Azure Blob Storage container, reached with Shared Key authorization.
public struct AzureTarget: Equatable, Sendable {
    public var accountName: String
    public var container: String
    /// Base64 storage account key.
    public var accountKey: String
    /// Blob service endpoint; nil means `https://ACCOUNT.blob.core.windows.net`.
    public var endpoint: String?
    public var prefix: String

    public init(accountName: String, container: String, accountKey: String, endpoint: String?, prefix: String) {
        self.accountName = accountName
        self.container = container
        self.accountKey = accountKey
        self.endpoint = endpoint
        self.prefix = prefix
    }
}

/// A customer's SFTP server, reached with key authentication and a pinned host key.
public struct SFTPTarget: Equatable, Sendable {
    public var host: String
    public var port: Int
    public var user: String
    /// Path of the private key file on the recfs host.
    public var privateKeyFile: String
    /// The server's host key fingerprint, `SHA256:…` as `ssh-keygen -l` prints it.
    public var hostKeySha256: String
    /// Remote folder recordings are uploaded into.
    public var path: String

    public init(host: String, port: Int, user: String, privateKeyFile: String, hostKeySha256: String, path: String) {
        self.host = host
        self.port = port
        self.user = user
        self.privateKeyFile = privateKeyFile
        self.hostKeySha256 = hostKeySha256
        self.path = path
    }
}
