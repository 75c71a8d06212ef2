"""Reading files on the workers: ``read_parquet`` (and the other readers) of several
files, ``COPY ... FROM`` a glob, ``INSERT ... SELECT`` from files.

A statement that reads a glob matching several files is run with the files spread over
the shards (the biggest first, each to the least loaded shard), every shard reading
only its own files, in parallel:

* a SELECT over one reader (no cluster table) is split as a sharded table would be
  (``split.py``): each shard runs the partial over its files, the coordinator merges;
* ``COPY t FROM 'glob'`` and ``INSERT INTO t SELECT ... FROM read_parquet('glob')``
  (a plain SELECT: no aggregates, DISTINCT, ORDER BY or LIMIT, which would need all
  files at once) run on each shard inside a throwaway fork holding ``t`` emptied, so
  the engine itself applies casts, defaults, NOT NULL and CHECK exactly as it would
  for the single engine; the rows it produced are hash-partitioned on the table's
  partition key and exchanged (``shuffle.py``'s exchange: each shard receives only its
  rows), then loaded on every shard in one two-phase-commit transaction, where keys
  are checked against the rows already there.

Paths are resolved on the coordinator (its file root applies) and sent as absolute
paths: the workers must see the same files (one machine, or shared storage).
Columns with sequence defaults are filled on the coordinator instead (a fork per shard
would hand out the same numbers twice).
"""
from __future__ import annotations

import os

from sqlglot import exp

from .ctes import with_of

_READERS = {"read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json",
            "read_json_auto", "read_ndjson", "read_ndjson_auto"}


def read_calls(tree: exp.Expression) -> list:
    """The reader calls of ``tree`` whose one positional argument is a string literal."""
    out = []
    for node in tree.walk():
        if isinstance(node, (exp.ReadCSV, exp.ReadParquet)) or (
                isinstance(node, exp.Anonymous) and str(node.this).lower() in _READERS):
            positional = ([node.this] if node.args.get("this") is not None and
                          not isinstance(node, exp.Anonymous) else []) + [
                a for a in node.expressions
                if not isinstance(a, (exp.EQ, exp.PropertyEQ, exp.Kwarg))]
            if len(positional) == 1 and isinstance(positional[0], exp.Literal) and \
                    positional[0].is_string:
                out.append((node, positional[0]))
            else:
                out.append((node, None))
    return out


def spread(paths: list[str], shards: int) -> dict[int, list[str]]:
    """Files per shard, balanced by size (largest first to the least loaded shard)."""
    def size(p):
        try:
            return os.path.getsize(p)
        except OSError:
            return 0
    load = [0] * shards
    out: dict[int, list[str]] = {}
    for p in sorted(paths, key=lambda p: (-size(p), p)):
        s = min(range(shards), key=lambda i: (load[i], i))
        load[s] += size(p) or 1
        out.setdefault(s, []).append(p)
    return {s: sorted(v) for s, v in out.items()}


def with_paths(tree: exp.Expression, index: int, paths: list[str]) -> exp.Expression:
    """A copy of ``tree`` whose ``index``-th reader call reads ``paths``."""
    tree = tree.copy()
    _, literal = read_calls(tree)[index]
    if len(paths) == 1:
        literal.replace(exp.Literal.string(paths[0]))
    else:
        literal.replace(exp.Array(expressions=[exp.Literal.string(p) for p in paths]))
    return tree


def plain_source(select: exp.Expression) -> bool:
    """Can this INSERT source run file by file (the union of its per-file results)?"""
    if not isinstance(select, exp.Select) or with_of(select) is not None:
        return False
    for arg in ("group", "having", "distinct", "order", "limit", "offset", "joins",
                "qualify"):
        if select.args.get(arg) is not None:
            return False
    return not any(isinstance(n, (exp.AggFunc, exp.Window, exp.Subquery, exp.Select,
                                  exp.Rand)) and n is not select for n in select.walk())


def copy_statements(tree: exp.Copy, paths: list[str]) -> list[str]:
    """One ``COPY t FROM 'file' (...)`` per file."""
    out = []
    for p in paths:
        one = tree.copy()
        one.set("files", [exp.Literal.string(p)])
        out.append(one.sql(dialect="postgres"))
    return out
