"""Isolation levels (issue 19): autocommit statements and READ COMMITTED transactions
re-run on a write-write conflict instead of failing; REPEATABLE READ keeps 40001."""
import random
import sys
import threading

import pytest

import rustmemodb
from rustmemodb import errors

THREADS = 8
STATEMENTS = 5000
HOT_ROWS = 10
INCREMENT = "UPDATE counters SET n = n + 1 WHERE id = $1"


@pytest.fixture
def busy_switching():
    """Switch threads often, so statements interleave mid-way (more conflicts)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def _counters():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    conn.executemany("INSERT INTO counters VALUES ($1, 0)", [(i,) for i in range(HOT_ROWS)])
    return conn


def _hammer(conn, level: str | None):
    """THREADS threads, each its own connection, STATEMENTS increments each. Returns
    (increments that reported success, error SQLSTATEs)."""
    db = conn.database
    committed = [0] * THREADS
    failures: list[str] = []

    def worker(t: int) -> None:
        c = db.connect()
        rnd = random.Random(t)
        for _ in range(STATEMENTS):
            key = rnd.randrange(HOT_ROWS)
            try:
                if level is None:
                    c.execute(INCREMENT, (key,))
                else:
                    c.execute(f"BEGIN ISOLATION LEVEL {level}")
                    c.execute(INCREMENT, (key,))
                    c.execute("COMMIT")
                committed[t] += 1
            except errors.Error as exc:
                failures.append(exc.sqlstate)
                if c.in_transaction:
                    c.execute("ROLLBACK")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(committed), failures


def _total(conn) -> int:
    return conn.execute("SELECT sum(n) FROM counters").fetchone()[0]


def test_autocommit_increments_never_fail_and_none_is_lost(busy_switching):
    conn = _counters()
    committed, failures = _hammer(conn, None)
    assert failures == []
    assert committed == THREADS * STATEMENTS
    assert _total(conn) == THREADS * STATEMENTS


def test_read_committed_transactions_never_fail_and_none_is_lost(busy_switching):
    conn = _counters()
    committed, failures = _hammer(conn, "READ COMMITTED")
    assert failures == []
    assert _total(conn) == committed == THREADS * STATEMENTS


def test_repeatable_read_still_reports_40001_and_loses_nothing(busy_switching):
    conn = _counters()
    committed, failures = _hammer(conn, "REPEATABLE READ")
    assert failures and set(failures) == {"40001"}
    assert committed + len(failures) == THREADS * STATEMENTS
    assert _total(conn) == committed


def test_rerun_result_is_the_committing_runs():
    """The autocommit statement that loses the race is re-run: its rowcount and
    RETURNING are those of the run that wrote on top of the other writer's commit."""
    conn = _counters()
    other = conn.database.connect()
    calls = []

    def bump() -> int:
        # First call: another connection commits to the same row mid-statement.
        if not calls:
            other.execute("UPDATE counters SET n = n + 100 WHERE id = 1")
        calls.append(1)
        return 1

    conn.register_function("bump", bump, [], "INTEGER", volatile=True)
    cur = conn.execute("UPDATE counters SET n = n + bump() WHERE id = 1 RETURNING n")
    assert len(calls) == 2            # ran, lost the race, ran again
    assert cur.rowcount == 1
    assert cur.fetchall() == [(101,)]
    assert conn.execute("SELECT n FROM counters WHERE id = 1").fetchone() == (101,)


def test_explicit_default_is_repeatable_read_and_conflict_is_40001():
    conn = _counters()
    other = conn.database.connect()
    assert conn.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
    conn.execute("BEGIN")
    conn.execute(INCREMENT, (1,))
    other.execute(INCREMENT, (1,))
    with pytest.raises(errors.SerializationFailure):
        conn.execute("COMMIT")
    assert conn.execute("SELECT n FROM counters WHERE id = 1").fetchone() == (1,)


def test_read_committed_sees_newest_data_per_statement_and_reruns_at_commit():
    conn = _counters()
    other = conn.database.connect()
    conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
    assert conn.execute("SHOW transaction_isolation").fetchone() == ("read committed",)
    conn.execute(INCREMENT, (1,))
    other.execute("UPDATE counters SET n = n + 10 WHERE id = 2")
    # a new statement reads the newest committed data, with our own write rebased
    assert conn.execute("SELECT id, n FROM counters WHERE id IN (1, 2) ORDER BY id").fetchall() \
        == [(1, 1), (2, 10)]
    other.execute("UPDATE counters SET n = n + 100 WHERE id = 1")   # conflicts with ours
    conn.execute("COMMIT")
    assert conn.execute("SELECT n FROM counters WHERE id = 1").fetchone() == (101,)


def test_read_committed_conflict_before_a_statement_reruns_earlier_ones():
    conn = _counters()
    other = conn.database.connect()
    conn.execute("BEGIN")
    conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    conn.execute(INCREMENT, (3,))
    other.execute("UPDATE counters SET n = n + 5 WHERE id = 3")
    # the next statement's fresh snapshot conflicts with our earlier write: it is re-run
    assert conn.execute("SELECT n FROM counters WHERE id = 3").fetchone() == (6,)
    conn.execute("SAVEPOINT s")
    conn.execute(INCREMENT, (3,))
    other.execute("UPDATE counters SET n = n + 5 WHERE id = 3")
    conn.execute("ROLLBACK TO s")
    conn.execute("COMMIT")
    assert conn.execute("SELECT n FROM counters WHERE id = 3").fetchone() == (11,)


def test_read_committed_rerun_can_end_in_the_real_error():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, v INTEGER)")
    other = conn.database.connect()
    conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
    conn.execute("INSERT INTO u VALUES (1, 1)")
    other.execute("INSERT INTO u VALUES (1, 2)")
    with pytest.raises(errors.IntegrityError) as info:
        conn.execute("COMMIT")
    assert info.value.sqlstate == "23505"
    assert conn.execute("SELECT v FROM u").fetchall() == [(2,)]
    assert not conn.in_transaction


def test_isolation_settings_spelled_as_postgres():
    conn = rustmemodb.connect()
    assert conn.execute("SHOW default_transaction_isolation").fetchone() == ("repeatable read",)
    conn.execute("SET default_transaction_isolation = 'read committed'")
    assert conn.execute("SHOW transaction_isolation").fetchone() == ("read committed",)
    conn.execute("BEGIN")
    assert conn.execute("SHOW transaction_isolation").fetchone() == ("read committed",)
    conn.execute("COMMIT")
    conn.execute("START TRANSACTION ISOLATION LEVEL SERIALIZABLE")
    assert conn.execute("SHOW transaction_isolation").fetchone() == ("serializable",)
    conn.execute("SELECT 1")
    with pytest.raises(errors.Error) as info:
        conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
    assert info.value.sqlstate == "25001"
    conn.execute("ROLLBACK")
    conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    assert conn.execute("SHOW default_transaction_isolation").fetchone() == ("repeatable read",)
    with pytest.raises(errors.Error) as info:
        conn.execute("SET default_transaction_isolation = 'sometimes'")
    assert info.value.sqlstate == "22023"
