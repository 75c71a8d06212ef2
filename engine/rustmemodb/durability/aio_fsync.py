"""The log's fdatasync as Linux AIO (``IOCB_CMD_FDSYNC``, kernel >= 4.18) signalled on
an eventfd: the same interface as ``fsync_helper.FsyncHelper`` (``request``,
``answers``, ``fileno``, ``close``, ``requested``), with the kernel's own worker
doing the sync instead of a helper process, so that nothing but the event loop's
thread (woken by the eventfd) runs Python for it.

One sync is in flight at a time: ``request`` submits one when none is, else records
the LSN wanted; when the completion is read (``answers``), a sync covering everything
requested meanwhile is submitted at once (group commit, as the helper process does).
The segment's descriptor is duplicated on its first request (and again after a
rotation), so a sync submitted later never names a descriptor the log closed; only
the newest segment is synced, for the reason given in ``fsync_helper``.

Only through ``ctypes`` and the raw system calls (no libaio); ``AioFsync()`` raises
OSError where any of it is missing or the kernel refuses an FDSYNC (then the caller
uses the helper process or the thread).
"""
from __future__ import annotations

import ctypes
import os
import platform
import tempfile

__all__ = ["AioFsync"]

# io_setup, io_destroy, io_submit, io_getevents
_SYSCALLS = {"x86_64": (206, 207, 209, 208), "aarch64": (0, 1, 2, 4)}
_IOCB_CMD_FDSYNC = 3
_IOCB_FLAG_RESFD = 1
_L = ctypes.c_long                      # syscall() is variadic: pass whole longs


class _Iocb(ctypes.Structure):          # struct iocb, little endian
    _fields_ = [("aio_data", ctypes.c_uint64), ("aio_key", ctypes.c_uint32),
                ("aio_rw_flags", ctypes.c_int32), ("aio_lio_opcode", ctypes.c_uint16),
                ("aio_reqprio", ctypes.c_int16), ("aio_fildes", ctypes.c_uint32),
                ("aio_buf", ctypes.c_uint64), ("aio_nbytes", ctypes.c_uint64),
                ("aio_offset", ctypes.c_int64), ("aio_reserved2", ctypes.c_uint64),
                ("aio_flags", ctypes.c_uint32), ("aio_resfd", ctypes.c_uint32)]


class _Event(ctypes.Structure):         # struct io_event
    _fields_ = [("data", ctypes.c_uint64), ("obj", ctypes.c_uint64),
                ("res", ctypes.c_int64), ("res2", ctypes.c_int64)]


class AioFsync:
    """fdatasync of the log's open segment by the kernel, completion on an eventfd."""

    def __init__(self) -> None:
        calls = _SYSCALLS.get(platform.machine())
        if (calls is None or not hasattr(os, "eventfd") or platform.system() != "Linux"
                or ctypes.sizeof(_Iocb) != 64):
            raise OSError("Linux AIO is not available here")
        self._setup, self._destroy, self._submit_nr, self._getevents_nr = calls
        libc = ctypes.CDLL(None, use_errno=True)
        self._syscall = libc.syscall
        self._syscall.restype = ctypes.c_long
        self._ctx = ctypes.c_ulong(0)
        if self._syscall(_L(self._setup), _L(4), ctypes.byref(self._ctx)) < 0:
            raise OSError(ctypes.get_errno(), "io_setup failed")
        self._eventfd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._iocb = _Iocb()
        self._iocbs = (ctypes.POINTER(_Iocb) * 1)(ctypes.pointer(self._iocb))
        self._events = (_Event * 4)()
        self._fd = -1                   # our duplicate of the segment's descriptor
        self._segment = None            # (log's descriptor, first LSN) it duplicates
        self._in_flight = 0             # the LSN the submitted sync covers (0: none)
        self._wanted = 0                # the highest LSN requested
        self.requested = 0
        try:
            self._probe()
        except BaseException:
            self.close()
            raise

    def _probe(self) -> None:
        """One FDSYNC of a temporary file, waited for: raises OSError if the kernel
        does not do them (before 4.18: EINVAL)."""
        with tempfile.TemporaryFile() as f:
            self._submit(f.fileno(), 1)
            got = self._syscall(_L(self._getevents_nr), self._ctx, _L(1), _L(4),
                                self._events, None)
            if got != 1:
                raise OSError(ctypes.get_errno(), "io_getevents failed")
            if self._events[0].res < 0:
                raise OSError(-self._events[0].res, "AIO fdatasync failed")
            self._in_flight = 0
            try:
                os.eventfd_read(self._eventfd)
            except BlockingIOError:
                pass

    def fileno(self) -> int:
        return self._eventfd

    def _submit(self, fd: int, lsn: int) -> None:
        cb = self._iocb
        ctypes.memset(ctypes.byref(cb), 0, 64)
        cb.aio_data = lsn
        cb.aio_lio_opcode = _IOCB_CMD_FDSYNC
        cb.aio_fildes = fd
        cb.aio_flags = _IOCB_FLAG_RESFD
        cb.aio_resfd = self._eventfd
        if self._syscall(_L(self._submit_nr), self._ctx, _L(1), self._iocbs) != 1:
            err = ctypes.get_errno()
            raise OSError(err, f"io_submit of an fdatasync failed: {os.strerror(err)}")
        self._in_flight = lsn

    writes_mark = False          # the log writes the mark itself once the sync is done

    def request(self, lsn: int, segment_fd: int, first_lsn: int,
                mark: tuple[int, bytes] | None = None) -> None:
        """As ``FsyncHelper.request`` (the caller holds the log's lock; ``mark`` is
        not used: ``writes_mark``)."""
        segment = (segment_fd, first_lsn)
        if segment != self._segment:
            new = os.dup(segment_fd)
            if self._fd >= 0:
                os.close(self._fd)
            self._fd, self._segment = new, segment
        if lsn > self._wanted:
            self._wanted = lsn
        if lsn > self.requested:
            self.requested = lsn
        if not self._in_flight:
            self._submit(self._fd, self._wanted)

    def answers(self) -> int:
        """As ``FsyncHelper.answers`` (the caller holds the log's lock): the LSN the
        completed sync covers, 0 if none completed; the next sync is submitted."""
        try:
            os.eventfd_read(self._eventfd)
        except BlockingIOError:
            return 0
        got = self._syscall(_L(self._getevents_nr), self._ctx, _L(0), _L(4), self._events,
                            None)
        if got < 0:
            raise OSError(ctypes.get_errno(), "io_getevents failed")
        best = 0
        for i in range(got):
            event = self._events[i]
            if event.res < 0:
                raise OSError(-event.res, f"fdatasync failed: {os.strerror(-event.res)}")
            best = max(best, event.data)
        if got:
            self._in_flight = 0
            if self._wanted > best:
                self._submit(self._fd, self._wanted)
        return best

    def close(self, timeout: float = 10) -> None:
        """Wait for a sync in flight, then release the context and descriptors."""
        if self._in_flight:
            self._syscall(_L(self._getevents_nr), self._ctx, _L(1), _L(4), self._events, None)
            self._in_flight = 0
        if self._ctx.value:
            self._syscall(_L(self._destroy), self._ctx)
            self._ctx = ctypes.c_ulong(0)
        for fd in (self._fd, self._eventfd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._fd = self._eventfd = -1
