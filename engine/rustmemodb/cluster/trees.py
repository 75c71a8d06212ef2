"""The statement-tree helpers of the cluster coordinator: names, literals, placements and
result shapes read off sqlglot trees, shared by its SELECT planning (select_plan.py),
its write routing (write_route.py) and the connection (connect.py)."""

from __future__ import annotations

import itertools
import re

import pyarrow as pa
from sqlglot import exp

from .. import errors, numeric_arrays, types
from ..result import Result
from ..sql.parse import parse_one
from .ctes import set_with, with_of
from .grouped import aggregate_calls
from .partition import TableInfo, refuse, shard_of_key
from .shuffle import conjuncts
from .split import _Unsupported, _limits
from .wire import ipc_to_table


_FIRST_WORD = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*\(?\s*([A-Za-z]+)", re.S)
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog"}
SHUFFLE_ROWS = 20_000
# Most values of an uncorrelated ``IN (SELECT …)`` written into the statement as a list.
IN_LIST_ROWS = 10_000
# Plan splits remembered per connection (by statement text, for one schema root).
PLAN_SPLITS_KEPT = 256
# Relation size functions: the rows (and their memory) are on the shards.
_SIZE_FUNCTIONS = {"pg_table_size", "pg_relation_size", "pg_total_relation_size",
                   "pg_indexes_size"}


# ---- helpers ------------------------------------------------------------------------------
def _in_order(sides: list) -> list:
    """Exchanges in the order they run: those a side's scan reads (``Side.reads``) first."""
    out: list = []
    for side in sides:
        out += _in_order(side.reads or []) + [side]
    return out


def _tokens_by_target(per_source) -> dict:
    """``{target: [token, ...]}`` from each source shard's ``{target: token}`` (tokens:
    what a target needs to collect a batch sent to it, ``exchange.py``)."""
    out: dict = {}
    for tokens in per_source:
        for t, token in (tokens or {}).items():
            out.setdefault(t, []).append(token)
    return out


def _first_word(sql: str) -> str:
    m = _FIRST_WORD.match(sql)
    return m.group(1).lower() if m else ""


def _parse(sql: str) -> exp.Expression:
    """The statement as the single engine reads it (sql/parse.py: PostgreSQL's case
    folding and literals sqlglot alone would misread, such as ``interval '1 day
    02:00'``), so routing and splitting see the tree the shards will bind."""
    return parse_one(sql)


def _plain(params):
    if params is None:
        return None
    if isinstance(params, dict):
        return dict(params)
    return list(params)


def _literal(value) -> exp.Expression:
    import datetime
    import decimal
    import uuid
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float, decimal.Decimal)):
        lit = exp.Literal.number(value)
        return exp.Neg(this=exp.Literal.number(-value)) if value < 0 else lit
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")),
                        "TIMESTAMP" if value.utcoffset() is None else "TIMESTAMPTZ")
    if isinstance(value, datetime.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, uuid.UUID):
        return exp.cast(exp.Literal.string(str(value)), "UUID")
    raise refuse(f"a parameter of type {type(value).__name__}")


def _inline(tree: exp.Expression, params) -> exp.Expression:
    """The statement with its parameters written in as literals."""
    tree = tree.copy()
    positional = list(params) if not isinstance(params, dict) else None
    counter = itertools.count()

    def fn(node):
        if isinstance(node, exp.Placeholder):
            if node.this and positional is None:
                return _literal(params[node.this])
            if positional is None:
                raise errors.sql_error("08P01", "named parameters need a mapping")
            i = next(counter)
            if i >= len(positional):
                raise errors.sql_error("08P01", "not enough parameters")
            return _literal(positional[i])
        if isinstance(node, exp.Parameter) and positional is not None:
            i = int(node.this.this) - 1
            if not 0 <= i < len(positional):
                raise errors.sql_error("08P01", f"there is no parameter ${i + 1}")
            return _literal(positional[i])
        return node
    return tree.transform(fn)


def _sql_type_name(sql_type: str):
    if sql_type == types.FLOAT:   # sqlglot writes FLOAT as REAL (float4 in PostgreSQL)
        return exp.DataType.build("DOUBLE PRECISION")
    if sql_type == types.MONEY or sql_type in types.NETWORK_TYPES or \
            sql_type in types.BIT_TYPES:
        # names sqlglot's default dialect does not read (cidr, macaddr: user types)
        return exp.DataType.build(sql_type, dialect="postgres", udt=True)
    return types.TEXT if sql_type == types.NULL else types.sql_name(sql_type)


def _typed_literal(value, sql_type: str) -> exp.Expression:
    """A constant of ``sql_type`` holding ``value`` (a subquery's result written into
    the statement); 0A000 for values that have no exact literal here."""
    import math
    if value is None:
        return exp.cast(exp.Null(), _sql_type_name(sql_type))
    if isinstance(value, float) and not math.isfinite(value):
        raise refuse("a non-finite float written as a constant")
    if isinstance(value, float):
        value = float(repr(value))
    if sql_type in types.BIT_TYPES and isinstance(value, str):
        # B'...' (a cast to BIT would be bit(1): cut to one bit)
        lit = exp.BitString(this=types.bitstring.parse(value))
        return lit if sql_type == types.BIT else exp.cast(lit, _sql_type_name(sql_type))
    if sql_type == types.NUMERIC and type(value) is bytes:   # an ordered key (numeric.py)
        return exp.cast(exp.Literal.string(types.numeric.text_of(value)), types.NUMERIC)
    if sql_type == types.TIMETZ and type(value) is int:      # an ordered key (timetz.py)
        return exp.cast(exp.Literal.string(types.timetz.format(value)), types.TIMETZ)
    if sql_type == types.MONEY and type(value) is int:       # cents, as Arrow holds them
        return exp.cast(exp.Literal.string(types.money.format(value)), _sql_type_name(sql_type))
    if sql_type in types.NETWORK_TYPES and isinstance(value, bytes) and \
            types.netaddr.valid_key(sql_type, value):           # a binary key (netaddr.py)
        return exp.cast(exp.Literal.string(types.netaddr.as_text(sql_type, value)),
                        _sql_type_name(sql_type))
    return exp.cast(_literal(value), _sql_type_name(sql_type))


def _bare_nulls(source: exp.Expression) -> bool:
    """Whether a SELECT (or an arm of a set operation) lists a bare NULL, which the
    engine types as its INSERT target's column (a text column of ``__source`` would not
    be)."""
    selects = [source] if isinstance(source, exp.Select) else list(source.find_all(exp.Select))
    return any(isinstance(e.unalias(), exp.Null) for s in selects for e in s.expressions)


def _cte_to_source(tree: exp.Insert) -> exp.Insert:
    """``WITH ... INSERT ... SELECT`` as ``INSERT ... WITH ... SELECT``: the CTEs belong
    to the source query (a copy; the source is a SELECT of no WITH of its own)."""
    tree = tree.copy()
    w = with_of(tree)
    set_with(tree, None)
    set_with(tree.args["expression"], w)
    return tree


def _conflict_sets_key(tree: exp.Insert, info: TableInfo) -> bool:
    """INSERT ... ON CONFLICT DO UPDATE setting a partition key column to something else
    than the excluded row's (run as a gathered write)."""
    conflict = tree.args.get("conflict")
    return conflict is not None and not info.replicated and any(
        isinstance(e, exp.EQ) and isinstance(e.this, exp.Column) and
        e.this.name in (info.key or info.columns) and not (
            isinstance(e.expression, exp.Column) and
            e.expression.table.lower() == "excluded" and
            e.expression.name == e.this.name)
        for e in (conflict.args.get("expressions") or []))


def _writes(tree: exp.Expression) -> bool:
    return any(isinstance(n, (exp.Insert, exp.Update, exp.Delete, exp.Merge))
               for n in tree.walk())


def _gathered_statement(tree: exp.Expression) -> bool:
    """Is this a write run over gathered rows whatever its shape (``gathered.py``):
    MERGE, or a statement with a data-modifying WITH query?"""
    with_ = with_of(tree)
    return isinstance(tree, exp.Merge) or with_ is not None and any(
        _writes(c.this) for c in with_.expressions)


def _referenced(tree: exp.Expression, root, catalog: dict) -> tuple[list, bool]:
    """Cluster tables the statement reads (CTE names excluded) and whether a view is read."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    names, view = [], False
    for t in tree.find_all(exp.Table):
        name = _table_name(t)
        if name is None or name in ctes:
            continue
        if name in catalog and name not in names:
            names.append(name)
        elif name in getattr(root, "views", {}):
            view = True
    return names, view


def _table_name(t: exp.Table) -> str | None:
    """The catalog name of a table reference (None: a system schema's table)."""
    db = t.args.get("db")
    if db is not None and db.name.lower() != "public":
        return None
    ident = t.this
    if isinstance(ident, exp.Identifier):
        return ident.this if ident.quoted else ident.this.lower()
    return t.name.lower()


def _table_occurrences(tree: exp.Expression, catalog: dict) -> list:
    return [n for n in (_table_name(t) for t in tree.find_all(exp.Table)) if n in catalog]


def _top_occurrences(tree: exp.Select, catalog: dict) -> list:
    """The cluster tables of ``tree``'s own FROM and JOINs (not of its subqueries)."""
    from_ = tree.args.get("from_")
    top = ([from_.this] if from_ is not None else []) + \
        [j.this for j in tree.args.get("joins") or []]
    return [n for n in (_table_name(t) for t in top if isinstance(t, exp.Table))
            if n in catalog]


def _pinned_shard(tree: exp.Expression, info: TableInfo, shards: int) -> int | None:
    """The one shard a WHERE ``key = constant [AND ...]`` on a single table touches."""
    if not info.key or tree.args.get("joins") or tree.args.get("from_") is not None and \
            isinstance(tree, (exp.Update, exp.Delete)):
        return None
    if tree.args.get("using"):   # (sqlglot sets False for a DELETE without USING)
        return None
    where = tree.args.get("where")
    if where is None or any(isinstance(n, (exp.Select, exp.Subquery)) for n in where.walk()):
        return None
    found = {}
    for c in conjuncts(where.this):
        if not isinstance(c, exp.EQ):
            continue
        for col, lit in ((c.this, c.expression), (c.expression, c.this)):
            if isinstance(col, exp.Column) and col.name in info.key:
                value = _literal_value(lit, info.types.get(col.name))
                if value is not _NO:
                    found[col.name] = value
    if set(found) != set(info.key):
        return None
    return shard_of_key(tuple(found[k] for k in info.key), shards)


_NO = object()


def _literal_value(node, sql_type):
    neg = False
    if isinstance(node, exp.Neg):
        neg, node = True, node.this
    if not isinstance(node, exp.Literal):
        return _NO
    if node.is_string:
        return node.this if sql_type == types.TEXT and not neg else _NO
    if sql_type != types.INTEGER:
        return _NO
    try:
        v = int(node.this)
    except ValueError:
        return _NO
    return -v if neg else v


def _local_from(tree: exp.Expression, part: list, catalog: dict, occurrences: list) -> bool:
    """Can FROM/WHERE run on each shard alone? One sharded table (others replicated), or
    sharded tables inner-joined on their single-column partition keys."""
    if any(isinstance(n, exp.TableSample) for n in tree.walk()):
        return False   # a sample of each shard is not the sample of the table
    if len([o for o in occurrences if o in part]) == 1:
        joins = tree.args.get("joins") or []
        for j in joins:   # outer joins with the sharded table on the null side would be wrong
            side = (j.args.get("side") or "").upper()
            if side in ("RIGHT", "FULL") or j.args.get("kind", "").upper() in ("CROSS",) and False:
                return False
            tbl = j.this
            if isinstance(tbl, exp.Table) and tbl.name in part and side == "LEFT":
                return False
        return True
    joins = tree.args.get("joins") or []
    if any((j.args.get("side") or "") for j in joins):
        return False
    keys = {}
    for p in part:
        info = catalog[p]
        if len(info.key) != 1:
            return False
        keys[p] = info.key[0]
    alias = {}
    for t in tree.find_all(exp.Table):
        alias[t.alias_or_name] = _table_name(t)
    linked = set()
    for j in joins:
        on = j.args.get("on")
        if on is None:
            return False
        for c in conjuncts(on):
            if isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) and \
                    isinstance(c.expression, exp.Column):
                a, b = alias.get(c.this.table), alias.get(c.expression.table)
                if a in keys and b in keys and c.this.name == keys[a] and \
                        c.expression.name == keys[b] and \
                        catalog[a].types[keys[a]] == catalog[b].types[keys[b]]:
                    linked.update((c.this.table, c.expression.table))
    sharded_aliases = {k for k, v in alias.items() if v in keys}
    return sharded_aliases <= linked


def _colocated(anchor: exp.Table, top: list, joins: list, part: list, catalog: dict) -> list:
    """The top-level tables inner-joined to ``anchor`` (directly or through each other)
    on equal single-column partition keys of one type: their rows meet on the same shard."""
    local = [anchor]
    tables = [t for t in top if isinstance(t, exp.Table) and _table_name(t) in part]
    by_alias = {t.alias_or_name: t for t in tables}

    def owner(col: exp.Column):
        if col.table:
            return by_alias.get(col.table)
        found = [t for t in tables if col.name in catalog[_table_name(t)].columns]
        return found[0] if len(found) == 1 else None

    def keyed(col: exp.Column):
        t = owner(col)
        if t is None:
            return None
        info = catalog[_table_name(t)]
        if len(info.key) == 1 and info.key[0] == col.name:
            return t, info.types[col.name]
        return None

    changed = True
    while changed:
        changed = False
        for j in joins:
            if (j.args.get("side") or "") or j.args.get("on") is None:
                continue
            for c in conjuncts(j.args["on"]):
                if not (isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) and
                        isinstance(c.expression, exp.Column)):
                    continue
                a, b = keyed(c.this), keyed(c.expression)
                if a is None or b is None or a[1] != b[1]:
                    continue
                in_a = any(a[0] is t for t in local)
                in_b = any(b[0] is t for t in local)
                if in_a != in_b:
                    local.append(b[0] if in_a else a[0])
                    changed = True
    return local


def _join_star(tree: exp.Expression, catalog: dict) -> list | None:
    """What ``*`` stands for over the FROM of ``tree``: ``(alias, column)`` pairs of its
    cluster tables in order (None when that is not plain: USING / NATURAL merge columns,
    or a FROM item that is not a cluster table)."""
    from_ = tree.args.get("from_")
    if from_ is None:
        return None
    joins = tree.args.get("joins") or []
    if any(j.args.get("using") or j.args.get("method") for j in joins):
        return None
    out = []
    for t in [from_.this] + [j.this for j in joins]:
        name = _table_name(t) if isinstance(t, exp.Table) else None
        alias = t.args.get("alias") if isinstance(t, exp.Table) else None
        if name is None or name not in catalog or alias is not None and alias.columns:
            return None
        out.extend((t.alias_or_name, c) for c in catalog[name].columns)
    return out


def _reply_result(reply: tuple) -> Result:
    _, kind, columns, data, rowcount = reply
    if columns is None:
        return Result(columns=[], rowcount=rowcount, kind=kind)
    return Result(columns=[tuple(c) for c in columns], table=ipc_to_table(data),
                  rowcount=rowcount, kind=kind)


def _combine(replies: dict) -> Result:
    results = [_reply_result(replies[s]) for s in sorted(replies)]
    first = results[0]
    total = sum(max(r.rowcount, 0) for r in results)
    if first.table is None:
        return Result(columns=[], rowcount=total, kind=first.kind)
    table = numeric_arrays.concat_tables([r.table for r in results])
    return Result(columns=first.columns, table=table, rowcount=total, kind=first.kind)


_PREFIX_WINDOWS = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Lag)


def _window_prefix(tree: exp.Select):
    """``(ORDER BY, n)`` when ``tree`` needs only the first ``n`` rows, by its windows'
    one ordering, of the rows its WHERE keeps: every window is ROW_NUMBER, RANK,
    DENSE_RANK or LAG over that ordering with no PARTITION BY (a row's value then
    depends on the rows before it only), and the statement returns its first rows
    in that order (ORDER BY that ordering, or a ranking output ascending) with
    LIMIT n - OFFSET m (n the sum). Each shard's first n rows hold the first n of all,
    so the split query of the columns read sends a top-n per shard. None otherwise."""
    if tree.args.get("distinct") is not None or tree.args.get("windows") or \
            tree.args.get("order") is None or tree.args.get("limit") is None:
        return None
    try:
        limit, offset = _limits(tree)
    except _Unsupported:
        return None
    if limit is None:
        return None
    windows = [n for n in tree.walk() if isinstance(n, exp.Window)]
    if not windows:
        return None
    order = windows[0].args.get("order")
    if order is None:
        return None
    key = order.sql(dialect="postgres")
    for w in windows:
        if not isinstance(w.this, _PREFIX_WINDOWS) or w.args.get("partition_by") or \
                w.args.get("spec") is not None or w.args.get("alias") is not None or \
                w.args.get("order") is None or w.args["order"].sql(dialect="postgres") != key:
            return None
        if isinstance(w.this, exp.Lag) and w.this.args.get("offset") is not None and not (
                isinstance(w.this.args["offset"], exp.Literal) and
                not w.this.args["offset"].is_string):
            return None
    items = tree.args["order"].expressions
    same = len(items) >= len(order.expressions) and all(
        a.sql(dialect="postgres") == b.sql(dialect="postgres")
        for a, b in zip(items, order.expressions))
    if not same:
        first = items[0]
        if first.args.get("desc") or first.args.get("nulls_first"):
            return None
        target = first.this
        outputs = tree.expressions
        picked = None
        if isinstance(target, exp.Literal) and not target.is_string and \
                target.this.isdigit() and 1 <= int(target.this) <= len(outputs):
            picked = outputs[int(target.this) - 1]
        elif isinstance(target, exp.Column) and not target.table:
            named = [e for e in outputs if isinstance(e, exp.Alias) and e.alias == target.name]
            picked = named[0] if len(named) == 1 else None
        picked = picked.this if isinstance(picked, exp.Alias) else picked
        if not (isinstance(picked, exp.Window) and
                isinstance(picked.this, (exp.RowNumber, exp.Rank, exp.DenseRank))):
            return None
    return order.copy(), limit + offset


def _spelled_in(node: exp.In) -> bool:
    """Is ``node`` the IN of ``CASE WHEN x IS NULL THEN … WHEN x IN (…) THEN TRUE …``,
    the spelling ``_long_in`` gives a long IN (its subquery is placed, not listed)?"""
    case = node.parent.parent if isinstance(node.parent, exp.If) else None
    if not isinstance(case, exp.Case) or node.arg_key != "this":
        return False
    ifs = case.args.get("ifs") or []
    return len(ifs) == 2 and ifs[1] is node.parent and isinstance(ifs[0].this, exp.Is) \
        and ifs[0].this.this == node.this and isinstance(ifs[0].this.expression, exp.Null)


def _windows_over_rows(tree: exp.Select) -> bool:
    """Whether ``tree`` computes window functions straight over its FROM rows: it has
    a window, no GROUP BY, HAVING, WITH, aggregate in its select list, nor a subquery,
    set operation, LATERAL or inner SELECT anywhere (the shapes whose read columns can
    be gathered and windowed on the coordinator)."""
    if tree.args.get("group") or tree.args.get("having") or with_of(tree) is not None:
        return False
    nodes = list(tree.walk())
    if not any(isinstance(n, exp.Window) for n in nodes):
        return False
    if any(isinstance(n, (exp.Subquery, exp.SetOperation, exp.Lateral)) or
           isinstance(n, exp.Select) and n is not tree for n in nodes):
        return False
    aggs: list = []
    for e in tree.expressions:
        aggregate_calls(e, aggs)
    return not aggs


def _describe_setop(plan: dict, sp) -> None:
    """EXPLAIN's account of a set operation's split: the exchanges its SELECTs go
    through and the SELECTs that run first as split queries of their own."""
    if sp.sides:
        plan["exchanges"] = [(f"SELECT {i + 1} of the set operation",
                              f"column {sp.position + 1}", side.scan)
                             for i, side in enumerate(sp.sides)]
    if sp.first:
        plan["first"] = [(sql, "shard 0" if p is None else
                          f"the shards by hash(column {p + 1})")
                         for _, sql, p in sp.first]
