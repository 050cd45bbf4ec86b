// A minimal io_uring over raw system calls (Debian's libfuse 3.14 has no FUSE-over-io_uring
// and liburing is not needed for the little the mount does with it): set a ring up, fill and
// submit 128-byte entries, reap completions. The ring memory is shared with the kernel, so the
// indices are read and published with acquire/release ordering.
#ifndef RECFS_RING_H
#define RECFS_RING_H

#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct recfs_ring {
    int fd;
    unsigned sq_entries;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
    unsigned char *sqes;
    unsigned sqe_size;
    void *sq_map, *cq_map, *sqes_map;
    size_t sq_map_size, cq_map_size, sqes_map_size;
};

/// Sets up a ring of `entries` submissions; 0, or -errno.
static inline int recfs_ring_init(struct recfs_ring *r, unsigned entries, unsigned flags) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    memset(r, 0, sizeof *r);
    p.flags = flags;
    int fd = (int)syscall(__NR_io_uring_setup, entries, &p);
    if (fd < 0) return -errno;
    r->fd = fd;
    r->sqe_size = (flags & IORING_SETUP_SQE128) ? 128 : 64;
    r->sq_map_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    r->cq_map_size = p.cq_off.cqes + p.cq_entries * ((flags & IORING_SETUP_CQE32) ? 32 : 16);
    if (p.features & IORING_FEAT_SINGLE_MMAP) {
        if (r->cq_map_size > r->sq_map_size) r->sq_map_size = r->cq_map_size;
        r->cq_map_size = r->sq_map_size;
    }
    r->sq_map = mmap(0, r->sq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (r->sq_map == MAP_FAILED) { int e = errno; close(fd); return -e; }
    if (p.features & IORING_FEAT_SINGLE_MMAP) {
        r->cq_map = r->sq_map;
    } else {
        r->cq_map = mmap(0, r->cq_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
        if (r->cq_map == MAP_FAILED) { int e = errno; munmap(r->sq_map, r->sq_map_size); close(fd); return -e; }
    }
    r->sqes_map_size = (size_t)p.sq_entries * r->sqe_size;
    r->sqes_map = mmap(0, r->sqes_map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (r->sqes_map == MAP_FAILED) {
        int e = errno;
        if (r->cq_map != r->sq_map) munmap(r->cq_map, r->cq_map_size);
        munmap(r->sq_map, r->sq_map_size);
        close(fd);
        return -e;
    }
    unsigned char *sq = (unsigned char *)r->sq_map, *cq = (unsigned char *)r->cq_map;
    r->sq_entries = p.sq_entries;
    r->sq_head = (unsigned *)(sq + p.sq_off.head);
    r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
    r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + p.sq_off.array);
    r->cq_head = (unsigned *)(cq + p.cq_off.head);
    r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
    r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    r->sqes = (unsigned char *)r->sqes_map;
    return 0;
}

static inline void recfs_ring_free(struct recfs_ring *r) {
    if (r->sqes_map) munmap(r->sqes_map, r->sqes_map_size);
    if (r->cq_map && r->cq_map != r->sq_map) munmap(r->cq_map, r->cq_map_size);
    if (r->sq_map) munmap(r->sq_map, r->sq_map_size);
    if (r->fd > 0) close(r->fd);
    memset(r, 0, sizeof *r);
}

/// The next free submission entry, zeroed (NULL when the queue is full). Publish it with
/// recfs_ring_push; one thread at a time.
static inline struct io_uring_sqe *recfs_ring_sqe(struct recfs_ring *r) {
    unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    unsigned tail = *r->sq_tail;
    if (tail - head >= r->sq_entries) return NULL;
    struct io_uring_sqe *sqe = (struct io_uring_sqe *)(r->sqes + (size_t)(tail & *r->sq_mask) * r->sqe_size);
    memset(sqe, 0, r->sqe_size);
    return sqe;
}

/// Publishes the entry recfs_ring_sqe returned.
static inline void recfs_ring_push(struct recfs_ring *r) {
    unsigned tail = *r->sq_tail;
    r->sq_array[tail & *r->sq_mask] = tail & *r->sq_mask;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/// The 80 bytes of command data of a 128-byte entry.
static inline void *recfs_sqe_cmd(struct io_uring_sqe *sqe) { return (void *)sqe->cmd; }

/// io_uring_enter: submits `submit` entries and, with `wait` > 0, waits for that many
/// completions. Returns what the call returns, or -errno.
static inline int recfs_ring_enter(struct recfs_ring *r, unsigned submit, unsigned wait) {
    int n = (int)syscall(__NR_io_uring_enter, r->fd, submit, wait, wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
    return n < 0 ? -errno : n;
}

/// Copies out the oldest completion and consumes it; 1 if there was one, else 0.
static inline int recfs_ring_reap(struct recfs_ring *r, struct io_uring_cqe *out) {
    unsigned head = *r->cq_head;
    if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) return 0;
    *out = r->cqes[head & *r->cq_mask];
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return 1;
}

// FUSE over io_uring (Linux 6.14+, fuse.enable_uring=1). Each ring entry the daemon gives the
// kernel is a 288-byte header buffer (the request's fuse_in_header at 0, its first argument at
// 128, then struct recfs_fuse_ent_in_out at 256) and a payload buffer (the other arguments in,
// every reply argument out).
enum { RECFS_FUSE_URING_REGISTER = 1, RECFS_FUSE_URING_COMMIT_AND_FETCH = 2 };
enum { RECFS_FUSE_URING_HEADER_SIZE = 288, RECFS_FUSE_URING_OP_IN = 128, RECFS_FUSE_URING_ENT = 256 };
/// In the INIT reply: fuse_init_out.flags2 bit 9 (FUSE_OVER_IO_URING, 1 << 41).
enum { RECFS_FUSE_OVER_IO_URING_FLAGS2 = 1 << 9 };

struct recfs_fuse_ent_in_out {
    uint64_t flags;
    uint64_t commit_id;
    uint32_t payload_sz;
    uint32_t padding;
    uint64_t reserved;
};

struct recfs_fuse_uring_cmd {
    uint64_t flags;
    uint64_t commit_id;
    uint16_t qid;
    uint8_t padding[6];
};

/// Queues a REGISTER (with `iov`: header then payload) or COMMIT_AND_FETCH (iov NULL) command
/// for queue `qid` on the FUSE connection `fuse_fd`; 0, or -EBUSY when the ring is full.
static inline int recfs_ring_fuse_cmd(struct recfs_ring *r, int fuse_fd, unsigned op, uint64_t user_data,
                                      uint16_t qid, uint64_t commit_id, struct iovec *iov) {
    struct io_uring_sqe *sqe = recfs_ring_sqe(r);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = fuse_fd;
    sqe->cmd_op = op;
    if (iov) {
        sqe->addr = (uint64_t)(uintptr_t)iov;
        sqe->len = 2;
    }
    sqe->user_data = user_data;
    struct recfs_fuse_uring_cmd *cmd = (struct recfs_fuse_uring_cmd *)sqe->cmd;
    cmd->commit_id = commit_id;
    cmd->qid = qid;
    recfs_ring_push(r);
    return 0;
}

/// Queues a read of `len` bytes from `fd` into `buf` (an eventfd's counter); 0, or -EBUSY.
static inline int recfs_ring_read(struct recfs_ring *r, int fd, void *buf, unsigned len, uint64_t user_data) {
    struct io_uring_sqe *sqe = recfs_ring_sqe(r);
    if (!sqe) return -EBUSY;
    sqe->opcode = IORING_OP_READ;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)buf;
    sqe->len = len;
    sqe->user_data = user_data;
    recfs_ring_push(r);
    return 0;
}

/// Keeps the calling thread on one CPU; 0, or -errno.
static inline int recfs_pin_to_cpu(int cpu) {
    unsigned long mask[16];
    memset(mask, 0, sizeof mask);
    if (cpu < 0 || cpu >= (int)(sizeof mask * 8)) return -EINVAL;
    mask[cpu / (8 * sizeof(unsigned long))] |= 1UL << (cpu % (8 * sizeof(unsigned long)));
    return syscall(__NR_sched_setaffinity, 0, sizeof mask, mask) == 0 ? 0 : -errno;
}

/// The calling thread's id (what FUSE requests give as their sender's pid).
static inline int recfs_thread_id(void) { return (int)syscall(__NR_gettid); }

/// getdents64(2): bytes of linux_dirent64 records read into `buffer`, 0 at the end, or -errno.
static inline long recfs_getdents(int fd, void *buffer, unsigned size) {
    long n = syscall(__NR_getdents64, fd, buffer, size);
    return n >= 0 ? n : -errno;
}

/// A device number's major and minor parts.
static inline unsigned recfs_major(unsigned long long device) { return major(device); }
static inline unsigned recfs_minor(unsigned long long device) { return minor(device); }

/// A set of CPUs, as sched_setaffinity takes it.
typedef struct { unsigned long bits[16]; } recfs_cpu_set;

/// The CPUs the calling thread may run on; 0, or -errno.
static inline int recfs_get_cpus(recfs_cpu_set *set) {
    memset(set, 0, sizeof *set);
    return syscall(__NR_sched_getaffinity, 0, sizeof set->bits, set->bits) > 0 ? 0 : -errno;
}

/// Lets the calling thread run on the CPUs of `set` but `cpu`; when that leaves none, on all
/// of `set`. 0, or -errno.
static inline int recfs_run_on_cpus_but(const recfs_cpu_set *set, int cpu) {
    recfs_cpu_set s = *set;
    const int per = 8 * sizeof(unsigned long);
    if (cpu >= 0 && cpu < (int)(sizeof s.bits * 8)) s.bits[cpu / per] &= ~(1UL << (cpu % per));
    int others = 0;
    for (unsigned i = 0; i < sizeof s.bits / sizeof s.bits[0]; i++) others |= s.bits[i] != 0;
    if (!others) s = *set;
    return syscall(__NR_sched_setaffinity, 0, sizeof s.bits, s.bits) == 0 ? 0 : -errno;
}

#endif
