"""The result grid's data: the first page in the output, later pages over the comm.

A ``%sql`` result with rows carries, beside ``text/html`` and ``text/plain``, the MIME
type ``application/vnd.rustmemodb.result+json``: the columns, their SQL types, the row
count and the first page of rows. The JupyterLab renderer (``labextension/src/grid.ts``)
draws a virtualised grid and asks for the rows it scrolls to with ``page`` requests on
the sidebar's comm (``sidebar.py``), so a result of a million rows never leaves the
kernel at once.

The kernel keeps the Arrow tables of the latest results (:data:`KEEP` of them) under a
random id. Sorting and filtering from the grid's headers run as SQL on a private
connection whose replacement scan answers the name ``result`` with that table:
``SELECT * FROM result WHERE CAST("c" AS TEXT) ILIKE $1 ORDER BY "d" DESC LIMIT n OFFSET m``.
An output whose result was forgotten (or a notebook reopened without its kernel) keeps
its first page and says so.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import uuid
from collections import OrderedDict
from typing import Any

import pyarrow as pa

MIME = "application/vnd.rustmemodb.result+json"
#: rows in the output itself, and the page size the grid asks for
FIRST_PAGE = 100
#: results kept for paging (the oldest are forgotten first)
KEEP = 32
#: the largest page one request may ask for
MAX_PAGE = 1000


class ResultStore:
    """The Arrow tables of the latest results, by id."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, table: pa.Table) -> str:
        key = uuid.uuid4().hex
        with self._lock:
            self._tables[key] = table
            while len(self._tables) > self.keep:
                self._tables.popitem(last=False)
        return key

    def get(self, key: str) -> pa.Table | None:
        with self._lock:
            return self._tables.get(key)


STORE = ResultStore()


def bundle(table: pa.Table, sql_types: list[str], *, sql: str = "", branch: str | None = None,
           elapsed: float | None = None) -> dict[str, Any]:
    """The JSON of the result grid MIME type for ``table`` (registers it for paging)."""
    key = STORE.add(table)
    return {
        "id": key,
        "columns": table.column_names,
        "types": list(sql_types),
        "total": table.num_rows,
        "offset": 0,
        "rows": json_rows(table.slice(0, FIRST_PAGE)),
        "page_size": FIRST_PAGE,
        "sql": sql,
        "branch": branch,
        "elapsed": elapsed,
    }


def page(request: dict[str, Any]) -> dict[str, Any]:
    """Answer a grid's ``page`` request: rows ``offset``.. after its sort and filter."""
    table = STORE.get(str(request.get("id")))
    if table is None:
        raise LookupError("this result is no longer in the kernel (re-run the cell to page through it)")
    offset = max(0, int(request.get("offset", 0)))
    limit = min(MAX_PAGE, max(1, int(request.get("limit", FIRST_PAGE))))
    sort = request.get("sort") or []
    filters = {k: v for k, v in (request.get("filter") or {}).items() if v not in (None, "")}
    if not sort and not filters:
        return {"offset": offset, "total": table.num_rows, "rows": json_rows(table.slice(offset, limit))}
    rows, total = query_page(table, sort, filters, offset, limit)
    return {"offset": offset, "total": total, "rows": rows}


def query_page(table: pa.Table, sort: list[dict[str, Any]], filters: dict[str, str],
               offset: int, limit: int) -> tuple[list[list[Any]], int]:
    """One page of ``table`` sorted and filtered by SQL in the engine; (rows, filtered total)."""
    import rustmemodb

    names = set(table.column_names)
    for column in [s.get("column") for s in sort] + list(filters):
        if column not in names:
            raise KeyError(f"no column {column!r} in this result")
    where, params = "", []
    if filters:
        where = " WHERE " + " AND ".join(f"CAST({quote(c)} AS TEXT) ILIKE ?" for c in filters)
        params = [f"%{v}%" for v in filters.values()]
    order = ""
    if sort:
        order = " ORDER BY " + ", ".join(f"{quote(s['column'])} {'DESC' if s.get('desc') else 'ASC'}" for s in sort)
    conn = rustmemodb.connect()
    conn.replacement_scan = lambda name: table if name == "result" else None
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT count(*) FROM result{where}", params)
        total = cur.fetchone()[0]
        cur.execute(f"SELECT * FROM result{where}{order} LIMIT {limit} OFFSET {offset}", params)
        return json_rows(cur.arrow()), total
    finally:
        conn.close()


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def json_rows(table: pa.Table) -> list[list[Any]]:
    """Rows as JSON-safe lists (dates and decimals as text, NaN as null, bytes as hex)."""
    columns = [[json_value(v) for v in col.to_pylist()] for col in table.columns]
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(table.num_rows)]


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)
