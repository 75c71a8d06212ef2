"""Opening, committing to and closing a file-backed database.

``open_database(path, durability=...)`` returns a ``DurableDatabase``: a
``Database`` recovered from ``path`` (see ``recover.py``) whose ``wal`` hook
logs every commit. ``Database.commit`` calls, under its commit lock,
``wal.log_commit(txn, new_root)`` (encode + append: a few µs), and after
releasing the lock ``wal.wait_durable(lsn)`` (sync mode: the group-commit fsync).

    durability   a commit survives            cost per commit (ENGINE-MEASUREMENTS §6)
    sync         power loss (fsync'ed)        ~160 µs alone, ~20 µs in groups of 10
    async        process crash; power loss    ~2 µs (+ an fsync every 10 ms in the
                 may drop the last ~10 ms     background)
    none         nothing until CHECKPOINT     0 (no log; CHECKPOINT / close write
                 or close                     a checkpoint)

Checkpoints run on ``CHECKPOINT``, when the log passes ``checkpoint_bytes``
(in a background thread), and on close. Only the short rotation of the log
happens under the commit lock; chunk files and the manifest are written while
commits go on.

A process holds the directory with an exclusive ``flock`` on ``LOCK``; within
one process, opening the same path again returns the same database (so two
``connect(path)`` calls are two sessions of one database, with MVCC between
them). ``fork()`` of a durable database is an ordinary *in-memory* database:
a branch to experiment on, never written to disk (``Database.fork`` builds a
plain ``Database``). Closing the database (``db.close()``, or closing the last
connection made by ``rustmemodb.connect(path)``, or interpreter exit) writes a
checkpoint and closes the log.
"""
from __future__ import annotations

import atexit
import json
import os
import threading
import time
import warnings
from enum import Enum
from pathlib import Path

from .. import errors
from ..api.connection import Connection
from ..database import Database
from .checkpoint import Files, list_manifests, read_manifest, remove_unreferenced, \
    write_checkpoint
from .damage import Damage
from .problems import io_error, object_in_use
from .records import encode_commit, encode_root
from .recover import recover
from .wal import Log, cut_segment, fsync_dir, list_segments, seal_segment

try:
    import fcntl
except ImportError:      # pragma: no cover - Windows: no cross-process lock
    fcntl = None

MARKER = "RUSTMEMODB"
MARKER_CONTENT = {"format": "rustmemodb", "version": 2}
DEFAULT_CHECKPOINT_BYTES = 64 << 20


class Durability(str, Enum):
    SYNC = "sync"
    ASYNC = "async"
    NONE = "none"

    @classmethod
    def parse(cls, value) -> "Durability":
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise errors.sql_error("22023", f"unknown durability mode {value!r}",
                                   hint="Use 'sync', 'async' or 'none'.") from None


_open: dict[str, "DurableDatabase"] = {}
_open_lock = threading.Lock()


def open_database(path, durability="sync", *, checkpoint_bytes: int = DEFAULT_CHECKPOINT_BYTES,
                  create: bool = True, close_with_last_connection: bool = False,
                  checkpoint_on_close: bool = True) -> "DurableDatabase":
    """Open (recovering) or create the database in directory ``path``."""
    mode = Durability.parse(durability)
    directory = Path(os.fspath(path)).expanduser().resolve()
    with _open_lock:
        db = _open.get(str(directory))
        if db is not None:
            if db.mode is not mode:
                raise object_in_use(f"{directory} is already open with durability "
                                    f"'{db.mode.value}'", hint="Close it first.")
            return db
        _prepare_directory(directory, create)
        lock = _lock(directory)
        try:
            db = DurableDatabase(directory, mode, lock, checkpoint_bytes=checkpoint_bytes,
                                 checkpoint_on_close=checkpoint_on_close)
        except BaseException:
            os.close(lock)
            raise
        db.close_with_last_connection = close_with_last_connection
        _drop_orphan_temporary_tables(db)
        _open[str(directory)] = db
        return db


def _drop_orphan_temporary_tables(db) -> None:
    """Temporary tables whose sessions ended without closing (a crash, a connection never
    closed) belong to no session of this process: dropped, in one commit."""
    from ..storage.root import is_temporary
    names = [n for n in db.root.tables if is_temporary(n)]
    if not names:
        return
    txn = db.begin()
    for name in names:
        txn.replace_table(name, None)
    db.commit(txn)


def _prepare_directory(directory: Path, create: bool) -> None:
    marker = directory / MARKER
    try:
        if directory.exists() and not directory.is_dir():
            raise io_error(f'"{directory}" is not a directory',
                           hint="A file-backed database is a directory; pass a new or "
                                "empty directory path.")
        if marker.exists():
            try:
                content = json.loads(marker.read_text())
            except ValueError:
                content = None
            if not isinstance(content, dict) or content.get("format") != "rustmemodb":
                raise io_error(f'"{directory}" is not a rustmemodb database directory',
                               detail=f"{MARKER} has unexpected content")
            if content.get("version") != MARKER_CONTENT["version"]:
                raise io_error(f'"{directory}" was written by an incompatible rustmemodb '
                               f'(format {content.get("version")})')
            return
        if directory.exists() and any(directory.iterdir()):
            raise io_error(f'"{directory}" is not a rustmemodb database directory',
                           hint="Pass a new or empty directory, or one created by "
                                "rustmemodb.connect(path).")
        if not create:
            raise io_error(f'database directory "{directory}" does not exist')
        for sub in ("", "chunks", "wal"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        tmp = directory / (MARKER + ".tmp")
        tmp.write_text(json.dumps(MARKER_CONTENT))
        os.replace(tmp, marker)
        fsync_dir(directory)
        if directory.parent.exists():
            fsync_dir(directory.parent)
    except errors.Error:
        raise
    except OSError as exc:
        raise io_error(f'cannot open database directory "{directory}": {exc.strerror or exc}',
                       hint="Check that the path is writable.") from None


def _lock(directory: Path) -> int:
    try:
        fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise io_error(f"cannot create {directory / 'LOCK'}: {exc.strerror}") from None
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise object_in_use(f'database "{directory}" is open in another process',
                                hint="Close it there first, or open a copy of the "
                                     "directory.") from None
    return fd


class DurableConnection(Connection):
    """A connection that tells its durable database when it closes."""

    def close(self) -> None:
        if not self._closed:
            super().close()
            self.database._connection_closed()


class _Closed:
    """The ``wal`` hook of a closed database: commits are refused."""

    def log_commit(self, txn, new):
        raise errors.sql_error("08003", "the database is closed",
                               hint="Open it again with rustmemodb.connect(path).")

    log_restore = log_commit


class DurableDatabase(Database):
    """A Database recovered from, and logged to, a directory. See the module docstring."""

    def __init__(self, directory: Path, mode: Durability, lock_fd: int, *,
                 checkpoint_bytes: int, checkpoint_on_close: bool) -> None:
        t0 = time.perf_counter()
        self.files = Files()
        try:
            rec = recover(directory, self.files)
        except Damage as damage:
            raise damage.error() from None
        except OSError as exc:
            raise io_error(f"cannot read the database in {directory}: {exc}") from None
        super().__init__(rec.root, name=directory.name)
        self.directory = directory
        self.mode = mode
        self.durability = self
        self.checkpoint_bytes = checkpoint_bytes
        self.checkpoint_on_close = checkpoint_on_close
        self.close_with_last_connection = False
        self.recovery = {"seconds": 0.0, "replayed": rec.replayed, "torn_bytes": rec.torn_bytes,
                         "checkpoint_lsn": rec.checkpoint_lsn, "last_lsn": rec.last_lsn,
                         "warnings": list(rec.warnings), "fallback_from": rec.fallback_from}
        self.last_error: BaseException | None = None
        self._lock_fd = lock_fd
        self._lsn = rec.last_lsn
        self._ckpt_lock = threading.Lock()
        self._ckpt_root = rec.root if rec.replayed == 0 and rec.fallback_from is None else None
        self._ckpt_thread: threading.Thread | None = None
        self._connections = 0
        self._closed = False
        # The checkpoints kept on disk, newest first: the one recovery used and the one
        # before it (the fallback while the next is written).
        self._manifests: list[dict] = [rec.manifest] if rec.manifest is not None else []
        self.log: Log | None = None
        for message in rec.warnings:
            warnings.warn(f"rustmemodb: {directory}: {message}", RuntimeWarning, stacklevel=4)
        try:
            for path, offset in rec.cuts:       # the whole log is known sound by now
                cut_segment(path, offset)
            if mode is not Durability.NONE:
                last = rec.last_segment
                self.log = Log(directory / "wal", rec.last_lsn + 1, mode.value)
                if (last is not None and not last.sealed and last.path.exists()
                        and last.last_lsn == rec.last_lsn
                        and last.path != self.log.segment):
                    seal_segment(last.path, last.first_lsn, last.last_lsn, last.end)
                self.wal = self
                if rec.manifest is None or not rec.manifest["wal"]:
                    # record that the log now continues this checkpoint (so a lost
                    # segment is noticed), or write the first checkpoint of a new database
                    self.checkpoint(force=True)
            elif rec.replayed or rec.manifest is None:
                self.checkpoint(force=True)   # fold the log in: none will be written
        except OSError as exc:
            if self.log is not None:
                self.log.close()
            raise io_error(f"cannot open the database in {directory}: {exc}") from exc
        if rec.fallback_from is None:   # else keep the damaged checkpoint as evidence
            self._cleanup()
        self.recovery["seconds"] = time.perf_counter() - t0

    # ---- the hook Database.commit calls ---------------------------------------------------
    def log_commit(self, txn, new) -> int | None:
        # (Every commit's way, a durable point write's included: no closure, one call.)
        try:
            payload = encode_commit(txn.ops, self.head, new)
        except errors.Error:
            raise
        except Exception as exc:
            raise _encode_error(exc) from exc
        return self._logged(payload)

    def log_restore(self, before, new) -> int | None:
        try:
            payload = encode_root(before, new)
        except errors.Error:
            raise
        except Exception as exc:
            raise _encode_error(exc) from exc
        return self._logged(payload)

    def _logged(self, payload: bytes) -> int | None:
        log = self.log
        lsn = self._lsn = log.append(payload)
        if log.bytes_since_checkpoint > self.checkpoint_bytes:
            self._checkpoint_in_background()
        return lsn if self.mode is Durability.SYNC else None

    def wait_durable(self, lsn: int) -> None:
        self.log.wait_durable(lsn)

    # ---- checkpoints ----------------------------------------------------------------------
    def checkpoint(self, force: bool = False) -> dict | None:
        """Write a checkpoint of the committed state and drop the log it covers."""
        with self._ckpt_lock:
            self._check_open()
            if self.log is not None and self.log.broken is not None:
                self.log.sync()       # raises the 58030 the failed write or fsync left
            with self._commit_lock:
                root = self.head       # rotate() makes every logged commit durable
                if root is self._ckpt_root and not force:
                    return None
                lsn = self.log.rotate() if self.log is not None else self._lsn
            try:
                manifest = write_checkpoint(self.directory, root, lsn, self.files,
                                            wal=self.log is not None)
            except OSError as exc:
                raise io_error(f"checkpoint failed: {exc}",
                               hint="Check free disk space; the previous checkpoint and "
                                    "the log are intact.") from exc
            self._ckpt_root = root
            self._manifests = [manifest] + [m for m in self._manifests
                                            if m["name"] != manifest["name"]][:1]
            self._cleanup()
            return manifest

    def _checkpoint_in_background(self) -> None:
        thread = self._ckpt_thread
        if thread is not None and thread.is_alive():
            return
        self._ckpt_thread = threading.Thread(target=self._background_checkpoint,
                                             name="rustmemodb-checkpoint", daemon=True)
        self._ckpt_thread.start()

    def _background_checkpoint(self) -> None:
        try:
            self.checkpoint()
        except Exception as exc:     # reported through last_error; the log keeps growing
            self.last_error = exc

    def _cleanup(self) -> None:
        """Delete what no kept checkpoint needs: older manifests and their files, and log
        segments whose records all precede the oldest kept checkpoint."""
        if not self._manifests:
            return
        keep = list(self._manifests)
        if len(keep) == 1:     # just recovered: the previous manifest stays the fallback
            older = [p for v, p in list_manifests(self.directory)
                     if v < keep[0]["version"]][:1]
            for path in older:
                try:
                    keep.append(read_manifest(path))
                except Damage:
                    return     # cannot tell what it needs: delete nothing
        keep_lsn = min(m["lsn"] for m in keep)
        try:
            remove_unreferenced(self.directory, keep)
        except OSError:
            return
        current = self.log.segment if self.log is not None else None
        for tmp in (self.directory / "wal").glob("*.wal.tmp"):   # a crash while creating
            try:
                tmp.unlink()
            except OSError:
                pass
        segments = list_segments(self.directory / "wal")
        for (first, path), (next_first, _) in zip(segments, segments[1:]):
            if path != current and next_first <= keep_lsn + 1:
                try:
                    path.unlink()
                except OSError:
                    pass

    # ---- connections and closing ---------------------------------------------------------
    def connect(self, user: str | None = None, password: str | None = None) -> Connection:
        self._check_open()
        with _open_lock:
            self._connections += 1
        try:
            return DurableConnection(self, user, password)
        except BaseException:          # 28P01 / 28000: this connection never opened
            self._connection_closed()
            raise

    def _connection_closed(self) -> None:
        with _open_lock:
            self._connections -= 1
            last = self._connections <= 0
        if last and self.close_with_last_connection:
            self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise errors.sql_error("08003", "the database is closed",
                                   hint="Open it again with rustmemodb.connect(path).")

    def close(self) -> None:
        """Checkpoint (unless disabled), close the log and release the directory."""
        with _open_lock:
            if self._closed:
                return
            _open.pop(str(self.directory), None)
        thread = self._ckpt_thread
        if thread is not None:
            thread.join()
        try:
            broken = self.log is not None and self.log.broken is not None
            if (self.checkpoint_on_close or self.mode is Durability.NONE) and not broken:
                self.checkpoint()
        finally:
            with self._commit_lock:
                self.wal = _Closed()
            self._closed = True
            try:
                if self.log is not None:
                    self.log.close()
            finally:
                os.close(self._lock_fd)

    def _abandon(self) -> None:
        """Drop every handle without flushing or checkpointing: what a crash (kill -9)
        leaves on disk, for tests. Data written to the OS survives, as it would."""
        with _open_lock:
            _open.pop(str(self.directory), None)
        self.wal = _Closed()
        self._closed = True
        if self.log is not None:
            with self.log._cond:
                self.log._closed = True
                self.log._cond.notify_all()
            os.close(self.log._fd)
        os.close(self._lock_fd)

    def __enter__(self) -> "DurableDatabase":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def stats(self) -> dict:
        out = {"mode": self.mode.value, "lsn": self._lsn, "recovery": dict(self.recovery)}
        if self.log is not None:
            out.update(self.log.stats, bytes_since_checkpoint=self.log.bytes_since_checkpoint)
        return out

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.mode.value
        return f"<DurableDatabase {str(self.directory)!r} {state}>"


@atexit.register
def _close_all() -> None:
    for db in list(_open.values()):
        try:
            db.close()
        except Exception:
            pass


def _encode_error(exc: Exception) -> errors.InternalError:
    return errors.InternalError(f"cannot encode the commit for the log: "
                                f"{type(exc).__name__}: {exc}")
