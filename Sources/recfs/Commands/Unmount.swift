// Unmount: `recfs unmount`, a mount ended cleanly, or a dead one cleared.

import ArgumentParser
import Foundation
import Glibc

struct Unmount: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unmount a recfs mount; a dead one (its daemon killed) is cleared too.")

    @Argument(help: "The mount point.") var mountpoint: String
    @Flag(help: "Detach now even if files are open (they stay readable until closed).") var lazy = false

    func run() throws {
        try reporting("unmount") {
            let target = URL(fileURLWithPath: mountpoint).standardizedFileURL.path
            guard let type = MountTable.type(at: target) else { throw CLIError("\(target) is not mounted") }
            guard type.hasPrefix("fuse") else { throw CLIError("\(target) is a \(type) mount, not recfs's") }
            let dead = MountTable.isDead(target)
            let daemons = Unmount.daemons(serving: target)
            // `.settings/` is a second mount over the tree; it goes first (a lazy detach of
            // the tree takes it along).
            let settings = target + "/.settings"
            if !(dead || lazy) {
                // Both or neither: refuse before the first unmount if the tree is in use.
                let users = Unmount.users(of: target, besides: daemons)
                if !users.isEmpty {
                    throw CLIError("\(target) is busy (open in \(users.prefix(3).joined(separator: ", "))); close it, or use --lazy")
                }
                // The daemon reads call folders ahead of a walk (WalkAhead) through the mount,
                // until a tenth of a second after the walk's last listing: wait for it (once
                // nothing else holds the tree, no walk starts again).
                let deadline = Date().addingTimeInterval(2)
                while !Unmount.users(of: target).isEmpty, Date() < deadline { usleep(10_000) }
                if MountTable.type(at: settings)?.hasPrefix("fuse") == true {
                    try Unmount.detach(settings, lazy: false)
                }
            }
            try Unmount.detach(target, lazy: dead || lazy)
            // The daemon ends once its session is gone; wait for it so nothing is left behind.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, daemons.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
            print(dead ? "cleared the dead mount at \(target)" : "unmounted \(target)")
        }
    }

    /// Unmounts one mount point: umount2 as root, fusermount3 otherwise.
    static func detach(_ target: String, lazy: Bool) throws {
        if getuid() == 0 {
            if umount2(target, lazy ? Int32(MNT_DETACH) : 0) != 0 {
                let e = errno
                if e == EBUSY { throw CLIError("\(target) is busy (a file or folder in it is open); close it, or use --lazy") }
                throw CLIError("umount \(target): \(String(cString: strerror(e)))")
            }
        } else {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/fusermount3")
            p.arguments = ["-u"] + (lazy ? ["-z"] : []) + [target]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw CLIError("fusermount3 -u \(target) failed") }
        }
    }

    /// Processes (as "NAME (pid N)") with a file, folder or working directory under `target`,
    /// but this one and `besides`.
    static func users(of target: String, besides: [pid_t] = []) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let prefix = target.hasSuffix("/") ? target : target + "/"
        func under(_ link: String) -> Bool {
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = readlink(link, &buffer, buffer.count - 1)
            guard n > 0 else { return false }
            let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return path == target || path.hasPrefix(prefix)
        }
        return entries.compactMap { name -> String? in
            guard let pid = pid_t(name), pid != getpid(), !besides.contains(pid) else { return nil }
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(name)/fd")) ?? []
            guard under("/proc/\(name)/cwd") || fds.contains(where: { under("/proc/\(name)/fd/\($0)") }) else { return nil }
            let command = (try? String(contentsOfFile: "/proc/\(name)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            return "\(command) (pid \(pid))"
        }
    }

    /// Pids of `recfs mount` processes serving `target`.
    static func daemons(serving target: String) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), pid != getpid(),
                  let raw = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard args.count > 2, args[1] == "mount" else { return nil }
            // A mount point given relative to where the daemon was started (`recfs mount -f mnt`).
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(name)/cwd")) ?? "/"
            return args.dropFirst(2).contains {
                URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: cwd, isDirectory: true)).standardizedFileURL.path == target
            } ? pid : nil
        }
    }
}
