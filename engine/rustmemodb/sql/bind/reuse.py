"""Reusing bound expressions across statements (issue 11: a file of one-off queries).

A file of distinct statements over one table (SQLite's select1-5.test corpus, a
notebook's cells, a test suite) writes the same select items and conditions again
and again in different combinations: no statement's text or shape repeats, but its
pieces do. Binding such a piece (names, overloads, coercions, constant folding) costs
tens of microseconds each time; the result depends only on the piece itself and the
columns in scope, so a session keeps the bound pieces (``ExprMemo``) and the
expression binder looks a select item or a WHERE conjunct up before binding it.

What a piece's binding may depend on is kept out of reach or put in the key:

* the piece: a structural key over its sqlglot tree (node classes and arguments as
  written, identifiers' quoting included), made only from node classes whose binding
  reads nothing but their arguments, the scope and the function registry
  (``_PURE``): columns, number and string literals, arithmetic, comparison, logic,
  BETWEEN, IS [NOT] NULL, CASE, COALESCE, abs, count/sum/avg/min/max [DISTINCT]. A
  piece with anything else (subqueries, parameters, casts, other functions, windows,
  FILTER, other aggregates) is bound as
  always, and so is every piece of a statement whose literals are lifted into
  parameter slots (their slots are the statement's own);
* the scope: its columns (FROM alias, name, type), for a query level with no
  enclosing one only (an outer column reference is recorded on the subquery being
  bound), and only when every column has one of the built-in types ``_TYPES``;
* the binder: its class and whether aggregates or windows are allowed;
* the functions: the registry (a UDF changes its version) and the catalog's SQL
  functions (CREATE FUNCTION ... LANGUAGE sql may define ``abs``): the memo is
  emptied when either changes (``ExprMemo.current``).

Bound expressions are frozen dataclasses, so one may sit in many plans.
"""
from __future__ import annotations

import itertools

from sqlglot import exp

from ... import types
from ..plan_cache import deps_hold

# sqlglot node classes whose binding reads only their arguments, the scope and the
# function registry.
_PURE = frozenset({
    exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Paren,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod,
    exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.And, exp.Or, exp.Not, exp.Neg,
    exp.Is, exp.Between, exp.Case, exp.If, exp.Coalesce, exp.Abs,
    # the five aggregates the expression binder binds itself (ExprBinder._aggregate):
    # their result type comes from the registry; where aggregates are not allowed the
    # binder refuses them (an error is never kept)
    exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Distinct, exp.Star,
})
# The node classes of a plain query nested in a piece (a scalar subquery, EXISTS): a
# piece holding one reads the catalog too (``catalog_key``).
_QUERY = frozenset({
    exp.Subquery, exp.Exists, exp.Select, exp.From, exp.Where, exp.Table, exp.TableAlias,
    exp.Alias, exp.Group, exp.Having, exp.Order, exp.Ordered, exp.Limit,
})
_CATALOG_PURE = _PURE | _QUERY
_Column, _Identifier, _Literal = exp.Column, exp.Identifier, exp.Literal
# Column names that SQL reads as session functions (SESSION_USER, CURRENT_ROLE, ...).
_SESSION_WORDS = frozenset({"session_user", "current_role", "current_user", "user"})
_TYPES = frozenset({types.INTEGER, types.FLOAT, types.TEXT, types.BOOLEAN, types.DATE,
                    types.TIMESTAMP})
# Deeper pieces are bound as always (the key is made by a plain recursion).
_MAX_DEPTH = 48
# Entries kept per session; the memo starts over when full.
MAX_ENTRIES = 2048


def piece_key(node, depth: int = 0):
    """A hashable key equal for two sqlglot trees exactly when they are written alike
    (node classes, arguments; not positions), or None when the tree holds a node whose
    binding may read more than its arguments and the scope."""
    cls = type(node)
    args = node.args
    if cls is _Column and len(args) == 1:      # the commonest leaves, without a recursion
        ident = args.get("this")
        if type(ident) is _Identifier and len(ident.args) <= 2:
            name = ident.args.get("this")
            if type(name) is not str or name in _SESSION_WORDS:
                return None
            return (_Column, name, bool(ident.args.get("quoted")))
        return None
    if cls is _Literal and len(args) == 2:
        return (_Literal, args.get("this"), args.get("is_string"))
    if cls not in _PURE or depth > _MAX_DEPTH:
        return None
    if cls is exp.Column and node.name in _SESSION_WORDS:
        return None
    out = [cls]
    for k, v in args.items():
        if v is None or v is False:
            continue
        if isinstance(v, exp.Expression):
            v = piece_key(v, depth + 1)
            if v is None:
                return None
        elif type(v) is list:
            if not v:
                continue
            items = []
            for x in v:
                x = piece_key(x, depth + 1) if isinstance(x, exp.Expression) else None
                if x is None:
                    return None
                items.append(x)
            v = tuple(items)
        elif type(v) not in (str, bool, int):
            return None
        out.append(k)
        out.append(v)
    return tuple(out)


def catalog_key(node, depth: int = 0):
    """``piece_key`` of a piece that may hold plain queries too (``_QUERY``: scalar
    subqueries, EXISTS over catalog tables), or None. The first element of the key of
    a node with a query under it is ``(class, "catalog")`` (``reads_catalog``), so the
    sides of an AND/OR keep keys of their own kind (``arg_key``)."""
    cls = type(node)
    if cls is _Column or cls is _Literal:
        return piece_key(node, depth)       # the leaves keyed as piece_key keys them
    if cls not in _CATALOG_PURE or depth > _MAX_DEPTH:
        return None
    if cls is exp.Table and (node.args.get("db") is not None
                             or node.args.get("catalog") is not None
                             or not isinstance(node.this, _Identifier)):
        return None     # a virtual catalog table or a table function: not the catalog's
    catalog = cls in _QUERY
    out = [cls]
    for k, v in node.args.items():
        if v is None or v is False:
            continue
        if isinstance(v, exp.Expression):
            v = catalog_key(v, depth + 1)
            if v is None:
                return None
            catalog = catalog or type(v[0]) is tuple
        elif type(v) is list:
            if not v:
                continue
            items = []
            for x in v:
                x = catalog_key(x, depth + 1) if isinstance(x, exp.Expression) else None
                if x is None:
                    return None
                catalog = catalog or type(x[0]) is tuple
                items.append(x)
            v = tuple(items)
        elif type(v) not in (str, bool, int):
            return None
        out.append(k)
        out.append(v)
    if catalog:
        out[0] = (cls, "catalog")
    return tuple(out)


def reads_catalog(key) -> bool:
    """Whether the piece of ``key`` (made by ``catalog_key``) holds a query."""
    return type(key[0]) is tuple


def arg_key(key, name: str, child):
    """The key of argument ``name`` (``child``) of a node whose key is ``key``: read out of
    it when the node had one, else made (None when the child holds impure nodes)."""
    if key is None:
        return piece_key(child)
    for i in range(1, len(key) - 1, 2):
        if key[i] == name:
            return key[i + 1]
    return piece_key(child)


def scope_key(scope):
    """The key part for the columns of ``scope``, or None when pieces bound in it may not
    be reused (an enclosing scope, JOIN ... USING names, a type outside ``_TYPES``)."""
    if scope is None or scope.parent is not None or scope.using_names:
        return None
    cols = scope.columns
    cached = getattr(scope, "_reuse_key", None)
    if cached is not None and cached[0] == len(cols):
        return cached[1]
    if any(c.type not in _TYPES or type(c.type) is not str for c in cols):   # enums too
        key = None
    else:
        # interned: a memo lookup hashes a number, not the columns again
        columns = tuple((c.table, c.name, c.type, c.hidden, c.twin) for c in cols)
        key = _SCOPES.get(columns)
        if key is None:
            if len(_SCOPES) >= MAX_ENTRIES:
                _SCOPES.clear()     # numbers are never given out twice (_NUMBERS)
            key = _SCOPES[columns] = next(_NUMBERS)
    scope._reuse_key = (len(cols), key)
    return key


# (column descriptions of a scope) -> its number in memo keys.
_SCOPES: dict = {}
_NUMBERS = itertools.count(1)


class ExprMemo:
    """A session's bound pieces: (binder class, aggregates, windows, scope key, piece
    key) -> (bound expression, the dependencies its binding noted: the built-in
    functions it calls, which a later CREATE FUNCTION may shadow), valid for one
    function registry version and one set of catalog SQL functions. The dependencies
    are noted again on each reuse, so a plan made with a reused piece is checked for
    them as one made without (sql/plan_cache.py).

    A piece holding a query (``catalog_key``) is kept in ``catalog`` with what binding
    it added to the statement binder (the tables and views it depends on, the relations
    it reads, the outer references it made): handed out again only while each table,
    view and function it depends on is the same object in the catalog (as a cached
    plan: plan_cache.Prepared.valid_for), and those additions are made again."""

    __slots__ = ("catalog", "census", "entries", "hits", "keys", "row_fns", "stamp")

    def __init__(self) -> None:
        self.entries: dict = {}
        # (context, catalog key) -> (bound, deps, reads, outer refs made)
        self.catalog: dict = {}
        # id(sqlglot node) -> (node, its key): the pieces of sql/pieces.py are the same
        # node objects statement after statement, so each is keyed once
        self.keys: dict = {}
        # id(bound expression) -> (expression, (node classes, call names) under it): the
        # select binder's census (bind_select._census) of an expression handed out again
        self.census: dict = {}
        # id(bound expression) -> (expression, its row closure), filled by the row path's
        # compiler (exec/fast_select.py) for the expressions this memo hands out again:
        # the same object compiles to the same closure. The entry holds the expression,
        # so its id is not reused while the entry lives.
        self.row_fns: dict = {}
        self.stamp: tuple = (None, None, None)
        self.hits = 0

    def current(self, registry, catalog_functions) -> ExprMemo:
        """This memo, emptied first if the functions changed since it was filled."""
        stamp = self.stamp
        if stamp[0] is not registry or stamp[1] != registry.version \
                or stamp[2] is not catalog_functions:
            self.entries.clear()
            self.catalog.clear()
            self.row_fns.clear()
            self.stamp = (registry, registry.version, catalog_functions)
        return self

    def key_of(self, node, keep: bool = True, depth: int = 0):
        """``piece_key(node)``, else ``catalog_key(node)``: remembered per node object
        when ``keep`` (a piece of sql/pieces.py, which recurs as an object; a node of a
        statement parsed whole does not, and keeping it would keep its whole tree).

        An AND/OR or bracket (sql/pieces.py builds a new one per statement over pieces
        that recur) is keyed from its sides' remembered keys: the same key both
        functions would make, without walking the sides again (twice, when a side
        holds a query)."""
        hit = self.keys.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        key = _joined_key(self, node, keep, depth) if type(node) in _JOINS and \
            depth < _MAX_DEPTH else _NOT_JOINED
        if key is _NOT_JOINED:
            key = piece_key(node)
            if key is None:
                key = catalog_key(node)
        if not keep:
            return key
        keys = self.keys
        if len(keys) >= MAX_ENTRIES:
            keys.clear()
        keys[id(node)] = (node, key)
        return key

    def census_of(self, e, make):
        """``make(e)`` (the node classes and call names under bound expression ``e``),
        remembered per expression object."""
        hit = self.census.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        out = make(e)
        census = self.census
        if len(census) >= MAX_ENTRIES:
            census.clear()
        census[id(e)] = (e, out)
        return out

    def get(self, key):
        hit = self.entries.get(key)
        if hit is not None:
            self.hits += 1
        return hit

    def put(self, key, bound) -> None:
        entries = self.entries
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
            self.row_fns.clear()
        entries[key] = bound

    def get_catalog(self, key, root):
        """The entry for a piece holding a query, if every table, view and function its
        binding read is still the one in ``root``."""
        hit = self.catalog.get(key)
        if hit is None or not deps_hold(root, hit[1]):
            return None
        self.hits += 1
        return hit

    def put_catalog(self, key, entry) -> None:
        catalog = self.catalog
        if len(catalog) >= MAX_ENTRIES // 4:
            catalog.clear()
        catalog[key] = entry


_JOINS = frozenset({exp.And, exp.Or, exp.Paren})
_NOT_JOINED = object()


def _joined_key(memo: ExprMemo, node, keep: bool, depth: int):
    """The key of AND/OR/bracket ``node`` made from its sides' ``memo.key_of`` keys, as
    ``piece_key`` (every side pure) or ``catalog_key`` (a side holds a query) makes it;
    None when a side has none; ``_NOT_JOINED`` for a node with arguments other than
    expressions."""
    out = [type(node)]
    catalog = False
    for k, v in node.args.items():
        if v is None or v is False:
            continue
        if not isinstance(v, exp.Expression):
            return _NOT_JOINED
        v = memo.key_of(v, keep, depth + 1)
        if v is None:
            return None
        catalog = catalog or type(v[0]) is tuple
        out.append(k)
        out.append(v)
    if catalog:
        out[0] = (out[0], "catalog")
    return tuple(out)


# The binder's attributes binding a piece with a query may change (each kept with the
# piece and made again when it is handed out); a change to any other one leaves the
# piece unkept.
CATALOG_EFFECTS = frozenset({"deps", "reads", "nested", "outer_refs_made"})


def binder_state(stmt) -> dict:
    """What ``stmt``'s attributes are now, lists and dicts by their length."""
    out = {}
    for k, v in vars(stmt).items():
        t = type(v)
        out[k] = (t, len(v)) if t is list or t is dict or t is set else v
    return out
