// WorkerPool: threads that answer the requests worth running beside others (large reads of
// recordings, settings edits), so the session's one loop thread stays free for the many small
// metadata requests a tree walk makes. One loop thread answers those about twice as fast as
// libfuse's multi-threaded loop, which hands each request to a different, cold thread.

import Foundation

final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var head = 0
    private var stopping = false
    private var running = 0
    private var threads: [Thread] = []

    init(threads count: Int, name: String) {
        running = count
        for i in 0..<count {
            let t = Thread { [unowned self] in self.work() }
            t.name = "\(name)-\(i)"
            t.stackSize = 1 << 20
            threads.append(t)
            t.start()
        }
    }

    /// Runs `job` on one of the pool's threads.
    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }

    /// Lets queued jobs finish (they reply to the session, so it must outlive them), then ends
    /// the threads; waits up to `seconds` for that.
    func stop(seconds: Double = 5) {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 && condition.wait(until: deadline) {}
        condition.unlock()
    }
}
