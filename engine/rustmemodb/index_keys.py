"""Key functions of keyed indexes: indexes on expressions (``lower(email)``) and partial
UNIQUE indexes (``... WHERE NOT deleted``).

Storage keeps such an index as a hash index whose key is computed from each row
(storage/index.py ``KeyedUniqueIndex``); it gets the function from
``TableSchema.keyer``, which calls the compiler set here. The compiler binds the
index's SQL text (sql/bind/bind_index.py) and compiles it to row closures
(exec/expr/row.py), two layers storage may not import: this module sits above them
and database.py installs it (``set_key_compiler``) when the engine is imported.
"""
from __future__ import annotations

from typing import Any

from . import errors, numeric
from .storage.index import with_null_keys
from .storage.schema import IndexDef, TableSchema

_REGISTRY: list = []   # the built-in functions, made on first use (index keys call no others)


class IndexKeyer:
    """A keyed index's key of a row: a value (one part) or a tuple, or None when the
    predicate is not true for the row (the index leaves it out)."""

    __slots__ = ("parts", "pred", "text", "exprs", "pred_expr", "decimal_parts",
                 "nulls_equal")

    def __init__(self, parts: list, pred, text: str, exprs: tuple = (),
                 pred_expr=None, nulls_equal: bool = False) -> None:
        self.parts = parts
        self.pred = pred
        self.text = text     # the key as messages name it: ``lower(email)``
        # the bound key parts and predicate (optimize/use_index.py matches them)
        self.exprs = exprs
        self.pred_expr = pred_expr
        # the NUMERIC parts, which the key holds as numbers (_by_value, storage/index.py)
        self.decimal_parts = tuple(i for i, e in enumerate(exprs)
                                   if getattr(e, "type", None) == numeric.NUMERIC)
        # UNIQUE NULLS NOT DISTINCT: a NULL part is held as NULL_KEY (storage/index.py)
        self.nulls_equal = nulls_equal

    def __call__(self, row: tuple) -> object:
        if self.pred is not None and self.pred(row, ()) is not True:
            return None
        parts = self.parts
        if len(parts) == 1:
            key = _hashable(parts[0](row, ()))
        else:
            key = tuple(_hashable(p(row, ())) for p in parts)
        return with_null_keys(key) if self.nulls_equal else key

    def keys(self, table: Any) -> list:
        """The keys of an Arrow table's rows (its first columns are the table's)."""
        from .storage.index_upkeep import table_rows
        return [self(r) for r in table_rows(table)]


def _hashable(v: object) -> object:
    return tuple(v) if isinstance(v, list) else v


def _by_value(fn):
    """A NUMERIC key part as a number (numeric.key_value): 2.5 and 2.50 are one key, as
    in a unique index on a column (storage/index.py)."""
    if fn is None:
        return None

    def part(row, params):
        v = fn(row, params)
        return None if v is None else numeric.key_value(v)
    return part


def compile_keyer(schema: TableSchema, definition: IndexDef) -> IndexKeyer:
    from .exec.expr.row import try_compile_row
    from .exec.functions.registry import FunctionRegistry
    from .sql.bind.binder import StatementBinder
    from .sql.bind.bind_index import bind_key_parts
    if not _REGISTRY:
        _REGISTRY.append(FunctionRegistry())
    stmt = StatementBinder(None, _REGISTRY[0])
    parts, pred = bind_key_parts(stmt, schema, definition.exprs, definition.predicate)
    fns = [_by_value(try_compile_row(e)) if getattr(e, "type", None) == numeric.NUMERIC
           else try_compile_row(e) for e in parts]
    pred_fn = try_compile_row(pred) if pred is not None else None
    if any(f is None for f in fns) or (pred is not None and pred_fn is None):
        raise errors.not_supported(f'the expressions of index "{definition.name}"',
                                   hint="Index simpler expressions of the row's columns.")
    return IndexKeyer(fns, pred_fn, ", ".join(definition.exprs), tuple(parts), pred,
                      definition.nulls_not_distinct)

