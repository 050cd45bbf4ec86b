#!/usr/bin/env python3
"""Copies a recfs store (one made by `recfs gen`) into a new one whose catalog holds many more
recordings, for measuring the mount over a catalog too big to generate call by call.

    inflate_catalog.py SRC DST --recordings 1000000     # exactly that many recordings in DST
    inflate_catalog.py SRC DST --factor 10              # 10× SRC's recordings

The added recordings are copies of SRC's recorded calls (every `call` and `recording` column
the same, so the same days, flows, times, sizes and settings) under a new call sid (`CA` + 32
hex, as `recfs gen` makes them) and a new recording id (32 hex, as the vault makes them). Their
`number` is left NULL so the catalog's trigger numbers them, as it would for an ingest. Nothing
else changes: no audit events are added (the audit table is append-only and records what
really happened), no flows, no settings.

Blobs are not copied. DST/blobs is a tree of hard links to SRC's blobs, so SRC's own recordings
stay readable in DST (and nothing done to DST touches SRC's files). The catalog's blobKey is
unique, so a copy cannot name its original's blob: it gets the key its id would have had, in
the same folder, and no file. Listing the tree (`find`, `ls -lR`, `recfs ls`) never opens a
blob, so it works in full; reading a copied recording fails with "the recording of call … is
missing", and `recfs fsck --store DST` reports every copy as a missing blob. Use DST for
walking the tree, not for reads or fsck.
"""
import argparse, os, random, shutil, sqlite3, subprocess, sys, time

def log(msg):
    print(f"inflate: {msg}", file=sys.stderr, flush=True)


def columns(db, table):
    return [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]


def copy_store_files(src, dst):
    """Everything but the catalog: keys and lock copied, blobs hard-linked, staging empty."""
    os.makedirs(dst)
    os.chmod(dst, os.stat(src).st_mode & 0o7777)
    for name in os.listdir(src):
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if name.startswith("catalog.sqlite") or name == "mount.log":
            continue
        if name == "blobs":
            # cp -al: a new tree of directories whose files are hard links to SRC's blobs.
            subprocess.run(["cp", "-al", s, d], check=True)
        elif name == "staging":
            os.makedirs(d)
        elif os.path.isdir(s):
            shutil.copytree(s, d)
        else:
            shutil.copy2(s, d)


def new_hex(rng, taken):
    while True:
        h = f"{rng.getrandbits(128):032x}"
        if h not in taken:
            taken.add(h)
            return h


def inflate(src, dst, recordings=None, factor=None, seed=1):
    started = time.perf_counter()
    if (recordings is None) == (factor is None):
        raise ValueError("inflate: give recordings or factor, not both")
    if os.path.exists(dst):
        raise SystemExit(f"inflate: {dst} exists; give a new folder")
    if not os.path.exists(os.path.join(src, "catalog.sqlite")):
        raise SystemExit(f"inflate: {src} is not a recfs store (no catalog.sqlite)")
    copy_store_files(src, dst)
    try:
        return fill(src, dst, recordings, factor, seed, started)
    except BaseException:
        shutil.rmtree(dst, ignore_errors=True)  # half a copy is no copy
        raise


def fill(src, dst, recordings, factor, seed, started):
    # The catalog through SQLite's backup API: a consistent copy whatever the WAL holds.
    source = sqlite3.connect(f"file:{os.path.join(src, 'catalog.sqlite')}?mode=ro", uri=True)
    db = sqlite3.connect(os.path.join(dst, "catalog.sqlite"), isolation_level=None)
    source.backup(db)
    source.close()
    log(f"copied the store ({time.perf_counter() - started:.1f} s)")

    # A scratch copy: no journal and no syncs while it fills (if this fails, DST is thrown
    # away), a cache big enough to hold the indexes. WAL again at the end, as recfs keeps it.
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")  # 1 GB
    db.execute("PRAGMA temp_store = MEMORY")

    call_cols, rec_cols = columns(db, "call"), columns(db, "recording")
    assert {"sid", "recordingId"} <= set(call_cols), call_cols
    assert {"id", "callSid", "blobKey", "number"} <= set(rec_cols), rec_cols
    have = db.execute("SELECT COUNT(*) FROM recording").fetchone()[0]
    if have == 0:
        raise SystemExit("inflate: the source store has no recordings to copy")
    target = recordings if recordings is not None else have * factor
    if target < have:
        raise SystemExit(f"inflate: the source already holds {have:,} recordings, more than {target:,}")
    add = target - have

    # The originals: each recording with its call, oldest first (copies cycle through them).
    c_sel = ", ".join(f'c."{c}"' for c in call_cols)
    r_sel = ", ".join(f'r."{c}"' for c in rec_cols)
    originals = db.execute(f"""
        SELECT {c_sel}, {r_sel} FROM recording r JOIN call c ON c.sid = r.callSid
        ORDER BY r.callStartedAt, r.id""").fetchall()
    assert len(originals) == have, f"{have} recordings but {len(originals)} with their call"
    nc = len(call_cols)
    ci = {c: i for i, c in enumerate(call_cols)}
    ri = {c: i for i, c in enumerate(rec_cols)}

    taken_sids = {r[0] for r in db.execute("SELECT sid FROM call")}
    taken_ids = {r[0] for r in db.execute("SELECT id FROM recording")}
    rng = random.Random(seed)

    def rows():
        for k in range(add):
            o = originals[k % have]
            call, rec = list(o[:nc]), list(o[nc:])
            sid = "CA" + new_hex(rng, taken_sids)
            rid = new_hex(rng, taken_ids)
            old_id = rec[ri["id"]]
            call[ci["sid"]], call[ci["recordingId"]] = sid, rid
            rec[ri["id"]], rec[ri["callSid"]], rec[ri["number"]] = rid, sid, None
            key = rec[ri["blobKey"]]
            assert key.endswith(old_id + ".rec"), key
            rec[ri["blobKey"]] = key[: -len(old_id) - 4] + rid + ".rec"
            yield call, rec

    call_sql = f'INSERT INTO call ({", ".join(chr(34) + c + chr(34) for c in call_cols)}) VALUES ({", ".join("?" * len(call_cols))})'
    rec_sql = f'INSERT INTO recording ({", ".join(chr(34) + c + chr(34) for c in rec_cols)}) VALUES ({", ".join("?" * len(rec_cols))})'
    t = time.perf_counter()
    db.execute("BEGIN")
    batch, done = [], 0
    for pair in rows():
        batch.append(pair)
        if len(batch) == 50_000:
            done += flush(db, call_sql, rec_sql, batch)
            log(f"{have + done:,} / {target:,} recordings ({time.perf_counter() - t:.0f} s)")
    done += flush(db, call_sql, rec_sql, batch)
    db.execute("COMMIT")
    log(f"added {done:,} recordings in {time.perf_counter() - t:.1f} s")

    n, numbered, top = db.execute("SELECT COUNT(*), COUNT(number), MAX(number) FROM recording").fetchone()
    assert n == target and numbered == n and top >= n, (n, numbered, top)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.close()
    log(f"{dst}: {n:,} recordings, catalog {os.path.getsize(os.path.join(dst, 'catalog.sqlite')) / 1e9:.2f} GB, "
        f"{time.perf_counter() - started:.1f} s in all")
    return n


def flush(db, call_sql, rec_sql, batch):
    # Calls first: a recording references its call.
    db.executemany(call_sql, (c for c, _ in batch))
    db.executemany(rec_sql, (r for _, r in batch))
    n = len(batch)
    batch.clear()
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", help="a recfs store (left untouched)")
    p.add_argument("dst", help="the inflated copy (must not exist)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--recordings", type=int, help="recordings the copy holds in all")
    g.add_argument("--factor", type=int, help="the copy holds this many times the source's recordings")
    p.add_argument("--seed", type=int, default=1, help="for the new sids and ids")
    a = p.parse_args()
    inflate(a.src, a.dst, recordings=a.recordings, factor=a.factor, seed=a.seed)


if __name__ == "__main__":
    main()
