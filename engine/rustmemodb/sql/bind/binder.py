"""The statement binder: one per statement, holding what all clauses share.

It owns the catalog snapshot being bound against (a ``Root``), the function
registry, the inferred type of every parameter slot, and the list of catalog
objects the plan depends on (so the plan cache can tell when a cached plan is
stale). ``bind_statement`` dispatches on the statement class to the
``bind_<statement>`` modules.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.aggregates import aggregate_type
from ...plan.expr import AggCall, Cast, ColRef, Expr, NextVal, OuterRef, Param, SetVal
from ...plan.logical import LogicalNode, LogicalWithWrites
from ...plan.walk import expressions
from ..literals import literal_value
from ..bound import BoundStatement
from ..parse import parse_one, position_of
from .coerce import adapt
from . import enum_order
from .json_equality import require_equality
from .bind_merge import bind_merge
from .bind_session_functions import SessionFunctions
from .bind_matview import refuse_writes as refuse_matview_writes
from .privileges import ddl_objects, requirements
from .bind_range import RangeHooks
from .bind_composite import CompositeHooks
from .query_hooks import QueryHooks
from .scope import Scope
from .check_clauses import check_clauses
from . import bind_delete, bind_insert, bind_update
from .bind_on_conflict import bind_on_conflict
from .bind_update import bind_update_from
from .bind_delete import bind_delete_using
from .view_dml import rewrite as rewrite_view_dml, with_checks
from .bind_index import bind_create_index
from .bind_index import bind_drop_index
from .bind_files import bind_copy


_DML_KINDS = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE",
              exp.Merge: "MERGE"}


class StatementBinder(SessionFunctions, QueryHooks, RangeHooks, CompositeHooks):
    def __init__(self, root, functions, replacement_scan=None, literal_slots=None) -> None:
        self.root = root
        # start offset -> (literal index, kind, raw text) of the statement's liftable
        # literals (sql/literals.py), or None: literals then bind as plain constants.
        self.literal_slots = literal_slots
        self.functions = functions
        self.replacement_scan = replacement_scan
        self.param_types: dict[int, str] = {}
        self.has_params = False         # a $n placeholder was bound
        self.cast_slots: set[int] = set()
        self.deps: list = []
        self.cacheable = True
        self.ctes: list[dict] = []     # stack of WITH scopes: name -> CTE binding
        self.file_root: str | None = None   # read_csv/COPY paths stay inside it (bind_files)
        self.nested = False             # a subquery or WITH query was bound
        # OuterRefs made so far: a subquery during whose binding none was made reads
        # no outer column, and its plan needs no renumbering walk (bind_subquery.py).
        self.outer_refs_made = 0
        # Relations read, each with the view it was read through (None: by the statement
        # itself), and foreign keys' parent tables: the privileges the statement needs.
        self.reads: list = []
        self.references: list = []
        # Sequences and functions used: ("sequence", name, "USAGE|UPDATE", view) (any
        # of the privileges will do) and ("function", name, "EXECUTE", view).
        self.routine_uses: list = []
        self.view_stack: list = []
        # What writing through updatable views needs of each view's owner on its base
        # relation: ("table", base, privilege, view) (sql/bind/view_dml.py).
        self.view_writes: list = []
        # The session's bound select items and conditions (sql/bind/reuse.py), or None.
        self.expr_memo = None
        # The statement passed check_clauses already (a tree from sql/pieces.py).
        self.clauses_checked = False

    def note_read(self, name: str) -> None:
        self.reads.append((name, self.view_stack[-1] if self.view_stack else None))

    def note_use(self, kind: str, name: str, privileges: str) -> None:
        """A sequence or function the statement uses, with the privileges that allow it
        (``"USAGE|UPDATE"``: either). Checked for the caller even inside a view: PostgreSQL
        checks a relation read through a view as its owner, but a function executed
        (nextval too) as whoever runs it."""
        self.routine_uses.append((kind, name, privileges, None))

    # ---- catalog access (records dependencies) -----------------------------------------
    def table(self, name: str, position: int | None = None):
        version = self.root.tables.get(name)
        if version is None:
            if name in self.root.views:     # COPY, TRUNCATE, ...: INSERT/UPDATE/DELETE
                # through a view are rewritten onto its base table first (view_dml.py)
                raise errors.sql_error("0A000", f'cannot modify view "{name}"',
                                       hint="Only INSERT, UPDATE and DELETE write through "
                                            "a view; change the base table instead.",
                                       position=position)
            raise errors.undefined_table(name, position)
        self.deps.append(("table", name, version.schema))
        return version

    def has_table(self, name: str) -> bool:
        return name in self.root.tables

    def view(self, name: str):
        view = self.root.views.get(name)
        self.deps.append(("view", name, view))
        return view

    def external(self, name: str):
        """A registered or replacement-scanned pandas/Arrow object, or None."""
        if self.replacement_scan is None:
            return None
        data = self.replacement_scan(name)
        if data is not None:
            self.cacheable = False
        return data

    # ---- parameters ---------------------------------------------------------------------
    def param_type(self, slot: int, hint: str | None = None) -> str:
        current = self.param_types.get(slot)
        if current is None and hint is not None and hint not in (types.NULL, types.UNKNOWN):
            self.param_types[slot] = hint
            return hint
        return current or types.UNKNOWN

    def literal_slot(self, node: exp.Literal) -> int | None:
        """The lifted-literal index of a literal node, if the text scan found it there."""
        meta = node.meta
        hit = self.literal_slots.get(meta.get("start")) if meta else None
        if hit is None:
            return None
        i, kind, raw = hit
        if node.this != literal_value(kind, raw) or node.is_string != (kind == "s"):
            return None
        # Text bound along with the statement (a view's query, a column DEFAULT) has
        # literals at offsets of its own: only the statement's own tree is tagged.
        return i if node.root() is self.ast else None

    # ---- columns ------------------------------------------------------------------------
    def resolve_column(self, scope: Scope, name: str, table: str | None,
                       position: int | None = None, node=None) -> Expr:
        """The column ``[table.]name`` names in ``scope`` (or an enclosing one, as an
        OuterRef). ``node``: the sqlglot node, whose position an error reports; read only
        then (a one-off statement resolves dozens of names, nearly all on the first try)."""
        hits = scope.find(name, table)
        if len(hits) == 1:
            i = hits[0]
            c = scope.columns[i]
            return ColRef(i, c.type, c.name)
        if position is None and node is not None:
            position = position_of(node)
        if not hits and scope.parent is not None:
            return self._outer_column(scope, name, table, position)
        i = scope.resolve(name, table, position)
        c = scope.columns[i]
        return ColRef(i, c.type, c.name)

    def _outer_column(self, scope: Scope, name: str, table: str | None, position) -> Expr:
        depth, s = 0, scope
        while s is not None and not s.find(name, table):
            s, depth = s.parent, depth + 1
        if s is None:
            return scope.resolve(name, table, position)  # raises the right error
        i = s.resolve(name, table, position)
        c = s.columns[i]
        ref = OuterRef(depth, i, c.type, c.name)
        self.outer_refs_made += 1
        scope.outer_refs.append(ref)
        return ref

    def _collect_param_types(self, plan: LogicalNode) -> None:
        """The type each placeholder ended up with, wherever coercion settled it."""
        if not self.has_params:
            return
        for e in expressions(plan):
            if isinstance(e, Param) and e.type not in (types.UNKNOWN, types.NULL):
                self.param_types.setdefault(e.slot, e.type)

    # ---- aggregates -----------------------------------------------------------------------
    def make_aggregate(self, name: str, args: list, distinct: bool, node) -> AggCall:
        try:
            ret = aggregate_type(self.functions, name, [a.type for a in args],
                                 position_of(node) if node is not None else None)
        except errors.Error as exc:
            # an aggregate with no numeric form (corr, stddev...) reads numerics as
            # float8, as PostgreSQL's implicit cast does
            if exc.sqlstate != "42883" or not any(a.type == types.NUMERIC for a in args):
                raise
            args = [Cast(a, types.FLOAT) if a.type == types.NUMERIC else a for a in args]
            ret = aggregate_type(self.functions, name, [a.type for a in args],
                                 position_of(node) if node is not None else None)
        if distinct:      # count(DISTINCT j): json has no equality (json_equality.py)
            require_equality([a.type for a in args], position_of(node) if node is not None
                             else None)
        agg = AggCall(name, tuple(args), ret, distinct=distinct)
        if (name == "min" or name == "max") and type(args[0].type) is types.EnumType:
            return enum_order.extreme(self.functions, agg)   # by label position
        return agg

    # ---- dispatch -------------------------------------------------------------------------
    def bind_statement(self, node: exp.Expression) -> BoundStatement:
        bound = self._bind_statement(node)
        bound.privileges = requirements(self, node, bound.kind, bound)
        bound.source = node
        refuse_matview_writes(self.root, bound.privileges)
        if bound.ddl or isinstance(node, (exp.Create, exp.Drop, exp.Alter)):
            bound.ddl_objects = ddl_objects(node)     # sequences and functions too
        return bound

    def _bind_statement(self, node: exp.Expression) -> BoundStatement:
        self.ast = node
        from . import bind_ddl, bind_select
        if not self.clauses_checked:
            check_clauses(node)
        if isinstance(node, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values)) \
                or (isinstance(node, exp.Subquery)):
            plan = bind_select.bind_query(self, node, None)
            return self._done("SELECT", plan, returns_rows=True)
        kind = _DML_KINDS.get(type(node))
        if kind is not None:
            bind = StatementBinder.bind_dml
            with_ = node.args.get("with_")
            if with_ is not None:      # WITH x AS (...) INSERT/UPDATE/DELETE ...
                plan = self.bind_with(node, with_, None, lambda body: bind(self, body))
            else:
                plan = bind(self, node)
            target = plan.child if isinstance(plan, LogicalWithWrites) else plan
            return self._done(kind, plan, returns_rows=target.returning is not None)
        if isinstance(node, exp.Copy):
            return self._done("COPY", bind_copy(self, node), returns_rows=False)
        kind, plan = bind_ddl.bind_ddl(self, node)   # a plan/ddl.py node
        self.cacheable = False     # DDL is bound again each time it runs
        return self._done(kind, plan, returns_rows=False)

    def bind_dml(self, node) -> LogicalNode:
        """The plan of an INSERT, UPDATE, DELETE or MERGE (also of a data-modifying WITH
        query)."""
        bind = {exp.Insert: bind_insert.bind_insert, exp.Update: bind_update.bind_update,
                exp.Delete: bind_delete.bind_delete, exp.Merge: bind_merge}[type(node)]
        if isinstance(node, exp.Merge) and node.this.name in self.root.views:
            raise errors.sql_error("42809", f'cannot execute MERGE on relation '
                                            f'"{node.this.name}"',
                                   detail="This operation is not supported for views.")
        rewritten, checks = rewrite_view_dml(self, node, self.relation_names)
        if rewritten is node:
            return bind(self, node)
        if node is self.ast:        # the statement's own literals stay liftable
            self.ast = rewritten
        plan = bind(self, rewritten)
        return with_checks(plan, checks, node.args.get("returning") is not None)

    def relation_names(self, name: str) -> list:
        """A table's or view's column names."""
        version = self.root.tables.get(name)
        if version is not None:
            return [c.name for c in version.schema.columns]
        view = self.root.views[name]
        plan = StatementBinder(self.root, self.functions).bind_statement(
            parse_one(view.sql)).plan
        return list(view.columns) + plan.names[len(view.columns):]

    def _done(self, kind: str, plan: LogicalNode, returns_rows: bool) -> BoundStatement:
        self._collect_param_types(plan)
        return BoundStatement(kind, plan=plan, param_types=self.param_types, deps=self.deps,
                              cacheable=self.cacheable, returns_rows=returns_rows,
                              cast_slots=frozenset(self.cast_slots), nested=self.nested)

    # ---- hooks for query features: WITH, set operations, DISTINCT ON, windows and
    # subqueries come from QueryHooks (query_hooks.py); the rest are stubs here.
    def find_cte(self, name: str):
        for frame in reversed(self.ctes):
            if name in frame:
                return frame[name]
        return None

    def bind_on_conflict(self, conflict, version, alias: str):
        return bind_on_conflict(self, conflict, version, alias)

    def bind_update_from(self, node):
        return bind_update_from(self, node)

    def bind_delete_using(self, node):
        return bind_delete_using(self, node)

    def bind_function_nextval(self, binder, arg_nodes, node):
        if len(arg_nodes) != 1:
            raise errors.undefined_function(f"function nextval with {len(arg_nodes)} "
                                            "arguments does not exist")
        name = self.sequence_arg(binder, arg_nodes[0], "nextval")
        self.note_use("sequence", name, "USAGE|UPDATE")
        return NextVal(name)

    def bind_function_setval(self, binder, arg_nodes, node):
        if len(arg_nodes) not in (2, 3):
            raise errors.undefined_function(f"function setval with {len(arg_nodes)} "
                                            "arguments does not exist")
        name = self.sequence_arg(binder, arg_nodes[0], "setval")
        self.note_use("sequence", name, "UPDATE")
        value = adapt(binder.bind(arg_nodes[1]), types.INTEGER)
        called = adapt(binder.bind(arg_nodes[2]), types.BOOLEAN) if len(arg_nodes) == 3 \
            else None
        if value.type not in (types.INTEGER, types.NULL) or \
                (called is not None and called.type not in (types.BOOLEAN, types.NULL)):
            raise errors.undefined_function(
                "function setval(" + ", ".join(["regclass", value.type.lower()] + (
                    [called.type.lower()] if called is not None else [])) + ") does not exist")
        return SetVal(name, value, called)

    def bind_create_index(self, node):
        return bind_create_index(self, node)

    def bind_drop_index(self, node):
        return bind_drop_index(self, node)

    def bind_alter(self, node):
        from .bind_alter import bind_alter
        return bind_alter(self, node)

    def bind_reference(self, table, columns, ref, all_columns, name=None, fk_node=None):
        from .bind_constraints import bind_reference
        return bind_reference(self, table, columns, ref, all_columns, name, fk_node)

    def validate_constraints(self, schema):
        from .bind_constraints import validate_constraints
        validate_constraints(self, schema)
