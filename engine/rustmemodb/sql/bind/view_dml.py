"""Automatically updatable views: INSERT, UPDATE and DELETE on a view, rewritten onto the
one relation the view selects from, as PostgreSQL's rewriter does (``rewriteTargetView``).

A view is stored as its SELECT text (storage/root.py ``ViewDef``), so the rewrite works
on sqlglot trees before binding: the statement's target becomes the view's base table
(or base view, rewritten again in turn), view column names in SET, the INSERT column
list and ON CONFLICT become base column names, references to view columns in WHERE,
SET values and RETURNING become the view's select-list expressions, and the view's WHERE
is ANDed to UPDATE's and DELETE's. Everything else (constraints, defaults, keys, MVCC,
durability) then follows from writing the base table.

The view's conditions under WITH CHECK OPTION ride along as extra RETURNING items of the
rewritten statement (with the base row after them), and ``LogicalViewCheck`` raises
44000 when one is not true, after the write: PostgreSQL also checks them after the
row's constraints and unique indexes (a failed statement leaves no trace either way).

The rules and messages are PostgreSQL 15's (``view_query_is_auto_updatable``,
``view_cols_are_auto_updatable``): the same checks decide what
``information_schema.views`` and ``.columns`` report as updatable (``updatable_events``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlglot import exp

from ... import errors
from ...plan.logical import LogicalNode, LogicalViewCheck
from ..parse import parse_one
from .bind_insert import is_default
from .privileges import _target_requirements

_SRF_NAMES = frozenset({
    "unnest", "generate_series", "generate_subscripts", "regexp_matches",
    "regexp_split_to_table", "string_to_table", "json_array_elements",
    "jsonb_array_elements", "json_array_elements_text", "jsonb_array_elements_text",
    "json_each", "jsonb_each", "json_each_text", "jsonb_each_text", "json_object_keys",
    "jsonb_object_keys", "jsonb_path_query"})
_NOT_COLUMN = "View columns that are not columns of their base relation are not updatable."
_NOT_SINGLE = ("Views that do not select from a single table or view are not automatically "
               "updatable.")
_VERB = {"INSERT": ("insert into", "inserting into"), "UPDATE": ("update", "updating"),
         "DELETE": ("delete from", "deleting from")}
_CHECK = "__view_check_"           # RETURNING items the rewrite adds: their alias prefix


@dataclass(frozen=True)
class ViewTarget:
    """An updatable view as the rewrite sees it."""
    view: str
    base: str                      # the table or view in its FROM
    alias: str                     # what its expressions call the base relation
    names: tuple                   # view column names
    exprs: tuple                   # per view column: its expression over the base
    base_cols: tuple               # per view column: the base column it is, or None
    where: exp.Expression | None
    check: str | None              # 'local' | 'cascaded' | None
    defaults: tuple = ()           # (view column, expression) set by ALTER VIEW


# ---- which views are updatable ----------------------------------------------------------

def _nested(node: exp.Expression, top: exp.Expression) -> bool:
    """Whether ``node`` sits inside a query nested in ``top`` (a subquery)."""
    p = node.parent
    while p is not None and p is not top:
        if isinstance(p, exp.Query):
            return True
        p = p.parent
    return False


def _own(select: exp.Select, cls) -> bool:
    """Whether the select list of ``select`` holds a ``cls`` node outside subqueries."""
    return any(not _nested(n, select) for e in select.expressions for n in e.find_all(cls))


def _is_srf(node: exp.Expression) -> bool:
    if isinstance(node, (exp.Unnest, exp.Explode, exp.GenerateSeries)):
        return True
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in _SRF_NAMES
    return isinstance(node, exp.Func) and node.sql_name().lower() in _SRF_NAMES


def query_detail(root, query: exp.Expression) -> str | None:
    """Why a view's query is not automatically updatable (PostgreSQL's DETAIL), or None."""
    if query.args.get("with_") is not None:
        return "Views containing WITH are not automatically updatable."
    if isinstance(query, exp.Subquery):
        query = query.unnest()
    if isinstance(query, exp.SetOperation):
        return "Views containing UNION, INTERSECT, or EXCEPT are not automatically updatable."
    if not isinstance(query, exp.Select):
        return _NOT_SINGLE
    if query.args.get("distinct") is not None:
        return "Views containing DISTINCT are not automatically updatable."
    if query.args.get("group") is not None:
        return "Views containing GROUP BY are not automatically updatable."
    if query.args.get("having") is not None:
        return "Views containing HAVING are not automatically updatable."
    if query.args.get("limit") is not None or query.args.get("offset") is not None:
        return "Views containing LIMIT or OFFSET are not automatically updatable."
    if _own(query, exp.AggFunc):
        return "Views that return aggregate functions are not automatically updatable."
    if _own(query, exp.Window):
        return "Views that return window functions are not automatically updatable."
    if any(_is_srf(n) and not _nested(n, query)
           for e in query.expressions for n in e.find_all(exp.Func)):
        return "Views that return set-returning functions are not automatically updatable."
    from_ = query.args.get("from_")
    if from_ is None or query.args.get("joins") or query.args.get("laterals"):
        return _NOT_SINGLE
    item = from_.this
    if not isinstance(item, exp.Table) or not isinstance(item.this, exp.Identifier):
        return _NOT_SINGLE
    version = root.tables.get(item.name)
    if version is None and item.name not in root.views:
        return _NOT_SINGLE
    if version is not None and version.schema.matview_sql is not None:
        return _NOT_SINGLE
    if item.args.get("sample") is not None:
        return "Views containing TABLESAMPLE are not automatically updatable."
    return None


def _strip(node: exp.Expression) -> exp.Expression:
    """A copy of a node from a view's text, with no source offsets: they are offsets in
    the view's text, which the statement's lifted literals must not be confused with."""
    node = node.copy()
    for n in node.walk():
        if n._meta is not None:
            n._meta.pop("start", None)
            n._meta.pop("end", None)
    return node


def view_target(root, name: str, names_of: Callable[[str], list]):
    """``(ViewTarget, None)`` for an automatically updatable view, else ``(None,
    detail)``. ``names_of(relation)``: a table's or view's column names."""
    view = root.views[name]
    query = parse_one(view.sql)
    detail = query_detail(root, query)
    if detail is not None:
        return None, detail
    item = query.args["from_"].this
    base, alias = item.name, item.alias_or_name
    base_names = list(names_of(base))
    out_names = list(names_of(name))
    exprs, base_cols = [], []
    for e in query.expressions:
        inner = e.this if isinstance(e, exp.Alias) else e
        if isinstance(inner, exp.Star) or (isinstance(inner, exp.Column)
                                           and isinstance(inner.this, exp.Star)):
            for c in base_names:
                exprs.append(exp.column(c, table=alias))
                base_cols.append(c)
            continue
        while isinstance(inner, exp.Paren):
            inner = inner.this
        inner = _strip(inner)
        _qualify(inner, alias)
        exprs.append(inner)
        simple = isinstance(inner, exp.Column) and isinstance(inner.this, exp.Identifier) \
            and inner.table == alias and inner.name in base_names
        base_cols.append(inner.name if simple else None)
    if len(exprs) != len(out_names):
        return None, _NOT_SINGLE
    where = query.args.get("where")
    if where is not None:
        where = exp.Paren(this=_strip(where.this))
        _qualify(where, alias)
    defaults = tuple((c, _strip(parse_one(f"SELECT {sql}").expressions[0]))
                     for c, sql in view.defaults if c in out_names)
    return ViewTarget(name, base, alias, tuple(out_names), tuple(exprs), tuple(base_cols),
                      where, view.check_option, defaults), None


def _qualify(node: exp.Expression, alias: str) -> None:
    """Qualify a view expression's own unqualified columns with its base's name, so that
    moved into a subquery of the statement they still read the base row."""
    cols = [node] if isinstance(node, exp.Column) else []
    cols += [c for c in node.find_all(exp.Column) if c is not node]
    for c in cols:
        if not c.table and isinstance(c.this, exp.Identifier) and not _nested(c, node):
            c.set("table", exp.to_identifier(alias))


def updatable_events(root, name: str, names_of, column: int | None = None) -> set:
    """What PostgreSQL's ``pg_relation_is_updatable`` allows on a view: a subset of
    {'INSERT', 'UPDATE', 'DELETE'}; with ``column``, for that view column alone."""
    target, _ = view_target(root, name, names_of)
    if target is None:
        return set()
    cols = range(len(target.names)) if column is None else [column]
    usable = [i for i in cols if target.base_cols[i] is not None]
    events = {"INSERT", "UPDATE", "DELETE"} if usable else {"DELETE"}
    if target.base in root.views:
        below = set()
        base_names = list(names_of(target.base))
        for i in usable or [None]:
            below |= updatable_events(root, target.base, names_of,
                                      None if i is None else
                                      base_names.index(target.base_cols[i]))
        events &= below
    return events


# ---- the rewrite ----------------------------------------------------------------------------

def _refuse(kind: str, view: str, detail: str) -> errors.Error:
    """PostgreSQL 15 reports a view that is not automatically updatable as 55000 (object
    not in prerequisite state); a read-only column of an updatable one is 0A000."""
    verb, ing = _VERB[kind]
    return errors.sql_error(
        "55000", f'cannot {verb} view "{view}"', detail=detail,
        hint=f"To enable {ing} the view, provide an INSTEAD OF {kind} trigger or an "
             f"unconditional ON {kind} DO INSTEAD rule.")


def _column_error(kind: str, column: str, view: str) -> errors.Error:
    verb = "insert into" if kind == "INSERT" else "update"
    return errors.sql_error("0A000", f'cannot {verb} column "{column}" of view "{view}"',
                            detail=_NOT_COLUMN)


def _missing(column: str, view: str) -> errors.Error:
    return errors.sql_error("42703", f'column "{column}" of relation "{view}" does not exist')


class _Level:
    """One view's rewrite of a statement onto its base relation."""

    def __init__(self, node, target: ViewTarget, qualifier: str, kind: str) -> None:
        self.node, self.t, self.q, self.kind = node, target, qualifier, kind
        self.index = {n: i for i, n in enumerate(target.names)}
        self.defaults = dict(target.defaults)

    def base_column(self, name: str) -> str:
        i = self.index.get(name)
        if i is None:
            raise _missing(name, self.t.view)
        col = self.t.base_cols[i]
        if col is None:
            raise _column_error(self.kind, name, self.t.view)
        return col

    def expr(self, i: int, qualifier: str | None = None) -> exp.Expression:
        e = self.t.exprs[i].copy()
        if qualifier is not None:
            for c in [e] if isinstance(e, exp.Column) else list(e.find_all(exp.Column)):
                if c.table == self.t.alias and not _nested(c, e):
                    c.set("table", exp.to_identifier(qualifier))
        return e

    def substitute(self, part: exp.Expression | None, others: bool,
                   excluded: bool = False) -> None:
        """Replace references to view columns in ``part`` (in place) by the view's
        expressions. ``others``: FROM/USING items may own unqualified names too."""
        if part is None:
            return
        cols = [c for c in part.find_all(exp.Column) if isinstance(c.this, exp.Identifier)]
        for c in cols:
            table = c.table
            if excluded and table == "excluded":
                i = self.index.get(c.name)
                if i is None:
                    raise _missing(c.name, self.t.view)
                c.replace(self.expr(i, "excluded"))
                continue
            if table == self.q or (not table and not _nested(c, self.node)):
                i = self.index.get(c.name)
                if i is None:
                    if table or not others:
                        raise errors.sql_error("42703", f"column {table}.{c.name} does not "
                                               "exist" if table else
                                               f'column "{c.name}" does not exist')
                    continue
                new = self.expr(i)
                if isinstance(c.parent, exp.Returning):
                    new = exp.alias_(new, c.name)
                c.replace(new)

    def star_items(self, items: list, others: list) -> list:
        """RETURNING with ``*`` / ``v.*`` spelt out as the view's columns."""
        out = []
        for e in items:
            if isinstance(e, exp.Star):
                out += [exp.alias_(self.expr(i), n) for i, n in enumerate(self.t.names)]
                out += [exp.Column(this=exp.Star(), table=exp.to_identifier(a)) for a in others]
            elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star) and e.table == self.q:
                out += [exp.alias_(self.expr(i), n) for i, n in enumerate(self.t.names)]
            else:
                out.append(e)
        return out


def _from_aliases(node) -> list:
    items = []
    from_ = node.args.get("from_")
    if from_ is not None:
        items.append(from_.this)
    items += [j.this for j in node.args.get("joins") or []]
    items += list(node.args.get("using") or [])
    return [i.alias_or_name for i in items if isinstance(i, exp.Expression)]


def _target_node(node):
    target = node.this
    return target.this if isinstance(target, exp.Schema) else target


def rewrite(binder, node, names_of) -> tuple:
    """``(statement on a base table, checks)`` for an INSERT/UPDATE/DELETE whose target
    is a view (a copy of ``node``; ``node`` itself is left as it is), or ``(node, ())``.
    ``checks``: the view names whose CHECK OPTION conditions the rewritten statement
    returns, in the order PostgreSQL checks them (innermost view first)."""
    kind = "INSERT" if isinstance(node, exp.Insert) else "UPDATE" if isinstance(
        node, exp.Update) else "DELETE" if isinstance(node, exp.Delete) else None
    if kind is None or _target_node(node).name not in binder.root.views:
        return node, ()
    node = node.copy()
    user_returning = node.args.get("returning") is not None
    checks: list = []
    cascaded = False
    while True:
        table = _target_node(node)
        name = table.name
        if name not in binder.root.views:
            break
        binder.view(name)                   # a cached plan depends on the view's definition
        target, detail = view_target(binder.root, name, names_of)
        if target is None:
            raise _refuse(kind, name, detail)
        if kind != "DELETE" and all(c is None for c in target.base_cols):
            raise _refuse(kind, name, "Views that have no updatable columns are not "
                                      "automatically updatable.")
        level = _Level(node, target, table.alias_or_name, kind)
        others = _from_aliases(node)
        _rewrite_level(level, node, kind, bool(others))
        # the view's owner needs on its base what the statement needs on the view
        saved = node.args.get("returning")
        if not user_returning:
            node.set("returning", None)
        reqs: list = []
        _target_requirements(binder, node, reqs)
        binder.view_writes.extend((w, n, p, name) for w, n, p, _ in reqs)
        node.set("returning", saved)
        if kind != "DELETE":
            has_wco = target.check is not None or cascaded
            cascaded = cascaded or target.check == "cascaded"
            if has_wco and target.where is not None:
                _add_returning(node, exp.alias_(
                    exp.func("coalesce", target.where.copy(), exp.false()),
                    f"{_CHECK}{len(checks)}"))
                checks.append(name)
    if checks:
        version = binder.root.tables.get(_target_node(node).name)
        if version is not None:
            alias = _target_node(node).alias_or_name
            for c in version.schema.columns:
                _add_returning(node, exp.column(c.name, table=alias))
    return node, tuple(reversed(checks))


def _add_returning(node, item: exp.Expression) -> None:
    ret = node.args.get("returning")
    if ret is None:
        ret = exp.Returning(expressions=[])
        node.set("returning", ret)
    ret.append("expressions", item)


def _rewrite_level(level: _Level, node, kind: str, others: bool) -> None:
    t = level.t
    new_table = exp.Table(this=exp.to_identifier(t.base))
    if t.alias != t.base:
        new_table.set("alias", exp.TableAlias(this=exp.to_identifier(t.alias)))
    ret = node.args.get("returning")
    if ret is not None:
        ret.set("expressions", level.star_items(list(ret.expressions), _from_aliases(node)))
        level.substitute(ret, others)
    if kind == "INSERT":
        _rewrite_insert(level, node, new_table)
        return
    if kind == "UPDATE":
        for a in node.expressions:
            _set_value(level, a, others, False)
            targets = a.this.expressions if isinstance(a.this, exp.Tuple) else [a.this]
            for c in targets:
                c.replace(exp.column(level.base_column(c.name)))
    where = node.args.get("where")
    level.substitute(where, others)
    cond = where.this if where is not None else None
    if t.where is not None:
        cond = t.where.copy() if cond is None else exp.and_(exp.Paren(this=cond), t.where.copy())
        node.set("where", exp.Where(this=cond))
    node.set("this", new_table)


def _set_value(level: _Level, assignment: exp.EQ, others: bool, excluded: bool) -> None:
    """A SET value over the base row. ``SET c = DEFAULT`` is the view column's default
    (ALTER VIEW ... SET DEFAULT), else NULL, as in PostgreSQL 15 (only an INSERT that
    leaves a column out gets the base column's DEFAULT)."""
    if is_default(assignment.expression):
        default = level.defaults.get(assignment.this.name) \
            if isinstance(assignment.this, exp.Column) else None
        assignment.set("expression", default.copy() if default is not None else exp.null())
    else:
        level.substitute(assignment.expression, others, excluded)


def _rewrite_insert(level: _Level, node, new_table: exp.Table) -> None:
    t = level.t
    target = node.this
    listed = [e.name for e in target.expressions] if isinstance(target, exp.Schema) else None
    source = node.expression
    if listed is None:
        if source is None:
            listed = []
        elif isinstance(source, exp.Values) and source.expressions:
            listed = list(t.names[:len(source.expressions[0].expressions)])
        elif isinstance(source, exp.Select) and not any(
                isinstance(e, exp.Star) or (isinstance(e, exp.Column)
                                            and isinstance(e.this, exp.Star))
                for e in source.expressions):
            listed = list(t.names[:len(source.expressions)])
        else:
            listed = list(t.names)
    listed = _view_defaults(level, node, listed)
    source = node.expression
    twice = errors.duplicate_column(listed)
    if twice is not None:
        raise twice
    columns = [level.base_column(c) for c in listed]
    if source is None:
        node.set("this", new_table)
    else:
        node.set("this", exp.Schema(this=new_table,
                                    expressions=[exp.to_identifier(c) for c in columns]))
    conflict = node.args.get("conflict")
    if conflict is not None:
        for key in conflict.args.get("conflict_keys") or []:
            col = key.this if isinstance(key, exp.Ordered) else key
            if isinstance(col, (exp.Column, exp.Identifier)):
                col.replace(exp.column(level.base_column(col.name)) if isinstance(
                    col, exp.Column) else exp.to_identifier(level.base_column(col.name)))
        for a in conflict.args.get("expressions") or []:
            if isinstance(a, exp.EQ):
                _set_value(level, a, False, True)
                targets = a.this.expressions if isinstance(a.this, exp.Tuple) else [a.this]
                for c in targets:
                    c.replace(exp.column(level.base_column(c.name)))
        level.substitute(conflict.args.get("where"), False, excluded=True)


def _view_defaults(level: _Level, node: exp.Insert, listed: list) -> list:
    """The view's column defaults in an INSERT: for DEFAULT in VALUES, and for columns
    the INSERT leaves out (as extra values, or columns of a wrapping SELECT); the
    columns then written. The base table's defaults apply to the rest."""
    source = node.expression
    if not level.defaults:
        return listed
    if isinstance(source, exp.Values):
        for row in source.expressions:
            for k, c in enumerate(listed[:len(row.expressions)]):
                if c in level.defaults and is_default(row.expressions[k]):
                    row.expressions[k].replace(level.defaults[c].copy())
    omitted = [c for c in level.t.names if c not in listed and c in level.defaults]
    if not omitted:
        return listed
    extra = [level.defaults[c] for c in omitted]
    if source is None:                          # DEFAULT VALUES
        node.set("expression", exp.Values(expressions=[
            exp.Tuple(expressions=[e.copy() for e in extra])]))
        node.set("default", False)
    elif isinstance(source, exp.Values):
        for row in source.expressions:
            row.set("expressions", list(row.expressions) + [e.copy() for e in extra])
    else:
        alias = "_view_source"
        node.set("expression", exp.Select(
            expressions=[exp.Column(this=exp.Star(), table=exp.to_identifier(alias))]
            + [e.copy() for e in extra]).from_(
                exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier(alias)))))
    return listed + omitted


def with_checks(plan: LogicalNode, checks: tuple, user_returning: bool) -> LogicalNode:
    """The DML plan, wrapped to check its views' CHECK OPTION conditions, or as it is."""
    if not checks:
        return plan
    names = plan.names
    first = names.index(f"{_CHECK}0")
    positions = tuple(names.index(f"{_CHECK}{len(checks) - 1 - k}") for k in range(len(checks)))
    row = first + len(checks)
    return LogicalViewCheck(plan.columns[:first], plan, tuple(zip(checks, positions)),
                            (row, len(names)), plan.returning[:first] if user_returning
                            else None)
