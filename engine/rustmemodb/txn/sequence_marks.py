"""The highest value each sequence handed out, shared by a database's transactions.

A sequence's value lives in the root, so it is durable with the commit that drew it;
but a transaction drawing from its own snapshot's value would hand out the values an
open (or just committed, not yet visible) transaction drew too: two concurrent INSERTs
into a table with a serial key got the same key and one failed at COMMIT (40001, a
unique key inserted concurrently), where PostgreSQL's nextval() never gives a value
twice. So every draw starts past the furthest value drawn so far by any transaction of
the database (``draw_from``), and a value drawn by a transaction that rolls back is
skipped, as in PostgreSQL. After a restart only committed values count, which is all
any row can hold.

A transaction that set the sequence itself (setval, ALTER SEQUENCE ... RESTART, CREATE,
DROP, TRUNCATE ... RESTART IDENTITY: ``Transaction.reset_sequences``) draws from its own
value, and its commit drops the mark (``forget``), so the new value is where everyone
draws from next. CYCLE sequences stay per transaction: past a wrap, "further" has no
meaning. Held briefly under one lock: a draw is a comparison and a store.
"""
from __future__ import annotations

import threading


class SequenceMarks:
    __slots__ = ("lock", "_marks")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._marks: dict[str, int] = {}

    def draw_from(self, name: str, last: int, ascending: bool) -> int:
        """(Holding ``lock``.) Where a draw after ``last`` (a snapshot's value) starts:
        the furthest value drawn so far, in the sequence's direction."""
        mark = self._marks.get(name)
        if mark is None or (mark <= last if ascending else mark >= last):
            return last
        return mark

    def drew(self, name: str, value: int) -> None:
        """(Holding ``lock``.) ``value`` is the last value of a draw."""
        self._marks[name] = value

    def forget(self, names) -> None:
        """The sequences ``names`` were set by a commit: draws start from it again."""
        with self.lock:
            for name in names:
                self._marks.pop(name, None)

    def clear(self) -> None:
        """The database went back to an earlier root (``Database.restore``)."""
        with self.lock:
            self._marks.clear()
