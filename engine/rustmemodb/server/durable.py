"""Group commit for the wire server: durable commits awaited without blocking the loop.

A point UPDATE / INSERT / DELETE in autocommit is microseconds of engine work, so the
session runs it on the event loop (a hop to a worker thread costs more than the
statement). Under sync durability its commit must not be acknowledged before its log
record is fsync'ed, and the loop must never wait for a disk. So the session runs the
statement with the database *deferring* the durability wait
(``Database.deferring_durability``): the commit is logged (a ``pwrite``) and returns;
the session then hands the commits to this module's one waiter thread and awaits a
future, while the loop goes on serving every other client.

The waiter takes everything queued since its last round and makes it durable with one
``finish_commits`` per database: one fsync covers every commit that arrived while the
previous fsync ran (group commit), then the commits are published (other sessions see
them only now, as in PostgreSQL) and all their futures are resolved with a single
``call_soon_threadsafe``. A thread per server, not per commit: with four clients
updating, one fsync typically acknowledges two to four commits.

That thread is the fallback. Its fsync releases the GIL, but publishing the commits
and waking the loop need it back, and while the loop thread is busy serving reads
CPython's GIL hand-off makes the waiter wait up to the switch interval (5 ms) for it:
measured, committed clients stalled and one fsync acknowledged ~1.7 commits. (A
shorter switch interval helps, but it is process-wide state a library must not
change.) So a durable database served in sync mode gets a *syncer* driven from the
loop instead, when the platform has one (``SYNCERS``, in order of preference): an
*fsync helper process* (``durability/fsync_helper.py``: the LSN sent down a socket,
the answer read back) or Linux AIO (``durability/aio_fsync.py``: an
``IOCB_CMD_FDSYNC`` done by the kernel, its completion on an eventfd). Either way the
loop writes the commit's frame itself (a ``pwrite``), asks for a sync, and watches for
the completion with ``loop.add_reader``; the completion (the highest LSN synced) publishes and
acknowledges every commit up to it, on the loop, with no second Python thread
involved. A failed sync or a dead helper breaks the log (58030), as a failed fsync
does: nothing is acknowledged that was not synced, reads go on.

Measured (2-core VM shared with other work, 4 pgbench clients; medians of alternating
rounds). With the log on tmpfs, so that the hand-off itself is what is timed, point
UPDATEs only: AIO 129 µs per update, the helper process 159 µs, the thread 234 µs (the
thread slowest in every round); the 80/20 mix: AIO 65 µs per transaction, thread 70,
helper process 89. With the log on the shared disk while its fdatasync took 0.4-4 ms
(other sessions loading it), the 80/20 mix did *not* improve: AIO beat the thread in
only 10 of 34 paired rounds (the helper process in 14 of 24), so with slow fsyncs the
hand-off is not what limits; AIO was kept first then because it removes the stall
where fsyncs are fast, and it needs no process to manage.

That order was reversed once the log was measured on the disk the benchmark uses
(ext4 on a virtio disk, /tmp, fdatasync 0.1-4 ms as other work loaded it; pgbench 80/20
mix, 4 clients, both servers and PostgreSQL side by side in alternating 5 s rounds):
the helper process beat AIO in 18 of 22 paired rounds over three runs (tps medians
8654 vs 6745, 4751 vs 4259, 4763 vs 2270; the last while the disk was busiest). An
AIO fdatasync runs on the submitting CPU's kernel worker (the loop's CPU), where the
helper process's fdatasync can run beside the loop; on tmpfs, where an fsync costs
nothing, AIO is still the cheaper hand-off (``--fsync aio`` picks it).

The helper process runs up to three fdatasyncs at once (``fsync_helper.py``): a commit
logged while a sync runs no longer waits for it to end before its own starts. One
sync at a time, a commit waited ~1.5 sync rounds on average; now about one. Measured
(80/20 mix, 4 psycopg clients, the code before and after and PostgreSQL 15 up at once,
runs interleaved): update latency mean 1.1-2.4 ms against 1.3-2.8 ms before, p90
1.6-5.3 ms against 2.5-7.1 ms, on a disk whose fdatasync took 0.1-4 ms; with fast
syncs (~150 µs, quiet VM) no difference was measurable.

2026-12-07, opt-in (``fsync_helper="replies"``, ``--fsync replies``; the measurements
in ``fsync_helper.py`` and the README: a win for update-heavy pgbench work, not for the
psycopg load-test mix): the helper process also writes the commit's frame and sends its
reply. A
point write answered in the read callback (``session._point_write``) hands the helper,
in the one packet that asks for the sync, the frame (queued by ``Log.append``) and the
whole reply up to ReadyForQuery, when that is safe: a plain socket whose transport holds
nothing unsent, nothing else to report in ReadyForQuery (``_can_hand_off``). The helper
sends it once the fsync covering it returned; the loop no longer writes the frame,
reads the helper's answer or sends the reply. It learns of durability from shared
memory (``FsyncHelper.progress``): ``probe`` runs before (and after) every message a
client sent, so commits are published before any message is handled (a client the
helper acknowledged sees its write in its next statement, and so does any client it
told), and on a ``_TICK`` timer while handed-over replies wait. The session whose reply
was handed over writes nothing on its socket until the count of replies sent covers
it (input meanwhile is held, as before). Everything else (explicit transactions,
replies that could not be handed over, big frames, rotations) takes the old way or
drains the helper first (``FsyncHelper.barrier``). If the helper dies, a handed-over
commit that was not durable fails with 58030 as before; one that was durable but whose
reply may not have gone out (the helper died between sending and counting it) is
taken as answered if the client sends anything within ``REPLY_LOST_WAIT``, else its
connection is closed (``ReplyLost``).

2026-12-07, the default where it works (``fsync_helper="uring"``, ``--fsync uring``;
first of ``SYNCERS``): the same hand-over,
with io_uring in the helper process's place (``durability/uring_sync.py``): the loop
submits the frames' durable write linked to the send of the reply, in one system call,
and the kernel sends the reply once the write is on disk; no process or thread of ours
is woken for it. The channel takes completions from the ring (``probe``, shared memory)
or when the ring's descriptor polls readable (completions waiting), and has the log
write its mark on its next timer tick (``_mark_later``: within 2 ms, and only if no
later frame was handed over meanwhile), not in front of the message being handled. A
reply the socket could not take whole comes back to the session (``rest`` of
``_finish``) to send itself. Measured against ``auto``
and PostgreSQL (docs/wire-server-performance.md, nineteenth session): durable point
UPDATE latency 0.24-0.27 ms against 0.31-0.38 ms with one client, load-test driver +9 to
+17 % tps (won 14 of 15 rounds), the pgbench 4-client mix +0.2 to +8.5 % (won 10 of
15), one client -1 to +14 % (won 9 of 15). Where io_uring is refused (seccomp, no
``liburing``) the helper process comes next, as before.
"""
from __future__ import annotations

import asyncio
import queue
import threading

from ..durability import fsync_helper

__all__ = ["DurabilityWaiter"]


class DurabilityWaiter:
    """Makes deferred commits durable: through a database's syncer (AIO or helper
    process) when it has one (``_Channel``), else on its own thread; ``wait`` returns a
    future."""

    def __init__(self, helpers: bool | str = True) -> None:
        # A C queue: a put costs the loop far less than notifying a Condition.
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.rounds = 0          # fsync rounds run (each may cover many commits)
        self.commits = 0
        # True: the first of SYNCERS that works here; or "uring" / "aio" / "process" /
        # "replies" only
        self._helpers = helpers
        # id(database) -> its _Channel, or None when it has none (the thread serves it)
        self._channels: dict[int, _Channel | None] = {}
        # While a helper process's commits wait: called by the sessions after each
        # message they answer on the loop (``session.Protocol``), to take an answer the
        # helper has sent without waiting for the loop's next turn (``_Channel.probe``)
        self.probe = None

    def handoff(self, database):
        """(On the loop.) The channel of ``database`` when its syncer can send a durable
        commit's reply itself (the helper process: ``_Channel.handoff``), else None."""
        channel = self._channels.get(id(database))
        if channel is not None and channel.replies and channel.error is None \
                and channel.database is database:
            return channel
        return None

    def forget(self, conn: int) -> None:
        """(On the loop.) Connection ``conn`` closes: a syncer that holds its socket
        (to send replies) lets it go."""
        for channel in self._channels.values():
            if channel is not None and channel.replies:
                channel.helper.forget(conn)

    def wait(self, database, commits: list, done=None, reply=None) -> asyncio.Future:
        """A future of the running loop, done once ``commits`` (deferred commits of
        ``database``) are durable and published; it carries the log's error if not.
        The commits are finished even if the future is cancelled meanwhile.

        ``done(error)``, if given, is called on the loop with None or the log's error
        unless the future was cancelled: by a syncer's channel right in the callback
        that learnt of the fsync, before the future resolves (the future's own
        callbacks would run one loop iteration later, one scheduled handle per commit);
        else as the future's callback."""
        channel = self._channels.get(id(database), _NONE) if self._helpers else None
        if channel is not None and channel is not _NONE and channel.database is database:
            # (its loop is the running one: asyncio.get_running_loop() costs a getpid
            # system call per commit in CPython 3.11)
            future = channel.loop.create_future()
            channel.wait(commits, future, done, reply)
            return future
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if channel is not None:          # none made yet (_NONE), or another database's
            channel = self._channel(database, loop)
            if channel is not None:
                channel.wait(commits, future, done, reply)
                return future
        if done is not None:
            future.add_done_callback(lambda f: None if f.cancelled() else done(f.exception()))
        if self._thread is None or self._closed:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the server is closing")
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, daemon=True,
                                                    name="rustmemodb-server-commit")
                    self._thread.start()
        self._queue.put((database, commits, future, loop))
        return future

    def prepare(self, database) -> None:
        """(On the loop.) Start ``database``'s syncer now rather than at its first
        deferred commit."""
        if self._helpers and id(database) not in self._channels:
            self._channel(database, asyncio.get_running_loop())

    def _channel(self, database, loop) -> "_Channel | None":
        """A new syncer for ``database`` (a durable one in sync mode), or None (the
        thread serves it: no log, another mode, another server's syncer attached, a
        broken log, or neither AIO nor a helper process works here)."""
        if self._closed:
            raise RuntimeError("the server is closing")
        channel = None
        log = getattr(database, "log", None)
        if log is not None and log.mode == "sync" and not database.closed:
            helper = _new_syncer(self._helpers, getattr(database, "_lock_fd", -1))
            if helper is not None:
                try:
                    with database._commit_lock:
                        attached = log.attach_helper(helper)
                except Exception:  # noqa: BLE001 - a broken log: commits will report it
                    attached = False
                if attached:
                    channel = _Channel(self, database, log, helper, loop)
                else:
                    helper.close()
        self._channels[id(database)] = channel
        return channel

    def close(self) -> None:
        """Finish what is queued, then stop the thread and the syncers (a helper
        process is reaped here: none outlives the server)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)        # after everything queued before close
            thread.join()
        for channel in self._channels.values():
            if channel is not None:
                channel.close()
        self._channels.clear()

    def _run(self) -> None:
        get, get_nowait, Empty = self._queue.get, self._queue.get_nowait, queue.Empty
        stop = False
        while not stop:
            batch = [get()]
            while True:                  # and everything queued meanwhile: one round
                try:
                    batch.append(get_nowait())
                except Empty:
                    break
            if None in batch:            # close(): this round is the last
                stop = True
                batch = [item for item in batch if item is not None]
                if not batch:
                    break
            groups: dict[int, tuple] = {}
            for database, commits, future, loop in batch:
                group = groups.setdefault(id(database), (database, [], []))
                group[1].extend(commits)
                group[2].append((future, loop))
            done: dict[int, tuple] = {}
            for database, commits, waiters in groups.values():
                try:
                    database.finish_commits(commits)
                    error = None
                except BaseException as exc:  # noqa: BLE001 - each waiter gets the error
                    error = exc
                self.commits += len(commits)
                for future, loop in waiters:
                    done.setdefault(id(loop), (loop, []))[1].append((future, error))
            self.rounds += 1
            for loop, items in done.values():
                try:
                    loop.call_soon_threadsafe(_resolve, items)
                except RuntimeError:      # the loop closed (server shut down)
                    pass


def _resolve(items: list) -> None:
    for future, error in items:
        if future.done():             # the waiting session was cancelled
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _finish(future: asyncio.Future, done, error: BaseException | None,
            rest: bytes = b"") -> None:
    """(On the loop.) A channel's commits are durable (``error`` None) or never will be:
    ``done(error)`` now, then the future; nothing if the waiting session was cancelled.
    ``rest``: the part of a handed-over reply the syncer could not send (io_uring: the
    socket would have blocked), ``done(None, rest)`` for the session to send."""
    if future.done():
        return
    if done is not None:
        try:
            if rest:
                done(error, rest)
            else:
                done(error)
        except Exception as exc:  # noqa: BLE001 - as the loop reports a callback's error
            future.get_loop().call_exception_handler(
                {"message": "acknowledging a durable commit failed", "exception": exc})
    if future.done():                    # (done cancelled it)
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
        if done is not None:
            # ``done`` delivered the error (the client heard it); a session that is
            # not awaiting the future must not have asyncio log it as never retrieved.
            future.exception()


_NONE = object()
SYNCERS = ("uring", "process", "aio")


def _new_syncer(which: bool | str, lock_fd: int = -1):
    """An fsync mechanism for a channel: the helper process
    (``durability/fsync_helper.py``, holding the database's lock file ``lock_fd`` too),
    Linux AIO (``durability/aio_fsync.py``) or io_uring (``durability/uring_sync.py``;
    asked for by name where it is refused: the next of ``SYNCERS``); None if none works
    here."""
    kinds = SYNCERS if which is True else (which,)
    for i, kind in enumerate(kinds):
        try:
            if kind == "uring":
                from ..durability.uring_sync import UringSync
                return UringSync(lock_fd=lock_fd)
            if kind == "aio":
                from ..durability.aio_fsync import AioFsync
                return AioFsync()
            if kind in ("process", "replies") and fsync_helper.available():
                return fsync_helper.FsyncHelper(lock_fd=lock_fd, frames=kind == "replies")
        except OSError:
            if kind == "uring" and which == "uring":
                # asked for by name where io_uring is refused (seccomp, no liburing):
                # the next syncer, as ``auto`` would
                return _new_syncer(True, lock_fd)
            continue
    return None


class ReplyLost(OSError):
    """The helper process died after a handed-over commit became durable, maybe before
    it sent the reply: the client's connection is closed (its commit's outcome is
    unknown to it, as when any connection breaks)."""


_TICK = 0.002        # seconds between checks while handed-over replies wait


class _Channel:
    """One durable database's syncer (``AioFsync`` or ``FsyncHelper``), driven from the
    server's loop: ``wait`` asks it to sync what the log has written, ``_answered`` (its
    descriptor is readable) publishes and acknowledges every commit the
    completion covers.

    With the helper process (``replies``) a point write's reply can be handed over
    with its frame (``wait(..., reply=...)``): the helper sends it to the client once
    durable, and publishes in shared memory the durable LSN (before) and the count of
    replies sent (after). The loop learns of both without a system call (``probe``:
    before and after every message a client sent, and every ``_TICK`` seconds while
    such replies wait): commits up to the durable LSN are published, and a session
    whose reply went out may write on its socket again."""

    def __init__(self, waiter: DurabilityWaiter, database, log, helper, loop) -> None:
        self.waiter = waiter
        self.database = database
        self.log = log
        self.helper = helper
        self.loop = loop
        # (lsn, commits, future, done, reply sequence number or 0)
        self.waiting: list[tuple] = []
        self.error: BaseException | None = None
        self._hint = getattr(helper, "answered_hint", None)
        self.replies = (getattr(helper, "writes_frames", False)
                        and getattr(helper, "_hint", None) is not None)
        self._progress = getattr(helper, "progress", None) if self.replies else None
        self._handed = 0                 # entries of ``waiting`` whose reply was handed over
        self._sent = 0                   # replies the helper said it sent
        self._timer = None
        self._probe = self.probe         # (bound once: set on the waiter per commit)
        self._answering = False
        # io_uring: the syncer writes no marks, the log does once told of a completion
        self._marks_later = self.replies and not getattr(helper, "writes_mark", True)
        self._mark_due = False
        loop.add_reader(helper.fileno(), self._answered)

    def probe(self) -> None:
        """(On the loop, before and after a session handles a message, while commits
        wait.) What the helper published since: with handed-over replies, its durable
        LSN and replies sent, taken from shared memory (no system call); else its
        answer, if it sent one meanwhile, read now rather than after the rest of the
        loop's turn (one turn serves every client that sent something; measured, the
        answer waited ~156 µs median to be read). Costs no system call when there is
        nothing new."""
        if self._answering or self.error is not None:
            return
        progress = self._progress
        if progress is not None:
            got = progress()
            if self._marks_later and self.helper.failed():
                # (io_uring: a failed write was just taken from the ring; its descriptor
                # does not poll readable for it any more, so the log breaks here: 58030)
                self._answered()
                return
            if got is not None and (got[0] > self.log.durable_lsn or got[1] > self._sent):
                self._answering = True
                try:
                    if self._marks_later and got[0] > self.log.durable_lsn:
                        # (io_uring: the log's mark is written later, off the path of
                        # the message about to be handled: ``_mark_later``)
                        durable = self.log.helper_progress(got[0], False)
                        self._mark_later()
                    else:
                        durable = self.log.helper_progress(got[0])
                    self._done(durable, got[1])
                finally:
                    self._answering = False
                    self._idle()
            return
        if self._hint() > self.log.durable_lsn:
            self._answered()

    def _mark_later(self) -> None:
        """(io_uring) A completion made commits durable: the log's mark claiming them is
        written by the next ``_tick`` (within ``_TICK``), not at once. Under load a later
        frame is handed over meanwhile, and a mark is written only where it is the last
        thing in the file (``Log.write_mark``), so most marks are never written: one
        ``pwrite`` and a loop callback less per durable commit (0.6 per update in the
        80/20 mix). A mark only ever claims what is durable; until it is written, a
        crash followed by damage to the newest acknowledged frames reads as a torn tail,
        as it always did for frames synced while a later one was in flight."""
        self._mark_due = True
        if self._timer is None:
            self._timer = self.loop.call_later(_TICK, self._tick)

    def _write_mark(self) -> None:
        self._mark_due = False
        if self.error is None:
            try:
                self.log.write_mark()
            except Exception as exc:  # noqa: BLE001 - 58030: the log is broken
                self._fail(exc)

    def wait(self, commits: list, future: asyncio.Future, done=None, reply=None) -> None:
        """``reply`` (connection id, socket descriptor, bytes): handed to the helper,
        which sends it once the commits are durable; ``done(None)`` then means only
        that it went out (the session may write again)."""
        lsn = commits[0][1] if len(commits) == 1 else max([c[1] for c in commits])
        seq = 0
        if self.error is None:
            try:
                seq = self.log.request_sync(lsn, reply)
            except Exception as exc:  # noqa: BLE001 - 58030: the log is broken
                self._fail(exc)
        # (Never resolved within this call: the caller records the future first.)
        if self.error is not None:
            self.database.abandon_pending()
            self.loop.call_soon(_finish, future, done, self.error)
            return
        self.waiting.append((lsn, commits, future, done, seq))
        if self._hint is not None:
            self.waiter.probe = self._probe
        if seq:
            self._handed += 1
            if self._timer is None:
                self._timer = self.loop.call_later(_TICK, self._tick)
        elif self.log.durable_lsn >= lsn:    # a thread's own fsync covered it already
            self.loop.call_soon(self._recheck)

    def _tick(self) -> None:
        self._timer = None
        self.probe()
        if self._mark_due:
            self._write_mark()
        if (self._handed or self._mark_due) and self.error is None and self._timer is None:
            self._timer = self.loop.call_later(_TICK, self._tick)

    def _recheck(self) -> None:
        if self.error is None:
            self._done(self.log.durable_lsn)

    def _idle(self) -> None:
        if not self.waiting and self.waiter.probe is self._probe:
            self.waiter.probe = None

    def _answered(self) -> None:
        if self._answering:              # (a reply's callbacks answered more input)
            return
        self._answering = True
        try:
            try:
                if self._marks_later:
                    durable = self.log.helper_answered(False)
                    self._mark_later()
                else:
                    durable = self.log.helper_answered()
            except Exception as exc:  # noqa: BLE001 - 58030: the helper failed or died
                self._fail(exc)
                return
            self._done(durable)
        finally:
            self._answering = False
            self._idle()

    def _done(self, durable: int, sent: int = -1) -> None:
        waiting = self.waiting
        if not waiting:
            return
        if self._handed:
            if sent < 0:
                got = self._progress()
                sent = self._sent if got is None else got[1]
            if sent > self._sent:
                self._sent = sent
            sent = self._sent
            ready = [w for w in waiting if w[0] <= durable and w[4] <= sent]
            if not ready:                # visible now, acknowledged once sent
                self.database.publish_durable(durable)
                return
            self.waiting = [w for w in waiting if not (w[0] <= durable and w[4] <= sent)]
            self._handed -= sum(1 for w in ready if w[4])
        elif len(waiting) == 1:          # (the usual case: one commit per sync)
            if waiting[0][0] > durable:
                return
            ready, self.waiting = waiting, []
        else:
            ready = [w for w in waiting if w[0] <= durable]
            if not ready:
                return
            self.waiting = [w for w in waiting if w[0] > durable]
        database = self.database
        database.publish_durable(durable)
        waiter = self.waiter
        waiter.rounds += 1
        for w in ready:                  # all told before any reply goes out
            waiter.commits += len(w[1])
            database.notify_committed(w[1])
        leftover = getattr(self.helper, "leftover", None)
        for w in ready:                  # (a reply may start the next commit)
            rest = leftover(w[4]) if leftover is not None and w[4] else b""
            _finish(w[2], w[3], None, rest)

    def _fail(self, exc: BaseException) -> None:
        """The log broke: nothing waiting is published or acknowledged. A reply the
        helper sent (its count in shared memory says so) was for a durable commit: that
        session carries on; one it may have been sending when it died closes its
        connection (``ReplyLost``)."""
        if self.error is None:
            self.error = exc
            if self.waiter.probe is self._probe:
                self.waiter.probe = None
            try:
                self.loop.remove_reader(self.helper.fileno())
            except (ValueError, OSError):
                pass
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        waiting, self.waiting = self.waiting, []
        sent, durable = self._sent, 0
        if self._handed:
            got = self._progress()
            if got is not None:
                durable, sent = got[0], max(sent, got[1])
        self._handed = 0
        delivered = self.helper.sent() if hasattr(self.helper, "sent") else None
        if delivered is not None:
            sent = delivered             # (``_sent`` counted replies about to be written)
        if durable:                      # what the helper made durable stays so
            self.database.publish_durable(durable)
        self.database.abandon_pending()
        lost = ReplyLost(f"the fsync helper process failed while sending a reply: {exc}")
        outcome = getattr(self.helper, "outcome", None)
        for lsn, commits, future, done, seq in waiting:
            if seq and outcome is not None:
                # (io_uring: each reply's fate is known, or its chain is in flight:
                # sent or not, the client's next message tells)
                how = outcome(seq)
                if how == "sent":
                    _finish(future, done, None, self.helper.leftover(seq))
                elif how == "failed":
                    self.helper.leftover(seq)
                    _finish(future, done, exc)
                else:
                    _finish(future, done, lost)
            elif seq and seq <= sent:
                _finish(future, done, None)
            elif seq and lsn <= durable:
                _finish(future, done, lost)
            else:
                _finish(future, done, exc)

    def close(self) -> None:
        """(The loop has stopped.) Stop the helper; commits still waiting are finished
        here, with the log's own fsync, as the thread would."""
        if self.waiter.probe is self._probe:
            self.waiter.probe = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.error is None:
            try:
                self.loop.remove_reader(self.helper.fileno())
            except (ValueError, OSError, RuntimeError):
                pass
        self.log.detach_helper(self.helper)
        self.helper.close()
        commits = [c for w in self.waiting for c in w[1]]
        self.waiting = []
        if commits and self.error is None:
            try:
                self.database.finish_commits(commits)
            except Exception:  # noqa: BLE001 - nobody is left to tell; it stays unpublished
                pass
