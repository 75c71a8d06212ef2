"""An fsync helper process: the log's fdatasync done in another process, so that the
thread that learns of its completion is an event loop's, never a second Python thread
of the server that needs the GIL back (see ``server/durable.py`` for why that matters).

The parent (``FsyncHelper``, below) and the helper share one ``AF_UNIX`` seqpacket
socket pair; every message is one packet:

    parent -> helper    ``<QQ>`` an LSN whose frame the parent has written (``pwrite``)
                        into the log's open segment, and the offset of that segment's
                        durable-LSN mark, then the 16 bytes of the mark claiming that
                        LSN; the first packet and the first one after a rotation carry
                        that segment's descriptor (SCM_RIGHTS)
    helper -> parent    ``<Q`` the highest LSN received before an fdatasync that
                        returned: every frame up to it is on disk (answers go up)
                        ``b"E" + message`` the fdatasync or the mark's write failed (the
                        helper then exits)

and, where there is ``memfd_create``, 8 bytes of shared memory in which the helper puts
each answer's LSN right after sending it: the server's loop reads them after every
message it answers while commits wait (no system call) and takes the answer then,
instead of after the rest of its turn (``server/durable.py``, ``_Channel.probe``). They
are only a hint to read the socket; the answer read from the socket is what counts.

The helper's syncing threads (``SYNCS_IN_FLIGHT``, three) take turns reading the
socket; the one that reads takes every packet already queued and, unless a sync started
since covers the highest LSN, syncs it itself (no hand-off to another thread to wake):
it fdatasyncs the newest segment it was given, writes the mark of that LSN (``wal.py``: the header's "last LSN known durable",
rewritten after each fsync), answers, and waits for more: a group commit across all
clients. A request received while a sync runs starts the next sync at once on another
thread, instead of waiting for the running one to end (a commit then waits about one
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
After a failed sync nothing more is answered (not even another thread's success: the
failure may have dropped pages that sync relied on); the helper sends the error and
stops. An answer claims only the LSN its own sync started after; a sync ending after a
higher LSN was answered neither answers nor lowers the mark. Only the newest segment
is synced: a rotation (``Log.rotate``) makes every frame of the old segment durable
itself before the new segment exists, hence before its descriptor can be sent.

The mark is written here, after the fdatasync and before the answer, exactly where the
event loop wrote it before (so it is in the page cache before any commit it covers is
acknowledged) but on the helper's CPU time, not the loop's: one ``pwrite`` per round
less on the loop that serves every client. The parent computes the mark's bytes (this
script imports no checksum module); the helper only writes the ones of the highest LSN
it synced. A sync of the old segment still running when a rotation's descriptor arrives
writes no mark (the rotation marked the old segment; only the newest segment's mark is
read at recovery, ``recover.py``). The helper exits when the parent closes its end or
dies (end of file), so it
never outlives the server; it ignores SIGINT (a Ctrl-C in the server's terminal stops
the server, which then closes it).

It is run as a script (``python -I -S <this file> <fd> <syncs> <memfd>``), not with ``-m``: importing
the ``rustmemodb`` package would cost it half a second and ~280 modules it never uses.
Only the standard library is imported.
"""
from __future__ import annotations

import mmap
import os
import socket
import struct
import subprocess
import sys
import threading

try:
    import fcntl
except ImportError:            # not on Windows: ``available`` says no
    fcntl = None

__all__ = ["FsyncHelper", "available"]

_LSN = struct.Struct("<Q")
_REQUEST = struct.Struct("<QQ16s")      # lsn, mark offset, mark bytes
_MAX_FDS = 4
SYNCS_IN_FLIGHT = 3         # fdatasyncs the helper runs at once (module docstring)


def available() -> bool:
    """Whether this platform has what the helper needs (seqpacket Unix sockets,
    descriptor passing, fdatasync)."""
    return (hasattr(socket, "AF_UNIX") and hasattr(socket, "SOCK_SEQPACKET")
            and hasattr(socket, "send_fds") and hasattr(os, "fdatasync")
            and hasattr(socket, "MSG_DONTWAIT") and fcntl is not None)


class FsyncHelper:
    """The parent's side: one helper process and its socket. Not thread-safe: the log
    calls ``request`` under its lock, the event loop reads the answers."""

    writes_mark = True           # the log passes each request's mark (module docstring)
    _hint = None                 # the shared memory of ``answered_hint``, when there is one

    def __init__(self, syncs: int = SYNCS_IN_FLIGHT) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # The hint (``answered_hint``): 8 bytes of shared memory where the helper puts
        # each answer's LSN after sending it; none where there is no memfd.
        shm_fd, self._hint = -1, None
        if hasattr(os, "memfd_create"):
            try:
                shm_fd = os.memfd_create("rustmemodb-fsync-hint", os.MFD_CLOEXEC)
                os.ftruncate(shm_fd, _LSN.size)
                self._hint = mmap.mmap(shm_fd, _LSN.size)
            except OSError:
                if shm_fd >= 0:
                    os.close(shm_fd)
                shm_fd, self._hint = -1, None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), str(child.fileno()),
                 str(max(1, syncs)), str(shm_fd)],
                pass_fds=(child.fileno(),) + ((shm_fd,) if shm_fd >= 0 else ()),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except BaseException:
            parent.close()
            if self._hint is not None:
                self._hint.close()
            raise
        finally:
            child.close()
            if shm_fd >= 0:
                os.close(shm_fd)
        self.sock = parent
        self.requested = 0           # the highest LSN asked for
        self._segment = None         # (descriptor, first LSN) of the segment last sent

    def fileno(self) -> int:
        return self.sock.fileno()

    def request(self, lsn: int, segment_fd: int, first_lsn: int,
                mark: tuple[int, bytes] | None = None) -> None:
        """Ask for everything written up to ``lsn`` in the segment starting at
        ``first_lsn``, open as ``segment_fd`` (the log's open one, still open: the caller
        holds the log's lock), to be synced; then, if this is the highest LSN of the
        sync, for ``mark`` (offset, 16 bytes: the segment's mark claiming ``lsn``) to
        be written. Raises OSError if the helper is gone."""
        segment = (segment_fd, first_lsn)     # a descriptor number is reused later
        offset, data = mark if mark is not None else (0, b"")
        packet = _REQUEST.pack(lsn, offset, data)
        try:
            if segment != self._segment:
                socket.send_fds(self.sock, [packet], [segment_fd])
                self._segment = segment
            else:
                self.sock.send(packet)
        except ConnectionError:
            raise self._gone() from None
        if lsn > self.requested:
            self.requested = lsn

    def answered_hint(self) -> int:
        """The last LSN the helper answered, read from shared memory without a system
        call (0 if there is none): when it is above what the log knows, an answer waits
        on the socket (it is sent first). Only a hint: the answer itself, read by
        ``answers``, is what makes anything durable (a read racing the helper's write
        may see a mixed value, which costs one ``answers`` that finds nothing)."""
        hint = self._hint
        return 0 if hint is None else _LSN.unpack_from(hint)[0]

    def answers(self) -> int:
        """The highest durable LSN answered since the last call (0: none yet). Raises
        OSError when the helper failed or is gone: nothing more will be synced.

        Reads until the socket is empty, except that it stops after an answer at or
        above the hint (the helper puts each answer there after sending it, so none
        newer was sent before the hint was read): the usual single answer then costs
        one ``recv``, not a second one failing with EAGAIN and its exception. A packet
        sent meanwhile (a newer answer, or an error) keeps the socket readable, so the
        event loop calls again."""
        best = 0
        recv = self.sock.recv
        hint = self._hint
        while True:
            try:
                data = recv(512, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return best
            except ConnectionError:  # it died with requests unread
                raise self._gone() from None
            if len(data) == _LSN.size:
                best = max(best, _LSN.unpack(data)[0])
                if hint is not None and best >= _LSN.unpack_from(hint)[0]:
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
        """Close the socket (the helper exits at end of file) and reap the process."""
        try:
            if self._hint is not None:
                self._hint.close()
                self._hint = None
            self.sock.close()
        finally:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _recv(sock: socket.socket, flags: int = 0) -> tuple[bytes, list[int]]:
    """One packet and the descriptors it carries (``socket.recv_fds`` ignores its
    ``flags`` before Python 3.12)."""
    data, ancdata, _, _ = sock.recvmsg(64, socket.CMSG_SPACE(_MAX_FDS * 4), flags)
    fds: list[int] = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % 4
            fds += struct.unpack(f"{usable // 4}i", payload[:usable])
    return data, fds


class _Syncs:
    """The helper's state, shared by its syncing threads (``_serve``); every field is
    read and written under ``cond``, the socket is read under ``receiving``."""

    def __init__(self, sock: socket.socket, workers: int, hint=None) -> None:
        self.sock = sock
        self.hint = hint             # shared memory: the last LSN answered, or None
        self.cond = threading.Lock()
        self.receiving = threading.Lock()   # one thread reads the socket at a time
        self.turns = threading.Lock()       # around a sync when ``shared``
        self.workers = workers
        self.wanted = 0              # the highest LSN received
        self.mark = None             # (offset, bytes) claiming ``wanted``, or None
        self.claimed = 0             # the highest LSN a started fdatasync covers
        self.answered = 0            # the highest LSN answered (and its mark written)
        self.gen = 0                 # bumped per segment received
        self.files: list[int] = []   # this segment's descriptions, one per thread
        self.shared = False          # one description for all: one sync at a time
        self.failed = False
        self.ended = False


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


def _serve(sock: socket.socket, workers: int = 1, hint=None) -> None:
    """Serve requests with ``workers`` syncing threads until the parent closes its end
    (or a sync failed); ``hint``, shared memory, gets each answer's LSN after it is
    sent."""
    state = _Syncs(sock, workers, hint)
    threads = [threading.Thread(target=_syncing, args=(state, i), daemon=True)
               for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _receive(state: _Syncs) -> bool:
    """(Holding ``state.receiving``.) Wait for requests, take every one queued, and
    record the highest; False once the parent closed its end or the helper failed.

    One thread at a time reads, so packets are taken in the order sent: a new
    segment's descriptor is installed before any LSN that follows it is recorded."""
    recv_fds, dontwait, unpack = _recv, socket.MSG_DONTWAIT, _REQUEST.unpack
    data, fds = recv_fds(state.sock)
    top, mark, files, shared = 0, None, None, False
    while True:
        if not data:
            return False                 # the parent closed its end or died
        for new in fds:                  # a new segment: the older ones are durable
            if files is not None and not shared:
                for f in files:
                    os.close(f)
            files, shared = _descriptions(new, state.workers)
            os.close(new)
        lsn, offset, mark_data = unpack(data)
        if lsn > top:
            top = lsn
            mark = (offset, mark_data) if offset else None
        try:                             # and every request queued meanwhile
            data, fds = recv_fds(state.sock, dontwait)
        except BlockingIOError:
            break
    with state.cond:
        if state.failed:
            return False
        if files is not None:
            state.gen += 1
            state.files, state.shared = files, shared
        if top > state.wanted and state.files:
            state.wanted, state.mark = top, mark
    return True


def _syncing(state: _Syncs, index: int) -> None:
    try:
        _sync_requests(state, index)
    except (BrokenPipeError, ConnectionResetError):
        with state.cond:             # the parent is gone: the others stop too
            state.ended = True


def _sync_requests(state: _Syncs, index: int) -> None:
    """One syncing thread: read requests (taking turns with the others), fdatasync what
    was received and is not covered by a sync started since, write the mark (only ever
    a higher one), answer. While one thread's fdatasync runs, another reads the socket
    and can start the next: a commit written meanwhile need not wait for the running
    sync to end before its own starts. The thread that read a request syncs it itself
    (no hand-off to wake another thread on the way)."""
    cond, sock = state.cond, state.sock
    gen, fd = -1, -1
    while True:
        with state.receiving:
            if state.ended:
                return
            try:
                more = _receive(state)
            except OSError:              # the socket was shut down: the helper failed
                more = False
            if not more:
                state.ended = True
                return
        with cond:
            if state.wanted <= state.claimed or state.failed:
                continue                 # a sync started since covers it
            target, mark = state.wanted, state.mark
            state.claimed = target
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
            if state.failed:
                return
            if error is None and target > state.answered:
                if mark is not None and gen == state.gen:  # only now may it claim ``target``
                    try:
                        os.pwrite(fd, mark[1], mark[0])
                    except OSError as exc:
                        error = f"writing the durable-LSN mark failed: {exc}"
                if error is None:
                    state.answered = target
                    sock.send(_LSN.pack(target))
                    if state.hint is not None:
                        _LSN.pack_into(state.hint, 0, target)
            if error is not None:
                # Nothing is answered after a failure (another thread's later success
                # included): the parent breaks the log, and the helper is done.
                state.failed = True
                sock.send(b"E" + error.encode()[:400])
                sock.shutdown(socket.SHUT_RDWR)   # a thread waiting to read stops
                return


def main(argv: list[str]) -> int:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # this process's own, not a host's
    sock = socket.socket(fileno=int(argv[0]))
    try:
        hint = None
        if len(argv) > 2 and int(argv[2]) >= 0:
            hint = mmap.mmap(int(argv[2]), _LSN.size)
        _serve(sock, int(argv[1]) if len(argv) > 1 else 1, hint)
    except (BrokenPipeError, ConnectionResetError):
        pass                                  # the parent is gone
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
