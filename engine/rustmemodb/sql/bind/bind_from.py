"""Binding the FROM clause: tables, views, registered data, subqueries, joins.

Returns a logical plan and the ``Scope`` of columns it makes visible. Views are
bound from their SQL each time (so they always see current tables); pandas and
Arrow objects registered on the connection, or found by the replacement scan,
are read in place. Joins combine the scopes of both sides, left then right.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, numeric_arrays, types
from ...deep import deep
from ...plan.expr import ColRef, Const
from ...storage.sequence_defs import definition
from ...plan.logical import (LogicalArrowScan, LogicalJoin, LogicalNode, LogicalProject,
                             LogicalScan, LogicalValues, LogicalVirtualScan)
from ..parse import parse_one, position_of
from .scope import Scope, ScopeColumn
from .bind_pivot import pivot_subquery
from .bind_sample import refuse_sample
from ...catalog import searched_lookup
from ...catalog import lookup
from .bind_sample import bind_sample
from .json_records import is_populate_function, is_record_function, populate_query, record_query
from .bind_expr import ExprBinder


def bind_from(stmt, node: exp.Select, parent: Scope | None) -> tuple[LogicalNode, Scope]:
    from_ = node.args.get("from_") or node.args.get("from")
    if from_ is None:
        return LogicalValues([], [[]]), Scope(parent=parent)
    joins = node.args.get("joins") or []
    _refuse_repeated_names([from_.this] + [j.this for j in joins])
    plan, scope = bind_from_item(stmt, from_.this, parent)
    for join in joins:
        plan, scope = bind_join(stmt, plan, scope, join, parent)
    return plan, scope


def _refuse_repeated_names(items: list) -> None:
    """42712 for two FROM items of one level under one name (``FROM t, t``, ``FROM a
    x JOIN b x``), as PostgreSQL: every column of either would be ambiguous."""
    seen: set = set()
    for item in items:
        name = item.alias_or_name if isinstance(item, exp.Table) else item.alias
        if not name:
            continue
        if name in seen:
            raise errors.sql_error("42712", f'table name "{name}" specified more than once',
                                   position=position_of(item))
        seen.add(name)


@deep
def bind_from_item(stmt, item: exp.Expression, parent: Scope | None) -> tuple[LogicalNode, Scope]:
    """One FROM item, with the joins sqlglot hangs on it inside parentheses:
    ``(a JOIN b ON ...)`` is a Subquery around Table ``a`` carrying ``joins``."""
    plan, scope = _bind_one_item(stmt, item, parent)
    for join in item.args.get("joins") or []:
        plan, scope = bind_join(stmt, plan, scope, join, parent)
    return plan, scope


def _bind_one_item(stmt, item: exp.Expression, parent: Scope | None):
    if item.args.get("pivots"):      # FROM t PIVOT (...): a derived table (bind_pivot.py)
        item = pivot_subquery(item, lambda src: bind_from_item(stmt, src, parent)[0].names)
    if isinstance(item, exp.Table) and isinstance(item.this, exp.Explode) \
            and item.args.get("db") is not None:
        # sqlglot reads pg_catalog.unnest(a) (psql's \d+) as a qualified Explode: unnest
        return stmt.bind_from_unnest(exp.Unnest(expressions=[item.this.this],
                                                alias=item.args.get("alias")), parent)
    if isinstance(item, exp.Table) and item.args.get("rows_from"):
        return stmt.bind_from_unnest(_rows_from(stmt, item, parent), parent)
    if isinstance(item, exp.Table):
        return _bind_table(stmt, item, parent)
    if isinstance(item, exp.Subquery) and is_join_tree(item.this):
        from .bind_join_tree import bind_join_tree
        return bind_join_tree(stmt, item, parent)
    if isinstance(item, exp.Subquery):
        from .bind_select import bind_query
        plan = bind_query(stmt, item.this, parent)
        alias = item.alias_or_name or None
        return _aliased(plan, alias, item, parent)
    if isinstance(item, exp.Lateral):
        from .bind_lateral import bind_lateral_item
        return bind_lateral_item(stmt, item, parent)
    if isinstance(item, exp.Values):
        from .bind_select import bind_values
        plan = bind_values(stmt, item, parent)
        return _aliased(plan, item.alias_or_name or "*VALUES*", item, parent)
    hook = getattr(stmt, "bind_from_" + type(item).__name__.lower(), None)
    if hook is not None:
        return hook(item, parent)
    raise errors.not_supported(f"FROM item {item.sql(dialect='postgres')!r}")


def is_join_tree(node: exp.Expression) -> bool:
    """Whether a parenthesised FROM item holds tables and joins rather than a query."""
    if isinstance(node, exp.Subquery):
        return bool(node.args.get("joins")) or is_join_tree(node.this)
    return not isinstance(node, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values))


def _aliased(plan: LogicalNode, alias: str | None, item, parent) -> tuple[LogicalNode, Scope]:
    names = plan.names
    alias_node = item.args.get("alias")
    if alias_node is not None and alias_node.columns:
        cols = [c.name for c in alias_node.columns]
        names = cols + names[len(cols):]
        plan = LogicalProject(list(zip(names, plan.types)),
                              plan, [_ref(i, t, n) for i, (n, t) in enumerate(zip(names, plan.types))])
    scope = Scope(parent=parent)
    for name, type_ in zip(names, plan.types):
        scope.add(alias, name, type_)
    return plan, scope


def _rows_from(stmt, item: exp.Table, parent: Scope | None) -> exp.Unnest:
    """``ROWS FROM (f(...), g(...)) [WITH ORDINALITY] [AS x(a, ...)]``: the functions'
    columns side by side, row n of each together, a shorter one padded with NULLs, as
    PostgreSQL runs them in lockstep: the ``unnest`` of one array per column, each the
    ``ARRAY(SELECT column FROM f(...))`` of its function (unnest pads the same way)."""
    arrays, names = [], []
    for f in item.args["rows_from"]:
        source = f.copy() if isinstance(f, exp.Table) else exp.Table(this=f.copy()) \
            if not isinstance(f, exp.Unnest) else f.copy()
        probe, _scope = bind_from_item(stmt, source, parent)
        for name in probe.names:
            column = exp.column(name, quoted=True)
            arrays.append(exp.Array(expressions=[exp.select(column).from_(source.copy())]))
            names.append(name)
    alias_node = item.args.get("alias")
    given = [c.name for c in alias_node.columns] if alias_node is not None else []
    alias = alias_node.name if alias_node is not None and alias_node.name else "rows_from"
    if len(arrays) == 1 and not given and alias_node is not None and alias_node.name:
        names = [alias]                 # ROWS FROM (f()) AS x: the column is x, as f() AS x
    columns = given[:len(names)] + names[len(given):]
    ordinality = bool(item.args.get("ordinality"))
    if ordinality:
        columns.append(given[len(names)] if len(given) > len(names) else "ordinality")
    elif len(given) > len(names):
        raise errors.sql_error("42601", f"table \"{alias}\" has {len(names)} columns "
                                        f"available but {len(given)} columns specified")
    return exp.Unnest(expressions=arrays, offset=ordinality or None,
                      alias=exp.TableAlias(this=exp.to_identifier(alias),
                                           columns=[exp.to_identifier(c) for c in columns]))


def _ref(i, t, n):
    return ColRef(i, t, n)


def _bind_table(stmt, item: exp.Table, parent: Scope | None) -> tuple[LogicalNode, Scope]:
    if isinstance(item.this, exp.Func):      # a set-returning function: generate_series(...)
        refuse_sample(item, "functions")
        alias_node = item.args.get("alias")
        if is_populate_function(item.this):   # jsonb_populate_recordset(null::t, doc)
            query, names = populate_query(stmt, item.this)
            alias = alias_node.copy() if alias_node is not None else exp.TableAlias(
                this=exp.to_identifier(item.this.name.lower()))
            return _bind_one_item(stmt, exp.Subquery(this=query, alias=alias), parent)
        if is_record_function(item.this):     # jsonb_to_recordset(doc) AS x(a int, ...)
            return _bind_one_item(stmt, exp.Subquery(
                this=record_query(item.this, alias_node),
                alias=alias_node.copy() if alias_node is not None else None), parent)
        plan = stmt.bind_table_function(item.this, parent, item.alias if alias_node is not None
                                        and not alias_node.columns else None,
                                        ordinality=bool(item.args.get("ordinality")))
        default = plan.columns[0][0] if len(plan.columns) == 1 else \
            item.this.sql_name().lower() if not isinstance(item.this, exp.Anonymous) \
            else item.this.name.lower()
        plan, scope = _aliased(plan, item.alias or default, item, parent)
        if len(plan.names) == 1 and item.alias and plan.names[0] != item.alias:
            # jsonb_array_elements(doc) AS e: the column is its OUT name ``value``, yet
            # ``e`` alone is that value too (the function returns a scalar, so
            # PostgreSQL's whole-row reference is the value itself): a hidden twin
            (name, type_), = plan.columns
            plan = LogicalProject([(name, type_), (item.alias, type_)], plan,
                                  [_ref(0, type_, name), _ref(0, type_, item.alias)])
            scope.add(item.alias, item.alias, type_, hidden=True)
        return plan, scope
    name = item.name
    alias = item.alias_or_name
    if item.db and item.db != "public":          # information_schema.tables, ...
        return _bind_virtual(stmt, item, _virtual_table(item), alias, parent)
    cte = stmt.find_cte(name) if hasattr(stmt, "find_cte") and not item.db else None
    if cte is not None:
        refuse_sample(item, "WITH queries")
        plan = stmt.cte_plan(cte, parent)
        return _aliased(plan, alias, item, parent)
    if stmt.has_table(name):
        version = stmt.table(name, position_of(item))
        stmt.note_read(name)
        cols = [(c.name, c.type) for c in version.schema.columns]
        plan = _sampled(stmt, item, LogicalScan(cols, name, alias=alias))
        alias_node = item.args.get("alias")
        if alias_node is not None and alias_node.columns:   # FROM t AS x(a, b)
            return _aliased(plan, alias, item, parent)
        return plan, Scope(list(_table_columns(version.schema, alias)), parent=parent)
    if name in stmt.root.sequences and not item.db:
        return _sequence_row(stmt, item, name, alias, parent)
    view = stmt.root.views.get(name)
    if view is not None:
        refuse_sample(item, "views")
        stmt.view(name)
        stmt.note_read(name)
        from .bind_select import bind_query
        stmt.view_stack.append(name)      # its reads are checked as its owner's
        try:
            plan = bind_query(stmt, parse_one(view.sql), None)
        finally:
            stmt.view_stack.pop()
        if view.columns:
            names = list(view.columns) + plan.names[len(view.columns):]
            plan = LogicalProject(list(zip(names, plan.types)), plan,
                                  [_ref(i, t, n) for i, (n, t) in enumerate(zip(names, plan.types))])
        return _aliased(plan, alias, item, parent)
    data = stmt.external(name)
    if data is not None:
        cols = [(f.name, types.NUMERIC if numeric_arrays.tagged_numeric(f) else
                 types.JSON if numeric_arrays.tagged_jsonb(f) else
                 types.sql_type_of_arrow(f.type)) for f in data.schema]
        plan = _sampled(stmt, item, LogicalArrowScan(cols, name, data))
        scope = Scope(parent=parent)
        for n, t in cols:
            scope.add(alias, n, t)
        return plan, scope
    vt = searched_lookup(name)                  # pg_catalog names need no qualification
    if vt is not None:
        return _bind_virtual(stmt, item, vt, alias, parent)
    if item.this.quoted and not item.db:
        from .bind_files import bind_file_name, file_format_of
        if file_format_of(name) is not None:          # DuckDB's FROM 'data/*.csv'
            plan = bind_file_name(stmt, name)
            return _aliased(plan, item.alias or name, item, parent)
    raise errors.undefined_table(name, position_of(item))


# (id(table schema), alias) -> (schema, the scope's columns for it): the columns a
# FROM item of a table brings in scope, made once per schema object and alias (a file of
# statements over one table names it each time). Schemas and ScopeColumns are frozen;
# an entry holds its schema, so the id is not reused while it is here; bounded.
_TABLE_COLUMNS: dict = {}
_TABLE_COLUMNS_MAX = 256


def _table_columns(schema, alias: str) -> tuple:
    key = (id(schema), alias)
    hit = _TABLE_COLUMNS.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    out = tuple(ScopeColumn(alias, c.name, c.type) for c in schema.columns)
    if len(_TABLE_COLUMNS) >= _TABLE_COLUMNS_MAX:
        _TABLE_COLUMNS.clear()
    _TABLE_COLUMNS[key] = (schema, out)
    return out


def _virtual_table(item: exp.Table):
    vt = lookup(item.db, item.name)
    if vt is None:
        raise errors.undefined_table(f"{item.db}.{item.name}", position_of(item))
    return vt


def _sequence_row(stmt, item, name: str, alias: str, parent):
    """``SELECT * FROM s``: a sequence read as PostgreSQL's one-row relation (last_value,
    log_cnt, is_called), which needs SELECT on it. ``last_value`` is the value the next
    nextval() gives until the sequence is called, then the last one it gave; log_cnt
    (PostgreSQL's WAL prefetch count) is 0, nothing being prefetched here."""
    refuse_sample(item, "sequences")
    stmt.note_read(name)
    stmt.cacheable = False          # its state changes without a catalog change
    spec = definition(stmt.root, name)
    last = stmt.root.sequences[name]
    value = last if spec.is_called else last + spec.increment
    cols = [("last_value", types.INTEGER), ("log_cnt", types.INTEGER),
            ("is_called", types.BOOLEAN)]
    plan = LogicalValues(cols, [[Const(value, types.INTEGER), Const(0, types.INTEGER),
                                 Const(spec.is_called, types.BOOLEAN)]])
    return _aliased(plan, alias, item, parent)


def _bind_virtual(stmt, item: exp.Table, vt, alias: str,
                  parent) -> tuple[LogicalNode, Scope]:
    refuse_sample(item, "views")
    # current_database() and current_user as the catalog rows show them (pg_database...)
    session = getattr(stmt, "session", None)
    who = (getattr(session, "database_name", None),
           getattr(session, "role", None) or getattr(session, "user_name", None),
           getattr(session, "temp_prefix", None))    # its own temporary tables show
    if any(who) or stmt.root.auth.active:   # rows depend on who asks (pg_authid...)
        stmt.cacheable = False
    live = getattr(session, vt.session_rows, None) if vt.session_rows else None
    if vt.session_rows:
        stmt.cacheable = False
    columns = list(vt.columns)
    system = vt.schema == "pg_catalog" and all(n != "tableoid" for n, _ in columns)
    if system:        # the system column psql's \dd and \dL join on (hidden from *)
        columns.append(("tableoid", types.INTEGER))
    plan = LogicalVirtualScan(columns, vt.schema, vt.name, vt, who, live)
    alias_node = item.args.get("alias")
    if alias_node is not None and alias_node.columns:
        return _aliased(plan, alias, item, parent)
    scope = Scope(parent=parent)
    for n, t in vt.columns:
        scope.add(alias, n, t)
    if system:
        scope.add(alias, "tableoid", types.INTEGER, hidden=True)
    return plan, scope


def _sampled(stmt, item: exp.Table, plan: LogicalNode) -> LogicalNode:
    sample = item.args.get("sample")
    if sample is None:
        return plan
    return bind_sample(stmt, sample, plan)


def bind_join(stmt, left: LogicalNode, left_scope: Scope, join: exp.Join,
              parent: Scope | None) -> tuple[LogicalNode, Scope]:
    from .bind_lateral import bind_lateral_join, is_lateral_item
    if is_lateral_item(join.this):
        return bind_lateral_join(stmt, left, left_scope, join, parent)
    right, right_scope = bind_from_item(stmt, join.this, parent)
    side = (join.side or "").lower()          # left | right | full | ""
    kind = (join.kind or "").lower()          # inner | outer | cross | ""
    scope = Scope(parent=parent)
    scope.extend(left_scope)
    scope.extend(right_scope)
    using = join.args.get("using")
    on = join.args.get("on")
    if str(join.args.get("method") or "").upper() == "NATURAL":
        # NATURAL JOIN = USING (the column names both sides share); none shared: ON TRUE.
        names = {c.name for c in right_scope.columns if not c.hidden and not c.twin}
        common = []
        for c in left_scope.columns:
            if not c.hidden and not c.twin and c.name in names and c.name not in common:
                common.append(c.name)
        using = [exp.to_identifier(n) for n in common]
        if not using:
            on = exp.true()
            if not side:
                kind = "cross"
    if kind == "cross" or (not side and on is None and not using):
        if join.args.get("on") is None and not using and kind not in ("cross", "") :
            raise errors.syntax_error("JOIN requires ON or USING", position=position_of(join))
        return LogicalJoin(left.columns + right.columns, left, right, "cross"), scope
    join_kind = side or "inner"
    if kind in ("semi", "anti"):            # DuckDB's SEMI / ANTI JOIN: the left rows only
        return _bind_semi(stmt, left, right, left_scope, scope, kind, on, using, join)
    if using:
        return _bind_using(stmt, left, right, left_scope, right_scope, join_kind, using, parent)
    cond = ExprBinder(stmt, scope, clause="JOIN conditions").bind_boolean(on, "JOIN/ON")
    return LogicalJoin(left.columns + right.columns, left, right, join_kind, cond), scope


def _bind_semi(stmt, left, right, left_scope: Scope, both: Scope, kind: str, on, using,
               join) -> tuple[LogicalNode, Scope]:
    """``l SEMI JOIN r ON c``: the rows of l with a match in r (EXISTS); ANTI: those with
    none (NOT EXISTS, so a NULL key keeps its row). Only l's columns come out."""
    binder = ExprBinder(stmt, both, clause="JOIN conditions")
    if using:
        nleft = len(left_scope.columns)
        cond = None
        for ident in using:
            li = left_scope.resolve(ident.name)
            right_names = [i for i, c in enumerate(both.columns[nleft:]) if
                           c.name == ident.name and not c.hidden]
            if len(right_names) != 1:
                raise errors.sql_error("42703", f'column "{ident.name}" specified in USING '
                                                "clause does not exist in right table",
                                       position=position_of(join))
            lc, ri = left_scope.columns[li], nleft + right_names[0]
            eq = binder.call("eq", [ColRef(li, lc.type, lc.name),
                                    ColRef(ri, both.columns[ri].type, ident.name)])
            cond = eq if cond is None else binder.call("and", [cond, eq])
    elif on is not None:
        cond = binder.bind_boolean(on, "JOIN/ON")
    else:
        raise errors.syntax_error(f"{kind.upper()} JOIN requires ON or USING",
                                  position=position_of(join))
    scope = Scope(parent=both.parent)
    scope.extend(left_scope)
    return LogicalJoin(list(left.columns), left, right, kind, cond), scope


def _bind_using(stmt, left, right, lscope: Scope, rscope: Scope, kind: str, using, parent):
    """JOIN ... USING (a, b): equality on each name; the merged column appears once."""
    from .bind_expr import ExprBinder
    both = Scope(parent=parent)
    both.extend(lscope)
    both.extend(rscope)
    binder = ExprBinder(stmt, both)
    cond = None
    nleft = len(lscope.columns)
    pairs = []
    for ident in using:
        name = ident.name
        li = lscope.resolve(name)
        ri = rscope.resolve(name)
        pairs.append((li, ri))
        l = ColRef(li, lscope.columns[li].type, name)
        r = ColRef(nleft + ri, rscope.columns[ri].type, name)
        eq = binder.call("eq", [l, r])
        cond = eq if cond is None else binder.call("and", [cond, eq])
    join = LogicalJoin(left.columns + right.columns, left, right, kind, cond)
    # Output: USING columns once (coalesced for FULL/RIGHT), then the rest, like PostgreSQL.
    exprs, scope = [], Scope(parent=parent)
    for li, ri in pairs:
        lc, rc = lscope.columns[li], rscope.columns[ri]
        l = ColRef(li, lc.type, lc.name)
        r = ColRef(nleft + ri, rc.type, rc.name)
        if kind == "right":
            e = r
        elif kind == "full":
            e = binder.call("coalesce", [l, r])
        else:
            e = l
        exprs.append(e)
        scope.add(None, lc.name, lc.type)
    used_l = {li for li, _ in pairs}
    used_r = {ri for _, ri in pairs}
    for i, c in enumerate(lscope.columns):
        # USING columns stay reachable by qualified name (t.a, and in t.*) but not in *.
        exprs.append(ColRef(i, c.type, c.name))
        scope.add(c.table, c.name, c.type, hidden=c.hidden, twin=c.twin or i in used_l)
    for i, c in enumerate(rscope.columns):
        exprs.append(ColRef(nleft + i, c.type, c.name))
        scope.add(c.table, c.name, c.type, hidden=c.hidden, twin=c.twin or i in used_r)
    # Unqualified USING names resolve to the merged column: drop the qualified twins'
    # unqualified visibility by giving the merged one priority in Scope.find.
    scope.using_names = {lscope.columns[li].name for li, _ in pairs}
    plan = LogicalProject([(c.name, c.type) for c in scope.columns], join, exprs)
    return plan, scope
