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
                        returned: every frame up to it is on disk
                        ``b"E" + message`` the fdatasync or the mark's write failed (the
                        helper then exits)

The helper takes every packet already queued, fdatasyncs the newest segment it was
given once, writes the mark of the highest LSN received (``wal.py``: the header's
"last LSN known durable", rewritten after each fsync), answers, and waits for more: a
group commit across all clients. Only the newest segment is synced: a rotation
(``Log.rotate``) makes every frame of the old segment durable itself before the new
segment exists, hence before its descriptor can be sent.

The mark is written here, after the fdatasync and before the answer, exactly where the
event loop wrote it before (so it is in the page cache before any commit it covers is
acknowledged) but on the helper's CPU time, not the loop's: one ``pwrite`` per round
less on the loop that serves every client. The parent computes the mark's bytes (this
script imports no checksum module); the helper only writes the ones of the highest LSN
it synced. If a rotation happens while a sync of the old segment is in flight, its mark
may land in the old segment after the rotation's own: lower, never wrong, and only the
newest segment's mark is read at recovery (``recover.py``). The helper exits when the parent closes its end or dies (end of file), so it
never outlives the server; it ignores SIGINT (a Ctrl-C in the server's terminal stops
the server, which then closes it).

It is run as a script (``python -I -S <this file> <fd>``), not with ``-m``: importing
the ``rustmemodb`` package would cost it half a second and ~280 modules it never uses.
Only the standard library is imported.
"""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys

__all__ = ["FsyncHelper", "available"]

_LSN = struct.Struct("<Q")
_REQUEST = struct.Struct("<QQ16s")      # lsn, mark offset, mark bytes
_MAX_FDS = 4


def available() -> bool:
    """Whether this platform has what the helper needs (seqpacket Unix sockets,
    descriptor passing, fdatasync)."""
    return (hasattr(socket, "AF_UNIX") and hasattr(socket, "SOCK_SEQPACKET")
            and hasattr(socket, "send_fds") and hasattr(os, "fdatasync")
            and hasattr(socket, "MSG_DONTWAIT"))


class FsyncHelper:
    """The parent's side: one helper process and its socket. Not thread-safe: the log
    calls ``request`` under its lock, the event loop reads the answers."""

    writes_mark = True           # the log passes each request's mark (module docstring)

    def __init__(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), str(child.fileno())],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL)
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
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

    def answers(self) -> int:
        """The highest durable LSN answered since the last call (0: none yet). Raises
        OSError when the helper failed or is gone: nothing more will be synced."""
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


def _serve(sock: socket.socket) -> None:
    fd = -1
    recv_fds, dontwait = _recv, socket.MSG_DONTWAIT
    unpack, pack = _REQUEST.unpack, _LSN.pack
    while True:
        data, fds = recv_fds(sock)
        top, mark = 0, None
        while True:
            if not data:
                return                       # the parent closed its end or died
            for new in fds:
                if fd >= 0:
                    os.close(fd)
                fd = new
            lsn, offset, mark_data = unpack(data)
            if lsn > top:
                top = lsn
                mark = (offset, mark_data) if offset else None
            try:                              # and every request queued meanwhile
                data, fds = recv_fds(sock, dontwait)
            except BlockingIOError:
                break
        try:
            os.fdatasync(fd)
        except OSError as exc:
            sock.send(b"E" + f"fdatasync failed: {exc}".encode()[:400])
            return
        if mark is not None:                  # only now may it claim ``top``
            try:
                os.pwrite(fd, mark[1], mark[0])
            except OSError as exc:
                sock.send(b"E" + f"writing the durable-LSN mark failed: {exc}".encode()[:400])
                return
        sock.send(pack(top))


def main(argv: list[str]) -> int:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # this process's own, not a host's
    sock = socket.socket(fileno=int(argv[0]))
    try:
        _serve(sock)
    except (BrokenPipeError, ConnectionResetError):
        pass                                  # the parent is gone
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
