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
            if getuid() == 0 {
                if umount2(target, dead || lazy ? Int32(MNT_DETACH) : 0) != 0 {
                    let e = errno
                    if e == EBUSY { throw CLIError("\(target) is busy (a file or folder in it is open); close it, or use --lazy") }
                    throw CLIError("umount \(target): \(String(cString: strerror(e)))")
                }
            } else {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/fusermount3")
                p.arguments = ["-u"] + (dead || lazy ? ["-z"] : []) + [target]
                try p.run()
                p.waitUntilExit()
                guard p.terminationStatus == 0 else { throw CLIError("fusermount3 -u \(target) failed") }
            }
            // The daemon ends once its session is gone; wait for it so nothing is left behind.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, daemons.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
            print(dead ? "cleared the dead mount at \(target)" : "unmounted \(target)")
        }
    }

    /// Pids of `recfs mount` processes serving `target`.
    static func daemons(serving target: String) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), pid != getpid(),
                  let raw = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            let args = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return args.count > 2 && args[1] == "mount" && args.contains(target) ? pid : nil
        }
    }
}
