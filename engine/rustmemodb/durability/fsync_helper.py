"""An fsync helper process: the log's fdatasync done in another process, so that the
thread that learns of its completion is an event loop's, never a second Python thread
of the server that needs the GIL back (see ``server/durable.py`` for why that matters).

The parent (``FsyncHelper``, below) and the helper share two ``AF_UNIX`` seqpacket
socket pairs (the requests and a control pair); every message is one packet:

    parent -> helper    a request (``_REQUEST``): an LSN, the offset and bytes of the
                        open segment's durable-LSN mark claiming it (a tail mark, or
                        the header's field: ``wal.py``), then optionally
                        *frames* (their bytes, the offset to write them at, the end up
                        to which the segment is preallocated with zeros) and a *reply*
                        (a connection id and the bytes to send to that client once the
                        LSN is durable); flags say whether it carries the segment's
                        descriptor (the first packet and the first after a rotation)
                        and a client socket's (a connection's first reply), both by
                        SCM_RIGHTS, whether it wants an answer on the socket, or that a
                        connection closed (its descriptor is closed)
    parent -> helper    (control) ``B``: a *barrier*
    helper -> parent    ``<Q>`` the highest LSN received before an fdatasync that
                        returned: every frame up to it is on disk (sent when a request
                        covered asked for it); on the control pair, the barrier's answer
                        ``b"E" + message`` the fdatasync, the mark's or a frame's write
                        failed (the helper then exits)

and, where there is ``memfd_create``, 32 bytes of shared memory (``progress``) where the
helper publishes the LSN it made durable, *before* sending any reply that LSN covers,
and the count of replies sent, *after* sending them; each value is written whole (one
aligned 8-byte store) beside a check copy, so the parent reads only values the helper
wrote. The server's loop reads them before and after every client message while
commits wait (no system call): it publishes the commits up to the durable LSN (a client
the helper answered sees its write in its next statement, as do clients it told), and
a session whose reply went out may write on its socket again (``server/durable.py``).

Why the frames and replies (2026-12-07; ``FsyncHelper(frames=True)``, the server's
``--fsync replies``, not the default): the server is one event-loop thread, and per
durable point UPDATE it did the frame's ``pwrite``, the request's ``send``, the
answer's ``recv`` and the reply's ``send`` to the client (on loopback TCP the sender's
system call also does the receiving side's TCP work). Now it does one ``send``; the
helper writes the frame while holding its reading turn (below: no sync can claim an LSN
whose frame is not written), syncs, publishes, sends the replies in the order
received, and answers on the socket only requests that asked (the loop's own waits:
explicit transactions' commits, replies it could not hand over). A thread of the server
that touches the log itself (a commit waited for on a worker thread, a frame too big to
hand over, a rotation, closing) first sends a barrier: the helper takes every request
queued before it, writes and syncs them, sends their replies and answers on the
control pair; so the file never has a hole before a frame the parent writes, and the
barrier needs nothing of the event loop. Measured against the code before, side by
side with PostgreSQL 15 (pgbench ``-M prepared``, 4 clients): the loop's CPU per
durable point UPDATE 165-174 -> 143-151 µs and update-only tps +23-110 %; the 80/20 mix
54.3 -> 50.8 µs per transaction, tps +12 %; the psycopg load-test mix lost in two runs
of three (-11 %), so the hand-over is opt-in. The helper's own CPU per update rises
~15 µs (on another core).

The helper inherits the database's lock file (``durability/open.py``'s ``flock`` is
on its open file description): a server killed with requests the helper has not
synced leaves the directory locked until the helper, seeing the end of its socket, has
written, synced and answered (replies included) everything it received and exited; no
new server can open the database while an orphaned helper still writes into its log.

The helper's syncing threads (``SYNCS_IN_FLIGHT``, three) take turns reading the
socket; the one that reads takes every packet already queued and, unless a sync started
since covers the highest LSN, syncs it itself (no hand-off to another thread to wake):
it fdatasyncs the newest segment it was given, writes the mark of that LSN (``wal.py``:
"last LSN known durable", written after each fsync), answers, and waits for more: a
group commit across all
clients. A request received while a sync runs can start the next sync on another
thread (below: once the running one is slow), instead of waiting for it to end (a commit then waits about one
sync, not one and a half on average; the kernel runs the second fdatasync's write-back
and flush beside the first). Measured on this 2-core VM, fdatasync after a 100-byte
write into a preallocated file, back to back from one thread: 1.3-3.8 ms each when the
machine is otherwise idle (an idle virtual CPU wakes slowly for the completion) against
~0.1 ms while a CPU is busy; two or four threads doing the same: 0.3-0.4 ms mean each,
10-20 times the syncs per second. Each thread syncs through an open file description of
its own (the segment reopened through ``/proc/self/fd``): the kernel reports a
write-back error once per description, so with one shared description a second
thread could return success after the first was told that pages were dropped; with
its own, every thread's fdatasync reports any error since the segment was received
(where the segment cannot be reopened so, the threads share one description and take
turns: one sync at a time, as before).

A second sync starts beside a running one only once that one has run
``OVERLAP_AFTER`` (1 ms); until then the thread that received the request waits for
it to end, and then one sync covers every commit received meanwhile (PostgreSQL's WAL
flush groups commits so). Starting at once synced about once per commit where fsyncs
are fast: measured 2026-12-07 on a quiet VM (fdatasync ~140 µs; pgbench point UPDATEs,
4 clients, -M prepared, side by side with the code before and PostgreSQL 15 in
alternating rounds; three runs), 0.92-0.95 -> 0.71-0.75 fdatasyncs per commit, tps
+6 to +20 % (0.58-0.62x -> 0.65-0.70x PostgreSQL), server CPU per update the same
within noise; 0.3 ms was no better than starting at once, no overlap at all no better
than 1 ms, and the 80/20 mix (one update in five, so few commits meet) moved within
noise. A slow sync (a busy disk: 1-4 ms) still lets the next start after 1 ms.

After a failed sync nothing more is answered (not even another thread's success: the
failure may have dropped pages that sync relied on); the helper sends the error and
stops. An answer claims only the LSN its own sync started after; a sync ending after a
higher LSN was answered neither answers nor lowers the mark. Only the newest segment
is synced: a rotation (``Log.rotate``) makes every frame of the old segment durable
itself before the new segment exists, hence before its descriptor can be sent.

When the helper writes the frames (``frames=True``), it writes the mark too, after
the fdatasync and before the answer (so it is in the page cache before any commit it
covers is acknowledged), on its own CPU time. The parent computes the mark's bytes (this
script imports no checksum module); the helper only writes the ones of the highest LSN
it synced. A *tail mark* goes right after that LSN's frame, where the next frame goes:
the helper writes it only if it has written no frame since (a later frame vouches for
the synced one by following it), and never while it writes frames (``writing``). When
the loop writes the frames (the default), the helper cannot know whether a frame was
written after the one it synced, so it writes no mark: the log does, on the loop, once
the answer is read (``Log.helper_answered``). A sync of the old segment still running when a rotation's descriptor arrives
writes no mark (the rotation marked the old segment; only the newest segment's mark is
read at recovery, ``recover.py``). The helper exits when the parent closes its end or
dies (end of file), after syncing what it received, so it never outlives the server
for long; it ignores SIGINT (a Ctrl-C in the server's terminal stops
the server, which then closes it).

It is run as a script (``python -I -S <this file> <fd> <syncs> <memfd> <control fd>``),
not with ``-m``: importing the ``rustmemodb`` package would cost it half a second and
~280 modules it never uses.
Only the standard library is imported.
"""
from __future__ import annotations

import mmap
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

try:
    import fcntl
except ImportError:            # not on Windows: ``available`` says no
    fcntl = None

__all__ = ["FsyncHelper", "available"]

_LSN = struct.Struct("<Q")
# lsn, mark offset, mark bytes, write offset, preallocated end, connection, reply length,
# flags; then the frames' bytes, then the reply's
_REQUEST = struct.Struct("<QQ24sQQIIB")
_SEGMENT, _CLIENT, _ANSWER, _FORGET, _TAIL = 1, 2, 4, 8, 16      # request flags
# durable LSN, replies being sent, replies sent: each next to itself ^ _CHECK
_HINT = struct.Struct("<QQQQQQ")
_HALF = struct.Struct("<QQ")
_CHECK = 0x5A5AC3C30F0F9696
_MAX_FDS = 4
SYNCS_IN_FLIGHT = 3         # fdatasyncs the helper runs at once (module docstring)
OVERLAP_AFTER = 0.001       # a sync running this long (s) lets the next start beside it
MAX_FRAMES = 32 << 10       # frame bytes one request may carry (more: the log writes them)
MAX_REPLY = 16 << 10        # reply bytes one request may carry (more: the loop sends it)
_PACKET = _REQUEST.size + MAX_FRAMES + MAX_REPLY
_REPLY_WAIT_MS = 5000       # how long a client that does not read may hold a reply


def available() -> bool:
    """Whether this platform has what the helper needs (seqpacket Unix sockets,
    descriptor passing, fdatasync)."""
    return (hasattr(socket, "AF_UNIX") and hasattr(socket, "SOCK_SEQPACKET")
            and hasattr(socket, "send_fds") and hasattr(os, "fdatasync")
            and hasattr(socket, "MSG_DONTWAIT") and fcntl is not None
            and hasattr(select, "poll"))


class FsyncHelper:
    """The parent's side: one helper process and its two sockets. Not thread-safe: the
    log calls ``request`` under its lock, the event loop reads the answers, ``barrier``
    is called under the log's lock."""

    writes_mark = False          # the log passes each request's mark (with its frames)
    writes_frames = False        # the log passes its frames (and replies) with requests
    _hint = None                 # the shared memory of ``progress``, when there is one

    def __init__(self, syncs: int = SYNCS_IN_FLIGHT, lock_fd: int = -1,
                 frames: bool = False) -> None:
        # ``frames``: the log hands over its frames, and the server durable point
        # writes' replies (``--fsync replies``; off by default: module docstring)
        self.writes_frames = frames
        # Only a helper that writes the frames writes the marks: a tail mark goes where
        # the next frame will, and only the frames' writer knows whether one has been.
        self.writes_mark = frames
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        control, child_control = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # ``progress``: 32 bytes of shared memory where the helper puts the LSN it made
        # durable and how many replies it sent; none where there is no memfd.
        shm_fd, self._hint = -1, None
        if hasattr(os, "memfd_create"):
            try:
                shm_fd = os.memfd_create("rustmemodb-fsync-hint", os.MFD_CLOEXEC)
                os.ftruncate(shm_fd, _HINT.size)
                self._hint = mmap.mmap(shm_fd, _HINT.size)
            except OSError:
                if shm_fd >= 0:
                    os.close(shm_fd)
                shm_fd, self._hint = -1, None
        # The database's lock file (open.py's flock), held by the helper too: a server
        # killed with requests unwritten leaves the directory locked until its helper
        # has written and synced them and exited, so no new server opens it meanwhile.
        keep = (lock_fd,) if lock_fd >= 0 else ()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), str(child.fileno()),
                 str(max(1, syncs)), str(shm_fd), str(child_control.fileno())],
                pass_fds=(child.fileno(), child_control.fileno()) + keep
                + ((shm_fd,) if shm_fd >= 0 else ()),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except BaseException:
            parent.close()
            control.close()
            if self._hint is not None:
                self._hint.close()
            raise
        finally:
            child.close()
            child_control.close()
            if shm_fd >= 0:
                os.close(shm_fd)
        self.sock = parent
        self.control = control
        self.requested = 0           # the highest LSN asked for
        self.replies = 0             # replies handed to the helper (their sequence)
        self._segment = None         # (descriptor, first LSN) of the segment last sent
        self._clients: set[int] = set()     # connections whose socket the helper holds
        self._barriers = threading.Lock()

    def fileno(self) -> int:
        return self.sock.fileno()

    def request(self, lsn: int, segment_fd: int, first_lsn: int,
                mark: tuple[int, bytes] | None = None, frames=None, reply=None,
                answer: bool = True) -> int:
        """Ask for everything up to ``lsn`` in the segment starting at ``first_lsn``,
        open as ``segment_fd`` (the log's open one, still open: the caller holds the
        log's lock), to be synced; then, if this is the highest LSN of the sync, for
        ``mark`` (offset, bytes claiming ``lsn``) to be written: the header's 16-byte
        mark field, or a 24-byte tail mark (``wal.tail_mark``), written only if no frame
        was handed over since (the next one is written where it would go).

        ``frames`` (offset, bytes, preallocated end or 0): frames the helper writes at
        that offset (and zeros after them up to the end), before any sync claims them.
        ``reply`` (connection id, its socket's descriptor, bytes): sent by the helper to
        that socket once ``lsn`` is durable; the descriptor goes along the first time
        only. ``answer``: whether the helper answers on the socket too (else only in
        ``progress``). Returns the reply's sequence number (``progress``), 0 if none.
        Raises OSError if the helper is gone."""
        segment = (segment_fd, first_lsn)     # a descriptor number is reused later
        offset, data = mark if mark is not None else (0, b"")
        flags = _ANSWER if answer else 0
        if len(data) > 16:
            flags |= _TAIL
        fds = []
        if segment != self._segment:
            flags |= _SEGMENT
            fds.append(segment_fd)
        at = end = 0
        body = b""
        if frames is not None:
            at, body, end = frames
        conn, text = 0, b""
        if reply is not None:
            conn, client_fd, text = reply
            if conn not in self._clients:
                flags |= _CLIENT
                fds.append(client_fd)
        packet = b"".join((_REQUEST.pack(lsn, offset, data, at, end, conn, len(text), flags),
                           body, text))
        try:
            if fds:
                socket.send_fds(self.sock, [packet], fds)
                self._segment = segment
                if reply is not None:
                    self._clients.add(conn)
            else:
                self.sock.send(packet)
        except ConnectionError:
            raise self._gone() from None
        if lsn > self.requested:
            self.requested = lsn
        if reply is None:
            return 0
        self.replies += 1
        return self.replies

    def forget(self, conn: int) -> None:
        """The connection ``conn`` is closing: the helper closes its descriptor (after
        every reply handed over for it went out)."""
        if conn in self._clients:
            self._clients.discard(conn)
            try:
                self.sock.send(_REQUEST.pack(0, 0, b"", 0, 0, conn, 0, _FORGET))
            except OSError:
                pass

    def holds(self, conn: int) -> bool:
        return conn in self._clients

    def barrier(self) -> int:
        """Wait until everything requested so far is written and synced (and every
        reply handed over for it sent): the durable LSN. Called by a thread that is
        about to touch the log itself (``Log``: a commit waited for in a thread, a big
        frame, a rotation, closing); blocks, but needs nothing of the event loop.
        Raises OSError if the helper failed or is gone."""
        with self._barriers:         # one at a time: the helper answers each in turn
            try:
                self.control.send(b"B")
                data = self.control.recv(512)
            except ConnectionError:
                raise self._gone() from None
        if len(data) == _LSN.size:
            return _LSN.unpack(data)[0]
        if data[:1] == b"E":
            raise OSError(f"the fsync helper process: {data[1:].decode('utf-8', 'replace')}")
        raise self._gone()

    def progress(self) -> tuple[int, int] | None:
        """(the durable LSN, the replies the helper sends or sent) it last published in
        shared memory, read without a system call; None if there is none or it was
        caught mid-update. The helper publishes the LSN before it sends any reply it
        covers and the count right before each reply's ``write``, each 8-byte value
        written whole (aligned) next to a check copy, so a value read here is one the
        helper wrote."""
        hint = self._hint
        if hint is None:
            return None
        durable, check, sending, check2, _, _ = _HINT.unpack(hint[:48])
        if durable ^ _CHECK != check or sending ^ _CHECK != check2:
            return None
        return durable, sending

    def sent(self) -> int | None:
        """The count of replies whose ``write`` returned (published after it), None if
        unknown: after the helper died, a reply counted by ``progress`` but not here may
        or may not have reached its client."""
        hint = self._hint
        if hint is None:
            return None
        _, _, _, _, sent, check = _HINT.unpack(hint[:48])
        return sent if sent ^ _CHECK == check else None

    def answered_hint(self) -> int:
        """The durable LSN in shared memory (``progress``), 0 if unknown: when above what
        the log knows, an answer is there to take."""
        got = self.progress()
        return 0 if got is None else got[0]

    def answers(self) -> int:
        """The highest durable LSN answered since the last call (0: none yet). Raises
        OSError when the helper failed or is gone: nothing more will be synced.

        Reads until the socket is empty, except that it stops after an answer at or
        above the hint (the helper puts each answer there before sending it): the usual
        single answer then costs one ``recv``, not a second one failing with EAGAIN and
        its exception. A packet sent meanwhile keeps the socket readable, so the event
        loop calls again."""
        best = 0
        recv = self.sock.recv
        while True:
            try:
                data = recv(512, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return best
            except ConnectionError:  # it died with requests unread
                raise self._gone() from None
            if len(data) == _LSN.size:
                best = max(best, _LSN.unpack(data)[0])
                if best >= self.answered_hint():
                    return best
            elif data[:1] == b"E":
                raise OSError(f"the fsync helper process: "
                              f"{data[1:].decode('utf-8', 'replace')}")
            else:                    # end of file: the helper died
                raise self._gone()

    def _gone(self) -> OSError:
        try:
            code = self.process.wait(0.1)
        except subprocess.TimeoutExpired:
            code = None
        return OSError(f"the fsync helper process exited"
                       f"{'' if code is None else f' with status {code}'}: "
                       f"commits logged since its last answer are not known to be durable")

    def close(self, timeout: float = 10) -> None:
        """Close the sockets (the helper writes and syncs what it received, then exits at
        end of file) and reap the process."""
        try:
            if self._hint is not None:
                self._hint.close()
                self._hint = None
            self.sock.close()
            self.control.close()
        finally:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _recv(sock: socket.socket, flags: int = 0) -> tuple[bytes, list[int]]:
    """One packet and the descriptors it carries (``socket.recv_fds`` ignores its
    ``flags`` before Python 3.12)."""
    data, ancdata, _, _ = sock.recvmsg(_PACKET, socket.CMSG_SPACE(_MAX_FDS * 4), flags)
    fds: list[int] = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds += struct.unpack(f"{usable // 4}i", payload[:usable])
    return data, fds


class _Syncs:
    """The helper's state, shared by its syncing threads (``_serve``); every field is
    read and written under ``cond``, the sockets are read under ``receiving``."""

    def __init__(self, sock: socket.socket, workers: int, hint=None,
                 control: socket.socket | None = None,
                 overlap_after: float = OVERLAP_AFTER) -> None:
        self.sock = sock
        self.control = control
        self.hint = hint             # shared memory: durable LSN and replies sent
        self.cond = threading.Lock()
        self.synced = threading.Condition(self.cond)   # a sync ended
        self.overlap_after = overlap_after
        self.running = 0             # fdatasyncs in flight
        self.started = 0.0           # when the newest of them started (monotonic)
        self.receiving = threading.Lock()   # one thread reads the sockets at a time
        self.turns = threading.Lock()       # around a sync when ``shared``
        self.workers = workers
        self.wanted = 0              # the highest LSN received (its frames written)
        self.mark = None             # (offset, bytes, tail?) claiming ``wanted``, or None
        self.writing = False         # frames being written (no tail mark meanwhile)
        self.claimed = 0             # the highest LSN a started fdatasync covers
        self.answered = 0            # the highest LSN synced (and its mark written)
        self.asked = 0               # the highest LSN a request wants answered
        self.told = 0                # the highest LSN answered on the socket
        self.barrier = 0             # the LSN a barrier waits for (0: none)
        self.gen = 0                 # bumped per segment received
        self.files: list[int] = []   # this segment's descriptions, one per thread
        self.shared = False          # one description for all: one sync at a time
        self.clients: dict[int, int] = {}   # connection id -> its socket's descriptor
        self.replies: list = []      # (lsn, connection, bytes) waiting, in order received
        self.received = 0            # replies received (the last one's sequence)
        self.sent = 0                # replies sent (a prefix of those received)
        self.failed = False
        self.ended = False
        self.parent_gone = False
        self.poll = None
        if control is not None:
            self.poll = select.poll()
            self.poll.register(sock, select.POLLIN)
            self.poll.register(control, select.POLLIN)


def _descriptions(fd: int, n: int) -> tuple[list[int], bool]:
    """``n`` open file descriptions of the file open as ``fd``, opened anew (Linux's
    ``/proc/self/fd``) with its access mode, so that every syncing thread's fdatasync
    reports every write-back error that happened since (the kernel reports an error
    once per open file description: two threads sharing one, the second to return
    could say success after pages the first was told about were dropped). Without
    ``/proc`` the one description is shared and the syncs take turns (``shared``)."""
    mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    files: list[int] = []
    try:
        for _ in range(n):
            files.append(os.open(f"/proc/self/fd/{fd}", mode | os.O_CLOEXEC))
    except OSError:
        for f in files:
            os.close(f)
        return [os.dup(fd)] * n, True
    if not os.path.samestat(os.fstat(files[0]), os.fstat(fd)):
        for f in files:
            os.close(f)
        return [os.dup(fd)] * n, True
    return files, False


def _serve(sock: socket.socket, workers: int = 1, hint=None,
           control: socket.socket | None = None,
           overlap_after: float = OVERLAP_AFTER) -> None:
    """Serve requests with ``workers`` syncing threads until the parent closes its end
    (or a sync failed); a sync starts beside a running one only once that one has run
    ``overlap_after`` seconds (``_await_running``)."""
    state = _Syncs(sock, workers, hint, control, overlap_after)
    threads = [threading.Thread(target=_syncing, args=(state, i), daemon=True)
               for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for fd in state.clients.values():
        os.close(fd)


def _write_all(fd: int, data, at: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, at)
        view, at = view[n:], at + n


def _receive(state: _Syncs) -> bool:
    """(Holding ``state.receiving``.) Wait for requests (or a barrier), take every one
    queued, write their frames, and record the highest LSN; False once the parent
    closed its end or the helper failed.

    One thread at a time reads, and it writes every frame it took before any sync can
    claim their LSNs (``wanted`` is raised only after): a sync never claims an LSN whose
    frame is not written yet. A barrier (the control socket) is read before the
    requests queued with it, so every request sent before it is taken here."""
    recv_fds, dontwait, unpack_from = _recv, socket.MSG_DONTWAIT, _REQUEST.unpack_from
    barrier = False
    if state.poll is not None:
        while True:
            events = state.poll.poll()
            if any(fd == state.control.fileno() for fd, _ in events):
                try:
                    if not state.control.recv(16, dontwait):
                        return False     # the parent closed its end or died
                    barrier = True
                    break
                except BlockingIOError:
                    pass
                continue
            if events:
                break
        try:
            data, fds = recv_fds(state.sock, dontwait)
        except BlockingIOError:
            data, fds = None, []
    else:
        data, fds = recv_fds(state.sock)
    top, mark, files, shared = 0, None, None, False
    replies: list = []
    end = False
    while data is not None:
        if not data:
            end = True                   # the parent closed its end or died
            break
        (lsn, offset, mark_data, at, grown, conn, reply_len,
         flags) = unpack_from(data)
        mark_data = mark_data if flags & _TAIL else mark_data[:16]
        fds = list(fds)
        if flags & _SEGMENT:             # a new segment: the older ones are durable
            new = fds.pop(0)
            if files is not None and not shared:
                for f in files:
                    os.close(f)
            files, shared = _descriptions(new, state.workers)
            os.close(new)
        if flags & _CLIENT:
            client = fds.pop(0)
            with state.cond:
                old = state.clients.get(conn)
                state.clients[conn] = client
            if old is not None:
                os.close(old)
        for extra in fds:
            os.close(extra)
        if flags & _FORGET:
            with state.cond:
                client = state.clients.pop(conn, None)
            if client is not None:
                os.close(client)
        else:
            size = len(data) - _REQUEST.size - reply_len
            if size:
                if not state.writing:    # a tail mark must not be written over these
                    with state.cond:
                        state.writing = True
                fd = (files or state.files)[0]
                if grown > at + size:    # the segment's preallocated zeros, first (wal.py)
                    _write_all(fd, bytes(grown - at - size), at + size)
                _write_all(fd, memoryview(data)[_REQUEST.size:_REQUEST.size + size], at)
            if lsn > top:
                top = lsn
                mark = (offset, mark_data, bool(flags & _TAIL)) if offset else None
            if reply_len:
                replies.append((lsn, conn, bytes(data[len(data) - reply_len:])))
            if flags & _ANSWER and lsn > state.asked:
                state.asked = lsn
        try:                             # and every request queued meanwhile
            data, fds = recv_fds(state.sock, dontwait)
        except BlockingIOError:
            break
    with state.cond:
        state.writing = False
        if state.failed:
            return False
        if files is not None:
            state.gen += 1
            state.files, state.shared = files, shared
        if top > state.wanted and state.files:
            state.wanted, state.mark = top, mark
        if replies:
            state.received += len(replies)
            state.replies += replies
            if state.answered:
                _send_replies(state)     # those already durable (a pending commit's)
        if barrier:
            if state.wanted <= state.answered:
                state.control.send(_LSN.pack(state.answered))
            else:
                state.barrier = state.wanted
    return not end


def _send_replies(state: _Syncs) -> None:
    """(Under ``cond``.) Send, in the order received, the replies whose LSN is durable,
    then publish how many went out (``FsyncHelper.progress``)."""
    replies, answered, clients, hint = state.replies, state.answered, state.clients, \
        state.hint
    n = 0
    for lsn, conn, data in replies:
        if lsn > answered:
            break
        n += 1
        if hint is not None:
            # Counted right before the write: the client, woken by it, often runs first
            # and sends its next message, which the loop must not hold (measured: a read
            # after each update waited for the helper to run again, ~2-3x slower mixes
            # when the count came after the write).
            count = state.sent + n
            hint[16:32] = _HALF.pack(count, count ^ _CHECK)
        client = clients.get(conn)
        if client is not None:
            _send_reply(client, data)
    if n:
        del replies[:n]
        state.sent += n
        if hint is not None:
            hint[32:48] = _HALF.pack(state.sent, state.sent ^ _CHECK)


def _send_reply(fd: int, data: bytes) -> None:
    """Write a reply to a client's socket (non-blocking: it is the server's), waiting a
    bounded time for room; a client that is gone or never reads is cut off."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
            if not poller.poll(_REPLY_WAIT_MS):
                try:
                    socket.socket(fileno=os.dup(fd)).shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
        except OSError:              # the client is gone
            return


def _syncing(state: _Syncs, index: int) -> None:
    try:
        _sync_requests(state, index)
    except (BrokenPipeError, ConnectionResetError):
        with state.cond:             # the parent is gone: the others stop too
            state.ended = True


def _sync_requests(state: _Syncs, index: int) -> None:
    """One syncing thread: read requests (taking turns with the others), fdatasync what
    was received and is not covered by a sync started since, write the mark (only ever
    a higher one), publish, send the replies it covers, answer. While one thread's
    fdatasync runs, another reads the sockets and can start the next: a commit written
    meanwhile need not wait for the running sync to end before its own starts. The
    thread that read a request syncs it itself (no hand-off to wake another thread on
    the way). At end of file (the parent closed its end or died) what was received is
    still synced and its replies sent before the thread stops."""
    cond, sock = state.cond, state.sock
    gen, fd = -1, -1
    last = False
    while not last:
        with state.receiving:
            if state.ended:
                return
            try:
                more = _receive(state)
            except OSError as exc:       # a frame's write failed, or the socket was
                if not state.failed:     # shut down after a failure
                    _failed(state, f"writing the log failed: {exc}")
                return
            if not more:
                state.ended = last = True
        with cond:
            if state.running and state.wanted > state.claimed and not state.failed:
                _await_running(state)
            if state.wanted <= state.claimed or state.failed:
                continue                 # a sync started since covers it
            target, mark = state.wanted, state.mark
            state.claimed = target
            state.running += 1
            state.started = time.monotonic()
            if gen != state.gen:
                if fd >= 0 and not state.shared:
                    os.close(fd)
                gen, fd = state.gen, state.files[index]
            shared = state.shared
        try:
            if shared:
                with state.turns:
                    os.fdatasync(fd)
            else:
                os.fdatasync(fd)
            error = None
        except OSError as exc:
            error = f"fdatasync failed: {exc}"
        with cond:
            state.running -= 1
            state.synced.notify_all()
            if state.failed:
                return
            if error is None and target > state.answered:
                # Only now may the mark claim ``target``; a tail mark only while nothing
                # was written after ``target``'s frame (else that frame is where the mark
                # would go, and it vouches for ``target`` by following it).
                if mark is not None and gen == state.gen and not (
                        mark[2] and (state.wanted != target or state.writing)):
                    try:
                        os.pwrite(fd, mark[1], mark[0])
                    except OSError as exc:
                        error = f"writing the durable-LSN mark failed: {exc}"
                if error is None:
                    state.answered = target
                    if state.hint is not None:   # published before any reply it covers
                        state.hint[0:16] = _HALF.pack(target, target ^ _CHECK)
                    if state.replies:
                        _send_replies(state)
                    if state.barrier and target >= state.barrier:
                        state.barrier = 0
                        _tell(state, state.control, _LSN.pack(target))
                    if state.asked > state.told:
                        state.told = target
                        _tell(state, sock, _LSN.pack(target))
        if error is not None:
            _failed(state, error)
            return


def _await_running(state: _Syncs) -> None:
    """(Under ``state.cond``, with a sync running and an LSN received that it does
    not cover.) Wait for the running sync to end, up to ``overlap_after`` from its
    start: the next sync then covers every commit received meanwhile (group commit,
    as PostgreSQL's WAL flush does), where starting one per arrival would sync about
    once per commit. A sync running longer than that (a busy disk) lets the next one
    start beside it, so that a commit does not wait for a slow sync it is not in."""
    deadline = state.started + state.overlap_after
    while state.running and state.wanted > state.claimed and not state.failed:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        state.synced.wait(left)


def _tell(state: _Syncs, sock: socket.socket | None, data: bytes) -> None:
    """Answer the parent (nothing if it is gone: what is synced stays synced)."""
    if sock is None or state.parent_gone:
        return
    try:
        sock.send(data)
    except OSError:
        state.parent_gone = True


def _failed(state: _Syncs, error: str) -> None:
    """Nothing is answered after a failure (another thread's later success included):
    the parent breaks the log, and the helper is done."""
    with state.cond:
        if state.failed:
            return
        state.failed = True
        message = b"E" + error.encode()[:400]
        _tell(state, state.sock, message)
        _tell(state, state.control, message)
        for s in (state.sock, state.control):
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)   # a thread waiting to read stops
                except OSError:
                    pass


def main(argv: list[str]) -> int:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # this process's own, not a host's
    sock = socket.socket(fileno=int(argv[0]))
    control = None
    try:
        hint = None
        if len(argv) > 2 and int(argv[2]) >= 0:
            hint = mmap.mmap(int(argv[2]), _HINT.size)
            hint[0:_HINT.size] = _HINT.pack(0, _CHECK, 0, _CHECK, 0, _CHECK)
        if len(argv) > 3:
            control = socket.socket(fileno=int(argv[3]))
        _serve(sock, int(argv[1]) if len(argv) > 1 else 1, hint, control)
    except (BrokenPipeError, ConnectionResetError):
        pass                                  # the parent is gone
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
