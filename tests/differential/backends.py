"""Running a generated :class:`~.sqlgen.Case` on rustmemodb, DuckDB or PostgreSQL.

Each run uses a fresh in-memory database (a fresh schema on PostgreSQL), creates and
fills the case's tables, runs the query and returns an :class:`Outcome`: the rows, or
the error.  Results are compared after normalisation: NUMERIC/DECIMAL and FLOAT become
``float`` (``-0.0`` becomes ``0.0``), numbers compare with a relative tolerance of
1e-9 (``avg`` and float sums may round differently), unordered results compare as
multisets.
"""

from __future__ import annotations

import decimal
import itertools
import math
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from .sqlgen import DUCKDB_TYPES, POSTGRES_TYPES, RUSTMEMODB_TYPES, Case

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    rows: list[tuple] | None = None
    error: str | None = None
    internal: bool = False  # a crash (not a database error)
    setup_failed: bool = False

    def __str__(self) -> str:
        if self.error is not None:
            kind = "INTERNAL ERROR" if self.internal else "error"
            where = " during setup" if self.setup_failed else ""
            return f"{kind}{where}: {self.error}"
        return "\n".join("    " + repr(r) for r in self.rows) or "    (no rows)"


def import_rustmemodb():
    try:
        import rustmemodb  # noqa: PLC0415
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT / "engine"))
        import rustmemodb  # noqa: PLC0415
    return rustmemodb


def _run(conn_factory, setup: list[str], query: str, is_db_error, describe_error) -> Outcome:
    try:
        conn = conn_factory()
    except Exception as exc:  # noqa: BLE001
        return Outcome(error=f"connect: {exc!r}", internal=True, setup_failed=True)
    try:
        cur = conn.cursor()
        for sql in setup:
            try:
                cur.execute(sql)
            except Exception as exc:  # noqa: BLE001
                return Outcome(
                    error=f"{describe_error(exc)} in {sql[:200]}",
                    internal=not is_db_error(exc),
                    setup_failed=True,
                )
        try:
            cur.execute(query)
            rows = [tuple(r) for r in cur.fetchall()]
        except Exception as exc:  # noqa: BLE001
            internal = not is_db_error(exc)
            text = describe_error(exc)
            if internal:
                text += "\n" + "".join(traceback.format_exception(exc, limit=-4))
            return Outcome(error=text, internal=internal)
        return Outcome(rows=rows)
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass


def run_rustmemodb(case: Case) -> Outcome:
    rmdb = import_rustmemodb()
    return _run(
        rmdb.connect,
        case.setup_sql(RUSTMEMODB_TYPES),
        case.query,
        lambda e: isinstance(e, rmdb.Error),
        lambda e: f"{type(e).__name__} [{getattr(e, 'sqlstate', None)}]: {e}",
    )


class _ReusedDuckDB:
    """One in-memory DuckDB for all cases (connecting costs ~100 ms); each case's
    tables are dropped before it runs; ``close()`` is a no-op."""

    conn = None

    def __init__(self, tables: list[str]) -> None:
        import duckdb  # noqa: PLC0415

        if _ReusedDuckDB.conn is None:
            _ReusedDuckDB.conn = duckdb.connect(":memory:")
        for name in tables:
            _ReusedDuckDB.conn.execute(f"DROP TABLE IF EXISTS {name}")

    def cursor(self):
        return _ReusedDuckDB.conn

    def close(self) -> None:
        pass


def run_duckdb(case: Case) -> Outcome:
    import duckdb  # noqa: PLC0415

    return _run(
        lambda: _ReusedDuckDB([t.name for t in case.tables]),
        case.setup_sql(DUCKDB_TYPES),
        case.query,
        lambda e: isinstance(e, duckdb.Error),
        lambda e: f"{type(e).__name__}: {e}",
    )


_schema_counter = itertools.count()


def run_postgres(case: Case, dsn: str) -> Outcome:
    """Run on PostgreSQL in a throw-away schema (C collation for code-point order)."""
    import psycopg  # noqa: PLC0415

    schema = f"diff_{next(_schema_counter)}"

    def connect():
        conn = psycopg.connect(dsn, autocommit=True)
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path TO {schema}")
        return conn

    # text columns collate as C so that ORDER BY and min/max use code-point order
    setup = [
        sql.replace(" TEXT", ' TEXT COLLATE "C"') if sql.startswith("CREATE TABLE") else sql
        for sql in case.setup_sql(POSTGRES_TYPES)
    ]
    out = _run(
        connect,
        setup,
        case.query,
        lambda e: isinstance(e, psycopg.Error),
        lambda e: f"{type(e).__name__} [{getattr(e, 'sqlstate', None)}]: {e}",
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return out


# -- comparison -----------------------------------------------------------------------


def normalize(value: object) -> object:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, (float, decimal.Decimal)):
        f = float(value)
        return 0.0 if f == 0 else f
    return value


def _sort_key(value: object) -> tuple:
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, round(float(value), 6))
    return (3, str(value))


def _values_equal(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def rows_equal(a_rows: list[tuple], b_rows: list[tuple], ordered: bool) -> bool:
    a = [tuple(normalize(v) for v in r) for r in a_rows]
    b = [tuple(normalize(v) for v in r) for r in b_rows]
    if len(a) != len(b):
        return False
    if not ordered:
        a = sorted(a, key=lambda r: tuple(_sort_key(v) for v in r))
        b = sorted(b, key=lambda r: tuple(_sort_key(v) for v in r))
    return all(
        len(ra) == len(rb) and all(_values_equal(x, y) for x, y in zip(ra, rb))
        for ra, rb in zip(a, b)
    )


def report(case: Case, name_a: str, a: Outcome, name_b: str, b: Outcome) -> str:
    return (
        f"{name_a} and {name_b} disagree ({'ordered' if case.ordered else 'as multisets'})\n"
        f"-- case:\n{case.describe()}\n"
        f"-- {name_a}:\n{a}\n-- {name_b}:\n{b}"
    )
