"""Planning a one-table SELECT from plans of its pieces (issue 11: a file of one-off queries).

A file of distinct statements over one table (SQLite's select1-5.test corpus, a
notebook's cells, a test suite) writes the same select items and conditions again and
again in different combinations. ``sql/pieces.py`` spares the parse of such a statement
and ``sql/bind/reuse.py`` the binding of each piece, but the statement as a whole still
went through the binder's scaffolding, the optimizer's rules and a new plan: ~200 µs of
a one-off statement's ~400. This module plans the statement from plans of its pieces,
each made once per session by the normal path:

    item X      planned as ``SELECT X FROM <source>``          Project(Scan)
    condition C planned as ``SELECT 1 FROM <source> WHERE C``  Project(Scan(filter))

and assembles ``[Sort](Project(Scan(filter)))`` from them: the items' expressions and
output columns side by side, the conditions' filters joined by AND/OR as written (AND
before OR, both from the left: the tree sqlglot parses), ORDER BY output positions.

Only what is sure to mean the same alone as in place is used; anything else returns
None and the statement takes the normal path, which also reports every error (this
module never raises one of its own):

* the shape of sql/pieces.py without LIMIT, ORDER BY only by output positions;
* pieces whose sqlglot trees hold only node classes whose binding reads nothing but
  their arguments, the scope, the function registry and the catalog's tables
  (``reuse.piece_key``/``catalog_key``: no now(), random(), nextval(), parameters,
  casts, session functions);
* piece plans of exactly the shapes above, over a scan with no index lookup, no
  column pruning and no row id (a table past the row path's size is pruned: its
  pieces are not used), every piece over the same scan. A condition whose own plan is
  a join (a correlated EXISTS the optimizer turns into a semi-join) is planned as a
  value, ``SELECT C FROM <source>``: a subquery per row, the same rows, where the
  statement's WHERE has a top-level OR (no condition is then a conjunct the optimizer
  could join) or its tables are of the row path's size; else, and for a condition
  whose plan is anything else (folded to a constant, an index lookup), the statement
  takes the normal path;
* the session has no temporary tables, and the statement's literals are not lifted
  into parameter slots (its shape's first text: sql/plan_cache.py). EXPLAIN and
  PREPARE always plan with the optimizer (Session._prepare).

The plan's rows are made from the pieces' values over the table (exec/piece_rows.py,
``Prepared.pieces``), and by the plan compiled as any other when a piece has none.

A piece's plan is valid while the plan made for it is (``Prepared.valid_for``: the
same function registry version, every table schema, view and SQL function its binding
read still the same object, its tables' sizes within the plan cache's drift); a piece
the normal path would not plan this way is remembered as declined until the catalog
(``Root.catalog_version``) or the function registry changes. A piece is planned on its
second sighting (a statement's pieces seen once are just counted), or on its first
when it is the only piece its statement lacks or when more than a quarter of the
pieces the session's recent statements brought were seen before; so a file whose
pieces never repeat pays a dictionary lookup per piece and nothing more.
"""
from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict, namedtuple

from .. import errors, types
from ..plan.expr import Call, ColRef, Const
from ..plan.logical import SMALL_ROWS, LogicalJoin, LogicalProject, LogicalScan, LogicalSort
from . import params as placeholders
from .bound import BoundStatement
from .plan_cache import Prepared
from .pieces import chain, split

# Pieces (planned or declined) and sightings kept per session, least recently used
# dropped first.
MAX_ENTRIES = 1024

# Pieces sighted over which the share seen before is judged (``PiecePlans.prepare``): the
# counts are halved past it.
_REUSE_WINDOW = 256

# Kinds of pieces: a select item, a condition, a condition planned as a select item.
_ITEM, _COND, _VALUE = "item", "cond", "value"
# A condition planned as a value that may not stand where it is (see ``prepare``).
_NOT_HERE = object()
# One ORDER BY key by output position: ``2``, ``2 DESC``, ``1 ASC NULLS FIRST``.
_ORDER_KEY = re.compile(r"\s*([0-9]+)(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?\s*",
                        re.IGNORECASE)


# What the executor needs to make a statement's rows from its pieces' values
# (exec/piece_rows.py): the select items' and the conditions' pieces, the AND/OR
# joining the conditions, the sort keys ((output position, descending, nulls first),
# ...) or None, the table and its width, the output columns.
PieceRows = namedtuple("PieceRows", "items conds ops sort_keys table width columns")


# The plan of a statement planned from pieces is made when first read (``_LazyPlan``):
# its rows are made from the pieces' values (exec/piece_rows.py), and only a statement
# whose pieces have no values, EXPLAIN-like readers of cached plans and the tests read
# it. Making its nodes was a tenth of planning such a statement, and freeing them as
# much again.
_MAKING = threading.Lock()


class _LazyPlan:
    """A plan made once, when first asked for (``_make_plan(*parts)``), the same object
    for every reader (a statement's Prepared and its BoundStatement, any thread)."""

    __slots__ = ("_parts", "_plan")

    def __init__(self, parts: tuple) -> None:
        self._parts = parts
        self._plan = None

    def get(self):
        plan = self._plan
        if plan is None:
            with _MAKING:
                plan = self._plan
                if plan is None:
                    plan = self._plan = _make_plan(*self._parts)
                    self._parts = None
        return plan


def _make_plan(columns, exprs, scan_columns, table, alias, filters, ops, logic, sort_keys):
    """[Sort](Project(Scan(filter))) of a statement planned from its pieces
    (``PiecePlans._assemble``)."""
    filter_ = _chain(filters, ops, logic) if filters else None
    plan = LogicalProject(columns, LogicalScan(scan_columns, table, alias, False, filter_),
                          exprs)
    if sort_keys:
        plan = LogicalSort(columns, plan, [
            (ColRef(i, columns[i][1], columns[i][0]), desc, nulls_first)
            for i, desc, nulls_first in sort_keys])
    return plan


def _lazy_plan_property():
    """A ``plan`` attribute read from the instance's ``_lazy`` (a ``_LazyPlan``) until one
    is set."""
    def get(self):
        plan = self.__dict__.get("_plan")
        if plan is None:
            lazy = self.__dict__.get("_lazy")
            if lazy is not None:
                plan = lazy.get()
        return plan

    def set_(self, plan) -> None:
        self.__dict__["_plan"] = plan
    return property(get, set_)


class PiecePrepared(Prepared):
    """The Prepared of a statement planned from pieces: its ``plan`` made when first read."""
    plan = _lazy_plan_property()


class _PieceBound(BoundStatement):
    """Its BoundStatement: the same plan, made when first read."""
    plan = _lazy_plan_property()


class _Declined:
    """A piece the normal path does not plan as this module needs, for one catalog and
    one function registry version; ``joined``: a condition whose plan is a join (a
    correlated EXISTS or IN the optimizer turned into a semi-join)."""

    __slots__ = ("catalog_version", "functions_version", "joined")

    def __init__(self, catalog_version: int, functions_version: int,
                 joined: bool = False) -> None:
        self.catalog_version = catalog_version
        self.functions_version = functions_version
        self.joined = joined


class _Piece:
    """A planned piece: what its plan was made against (``prepared``: a ``Prepared``
    with the plan's bound dependencies, privileges and table sizes but no plan: its
    ``valid_for`` decides), what it adds to the statement (select expressions and output
    columns, or a filter) and the scan it reads."""

    __slots__ = ("prepared", "exprs", "columns", "filter", "scan", "scan_key", "small",
                 "tables", "fns", "subqueries", "memo", "needs")

    def __init__(self, prepared: Prepared, scan: LogicalScan, scan_key: tuple, exprs=(),
                 columns=(), filter=None) -> None:
        bound = prepared.bound
        # kept without the plan, its closures and the bound tree: a session keeps up to
        # MAX_ENTRIES of these, and the collector traverses all it keeps
        self.prepared = Prepared(prepared.text, None, kind=prepared.kind,
                                 bound=BoundStatement(bound.kind, deps=tuple(bound.deps),
                                                      nested=bound.nested,
                                                      privileges=bound.privileges),
                                 functions_version=prepared.functions_version,
                                 sizes=prepared.sizes)
        self.scan = scan
        # (table, alias, columns) of its scan, one object for equal scans (PiecePlans
        # ``_scans``): pieces of one statement must read the same scan
        self.scan_key = scan_key
        # every table it reads within the row path's size (valid_for plans it again
        # once one grows past that)
        self.small = all(rows <= SMALL_ROWS for _, rows in prepared.sizes)
        self.exprs = exprs
        self.columns = columns
        self.filter = filter
        # the tables its values are read from, and what the executor keeps of them
        # (exec/piece_rows.py): its row closures (None: not compiled yet, False: none),
        # whether they hold a subquery, its values for the last versions of its tables
        self.tables = tuple(dict.fromkeys(n for k, n, _ in bound.deps if k == "table"))
        self.fns = None
        self.subqueries = False
        self.memo = None
        # what a statement holding it depends on: (deps, privileges, sizes) without
        # repeats, and whether it holds a subquery (``PiecePlans._assemble`` merges them)
        deps: list = []
        for d in bound.deps:
            if d not in deps:
                deps.append(d)
        sizes: dict = {}
        for name, rows in prepared.sizes:
            sizes.setdefault(name, rows)
        self.needs = (tuple(deps), tuple(dict.fromkeys(bound.privileges)),
                      tuple(sizes.items()), bound.nested)

    @property
    def value_exprs(self) -> tuple:
        """The expressions whose values this piece adds: a select item's, or a
        condition's filter."""
        return self.exprs or (self.filter,)


class PiecePlans:
    """A session's planned pieces: (kind, source text, piece text) -> ``_Piece`` or
    ``_Declined``; and the pieces seen once."""

    __slots__ = ("entries", "seen", "hits", "misses", "_logic", "_checked", "_fresh",
                 "_orders", "_scans", "_merges", "_needs", "_sighted", "_known")

    def __init__(self) -> None:
        self.entries: OrderedDict = OrderedDict()
        self.seen: OrderedDict = OrderedDict()
        self.hits = 0          # statements planned here
        self.misses = 0        # statements of the shape left to the normal path
        # (registry, version) -> (and impl, or impl)
        self._logic: tuple = (None, None, None)
        # The root (weakly) and function registry version the entries of ``_fresh``
        # were checked against: an entry's validity depends on nothing else, and a file
        # of statements reads one root, so each piece is checked once per root
        self._checked: tuple = (None, None, -1)
        self._fresh: dict = {}
        # ORDER BY text -> its keys (or None); scan key -> itself
        self._orders: dict = {}
        self._scans: dict = {}
        # ids of the distinct ``needs`` of a statement's pieces, in order -> (those
        # needs, merged): statements combine the same few kinds of pieces; and the
        # needs of the pieces planned, one object for equal ones
        self._merges: dict = {}
        self._needs: list = []
        # Pieces the statements of the shape brought, and how many of them were seen
        # before (``prepare``)
        self._sighted = 0
        self._known = 0

    def forget(self) -> None:
        """Drop every piece's plan (the session's TimeZone changed, and a piece may hold
        a value read in the old one); the counts stay."""
        hits, misses = self.hits, self.misses
        self.__init__()
        self.hits, self.misses = hits, misses

    def prepare(self, session, ph, root) -> Prepared | None:
        """The plan of ``ph`` (normalized statement text, no placeholders) over ``root``
        assembled from its pieces' plans, or None (see the module doc). ``session``
        plans the pieces (``Session.plan_piece``)."""
        if ph.count:
            return None
        cut = split(ph.sql)
        if cut is None:
            return None
        items, source, conds, ops, order, limit = cut
        if limit is not None:
            return None
        if order is not None:
            orders = self._orders
            keys = orders.get(order, False)
            if keys is False:
                keys = _order_keys(order)
                if len(orders) >= MAX_ENTRIES:
                    orders.clear()
                orders[order] = keys
            if keys is None:
                return None
        else:
            keys = ()
        source = source.strip()
        wanted = [(_ITEM, source, t.strip()) for t in items]
        wanted += [(_COND, source, t.strip()) for t in conds]
        # Under a top-level OR no condition is a conjunct of the WHERE, which the
        # optimizer could turn into a join (a correlated EXISTS into a semi-join): a
        # condition whose own plan is such a join is then planned as a value. As a
        # conjunct too, on tables of the row path's size (plan.logical.SMALL_ROWS),
        # where a correlated subquery per row costs little (row_ops.compile_subquery)
        # and planning the join costs a millisecond; past that size, the normal path.
        under_or = "or" in ops
        functions = session.db.functions
        checked = self._checked
        if checked[0] is None or checked[0]() is not root or checked[1] is not functions \
                or checked[2] != functions.version:
            self._checked = (weakref.ref(root), functions, functions.version)
            self._fresh = {}
        got = []
        missing = []
        for i, key in enumerate(wanted):
            entry = self._valid(key, root, functions)
            if type(entry) is _Declined and key[0] is _COND and (under_or or entry.joined):
                key = wanted[i] = (_VALUE, source, key[2])
                entry = self._valid(key, root, functions)
                if entry is not None and not under_or and type(entry) is _Piece \
                        and not entry.small:
                    entry = _NOT_HERE
            if type(entry) is _Declined or entry is _NOT_HERE:
                self.misses += 1
                return None
            if entry is None:
                missing.append(i)
            got.append(entry)
        unseen = ()
        if missing:
            seen = self.seen
            unseen = [wanted[i] for i in missing if wanted[i] not in seen]
        # how often the session's statements bring pieces seen before (halved now and
        # then: what the recent statements do)
        if self._sighted >= _REUSE_WINDOW:
            self._sighted >>= 1
            self._known >>= 1
        self._sighted += len(wanted)
        self._known += len(wanted) - len(unseen)
        if missing:
            # Pieces are planned on their second sighting, or on their first when it is
            # the one piece the statement lacks (planning it costs about what planning
            # the statement whole would): a file whose pieces never repeat plans none.
            # Once more than a quarter of the pieces the session's recent statements
            # brought were seen before (a file writing the same pieces in new
            # combinations: SQLite's corpus), a new piece is planned on its first
            # sighting too: it is likely to come again, and its statement is spared the
            # normal path (planned whole, then its pieces again on their second sighting).
            if unseen and (len(unseen) > 1 or len(missing) == len(wanted)) and \
                    self._known * 4 <= self._sighted:
                for k in unseen:
                    seen[k] = None
                    if len(seen) > MAX_ENTRIES:
                        seen.popitem(last=False)
                self.misses += 1
                return None
            for i in missing:
                key = wanted[i]
                entry = self._plan(session, key, root, functions)
                if type(entry) is _Declined and key[0] is _COND and \
                        (under_or or entry.joined):
                    key = (_VALUE, source, key[2])
                    entry = self._valid(key, root, functions) or \
                        self._plan(session, key, root, functions)
                    if not under_or and type(entry) is _Piece and not entry.small:
                        entry = _NOT_HERE
                if entry is _NOT_HERE:
                    self.misses += 1
                    return None
                if type(entry) is _Declined:
                    self.misses += 1
                    return None
                got[i] = entry
        prepared = self._assemble(ph, got, len(items), ops, keys, functions)
        if prepared is None:
            self.misses += 1
        else:
            self.hits += 1
        return prepared

    def _valid(self, key: tuple, root, functions):
        """The entry kept for ``key`` if it still holds for ``root`` and ``functions``,
        else None."""
        valid = self._fresh
        entry = valid.get(key)
        if entry is not None:       # checked against this root and registry version
            if type(entry) is _Piece:
                self.entries.move_to_end(key)
            return entry
        entry = self.entries.get(key)
        if entry is None:
            return None
        if type(entry) is _Declined:
            if entry.catalog_version == root.catalog_version and \
                    entry.functions_version == functions.version:
                valid[key] = entry
                return entry
            return None
        if not entry.prepared.valid_for(root, functions):
            return None
        valid[key] = entry
        self.entries.move_to_end(key)
        return entry

    def _plan(self, session, key: tuple, root, functions):
        """The entry for ``key`` made now, and kept."""
        entry = self._plan_piece(session, key, root, functions)
        if type(entry) is _Piece:
            # one object for equal needs, so that statements compare and merge them by
            # identity (``_assemble``, ``_merged``)
            pool = self._needs
            own = entry.needs
            for needs in pool:
                # equal, and over the same schema objects (a plan's validity is by
                # identity: plan_cache.deps_hold)
                if needs == own and all(a[2] is b[2] for a, b in zip(needs[0], own[0])):
                    entry.needs = needs
                    break
            else:
                if len(pool) >= 64:
                    pool.clear()
                pool.append(entry.needs)
        entries = self.entries
        if len(entries) >= MAX_ENTRIES:
            self._fresh.pop(entries.popitem(last=False)[0], None)
        entries[key] = entry
        self._fresh[key] = entry      # made for this root and registry version
        return entry

    def _plan_piece(self, session, key: tuple, root, functions):
        kind, source, text = key
        declined = _Declined(root.catalog_version, functions.version)
        if not session.piece_is_pure(_ITEM if kind is _VALUE else kind, text):
            return declined
        sql = f"SELECT 1 FROM {source} WHERE {text}" if kind is _COND else \
            f"SELECT {text} FROM {source}"
        try:
            prepared = session.plan_piece(placeholders.normalize(sql), root)
        except errors.Error as exc:
            if exc.sqlstate[:2] in ("53", "54", "57"):
                raise   # cancelled, out of memory or too complex: not the piece's answer
            return declined
        bound = prepared.bound
        plan = prepared.plan
        if kind is _COND and type(plan) is LogicalProject and _has_join(plan.child):
            return _Declined(root.catalog_version, functions.version, joined=True)
        if bound is None or not bound.cacheable or bound.param_types or \
                prepared.lifted is not None or prepared.placeholders.count or \
                type(plan) is not LogicalProject or type(plan.child) is not LogicalScan:
            return declined
        scan = plan.child
        if scan.index_lookup is not None or scan.projection is not None or scan.with_rowid:
            return declined
        if kind is _ITEM:
            if scan.filter is not None:
                return declined
            return _Piece(prepared, scan, self._scan_key(scan), tuple(plan.exprs),
                          tuple(plan.columns))
        if kind is _VALUE:
            # a condition computed as a select item: one boolean value, nothing else
            if scan.filter is not None or len(plan.exprs) != 1:
                return declined
            f = plan.exprs[0]
            if type(f) is Const or f.type != types.BOOLEAN:
                return declined
            return _Piece(prepared, scan, self._scan_key(scan), filter=f)
        f = scan.filter
        if f is None or type(f) is Const or f.type != types.BOOLEAN:
            return declined
        return _Piece(prepared, scan, self._scan_key(scan), filter=f)

    def _scan_key(self, scan: LogicalScan) -> tuple:
        """(table, alias, columns) of ``scan``, the same object for equal scans."""
        key = (scan.table, scan.alias, tuple(scan.columns))
        scans = self._scans
        if len(scans) >= MAX_ENTRIES and key not in scans:
            scans.clear()
        return scans.setdefault(key, key)

    def _assemble(self, ph, got: list, n_items: int, ops: list, keys, functions):
        first = got[0]
        scan_key = first.scan_key
        for piece in got:
            if piece.scan_key is not scan_key and piece.scan_key != scan_key:
                return None
        first = first.scan
        table, alias, scan_columns = first.table, first.alias, first.columns
        exprs: list = []
        columns: list = []
        for piece in got[:n_items]:
            exprs += piece.exprs
            columns += piece.columns
        sort_keys = None
        if keys:
            n = len(columns)
            for k, _, _ in keys:
                if not 1 <= k <= n:
                    return None     # the normal path reports it (42P10)
            sort_keys = tuple((k - 1, desc, nulls_first) for k, desc, nulls_first in keys)
        filters = [p.filter for p in got[n_items:]]
        logic = self._logic_impls(functions) if filters else None
        lazy = _LazyPlan((columns, exprs, scan_columns, table, alias, filters, ops, logic,
                          sort_keys))
        needs = first_needs = got[0].needs
        for piece in got:
            if piece.needs is not first_needs and piece.needs != first_needs:
                needs = self._merged(got)
                break
        deps, privileges, sizes, nested = needs
        bound = _PieceBound("SELECT", deps=list(deps), returns_rows=True, nested=nested,
                            privileges=privileges, source=ph.sql)
        bound._lazy = lazy
        prepared = PiecePrepared(ph.sql, ph, kind="SELECT", bound=bound,
                                 functions_version=functions.version, sizes=sizes)
        prepared._lazy = lazy
        prepared.pieces = PieceRows(tuple(got[:n_items]), tuple(got[n_items:]), tuple(ops),
                                    sort_keys, table, len(scan_columns), columns)
        return prepared

    def _merged(self, got: list) -> tuple:
        """``_merged`` of the pieces' needs, kept by the identity of the distinct ones."""
        distinct = tuple({id(p.needs): p.needs for p in got}.values())
        key = tuple(map(id, distinct))
        merges = self._merges
        hit = merges.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], distinct)):
            return hit[1]
        needs = _merged(distinct)
        if len(merges) >= MAX_ENTRIES:
            merges.clear()
        merges[key] = (distinct, needs)
        return needs

    def _logic_impls(self, functions) -> dict:
        """The binder's calls for AND and OR in ``functions``: name -> (impl, type)."""
        registry, version, impls = self._logic
        if registry is not functions or version != functions.version:
            impls = {name: functions.resolve(name, [types.BOOLEAN, types.BOOLEAN])
                     for name in ("and", "or")}
            self._logic = (functions, functions.version, impls)
        return impls


def _chain(filters: list, ops: list, impls: dict):
    """The filters joined as sqlglot's parser joins the conditions (sql/pieces.py
    ``_chain``): AND before OR, both from the left; each join the call the binder makes
    for it (``impls``: PiecePlans._logic_impls)."""
    and_fn, and_type = impls["and"]
    or_fn, or_type = impls["or"]
    return chain(filters, ops, lambda a, b: Call("and", (a, b), and_type, and_fn),
                 lambda a, b: Call("or", (a, b), or_type, or_fn))


def _merged(needs: list) -> tuple:
    """The pieces' (deps, privileges, sizes, nested) merged: each dependency and
    privilege once, in order, each table's size as the first piece saw it."""
    deps: list = []
    privileges: dict = {}
    sizes: dict = {}
    nested = False
    for piece_deps, piece_privileges, piece_sizes, piece_nested in needs:
        for d in piece_deps:
            if d not in deps:
                deps.append(d)
        privileges.update(dict.fromkeys(piece_privileges))
        for name, rows in piece_sizes:
            sizes.setdefault(name, rows)
        nested = nested or piece_nested
    return tuple(deps), tuple(privileges), tuple(sizes.items()), nested


def _has_join(node) -> bool:
    """Whether plan ``node`` holds a join."""
    todo = [node]
    while todo:
        n = todo.pop()
        if type(n) is LogicalJoin:
            return True
        todo.extend(n.children())
    return False


def _order_keys(text: str):
    """[(output position, descending, nulls first)] of an ORDER BY list of output
    positions (the binder's defaults: NULLS FIRST exactly for DESC), or None."""
    out = []
    for part in text.split(","):
        m = _ORDER_KEY.fullmatch(part)
        if m is None:
            return None
        desc = (m.group(2) or "").lower() == "desc"
        nulls = m.group(3)
        out.append((int(m.group(1)), desc, desc if nulls is None else nulls.lower() == "first"))
    return out
