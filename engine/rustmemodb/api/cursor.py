"""PEP 249 cursor over engine Results, plus Arrow and pandas accessors.

Rows are converted from Arrow to Python tuples lazily, on the first fetch, so
``cur.arrow()``/``cur.df()`` on a large result never builds Python objects.
``description`` carries (name, SQL type name, None x5) per column.
"""
from __future__ import annotations

from typing import Iterator, Sequence

from ..lazy_import import arrow as pa

from .. import composite, errors, infinity, money, netaddr, numeric, ranges, timetz, types
from .range_text import ranges_as_text
from .guard import as_db_error, guarded
from .pandas_out import to_pandas


class Cursor:
    arraysize = 1
    # Per-instance state starts as these class-level defaults: ``conn.execute`` makes a
    # cursor per statement, and assigning them all in __init__ is measurable there.
    _result = None
    _rows: list | None = None
    _pos = 0
    rowcount = -1
    closed = False
    lastrowid = None

    def __init__(self, connection) -> None:
        self.connection = connection

    # ---- execution ------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence | dict | None = None) -> "Cursor":
        if self.closed:
            raise errors.InterfaceError("cursor is closed")
        connection = self.connection
        if connection._closed:
            raise errors.InterfaceError("connection is closed")
        if type(sql) is not str:
            sql = _statement_text(sql)
        try:
            with connection._lock:   # threads sharing a connection take turns (threadsafety 2)
                result = connection._session.execute(sql, params)
        except errors.Error:
            raise
        except Exception as exc:   # a bug below: still a DB-API error (api/guard.py)
            raise as_db_error(exc) from exc
        self._set_result(result)
        return self

    @guarded
    def executemany(self, sql: str, seq_of_params) -> "Cursor":
        self._check_open()
        if type(sql) is not str:
            sql = _statement_text(sql)
        if isinstance(seq_of_params, (str, bytes)) or not hasattr(seq_of_params, "__iter__"):
            raise errors.ProgrammingError(
                "executemany() needs a sequence of parameter sets, not "
                f"{type(seq_of_params).__name__}", sqlstate="08P01")
        connection = self.connection
        with connection._lock:
            total = connection._session.execute_many(sql, seq_of_params)
        self._set_result(None)
        self.rowcount = total
        return self

    @guarded
    def executescript(self, sql: str) -> "Cursor":
        if type(sql) is not str:
            sql = _statement_text(sql)
        from ..sql.split import split_statements
        for text, _ in split_statements(sql):
            self.execute(text)
        return self

    def _set_result(self, result) -> None:
        self._result = result
        self._rows = None
        self._pos = 0
        self.rowcount = result.rowcount if result is not None else -1

    # ---- metadata -------------------------------------------------------------------------
    @property
    def description(self):
        r = self._result
        if r is None or (r.table is None and r.rows is None):
            return None
        return [(name, t, None, None, None, None, None) for name, t in r.columns]

    @property
    def sql_types(self) -> list[str]:
        return [t for _, t in self._result.columns] if self._result is not None else []

    @property
    def statement_type(self) -> str:
        return self._result.kind if self._result is not None else ""

    @property
    def elapsed(self) -> float:
        return self._result.elapsed if self._result is not None else 0.0

    # ---- fetching ---------------------------------------------------------------------------
    @guarded
    def _materialize(self) -> list:
        if self._rows is None:
            r = self._result
            if r is None or (r.table is None and r.rows is None):
                raise errors.ProgrammingError("no results to fetch: the statement returned no rows",
                                              sqlstate="24000")
            if r.rows is not None:
                self._rows = rows_to_python(r.rows, r.columns)
            else:
                self._rows = arrow_to_rows(r.table, r.columns)
        return self._rows

    def fetchone(self):
        rows = self._materialize()
        if self._pos >= len(rows):
            return None
        self._pos += 1
        return rows[self._pos - 1]

    def fetchmany(self, size: int | None = None) -> list:
        rows = self._materialize()
        size = self.arraysize if size is None else size
        out = rows[self._pos:self._pos + size]
        self._pos += len(out)
        return out

    def fetchall(self) -> list:
        rows = self._materialize()
        out = rows[self._pos:]
        self._pos = len(rows)
        return out

    def __iter__(self) -> Iterator:
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    @guarded
    def arrow(self) -> pa.Table:
        """The whole result as a ``pyarrow.Table`` (zero-copy from the engine)."""
        if self._result is None:
            raise errors.ProgrammingError("no results: execute a statement first", sqlstate="24000")
        return self._result.arrow()

    fetch_arrow_table = arrow

    @guarded
    def df(self):
        """The whole result as a pandas DataFrame (pandas imported here, lazily)."""
        return to_pandas(self._readable())

    fetchdf = fetch_df = df      # DuckDB's names for the same

    @guarded
    def pl(self):
        import polars as pl
        return pl.from_arrow(self._readable())

    def _readable(self) -> pa.Table:
        """``arrow()`` with ranges, network addresses and money as PostgreSQL's text and
        numerics as exact decimals, for DataFrames (``arrow()`` keeps their ordered stored forms: the cluster moves
        results as Arrow)."""
        return readable_text(ranges_as_text(self.arrow(), self.sql_types),
                             self._result.columns)

    # ---- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self.closed = True
        self._result = None

    def _check_open(self) -> None:
        if self.closed:
            raise errors.InterfaceError("cursor is closed")
        self.connection._check_open()

    def setinputsizes(self, sizes) -> None:
        pass

    def setoutputsize(self, size, column=None) -> None:
        pass

    def __enter__(self) -> "Cursor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _statement_text(sql) -> str:
    """The statement as text: a ``str`` subclass is accepted, anything else is 42601."""
    if isinstance(sql, str):
        return str(sql)
    raise errors.ProgrammingError(
        f"the statement must be a string, not {type(sql).__name__}", sqlstate="42601")


def _text_of(t: str):
    """How a value of ``t`` that arrow() holds in a machine form reads as text in df()
    and pl(): network addresses (binary keys, netaddr.py) and money (cents, money.py)."""
    if t in types.NETWORK_TYPES:
        return lambda v: netaddr.output(t, v)
    if t == types.MONEY:
        return money.format
    if t == types.TIMETZ:
        return timetz.format
    return None


def readable_text(table: pa.Table, columns) -> pa.Table:
    """``table`` with its inet/cidr/macaddr/macaddr8 and money columns (and arrays of
    them) as PostgreSQL's text ('10.0.0.0/8', '$1,234.56'): what df() and pl() hand
    out, as psycopg reads such columns; fetch*() gives ipaddress objects for inet/cidr
    and the text of the others, arrow() the stored form (binary keys that sort, group
    and join as the addresses do; money as int64 cents)."""
    for i, (_, t) in enumerate(columns):
        if i >= table.num_columns:
            break
        array = types.is_array(t)
        fn = _text_of(types.element_type(t) if array else t)
        if fn is None:
            continue
        values = table.column(i).to_pylist()
        if array:
            text = [None if a is None else [None if v is None else fn(v) for v in a]
                    for a in values]
            typed = pa.array(text, pa.list_(pa.large_string()))
        else:
            typed = pa.array([None if v is None else fn(v) for v in values], pa.large_string())
        table = table.set_column(i, table.field(i).name, typed)
    return table


def arrow_to_rows(table: pa.Table, columns, python: bool = True) -> list[tuple]:
    """A result table's rows in DB-API form; ``python=False`` (the wire server) keeps an
    infinite date/timestamp as its ``infinity`` singleton instead of ``datetime.max``."""
    if table.num_columns == 0:
        return [()] * table.num_rows
    cols = []
    for col, (_, t) in zip(table.columns, columns):
        try:
            values = col.to_pylist()
        except OverflowError:         # an infinite date/timestamp (infinity.py)
            values = infinity.pylist(col)
            if python:
                values = [_python_value(v) for v in values]
        if t in _CONVERTED and t != types.INTERVAL:    # UUID, JSON and arrays of them
            values = [types.to_python(t, v) for v in values]
        elif t == types.INTERVAL:
            values = [None if v is None else types.Interval.of(v)
                      for v in values]
        cols.append(values)
    return list(zip(*cols))


def _python_value(v):
    if isinstance(v, list):
        return [_python_value(x) for x in v]
    return infinity.python_value(v)


_TEMPORAL = frozenset(types.TEMPORAL_TYPES) | frozenset(t + "[]" for t in types.TEMPORAL_TYPES)


def rows_to_python(rows: list, columns, python: bool = True) -> list:
    """Row-path results in DB-API form; only UUID/JSON columns need converting, and
    (unless ``python=False``: the wire server) infinite dates/timestamps."""
    for _, t in columns:   # a loop, not any(genexpr): this runs for every point SELECT
        if t in _CONVERTED or (python and t in _TEMPORAL):
            break
    else:
        return rows if isinstance(rows, list) else list(rows)
    # Only the columns whose values change (to_python leaves the others as they are).
    convert = [(i, t) for i, (_, t) in enumerate(columns)
               if t in _CONVERTED or (python and t in _TEMPORAL)]
    if all(t in _TEMPORAL for _, t in convert):
        # dates/timestamps only: rows change only where an infinity is (rarely)
        rows = rows if isinstance(rows, list) else list(rows)
        infinite = infinity.Infinite
        if not any(isinstance(row[i], (infinite, list)) for row in rows for i, _ in convert):
            return rows
    out = []
    for row in rows:
        values = list(row)
        for i, t in convert:
            values[i] = _row_value(t, values[i])
        out.append(tuple(values))
    return out


class _Types(frozenset):
    """The converted types: these, and every composite type (composite.py ``Record``)."""

    def __contains__(self, t) -> bool:
        return frozenset.__contains__(self, t) or t.startswith(composite.PREFIX + "[")


_CONVERTED = _Types((types.UUID, types.JSON, types.INTERVAL, types.UUID + "[]",
                        types.JSON + "[]", types.JSONT, types.JSONT + "[]", types.MONEY,
                        types.MONEY + "[]", types.TIMETZ, types.TIMETZ + "[]",
                        types.NUMERIC, types.NUMERIC + "[]",
                        *ranges.RANGE_TYPES,
                        *(r + "[]" for r in ranges.RANGE_TYPES)) +
                       types.NETWORK_TYPES + tuple(t + "[]" for t in types.NETWORK_TYPES))


def _row_value(t: str, v):
    if t in _TEMPORAL:
        return _python_value(v)
    # A row read back from an Arrow chunk holds pyarrow's MonthDayNano for an INTERVAL
    # (the row-wise tail holds Interval): both leave as Interval.
    if t == types.INTERVAL and v is not None and not isinstance(v, types.Interval):
        return types.Interval.of(v)
    return types.to_python(t, v)
