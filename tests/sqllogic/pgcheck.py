"""``python -m tests.sqllogic.pgcheck [FILE|DIR ...]``: verify expectations on PostgreSQL.

The expected results in ``tests/sql`` must be PostgreSQL's, not whatever rustmemodb
happens to return.  This tool runs each ``.test`` file
against a real PostgreSQL server and reports every record where PostgreSQL's outcome
differs from the file: a different result, an error where success is expected, or a
different SQLSTATE.  Fix the file, not the checker.

How the files are run on PostgreSQL:

* every file gets a fresh database (``TEMPLATE template0``, UTF8, ``C.UTF-8``
  collation so text sorts by code point as in rustmemodb), dropped afterwards; the
  database defaults to ``REPEATABLE READ`` (rustmemodb's BEGIN is snapshot isolation),
  ``lock_timeout`` 2 s so that a blocking statement fails instead of hanging;
* type names are mapped outside string literals and quoted identifiers:
  ``FLOAT`` -> ``DOUBLE PRECISION`` (``JSON`` is PostgreSQL's json and ``JSONB`` its
  jsonb on both); the rest is sent as is (an ``INTEGER`` column is int4 on both: stored
  as int64 here, its declared width kept and checked);
* NUMERIC results are compared exactly, value and scale (``avg`` of bigint is
  ``1.5000000000000000`` on both), as numeric_out prints them;
* records preceded by ``# pg-deviation: reason`` are skipped (documented intentional
  differences, e.g. the spec's strictness: ``'42'`` into an INTEGER column is an error
  ``42804`` in rustmemodb while PostgreSQL accepts it);
* for ``statement error`` only the SQLSTATE is compared, not the message text.

The server is reached with psycopg (``pip install 'psycopg[binary]'``) through
``--dsn`` / ``$PGCHECK_DSN`` (default ``dbname=postgres``, the local socket as the
current user).  ``make test`` runs the same check on every file against a throwaway
server (``tests/test_sql_logic_pg.py``, ``tests/pg_server.py``).
"""

from __future__ import annotations

import argparse
import decimal
import itertools
import os
import re
import sys
from typing import Any

from .__main__ import collect, display
from .executor import run_file

try:
    import psycopg
    from psycopg import sql as pgsql
except ImportError:  # pragma: no cover - reported by main()
    psycopg = None

TYPE_MAP = {
    "FLOAT": "DOUBLE PRECISION",
}
_TYPE_WORD = re.compile(r"\b(" + "|".join(TYPE_MAP) + r")\b", re.IGNORECASE)
# single-quoted strings (with '' escapes), double-quoted identifiers, -- comments
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*")


def map_types(sql: str) -> str:
    """Map rustmemodb type names to PostgreSQL ones outside literals and identifiers."""
    out: list[str] = []
    pos = 0
    for m in _QUOTED.finditer(sql):
        out.append(_TYPE_WORD.sub(lambda w: TYPE_MAP[w.group(1).upper()], sql[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_TYPE_WORD.sub(lambda w: TYPE_MAP[w.group(1).upper()], sql[pos:]))
    return "".join(out)


def normalize_pg_value(value: Any) -> Any:
    """A value as the engine returns it: NUMERIC is exact on both (a Decimal, rendered
    as numeric_out prints it), so nothing changes."""
    return value


# int4range, numrange, tsrange, tstzrange, daterange, int8range: read as PostgreSQL's
# text (range_out), the form expected rows hold, not as psycopg Range objects
RANGE_OIDS = (3904, 3906, 3908, 3910, 3912, 3926)
# the anonymous record (ROW(...)): its text (record_out), not psycopg's tuple
RECORD_OID = 2249


def _ranges_as_text(conn: Any) -> Any:
    from psycopg.types.string import TextLoader  # noqa: PLC0415
    for oid in (*RANGE_OIDS, RECORD_OID):
        conn.adapters.register_loader(oid, TextLoader)
    return conn


class PostgresBackend:
    """Runs records against a fresh database of a PostgreSQL server."""

    name = "postgresql"
    skip_pg_deviations = True
    check_messages = False

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.admin = psycopg.connect(dsn, autocommit=True)
        self.counter = itertools.count()
        self.databases: dict[int, str] = {}  # id(default connection) -> database name
        self.server_version = self.admin.info.server_version

    def connect(self) -> Any:
        name = f"sqllogic_{os.getpid()}_{next(self.counter)}"
        ident = pgsql.Identifier(name)
        self.admin.execute(
            pgsql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ).format(ident)
        )
        for setting, value in (
            ("default_transaction_isolation", "repeatable read"),
            ("lock_timeout", "2s"),
            ("statement_timeout", "60s"),
            ("TimeZone", "UTC"),
        ):
            self.admin.execute(
                pgsql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    ident, pgsql.Identifier(setting), pgsql.Literal(value)
                )
            )
        conn = _ranges_as_text(psycopg.connect(self.dsn, dbname=name, autocommit=True))
        self.databases[id(conn)] = name
        return conn

    def connect_more(self, default: Any) -> Any:
        return _ranges_as_text(psycopg.connect(self.dsn, dbname=self.databases[id(default)],
                                               autocommit=True))

    def close(self, connections: list[Any]) -> None:
        name = self.databases.pop(id(connections[0]))
        for conn in connections:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
        self.admin.execute(
            pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
        )

    def prepare_sql(self, sql: str) -> str:
        return map_types(sql)

    def is_sql_error(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.Error)

    def sqlstate(self, exc: BaseException) -> str | None:
        return getattr(exc, "sqlstate", None)

    def normalize(self, value: Any) -> Any:
        return normalize_pg_value(value)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.sqllogic.pgcheck",
        description="Verify .test expectations against a real PostgreSQL.",
    )
    ap.add_argument("paths", nargs="*", help=".test files or directories (default: tests/sql)")
    ap.add_argument("--dsn", default=os.environ.get("PGCHECK_DSN", "dbname=postgres"))
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per file")
    args = ap.parse_args(argv)
    if psycopg is None:
        print("pgcheck needs psycopg: pip install 'psycopg[binary]'", file=sys.stderr)
        return 2
    backend = PostgresBackend(args.dsn)
    files = collect(args.paths)
    run = deviations = mismatches = bad_files = 0
    for path in files:
        report = run_file(path, backend, display(path))
        run += report.run
        deviations += report.deviations
        mismatches += len(report.failures)
        if report.failures:
            bad_files += 1
            print(report.summary(limit=1000))
            print()
        elif args.verbose:
            print(f"{report.path}: ok ({report.run} records, {report.deviations} pg-deviations)")
    version = backend.server_version
    print(
        f"pgcheck on PostgreSQL {version // 10000}.{version % 10000}: {len(files)} file(s), "
        f"{run} record(s) verified, {deviations} pg-deviation(s) skipped, "
        f"{mismatches} mismatch(es) in {bad_files} file(s)"
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
