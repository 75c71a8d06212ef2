"""The log's durable writes through io_uring, each linked to its client's reply: the same
interface as ``fsync_helper.FsyncHelper`` in its ``replies`` mode (``request``,
``progress``, ``answers``, ``barrier``, ``forget``, ``fileno``, ``close``), with the
kernel doing what the helper process does: the event loop submits, in one system call
and with no thread or process of ours to wake, a chain of two requests

    IORING_OP_WRITE  the frames not yet known durable, through a descriptor of the
                     open segment opened with O_DSYNC (so the write returns once they
                     are on disk, as pwrite + fdatasync of that range)
      -> linked (IOSQE_IO_LINK) to
    IORING_OP_SEND   the commit's whole reply, on the client's socket (MSG_DONTWAIT)

and the kernel sends the acknowledgement as soon as the write is durable. The loop
learns of completions from the completion ring (shared memory, no system call:
``progress``, peeked before every client message) or by watching the ring's own
descriptor (``fileno``: commits are published even when nobody sends anything, off the
client's path since its reply went out already). The ring's descriptor polls readable
exactly while completions wait in the ring, so once ``progress`` has taken them the
loop is not woken for them again; an eventfd registered on the ring (as before
2026-12-07) counted every completion and stayed readable after they were taken, so
the loop woke for completions already handled (0.7 times per update in the 80/20 mix)
and read the eventfd each time. So a failed write taken by ``progress`` is not signalled
again either: its caller asks ``failed`` and breaks the log itself.

Why a write and not IORING_OP_FSYNC: measured on Linux 6.18, a failed FSYNC (or
SYNC_FILE_RANGE) does not break its link, so the linked send would acknowledge a commit
that is not durable; a failed or short WRITE does (the send completes with
-ECANCELED, or, with IOSQE_CQE_SKIP_SUCCESS on the write, not at all). A range sync
covers only its range, so each chain writes *every* frame not yet known durable (from
the end of the last chain known to have completed), rewriting identical bytes that an
earlier chain still in flight may also be writing: a chain that succeeds vouches for
every frame before its end, whatever became of the others, and chains need no order
among themselves. The rewritten span is what was handed over since the last completion:
one to a few frames.

The log's tail mark (``wal.py``) is written by the log on the loop after a completion
(``writes_mark`` False; the server's channel does it on its next timer tick, so that a
frame handed over meanwhile makes it moot), at the end of the last frame handed over,
and only once that frame is durable: no chain in flight writes there. Preallocated zeros are written by ``request`` itself (plain ``pwrite``,
rare) before the chain that needs them. ``barrier`` (a thread about to touch the log
itself) rewrites the same span synchronously through the O_DSYNC descriptor.

The reply: its bytes are kept alive until their completion; a socket that would block
(-EAGAIN) or took part of it leaves the rest to the loop (``leftover``: the session
writes it through its transport before anything else); a socket the client closed
(EPIPE, ECONNRESET) is as sent. Each client socket is duplicated once (``forget`` closes
the duplicate when the connection ends and nothing of it is in flight), so a send never
reaches another connection that reused the descriptor number.

After a failed write the log is broken (58030): ``answers`` raises, nothing more is
submitted; a chain still in flight then may or may not send its reply (``outcome``).

``UringSync()`` raises OSError where io_uring or the ``liburing`` package is missing, or
the kernel refuses the probe chain (seccomp in containers: ENOSYS, EPERM); the caller
then takes the next syncer.
"""
from __future__ import annotations

import errno
import os
import socket
import tempfile
import threading

__all__ = ["UringSync"]

_ENTRIES = 256                  # ring size: chains in flight are 2 entries each
_SEND_FLAGS = socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL
_GONE = (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF, errno.ESHUTDOWN)


def _liburing():
    try:
        import liburing
    except ImportError as exc:       # not installed, or not Linux
        raise OSError(f"io_uring is not available here: {exc}") from None
    return liburing


def _res(cqe) -> int:
    """A completion's result (the binding raises OSError for a negative one)."""
    try:
        return cqe.res
    except OSError as exc:
        return -(exc.errno or errno.EIO)


class _Chain:
    __slots__ = ("lsn", "end", "data", "seq", "conn", "reply", "fd")

    def __init__(self, lsn, end, data, seq, conn, reply, fd) -> None:
        self.lsn, self.end, self.data, self.seq = lsn, end, data, seq
        self.conn, self.reply, self.fd = conn, reply, fd


class UringSync:
    """Durable frame writes linked to the replies they acknowledge, on one io_uring.
    Driven from the event loop (``request``, ``progress``, ``answers``); ``barrier``
    may come from another thread."""

    writes_mark = False          # the log writes its mark once a completion is seen
    writes_frames = True         # the log hands over its frames (and replies)
    _hint = True                 # (``progress`` is there: the channel uses it)

    def __init__(self, lock_fd: int = -1) -> None:
        lib = self._lib = _liburing()
        if not os.path.isdir("/proc/self/fd"):
            raise OSError("io_uring syncer: no /proc here")
        self._ring = lib.Ring()
        try:
            lib.io_uring_queue_init(_ENTRIES, self._ring)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - the binding's own errors
            raise OSError(f"io_uring_queue_init failed: {exc}") from None
        self._cqe = lib.Cqe()
        self._lock = threading.RLock()
        self._chains: dict[int, _Chain] = {}
        self._next = 1
        self._seg = None             # (log's descriptor, first LSN) of the open segment
        self._wfd = -1               # its O_DSYNC descriptor
        self._fds: dict[int, int] = {}       # O_DSYNC descriptor -> chains using it
        self._base = 0               # offset of the first frame not known durable
        self._pending = bytearray()  # the frames from ``_base`` on
        self._pending_lsn = 0        # the last LSN among them
        self._clients: dict[int, int] = {}   # connection -> our duplicate of its socket
        self._uses: dict[int, int] = {}      # connection -> sends in flight
        self._forgotten: set[int] = set()
        self._durable = 0
        self._sent = 0               # replies resolved without a gap (``progress``)
        self._resolved: dict[int, str] = {}  # reply seq -> "sent" / "failed", above _sent
        self._leftover: dict[int, bytes] = {}
        self._error: OSError | None = None
        self.requested = 0
        self.replies = 0
        self.submits = 0
        try:
            self._probe()
        except BaseException:
            self.close()
            raise

    def _probe(self) -> None:
        """One chain (a durable write of a temporary file linked to a send on a socket
        pair), waited for: OSError unless both completed as they must."""
        lib = self._lib
        a, b = socket.socketpair()
        try:
            with tempfile.TemporaryFile() as f:
                fd = os.open(f"/proc/self/fd/{f.fileno()}",
                             os.O_WRONLY | os.O_DSYNC | os.O_CLOEXEC)
                try:
                    data, msg = b"x" * 16, b"ok"
                    sqe = lib.io_uring_get_sqe(self._ring)
                    lib.io_uring_prep_write(sqe, fd, data, 0)
                    sqe.user_data = 1 << 1
                    lib.io_uring_sqe_set_flags(sqe, lib.IOSQE_IO_LINK)
                    sqe = lib.io_uring_get_sqe(self._ring)
                    lib.io_uring_prep_send(sqe, a.fileno(), msg, _SEND_FLAGS)
                    sqe.user_data = (1 << 1) | 1
                    lib.io_uring_submit(self._ring)
                    got = {}
                    for _ in range(2):
                        lib.io_uring_wait_cqe(self._ring, self._cqe)
                        cqe = self._cqe[0]
                        got[cqe.user_data] = _res(cqe)
                        lib.io_uring_cqe_seen(self._ring, cqe)
                finally:
                    os.close(fd)
            if got != {2: 16, 3: 2} or b.recv(8) != b"ok":
                raise OSError(f"io_uring probe chain failed: {got}")
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - the binding's own errors
            raise OSError(f"io_uring probe failed: {exc}") from None
        finally:
            a.close()
            b.close()

    def fileno(self) -> int:
        """The ring's descriptor: readable while completions wait to be taken."""
        return self._ring.ring_fd

    # ---- submitting (the loop, the log's lock held) -----------------------------------
    def request(self, lsn: int, segment_fd: int, first_lsn: int,
                mark: tuple[int, bytes] | None = None, frames=None, reply=None,
                answer: bool = True) -> int:
        """As ``FsyncHelper.request``: ``frames`` (offset, bytes, preallocated end or 0)
        handed over, everything not known durable written durably, then ``reply``
        (connection, socket descriptor, bytes) sent; its sequence number, 0 if none.
        ``mark`` and ``answer`` are not used (the log marks; completions are always
        seen)."""
        with self._lock:
            if self._error is not None:
                raise OSError(f"the io_uring syncer failed earlier: {self._error}")
            segment = (segment_fd, first_lsn)
            if segment != self._seg:
                self._open(segment_fd, segment)
            if frames is not None:
                at, body, end = frames
                if not self._pending or at != self._base + len(self._pending):
                    if self._pending:    # (never: frames are handed over in order)
                        raise OSError("io_uring syncer: frames handed over out of order")
                    self._base = at
                self._pending += body
                if end:                  # preallocated zeros, before the frames land
                    tail = at + len(body)
                    os.pwrite(segment_fd, bytes(end - tail), tail)
            if lsn > self._pending_lsn and frames is not None:
                self._pending_lsn = lsn
            data = bytes(self._pending) if self._pending else None
            seq = 0
            msg = client = None
            conn = 0
            if reply is not None:
                conn, client_fd, msg = reply
                client = self._clients.get(conn)
                if client is None:
                    client = self._clients[conn] = os.dup(client_fd)
                self.replies += 1
                seq = self.replies
            if data is None and lsn > self._durable and lsn > self._pending_lsn:
                # a frame the log wrote itself (too big to hand over): a plain FSYNC,
                # or, with a reply to send after it, synchronously here (rare: a link
                # to a send does not survive a failed FSYNC, module docstring)
                if msg is None:
                    self._submit(lsn, 0, None, 0, 0, None, None, fsync=True)
                    if lsn > self.requested:
                        self.requested = lsn
                    return 0
                try:
                    os.fdatasync(self._wfd)
                except OSError as exc:
                    self._error = exc
                    raise
                self._durable = lsn
            if data is None and msg is None:
                return 0
            self._submit(lsn if data is None else self._pending_lsn,
                         self._base + len(self._pending), data, seq, conn, msg, client)
            if lsn > self.requested:
                self.requested = lsn
            return seq

    def _open(self, segment_fd: int, segment) -> None:
        new = os.open(f"/proc/self/fd/{segment_fd}", os.O_WRONLY | os.O_DSYNC | os.O_CLOEXEC)
        old = self._wfd
        self._wfd, self._seg = new, segment
        self._fds[new] = 0
        if old >= 0 and not self._fds.get(old):
            self._fds.pop(old, None)
            os.close(old)
        self._pending = bytearray()
        self._base = 0

    def _submit(self, lsn, end, data, seq, conn, msg, client, fsync: bool = False) -> None:
        lib, ring = self._lib, self._ring
        key = self._next
        self._next += 1
        syncs = data is not None or fsync
        chain = _Chain(lsn, end, data, seq, conn, msg, self._wfd if syncs else -1)
        if fsync:
            sqe = lib.io_uring_get_sqe(ring)
            lib.io_uring_prep_fsync(sqe, self._wfd, lib.IORING_FSYNC_DATASYNC)
            sqe.user_data = key << 1
            self._fds[self._wfd] += 1
        elif data is not None:
            sqe = lib.io_uring_get_sqe(ring)
            lib.io_uring_prep_write(sqe, self._wfd, data, self._base)
            sqe.user_data = key << 1
            if msg is not None:
                # on success only the send's completion is posted; on failure only the
                # write's (the send is cancelled without one)
                lib.io_uring_sqe_set_flags(sqe, lib.IOSQE_IO_LINK | lib.IOSQE_CQE_SKIP_SUCCESS)
            self._fds[self._wfd] += 1
        if msg is not None:
            sqe = lib.io_uring_get_sqe(ring)
            lib.io_uring_prep_send(sqe, client, msg, _SEND_FLAGS)
            sqe.user_data = (key << 1) | 1
            self._uses[conn] = self._uses.get(conn, 0) + 1
        self._chains[key] = chain
        try:
            lib.io_uring_submit(ring)
        except OSError as exc:
            self._error = exc
            raise
        self.submits += 1

    # ---- completions (the loop) ---------------------------------------------------------
    def _reap(self) -> None:
        lib, ring, cqe_ptr = self._lib, self._ring, self._cqe
        with self._lock:
            while lib.io_uring_cq_ready(ring):
                lib.io_uring_peek_cqe(ring, cqe_ptr)
                cqe = cqe_ptr[0]
                data, res = cqe.user_data, _res(cqe)
                lib.io_uring_cqe_seen(ring, cqe)
                chain = self._chains.pop(data >> 1, None)
                if chain is not None:
                    self._completed(chain, data & 1, res)

    def _completed(self, chain: _Chain, is_send: int, res: int) -> None:
        if chain.fd >= 0:
            self._release_fd(chain.fd)
        if not is_send:                  # a write's completion: failed, or without reply
            if res < 0 or (chain.data is not None and res != len(chain.data)):
                if self._error is None:
                    self._error = OSError(-res if res < 0 else errno.EIO,
                                          "durable write (fsync) of the write-ahead log "
                                          "failed: "
                                          + (os.strerror(-res) if res < 0 else "short write"))
                if chain.reply is not None:
                    # never sent; if a later chain makes its commit durable after all,
                    # the loop sends it (``leftover``), else it fails with the log
                    self._leftover[chain.seq] = chain.reply
                    self._resolve(chain.seq, "failed")
                    self._release_conn(chain.conn)
                return
            self._durable_to(chain)
            return
        # a send's: its write (if any) succeeded, else the send was cancelled
        if res == -errno.ECANCELED:
            if self._error is None:
                self._error = OSError(errno.EIO, "durable write (fsync) of the "
                                                 "write-ahead log failed")
            self._leftover[chain.seq] = chain.reply
            self._resolve(chain.seq, "failed")
            self._release_conn(chain.conn)
            return
        self._durable_to(chain)
        if res == -errno.EAGAIN:
            self._leftover[chain.seq] = chain.reply
        elif 0 <= res < len(chain.reply):
            self._leftover[chain.seq] = chain.reply[res:]
        elif res < 0 and -res not in _GONE:
            self._leftover[chain.seq] = chain.reply     # the loop tries, and learns why
        self._resolve(chain.seq, "sent")
        self._release_conn(chain.conn)

    def _durable_to(self, chain: _Chain) -> None:
        if chain.fd >= 0 and chain.lsn > self._durable:
            self._durable = chain.lsn
            if chain.fd == self._wfd and chain.end > self._base:
                drop = chain.end - self._base
                del self._pending[:drop]
                self._base = chain.end

    def _resolve(self, seq: int, how: str) -> None:
        if seq <= self._sent:
            return
        self._resolved[seq] = how
        while self._sent + 1 in self._resolved:
            self._sent += 1
            if self._resolved[self._sent] == "sent":     # (failed ones are kept: outcome)
                del self._resolved[self._sent]

    def _release_fd(self, fd: int) -> None:
        left = self._fds.get(fd, 0) - 1
        if left > 0 or fd == self._wfd:
            self._fds[fd] = max(left, 0)
            return
        self._fds.pop(fd, None)
        os.close(fd)

    def _release_conn(self, conn: int) -> None:
        left = self._uses.get(conn, 0) - 1
        if left > 0:
            self._uses[conn] = left
            return
        self._uses.pop(conn, None)
        if conn in self._forgotten:
            self._forgotten.discard(conn)
            fd = self._clients.pop(conn, None)
            if fd is not None:
                os.close(fd)

    def progress(self) -> tuple[int, int] | None:
        """(the durable LSN, replies resolved without a gap) after taking what the ring
        completed: no system call."""
        if self._lib.io_uring_cq_ready(self._ring):
            self._reap()
        return self._durable, self._sent

    def sent(self) -> int | None:
        return self._sent

    def failed(self) -> bool:
        """Whether a durable write failed (``answers`` raises it)."""
        return self._error is not None

    def outcome(self, seq: int) -> str | None:
        """What became of reply ``seq``: "sent", "failed" (its write failed: never
        sent), or None while its chain is in flight."""
        with self._lock:
            if seq > self._sent:
                return self._resolved.get(seq)
            return self._resolved.get(seq, "sent")

    def leftover(self, seq: int) -> bytes:
        """The part of reply ``seq`` the kernel could not send (the loop sends it)."""
        return self._leftover.pop(seq, b"")

    def answered_hint(self) -> int:
        return self._durable

    def answers(self) -> int:
        """(The ring's descriptor is readable.) The durable LSN after taking every
        completion; OSError once a write failed."""
        if self._lib.io_uring_cq_ready(self._ring):
            self._reap()
        if self._error is not None:
            raise self._error
        return self._durable

    # ---- other threads ------------------------------------------------------------------
    def barrier(self) -> int:
        """Every frame handed over is durable on return (written again synchronously
        through the O_DSYNC descriptor): the durable LSN. Replies still in flight are
        not waited for."""
        with self._lock:
            if self._error is not None:
                raise OSError(f"the io_uring syncer failed earlier: {self._error}")
            if self._pending and self._wfd >= 0:
                data, at = bytes(self._pending), self._base
                view, done = memoryview(data), 0
                try:
                    while done < len(data):
                        done += os.pwrite(self._wfd, view[done:], at + done)
                except OSError as exc:
                    self._error = OSError(exc.errno, f"durable write (fsync) of the "
                                                     f"write-ahead log failed: {exc.strerror}")
                    raise self._error from exc
                self._pending = bytearray()
                self._base = at + len(data)
                if self._pending_lsn > self._durable:
                    self._durable = self._pending_lsn
            if self.requested > self._durable and self._wfd >= 0:
                try:                     # a frame the log wrote itself
                    os.fdatasync(self._wfd)
                except OSError as exc:
                    self._error = OSError(exc.errno, f"fsync of the write-ahead log "
                                                     f"failed: {exc.strerror}")
                    raise self._error from exc
                self._durable = self.requested
            return self._durable

    def forget(self, conn: int) -> None:
        """Connection ``conn`` closes: its socket's duplicate is closed once no send of
        it is in flight."""
        with self._lock:
            if conn not in self._clients:
                return
            if self._uses.get(conn):
                self._forgotten.add(conn)
                return
            os.close(self._clients.pop(conn))

    def holds(self, conn: int) -> bool:
        return conn in self._clients

    def close(self, timeout: float = 10) -> None:
        """Wait for every chain in flight, then release the ring and descriptors."""
        lib = self._lib
        with self._lock:
            ring = self._ring
            if ring is None:
                return
            while self._chains:
                try:
                    lib.io_uring_wait_cqe(ring, self._cqe)
                except OSError:
                    break
                self._reap()
            try:
                lib.io_uring_queue_exit(ring)
            except Exception:  # noqa: BLE001 - never set up
                pass
            self._ring = None
            fds = [self._wfd, *self._fds, *self._clients.values()]
            self._wfd = -1
            self._fds.clear()
            self._clients.clear()
            for fd in set(fds):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
