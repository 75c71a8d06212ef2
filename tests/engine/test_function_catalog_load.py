"""The function catalog is loaded on a database's first function call (registry.py).
Threads racing that first load must all see the complete catalog: a half-filled one
made `n + 1` fail with a spurious 42883 in a concurrent autocommit test."""
import sys
import threading

import rustmemodb


def test_threads_racing_the_first_load_all_see_every_function():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)   # switch threads inside the load as often as possible
    failures = []
    try:
        for _ in range(30):
            conn = rustmemodb.connect()   # a new database: its catalog is not loaded yet
            conn.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)")
            assert conn.database.functions._maps is None

            def bump() -> None:
                try:
                    conn.database.connect().execute(
                        "UPDATE c SET n = n + 1 WHERE id = $1", (1,))
                except rustmemodb.Error as exc:
                    failures.append(exc.sqlstate)

            threads = [threading.Thread(target=bump) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sys.setswitchinterval(old)
    assert failures == []


def test_catalog_has_the_built_ins_and_user_functions_after_load():
    conn = rustmemodb.connect()
    conn.database.functions.register("twice", lambda x: x * 2, ["INTEGER"], "INTEGER")
    assert conn.execute("SELECT twice(21), abs(-2)").fetchone() == (42, 2)
