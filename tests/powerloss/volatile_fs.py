#!/usr/bin/env python3
"""volatile_fs: a FUSE passthrough filesystem that behaves like a disk with a volatile write cache.

Run it as its own process (`python volatile_fs.py --state DIR --mount MNT`); it serves MNT in the
foreground until it is killed. A *power cut* is: SIGKILL the processes using the mount, SIGKILL this
process, detach the mount (`cut()` below does the last two). Whatever was not made durable is gone;
the next mount over the same DIR starts from the durable state only.

The model (what survives a cut)
-------------------------------
File data, per file (an inode, whatever names it has):
  * write(), truncate()/ftruncate(), fallocate() and open(O_TRUNC) change the *live* content only;
  * fsync() or fdatasync() on any descriptor of the file makes the file's durable content equal to
    its live content at that moment: data and size (fdatasync must persist the size too, or the
    data could not be read back);
  * close(), flush and process exit persist nothing.
  A file whose data was never synced survives (if its name does) as an empty file.

Names (create, mkdir, rename, unlink, rmdir), two models, chosen with --metadata:
  * strict (the default): a directory's entries become durable only when that directory is
    fsynced (open(dir) + fsync). At that moment the durable entries of the directory are replaced by
    its live entries, each naming the same file (inode) as live. So after a cut a created file
    exists only if its directory was fsynced after the create; a rename is undone unless the
    directory (both directories, when it moves between two) was fsynced after it, and then each
    name carries the *synced* content of the file it names, never data written after the last
    fsync of that file; an unlinked file comes back unless the directory was fsynced; a new
    directory's own entries are empty until it is fsynced itself. This is what POSIX promises and
    what careful storage engines (fjall and its lsm-tree) program against.
  * ordered (ext4 data=ordered-like): name operations go into one ordered metadata journal, and
    any fsync/fdatasync of any file or directory commits all of them (a jbd2 commit), but data
    is still durable only by the file's own fsync. (Real ext4 may also commit on its 5 s timer;
    not modelled: that only makes more survive.)
Attributes (mode, owner, times) are passed through and not modelled: they are not data.
Hard links, symlinks and device nodes are refused (the store does not use them).

Storage layout under --state DIR
--------------------------------
  DIR/durable/ns.json      the durable namespace: directory id -> {name: [id, "d"|"f"]}; id 1 is
                           the root. Rewritten (atomically) whenever a directory is synced.
  DIR/durable/blobs/<id>   the durable content of file <id>: updated in place at each fsync by
                           copying the byte ranges written since the previous one.
  DIR/live/                the live tree the mount passes through to: volatile. Thrown away and
                           rebuilt from durable/ at every mount.
Nothing here needs a real fsync: the machine running the test does not lose power, only this
process dies, and the page cache of the host survives that.

`python volatile_fs.py --self-check` mounts a scratch filesystem, writes with and without fsync,
cuts power and checks that exactly the synced state survived: proof that the tests built on this
filesystem can fail.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT_ID = 1


# --------------------------------------------------------------------------- durable state


def load_ns(state: Path) -> dict:
    try:
        ns = json.loads((state / "durable" / "ns.json").read_text())
        ns["dirs"] = {int(k): v for k, v in ns["dirs"].items()}
        return ns
    except FileNotFoundError:
        return {"next_id": ROOT_ID + 1, "dirs": {ROOT_ID: {}}}


def durable_tree(ns: dict):
    """Yields (relative path, kind, id) for every durable name reachable from the root, parents first."""
    stack = [(ROOT_ID, "")]
    seen_dirs = set()
    while stack:
        did, prefix = stack.pop()
        if did in seen_dirs:  # a directory durably linked under two names: list it once
            continue
        seen_dirs.add(did)
        for name, (cid, kind) in sorted(ns["dirs"].get(did, {}).items()):
            rel = f"{prefix}/{name}" if prefix else name
            yield rel, kind, cid
            if kind == "d":
                stack.append((cid, rel))


def rebuild_live(state: Path) -> tuple[dict, dict[int, int]]:
    """Replaces DIR/live by the durable state; returns the namespace and live st_ino -> id."""
    durable, live = state / "durable", state / "live"
    (durable / "blobs").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(live, ignore_errors=True)
    live.mkdir(parents=True)
    ns = load_ns(state)
    ino2id = {os.stat(live).st_ino: ROOT_ID}
    first_path: dict[int, Path] = {}
    referenced = set()
    for rel, kind, cid in durable_tree(ns):
        p = live / rel
        referenced.add(cid)
        if kind == "d":
            p.mkdir()
        elif cid in first_path:
            os.link(first_path[cid], p)
        else:
            blob = durable / "blobs" / str(cid)
            if blob.exists():
                shutil.copyfile(blob, p)
            else:
                p.touch()
            first_path[cid] = p
        ino2id[os.lstat(p).st_ino] = cid
    for blob in (durable / "blobs").iterdir():  # content of files no durable name refers to
        if not blob.name.isdigit() or int(blob.name) not in referenced:
            blob.unlink()
    return ns, ino2id


def unsynced(state: Path) -> dict:
    """After a cut and before the next mount: what the cut threw away (live vs durable)."""
    durable, live = state / "durable", state / "live"
    ns = load_ns(state)
    dur: dict[str, tuple[str, int]] = {rel: (kind, cid) for rel, kind, cid in durable_tree(ns)}
    out = {"files": 0, "bytes": 0, "names_lost": 0, "names_back": 0, "lost": []}
    live_names = set()
    for dirpath, dirnames, filenames in os.walk(live):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(live))
            live_names.add(rel)
            if rel not in dur:
                out["names_lost"] += 1
                if str(Path(rel).parent) in dur or "/" not in rel:  # the topmost lost name of a subtree
                    out["lost"].append(rel + ("/" if name in dirnames else ""))
            if name in filenames:
                data = p.read_bytes()
                blob = durable / "blobs" / str(dur[rel][1]) if rel in dur else None
                old = blob.read_bytes() if blob is not None and blob.exists() else b""
                if data != old:
                    common = os.path.commonprefix([data, old])
                    out["files"] += 1
                    out["bytes"] += len(data) - len(common)
    out["names_back"] = sum(1 for rel in dur if rel not in live_names)
    return out


# --------------------------------------------------------------------------- the filesystem


def make_operations(mfusepy):
    class VolatileFS(mfusepy.Operations):
        use_ns = True

        def __init__(self, state: Path, metadata: str):
            self.state, self.metadata = state, metadata
            self.live = str(state / "live")
            self.blobs = state / "durable" / "blobs"
            self.ns, self.ino2id = rebuild_live(state)
            self.fh2id: dict[int, int] = {}
            self.dirty: dict[int, list[list[int]]] = {}  # id -> [start, end) ranges written since its last sync
            self.ns_dirty = False
            self._lk = threading.RLock()

        # ---- helpers
        def _p(self, path: str) -> str:
            return self.live + path

        def _id_of_ino(self, ino: int) -> int:
            fid = self.ino2id.get(ino)
            if fid is None:  # cannot happen: every name is created through us or by rebuild_live
                fid = self._new_id(ino)
            return fid

        def _new_id(self, ino: int) -> int:
            fid = self.ns["next_id"]
            self.ns["next_id"] = fid + 1
            self.ino2id[ino] = fid
            return fid

        def _mark(self, fid: int, start: int, end: int) -> None:
            if end <= start:
                return
            ranges = self.dirty.setdefault(fid, [])
            if ranges and ranges[-1][0] <= start <= ranges[-1][1]:
                ranges[-1][1] = max(ranges[-1][1], end)
            else:
                ranges.append([start, end])

        def _save_ns(self) -> None:
            tmp = self.state / "durable" / "ns.json.tmp"
            tmp.write_text(json.dumps(self.ns))
            os.replace(tmp, self.state / "durable" / "ns.json")

        def _entries(self, dir_live: str) -> dict:
            out = {}
            with os.scandir(dir_live) as it:
                for e in it:
                    st = e.stat(follow_symlinks=False)
                    out[e.name] = [self._id_of_ino(st.st_ino), "d" if stat.S_ISDIR(st.st_mode) else "f"]
            return out

        def _sync_dir(self, dir_live: str) -> None:
            did = self._id_of_ino(os.stat(dir_live).st_ino)
            entries = self._entries(dir_live)
            if self.ns["dirs"].get(did) != entries:
                self.ns["dirs"][did] = entries
                self._save_ns()

        def _commit_metadata(self) -> None:
            """ordered model: every name operation so far becomes durable."""
            if not self.ns_dirty:
                return
            dirs = {}
            for dirpath, _, _ in os.walk(self.live):
                dirs[self._id_of_ino(os.stat(dirpath).st_ino)] = self._entries(dirpath)
            self.ns["dirs"] = dirs
            self.ns_dirty = False
            self._save_ns()

        def _sync_file(self, fid: int, fd: int) -> None:
            ranges = self.dirty.pop(fid, [])
            size = os.fstat(fd).st_size
            bfd = os.open(self.blobs / str(fid), os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                os.ftruncate(bfd, size)
                for start, end in ranges:
                    end = min(end, size)
                    while start < end:
                        chunk = os.pread(fd, min(end - start, 1 << 20), start)
                        if not chunk:
                            break
                        os.pwrite(bfd, chunk, start)
                        start += len(chunk)
            finally:
                os.close(bfd)

        def _ns_op(self) -> None:
            self.ns_dirty = True

        # ---- attributes and directories
        def getattr(self, path, fh=None):
            st = os.fstat(fh) if fh is not None and path is None else os.lstat(self._p(path))
            return {
                "st_mode": st.st_mode,
                "st_ino": st.st_ino,
                "st_nlink": st.st_nlink,
                "st_uid": st.st_uid,
                "st_gid": st.st_gid,
                "st_size": st.st_size,
                "st_blocks": st.st_blocks,
                "st_atime": st.st_atime_ns,
                "st_mtime": st.st_mtime_ns,
                "st_ctime": st.st_ctime_ns,
            }

        def access(self, path, amode):
            if not os.access(self._p(path), amode):
                raise mfusepy.FuseOSError(errno.EACCES)
            return 0

        def readdir(self, path, fh):
            return [".", ".."] + os.listdir(self._p(path))

        def opendir(self, path):
            return 0

        def releasedir(self, path, fh):
            return 0

        def fsyncdir(self, path, datasync, fh):
            with self._lk:
                if self.metadata == "strict":
                    self._sync_dir(self._p(path))
                else:
                    self._commit_metadata()
            return 0

        def statfs(self, path):
            sv = os.statvfs(self._p(path))
            return {k: getattr(sv, k) for k in (
                "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag",
                "f_frsize", "f_namemax")}

        def chmod(self, path, mode):
            os.chmod(self._p(path), mode)
            return 0

        def chown(self, path, uid, gid):
            os.chown(self._p(path), uid, gid)
            return 0

        def utimens(self, path, times=None):
            os.utime(self._p(path), ns=times) if times else os.utime(self._p(path))
            return 0

        def mkdir(self, path, mode):
            with self._lk:
                os.mkdir(self._p(path), mode)
                self._new_id(os.lstat(self._p(path)).st_ino)
                self._ns_op()
            return 0

        def rmdir(self, path):
            with self._lk:
                os.rmdir(self._p(path))
                self._ns_op()
            return 0

        def unlink(self, path):
            with self._lk:
                os.unlink(self._p(path))
                self._ns_op()
            return 0

        def rename(self, old, new):
            with self._lk:
                os.rename(self._p(old), self._p(new))
                self._ns_op()
            return 0

        def link(self, target, source):
            raise mfusepy.FuseOSError(errno.EPERM)

        def symlink(self, target, source):
            raise mfusepy.FuseOSError(errno.EPERM)

        def mknod(self, path, mode, dev):
            raise mfusepy.FuseOSError(errno.EPERM)

        # ---- files
        @staticmethod
        def _flags(flags: int) -> int:
            # Always read-write (fsync copies from the descriptor); never O_APPEND (the kernel already
            # turned appends into writes at an offset); O_TRUNC is done by hand so it is tracked.
            return (flags & ~(os.O_ACCMODE | os.O_APPEND | os.O_TRUNC)) | os.O_RDWR

        def create(self, path, mode, flags=os.O_WRONLY):
            with self._lk:
                fd = os.open(self._p(path), self._flags(flags) | os.O_CREAT, mode)
                st = os.fstat(fd)
                fid = self._new_id(st.st_ino)
                self.fh2id[fd] = fid
                self.dirty.pop(fid, None)
                self._mark(fid, 0, st.st_size)
                self._ns_op()
            return fd

        def open(self, path, flags):
            with self._lk:
                fd = os.open(self._p(path), self._flags(flags))
                st = os.fstat(fd)
                fid = self._id_of_ino(st.st_ino)
                self.fh2id[fd] = fid
                if flags & os.O_TRUNC and st.st_size:
                    self._mark(fid, 0, st.st_size)
                    os.ftruncate(fd, 0)
            return fd

        def read(self, path, size, offset, fh):
            return os.pread(fh, size, offset)

        def write(self, path, data, offset, fh):
            with self._lk:
                n = os.pwrite(fh, data, offset)
                self._mark(self.fh2id[fh], offset, offset + n)
            return n

        def truncate(self, path, length, fh=None):
            with self._lk:
                fd = fh if fh is not None else os.open(self._p(path), os.O_RDWR)
                try:
                    st = os.fstat(fd)
                    fid = self.fh2id[fh] if fh is not None else self._id_of_ino(st.st_ino)
                    self._mark(fid, min(length, st.st_size), max(length, st.st_size))
                    os.ftruncate(fd, length)
                finally:
                    if fh is None:
                        os.close(fd)
            return 0

        def fallocate(self, path, mode, offset, size, fh):
            if mode != 0:
                raise mfusepy.FuseOSError(errno.EOPNOTSUPP)
            with self._lk:
                before = os.fstat(fh).st_size
                os.posix_fallocate(fh, offset, size)
                self._mark(self.fh2id[fh], before, offset + size)
            return 0

        def flush(self, path, fh):
            return 0  # close() persists nothing

        def release(self, path, fh):
            with self._lk:
                self.fh2id.pop(fh, None)
                os.close(fh)
            return 0

        def fsync(self, path, datasync, fh):
            with self._lk:
                self._sync_file(self.fh2id[fh], fh)
                if self.metadata == "ordered":
                    self._commit_metadata()
            return 0

    class FUSE(mfusepy.FUSE):
        # mfusepy's libfuse3 wrappers drop the file handle of ftruncate and the flags of rename.
        def truncate_fuse_3(self, path, length, fip):
            fh = fip.contents.fh if fip else None
            return self.operations.truncate(None if path is None else path.decode(), length, fh)

        def rename_fuse_3(self, old, new, flags):
            if flags:  # RENAME_NOREPLACE / RENAME_EXCHANGE: callers fall back to plain rename
                return -errno.EINVAL
            return self.operations.rename(old.decode(), new.decode())

    return VolatileFS, FUSE


def serve(state: Path, mount: Path, metadata: str) -> None:
    if not os.environ.get("FUSE_LIBRARY_PATH"):  # libfuse3 (mfusepy would take libfuse2 first)
        from ctypes.util import find_library

        os.environ["FUSE_LIBRARY_PATH"] = find_library("fuse3") or "libfuse3.so.3"
    import mfusepy

    VolatileFS, FUSE = make_operations(mfusepy)
    ops = VolatileFS(state, metadata)
    FUSE(ops, str(mount), foreground=True, nothreads=False, hard_remove=True, fsname="volatilefs")


# --------------------------------------------------------------------------- control from a test


def _umount_detach(path: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(str(path).encode(), 2) != 0:  # MNT_DETACH
        e = ctypes.get_errno()
        if e not in (errno.EINVAL, errno.ENOENT):  # EINVAL: not mounted
            raise OSError(e, f"umount2({path}): {os.strerror(e)}")


class VolatileMount:
    """A volatile_fs process serving `mount` from `state`; `cut()` is the power cut."""

    def __init__(self, state: Path, mount: Path, metadata: str = "strict", log_path: Path | None = None):
        self.state, self.mount, self.metadata = state, mount, metadata
        self.log_path = log_path or state / "volatile_fs.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 15.0) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self.mount.mkdir(parents=True, exist_ok=True)
        _umount_detach(self.mount)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--state", str(self.state), "--mount", str(self.mount),
                 "--metadata", self.metadata],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"volatile_fs exited with {self.proc.returncode}\n{self.tail()}")
            if os.path.ismount(self.mount):
                return
            time.sleep(0.05)
        raise RuntimeError(f"volatile_fs not mounted within {timeout} s\n{self.tail()}")

    def cut(self) -> dict:
        """Kills the filesystem process and detaches the mount: unsynced state is gone. Kill the
        processes using the mount first. Returns what was thrown away (see `unsynced`)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        _umount_detach(self.mount)
        return unsynced(self.state)

    def stop(self) -> None:
        self.cut()

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


# --------------------------------------------------------------------------- self-check


def fsync_path(p: Path) -> None:
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(p: Path, data: bytes, sync: bool, mode: str = "wb") -> None:
    with open(p, mode) as f:
        f.write(data)
        f.flush()
        if sync:
            os.fsync(f.fileno())


def self_check(metadata: str = "strict") -> list[str]:
    """Writes with and without fsync, cuts power, and returns every way the survivors differ from the
    model (empty: the filesystem loses exactly what it should)."""
    tmp = Path(tempfile.mkdtemp(prefix="volatile-fs-check-"))
    fs = VolatileMount(tmp / "state", tmp / "mnt", metadata)
    m = fs.mount
    problems: list[str] = []
    try:
        fs.start()
        (m / "dir").mkdir()
        _write(m / "kept", b"synced", sync=True)
        _write(m / "renamed", b"old", sync=True)
        _write(m / "doomed", b"durable", sync=True)
        _write(m / "dir" / "inner", b"inner", sync=True)
        fsync_path(m / "dir")
        fsync_path(m)
        # From here on, what survives depends on the model.
        _write(m / "kept", b"+unsynced", sync=False, mode="ab")  # appended, never synced
        _write(m / "dir" / "inner", b"", sync=False)  # truncated, never synced
        _write(m / "tmp", b"new", sync=True)  # synced, then renamed over "renamed"
        os.rename(m / "tmp", m / "renamed")
        _write(m / "renamed", b"+more", sync=False, mode="ab")  # data after the rename, unsynced
        _write(m / "created", b"never synced", sync=False)
        _write(m / "created-synced", b"synced file", sync=True)
        os.unlink(m / "doomed")
        if metadata == "ordered":
            _write(m / "commit", b"x", sync=True)  # any fsync commits the metadata journal
        cut = fs.cut()
        if not cut["bytes"]:
            problems.append(f"the cut reported no unsynced bytes: {cut}")
        fs.start()
        want = {"kept": b"synced", "dir/inner": b"inner"}
        if metadata == "strict":
            want.update({"renamed": b"old", "doomed": b"durable"})
            gone = ["tmp", "created", "created-synced"]
        else:
            want.update({"renamed": b"new", "created": b"", "created-synced": b"synced file", "commit": b"x"})
            gone = ["tmp", "doomed"]
        for rel, data in want.items():
            try:
                got = (m / rel).read_bytes()
            except OSError as e:
                got = e
            if got != data:
                problems.append(f"{rel}: expected {data!r} after the cut, found {got!r}")
        for rel in gone:
            if (m / rel).exists():
                problems.append(f"{rel}: expected gone after the cut, but it exists")
        # after a clean sync everything must come back
        _write(m / "final", b"all synced", sync=True)
        fsync_path(m)
        fs.cut()
        fs.start()
        if (m / "final").read_bytes() != b"all synced":
            problems.append("final: a file synced with its directory did not survive the cut")
    except Exception as e:  # noqa: BLE001
        problems.append(f"self-check could not run: {e!r}\n{fs.tail()}")
    finally:
        fs.stop()
        if not problems:
            shutil.rmtree(tmp, ignore_errors=True)
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", type=Path)
    ap.add_argument("--mount", type=Path)
    ap.add_argument("--metadata", choices=["strict", "ordered"], default="strict")
    ap.add_argument("--self-check", action="store_true")
    args = ap.parse_args()
    if args.self_check:
        problems = self_check(args.metadata)
        for p in problems:
            print("FAIL", p)
        print("self-check passed" if not problems else "self-check FAILED")
        return 1 if problems else 0
    if not (args.state and args.mount):
        ap.error("--state and --mount are required")
    serve(args.state, args.mount, args.metadata)
    return 0


if __name__ == "__main__":
    sys.exit(main())
