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
"""
from __future__ import annotations

import asyncio
import queue
import threading

__all__ = ["DurabilityWaiter"]


class DurabilityWaiter:
    """Makes deferred commits durable on its own thread; ``wait`` returns a future."""

    def __init__(self) -> None:
        # A C queue: a put costs the loop far less than notifying a Condition.
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.rounds = 0          # fsync rounds run (each may cover many commits)
        self.commits = 0

    def wait(self, database, commits: list) -> asyncio.Future:
        """A future of the running loop, done once ``commits`` (deferred commits of
        ``database``) are durable and published; it carries the log's error if not.
        The commits are finished even if the future is cancelled meanwhile."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
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

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)        # after everything queued before close
            thread.join()

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
