"""The mount's benchmarks, beside gocryptfs (Debian's package), a no-crypto FUSE ceiling and
plain disk, all in one run on this machine. Called by bench.py."""
import datetime, json, os, random, shutil, sqlite3, statistics, struct, subprocess, sys, tempfile, time

MiB = 1 << 20
seq_rounds = 7  # counted rounds of the sequential read (the machine is a shared VM: medians of several)
find_rounds = 2  # rounds of the first walk after mounting beyond the one the other tree operations follow
here = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw)


def ensure_tools():
    need = [p for p, exe in (("gocryptfs", "gocryptfs"), ("fio", "fio"), ("gcc", "gcc"), ("rsync", "rsync"))
            if shutil.which(exe) is None]
    if need:
        log(f"installing {' '.join(need)}")
        sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", *need, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def is_mounted(path):
    return any(l.split()[1] == path for l in open("/proc/mounts"))


def unmount(path):
    settings = os.path.join(path, ".settings")  # recfs's second mount, over its tree
    if is_mounted(settings):
        subprocess.run(["fusermount3", "-u", settings], capture_output=True)
    if is_mounted(path):
        subprocess.run(["fusermount3", "-u", path], capture_output=True)
    if is_mounted(path):
        subprocess.run(["umount", "-l", path], capture_output=True)


def readahead(path):
    """The readahead window recfs's daemon sets on its own mount (4 MiB, in 1 MiB requests)."""
    dev = sh("mountpoint", "-d", path).stdout.decode().strip()
    with open(f"/sys/class/bdi/{dev}/read_ahead_kb", "w") as f:
        f.write("4096")


def read_all(path):
    buf = bytearray(MiB)
    t = time.perf_counter()
    n = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            n += k
    return n / (time.perf_counter() - t) / 1e9


def fio(path):
    out = sh("fio", "--name=rand", f"--filename={path}", "--rw=randread", "--bs=4k", "--ioengine=psync",
             "--number_ios=5000", "--randrepeat=1", "--output-format=json", "--readonly").stdout
    job = json.loads(out)["jobs"][0]["read"]
    pct = job["clat_ns"]["percentile"]
    return job["iops"], pct["50.000000"] / 1000, pct["99.000000"] / 1000


def forget_names(top):
    """For plain disk, which cannot be remounted here, what a remount does to a mount: the
    kernel's dentry and inode caches dropped. The folders are read first, so their blocks are
    in the page cache, as the catalog's pages are for recfs (else the walk reads the disk
    whenever the bench's copies have pushed them out). False when this user may not drop."""
    subprocess.run(["find", top], check=True, stdout=subprocess.DEVNULL)
    sh("sync")
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2")
        return True
    except OSError:
        return False


def timed(cmd, cwd=None):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    return time.perf_counter() - t


def make_leg(path, frames, seed):
    n = 2 * frames
    header = (b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
              + b"data" + struct.pack("<I", n))
    block = bytes(random.Random(seed).getrandbits(8) for _ in range(MiB))
    with open(path, "wb") as f:
        f.write(header)
        left = n
        while left > 0:
            k = min(left, MiB)
            f.write(block[:k])
            left -= k


class Daemons:
    """Every mount made here, unmounted whatever happens."""
    def __init__(self):
        self.mounts, self.procs = [], []

    def close(self):
        for m in self.mounts:
            unmount(m)
        for p in self.procs:
            p.kill()
            p.wait()


def recfs_mount(recfs, store, mnt, d):
    os.makedirs(mnt, exist_ok=True)
    d.mounts.append(mnt)  # before mounting: a mount that fails half way is cleared too
    sh(recfs, "mount", "--store", store, mnt)


def recfs_pid(mnt):
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                args = open(f"/proc/{name}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if len(args) > 2 and args[1] == b"mount" and mnt.encode() in args:
                return int(name)
    return None


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0


def recordings_in(store):
    db = sqlite3.connect(f"file:{os.path.join(store, 'catalog.sqlite')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM recording").fetchone()[0]
    finally:
        db.close()


def walk(top):
    """`find TOP -type f` timed, and the files it found (the output is counted, not kept)."""
    t = time.perf_counter()
    out = subprocess.run(["sh", "-c", f"find '{top}' -type f | wc -l"], check=True, capture_output=True).stdout
    return time.perf_counter() - t, int(out)


def rss_at_scale(recfs, tstore, work, d, calls):
    """The daemon's peak RSS over a catalog of `calls` recordings: the tree store's catalog
    inflated (inflate_catalog.py: copies of its recorded calls under new sids, the same days,
    flows and sizes; blobs shared, never opened by a walk), mounted, walked with `find -type f`
    and `ls -lR`. None if the tree store already holds that many."""
    base = recordings_in(tstore)
    if calls <= base:
        log(f"tree: RECFS_BENCH_RSS_CALLS={calls} is not more than the tree's {base} recordings; no inflated catalog")
        return None
    if here not in sys.path:
        sys.path.insert(0, here)
    import inflate_catalog
    big, bmnt = os.path.join(work, "tree-store-inflated"), os.path.join(work, "bmnt")
    log(f"tree: inflating the catalog from {base:,} to {calls:,} recordings")
    s = {"base": base, "calls": calls}
    try:
        t = time.perf_counter()
        inflate_catalog.inflate(tstore, big, recordings=calls)
        s.update(calls=recordings_in(big), inflate=time.perf_counter() - t,
                 catalog_gb=os.path.getsize(os.path.join(big, "catalog.sqlite")) / 1e9)
        sh("sync")
        log(f"tree: {s['calls']:,} recordings: find -type f and ls -lR through the mount")
        recfs_mount(recfs, big, bmnt, d)
        pid = recfs_pid(bmnt)
        if not pid:
            raise RuntimeError(f"no recfs daemon found for {bmnt}")
        s["find"], s["files"] = walk(bmnt)
        s["rss_find"] = peak_rss_mb(pid)
        s["lsR"] = timed(["ls", "-lR", bmnt])
        s["rss"] = peak_rss_mb(pid)
    except Exception as e:  # the rest of the run's figures still get written, with this beside them
        log(f"tree: the inflated catalog failed: {e}")
        s["error"] = f"{type(e).__name__}: {e}"
    finally:
        unmount(bmnt)
        shutil.rmtree(big, ignore_errors=True)  # a few GB of catalog; the blobs are links
    return s


def section(recfs, calls, rss_calls=1_000_000):
    ensure_tools()
    work = tempfile.mkdtemp(prefix="recfs-mount-bench-")
    d = Daemons()
    r = {}
    try:
        # --- Sequential and random reads of one 512 MiB recording -----------------------------
        store = os.path.join(work, "store")
        sh(recfs, "init", "--store", store, "--account", "ACbench", "--plan", "growth")
        frames = (512 * MiB - 44) // 4 // 8 * 8
        log("making the legs of a 512 MiB dual recording")
        make_leg(os.path.join(work, "agent.wav"), frames, 1)
        make_leg(os.path.join(work, "customer.wav"), frames, 2)
        start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None) - datetime.timedelta(days=1)
        call = {"account": "ACbench", "callSid": "CAbench512", "flow": "bench", "from": "+1", "to": "+2",
                "direction": "inbound", "outcome": "completed", "startedAt": start.isoformat() + "Z",
                "answeredAt": (start + datetime.timedelta(seconds=1)).isoformat() + "Z",
                "endedAt": (start + datetime.timedelta(seconds=1, milliseconds=frames // 8)).isoformat(timespec="milliseconds") + "Z",
                "recordingChannels": "dual", "legs": {"agent": "agent.wav", "customer": "customer.wav"}}
        json.dump(call, open(os.path.join(work, "big.json"), "w"))
        sh(recfs, "ingest", "--store", store, os.path.join(work, "big.json"))
        os.remove(os.path.join(work, "agent.wav"))
        os.remove(os.path.join(work, "customer.wav"))
        mnt = os.path.join(work, "mnt")

        def recfs_file():
            for dirpath, _, files in os.walk(mnt):
                if "recording.wav" in files:
                    return os.path.join(dirpath, "recording.wav")

        log("gocryptfs: the same recording")
        cipher, plain = os.path.join(work, "gc"), os.path.join(work, "gcm")
        os.makedirs(cipher); os.makedirs(plain)
        pw = os.path.join(work, "pw")
        open(pw, "w").write("benchmark\n")
        sh("gocryptfs", "-init", "-q", "-passfile", pw, "-scryptn", "10", cipher)
        sh("gocryptfs", "-q", "-passfile", pw, cipher, plain); d.mounts.append(plain)
        recfs_mount(recfs, store, mnt, d)
        shutil.copyfile(recfs_file(), os.path.join(plain, "recording.wav"))
        unmount(mnt)
        unmount(plain)

        log("the no-crypto FUSE ceiling")
        ceiling = os.path.join(work, "ceiling")
        sh("gcc", "-O2", "-o", ceiling, os.path.join(here, "ceiling.c"), *sh("pkg-config", "fuse3", "--cflags", "--libs").stdout.decode().split())
        cmnt = os.path.join(work, "cmnt"); os.makedirs(cmnt)

        def recfs_round():
            recfs_mount(recfs, store, mnt, d)
            f = recfs_file()
            cold = read_all(f)
            warm = read_all(f)
            unmount(mnt)
            return cold, warm

        def gc_round():
            sh("gocryptfs", "-q", "-passfile", pw, cipher, plain)
            cold = read_all(os.path.join(plain, "recording.wav"))
            warm = read_all(os.path.join(plain, "recording.wav"))
            unmount(plain)
            return cold, warm

        def ceiling_round():
            p = subprocess.Popen([ceiling, cmnt, str(512 * MiB)]); d.procs.append(p); d.mounts.append(cmnt)
            for _ in range(100):
                if is_mounted(cmnt):
                    break
                time.sleep(0.05)
            readahead(cmnt)
            cold = read_all(os.path.join(cmnt, "file"))
            unmount(cmnt); p.wait()
            return cold, None

        # Rounds take each filesystem in turn, so a slow second of the machine falls on all of
        # them alike; the first round is not counted (it faults in the memory the page cache uses).
        log(f"sequential reads: {seq_rounds} rounds of recfs, gocryptfs and the ceiling, after one not counted")
        runs = {"recfs": [], "gc": [], "ceiling": []}
        for i in range(seq_rounds + 1):
            for name, one in (("recfs", recfs_round), ("gc", gc_round), ("ceiling", ceiling_round)):
                got = one()
                if i:
                    runs[name].append(got)
        r["recfs_cold"] = statistics.median(c for c, _ in runs["recfs"])
        r["recfs_warm"] = statistics.median(w for _, w in runs["recfs"])
        r["gc_cold"] = statistics.median(c for c, _ in runs["gc"])
        r["gc_warm"] = statistics.median(w for _, w in runs["gc"])
        r["ceiling"] = statistics.median(c for c, _ in runs["ceiling"])
        r["seq_runs"] = {k: [round(c, 2) for c, _ in v] for k, v in runs.items()}

        recfs_mount(recfs, store, mnt, d)
        r["recfs_fio"] = fio(recfs_file())
        unmount(mnt)
        sh("gocryptfs", "-q", "-passfile", pw, cipher, plain)
        r["gc_fio"] = fio(os.path.join(plain, "recording.wav"))
        unmount(plain)
        shutil.rmtree(cipher)

        # --- A tree of many calls ----------------------------------------------------------------
        log(f"tree: {calls} synthetic calls (recfs gen)")
        tstore = os.path.join(work, "tree-store")
        sh(recfs, "init", "--store", tstore, "--account", "ACtree", "--plan", "growth")
        subprocess.run([recfs, "gen", "--store", tstore, "--calls", str(calls), "--days", "3", "--seed", "7", "--max-duration", "5"],
                       check=True, stdout=subprocess.DEVNULL)
        tmnt = os.path.join(work, "tmnt")
        recfs_mount(recfs, tstore, tmnt, d)
        files = int(subprocess.run(["sh", "-c", f"find {tmnt} -type f | wc -l"], capture_output=True).stdout)
        days = [day for day in os.listdir(tmnt) if not day.startswith(".")]  # not .settings
        biggest = max((os.path.join(tmnt, day, flow) for day in days for flow in os.listdir(os.path.join(tmnt, day))),
                      key=lambda p: len(os.listdir(p)))
        r["tree_files"], r["big_dir"], r["tree_recordings"] = files, len(os.listdir(biggest)), recordings_in(tstore)
        plain_copy = os.path.join(work, "plain")
        subprocess.run(["rsync", "-a", tmnt + "/", plain_copy + "/"], check=True)

        def tree_ops(top, big, remount):
            remount()
            t = {"find1": timed(["find", top, "-type", "f"]), "find2": timed(["find", top, "-type", "f"]),
                 "lsR": timed(["ls", "-lR", top]), "rsync": timed(["rsync", "-a", top + "/", plain_copy + "/"]),
                 "lsl": timed(["ls", "-l", big])}
            return t

        # Each filesystem's walk starts with nothing dirty (writeback from making the copies
        # would otherwise share the two cores with the first walk).
        def remount_recfs():
            unmount(tmnt)
            sh("sync")
            recfs_mount(recfs, tstore, tmnt, d)

        r["t_recfs"] = tree_ops(tmnt, biggest, remount_recfs)
        pid = recfs_pid(tmnt)
        r["rss"] = peak_rss_mb(pid) if pid else 0
        unmount(tmnt)
        r["plain_cold"] = os.access("/proc/sys/vm/drop_caches", os.W_OK)
        r["t_plain"] = tree_ops(plain_copy, biggest.replace(tmnt, plain_copy), lambda: forget_names(plain_copy))

        log("gocryptfs: the same tree (same names, sizes and times)")
        gcipher, gplain = os.path.join(work, "gct"), os.path.join(work, "gctm")
        os.makedirs(gcipher); os.makedirs(gplain)
        sh("gocryptfs", "-init", "-q", "-passfile", pw, "-scryptn", "10", gcipher)
        sh("gocryptfs", "-q", "-passfile", pw, gcipher, gplain); d.mounts.append(gplain)
        subprocess.run(["rsync", "-a", plain_copy + "/", gplain + "/"], check=True)

        def remount_gc():
            unmount(gplain)
            sh("sync")
            sh("gocryptfs", "-q", "-passfile", pw, gcipher, gplain)

        r["t_gc"] = tree_ops(gplain, biggest.replace(tmnt, gplain), remount_gc)

        # The first walk after mounting swings by ±15 % from one try to the next here (the
        # host's other guests): it is taken in rounds, each remounting the three in turn, and
        # the median of those and the walk above is what the table shows.
        log(f"find first after mount: {find_rounds} more rounds of recfs, gocryptfs and plain disk")
        finds = {"t_recfs": [r["t_recfs"]["find1"]], "t_gc": [r["t_gc"]["find1"]], "t_plain": [r["t_plain"]["find1"]]}
        for _ in range(find_rounds):
            for key, top, remount in (("t_recfs", tmnt, remount_recfs), ("t_gc", gplain, remount_gc),
                                      ("t_plain", plain_copy, lambda: forget_names(plain_copy))):
                remount()
                finds[key].append(timed(["find", top, "-type", "f"]))
        unmount(tmnt)
        unmount(gplain)
        for key, times in finds.items():
            r[key]["find1"] = statistics.median(times)
        r["find_runs"] = {k: [round(t, 2) for t in v] for k, v in finds.items()}
        shutil.rmtree(gcipher)

        r["scale"] = rss_at_scale(recfs, tstore, work, d, rss_calls)
    finally:
        d.close()
        shutil.rmtree(work, ignore_errors=True)
    return render(r, calls)


def render(r, calls):
    ok = lambda c: "met" if c else "**not met**"
    rf, gf = r["recfs_fio"], r["gc_fio"]
    rows = [("`find -type f`, first after mount", "find1"), ("`find -type f`, again", "find2"), ("`ls -lR`", "lsR"),
            ("second `rsync -a` (no-op)", "rsync"), (f"`ls -l` of the largest directory ({r['big_dir']} calls)", "lsl")]
    tree = "".join(
        f"| {label} | {r['t_recfs'][k]:.2f} s | {r['t_gc'][k]:.2f} s | {r['t_plain'][k]:.2f} s | "
        f"{r['t_recfs'][k] / r['t_gc'][k]:.3f}× | {r['t_recfs'][k] / max(r['t_plain'][k], 1e-3):.2f}× |\n" for label, k in rows)
    plain_first = ("for plain disk, which cannot be remounted, its folders are read, then the kernel's dentry and "
                   "inode caches dropped (`echo 2 > /proc/sys/vm/drop_caches`): their blocks stay in the page cache, "
                   "as the catalog's pages stay for recfs"
                   if r["plain_cold"] else "for plain disk nothing: this user may not drop the kernel's caches")
    return f"""
## The mount: reading recordings through FUSE

Same run, same machine. gocryptfs is Debian's package (`-scryptn 10`, defaults otherwise), holding
the same 512 MiB recording; the ceiling is `scripts/benchmarks/ceiling.c`, a minimal libfuse3
low-level filesystem serving a 512 MiB file from memory with recfs's request size and readahead
(1 MiB requests, a 4 MiB window). Ciphertext is in the page cache in every case: these measure
the filesystems, not the disk. Reads use 1 MiB `read(2)`s. The sequential figures are medians
of {seq_rounds} rounds, each mounting recfs, gocryptfs and the ceiling in turn, after one round not
counted; each cold read, in GB/s, round by round: recfs {r['seq_runs']['recfs']}, gocryptfs
{r['seq_runs']['gc']}, ceiling {r['seq_runs']['ceiling']}.

| sequential read of 512 MiB | recfs | gocryptfs | ceiling (no crypto) | targets |
|---|---|---|---|---|
| cold: first read after mount | **{r['recfs_cold']:.2f} GB/s** | {r['gc_cold']:.2f} GB/s | {r['ceiling']:.2f} GB/s | ≥ 1.5× gocryptfs: {ok(r['recfs_cold'] >= 1.5 * r['gc_cold'])} ({r['recfs_cold'] / r['gc_cold']:.2f}×); ≥ 0.9× ceiling: {ok(r['recfs_cold'] >= 0.9 * r['ceiling'])} ({r['recfs_cold'] / r['ceiling']:.2f}×) |
| warm: second open | **{r['recfs_warm']:.2f} GB/s** | {r['gc_warm']:.2f} GB/s | | ≥ 5× gocryptfs: {ok(r['recfs_warm'] >= 5 * r['gc_warm'])} ({r['recfs_warm'] / r['gc_warm']:.1f}×) |

| cold random 4 KiB reads (fio psync, 5,000 reads right after mounting) | recfs | gocryptfs | target |
|---|---|---|---|
| IOPS | **{rf[0]:,.0f}** | {gf[0]:,.0f} | ≥ gocryptfs: {ok(rf[0] >= gf[0])} |
| p50 latency | {rf[1]:.0f} µs | {gf[1]:.0f} µs | |
| p99 latency | **{rf[2]:.0f} µs** | {gf[2]:.0f} µs | ≤ gocryptfs: {ok(rf[2] <= gf[2])} |

### A tree of {calls:,} synthetic calls ({r['tree_files']:,} files)

Made by `recfs gen --calls {calls} --days 3 --max-duration 5`; gocryptfs and plain disk hold
copies of the same tree made with `rsync -a` from the mount (same names, sizes and times).
"First after mount" remounts first ({plain_first}), and is the median of {find_rounds + 1} rounds, each starting recfs, gocryptfs and plain disk afresh in turn;
round by round, in seconds: recfs {r['find_runs']['t_recfs']}, gocryptfs {r['find_runs']['t_gc']},
plain disk {r['find_runs']['t_plain']}. The other operations follow the first round's walk, once.
A first walk of recfs uses both CPUs: the daemon reads the call folders of the flow being walked
through its own mount, from the far end (README, "A first walk also runs on two CPUs"); `find` on
gocryptfs and plain disk runs on one.

| operation | recfs | gocryptfs | plain disk | recfs / gocryptfs (target ≤ 0.25) | recfs / plain (target ≤ 3) |
|---|---|---|---|---|---|
{tree}{rss_table(r, calls)}"""


def rss_table(r, calls):
    """The daemon's peak RSS: over the generated tree, and over the inflated catalog."""
    s = r.get("scale")
    ok = lambda c: "met" if c else "**not met**"
    rows = (f"| {calls:,} calls from `recfs gen`: {r['tree_recordings']:,} recordings ({r['tree_files']:,} files) | {r['t_recfs']['find1']:.2f} s | "
            f"{r['t_recfs']['lsR']:.2f} s | **{r['rss']:.0f} MB** | |\n")
    if s and "error" not in s:
        rows += (f"| {s['calls']:,} recordings: the same catalog inflated {s['calls'] / s['base']:.1f}× ({s['files']:,} files) | "
                 f"{s['find']:.2f} s | {s['lsR']:.2f} s | **{s['rss']:.0f} MB** ({s['rss_find']:.0f} MB after `find`) | "
                 f"≤ 100 MB: {ok(s['rss'] <= 100)} |\n")
        how = f"""
The second row's catalog is the first's, inflated by `scripts/benchmarks/inflate_catalog.py`
({s['inflate']:.0f} s; a {s['catalog_gb']:.1f} GB catalog): its {s['base']:,} recordings become
{s['calls']:,} by copying recorded calls (every column of the call and its recording) under new
call sids and recording ids, on the same days, in the same flows, numbered by the catalog's own
trigger. The copies have no blobs (a walk opens none; reading one fails as missing), so the
tree, with every name, size, time and `call.json`, is what {s['calls']:,} ingested calls would
show. Mounted fresh, then `find -type f`, then `ls -lR`."""
    elif s:
        rows += f"| {s['calls']:,} recordings: the same catalog inflated | | | **failed** | ≤ 100 MB: **not measured** |\n"
        how = f"\nThe inflated catalog of {s['calls']:,} recordings failed: `{s['error']}`."
    else:
        how = "\nNo inflated catalog this run (`RECFS_BENCH_RSS_CALLS` was not above the tree's recordings)."
    return f"""
Daemon peak RSS (`VmHWM`) after walking the tree. Over the generated tree it is taken after all
the operations above on recfs; over the inflated catalog, after its two walks.{how}

| catalog | `find -type f`, first after mount | `ls -lR` | daemon peak RSS | target (≤ 100 MB at 1,000,000) |
|---|---|---|---|---|
{rows}"""
