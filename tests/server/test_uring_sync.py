"""The io_uring syncer (durability/uring_sync.py) on its own: a durable write of the log's
frames linked to the send of the reply it acknowledges. The kernel must never send a
reply whose write failed, a reply that would block is left to the loop, and every chain
writes all the frames not yet known durable."""
from __future__ import annotations

import os
import socket
import time

import pytest

from rustmemodb.durability.uring_sync import UringSync


@pytest.fixture
def syncer():
    try:
        s = UringSync()
    except OSError as exc:
        pytest.skip(f"io_uring is not available here: {exc}")
    yield s
    s.close()


@pytest.fixture
def segment(tmp_path):
    fd = os.open(tmp_path / "seg", os.O_RDWR | os.O_CREAT)
    os.pwrite(fd, bytes(4096), 0)
    yield fd
    os.close(fd)


def _settle(syncer, want, timeout: float = 10):
    """``progress()`` once it reports ``want`` (durable LSN, replies resolved)."""
    deadline = time.monotonic() + timeout
    while syncer.progress() != want:
        assert time.monotonic() < deadline, syncer.progress()
        time.sleep(0.005)


def test_reply_goes_out_after_its_frames_are_written(syncer, segment):
    a, b = socket.socketpair()
    with a, b:
        seq = syncer.request(1, segment, 1, None, (100, b"frame-1", 0), (7, a.fileno(), b"ok-1"))
        assert seq == 1
        _settle(syncer, (1, 1))
        assert b.recv(16) == b"ok-1"
        assert os.pread(segment, 7, 100) == b"frame-1"
        assert syncer.leftover(seq) == b""
        assert syncer.answers() == 1
        # The next chain starts where the durable frames end.
        syncer.request(2, segment, 1, None, (107, b"frame-2", 0), (7, a.fileno(), b"ok-2"))
        _settle(syncer, (2, 2))
        assert os.pread(segment, 14, 100) == b"frame-1frame-2"
        assert b.recv(16) == b"ok-2"


def test_failed_write_sends_nothing_and_breaks_the_syncer(syncer, segment, tmp_path):
    """The write fails in the kernel (a descriptor open read-only): the linked send is
    cancelled, the reply never reaches the client, ``answers`` raises."""
    a, b = socket.socketpair()
    with a, b:
        syncer.request(1, segment, 1, None, (100, b"frame-1", 0), (7, a.fileno(), b"ok-1"))
        _settle(syncer, (1, 1))
        assert b.recv(16) == b"ok-1"
        with syncer._lock:
            old, syncer._wfd = syncer._wfd, os.open(tmp_path / "seg", os.O_RDONLY)
            syncer._fds[syncer._wfd] = 0
            syncer._fds.pop(old)
            os.close(old)
        seq = syncer.request(2, segment, 1, None, (107, b"frame-2", 0),
                             (7, a.fileno(), b"ok-2"))
        _settle(syncer, (1, 2))                # resolved, not durable
        assert syncer.outcome(seq) == "failed"
        b.setblocking(False)
        with pytest.raises(BlockingIOError):
            b.recv(16)
        with pytest.raises(OSError, match="fsync"):
            syncer.answers()
        with pytest.raises(OSError):
            syncer.request(3, segment, 1, None, (114, b"frame-3", 0), None)


def test_a_reply_that_would_block_is_left_to_the_loop(syncer, segment):
    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        try:
            while True:
                a.send(b"x" * 65536)
        except BlockingIOError:
            pass
        reply = b"r" * 200_000
        seq = syncer.request(1, segment, 1, None, (100, b"frame-1", 0), (7, a.fileno(), reply))
        _settle(syncer, (1, 1))
        rest = syncer.leftover(seq)
        assert rest and reply.endswith(rest)   # all of it, or what the socket did not take
        assert syncer.outcome(seq) == "sent"


def test_each_chain_writes_every_frame_not_known_durable(syncer, segment):
    """Requests made before any completion was seen: the last chain writes them all (a
    chain that succeeds vouches for every frame before its end)."""
    for lsn in (1, 2, 3):
        syncer.request(lsn, segment, 1, None, (100 + 7 * (lsn - 1), b"frame-%d" % lsn, 0),
                       None)
    chains = list(syncer._chains.values())
    assert [c.data for c in chains] == [b"frame-1", b"frame-1frame-2",
                                         b"frame-1frame-2frame-3"]
    _settle(syncer, (3, 0))
    assert os.pread(segment, 21, 100) == b"frame-1frame-2frame-3"
    assert not syncer._pending                 # all known durable now
    assert syncer.barrier() == 3
