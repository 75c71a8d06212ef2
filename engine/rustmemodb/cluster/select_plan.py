"""How a cluster connection runs a query: the SELECT planning half of ``ClusterConnection``
(a mixin). A query is split into per-shard partial plans and a merge, with exchanges
between shards where a join or grouping needs rows moved, or gathered when no split
applies; see the module docstring of connect.py for the whole design."""

from __future__ import annotations

from .. import infinity, numeric_arrays

import time
from dataclasses import dataclass

import pyarrow as pa
import sqlglot
from sqlglot import exp

from .. import errors, types
from ..result import Result
from . import loads
from . import rangewindows
from .ctes import inline_ctes, set_with, with_of
from .correlated import column_of, has_sharded_subquery, plain_output, plan_correlated
from .grouped import GROUPED, split_grouped
from .held import held_ctes, holdable
from .merge import conform, create_typed, load_table, run_merge, scratch_connection
from ..plan.expr import Call
from ..plan.walk import expressions
from .partition import TableInfo, refuse, split_rows
from .planexchange import place_exchanges, place_grouping
from .plansplit import AggregateNotSplit, NotSplit, bind_and_optimize, split_plan
from .setops import plan_setop
from .shuffle import HASHABLE, WINDOW_KEY, Side, _needed_columns, \
    common_partition_expression, conjuncts, plan_join, plan_staged_windows, plan_window, \
    plan_window_on_expression, window_expression, window_key, window_specs
from .split import DistPlan, merge_on_shards, plan_select
from .wire import check, ipc_to_table, table_to_ipc
from .trees import (
    IN_LIST_ROWS, PLAN_SPLITS_KEPT, _SIZE_FUNCTIONS, _colocated, _describe_setop,
    _in_order, _inline, _join_star, _local_from, _parse, _pinned_shard, _referenced,
    _reply_result, _spelled_in, _sql_type_name, _table_name, _table_occurrences,
    _tokens_by_target, _top_occurrences, _typed_literal, _window_prefix,
    _windows_over_rows, _writes)


def _with_shifts(sql: str, input_name: str, shifts: exp.Select) -> str:
    """``sql`` reading ``shifts`` (lag / lead and bounded frames over the rows and their
    ghosts, ``rangewindows.rewrite``; or the rows of a join) where it read table
    ``input_name`` (under the table's alias, else its name)."""
    tree = sqlglot.parse_one(sql, read="postgres")
    for t in list(tree.find_all(exp.Table)):
        if t.name == input_name:
            alias = t.args.get("alias")
            t.replace(exp.Subquery(this=shifts.copy(), alias=alias.copy() if alias is not None
                                   else exp.TableAlias(this=exp.to_identifier(input_name))))
    return tree.sql(dialect="postgres")


@dataclass
class _RowsAsTable:
    """Rows a query makes on the shards (a join's, or a first stage's with its windows)
    described as ``rangewindows`` describes a table: the name they are read by, their
    named columns (the slots ``__c0``, ``__c1``, ... of ``_window_join_parts``, or a
    stage's outputs) and their types."""
    name: str
    columns: list
    types: dict


def orders_enums(plan) -> bool:
    """Whether a bound plan compares or sorts values of an enum type by label position
    (sql/bind/enum_order.py)."""
    return any(isinstance(e, Call) and e.fn in ("enum_sortkey", "enum_label")
               for e in expressions(plan))


def reads_chars(plan) -> bool:
    """Whether a bound plan reads character(n) values (types.BpcharType): their trailing
    blanks do not count (sql/bind/bpchar.py), which the split, exchange and repartition
    plans, rendered as text and read back as text, would lose."""
    return any(type(getattr(n, "type", None)) is types.BpcharType
               for e in expressions(plan) for n in e.walk())


class SelectPlanning:
    """SELECT planning of ClusterConnection (connect.py)."""

    # ---- SELECT ---------------------------------------------------------------------------
    def _select(self, sql: str, params, plan_only: bool = False):
        tree = _parse(sql)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        if _writes(tree):
            raise refuse("a data-modifying statement inside WITH")
        written = sql   # (bound as written: the engine's errors are those of its text)
        ctes_ran: list = []
        tree, inlined = inline_ctes(tree, self._volatile, self._table_columns, once=False)
        if inlined:   # its CTEs as derived tables: the planner splits those
            sql = tree.sql(dialect="postgres")
            tree = _parse(sql)   # (as the shards will read it)
        refs, has_view = _referenced(tree, self._root(),
                                     self.catalog)
        if not refs and not has_view and self.shards > 1 and isinstance(tree, exp.Select):
            done = self._file_select(tree, sql, plan_only)
            if done is not None:
                return done
        if refs or has_view:
            # Bound on the mirror (the engine's errors, names, types and the role's
            # privileges), not run: its tables are empty, and over no rows a query can
            # fail where over the cluster's it does not (``1 / count(*)``).
            bound = self._bind_checked(written).plan
            want = list(bound.columns)
            chars = reads_chars(bound)
            if orders_enums(bound) or chars:
                # enum values order by label position, char(n) values compare without
                # their blanks: the split and exchange plans order, merge, compare and
                # range-partition keys as the shards report them (text), so such a
                # statement runs over the gathered rows, as the single engine would run it
                plan = {"sql": written, "tables": list(self.catalog) if has_view else refs,
                        "strategy": "gather",
                        "notes": ["character(n) values: gathered" if chars else
                                  "enum order: gathered"]}
                if plan_only:
                    return plan
                scratch = self._gather(plan["tables"])
                return self._finish(plan, scratch.execute(written)._result)
            done = None if has_view else \
                self._cte_on_shards(tree, sql, refs, want, plan_only)
            if done is not None:
                return done
            tree, ctes_ran = self._ctes_first(tree)
            before_late = tree
            tree, late = inline_ctes(tree, self._volatile, self._table_columns)
            inlined += late
            if ctes_ran or late:   # CTEs computed once (run first: VALUES) or read once
                sql = tree.sql(dialect="postgres")
                tree = _parse(sql)
                refs, has_view = _referenced(tree, self._root(), self.catalog)
                if not refs and not has_view:   # constants only now: answered here
                    meta = self.mirror.execute(sql)._result
            held = None
            if with_of(tree) is not None and not has_view:
                held = held_ctes(self, tree, want, plan_only)
            if held is None and late and with_of(before_late) is not None and refs and \
                    not has_view and (with_of(tree) is not None or self._select(
                        sql, None, plan_only=True)["strategy"] == "gather"):
                # (a CTE with a LIMIT read once, written in as a derived table beside a
                # table read directly, or read by a grouped CTE, is gathered: held, it
                # is not)
                held = held_ctes(self, before_late, want, plan_only)
                if held is not None:
                    inlined = inlined[:len(inlined) - len(late)]
            if held is not None:   # computed once, held on the shards for it
                if plan_only:
                    return dict(held, sql=sql, **{k: v for k, v in (
                        ("ctes_inlined", inlined), ("ctes_first", ctes_ran)) if v})
                for key, value in (("ctes_inlined", inlined), ("ctes_first", ctes_ran)):
                    if value:
                        self.last_plan[key] = value + self.last_plan.get(key, [])
                return held
        else:
            meta = self.mirror.execute(written)._result   # the answer itself
            want = list(meta.columns)
        catalog = self.catalog
        part = [r for r in refs if not catalog[r].replicated]
        if has_view:
            part = [n for n, i in catalog.items() if not i.replicated]
            refs = list(catalog)
        plan = {"sql": sql, "tables": refs}
        if inlined:
            plan["ctes_inlined"] = inlined
        if ctes_ran:
            plan["ctes_first"] = ctes_ran
        if not refs:
            plan["strategy"] = "coordinator"
            if plan_only:
                return plan
            sized = self._with_shard_sizes(tree)
            if sized is not None:   # sizes of cluster tables: the sums over the shards
                meta = self.mirror.execute(sized.sql(dialect="postgres"))._result
            return self._finish(plan, meta)
        if not part:
            plan["strategy"], plan["shard"] = "replicated", 0
            if plan_only:
                return plan
            reply = self._on_shards([0], sql, None)[0]
            return self._finish(plan, _reply_result(reply))
        if not has_view and isinstance(tree, exp.Select):
            first = self._subqueries_first(tree)
            if first is not None:
                new_tree, ran = first
                done = self._select(new_tree.sql(dialect="postgres"), None, plan_only)
                target = done if plan_only else self.last_plan
                target["subqueries_first"] = ran + target.get("subqueries_first", [])
                for key in ("ctes_inlined", "ctes_first"):
                    if plan.get(key):
                        target[key] = plan[key] + target.get(key, [])
                return done
        if len(part) == 1 and not has_view:
            pinned = _pinned_shard(tree, catalog[part[0]], self.shards)
            if pinned is not None:
                plan["strategy"], plan["shard"] = "routed", pinned
                if plan_only:
                    return plan
                reply = self._on_shards([pinned], sql, None)[pinned]
                return self._finish(plan, _reply_result(reply))
        if not has_view and isinstance(tree, exp.SetOperation):
            sp = plan_setop(tree, want, self._leaf_info, self._placed_by, self._columns_of)
            if sp is not None:
                dist = DistPlan(sp.shard_sql, sp.merge, "set operation")
                moved = sp.sides or any(p is not None for _, _, p in sp.first)
                plan.update(strategy="shuffle" if moved else "split", kind=dist.kind,
                            partial=dist.partial, merge=dist.merge, keys=[],
                            position=sp.position)
                _describe_setop(plan, sp)
                if plan_only:
                    return plan
                inputs = self._first_inputs(sp.first)
                per_shard = {s: sp.others if s and sp.others else sp.shard_sql
                             for s in range(self.shards)}
                return self._finish(plan, self._run_split(plan, dist, want,
                                                          sides=sp.sides or None,
                                                          shard_sql=per_shard,
                                                          inputs_per_shard=inputs))
        if not has_view and isinstance(tree, exp.Select) and self.cluster.planner == "plan":
            done = self._plan_split(sql, want, plan, plan_only)
            if done is not None:
                return done
        if not has_view and isinstance(tree, exp.Select):
            done = self._derived_setop(tree, want, plan, plan_only) or \
                self._derived_first(tree, want, plan, plan_only)
            if done is not None:
                return done
        occurrences = _table_occurrences(tree, catalog)
        local_where = not has_view and self._local_subqueries(tree)
        if local_where:   # the WHERE's subqueries run on each shard: count the FROM only
            occurrences = _top_occurrences(tree, catalog)
        if not has_view and _local_from(tree, part, catalog, occurrences):
            joins = tree.args.get("joins")
            star = catalog[part[0]].columns if not joins and len(refs) == 1 else \
                _join_star(tree, catalog) if joins else None
            dist = plan_select(tree, star, where_subqueries=local_where)
            if dist is not None:
                plan.update(strategy="split", kind=dist.kind, partial=dist.partial,
                            merge=dist.merge, keys=dist.keys)
                if plan_only:
                    return plan
                return self._finish(plan, self._run_split(plan, dist, want))
            done = self._window_select(tree, part, star, want, plan, plan_only)
            if done is not None:
                return done
        if not has_view and isinstance(tree, exp.Select):
            done = self._grouped_window(tree, want, plan, plan_only) or \
                self._range_windows(tree, part, want, plan, plan_only) or \
                self._range_windows_derived(tree, part, want, plan, plan_only) or \
                self._range_windows_staged(tree, part, want, plan, plan_only) or \
                self._range_windows_over_derived(tree, part, want, plan, plan_only) or \
                self._window_columns(tree, part, want, plan, plan_only) or \
                self._window_join_on_shards(tree, want, plan, plan_only) or \
                self._window_join_derived(tree, want, plan, plan_only) or \
                self._window_join_staged(tree, want, plan, plan_only) or \
                self._range_windows_join(tree, want, plan, plan_only) or \
                self._window_join_columns(tree, want, plan, plan_only)
            if done is not None:
                return done
            counts = self._row_counts()
            n = self.shards
            if has_sharded_subquery(tree, catalog, _table_name):
                done = self._correlated(tree, want, plan, plan_only, counts)
                if done is not None:
                    return done
            star = _join_star(tree, catalog)
            jplan = plan_join(tree, part, catalog, _table_name)
            jdist = plan_select(jplan.tree, star) if jplan is not None else None
            bplan = self._broadcast_plan(tree, part, counts)
            bdist = plan_select(bplan[0], star) if bplan is not None else None
            shuffle_cost = sum(counts.get(side.table, 0) for side in jplan.sides) * \
                (n - 1) / n if jdist is not None else None
            broadcast_cost = sum(counts.get(name, 0) for name in bplan[1]) * n \
                if bdist is not None else None
            if shuffle_cost is not None and (broadcast_cost is None or
                                             shuffle_cost <= broadcast_cost or
                                             self.cluster.always_shuffle):
                return self._run_placed(plan, jdist, jplan, want, plan_only,
                                        _sides=jplan.sides)
            if broadcast_cost is not None:
                btree, names, anchor = bplan
                dist = bdist
                # Every shard sends its rows of each broadcast table to every other
                # shard directly (key None: a copy to all, ``exchange.py``).
                sides = [Side(f"__bcast_{name}", name, None, None) for name in names]
                plan.update(strategy="broadcast", kind=dist.kind, partial=dist.partial,
                            merge=dist.merge, keys=dist.keys, broadcast=names, anchor=anchor,
                            _sides=sides)
                if plan_only:
                    return plan
                return self._finish(plan, self._run_split(plan, dist, want, sides=sides))
        plan["strategy"] = "gather"
        if plan_only:
            return plan
        scratch = self._gather(refs)
        return self._finish(plan, scratch.execute(sql)._result)

    def _cte_on_shards(self, tree: exp.Expression, sql: str, refs: list, want: list,
                       plan_only: bool):
        """A statement whose one WITH query must be computed once (volatile: ``WITH t AS
        (SELECT id, gen_random_uuid() AS r FROM a) SELECT ... FROM t x JOIN t y ON x.id =
        y.id``) and reads one sharded table row by row, keeping its partition key as an
        output: each shard's rows of the CTE are its own rows' (placed as the table is,
        by that key), so the statement splits as over a table of that placement and each
        shard computes the CTE once over its rows, in its partial (the engine computes a
        volatile CTE once). Any size: it used to be written in as VALUES up to
        ``CTE_ROWS`` rows and gathered every table beyond. None: another shape."""
        w = with_of(tree)
        if w is None or len(w.expressions) != 1 or w.args.get("recursive") or \
                not isinstance(tree, exp.Select) or _writes(tree):
            return None
        cte = w.expressions[0]
        body, name = cte.this, cte.alias_or_name
        if not isinstance(body, exp.Select) or cte.args["alias"].columns or \
                body.args.get("joins") or with_of(body) is not None or any(
                    body.args.get(k) is not None for k in (
                        "group", "having", "qualify", "distinct", "order", "limit",
                        "offset", "laterals", "windows")) or any(
                    isinstance(n, (exp.Query, exp.Window, exp.AggFunc, exp.Star))
                    for n in body.walk() if n is not body):
            return None
        from_ = body.args.get("from_")
        table = from_.this if from_ is not None else None
        info = self.catalog.get(_table_name(table)) if isinstance(table, exp.Table) else None
        if info is None or info.replicated or not info.key or table.args.get("sample"):
            return None
        outputs = {}
        for e in body.expressions:   # the key columns, output as themselves
            if isinstance(e, exp.Column) and e.table in ("", table.alias_or_name):
                outputs[e.name if e.this.quoted else e.name.lower()] = e
        typed = self._columns_of(body)
        if typed is None or any(k not in outputs for k in info.key) or \
                len({n for n, _ in typed}) != len(typed):
            return None
        cte_name = name if cte.args["alias"].this.quoted else name.lower()
        if cte_name in self.catalog:
            return None   # (a CTE named as a table: the names below would mix them)
        catalog = dict(self.catalog)
        catalog[cte_name] = TableInfo(cte_name, [n for n, _ in typed], list(info.key),
                                      types=dict(typed))
        outer = tree.copy()
        set_with(outer, None)
        if any(_table_name(t) not in catalog for t in outer.find_all(exp.Table)):
            return None   # (a system table: read where the statement runs)
        part = [r for r in dict.fromkeys(_table_occurrences(outer, catalog))
                if not catalog[r].replicated]
        occurrences = _table_occurrences(outer, catalog)
        if cte_name not in part or self._local_subqueries(outer) or \
                not _local_from(outer, part, catalog, occurrences):
            return None
        joins = outer.args.get("joins")
        star = catalog[part[0]].columns if not joins and len(occurrences) == 1 else \
            _join_star(outer, catalog) if joins else None
        dist = plan_select(outer, star)
        if dist is None:
            return None
        partial = sqlglot.parse_one(dist.partial, read="postgres")
        set_with(partial, w.copy())
        dist = DistPlan(partial.sql(dialect="postgres"), dist.merge, dist.kind,
                        keys=dist.keys)
        plan = {"sql": sql, "tables": refs, "strategy": "split", "kind": dist.kind,
                "partial": dist.partial, "merge": dist.merge, "keys": dist.keys,
                "cte_on_shards": (name, list(info.key))}
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want))

    def _plan_split(self, sql: str, want: list, plan: dict, plan_only: bool):
        """The split of the engine's own optimized plan (``plansplit.py``): per-shard
        partials rendered from the plan's local part, the merge from the rest. None: the
        plan is outside that split (the reason is kept for EXPLAIN) and the SQL-level
        strategies below take the statement. Splits are remembered per statement text
        while the mirror's root (the schema) and the tables' placement are the same."""
        root = self._root()
        # Placement can change with no schema change (a table turned REPLICATED).
        placed = tuple((n, tuple(i.key), i.replicated) for n, i in self.catalog.items())
        hit = self._plan_splits.get(sql)
        counts: list = []   # the row counts a broadcast-or-shuffle choice was made by

        def rows() -> dict:
            if not counts:
                counts.append(self._row_counts())
            return counts[0]
        if hit is not None and hit[0] is root and hit[1] == placed and \
                (hit[3] is None or hit[3] == rows()):
            ps = hit[2]
        else:
            try:
                optimized = bind_and_optimize(self.mirror, sql)
                moved = None
                try:
                    ps = split_plan(optimized, self.catalog)
                except NotSplit as first:
                    # A join whose inputs are not co-partitioned: repartition or
                    # broadcast them first (planexchange.py), then split the rest; an
                    # aggregate with no partial form: its rows by a group column.
                    moved = place_exchanges(optimized, self.catalog, rows, self.shards,
                                            self.cluster.always_shuffle)
                    if moved is None and isinstance(first, AggregateNotSplit):
                        moved = place_grouping(optimized, self.catalog)
                    if moved is None:
                        raise
                    ps = split_plan(moved.plan, moved.catalog)
                    ps.sides = moved.sides
                with self.cluster.lock:
                    self.cluster.render_check.check(ps, self.mirror, moved)
            except NotSplit as exc:
                ps = str(exc)
            except errors.Error as exc:   # a rendering the engine reads otherwise: not split
                ps = f"rendering not read back ({exc.sqlstate}: {exc.message})"
                if exc.sqlstate[:2] in ("53", "57"):   # out of resources, cancelled: not
                    plan["not_plan_split"] = ps        # the statement's, not remembered
                    return None
            if len(self._plan_splits) >= PLAN_SPLITS_KEPT:
                self._plan_splits.clear()
            self._plan_splits[sql] = (root, placed, ps, counts[0] if counts and
                                      not isinstance(ps, str) else None)
        if isinstance(ps, str):
            plan["not_plan_split"] = ps
            return None
        dist = DistPlan(ps.partial_sql, ps.merge_sql, ps.kind, keys=ps.keys)
        # Every input copied whole (none repartitioned by a key): a broadcast.
        moves = "broadcast" if ps.sides and all(sd.key is None for sd in _in_order(ps.sides)) \
            else "shuffle"
        plan.update(strategy=moves if ps.sides else "split", kind=dist.kind,
                    partial=dist.partial, merge=dist.merge, keys=dist.keys, planner="plan",
                    partial_plan=ps.partial, merge_plan=ps.merge)
        if ps.sides:
            plan["exchanges"] = [(sd.table, sd.key, sd.scan) for sd in _in_order(ps.sides)]
            plan["broadcast"] = [sd.table for sd in _in_order(ps.sides) if sd.key is None]
            plan["_sides"] = ps.sides   # what a statement over this one's partial reads
        if ps.in_place:
            plan["in_place"] = [t for t in plan["tables"] if t in ps.in_place]
        if ps.windows:
            plan["windows"] = ps.windows
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want, sides=ps.sides or None))

    def _correlated(self, tree: exp.Select, want: list, plan: dict, plan_only: bool,
                    counts: dict):
        """Subqueries correlated off the partition key (and ``IN`` lists too long to
        write in): the rows of every table they and the FROM read are placed by the
        correlation columns, shard to shard (``correlated.py``), and the statement
        splits over them with its subqueries on each shard. None: not that shape."""
        from_ = tree.args.get("from_")
        if from_ is not None and isinstance(from_.this, exp.Subquery):
            return self._derived_correlated(tree, want, plan, plan_only, counts)
        cp = plan_correlated(tree, self.catalog, _table_name, counts, self.shards,
                             self.cluster.always_shuffle)
        if cp is None:
            return None
        jplan = cp.shuffle
        star = self.catalog[_table_name(from_.this)].columns \
            if not tree.args.get("joins") else _join_star(tree, self.catalog)
        dist = plan_select(jplan.tree, star, where_subqueries=True, subqueries=True)
        if dist is None:
            return None
        return self._run_correlated(plan, dist, cp, want, plan_only)

    def _derived_correlated(self, tree: exp.Select, want: list, plan: dict,
                            plan_only: bool, counts: dict):
        """A SELECT over one derived table whose body has the correlated subqueries
        (TPC-H Q22: ``SELECT k, count(*) FROM (SELECT … WHERE NOT EXISTS (…)) t GROUP
        BY k``): the body's uncorrelated subqueries run first, its rows are placed as
        for a statement of its own, and the outer SELECT splits over the body's rows
        on each shard as over a table. None: not that shape."""
        derived = tree.args["from_"].this
        if not derived.alias or not isinstance(derived.this, exp.Select) or \
                tree.args.get("joins") or derived.args["alias"].columns:
            return None
        outer = self._over_derived(tree, derived, (exp.Subquery, exp.Exists, exp.SetOperation))
        if outer is None:
            return None
        body, ran = derived.this, []
        if any(body.args.get(a) is not None for a in ("group", "having", "distinct", "limit",
                                                        "offset", "order", "windows")) or any(
                isinstance(n, (exp.AggFunc, exp.Window)) for e in body.expressions
                for n in e.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Exists)))):
            return None   # the body must give its rows one per row, whole on each shard
        first = self._subqueries_first(body)
        if first is not None:
            body, ran = first
        names = self._columns_of(body)
        if names is None:
            return None
        names = [n for n, _ in names]
        cp = plan_correlated(body, self.catalog, _table_name, counts, self.shards,
                             self.cluster.always_shuffle)
        dist = plan_select(outer, names if len(set(names)) == len(names) else None)
        if cp is None or dist is None:
            return None
        partial = sqlglot.parse_one(dist.partial, read="postgres")
        for t in partial.find_all(exp.Table):
            if t.name == "__derived":
                t.replace(exp.Subquery(this=cp.shuffle.tree.copy(),
                                       alias=derived.args["alias"].copy()))
        dist = DistPlan(partial.sql(dialect="postgres"), dist.merge, dist.kind,
                        keys=dist.keys)
        if ran:
            plan["subqueries_first"] = ran + plan.get("subqueries_first", [])
        return self._run_correlated(plan, dist, cp, want, plan_only)

    def _over_derived(self, tree: exp.Select, derived: exp.Subquery, refused: tuple):
        """``tree`` reading table ``__derived`` (under the derived table's alias) in place
        of its one derived table, or None when the rest of it still reads a cluster table
        or holds one of the ``refused`` node kinds."""
        outer = tree.copy()
        outer.args["from_"].this.replace(exp.Table(
            this=exp.to_identifier("__derived"),
            alias=exp.TableAlias(this=exp.to_identifier(derived.alias, quoted=True))))
        if _referenced(outer, self._root(), self.catalog)[0] or any(
                isinstance(n, refused) for n in outer.walk()):
            return None
        return outer

    def _run_correlated(self, plan: dict, dist, cp, want: list, plan_only: bool):
        """Run (or, ``plan_only``, describe) a split over ``cp``'s placed inputs."""
        return self._run_placed(plan, dist, cp.shuffle, want, plan_only, correlated=cp.linked)

    def _run_placed(self, plan: dict, dist, jplan, want: list, plan_only: bool, **extra):
        """Run (or, ``plan_only``, describe) a split whose inputs ``jplan`` places on the
        shards first (its sides exchanged by key; none: the tables already sit right)."""
        plan.update(strategy="shuffle" if jplan.sides else "split", kind=dist.kind,
                    partial=dist.partial, merge=dist.merge, keys=dist.keys,
                    exchanges=[(sd.table, sd.key, sd.scan) for sd in jplan.sides],
                    in_place=jplan.in_place, **extra)
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want,
                                                  sides=jplan.sides or None))

    def _with_shard_sizes(self, tree: exp.Expression):
        """``tree`` with every constant-argument call of a relation size function
        (``pg_table_size('t'::regclass)``, ...) replaced by the sum of that call over the
        shards, which hold the rows (the mirror's tables are empty). None: no such call."""
        calls = [n for n in tree.find_all(exp.Anonymous)
                 if str(n.this).lower() in _SIZE_FUNCTIONS and
                 not any(isinstance(m, (exp.Column, exp.Select)) for m in n.walk())]
        if not calls:
            return None
        tree = tree.copy()
        for node in [n for n in tree.find_all(exp.Anonymous) if n in calls]:
            probe = exp.Select(expressions=[node.copy()]).sql(dialect="postgres")
            values = [ipc_to_table(r[3]).column(0)[0].as_py()
                      for r in self._on_shards(range(self.shards), probe, None).values()]
            total = None if any(v is None for v in values) else sum(values)
            node.replace(exp.cast(exp.Null(), "BIGINT") if total is None
                         else exp.Literal.number(total))
        return tree

    # ---- window functions and set operations on the shards ------------------------------
    def _window_select(self, tree: exp.Expression, part: list, star, want: list, plan: dict,
                       plan_only: bool):
        """A SELECT computing window functions over one sharded table (or reading such a
        SELECT as its one derived table, as in top-N per group: the outer part then
        splits as over a table): the windows on each shard over its own rows when every
        window's PARTITION BY holds the partition key, else with the table repartitioned
        by a column of every window's PARTITION BY, so they run whole on the shards, else,
        when the PARTITION BYs share no column, in stages, one repartition per column
        (``shuffle.plan_staged_windows``). None: not that shape."""
        if not isinstance(tree, exp.Select) or len(part) != 1:
            return None
        from_ = tree.args.get("from_")
        derived = from_.this if from_ is not None else None
        if isinstance(derived, exp.Subquery) and derived.alias and \
                isinstance(derived.this, exp.Select) and not tree.args.get("joins") and \
                not derived.args["alias"].columns:
            inner = self._window_inputs(derived.this, part[0])
            if inner is None:
                return None
            new_inner, sides, how = inner
            outer = tree.copy()
            outer.args["from_"].this.replace(exp.Table(
                this=exp.to_identifier("__derived"),
                alias=exp.TableAlias(this=exp.to_identifier(derived.alias, quoted=True))))
            try:   # what ``*`` over the derived table stands for: its output names
                names = [n for n, _ in self.mirror._session._prepare(
                    derived.this.sql(dialect="postgres")).plan.columns]
            except errors.Error:
                return None
            dist = plan_select(outer, names if len(set(names)) == len(names) else None)
            if dist is None:
                return None
            partial = sqlglot.parse_one(dist.partial, read="postgres")
            for t in partial.find_all(exp.Table):
                if t.name == "__derived":
                    t.replace(exp.Subquery(this=new_inner, alias=t.args["alias"].copy()))
            dist = DistPlan(partial.sql(dialect="postgres"), dist.merge, dist.kind,
                            keys=dist.keys)
        else:
            inner = self._window_inputs(tree, part[0])
            if inner is None:
                return None
            new_tree, sides, how = inner
            dist = plan_select(new_tree, star, windows=True)
            if dist is None:
                return None
        plan.update(strategy="shuffle" if sides else "split", kind=dist.kind,
                    partial=dist.partial, merge=dist.merge, keys=dist.keys, windows=how)
        if sides:   # (_sides: what a stage over these rows reads)
            plan.update(exchanges=[(sd.table, sd.key, sd.scan) for sd in sides], in_place=[],
                        _sides=sides)
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want, sides=sides or None))

    def _window_inputs(self, select: exp.Select, name: str):
        """For a SELECT with window functions over sharded table ``name`` (read once, in
        its FROM): ``(select, sides, how)``, the SELECT to run on each shard (reading the
        repartitioned input instead of the table when ``sides``), or None."""
        if not any(isinstance(n, exp.Window) for n in select.walk()) or any(
                isinstance(n, (exp.Subquery, exp.Union, exp.Intersect, exp.Except))
                for n in select.walk()):
            return None
        catalog = self.catalog
        info = catalog[name]
        from_ = select.args.get("from_")
        top = ([from_.this] if from_ is not None else []) + \
            [j.this for j in select.args.get("joins") or []]
        tables = [t for t in top if isinstance(t, exp.Table) and _table_name(t) == name]
        if len(tables) != 1 or _table_occurrences(select, catalog).count(name) != 1 or \
                not _local_from(select, [name], catalog, _table_occurrences(select, catalog)):
            return None
        keys = window_key(select, tables[0], info, top, catalog, _table_name)
        if not keys:   # an expression common to every PARTITION BY: by its value
            expr = window_expression(select, tables[0], info)
            if expr is not None and not any(
                    isinstance(n, exp.Star) and not isinstance(n.parent, exp.Count)
                    for n in select.walk()):
                typed = self._columns_of(exp.select(expr.copy()).from_(tables[0].copy()))
                if typed is not None and typed[0][1] in HASHABLE:
                    wplan = plan_window_on_expression(select, tables[0], expr, catalog,
                                                      _table_name)
                    return wplan.tree, wplan.sides, \
                        f"repartitioned by {expr.sql(dialect='postgres')}"
        if not keys:   # no column common to every PARTITION BY: a stage per column
            return plan_staged_windows(select, tables[0], info, HASHABLE)
        if len(info.key) == 1 and info.key[0] in keys:
            return select, [], f"partitioned by {info.key[0]}"
        usable = [k for k in keys if info.types.get(k) in HASHABLE]
        if not usable:
            return None
        key = min(usable, key=lambda k: (info.types[k] != types.INTEGER, keys.index(k)))
        wplan = plan_window(select, tables[0], key, catalog, _table_name)
        return wplan.tree, wplan.sides, f"repartitioned by {key}"

    def _leaf_info(self, select: exp.Select):
        """For one SELECT of a set operation: (sharded table references it reads, None
        when its FROM cannot run on each shard alone; its output columns)."""
        catalog = self.catalog
        refs, has_view = _referenced(select, self._root(), catalog)
        if has_view:
            return None
        occurrences = _table_occurrences(select, catalog)
        sharded = [o for o in occurrences if not catalog[o].replicated]
        if sharded and not _local_from(select, sorted(set(sharded)), catalog, occurrences):
            return None
        try:
            columns = self.mirror._session._prepare(
                select.sql(dialect="postgres")).plan.columns
        except errors.Error:
            return None
        return len(sharded), list(columns)

    def _derived_setop(self, tree: exp.Select, want: list, plan: dict, plan_only: bool):
        """A SELECT over one derived table that is a set operation (no LIMIT): the set
        operation runs on the shards as on its own (``setops.py``: each shard's result
        then holds every copy of its rows, a partition of the whole), and the outer
        SELECT splits over those results as over a table. None: not that shape."""
        from_ = tree.args.get("from_")
        derived = from_.this if from_ is not None else None
        if not isinstance(derived, exp.Subquery) or not derived.alias or \
                not isinstance(derived.this, exp.SetOperation) or \
                tree.args.get("joins") or derived.args["alias"].columns:
            return None
        inner = derived.this
        if any(inner.args.get(a) is not None for a in ("limit", "offset")):
            return None
        outer = self._over_derived(tree, derived, (exp.Subquery, exp.SetOperation))
        if outer is None:
            return None
        names = self._columns_of(inner)
        if names is None:
            return None
        sp = plan_setop(inner, names, self._leaf_info, self._placed_by, self._columns_of)
        if sp is None:
            return None
        names = [n for n, _ in names]
        dist = plan_select(outer, names if len(set(names)) == len(names) else None)
        if dist is None:
            return None
        alias = derived.args["alias"]

        def partial_for(shard_sql: str) -> str:
            partial = sqlglot.parse_one(dist.partial, read="postgres")
            body = sqlglot.parse_one(shard_sql, read="postgres")
            for t in partial.find_all(exp.Table):
                if t.name == "__derived":
                    t.replace(exp.Subquery(this=body.copy(), alias=alias.copy()))
            return partial.sql(dialect="postgres")

        per_shard = {s: partial_for(sp.others if s and sp.others else sp.shard_sql)
                     for s in range(self.shards)}
        moved = sp.sides or any(p is not None for _, _, p in sp.first)
        plan.update(strategy="shuffle" if moved else "split", kind=dist.kind,
                    partial=per_shard[0], merge=dist.merge, keys=dist.keys,
                    setop="derived table", position=sp.position)
        _describe_setop(plan, sp)
        if plan_only:
            return plan
        inputs = self._first_inputs(sp.first)
        return self._finish(plan, self._run_split(
            plan, DistPlan(per_shard[0], dist.merge, dist.kind, keys=dist.keys), want,
            sides=sp.sides or None, shard_sql=per_shard, inputs_per_shard=inputs))

    def _grouped_window(self, tree: exp.Select, want: list, plan: dict, plan_only: bool):
        """Window functions over a grouped SELECT (``grouped.py``): the grouping runs
        first as a SELECT of its own (split over the shards: only the groups reach the
        coordinator), the windows after, here, over those rows. None: not that shape."""
        split = split_grouped(tree)
        if split is None:
            return None
        grouped, outer = split
        probe = outer.copy()
        probe.args["from_"].set("this", exp.Subquery(
            this=grouped.copy(), alias=exp.TableAlias(this=exp.to_identifier(GROUPED))))
        columns = self._columns_of(probe)
        if columns is None or [t for _, t in columns] != [t for _, t in want]:
            return None
        grouped_sql, outer_sql = grouped.sql(dialect="postgres"), outer.sql(dialect="postgres")
        inner_plan = self._select(grouped_sql, None, plan_only=True)
        if inner_plan["strategy"] == "gather":
            return None
        plan.update(strategy=inner_plan["strategy"], kind=inner_plan.get("kind"),
                    partial=inner_plan.get("partial"), merge=inner_plan.get("merge"),
                    keys=inner_plan.get("keys"), grouped=grouped_sql, windows_after=outer_sql)
        for k in ("exchanges", "in_place", "broadcast", "anchor", "first"):
            if k in inner_plan:
                plan[k] = inner_plan[k]
        if plan_only:
            return plan
        saved = self.last_plan
        result = self._select(grouped_sql, None)
        inner_plan, self.last_plan = self.last_plan, saved
        for k in ("partial_rows", "partial_bytes", "shuffled_bytes", "merge_rows",
                  "repartitioned"):
            if k in (inner_plan or {}):
                plan[k] = inner_plan[k]
        conn = scratch_connection()
        create_typed(conn, GROUPED, result.columns)
        load_table(conn, GROUPED, result.arrow())
        return self._finish(plan, conform(None, conn.execute(outer_sql).arrow(), want))

    def _range_windows(self, tree: exp.Select, part: list, want: list, plan: dict,
                       plan_only: bool):
        """Windows with no PARTITION BY over one sharded table, computed on the shards
        over ranges of their first ORDER BY key (``rangewindows.py``): a sample of the
        key from each shard, one split aggregate for the ranges' offsets, the rows moved
        shard to shard to their range's shard. None: not that shape, or only a prefix of
        the window order is needed (``_window_columns`` gathers just that prefix)."""
        if len(part) != 1 or _window_prefix(tree) is not None:
            return None
        ranged = self._range_parts(tree, part[0])
        if ranged is None:
            return None
        new_tree, shifts, side, fields = ranged
        dist = plan_select(new_tree, None, windows=True)
        if dist is None:
            return None
        if shifts is not None:   # lag / lead: computed first, over the rows and ghosts
            dist = DistPlan(_with_shifts(dist.partial, side.input, shifts), dist.merge,
                            dist.kind, keys=dist.keys)
        return self._run_ranged(plan, dist, side, fields, want, plan_only)

    def _range_windows_derived(self, tree: exp.Select, part: list, want: list, plan: dict,
                               plan_only: bool):
        """A SELECT over one derived table whose windows have no PARTITION BY (``SELECT
        * FROM (SELECT id, row_number() OVER (ORDER BY ts) AS rn FROM t) x WHERE rn
        BETWEEN 100 AND 110``, or a CTE read once, written in as one): the windows run
        over ranges on the shards as ``_range_windows`` runs them, and the outer SELECT
        splits over each shard's rows of the derived table as over a table (it used to
        gather the whole table). None: not that shape."""
        derived = _plain_derived(tree, part)
        if derived is None:
            return None
        body = derived.this
        names = self._columns_of(body)
        if names is None or rangewindows.range_shape(
                body, _table_name, self.catalog[part[0]]) is None:
            return None
        names = [n for n, _ in names]
        if len(set(names)) != len(names) or len(names) != len(body.expressions):
            return None
        outer = self._over_derived(tree, derived, (exp.Subquery, exp.Exists,
                                                   exp.SetOperation))
        dist = plan_select(outer, names) if outer is not None else None
        if dist is None:
            return None
        ranged = self._range_parts(body, part[0])
        if ranged is None:
            return None
        new_tree, shifts, side, fields = ranged
        # The derived table's output names, as the outer SELECT reads them (a rewritten
        # window is an expression: its name would change); its ORDER BY orders nothing.
        new_tree.set("expressions", [
            exp.alias_(e.this if isinstance(e, exp.Alias) else e, name, quoted=True)
            for e, name in zip(new_tree.expressions, names)])
        new_tree.set("order", None)
        rows_sql = new_tree.sql(dialect="postgres")
        if shifts is not None:
            rows_sql = _with_shifts(rows_sql, side.input, shifts)
        partial = sqlglot.parse_one(dist.partial, read="postgres")
        for t in partial.find_all(exp.Table):
            if t.name == "__derived":
                t.replace(exp.Subquery(this=sqlglot.parse_one(rows_sql, read="postgres"),
                                       alias=t.args["alias"].copy()))
        dist = DistPlan(partial.sql(dialect="postgres"), dist.merge, dist.kind,
                        keys=dist.keys)
        fields["windows"] += " (in a derived table)"
        return self._run_ranged(plan, dist, side, fields, want, plan_only)

    def _run_ranged(self, plan: dict, dist, side, fields: dict, want: list,
                    plan_only: bool, in_place: list | None = None):
        """Run (or, ``plan_only``, describe) a split over rows placed by range."""
        firsts = fields.pop("firsts")
        plan.update(strategy="shuffle", kind=dist.kind, partial=dist.partial,
                    merge=dist.merge, keys=dist.keys, in_place=in_place or [],
                    _sides=[side], **fields)   # (_sides: what a stage over it reads)
        if firsts:
            plan["subqueries_first"] = firsts + plan.get("subqueries_first", [])
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want, sides=[side]))

    def _range_parts(self, tree: exp.Select, name: str):
        """The range plan of ``tree``'s windows over sharded table ``name``
        (``rangewindows.py``; runs the sample, the offsets' aggregate and any value a
        first_value / nth_value reads): ``(statement, shifts, side, plan fields)``, the
        statement each shard runs over its range's rows (input ``side.input``; with
        ``shifts`` put in its place when not None), the exchange that places them. None:
        not that shape, or a value no literal spells."""
        info = self.catalog[name]
        shape = rangewindows.range_shape(tree, _table_name, info)
        if shape is None:
            return None
        scan_columns = _needed_columns(shape.tree, shape.alias, info, None, self.catalog,
                                       _table_name, shape.key)
        if not holdable([(c, info.types[c]) for c in scan_columns if c in info.types]):
            return None   # (the moved rows are read by their Arrow types: money would be
            # an integer there, an address bytea)
        planned = self._range_plan(shape, info.types[shape.key], shape, None, scan_columns,
                                   f"__shuf0_{info.name}")
        if planned is None:
            return None
        new_tree, shifts, scan, fields = planned
        side = Side(f"__shuf0_{info.name}", info.name, rangewindows.RANGE_COLUMN, scan)
        fields["exchanges"] = [(info.name, rangewindows.RANGE_COLUMN, scan)]
        return new_tree, shifts, side, fields

    def _range_plan(self, shape, key_type: str, sample_shape, source: str | None,
                    scan_columns: list, input_name: str):
        """``_range_parts``' work for a ``shape`` over a table or, ``source`` given, over
        the rows of that query (a join: ``shape.table`` then names them): the key
        sampled on each shard by ``sample_shape``'s table, the offsets' aggregate and
        the values first_value / nth_value read run as cluster queries.
        ``(statement, shifts, scan, plan fields)``, or None."""
        def over(sql: str) -> str:   # a query over the shape's rows, as the cluster runs it
            return sql if source is None else _with_shifts(
                sql, shape.table.name, sqlglot.parse_one(source, read="postgres"))
        n = self.shards
        literal = self._sql_literal
        saved = self.last_plan
        if sample_shape is not None:
            replies = self._on_shards(range(n), rangewindows.sample_sql(sample_shape), None)
            samples = [v for s in range(n)
                       for v in infinity.pylist(_reply_result(replies[s]).table.column(0))]
            bounds = rangewindows.bounds_from(samples, n)
        else:   # (no table column holds the key: a random sample of the rows' keys)
            try:
                sample = self._select(over(rangewindows.spread_sample_sql(
                    shape, rangewindows.SPREAD_SAMPLES * n, scan_columns)), None).arrow()
            finally:
                self.last_plan = saved
            bounds = rangewindows.bounds_from(infinity.pylist(sample.column(0)), n)
        if any(literal(b, key_type) is None for b in bounds):
            return None
        ids = rangewindows.range_ids(n, len(bounds) + 2)
        stats_sql, running = rangewindows.stats_sql(shape, bounds, ids, literal, key_type)
        try:
            stats = self._select(over(stats_sql), None)
        finally:
            self.last_plan = saved
        stat_types = [t for _, t in stats.columns]
        rows = list(zip(*[infinity.pylist(c) for c in stats.arrow().columns]))
        positions = [(p, kind) for _, p, kind in running]
        order = rangewindows.window_order(shape, ids, bounds)
        tuples, moved = None, 0
        if rangewindows.dense_on_tuples(shape):
            if source is not None:
                return None   # (the tuples of a join's rows: not counted on the shards)
            tuples, moved = self._range_tuples(shape, bounds, ids, key_type)
        by_id = {r[0]: r for r in rows}
        per_range = rangewindows.offsets(order, by_id, positions, ids[-1], tuples)
        after = rangewindows.offsets(order[::-1], by_id, positions, ids[-1])   # (the
        # totals of the ranges after each: a frame to UNBOUNDED FOLLOWING)
        if any(literal(v, stat_types[p]) is None for offsets in (per_range, after)
               for o in offsets.values() for p, _ in positions for v in [o[p]]
               if v is not None):
            return None
        values, firsts = {}, []   # what first_value / nth_value read: one row's value
        for w in shape.windows:
            value_sql = rangewindows.value_sql(shape, w)
            if value_sql is None:
                continue
            value_sql = over(value_sql)
            try:
                got = self._select(value_sql, None)
            finally:
                self.last_plan = saved
            column = infinity.pylist(got.arrow().column(0))
            values[id(w)] = literal(column[0] if column else None, got.columns[0][1])
            if values[id(w)] is None:
                return None
            firsts.append(value_sql)
        new_tree, scan, shifts = rangewindows.rewrite(
            shape, bounds, ids, per_range,
            {id(w): [p for v, p, _ in running if v is w] for w, _, _ in running},
            {p: stat_types[p] for _, p, _ in running}, literal, key_type, input_name,
            scan_columns, total=sum(r[1] for r in rows), values=values, after=after)
        fields = dict(windows=f"range-partitioned by {shape.key} ({len(bounds) + 1} ranges "
                              f"and one of NULLs; offsets from: {over(stats_sql)})",
                      range_bounds=bounds, firsts=firsts)
        if tuples is not None:
            fields["shuffled_bytes"] = moved
            fields["windows"] += "; distinct ORDER BY tuples per range counted on the shards"
        return new_tree, shifts, scan, fields

    def _range_tuples(self, shape, bounds: list, ids: list, key_type: str) -> tuple[dict, int]:
        """For a dense_rank on several keys: ``({range id: distinct tuples of the ORDER
        BY keys}, bytes moved)``, counted on the shards after each shard's distinct
        tuples went to their range's shard (``rangewindows.distinct_sql``)."""
        name = "__range_tuples"
        scan, partial = rangewindows.distinct_sql(shape, bounds, ids, self._sql_literal,
                                                  key_type, name)
        side = Side(name, shape.table.name, rangewindows.RANGE_COLUMN, scan)
        scratch: dict = {}
        counted = self._run_split(scratch, DistPlan(partial, 'SELECT "r", "d" FROM '
                                                    '"__partials"', "scan"),
                                  [("r", types.INTEGER), ("d", types.INTEGER)], sides=[side])
        t = counted.arrow()
        return dict(zip(infinity.pylist(t.column(0)), infinity.pylist(t.column(1)))), \
            scratch.get("shuffled_bytes", 0)

    def _range_windows_join(self, tree: exp.Select, want: list, plan: dict,
                            plan_only: bool):
        """Windows with no PARTITION BY over a join (``row_number() OVER (ORDER BY
        o.ts)`` over orders joined to customers): the join runs on the shards (split,
        repartitioned or broadcast like any join), its rows (the columns read) go shard
        to shard by range of the first ORDER BY key, and the windows run on the ranges
        as over a table (``rangewindows.py``): the key sampled from its own table, the
        ranges' offsets and first / n-th values from cluster queries over the join.
        None: another shape (``_window_join_columns`` then gathers the join's columns)."""
        if _window_prefix(tree) is not None:
            return None
        parts = self._window_join_parts(tree)
        if parts is None:
            return None
        outer, scan, needed = parts
        rows = self._join_rows_table(tree, needed)
        slots = rows.columns
        if rangewindows.range_shape(outer, lambda t: t.name, rows) is None:
            return None
        inner = self._select(scan.sql(dialect="postgres"), None, plan_only=True)
        if inner["strategy"] not in ("split", "shuffle", "broadcast") or \
                inner.get("kind") != "scan" or "_sides" not in inner and \
                inner["strategy"] != "split":
            return None

        def origin(slot: str):
            alias, column = needed[slots.index(slot)]
            return alias, column, next(
                t for t in [tree.args["from_"].this] + [j.this for j in tree.args.get(
                    "joins") or []] if t.alias_or_name == alias)
        return self._range_over_rows(outer, scan, rows, origin, inner, "after the join",
                                     "the join's rows", want, plan, plan_only)

    def _range_over_rows(self, outer: exp.Select, scan: exp.Select, rows: "_RowsAsTable",
                         origin, inner: dict, after: str, label: str, want: list,
                         plan: dict, plan_only: bool, source: str | None = None):
        """Windows with no PARTITION BY (``outer``, over ``__window_rows``) computed over
        ranges of the rows ``scan`` gives (a join, or windows of another order computed
        first), which the shards make by ``inner`` (``scan``'s plan): the rows go shard
        to shard by range of the windows' first ORDER BY key, sampled from the table
        ``origin(slot)`` names (``(alias, column, table)``, None: not a table's column);
        the offsets and first / n-th values from cluster queries over ``source`` (the
        same rows, maybe with fewer columns computed; default ``scan``). None: not that
        shape."""
        slots = rows.columns
        shape = rangewindows.range_shape(outer, lambda t: t.name, rows)
        if shape is None:
            return None
        found = origin(shape.key)
        sample_shape = None   # (no table column: bounds from a sample of the rows)
        if found is not None:
            alias, column, base = found
            sample_shape = rangewindows.RangeShape(
                exp.select(exp.column(column, table=alias, quoted=True)).from_(base.copy()),
                base, alias, column, shape.desc, shape.nulls_first)
        planned = self._range_plan(shape, rows.types[shape.key], sample_shape,
                                   source or scan.sql(dialect="postgres"), slots,
                                   "__range_rows")
        if planned is None:
            return None
        new_tree, shifts, range_scan, fields = planned
        # Each shard's rows of ``scan`` (its partial names them c0, c1, ...) with their
        # range: what the last exchange sends (with lag / lead or a bounded frame, and
        # the ghost rows those read: the rows made again, the same rows).
        stage = _with_shifts(range_scan, "__window_rows", sqlglot.parse_one(
            f"SELECT {', '.join(f'c{i} AS {n}' for i, n in enumerate(slots))} "
            f"FROM ({inner['partial']}) AS __join", read="postgres"))
        side = Side("__range_rows", label, rangewindows.RANGE_COLUMN, stage,
                    reads=inner.get("_sides") or None)
        dist = plan_select(new_tree, slots, windows=True)
        if dist is None:
            return None
        if shifts is not None:
            dist = DistPlan(_with_shifts(dist.partial, side.input, shifts), dist.merge,
                            dist.kind, keys=dist.keys)
        fields["exchanges"] = inner.get("exchanges", []) + [
            (side.table, rangewindows.RANGE_COLUMN, stage)]
        fields["windows"] = fields["windows"].replace(
            f"range-partitioned by {shape.key}",
            f"range-partitioned by {alias}.{column} {after}" if found is not None else
            f"range-partitioned by {shape.key} {after}", 1)
        for k in ("broadcast", "anchor"):
            if k in inner:
                plan[k] = inner[k]
        return self._run_ranged(plan, dist, side, fields, want, plan_only,
                                in_place=inner.get("in_place", []))

    def _range_windows_staged(self, tree: exp.Select, part: list, want: list, plan: dict,
                              plan_only: bool):
        """Windows with no PARTITION BY over one sharded table but of several ORDER BYs
        (``rank() OVER (ORDER BY sales), rank() OVER (ORDER BY profit)``): in stages, as
        the ranges of one key cannot order by another. The windows of every order but
        the last run first, as a statement of their own (over ranges, ``_range_windows``,
        or in stages again), giving their values as columns of each shard's rows; those
        rows go shard to shard again by ranges of the last order's key for its windows
        (``_range_over_rows``). None: not that shape (``_window_columns`` then gathers
        the columns read)."""
        from_ = tree.args.get("from_")
        table = from_.this if from_ is not None else None
        if len(part) != 1 or tree.args.get("joins") or not isinstance(table, exp.Table) or \
                _table_name(table) != part[0] or not _windows_over_rows(tree) or \
                _window_prefix(tree) is not None or tree.args.get("windows") or \
                tree.args.get("distinct") or any(
                    isinstance(n, exp.Star) and not isinstance(n.parent, exp.Count)
                    for n in tree.walk()):
            return None
        windows = [n for n in tree.walk() if isinstance(n, exp.Window)]
        if any(w.args.get("partition_by") or w.args.get("order") is None or
               w.find_ancestor(exp.Window) is not None for w in windows):
            return None
        orders: list = []
        for w in windows:
            spelled = w.args["order"].sql(dialect="postgres")
            if spelled not in orders:
                orders.append(spelled)
        info = self.catalog[part[0]]
        alias = table.alias_or_name
        outputs = {e.alias for e in tree.expressions if isinstance(e, exp.Alias)}
        if len(orders) < 2 or outputs & set(info.columns):
            return None   # (an output named as a column: ORDER BY would mean the output)
        out = tree.copy()
        made = []   # the other orders' windows, computed first as columns __w0, ...
        for w, o in zip(windows, [n for n in out.walk() if isinstance(n, exp.Window)]):
            if w.args["order"].sql(dialect="postgres") != orders[-1]:
                made.append(exp.alias_(w.copy(), f"__w{len(made)}", quoted=True))
                o.replace(exp.column(f"__w{len(made) - 1}", quoted=True))
        needed: list = []

        def slot(node):
            if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star) and \
                    node.table in ("", alias):
                name = node.name if node.this.quoted else node.name.lower()
                if name in info.columns:
                    if name not in needed:
                        needed.append(name)
                    return exp.column(f"__c{needed.index(name)}", quoted=True)
            return node
        out = out.transform(slot)
        out.set("where", None)
        out.set("from_", exp.From(this=exp.to_table("__window_rows")))
        scan = exp.Select(expressions=[
            exp.alias_(exp.column(c, table=alias, quoted=True), f"__c{i}", quoted=True)
            for i, c in enumerate(needed)] + made)
        scan.set("from_", exp.From(this=table.copy()))
        if tree.args.get("where") is not None:
            scan.set("where", tree.args["where"].copy())
        typed = self._columns_of(scan)
        if typed is None:
            return None
        rows = _RowsAsTable("__window_rows", [n for n, _ in typed], dict(typed))
        inner = self._select(scan.sql(dialect="postgres"), None, plan_only=True)
        if not str(inner.get("windows") or "").startswith("range-partitioned") or \
                "_sides" not in inner or inner.get("kind") != "scan":
            return None   # (the first stages must run on the shards, over ranges)

        # The offsets' queries need the earlier stages' windows only when the last
        # order's windows read them: else they read the rows with those as NULLs (a
        # query over ranges of its own, not over rows made in stages).
        source = None
        if not any(c.name.startswith("__w") for w in out.find_all(exp.Window)
                   for c in w.find_all(exp.Column)):
            light = scan.copy()
            light.set("expressions", light.expressions[:len(needed)] + [
                exp.alias_(exp.cast(exp.Null(), _sql_type_name(rows.types[m.alias])),
                           m.alias, quoted=True) for m in made])
            source = light.sql(dialect="postgres")

        def origin(name: str):
            if not name.startswith("__c"):
                return None   # (ordered by a window of a first stage: no table column)
            return alias, needed[int(name[3:])], table
        return self._range_over_rows(out, scan, rows, origin, inner,
                                     f"(in {len(orders)} stages, one per ORDER BY)",
                                     "the rows with the first stages' windows", want, plan,
                                     plan_only, source=source)

    def _range_windows_over_derived(self, tree: exp.Select, part: list, want: list,
                                    plan: dict, plan_only: bool):
        """Windows with no PARTITION BY over one derived table the shards make (windows
        of its own, placed by a key or by ranges; or a filter and projection) ordered on
        its columns, a window's value among them: ``SELECT id, rank() OVER (ORDER BY s
        DESC) FROM (SELECT id, sum(v) OVER (PARTITION BY g) AS s FROM t) x``. The derived
        rows go shard to shard by ranges of the outer windows' first ORDER BY key
        (``_range_over_rows``); no table column holds that key to sample, so its ranges
        split the span between its min and max over the rows (a split aggregate), evenly.
        None: not that shape (it gathered the whole table)."""
        derived = _plain_derived(tree, part)
        if derived is None:
            return None
        body = derived.this
        typed = self._columns_of(body)
        if typed is None:
            return None
        names = [n for n, _ in typed]
        if len(set(names)) != len(names) or len(names) != len(body.expressions) or \
                not all(n.isidentifier() and n == n.lower() and not n.startswith("__")
                        for n in names):
            return None   # (the rows' columns are named by these, unquoted)
        outer = tree.copy()
        outer.args["from_"].set("this", exp.Table(
            this=exp.to_identifier("__window_rows"),
            alias=exp.TableAlias(this=exp.to_identifier(derived.alias, quoted=True))))
        if not _windows_over_rows(outer):
            return None
        rows = _RowsAsTable("__window_rows", names, dict(typed))
        if rangewindows.range_shape(outer, lambda t: t.name, rows) is None:
            return None
        inner = self._select(body.sql(dialect="postgres"), None, plan_only=True)
        if inner["strategy"] not in ("split", "shuffle") or inner.get("kind") != "scan" or \
                "_sides" not in inner and inner["strategy"] != "split":
            return None
        return self._range_over_rows(outer, body, rows, lambda name: None, inner,
                                     "over the derived table's rows",
                                     "the derived table's rows", want, plan, plan_only)

    def _sql_literal(self, value, sql_type: str):
        """``value`` as a literal of ``sql_type`` (NULL cast to it), None when no literal
        spells it."""
        try:
            return _typed_literal(value, sql_type) if value is not None else \
                exp.cast(exp.Null(), _sql_type_name(sql_type))
        except errors.Error:
            return None

    def _window_columns(self, tree: exp.Select, part: list, want: list, plan: dict,
                        plan_only: bool):
        """Window functions over one sharded table whose windows share no PARTITION BY
        column and cannot run in stages (a window without PARTITION BY, or partitioned
        by an expression only): only the columns the statement reads, of the rows its
        WHERE keeps, are gathered (a split query of their own, filtered and projected on
        the shards), and the statement runs here over them. None: not that shape
        (joins, subqueries, aggregates)."""
        if len(part) != 1 or tree.args.get("joins") or not _windows_over_rows(tree):
            return None
        from_ = tree.args.get("from_")
        table = from_.this if from_ is not None else None
        if not isinstance(table, exp.Table) or _table_name(table) != part[0]:
            return None
        info = self.catalog[part[0]]
        alias = table.alias_or_name
        if any(isinstance(n, exp.Star) for n in tree.walk()):
            needed = list(info.columns)
        else:
            names = {c.name.lower() if not c.this.quoted else c.name
                     for c in tree.find_all(exp.Column) if c.table in ("", alias)}
            needed = [c for c in info.columns if c in names] or info.columns[:1]
            if alias in names and alias not in info.columns:   # to_jsonb(t): whole row
                needed = list(info.columns)
        scan = exp.Select(expressions=[exp.column(c, quoted=True) for c in needed])
        scan.set("from_", exp.From(this=table.copy()))
        if tree.args.get("where") is not None:
            scan.set("where", tree.args["where"].copy())
        prefix = _window_prefix(tree)
        if prefix is not None:   # only the first rows by the windows' order are needed
            scan.set("order", prefix[0])
            scan.set("limit", exp.Limit(expression=exp.Literal.number(prefix[1])))
        scan_sql = scan.sql(dialect="postgres")
        outer = tree.copy()
        outer.set("where", None)
        outer.args["from_"].set("this", exp.Table(
            this=exp.to_identifier("__window_rows"),
            alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))))
        outer_sql = outer.sql(dialect="postgres")
        inner_plan = self._select(scan_sql, None, plan_only=True)
        plan.update(strategy=inner_plan["strategy"], kind=inner_plan.get("kind"),
                    partial=inner_plan.get("partial"), merge=inner_plan.get("merge"),
                    keys=[], gathered_columns=(part[0], needed), windows_after=outer_sql,
                    prefix=prefix[1] if prefix is not None else None)
        if plan_only:
            return plan
        saved = self.last_plan
        rows = self._select(scan_sql, None).arrow()
        self.last_plan = saved
        conn = scratch_connection()
        create_typed(conn, "__window_rows", [(c, info.types[c]) for c in needed])
        load_table(conn, "__window_rows", rows)
        try:
            data = conn.execute(outer_sql).arrow()
        except errors.Error:   # a name the rewrite could not keep: the whole table here
            return None
        return self._finish(plan, conform(None, data, want))

    def _subqueries_first(self, tree: exp.Select):
        """Uncorrelated subqueries of ``tree`` (in WHERE, HAVING, the SELECT list) that
        read a sharded table run first, each as a query of its own (split over the
        shards: only its result reaches the coordinator), and are written into the
        statement as constants: a scalar subquery as its value, ``x IN (SELECT …)`` as
        ``x IN (v1, v2, …)`` (at most ``IN_LIST_ROWS`` values), ``EXISTS (…)`` as TRUE or
        FALSE. The statement then plans without them. Returns ``(new tree, [SQL of
        each subquery run])``, None when there is none (a correlated subquery does not
        bind alone on the mirror and stays)."""
        catalog = self.catalog
        todo = []
        for node in tree.walk():
            if node is tree or not isinstance(node, (exp.Subquery, exp.Exists)):
                continue
            if isinstance(node.parent, (exp.From, exp.Join, exp.Lateral, exp.Any,
                                        exp.All)) or \
                    isinstance(node, exp.Subquery) and node.alias:
                continue
            up = node.parent
            while up is not None and up is not tree and \
                    not isinstance(up, (exp.Subquery, exp.Exists, exp.Select)):
                up = up.parent
            if up is not tree:
                continue   # inside another subquery: that one runs first as a whole
            body = node.this
            if not isinstance(body, (exp.Select, exp.SetOperation)):
                continue
            refs, has_view = _referenced(body, self._root(), catalog)
            if has_view or all(catalog[r].replicated for r in refs):
                continue
            columns = self._columns_of(body)
            if columns is None:
                continue   # correlated: it names the outer query's columns
            todo.append((node, body, columns))
        if not todo:
            return None
        new = tree.copy()
        swaps, ran = [], []
        saved = self.last_plan
        try:
            for node, body, columns in todo:
                kind = "exists" if isinstance(node, exp.Exists) else \
                    "in" if isinstance(node.parent, exp.In) and \
                    node.parent.args.get("query") is node else "scalar"
                if kind != "exists" and len(columns) != 1:
                    continue
                if kind == "in" and _spelled_in(node.parent):
                    continue   # (``_long_in`` wrote it: placed, not listed)
                run = body.copy()
                cap = 1 if kind == "exists" else IN_LIST_ROWS + 1 if kind == "in" else 2
                if run.args.get("limit") is None and run.args.get("offset") is None:
                    if kind == "in" and isinstance(run, exp.Select):
                        run.set("distinct", exp.Distinct())   # (duplicates change nothing)
                        if run.args.get("order") is None:   # (so each shard sends at
                            run.set("order", exp.Order(     # most ``cap`` values: top-k)
                                expressions=[exp.Ordered(this=exp.Literal.number(1))]))
                    run.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
                sql = run.sql(dialect="postgres")
                values = self._select(sql, None).arrow()
                values = infinity.pylist(values.column(0)) if values.num_columns else []
                if kind == "exists":
                    swaps.append((node, exp.Boolean(this=bool(values))))
                    ran.append(sql)
                    continue
                sql_type = columns[0][1]
                if kind == "scalar" and len(values) > 1:
                    raise errors.sql_error(
                        "21000", "more than one row returned by a subquery used as an "
                                 "expression")
                if kind == "in" and len(values) > IN_LIST_ROWS:
                    # Too many to write in. A positive conjunct of the WHERE is placed
                    # as it is (``correlated.py`` links its two columns); anywhere else
                    # the IN is spelled as an EXISTS correlated by equality, placed the
                    # same way, with its NULL cases as constants.
                    spelled = self._long_in(tree, node.parent, body)
                    if spelled is not None:
                        swaps.append(spelled[:2])
                        ran += spelled[2]
                    continue
                try:
                    literals = [_typed_literal(v, sql_type) for v in values]
                except errors.Error:
                    continue
                if kind == "scalar":
                    swaps.append((node, literals[0] if literals else
                                  exp.cast(exp.Null(), _sql_type_name(sql_type))))
                elif literals:
                    swaps.append((node.parent, exp.In(this=node.parent.this.copy(),
                                                      expressions=literals)))
                else:   # x IN (no rows) is false, even for a NULL x
                    swaps.append((node.parent, exp.Boolean(this=False)))
                ran.append(sql)
        finally:
            self.last_plan = saved
        if not swaps:
            return None
        # Replace in the copy: the nodes are found at the same paths.
        originals = list(tree.walk())
        copies = list(new.walk())
        for old_node, replacement in swaps:
            index = next(i for i, n in enumerate(originals) if n is old_node)
            copies[index].replace(replacement)
        return new, ran

    def _long_in(self, tree: exp.Select, in_node: exp.In, body):
        """``x IN (SELECT y FROM … WHERE w)`` (uncorrelated, too many values to write
        in) that is not a positive conjunct of ``tree``'s WHERE, as ``CASE WHEN x IS NULL
        THEN NULL WHEN x IN (SELECT y FROM … WHERE w) THEN TRUE ELSE c END``
        (the subquery has rows: more than the list takes), ``c`` NULL when it has a
        NULL ``y`` (else FALSE), found by a one-row split query run first: the
        IN's three-valued answer, the WHEN's IN placed by ``correlated.py`` (a NOT IN
        conjunct of the WHERE: x IS NOT NULL AND NOT EXISTS (… AND y = x)).
        Returns (node replaced, its replacement, [SQL run]) or None."""
        where = tree.args.get("where")
        tops = list(conjuncts(where.this)) if where is not None else []
        if any(c is in_node for c in tops) or not isinstance(body, exp.Select):
            return None
        negated = isinstance(in_node.parent, exp.Not) and any(c is in_node.parent
                                                             for c in tops)
        out = plain_output(body)
        x = in_node.this
        if out is None or any(isinstance(n, (exp.AggFunc, exp.Window, exp.Subquery,
                                             exp.Exists, exp.Select)) for n in x.walk()):
            return None
        up = in_node.parent
        while up is not None and up is not tree:
            if isinstance(up, (exp.Having, exp.Group, exp.Order, exp.Join)):
                return None
            up = up.parent
        from_ = tree.args.get("from_")
        top = ([from_.this] if from_ is not None else []) + \
            [j.this for j in tree.args.get("joins") or []]
        if not all(isinstance(t, exp.Table) and _table_name(t) in self.catalog for t in top):
            return None
        x = x.copy()
        for col in list(x.find_all(exp.Column)):   # qualified: the subquery must not
            if not col.table:                       # take them for its own columns
                owners = [t for t in top if column_of(self.catalog[_table_name(t)], col.name)]
                if len(owners) != 1:
                    return None
                col.set("table", exp.to_identifier(owners[0].alias_or_name))
        inner = {t.alias_or_name.lower() for t in body.find_all(exp.Table)}
        if any(col.table.lower() in inner for col in x.find_all(exp.Column)):
            return None
        if not list(x.find_all(exp.Column)):
            return None

        def probe(extra) -> tuple[bool, str]:
            q = body.copy()
            q.set("expressions", [exp.Literal.number(1)])
            q.set("distinct", None)
            q.set("order", None)
            if extra is not None:
                q.set("where", exp.Where(this=exp.and_(
                    q.args["where"].this.copy(), extra) if q.args.get("where") else extra))
            q.set("limit", exp.Limit(expression=exp.Literal.number(1)))
            sql = q.sql(dialect="postgres")
            return self._select(sql, None).arrow().num_rows > 0, sql

        # (The subquery has rows: more than IN_LIST_ROWS of them.)
        has_null, sql2 = probe(exp.Is(this=out.copy(), expression=exp.Null()))
        exists = body.copy()
        exists.set("expressions", [exp.Literal.number(1)])
        exists.set("distinct", None)
        exists.set("order", None)
        eq = exp.EQ(this=out.copy(), expression=x.copy())
        exists.set("where", exp.Where(this=exp.and_(exists.args["where"].this.copy(), eq)
                                      if exists.args.get("where") else eq))

        def const(flag: bool) -> exp.Expression:
            return exp.cast(exp.Null(), "BOOLEAN") if flag else exp.Boolean(this=False)

        if negated:
            # ``x NOT IN (…)`` as a conjunct of the WHERE: only TRUE keeps a row, so
            # (the subquery having rows) never with a NULL in it, else an anti-join
            # (a NOT EXISTS a shard's engine runs as one, not row by row); it replaces
            # the NOT.
            if has_null:
                kept = exp.Boolean(this=False)
            else:
                kept = exp.and_(exp.Not(this=exp.Is(this=x.copy(), expression=exp.Null())),
                                exp.Not(this=exp.Exists(this=exists)))
            return in_node.parent, exp.Paren(this=kept), [sql2]

        # The WHEN's IN is TRUE or not as on one engine once each shard holds the
        # subquery's rows with y = x: ``correlated.py`` links x and y for it, and
        # each shard's engine builds the IN's set once (an EXISTS would run per row).
        case = exp.Case(ifs=[
            exp.If(this=exp.Is(this=x.copy(), expression=exp.Null()), true=const(True)),
            exp.If(this=exp.In(this=x.copy(), query=exp.Subquery(this=body.copy())),
                   true=exp.Boolean(this=True))],
            default=const(has_null))
        return in_node, exp.Paren(this=case), [sql2]

    def _derived_first(self, tree: exp.Select, want: list, plan: dict, plan_only: bool):
        """A SELECT whose cluster tables are all read through derived tables with their
        own LIMIT (``FROM (SELECT … ORDER BY v DESC LIMIT 10) t``): each runs first as
        a query of its own (split: a top-k on the shards, so at most LIMIT rows reach
        the coordinator) and the statement runs here over their rows. None: another
        shape (a cluster table read directly, a LATERAL or correlated derived table)."""
        from_ = tree.args.get("from_")
        if from_ is None:
            return None
        items = [from_.this] + [j.this for j in tree.args.get("joins") or []]
        derived = [t for t in items if isinstance(t, exp.Subquery) and t.alias and
                   isinstance(t.this, (exp.Select, exp.SetOperation)) and
                   t.this.args.get("limit") is not None]
        if not derived:
            return None
        outer = tree.copy()
        positions = [i for i, t in enumerate(items) if any(t is d for d in derived)]
        new_items = [outer.args["from_"].this] + [j.this for j in outer.args.get("joins") or []]
        for k, i in enumerate(positions):
            alias = new_items[i].args["alias"].copy()
            new_items[i].replace(exp.Table(this=exp.to_identifier(f"__derived{k}"),
                                           alias=alias))
        refs, has_view = _referenced(outer, self._root(), self.catalog)
        if refs or has_view:
            return None
        bodies = [d.this.sql(dialect="postgres") for d in derived]
        inner_plans = []
        for sql in bodies:
            inner = self._select(sql, None, plan_only=True)
            if inner["strategy"] == "gather":
                return None
            inner_plans.append(inner)
        outer_sql = outer.sql(dialect="postgres")
        plan.update(strategy=inner_plans[0]["strategy"], kind=inner_plans[0].get("kind"),
                    partial=inner_plans[0].get("partial"), merge=inner_plans[0].get("merge"),
                    keys=[], derived_first=bodies, windows_after=outer_sql)
        if plan_only:
            return plan
        conn = scratch_connection()
        saved = self.last_plan
        try:
            for k, sql in enumerate(bodies):
                result = self._select(sql, None)
                names = [n for n, _ in result.columns]
                if len(set(names)) != len(names):
                    return None
                create_typed(conn, f"__derived{k}", result.columns)
                load_table(conn, f"__derived{k}", result.arrow())
        finally:
            self.last_plan = saved
        return self._finish(plan, conform(None, conn.execute(outer_sql).arrow(), want))

    def _window_join_parts(self, tree: exp.Select):
        """For window functions over a join of cluster tables: ``(outer, scan,
        needed)``: the join as a SELECT of the columns the statement reads (``__c0``,
        ``__c1``, ... for the ``(alias, column)`` pairs ``needed``) and the statement
        over its rows (table ``__window_rows``). None: another shape (aggregates,
        subqueries, USING / NATURAL, derived tables)."""
        joins = tree.args.get("joins") or []
        from_ = tree.args.get("from_")
        if not joins or from_ is None or not _windows_over_rows(tree):
            return None
        if any(j.args.get("using") or j.args.get("method") for j in joins):
            return None
        items = [from_.this] + [j.this for j in joins]
        if not all(isinstance(t, exp.Table) and _table_name(t) in self.catalog
                   for t in items):
            return None
        aliases = {t.alias_or_name: self.catalog[_table_name(t)] for t in items}
        if len(aliases) != len(items) or any(
                t.args.get("alias") is not None and t.args["alias"].columns for t in items):
            return None
        needed: list = []

        def slot(alias: str, col: str) -> exp.Column:
            if (alias, col) not in needed:
                needed.append((alias, col))
            return exp.column(f"__c{needed.index((alias, col))}")

        def owner(col: exp.Column):
            name = col.name if col.this.quoted else col.name.lower()
            if col.table:
                info = aliases.get(col.table)
                return (col.table, name) if info is not None and name in info.columns \
                    else False
            found = [a for a, info in aliases.items() if name in info.columns]
            return (found[0], name) if len(found) == 1 else None if not found else False

        def rewrite(node):
            if isinstance(node, exp.Column):
                if isinstance(node.this, exp.Star):   # t.*
                    info = aliases.get(node.table)
                    if info is None:
                        raise ValueError(node.table)
                    return [slot(node.table, c) for c in info.columns]
                hit = owner(node)
                if hit is False:
                    raise ValueError(node.sql())
                return node if hit is None else slot(*hit)   # None: an output name
            return node

        outer = exp.Select()
        try:
            out_items = []
            for e in tree.expressions:
                if isinstance(e, exp.Star):
                    out_items += [slot(a, c) for a, info in aliases.items()
                                  for c in info.columns]
                    continue
                new = rewrite(e) if isinstance(e, exp.Column) else \
                    e.copy().transform(lambda n: rewrite(n) if not (
                        isinstance(n, exp.Column) and isinstance(n.this, exp.Star)) else n)
                out_items += new if isinstance(new, list) else [new]
            outer.set("expressions", out_items)
            if tree.args.get("order") is not None:
                # ORDER BY an output name means that output (PostgreSQL).
                outputs = {e.alias for e in tree.expressions if isinstance(e, exp.Alias)}
                outer.set("order", exp.Order(expressions=[
                    o.copy() if isinstance(o.this, exp.Column) and not o.this.table and
                    o.this.name in outputs else o.copy().transform(rewrite)
                    for o in tree.args["order"].expressions]))
        except ValueError:
            return None
        if not needed:
            return None
        for arg in ("distinct", "limit", "offset"):
            if tree.args.get(arg) is not None:
                outer.set(arg, tree.args[arg].copy())
        outer.set("from_", exp.From(this=exp.to_table("__window_rows")))
        scan = exp.Select(expressions=[
            exp.alias_(exp.column(c, table=a, quoted=True), f"__c{i}")
            for i, (a, c) in enumerate(needed)])
        for arg in ("from_", "joins", "where"):
            if tree.args.get(arg) is not None:
                scan.set(arg, tree.args[arg].copy())
        return outer, scan, needed

    def _window_join_on_shards(self, tree: exp.Select, want: list, plan: dict,
                               plan_only: bool):
        """Window functions over a join whose windows share a PARTITION BY column (or
        expression): the join runs on the shards (split, repartitioned or broadcast like
        any join) and its rows, the columns the statement reads, are repartitioned shard
        to shard by that column's (expression's) value (``Side.reads``: the second
        exchange reads the first's inputs), so every window partition is whole on one
        shard; the windows run there and only their rows (top-k with ORDER BY … LIMIT)
        reach the coordinator. None: another shape (``_window_join_columns`` then
        gathers the join's columns)."""
        parts = self._window_join_parts(tree)
        if parts is None:
            return None
        placed = self._join_rows_placed(tree, parts)
        if placed is None:
            return None
        outer, side, inner, how = placed
        dist = plan_select(outer, [f"__c{i}" for i in range(len(parts[2]))], windows=True)
        if dist is None:
            return None
        return self._run_join_windows(plan, dist, side, inner, how, want, plan_only)

    def _window_join_derived(self, tree: exp.Select, want: list, plan: dict,
                             plan_only: bool):
        """A SELECT over one derived table computing windows over a join (top-N per
        group over a join: ``SELECT … FROM (SELECT …, rank() OVER (PARTITION BY c.region
        ORDER BY o.total DESC) r FROM orders o JOIN customers c ON …) x WHERE r <= 3``):
        the derived table's windows run on the shards as ``_window_join_on_shards``
        places them, and the outer SELECT splits over each shard's derived rows as over
        a table (it used to gather every table the join read). None: not that shape."""
        from_ = tree.args.get("from_")
        derived = from_.this if from_ is not None else None
        if not isinstance(derived, exp.Subquery) or not derived.alias or \
                not isinstance(derived.this, exp.Select) or tree.args.get("joins") or \
                derived.args["alias"].columns:
            return None
        body = derived.this
        parts = self._window_join_parts(body)
        names = self._columns_of(body)
        if parts is None or names is None:
            return None
        names = [n for n, _ in names]
        if len(set(names)) != len(names) or len(names) != len(parts[0].expressions):
            return None
        # The derived table's output names, as the outer SELECT reads them (the rewrite
        # named its plain columns after their slots).
        parts[0].set("expressions", [
            exp.alias_(e.this if isinstance(e, exp.Alias) else e, name, quoted=True)
            for e, name in zip(parts[0].expressions, names)])
        outer = self._over_derived(tree, derived, (exp.Subquery, exp.Exists,
                                                   exp.SetOperation))
        if outer is None:
            return None
        placed = self._join_rows_placed(body, parts)
        if placed is None:
            return None
        windows, side, inner, how = placed
        slots = [f"__c{i}" for i in range(len(parts[2]))]
        if plan_select(windows, slots, windows=True) is None:
            return None   # (the windows must run whole on each shard)
        dist = plan_select(outer, names)
        if dist is None:
            return None
        partial = sqlglot.parse_one(dist.partial, read="postgres")
        for t in partial.find_all(exp.Table):
            if t.name == "__derived":
                t.replace(exp.Subquery(this=windows.copy(), alias=t.args["alias"].copy()))
        dist = DistPlan(partial.sql(dialect="postgres"), dist.merge, dist.kind,
                        keys=dist.keys)
        return self._run_join_windows(plan, dist, side, inner, how + " (in a derived table)",
                                      want, plan_only)

    def _window_join_staged(self, tree: exp.Select, want: list, plan: dict,
                            plan_only: bool):
        """Windows over a join whose PARTITION BYs share no column (``rank() OVER
        (PARTITION BY a.g ...)`` beside ``count(*) OVER (PARTITION BY b.k)``): the join
        runs on the shards and its rows (the columns read) go through the stages
        ``shuffle.plan_staged_windows`` makes for a table, moved shard to shard by the
        column of the first stage's windows, those computed as columns of the rows,
        moved on by the next stage's column; only the answer reaches the coordinator.
        None: another shape (``_window_join_columns`` then gathers the join's
        columns)."""
        parts = self._window_join_parts(tree)
        if parts is None:
            return None
        outer, scan, needed = parts
        rows = self._join_rows_table(tree, needed)
        slots = rows.columns
        staged = plan_staged_windows(outer, outer.args["from_"].this, rows, HASHABLE)
        if staged is None:
            return None
        new_tree, sides, how = staged
        inner = self._select(scan.sql(dialect="postgres"), None, plan_only=True)
        if inner["strategy"] not in ("split", "shuffle", "broadcast") or \
                inner.get("kind") != "scan" or "_sides" not in inner and \
                inner["strategy"] != "split":
            return None
        dist = plan_select(new_tree, slots, windows=True)
        if dist is None:
            return None
        # The first stage's rows are the join's (its partial names them c0, c1, ...).
        chain = [sides[0]]
        while chain[-1].reads:
            chain.append(chain[-1].reads[0])
        first = chain[-1]
        first.scan = _with_shifts(first.scan, "__window_rows", sqlglot.parse_one(
            f"SELECT {', '.join(f'c{i} AS {n}' for i, n in enumerate(slots))} "
            f"FROM ({inner['partial']}) AS __join", read="postgres"))
        first.reads = inner.get("_sides") or None
        for side in chain:
            side.table = "the join's rows"
        for i, (a, c) in reversed(list(enumerate(needed))):   # (__c12 before __c1)
            how = how.replace(f"__c{i}", f"{a}.{c}")
        return self._run_join_windows(plan, dist, sides[0], inner, how + " after the join",
                                      want, plan_only)

    def _join_rows_table(self, tree: exp.Select, needed: list) -> "_RowsAsTable":
        """The rows of a window join (``_window_join_parts``) as the table
        ``__window_rows``: a column ``__c{i}`` per ``(alias, column)`` in ``needed``,
        typed as that column of its table."""
        slots = [f"__c{i}" for i in range(len(needed))]
        return _RowsAsTable("__window_rows", slots, {
            slot: self.catalog[self._alias_table(tree, a)].types.get(c)
            for slot, (a, c) in zip(slots, needed)})

    def _join_rows_placed(self, tree: exp.Select, parts: tuple):
        """How the rows of ``tree``'s join (``_window_join_parts``) are placed so its
        windows run whole on each shard: ``(windows, side, inner plan, how)``, the
        windows' SELECT over ``__window_rows``, the exchange of the join's rows by a
        column in every window's PARTITION BY (else by the value of an expression in
        every one, a computed column ``__wkey``), the join's own plan. None: no such
        column or expression, or the join itself would be gathered."""
        outer, scan, needed = parts
        slots = [f"__c{i}" for i in range(len(needed))]
        common = None
        for spec in window_specs(outer):
            cols = {p.name for p in spec if isinstance(p, exp.Column) and not p.table}
            common = cols if common is None else common & cols
        usable = [i for i, n in enumerate(slots) if n in (common or ()) and
                  self.catalog[self._alias_table(tree, needed[i][0])].types.get(
                      needed[i][1]) in HASHABLE]
        computed = None
        if usable:
            key = slots[usable[0]]
            how = f"repartitioned by {needed[usable[0]][0]}.{needed[usable[0]][1]} " \
                  f"after the join"
        else:
            found = self._slot_expression(tree, outer, needed)
            if found is None:
                return None
            computed, spelled = found
            key = WINDOW_KEY
            how = f"repartitioned by {spelled} after the join"
        scan_sql = scan.sql(dialect="postgres")
        inner = self._select(scan_sql, None, plan_only=True)
        if inner["strategy"] not in ("split", "shuffle", "broadcast") or \
                inner.get("kind") != "scan" or "_sides" not in inner and \
                inner["strategy"] != "split":
            return None
        # The join's partial names its outputs c0, c1, ...: give them the slot names.
        columns = [f"c{i} AS {n}" for i, n in enumerate(slots)]
        if computed is not None:
            columns.append(f"{computed} AS {WINDOW_KEY}")
        stage = f"SELECT {', '.join(columns)} FROM ({inner['partial']}) AS __join"
        side = Side("__window_rows", "the join's rows", key, stage,
                    reads=inner.get("_sides") or None)
        return outer, side, inner, how

    def _slot_expression(self, tree: exp.Select, outer: exp.Select, needed: list):
        """An expression (not a bare column) in the PARTITION BY of every window of
        ``outer`` (over the join's slots ``__c0``, ...) of a hashable type and with no
        subquery, aggregate, window or volatile call: ``(its SQL over the join's partial
        columns c0, c1, ..., its SQL as the user wrote it)``, or None."""
        slot_names = {f"__c{i}" for i in range(len(needed))}
        expr = common_partition_expression(
            outer, lambda c: not c.table and c.name in slot_names)
        if expr is None:
            return None

        def back(n):   # the slot as the join's column, to type the expression
            if isinstance(n, exp.Column) and n.name in slot_names:
                alias, col = needed[int(n.name[3:])]
                return exp.column(col, table=alias, quoted=True)
            return n
        original = expr.copy().transform(back)
        probe = exp.Select(expressions=[original])
        for arg in ("from_", "joins"):
            probe.set(arg, tree.args[arg].copy())
        typed = self._columns_of(probe)
        if typed is None or typed[0][1] not in HASHABLE:
            return None
        partial = expr.copy().transform(
            lambda n: exp.column(n.name[2:]) if isinstance(n, exp.Column) and
            n.name in slot_names else n)
        return partial.sql(dialect="postgres"), original.sql(dialect="postgres")

    def _run_join_windows(self, plan: dict, dist, side, inner: dict, how: str, want: list,
                          plan_only: bool):
        """Run (or, ``plan_only``, describe) windows over a join's rows placed by
        ``side`` (``_join_rows_placed``; or the last of the stages it reads,
        ``_window_join_staged``)."""
        chain, at = [], side
        while at is not None:   # (the stages, back to the join's own exchanges)
            chain.append(at)
            at = at.reads[0] if at.reads and at.reads[0] not in (inner.get("_sides") or []) \
                else None
        plan.update(strategy="shuffle", kind=dist.kind, partial=dist.partial,
                    merge=dist.merge, keys=dist.keys,
                    exchanges=inner.get("exchanges", []) + [(x.table, x.key, x.scan)
                                                            for x in reversed(chain)],
                    in_place=inner.get("in_place", []), windows=how)
        for k in ("broadcast", "anchor"):
            if k in inner:
                plan[k] = inner[k]
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(plan, dist, want, sides=[side]))

    def _alias_table(self, tree: exp.Select, alias: str) -> str:
        from_ = tree.args["from_"]
        for t in [from_.this] + [j.this for j in tree.args.get("joins") or []]:
            if t.alias_or_name == alias:
                return _table_name(t)
        raise KeyError(alias)

    def _window_join_columns(self, tree: exp.Select, want: list, plan: dict,
                             plan_only: bool):
        """Window functions over a join of cluster tables: the join runs first as a
        query of its own (split, repartitioned or broadcast like any join), giving only
        the columns the statement reads, and the windows run here over its rows. None:
        another shape (aggregates, subqueries, USING / NATURAL, derived tables)."""
        parts = self._window_join_parts(tree)
        if parts is None:
            return None
        outer, scan, needed = parts
        prefix = _window_prefix(tree)
        if prefix is not None:   # only the join's first rows by the windows' order
            scan.set("order", prefix[0])
            scan.set("limit", exp.Limit(expression=exp.Literal.number(prefix[1])))
        scan_sql, outer_sql = scan.sql(dialect="postgres"), outer.sql(dialect="postgres")
        inner_plan = self._select(scan_sql, None, plan_only=True)
        if inner_plan["strategy"] == "gather":
            return None
        plan.update(strategy=inner_plan["strategy"], kind=inner_plan.get("kind"),
                    partial=inner_plan.get("partial"), merge=inner_plan.get("merge"),
                    keys=[], windows_after=outer_sql,
                    gathered_columns=("the join", [f"{a}.{c}" for a, c in needed]),
                    prefix=prefix[1] if prefix is not None else None)
        for k in ("exchanges", "in_place", "broadcast", "anchor"):
            if k in inner_plan:
                plan[k] = inner_plan[k]
        if plan_only:
            return plan
        saved = self.last_plan
        try:
            result = self._select(scan_sql, None)
            for k in ("shuffled_bytes", "partial_rows"):
                if k in (self.last_plan or {}):
                    plan[k] = self.last_plan[k]
        finally:
            self.last_plan = saved
        conn = scratch_connection()
        create_typed(conn, "__window_rows", result.columns)
        load_table(conn, "__window_rows", result.arrow())
        return self._finish(plan, conform(None, conn.execute(outer_sql).arrow(), want))

    def _local_subqueries(self, tree: exp.Expression) -> bool:
        """Can every subquery of ``tree``'s WHERE run on each shard alone? True when
        ``tree`` reads one sharded table in its FROM and each subquery of its WHERE
        reads REPLICATED tables only, or one sharded table tied to the outer one by an
        equality of their single-column partition keys (of one type) in its own
        WHERE (``EXISTS (SELECT 1 FROM l WHERE l.k = o.k AND …)``): every row the
        subquery can see for an outer row is then on that row's shard."""
        if not isinstance(tree, exp.Select) or tree.args.get("where") is None:
            return False
        catalog = self.catalog
        subs = [n for n in tree.args["where"].walk() if isinstance(n, (exp.Subquery,
                                                                      exp.Exists))]
        if not subs:
            return False
        from_ = tree.args.get("from_")
        top = ([from_.this] if from_ is not None else []) + \
            [j.this for j in tree.args.get("joins") or []]
        outer = [t for t in top if isinstance(t, exp.Table) and _table_name(t) in catalog
                 and not catalog[_table_name(t)].replicated]
        if len(outer) != 1 or len(catalog[_table_name(outer[0])].key) != 1:
            return False
        o_info = catalog[_table_name(outer[0])]
        o_alias, o_key = outer[0].alias_or_name, o_info.key[0]
        for sub in subs:
            body = sub.this
            if not isinstance(body, exp.Select):
                return False
            inner = [n for n in _table_occurrences(body, catalog) if not catalog[n].replicated]
            if not inner:
                continue
            tables = [t for t in body.find_all(exp.Table) if _table_name(t) in catalog and
                      not catalog[_table_name(t)].replicated]
            b_from = body.args.get("from_")
            if len(tables) != 1 or b_from is None or b_from.this is not tables[0] or \
                    body.args.get("where") is None:
                return False
            i_info = catalog[_table_name(tables[0])]
            if len(i_info.key) != 1 or i_info.types[i_info.key[0]] != o_info.types[o_key]:
                return False
            i_alias, i_key = tables[0].alias_or_name, i_info.key[0]
            inner_names = {t.alias_or_name for t in body.find_all(exp.Table)}

            def side(col) -> str | None:
                if not isinstance(col, exp.Column):
                    return None
                if col.table == i_alias and col.name == i_key:
                    return "inner"
                if col.table == o_alias and col.name == o_key and o_alias not in inner_names:
                    return "outer"
                if not col.table:   # unqualified: the inner table's column if it has one
                    if col.name == i_key:
                        return "inner"
                    if col.name == o_key and not any(
                            col.name in catalog[_table_name(t)].columns
                            for t in body.find_all(exp.Table) if _table_name(t) in catalog):
                        return "outer"
                return None

            if not any(isinstance(c, exp.EQ) and
                       {side(c.this), side(c.expression)} == {"inner", "outer"}
                       for c in conjuncts(body.args["where"].this)):
                return False
        return True

    def _columns_of(self, select: exp.Expression):
        """The output columns ``[(name, type)]`` of a query the mirror can bind (None:
        it cannot)."""
        try:
            return list(self.mirror._session._prepare(
                select.sql(dialect="postgres")).plan.columns)
        except errors.Error:
            return None

    def _first_inputs(self, first: list) -> dict | None:
        """Run each query of ``first`` (``(input name, SQL, position)``) as a SELECT of
        its own (split over the shards like any other: only its result reaches the
        coordinator) and hand its rows to the shards as input ``name``: all to shard 0
        (position None) or hash-partitioned by the column at ``position``, as the shards
        partition their own sends (columns named c0, c1, ...). ``{shard: inputs}``."""
        if not first:
            return None
        out: dict = {s: {} for s in range(self.shards)}
        saved = self.last_plan
        try:
            for name, sql, position in first:
                table = self._select(sql, None).arrow()
                table = table.rename_columns([f"c{i}" for i in range(table.num_columns)])
                if position is None:
                    parts = {0: table}
                else:
                    parts = split_rows(table, [position], self.shards)
                for s in range(self.shards):
                    payload = table_to_ipc(parts.get(s, table.slice(0, 0)))
                    self.cluster.ship(len(payload))
                    out[s][name] = payload
        finally:
            self.last_plan = saved
        return out

    def _placed_by(self, select: exp.Select, position: int) -> bool:
        """Does ``select`` output, at ``position``, the single-column partition key of
        the one sharded table it reads?"""
        catalog = self.catalog
        from_ = select.args.get("from_")
        joins = select.args.get("joins") or []
        top = ([from_.this] if from_ is not None else []) + [j.this for j in joins]
        sharded = [t for t in top if isinstance(t, exp.Table) and
                   _table_name(t) in catalog and not catalog[_table_name(t)].replicated]
        if len(sharded) != 1:
            return False
        info = catalog[_table_name(sharded[0])]
        if len(info.key) != 1:
            return False
        items = select.expressions
        if len(items) == 1 and isinstance(items[0], exp.Star) and not joins:
            return position < len(info.columns) and info.columns[position] == info.key[0]
        if any(isinstance(e, exp.Star) or isinstance(e, exp.Column) and
               isinstance(e.this, exp.Star) for e in items) or position >= len(items):
            return False
        e = items[position]
        e = e.this if isinstance(e, exp.Alias) else e
        if not isinstance(e, exp.Column):
            return False
        if e.table:
            return e.table == sharded[0].alias_or_name and e.name in (
                info.key[0], info.key[0].upper()) and info.key[0] in info.columns
        others = [t for t in top if t is not sharded[0] and isinstance(t, exp.Table) and
                  _table_name(t) in catalog and e.name.lower() in catalog[_table_name(t)].columns]
        return not others and e.name.lower() == info.key[0]

    # ---- files read on the workers (loads.py) ------------------------------------------
    def _paths(self, literal: exp.Literal) -> list[str]:
        from ..exec.files import resolve_paths
        return resolve_paths(literal.this, self.mirror._session.file_root)

    def _file_select(self, tree: exp.Select, sql: str, plan_only: bool):
        """A SELECT over one reader of several files: split over the shards, each
        reading its files (None: not that shape, or one file)."""
        reads = loads.read_calls(tree)
        from_ = tree.args.get("from_")
        if len(reads) != 1 or reads[0][1] is None or from_ is None or \
                tree.args.get("joins") or not isinstance(from_.this, exp.Table) or \
                from_.this.this is not reads[0][0]:
            return None
        session = self.mirror._session
        want = list(session._prepare(sql).plan.columns)   # binds; reads no rows
        paths = self._paths(reads[0][1])
        if len(paths) < 2:
            return None
        star = [n for n, _ in session._prepare(
            "SELECT * FROM " + from_.this.sql(dialect="postgres")).plan.columns]
        per = loads.spread(paths, self.shards)
        dists = {s: plan_select(loads.with_paths(tree, 0, ps), star) for s, ps in per.items()}
        if any(d is None for d in dists.values()):
            return None
        dist = dists[min(dists)]
        plan = {"sql": sql, "tables": [], "strategy": "files", "kind": dist.kind,
                "partial": dist.partial, "merge": dist.merge, "keys": dist.keys,
                "files": {s: len(ps) for s, ps in per.items()}}
        if plan_only:
            return plan
        return self._finish(plan, self._run_split(
            plan, dist, want, shard_sql={s: d.partial for s, d in dists.items()}))

    def _row_counts(self) -> dict:
        b = self.cluster.backend
        counts: dict[str, int] = {}
        for reply in b.call_all(range(b.shards), "row_counts", self.branch).values():
            for name, n in check(reply)[1].items():
                counts[name] = counts.get(name, 0) + n
        return counts

    def _run_split(self, plan: dict, dist, want: list, inputs: dict | None = None,
                   sides: list | None = None, shard_sql: dict | None = None,
                   inputs_per_shard: dict | None = None) -> Result:
        """Run a split plan: the partial on every shard (reading broadcast ``inputs``, or
        the ``sides`` of a join repartitioned first; ``shard_sql``: a partial of its own
        per shard, on those shards only), then the merge over the gathered partials, or,
        for an aggregate whose partials exceed ``shuffle_rows`` on some shard, the merge
        repartitioned by the group keys and run on the shards."""
        b = self.cluster.backend
        shards = list(range(self.shards))
        src = sorted(shard_sql) if shard_sql else shards
        xid = self.cluster.new_id("x")
        stage = merge_on_shards(dist.merge) if dist.keys else None
        limit = self.cluster.shuffle_rows if stage is not None else None
        keep = self._keeps(plan, dist)
        if keep is not None:
            limit = -1   # (every shard's rows held back, for ``repartition``)
        timings = plan.setdefault("timings", {})   # wall seconds per stage, here

        def timed(stage: str, t0: float) -> None:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            received = self._exchange(xid, sides, plan) if sides else {}
            if sides:
                timed("exchange", t0)
            t0 = time.perf_counter()
            replies = b.call_all(src, "partial", per_shard_args={
                s: (self.sid, xid, shard_sql[s] if shard_sql else dist.partial, limit,
                    inputs_per_shard[s] if inputs_per_shard else inputs,
                    received.get(s)) for s in src})
            for s in src:
                check(replies[s])
            timed("partials", t0)
            columns = replies[src[0]][2]
            if keep is not None:
                return self._kept_rows(xid, src, len(columns), keep)
            if len({n for n, _ in columns}) < len(columns):   # SELECT a, a: by position
                columns = [(f"c{i}", t) for i, (_, t) in enumerate(columns)]
            plan["partial_rows"] = [replies[s][4] if s in replies else 0 for s in shards]
            held = [s for s in src if replies[s][3] is None]
            plan["partial_bytes"] = [len(replies[s][3] or b"") for s in src]
            if not held:
                self.cluster.ship(*(len(replies[s][3]) for s in src))
                t0 = time.perf_counter()
                partials = [ipc_to_table(replies[s][3]) for s in src]
                _, table = run_merge(columns, partials, dist.merge)
                timed("merge", t0)
                return conform(None, table, want)
            # Repartition the partials by their group keys, shard to shard: every group
            # whole on one shard. The shards whose partials came back whole still have
            # them (``ShardHost.recent``) and repartition them too; the coordinator only
            # drops its copies.
            self.cluster.ship(*(len(replies[s][3]) for s in src if s not in held))
            t0 = time.perf_counter()
            reps = b.call_all(src, "repartition", self.sid, xid, dist.keys, self.shards)
            for s in src:
                check(reps[s])
            moved = self.cluster.ship(*(n for s in src for n in reps[s][1].values()),
                                      between_shards=True)
            tokens = _tokens_by_target(reps[s][2] for s in src)
            merged = b.call_all(shards, "merge_exchange", per_shard_args={
                t: (self.sid, xid, columns, tokens.get(t, []), stage.partial) for t in shards})
            for t in shards:
                check(merged[t])
            timed("repartition and merge on the shards", t0)
            t0 = time.perf_counter()
            self.cluster.ship(*(len(merged[t][3]) for t in shards))
            plan.update(repartitioned=dist.keys, merge_rows=[merged[t][4] for t in shards],
                        shuffled_bytes=plan.get("shuffled_bytes", 0) + moved)
            _, table = run_merge(merged[0][2], [ipc_to_table(merged[t][3]) for t in shards],
                                 stage.merge)
            timed("merge", t0)
            return conform(None, table, want)
        except BaseException:
            for s in shards:
                try:
                    b.call(s, "drop_exchange", self.sid, xid)
                except errors.Error:
                    pass
            raise

    def _keeps(self, plan: dict, dist) -> int | None:
        """Whether this split's rows stay on the shards (``held.py`` filling a statement
        table from the query ``_keep_for`` names): its plan is that query's and its merge
        only passes the partials' rows on (``SELECT c0, c1, ... FROM __partials``), so
        the rows are the union of the partials, which ``repartition`` then places by
        their whole row. Returns the number of columns (0: ``*``, all of the partials'),
        None when not."""
        if self._keep_for is None or plan.get("sql") != self._keep_for or dist.keys:
            return None
        merge = sqlglot.parse_one(dist.merge, read="postgres")
        if not isinstance(merge, exp.Select) or any(merge.args.get(k) for k in (
                "joins", "where", "group", "having", "order", "limit", "offset",
                "distinct", "qualify", "windows", "laterals")):
            return None
        source = merge.args.get("from_")
        if source is None or not isinstance(source.this, exp.Table) or \
                source.this.name != "__partials":
            return None
        if len(merge.expressions) == 1 and isinstance(merge.expressions[0], exp.Star):
            return 0   # (every column of the partials)
        for i, e in enumerate(merge.expressions):
            e = e.this if isinstance(e, exp.Alias) else e
            if not isinstance(e, exp.Column) or e.name != f"c{i}":
                return None
        return len(merge.expressions)

    def _kept_rows(self, xid: str, src: list, width: int, keep: int):
        """``_run_split`` in keep mode (``_keeps``): the partials, held on their shards,
        are placed by the hash of their whole row shard to shard; ``_kept`` gets the
        exchange and its tokens (what ``ShardHost.hold`` reads); the result is empty."""
        keep = keep or width
        if width < keep:
            raise errors.sql_error("XX000", "statement table: the partial's columns are "
                                            "not the query's")
        b = self.cluster.backend   # (placed by the query's columns, the merge's c0 ...)
        reps = b.call_all(src, "repartition", self.sid, xid, list(range(keep)),
                          self.shards)
        for s in src:
            check(reps[s])
        self.cluster.ship(*(n for s in src for n in reps[s][1].values()),
                          between_shards=True)
        self._kept = (xid, _tokens_by_target(reps[s][2] for s in src))
        return Result(columns=[], kind="SELECT")   # (not None: "not run" to some callers)

    def _exchange(self, xid: str, sides: list, plan: dict) -> dict:
        """Repartition each join side on its key, shard to shard (``exchange.py``): every
        shard then holds its partition of each side. Returns ``{shard: {input name:
        (exchange id, [tokens])}}``, what ``partial`` reads them by; the coordinator
        sees only sizes and tokens, never a row."""
        b = self.cluster.backend
        shards = list(range(self.shards))
        received: dict[int, dict] = {s: {} for s in shards}
        moved = 0
        for i, side in enumerate(sides):
            sx = f"{xid}.{i}"
            # A side made from others' exchanges (a join's rows): those move first.
            fed = self._exchange(f"{sx}.r", side.reads, plan) if side.reads else {}
            replies = b.call_all(shards, "shuffle_out", per_shard_args={
                s: (self.sid, sx, side.once if side.once is not None and s != 0
                    else side.scan, None if side.key is None else [side.key], self.shards,
                    side.table if side.scan is None else None, fed.get(s)) for s in shards})
            for s in shards:
                check(replies[s])
            tokens = _tokens_by_target(replies[s][4] for s in shards)
            for s in shards:
                received[s][side.input] = (sx, tokens.get(s, []))
            moved += self.cluster.ship(*(n for s in shards for n in replies[s][2].values()),
                                       between_shards=True)
        plan["shuffled_bytes"] = plan.get("shuffled_bytes", 0) + moved
        return received

    def _broadcast_plan(self, tree: exp.Select, part: list, counts: dict):
        """Keep the largest sharded table of the top-level FROM in place and broadcast
        every other sharded table read (and any second reference to it) to all shards:
        an inner (or anchor-preserving LEFT) join of the anchor's rows on each shard with
        full copies of the others, united over the shards, is the whole join. Used when
        that ships fewer bytes than gathering every table; None otherwise."""
        tree = tree.copy()
        joins = tree.args.get("joins") or []
        from_ = tree.args.get("from_")
        if from_ is None:
            return None
        top = [from_.this] + [j.this for j in joins]
        candidates = [t for t in top if isinstance(t, exp.Table) and _table_name(t) in part]
        if not candidates:
            return None
        anchor = max(candidates, key=lambda t: counts.get(_table_name(t), 0))
        for j in joins:
            side = (j.args.get("side") or "").upper()
            if side in ("RIGHT", "FULL") or (side == "LEFT" and j.this is anchor):
                return None
        local = _colocated(anchor, top, joins, part, self.catalog)
        names = []
        for t in list(tree.find_all(exp.Table)):
            name = _table_name(t)
            if any(t is k for k in local) or name is None or name not in self.catalog or \
                    self.catalog[name].replicated:
                continue
            if name not in names:
                names.append(name)
            new = t.copy()
            new.set("this", exp.to_identifier(f"__bcast_{name}"))
            new.set("db", None)
            if new.args.get("alias") is None:
                new.set("alias", exp.TableAlias(
                    this=exp.to_identifier(t.name, quoted=t.this.quoted)))
            t.replace(new)
        anchor_name = _table_name(anchor)
        shipped = sum(counts.get(n, 0) for n in names) * self.shards
        gathered = sum(counts.get(n, 0) for n in set(part) | {anchor_name})
        if not names or shipped >= gathered:
            return None
        return tree, names, anchor_name

    def _finish(self, plan: dict, result: Result) -> Result:
        self.last_plan = plan
        return result

    def _gather(self, tables) -> "object":
        """A fork of the mirror holding every row of ``tables`` (the fallback plan)."""
        scratch = self._scratch()
        for name in tables:
            info = self.catalog[name]
            shards = [0] if info.replicated else range(self.shards)
            replies = self._scan(shards, name)
            parts = [ipc_to_table(r[3]) for r in replies.values()]
            data = numeric_arrays.concat_tables(parts) if len(parts) > 1 else parts[0]
            load_table(scratch, name, data)
        return scratch



def _plain_derived(tree: exp.Select, part: list):
    """The one derived table a SELECT reads, when the SELECT reads nothing else (one
    placement, no joins) and the derived table is a plain SELECT with an alias of its
    own, no column aliases and no LIMIT/OFFSET; else None."""
    from_ = tree.args.get("from_")
    derived = from_.this if from_ is not None else None
    if len(part) != 1 or not isinstance(derived, exp.Subquery) or not derived.alias or \
            not isinstance(derived.this, exp.Select) or tree.args.get("joins") or \
            derived.args["alias"].columns or any(
                derived.this.args.get(k) is not None for k in ("limit", "offset")):
        return None
    return derived
