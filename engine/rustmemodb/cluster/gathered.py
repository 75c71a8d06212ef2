"""Writes computed on the coordinator and applied to the shards as row changes.

Some write statements cannot be cut into per-shard statements: MERGE, data-modifying
WITH queries, an UPDATE or an ON CONFLICT DO UPDATE that moves rows to other shards
(their partition key changes) while reading other tables or returning rows. For them
the coordinator

1. opens the statement's transaction on every shard (or uses the session's);
2. gathers, inside it, the rows of the tables the statement reads or writes (and of
   the tables linked to them by FOREIGN KEYs) into a fork of the schema mirror, each
   row with the id its shard gave it (``ShardHost.scan(with_rowid=True)``) - of a
   table the statement can only touch through the rows a filter finds, only those
   (``narrowing``: a MERGE target's rows matching the source's keys, the rows an
   UPDATE or DELETE's WHERE keeps, none of an INSERT target's, ...; the filter runs
   on each shard, ``ShardHost.scan_where``);
3. runs the statement there: results, RETURNING, errors (23505, 21000, ...) are the
   single engine's own, over all the rows at once;
4. compares each table it changed before and after, by row id: rows gone or changed
   are deleted on the shard they came from (by that shard's row id), rows new or
   changed are appended on the shard of their partition key (every shard for a
   REPLICATED table) - a partition-key update becomes a delete on the old shard and an
   insert on the new one (``ShardHost.apply_rows``);
5. commits all the shards it changed through two-phase commit, or none. A row some
   other transaction changed since the gather fails the prepare with 40001.

The gather is bounded by the rows the statement can touch where the filters above
apply, else by the tables it names: this is the path for statements whose shape the
per-shard plans do not cover, not for bulk writes (which keep their per-shard paths).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
from sqlglot import exp
from rustmemodb.lazy_import import compute as pc

from .. import errors, numeric_arrays
from ..result import Result
from . import twophase
from .ctes import with_of
from .partition import split_rows
from .wire import check, ipc_to_table, table_to_ipc
from .trees import _parse, _referenced, _table_name
from .. import infinity

ROWID = "_rowid"


def gathered_write(conn, sql: str, tables: list, why: str) -> Result:
    """Run write statement ``sql`` (parameters already written in) for connection
    ``conn`` as described above; ``tables``: the cluster tables it names."""
    b = conn.cluster.backend
    shards = list(range(conn.shards))
    own = not conn.in_txn
    began: list = []
    scratch = conn._scratch()
    tables = with_linked(tables, conn._root(), conn.catalog)
    rewritten, narrow = narrowing(conn, sql, tables, scratch)
    if rewritten != sql:   # (a MERGE source computed first: its tables are not gathered)
        sql = rewritten
        tables = with_linked(_referenced(_parse(sql), conn._root(), conn.catalog)[0],
                             conn._root(), conn.catalog)
    try:
        if own:
            for s in shards:
                check(b.call(s, "begin", conn.sid))
                began.append(s)
        origins = _gather(conn, scratch, tables, narrow)
        before = scratch.database.head
        result = scratch.execute(sql)._result
        after = scratch.database.head
        changes = _changes(conn, before, after, origins)
        for s in sorted(changes):
            for table, rowids, data in changes[s]:
                payload = table_to_ipc(data) if data is not None else None
                if payload is not None:
                    conn.cluster.ship(len(payload))
                check(b.call(s, "apply_rows", conn.sid, table, rowids, payload))
    except BaseException:
        if own:
            twophase.rollback_all(b, conn.sid, began)
        raise
    written = sorted(changes)
    if own:
        for s in shards:
            if s not in written:
                check(b.call(s, "rollback", conn.sid))   # read only: nothing to keep
        if written:
            twophase.commit(conn.cluster, conn.sid, written)
    else:
        conn.written.update(written)
    conn._advance_sequences(scratch)
    conn.last_plan = {"strategy": "gathered write", "why": why, "tables": tables,
                      "shards": written,
                      "narrowed": {t: n[2] for t, n in narrow.items()}}
    return result


def with_linked(tables: list, root, catalog: dict) -> list:
    """``tables`` and every cluster table tied to one of them by a FOREIGN KEY (either
    way, transitively): the engine's checks and cascades need their rows too."""
    out = list(tables)
    changed = True
    while changed:
        changed = False
        for name, version in root.tables.items():
            if name not in catalog:
                continue
            links = {fk.ref_table for fk in version.schema.foreign_keys}
            if name in out:
                new = [t for t in links if t in catalog and t not in out]
            elif links & set(out):
                new = [name]
            else:
                new = []
            if new:
                out += new
                changed = True
    return out


# ---- narrowing: gather only the rows a statement can touch ----------------------------

# Functions whose value changes from call to call: a filter using one is not repeatable.
_VOLATILE = frozenset({"random", "rand", "nextval", "setval", "currval", "lastval",
                       "clock_timestamp", "timeofday", "gen_random_uuid",
                       "uuid_generate_v4", "statement_timestamp", "txid_current"})


def narrowing(conn, sql: str, tables: list, scratch) -> tuple[str, dict]:
    """``(statement to run on the fork, {table: (filter query, inputs, how)})``: for
    each table the statement can only touch through rows a filter finds, that filter,
    run on each shard over the table's rows (``ShardHost.scan_where``), so only those
    rows are gathered:

    * the target of a MERGE whose ON has ``target.col = <source expression>`` terms:
      the rows whose columns match a key of the source (a semi-join, keys computed
      once; a source reading cluster tables is first run as a query of its own, over
      the cluster, and read from the fork as a table);
    * the target of UPDATE / DELETE (also inside WITH): the rows its WHERE terms over
      the target's own columns keep;
    * the target of ``UPDATE t ... FROM source WHERE t.col = <source expression>``:
      besides those, the rows whose columns match a key of the source (a semi-join, as
      for a MERGE: a source reading cluster tables runs first over the cluster and is
      read from the fork as a table; the WHERE terms over the source alone filter the
      keys);
    * the target of ``UPDATE t ... FROM a JOIN b ...`` or ``DELETE FROM t USING a, b
      ...`` (also inside WITH) with ``t.col = <expression over the sources>`` terms:
      the rows matching the keys those sources make (a ``SELECT DISTINCT`` over them,
      their joins and the WHERE terms over them alone, run as a query over the
      cluster) and the WHERE terms over the target alone;
    * the target of an INSERT (also inside WITH): no rows (the shards check its keys
      as the rows are loaded); with ON CONFLICT (columns) DO UPDATE, the rows holding
      the keys the new rows bring (a source reading cluster tables runs first, as a
      MERGE's does).

    (A REPLICATED table's other copies are then changed by finding the changed rows
    there by their primary key, or one column, not by reading the copies whole.)

    A table named anywhere else in the statement (a subquery, a second reference), or
    tied to others by FOREIGN KEYs (their checks and cascades read other rows), is
    gathered whole, as is any table when the statement is of another shape. A narrowed
    target's unique keys are still checked whole: by the shards, as the changed rows
    are loaded there."""
    tree = _parse(sql)
    root, catalog = conn._root(), conn.catalog
    refs, has_view = _referenced(tree, root, catalog)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    if has_view or ctes & set(catalog):
        return sql, {}
    count: dict = {}
    for t in tree.find_all(exp.Table):
        name = _table_name(t)
        if name in catalog and name not in ctes:
            count[name] = count.get(name, 0) + 1
    narrow: dict = {}
    original = tree

    def alone(name, within=None) -> bool:   # named once, no FOREIGN KEY ties
        named = count.get(name) if within is None else sum(
            _table_name(t) == name for t in within.find_all(exp.Table))
        return name in catalog and named == 1 and with_linked(
            [name], root, catalog) == [name]

    try:
        if isinstance(tree, exp.Merge):
            tree = _narrow_merge(conn, tree, scratch, alone, narrow)
        elif isinstance(tree, exp.Insert) and with_of(tree) is None and \
                tree.args.get("conflict") is not None:
            tree = _narrow_upsert(conn, tree, scratch, alone, narrow)
        elif isinstance(tree, exp.Update) and with_of(tree) is None and \
                _update_source(tree) is not None:
            tree = _narrow_update_from(conn, tree, scratch, alone, narrow)
        else:
            for node in [tree, *(c.this for c in tree.find_all(exp.CTE))]:
                if _source_items(node):
                    _narrow_joined(conn, node, alone, narrow, ctes)
                else:
                    _narrow_dml(node, alone, narrow)
    except errors.Error:
        return sql, {}   # (the whole rows then: the statement raises its own error)
    if tree is not original:
        sql = tree.sql(dialect="postgres")
    return sql, {t: n for t, n in narrow.items() if t in tables}


def _target(node) -> exp.Table | None:
    target = node.this
    if isinstance(target, exp.Schema):
        target = target.this
    return target if isinstance(target, exp.Table) else None


def _alias(t: exp.Table) -> str:
    return t.alias_or_name


def _own_terms(where, alias: str, unqualified_ok: bool) -> list:
    """The AND-ed terms of ``where`` that read only the target's columns (``alias``),
    with no subquery and no volatile function: a filter that keeps every row the
    whole condition keeps."""
    from .shuffle import conjuncts
    if where is None:
        return []
    return [c for c in conjuncts(where.this if isinstance(where, exp.Where) else where)
            if _reads_only(c, alias, unqualified_ok)]


def _reads_only(e, alias, unqualified_ok: bool) -> bool:
    """Does ``e`` read columns, only of ``alias`` (or of one of a set of lower-cased
    aliases), with no subquery and no volatile function?"""
    allowed = {alias.lower()} if isinstance(alias, str) else alias
    has_column = False
    for n in e.walk():
        if isinstance(n, (exp.Subquery, exp.Select, exp.Exists, exp.Placeholder,
                          exp.Parameter, exp.Rand, exp.Star, exp.Window)):
            return False
        if isinstance(n, exp.Func):
            fname = n.name if isinstance(n, exp.Anonymous) else n.sql_name()
            if fname.lower() in _VOLATILE:
                return False
        if isinstance(n, exp.Column):
            has_column = True
            if n.table:
                if n.table.lower() not in allowed:
                    return False
            elif not unqualified_ok:
                return False
    return has_column


def _filter_query(alias: str, predicate: str) -> str:
    return f'SELECT * FROM "__scan" AS {_name(alias)} WHERE {predicate}'


def _name(alias: str) -> str:
    """``alias`` as the statement spells it (quoted only where it must be)."""
    return exp.to_identifier(alias).sql(dialect="postgres")


def _narrow_dml(node, alone, narrow: dict) -> None:
    if isinstance(node, (exp.Update, exp.Delete)):
        t = _target(node)
        if t is None or not alone(_table_name(t)):
            return
        others = any(node.args.get(k) for k in ("from", "from_", "using", "tables"))
        terms = _own_terms(node.args.get("where"), _alias(t), not others)
        if terms:
            pred = " AND ".join(f"({c.sql(dialect='postgres')})" for c in terms)
            narrow[_table_name(t)] = (_filter_query(_alias(t), pred), {}, "where")
    elif isinstance(node, exp.Insert) and node.args.get("conflict") is None:
        t = _target(node)
        if t is not None and alone(_table_name(t)):
            narrow[_table_name(t)] = (_filter_query(_alias(t), "false"), {}, "none")


def _keys_filter(alias: str, cols: list, keys: pa.Table, also: list = ()) -> tuple:
    """The filter for rows whose ``cols`` equal one of the rows of ``keys`` (and that
    the predicates ``also`` keep)."""
    names = [f"k{i}" for i in range(len(cols))]
    keys = keys.rename_columns(names)
    lhs = ", ".join(f'{_name(alias)}."{c}"' for c in cols)
    rhs = ", ".join(f'"{n}"' for n in names)
    if len(cols) > 1:
        lhs = f"({lhs})"
    pred = " AND ".join([f'{lhs} IN (SELECT {rhs} FROM "__keys")',
                         *(f"({p})" for p in also)])
    return (_filter_query(alias, pred),
            {"__keys": table_to_ipc(keys)}, f"{keys.num_rows} keys")


def _update_source(tree: exp.Update):
    """The one table, subquery or VALUES list (no joins) of ``UPDATE ... FROM``, else
    None."""
    f = tree.args.get("from_") or tree.args.get("from")
    src = f.this if isinstance(f, exp.From) else None
    if not isinstance(src, (exp.Table, exp.Subquery, exp.Values)) or src.args.get("joins") \
            or any(tree.args.get(k) for k in ("joins", "using", "tables")):
        return None
    if isinstance(src, (exp.Subquery, exp.Values)) and not src.alias_or_name:
        return None
    if isinstance(src, exp.Table) and not isinstance(src.this, exp.Identifier):
        return None   # (a table function: generate_series(...) ...)
    return src


def _join_keys(where, t_alias: str, s_alias) -> tuple[list, list]:
    """``(target columns, source expressions)`` of the WHERE terms
    ``t.col = <expression over the source alone>`` (``s_alias``: the source's alias,
    or the set of the lower-cased aliases of several joined sources)."""
    from .shuffle import conjuncts
    cols, exprs = [], []
    for term in conjuncts(where.this if isinstance(where, exp.Where) else where):
        if not isinstance(term, exp.EQ):
            continue
        for own, other in ((term.this, term.expression), (term.expression, term.this)):
            if isinstance(own, exp.Column) and own.table.lower() == t_alias.lower() and \
                    _reads_only(other, s_alias, False) and own.name not in cols:
                cols.append(own.name)
                exprs.append(other)
                break
    return cols, exprs


def _narrow_update_from(conn, tree: exp.Update, scratch, alone, narrow: dict) -> exp.Update:
    """UPDATE t ... FROM source WHERE t.col = <source expression> ...: the source first
    (over the cluster, when it reads cluster tables), then the target's rows matching
    its keys and the WHERE terms over the target alone."""
    from .shuffle import conjuncts
    target, src, where = _target(tree), _update_source(tree), tree.args.get("where")
    if target is None or where is None or \
            _table_name(target) == (_table_name(src) if isinstance(src, exp.Table) else None):
        _narrow_dml(tree, alone, narrow)
        return tree
    t_alias, s_alias = _alias(target), src.alias_or_name
    cols, exprs = _join_keys(where, t_alias, s_alias)
    if not cols or t_alias.lower() == s_alias.lower():
        _narrow_dml(tree, alone, narrow)
        return tree
    if _referenced(src, conn._root(), conn.catalog)[0]:
        body = exp.select("*").from_(src.copy()) if isinstance(src, exp.Table) \
            else exp.select("*").from_(exp.Subquery(this=src.this.copy(), alias=exp.TableAlias(
                this=exp.to_identifier("__s"))))
        if not _computed_first(conn, scratch, body, "__update_source"):
            _narrow_dml(tree, alone, narrow)
            return tree
        tree = tree.copy()
        target, src = _target(tree), _update_source(tree)
        old_alias = src.args.get("alias")
        new_alias = old_alias.copy() if old_alias is not None else exp.TableAlias(
            this=exp.to_identifier(s_alias, quoted=True))
        new = exp.Table(this=exp.to_identifier("__update_source", quoted=True),
                        alias=new_alias)
        src.replace(new)
        src = new
    name = _table_name(target)
    if not alone(name, tree):
        return tree
    source_only = [c for c in conjuncts(where.this) if _reads_only(c, s_alias, False)]
    keys = scratch.execute(
        "SELECT DISTINCT " + ", ".join(e.sql(dialect="postgres") for e in exprs)
        + f" FROM {src.sql(dialect='postgres')}"
        + (" WHERE " + " AND ".join(f"({c.sql(dialect='postgres')})" for c in source_only)
           if source_only else "")).arrow()
    own = _own_terms(where, t_alias, False)
    narrow[name] = _keys_filter(t_alias, cols, keys,
                                [c.sql(dialect="postgres") for c in own])
    return tree


def _narrow_merge(conn, tree: exp.Merge, scratch, alone, narrow: dict) -> exp.Merge:
    """MERGE: the source first (over the cluster, when it reads cluster tables), then
    the target's rows matching its keys."""
    from .shuffle import conjuncts
    target = _target(tree)
    if target is None:
        return tree
    using = tree.args["using"]
    alias = using.alias_or_name if not isinstance(using, exp.Table) else _alias(using)
    if not alias:
        return tree
    refs, _ = _referenced(using, conn._root(), conn.catalog)
    if refs:
        body = exp.select("*").from_(using.copy()) if isinstance(using, exp.Table) \
            else exp.select("*").from_(exp.Subquery(this=using.this.copy(), alias=exp.TableAlias(
                this=exp.to_identifier("__s"))))
        if not _computed_first(conn, scratch, body, "__merge_source"):
            return tree
        tree = tree.copy()
        target, using = _target(tree), tree.args["using"]
        old_alias = using.args.get("alias")
        new_alias = old_alias.copy() if old_alias is not None else exp.TableAlias(
            this=exp.to_identifier(alias, quoted=True))
        new = exp.Table(this=exp.to_identifier("__merge_source", quoted=True), alias=new_alias)
        using.replace(new)
        using = new
    name = _table_name(target)
    if not alone(name, tree):
        return tree
    t_alias = _alias(target)
    cols, exprs = [], []
    for term in conjuncts(tree.args.get("on")):
        if not isinstance(term, exp.EQ):
            continue
        for own, other in ((term.this, term.expression), (term.expression, term.this)):
            if isinstance(own, exp.Column) and own.table.lower() == t_alias.lower() and \
                    _reads_only(other, alias, False) and own.name not in cols:
                cols.append(own.name)
                exprs.append(other)
                break
    if not cols:
        return tree
    source = using.sql(dialect="postgres")
    keys = scratch.execute(
        "SELECT DISTINCT " + ", ".join(e.sql(dialect="postgres") for e in exprs)
        + f" FROM {source}").arrow()
    narrow[name] = _keys_filter(t_alias, cols, keys)
    return tree


def _source_items(node) -> list:
    """The FROM items of ``UPDATE ... FROM`` or the USING items of ``DELETE ... USING``
    (each with its joins), [] when it reads no other table that way."""
    if isinstance(node, exp.Update):
        f = node.args.get("from_") or node.args.get("from")
        return [f.this] if isinstance(f, exp.From) else []
    if isinstance(node, exp.Delete):
        return list(node.args.get("using") or [])
    return []


def _narrow_joined(conn, node, alone, narrow: dict, ctes: set) -> None:
    """``UPDATE t ... FROM a JOIN b ...`` / ``DELETE FROM t USING a, b ...`` with WHERE
    terms ``t.col = <expression over the sources>``: as ``_narrow_update_from`` does
    for one source, the keys first (``SELECT DISTINCT`` of those expressions over the
    sources, their joins and the WHERE terms over the sources alone, run as a query
    over the cluster: only the keys reach the coordinator), then the target's rows
    matching them and the WHERE terms over the target alone. Otherwise (no such term,
    a source reading the target or a WITH query) the target's own WHERE terms, as
    ``_narrow_dml``."""
    from .shuffle import conjuncts
    target, where, items = _target(node), node.args.get("where"), _source_items(node)
    if target is None or where is None or not alone(_table_name(target)) or \
            node.args.get("joins"):
        _narrow_dml(node, alone, narrow)
        return
    t_alias = _alias(target).lower()
    aliases: set = set()
    for item in items:
        for src in [item, *(j.this for j in item.args.get("joins") or [])]:
            if not isinstance(src, (exp.Table, exp.Subquery, exp.Values)) or \
                    not src.alias_or_name:
                _narrow_dml(node, alone, narrow)
                return
            aliases.add(src.alias_or_name.lower())
        for n in item.walk():
            bad = isinstance(n, exp.Column) and (not n.table or n.table.lower() == t_alias)
            if bad or isinstance(n, exp.Table) and _table_name(n) in ctes or \
                    isinstance(n, exp.Lateral):
                _narrow_dml(node, alone, narrow)
                return
    cols, exprs = _join_keys(where, t_alias, aliases) if t_alias not in aliases else ([], [])
    if not cols:
        _narrow_dml(node, alone, narrow)
        return
    source_only = [c for c in conjuncts(where.this) if _reads_only(c, aliases, False)]
    query = ("SELECT DISTINCT " + ", ".join(e.sql(dialect="postgres") for e in exprs)
             + " FROM " + ", ".join(i.sql(dialect="postgres") for i in items)
             + (" WHERE " + " AND ".join(f"({c.sql(dialect='postgres')})"
                                         for c in source_only) if source_only else ""))
    saved = conn.last_plan
    try:
        keys = conn._select(query, None).arrow()
    except Exception:   # noqa: BLE001 - not narrowed: the statement says what is wrong
        _narrow_dml(node, alone, narrow)
        return
    finally:
        conn.last_plan = saved
    own = _own_terms(where, t_alias, False)
    narrow[_table_name(target)] = _keys_filter(_alias(target), cols, keys,
                                               [c.sql(dialect="postgres") for c in own])


def _computed_first(conn, scratch, query: exp.Expression, name: str) -> bool:
    """Run ``query`` over the cluster (split like any SELECT: only its rows reach the
    coordinator) and keep its rows as table ``name`` of ``scratch``. False, and no
    table, when its columns could not make one (a name twice, an untyped NULL)."""
    saved = conn.last_plan
    try:
        result = conn._select(query.sql(dialect="postgres"), None)
    finally:
        conn.last_plan = saved
    names = [n for n, _ in result.columns]
    if len(set(names)) != len(names) or any(t == "NULL" for _, t in result.columns):
        return False
    from .merge import create_typed, load_table
    create_typed(scratch, name, result.columns)
    load_table(scratch, name, result.arrow())
    return True


def _narrow_upsert(conn, tree: exp.Insert, scratch, alone, narrow: dict) -> exp.Insert:
    """INSERT ... ON CONFLICT (columns) DO UPDATE: the target's rows holding the keys
    of the new rows (found by the INSERT without its ON CONFLICT, on a fork). A source
    reading cluster tables runs first over the cluster, read from the fork as a table."""
    conflict = tree.args["conflict"]
    target = _target(tree)
    keys = conflict.args.get("conflict_keys") or []
    source = tree.args.get("expression")
    if target is None or source is None or not keys or not all(
            isinstance(k, exp.Ordered) and isinstance(k.this, exp.Column) or
            isinstance(k, exp.Column) for k in keys):
        return tree
    if _referenced(source, conn._root(), conn.catalog)[0]:
        if not isinstance(source, (exp.Select, exp.SetOperation)) or \
                not _computed_first(conn, scratch, source, "__insert_source"):
            return tree
        tree = tree.copy()
        tree.set("expression", exp.select("*").from_(
            exp.to_table('"__insert_source"', dialect="postgres")))
        target = _target(tree)
    name = _table_name(target)
    if not alone(name, tree):
        return tree
    cols = [(k.this if isinstance(k, exp.Ordered) else k).name for k in keys]
    plain = tree.copy()
    plain.set("conflict", None)
    plain.set("returning", None)
    probe = scratch.database.fork().connect()
    probe.execute(plain.sql(dialect="postgres"))
    new = probe.execute("SELECT DISTINCT " + ", ".join(f'"{c}"' for c in cols)
                        + f' FROM "{name}"').arrow()
    narrow[name] = _keys_filter(_alias(target), cols, new)
    return tree


def _gather(conn, scratch, tables: list, narrow: dict):
    """Into ``scratch`` (a fork of the schema), the rows of ``tables`` as the session
    sees them - of a table in ``narrow`` only those its filter keeps - and per table
    ``(ids in the fork, shard of each, id on that shard)``."""
    from ..storage.table import TableVersion
    b = conn.cluster.backend
    origins = {}
    for name in tables:
        info = conn.catalog[name]
        src = [0] if info.replicated else list(range(conn.shards))
        replies = None
        if name in narrow:
            query, inputs, _ = narrow[name]
            conn.cluster.ship(*(len(v) for v in inputs.values() for _ in src))
            replies = b.call_all(src, "scan_where", conn.sid, name, query, inputs)
            if any(r[0] == "error" for r in replies.values()):
                replies = None   # (a type the filter cannot read back: every row)
        if replies is None:
            replies = b.call_all(src, "scan", conn.sid, name, True)
        for s in src:
            check(replies[s])
        conn.cluster.ship(*(len(r[3]) for r in replies.values() if r[3]))
        parts = [ipc_to_table(replies[s][3]) for s in src]
        data = numeric_arrays.concat_tables(parts) if len(parts) > 1 else parts[0]
        shard_of = np.concatenate([np.full(p.num_rows, s, np.int64)
                                   for s, p in zip(src, parts)])
        shard_rowid = data.column(ROWID).to_numpy(zero_copy_only=False).astype(np.int64)
        data = data.drop_columns([ROWID])
        scratch.begin()
        try:
            txn = scratch._session.txn
            schema = txn.table(name).schema
            if txn.table(name).to_arrow().num_rows:   # (a mirror's own rows: none kept)
                txn.replace_table(name, TableVersion.empty(schema))
            ids = np.zeros(0, np.int64)
            if data.num_rows:
                ids = np.asarray(txn.insert_arrow(
                    name, numeric_arrays.cast_table(data.rename_columns(schema.names),
                                                    schema.arrow_schema)),
                    dtype=np.int64)
            scratch.commit()
        except BaseException:
            scratch.rollback()
            raise
        origins[name] = (ids, shard_of, shard_rowid)
    return origins


def _changes(conn, before, after, origins: dict) -> dict:
    """``{shard: [(table, shard row ids to delete, Arrow rows to append or None)]}``."""
    out: dict = {}
    for name in sorted(after.tables):
        va, vb = before.tables.get(name), after.tables.get(name)
        if va is vb or name not in conn.catalog:
            continue
        if name not in origins or va is None or vb is None:
            raise errors.InternalError(f"cluster: table {name!r} changed but was not gathered")
        info = conn.catalog[name]
        old = va.to_arrow(with_rowid=True)
        new = vb.to_arrow(with_rowid=True)
        old_ids = old.column(ROWID).to_numpy(zero_copy_only=False)
        new_ids = new.column(ROWID).to_numpy(zero_copy_only=False)
        gone = ~np.isin(old_ids, new_ids)
        added = ~np.isin(new_ids, old_ids)
        kept_old = _by_rowid(old.filter(pa.array(~gone)))
        kept_new = _by_rowid(new.filter(pa.array(~added)))
        differs = _differs(kept_old, kept_new)
        removed = numeric_arrays.concat_tables([old.filter(pa.array(gone)),
                                    kept_old.filter(pa.array(differs))])
        appended = numeric_arrays.concat_tables([new.filter(pa.array(added)),
                                     kept_new.filter(pa.array(differs))]).drop_columns([ROWID])
        if not removed.num_rows and not appended.num_rows:
            continue
        ids, shard_of, shard_rowid = origins[name]
        rid = removed.column(ROWID).to_numpy(zero_copy_only=False).astype(np.int64)
        at = np.searchsorted(ids, rid)
        if len(rid) and (at.max() >= len(ids) or not np.array_equal(ids[at], rid)):
            raise errors.InternalError(f"cluster: a changed row of {name!r} has no origin")
        deletes: dict = {}
        if info.replicated:
            if len(rid):
                deletes[0] = shard_rowid[at].tolist()
                values = removed.drop_columns([ROWID])
                for s in range(1, conn.shards):
                    deletes[s] = _match_rows(conn, s, name, values)
            inserts = {s: appended for s in range(conn.shards)} if appended.num_rows else {}
        else:
            for s in np.unique(shard_of[at]) if len(rid) else []:
                deletes[int(s)] = shard_rowid[at][shard_of[at] == s].tolist()
            inserts = split_rows(appended, info.key_positions, conn.shards)
        for s in sorted(set(deletes) | set(inserts)):
            out.setdefault(s, []).append((name, deletes.get(s, []), inserts.get(s)))
    return out


def _by_rowid(t: pa.Table) -> pa.Table:
    return t.sort_by(ROWID) if t.num_rows > 1 else t


def _differs(a: pa.Table, b: pa.Table) -> np.ndarray:
    """Per row of two tables of the same row ids in the same order: do any values
    differ? (IS DISTINCT FROM, as branch diff compares rows: NULL equals NULL, NaN
    equals NaN.)"""
    from ..branch.diff import _distinct
    out = np.zeros(a.num_rows, bool)
    for name in a.schema.names:
        if name != ROWID:
            out |= np.asarray(pc.fill_null(_distinct(a.column(name), b.column(name)), False))
    return out


def _key(v):
    """A hashable, comparable stand-in for a value (NaN equal to NaN)."""
    if isinstance(v, float) and math.isnan(v):
        return ("nan",)
    if isinstance(v, (dict, list)):
        return ("json", json.dumps(v, sort_keys=True, default=str))
    return v


def _match_rows(conn, shard: int, name: str, values: pa.Table) -> list:
    """Ids on ``shard`` of rows equal to ``values`` (one row each; a REPLICATED table's
    copies hold the same rows under ids of their own)."""
    b = conn.cluster.backend
    reply = None
    cols = _probe_columns(conn, name, values)
    if cols:   # only the rows holding those values in some columns: a superset
        query, inputs, _ = _keys_filter(name, cols, values.select(cols))
        conn.cluster.ship(*(len(v) for v in inputs.values()))
        reply = b.call(shard, "scan_where", conn.sid, name, query, inputs)
        if reply[0] == "error":
            reply = None
    if reply is None:
        reply = b.call(shard, "scan", conn.sid, name, True)
    check(reply)
    conn.cluster.ship(len(reply[3]))
    rows = ipc_to_table(reply[3])
    ids = infinity.pylist(rows.column(ROWID))
    cols = [infinity.pylist(rows.column(c)) for c in values.schema.names]
    pool: dict = {}
    for i, rowid in enumerate(ids):
        pool.setdefault(tuple(_key(c[i]) for c in cols), []).append(rowid)
    out = []
    want = [infinity.pylist(values.column(c)) for c in values.schema.names]
    for i in range(values.num_rows):
        k = tuple(_key(c[i]) for c in want)
        if not pool.get(k):
            raise errors.InternalError(f"cluster: the copies of {name!r} differ on shard {shard}")
        out.append(pool[k].pop())
    return out


def _probe_columns(conn, name: str, values: pa.Table) -> list:
    """Columns to find rows equal to ``values`` by: the primary key, else the first
    column of a hashable type without NULLs among them ([]: none)."""
    from .shuffle import HASHABLE
    schema = conn._root().tables[name].schema
    if schema.primary_key is not None:
        return [schema.columns[i].name for i in schema.primary_key.columns]
    for c in schema.columns:
        if c.type in HASHABLE and c.type != "FLOAT" and not values.column(c.name).null_count:
            return [c.name]
    return []
