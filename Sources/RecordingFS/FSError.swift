// FSError: the errno a handler answers with. Unknown failures become EIO in the adapter.

import Glibc

/// An errno for the kernel.
public struct FSError: Error, Equatable, CustomStringConvertible {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }

    public static let noEntry = FSError(ENOENT)
    public static let io = FSError(EIO)
    public static let readOnly = FSError(EROFS)
    public static let notDirectory = FSError(ENOTDIR)
    public static let isDirectory = FSError(EISDIR)
    public static let noAttribute = FSError(ENODATA)
    public static let notSupported = FSError(EOPNOTSUPP)
    public static let badHandle = FSError(EBADF)

    public var description: String { String(cString: strerror(code)) }
}
