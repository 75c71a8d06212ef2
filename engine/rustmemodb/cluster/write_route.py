"""How a cluster connection writes: the INSERT / UPDATE / DELETE half of
``ClusterConnection`` (a mixin). Rows are routed to the shards their partition key
names (all shards for a REPLICATED table); writes that read other rows either run on
the shards where they are local or gather what they read; several shards commit by
two-phase commit."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pyarrow as pa
import sqlglot
from sqlglot import exp

from .. import errors, types
from ..result import Result
from ..sql.bind.binder import StatementBinder
from ..sql.bind.view_dml import rewrite as rewrite_view_dml
from ..storage.sequence_names import quote_name
from . import loads
from . import twophase
from .ctes import with_of
from .merge import create_typed, load_table
from .partition import TableInfo, refuse, shard_of_key, split_rows
from .shuffle import Side
from .split import _has_forbidden
from .wire import check, table_to_ipc
from .trees import (
    _bare_nulls, _combine, _conflict_sets_key, _cte_to_source, _first_word, _inline,
    _local_from, _parse, _pinned_shard, _plain, _referenced, _reply_result, _table_name,
    _table_occurrences, _tokens_by_target)


class WriteRouting:
    """Write routing of ClusterConnection (connect.py)."""

    @contextmanager
    def _shard_write(self, shards: list, xid: str | None = None):
        """One write over ``shards``, atomic across them. Outside a transaction it is
        its own: begun on each shard when the statement calls ``begin()`` (the callable
        this yields), committed by two-phase commit at the end of the block, rolled back
        on the shards begun if the block fails. Inside one, the shards join the
        transaction's written set and a failure marks the transaction failed. Either
        way a failure drops what exchange ``xid`` left on the shards."""
        b = self.cluster.backend
        own = not self.in_txn
        began: list = []

        def begin() -> None:
            if own:
                for s in shards:
                    check(b.call(s, "begin", self.sid))
                    began.append(s)
        try:
            yield begin
        except BaseException:
            self._drop_exchange(xid)
            if own:
                twophase.rollback_all(b, self.sid, began)
            else:
                self.failed = True
            raise
        if own:
            twophase.commit(self.cluster, self.sid, shards)
        else:
            self.written.update(shards)

    def _parallel_load(self, info: TableInfo, per_shard: dict, files: dict) -> int:
        """Run ``{shard: [statements]}`` loading ``info``'s table from files on those
        shards, exchange the rows to their shards and load them atomically."""
        b = self.cluster.backend
        shards = list(range(self.shards))
        src = sorted(per_shard)
        xid = self.cluster.new_id("x")
        key = info.key or info.columns
        with self._shard_write(shards, xid) as begin:
            replies = b.call_all(src, "load_out", per_shard_args={
                s: (self.sid, xid, info.name, per_shard[s], key, self.shards) for s in src})
            for s in src:
                check(replies[s])
            moved = self.cluster.ship(*(n for s in src for n in replies[s][2].values()),
                                      between_shards=True)
            tokens = _tokens_by_target(replies[s][4] for s in src)
            total = sum(replies[s][3] for s in src)
            begin()
            loaded = b.call_all(shards, "load_exchange", per_shard_args={
                t: (self.sid, xid, info.name, tokens.get(t, [])) for t in shards})
            for t in shards:
                check(loaded[t])
            self.write_rows = {t: max(loaded[t][4], 0) for t in shards}
        self.last_plan = {"strategy": "files", "shuffled_bytes": moved, "rows": total}
        if files is not None:
            self.last_plan["files"] = {s: len(v) for s, v in files.items()}
        return total

    def _spreadable(self, info: TableInfo | None) -> bool:
        """Can rows for this table be made on the shards (see loads.py)?"""
        if info is None or info.replicated or self.shards < 2:
            return False
        return self._root().tables.get(info.name) is not None and not self._draws_sequence(info)

    def _draws_sequence(self, info: TableInfo) -> bool:
        """Does an INSERT into this table draw from a sequence (a SERIAL column)? Then
        its rows are made on the coordinator, which owns the sequences: shards drawing
        their own numbers would hand out the same ones twice."""
        version = self._root().tables.get(info.name)
        return version is not None and any(
            c.default_sql and "nextval" in c.default_sql.lower()
            for c in version.schema.columns)

    def _advance_sequences(self, scratch) -> None:
        """Carry the numbers a scratch database drew over to the coordinator's mirror, so
        the next statement continues after them."""
        drawn = scratch._session.db.root.sequences
        session = self.mirror._session
        txn = session.txn
        mine = (txn.working if txn is not None else session.db.root).sequences
        # bookkeeping, not the user's setval: the draw itself was the INSERT's, checked
        # (USAGE for a SERIAL default) when the statement was bound on the mirror
        saved = session.role, session.auth_user
        session.role = session.auth_user = None
        try:
            for name, value in drawn.items():
                if value > mine.get(name, value):
                    literal = quote_name(name).replace("'", "''")    # as SQL reads it
                    self.mirror.execute(f"SELECT setval('{literal}', {int(value)})")
        finally:
            session.role, session.auth_user = saved

    def _copy(self, sql: str, params) -> Result:
        """COPY: FROM several files, read on the shards; FROM one file, read here and
        routed; TO a file, written here from the gathered rows."""
        tree = _parse(sql)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        self.mirror._session._prepare(sql)   # binds: the engine's errors; reads no rows
        if not isinstance(tree, exp.Copy):
            raise refuse("this form of COPY")
        target = tree.this
        if not tree.args.get("kind"):   # COPY ... TO
            refs, has_view = _referenced(tree, self._root(), self.catalog)
            scratch = self._gather(list(self.catalog) if has_view else refs)
            return scratch.execute(sql)._result
        table = target.this if isinstance(target, exp.Schema) else target
        info = self._info(_table_name(table))
        files = tree.args.get("files") or []
        paths = self._paths(files[0]) if files and isinstance(files[0], exp.Literal) else []
        if len(paths) > 1 and self._spreadable(info):
            per = loads.spread(paths, self.shards)
            total = self._parallel_load(info, {s: loads.copy_statements(tree, ps)
                                               for s, ps in per.items()}, per)
            return Result(columns=[], rowcount=total, kind="COPY")
        scratch = self._scratch()
        result = scratch.execute(sql)._result
        new = scratch.execute(f'SELECT * FROM "{info.name}"').arrow()
        self._load(info.name, new, info)
        return Result(columns=[], rowcount=result.rowcount, kind=result.kind)

    # ---- through an updatable view ---------------------------------------------------------
    def _through_view(self, tree, sql: str, params) -> tuple | None:
        """``(tree, sql, params)`` of an INSERT/UPDATE/DELETE whose target is a view,
        rewritten onto the view's base table as the engine rewrites it
        (sql/bind/view_dml.py) and then routed as any write to that table; other
        statements as they are. None under WITH CHECK OPTION: its conditions are
        checked by the engine's plan after the write, so that statement is computed on
        the coordinator (``_gathered``), where the whole plan runs."""
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        root = self._root()
        if not isinstance(target, exp.Table) or target.name not in root.views:
            return tree, sql, params
        binder = StatementBinder(root, self.database.functions)
        rewritten, checks = rewrite_view_dml(binder, _inline(tree, params) if params else tree,
                                             binder.relation_names)
        if checks:
            return None
        return rewritten, rewritten.sql(dialect="postgres"), None

    # ---- INSERT ---------------------------------------------------------------------------
    def _insert(self, sql: str, params) -> Result:
        routed = self._through_view(_parse(sql), sql, params)
        if routed is None:
            return self._gathered(sql, params, "a write through a view WITH CHECK OPTION")
        tree, sql, params = routed
        if with_of(tree) is not None:
            # WITH ... INSERT ... SELECT: the CTEs belong to the source query.
            source = tree.args.get("expression")
            if not isinstance(source, exp.Select) or with_of(source) is not None:
                return self._gathered(sql, params, "WITH ... INSERT ... VALUES")
            tree = _cte_to_source(tree)
            sql = tree.sql(dialect="postgres")
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        name = _table_name(target)
        info = self.catalog.get(name)
        if info is None:
            self.mirror.execute(sql, params)   # the engine's own error (42P01, ...)
            raise errors.undefined_table(name)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        source = tree.args.get("expression")
        conflict = tree.args.get("conflict")
        if _conflict_sets_key(tree, info):
            return self._gathered(sql, None, "ON CONFLICT DO UPDATE of a partition key")
        if info.replicated:   # every shard holds every row: each checks it all itself
            inputs, tree, xid = self._broadcast_reads(tree, name, skip=target)
            try:
                replies = self._write({s: tree.sql(dialect="postgres")
                                       for s in range(self.shards)}, inputs_per_shard=inputs)
            finally:
                self._drop_exchange(xid)
            return _reply_result(replies[0])
        serial = self._draws_sequence(info)
        if isinstance(source, exp.Values) and not serial:
            return self._insert_values(tree, sql, info, source)
        # the paths below run the INSERT on shards, in scratch forks or as loads: the
        # session role's privileges (a column's too) are checked here, on the statement
        self._bind_checked(sql)
        conflict = tree.args.get("conflict")
        reads = loads.read_calls(source) if source is not None else []
        if len(reads) == 1 and reads[0][1] is not None and conflict is None and \
                tree.args.get("returning") is None and loads.plain_source(source) and \
                not _referenced(source, self._root(), self.catalog)[0] and \
                self._spreadable(info):
            self.mirror._session._prepare(sql)   # binds: the engine's errors; no rows read
            paths = self._paths(reads[0][1])
            if len(paths) > 1:
                per = loads.spread(paths, self.shards)
                total = self._parallel_load(info, {
                    s: [loads.with_paths(tree, 0, ps).sql(dialect="postgres")]
                    for s, ps in per.items()}, per)
                return Result(columns=[], rowcount=total, kind="INSERT")
        if conflict is None and tree.args.get("returning") is None and not serial:
            done = self._insert_select_on_shards(tree, sql, info, source)
            if done is not None:
                return done
        stripped = tree.copy()
        stripped.set("conflict", None)
        if conflict is not None:
            stripped.set("returning", None)
        first = self._source_first(stripped)
        if first is not None:
            scratch, stripped = first
        else:
            scratch = self._scratch_for(tree)
        result = scratch.execute(stripped.sql(dialect="postgres"))._result
        if serial:
            self._advance_sequences(scratch)
        new = scratch.execute(f'SELECT * FROM "{name}"').arrow()
        new = new.slice(new.num_rows - max(result.rowcount, 0))
        if conflict is None:
            self._load(name, new, info)
            return result
        # ON CONFLICT: each shard upserts its rows itself (Arrow input ``__rows``).
        parts = split_rows(new, info.key_positions, self.shards)
        per_shard, inputs = {}, {}
        for s_, part in parts.items():
            ins = exp.Insert(this=exp.to_table(name),
                             expression=sqlglot.parse_one("SELECT * FROM __rows", read="postgres"))
            ins.set("conflict", conflict.copy())
            if tree.args.get("returning") is not None:
                ins.set("returning", tree.args["returning"].copy())
            per_shard[s_] = ins.sql(dialect="postgres")
            inputs[s_] = {"__rows": table_to_ipc(part)}
        if not per_shard:
            return Result(columns=result.columns, table=result.table, rowcount=0,
                          kind=result.kind)
        return _combine(self._write(per_shard, inputs_per_shard=inputs))

    def _insert_select_on_shards(self, tree: exp.Insert, sql: str, info: TableInfo,
                                 source) -> Result | None:
        """INSERT INTO t SELECT … whose SELECT makes each row from one row of a sharded
        table (filters, projections, joins local to a shard): every shard runs the
        INSERT into ``t`` emptied in a throwaway fork of its rows (the engine's casts,
        defaults and checks), sends the new rows straight to the shards of their keys
        and they are loaded there in one 2PC transaction, as for files (``loads.py``):
        no row passes through the coordinator. None: not that shape."""
        shape = self._insert_select_shape(info, source)
        if shape is None:
            return None
        refs, part = shape
        self.mirror._session._prepare(sql)   # binds: the engine's errors; no rows read
        shards = range(self.shards) if part else [0]   # REPLICATED sources: once
        total = self._parallel_load(info, {s: [sql] for s in shards}, None)
        self.last_plan.update(strategy="insert on shards", sources=refs)
        return Result(columns=[], rowcount=total, kind="INSERT")

    def _insert_select_shape(self, info: TableInfo, source):
        """``(tables read, sharded tables read)`` when ``_insert_select_on_shards`` runs
        INSERT ... SELECT on the shards, else None."""
        if not isinstance(source, exp.Select) or not self._spreadable(info) or \
                self.shards < 2:
            return None
        if with_of(source) is not None:
            return None
        for arg in ("group", "having", "distinct", "order", "limit",
                    "offset", "qualify", "locks"):
            if source.args.get(arg) is not None:
                return None
        if _has_forbidden(source) or any(isinstance(n, (exp.AggFunc, exp.Window))
                                         for n in source.walk()):
            return None
        catalog = self.catalog
        refs, has_view = _referenced(source, self._root(), catalog)
        if has_view or info.name in refs or loads.read_calls(source):
            return None   # (reading the target: its fork on the shard is emptied first)
        occurrences = _table_occurrences(source, catalog)
        part = sorted({o for o in occurrences if not catalog[o].replicated})
        if part and not _local_from(source, part, catalog, occurrences):
            return None
        return refs, part

    def _source_first(self, tree: exp.Insert):
        """INSERT … SELECT whose SELECT aggregates (or otherwise cannot make its rows one
        per row on the shards): the SELECT runs first as a query of its own (split over
        the shards: only its result reaches the coordinator), its rows become table
        ``__source`` of a fork of the schema, where the INSERT reads them (the engine's
        casts, defaults and checks). Returns ``(fork, INSERT reading __source)``, None
        when the source reads no cluster table or would be gathered anyway."""
        source = tree.args.get("expression")
        if not isinstance(source, (exp.Select, exp.SetOperation)):
            return None
        refs, has_view = _referenced(source, self._root(), self.catalog)
        if not refs or has_view:
            return None
        sql = source.sql(dialect="postgres")
        saved = self.last_plan
        try:
            if self._select(sql, None, plan_only=True)["strategy"] == "gather":
                return None
            result = self._select(sql, None)
            source_plan = self.last_plan
        finally:
            self.last_plan = saved
        if any(t == types.NULL for _, t in result.columns) or _bare_nulls(source):
            return None   # (an untyped NULL column: cast as the INSERT would, below)
        scratch = self._scratch()
        names = [(f"c{i}", t) for i, (_, t) in enumerate(result.columns)]
        create_typed(scratch, "__source", names)
        load_table(scratch, "__source", result.arrow())
        new = tree.copy()
        new.set("expression", sqlglot.parse_one('SELECT * FROM "__source"', read="postgres"))
        self.last_plan = {"strategy": "source first", "source": source_plan}
        return scratch, new

    def _scratch_for(self, tree: exp.Expression):
        """A fork of the mirror with the rows the statement's source reads gathered in."""
        source = tree.args.get("expression")
        refs = []
        if source is not None:
            refs, has_view = _referenced(source, self._root(),
                                         self.catalog)
            if has_view:
                refs = list(self.catalog)
        return self._gather(refs)

    def _insert_values(self, tree, sql: str, info: TableInfo, values: exp.Values) -> Result:
        groups, order = self._route_values(tree, sql, info, values)
        per_shard = {}
        for s, ts in groups.items():
            part = tree.copy()
            part.args["expression"].set("expressions", [t.copy() for t in ts])
            per_shard[s] = part.sql(dialect="postgres")
        replies = self._write(per_shard)
        result = _combine(replies)
        tuples = values.expressions
        if result.table is not None and tree.args.get("returning") is not None:
            # RETURNING in the order of VALUES (each shard returns its rows in order)
            shards = sorted(replies)
            if result.table.num_rows == len(tuples) and all(
                    _reply_result(replies[s]).table.num_rows == len(order[s])
                    for s in shards):
                at = [i for s in shards for i in order[s]]
                back = sorted(range(len(at)), key=at.__getitem__)
                result = replace(result, table=result.table.take(pa.array(back)))
        return result

    def _route_values(self, tree, sql: str, info: TableInfo, values: exp.Values):
        """The VALUES tuples by the shard of their partition key (computed in a fork
        of the schema: defaults and casts as the engine makes them): ``({shard:
        [tuples]}, {shard: [positions in VALUES]})``; nothing is written."""
        name = info.name
        tuples = values.expressions
        keys = []
        if tree.args.get("conflict") is None:
            scratch = self._scratch()
            scratch.execute(sql)   # defaults, casts, NOT NULL, CHECK: the engine's own errors
            keys = scratch.execute(
                "SELECT " + ", ".join(f'"{k}"' for k in (info.key or info.columns))
                + f' FROM "{name}"').fetchall()
        if len(keys) != len(tuples):   # ON CONFLICT: place the tuples one by one
            keys = []
            plain = tree.copy()
            plain.set("conflict", None)
            plain.set("returning", None)
            for t in tuples:
                one = plain.copy()
                one.args["expression"].set("expressions", [t.copy()])
                s2 = self._scratch()
                s2.execute(one.sql(dialect="postgres"))
                keys.append(s2.execute(
                    "SELECT " + ", ".join(f'"{k}"' for k in (info.key or info.columns))
                    + f' FROM "{name}"').fetchone())
        groups: dict[int, list] = {}
        order: dict[int, list] = {}
        for i, (t, k) in enumerate(zip(tuples, keys)):
            s = shard_of_key(k, self.shards)
            groups.setdefault(s, []).append(t)
            order.setdefault(s, []).append(i)
        return groups, order

    def _run_many(self, sql: str, seq: list) -> int:
        word = _first_word(sql)
        tree = _parse(sql) if word == "insert" else None
        if tree is not None and isinstance(tree.args.get("expression"), exp.Values) and \
                len(tree.args["expression"].expressions) == 1 and with_of(tree) is None:
            target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
            info = self.catalog.get(_table_name(target))
            if info is not None and not info.replicated and seq and \
                    not self._draws_sequence(info):
                scratch = self._scratch()
                scratch.executemany(sql, seq)
                keys = scratch.execute(
                    "SELECT " + ", ".join(f'"{k}"' for k in (info.key or info.columns))
                    + f' FROM "{info.name}"').fetchall()
                if len(keys) == len(seq):
                    return self._many_routed(sql, seq, keys)
        total = 0
        for p in seq:
            r = self._run(sql, p)
            total += max(r.rowcount, 0)
        return total

    def _many_routed(self, sql: str, seq: list, keys: list) -> int:
        b = self.cluster.backend
        groups: dict[int, list] = {}
        for p, k in zip(seq, keys):
            groups.setdefault(shard_of_key(k, self.shards), []).append(_plain(p))
        shards = sorted(groups)
        with self._shard_write(shards) as begin:
            begin()
            total = sum(check(b.call(s, "executemany", self.sid, sql, groups[s]))[4]
                        for s in shards)
        return total

    # ---- UPDATE / DELETE --------------------------------------------------------------------
    def _update_delete(self, sql: str, params) -> Result:
        routed = self._through_view(_parse(sql), sql, params)
        if routed is None:
            return self._gathered(sql, params, "a write through a view WITH CHECK OPTION")
        tree, sql, params = routed
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        target = tree.this
        name = _table_name(target) if isinstance(target, exp.Table) else None
        info = self.catalog.get(name) if name else None
        if info is None:
            self.mirror.execute(sql)   # the engine's own error
            raise errors.undefined_table(str(name))
        self.mirror.execute(sql)       # binds: type and name errors before any shard
        if self._moves_rows(tree, info) and (tree.args.get("returning") is not None or
                                             self._reads_others(tree, name)):
            return self._gathered(sql, None, "UPDATE of a partition key")
        # Other tables read by the statement (FROM, USING, subqueries; the target itself
        # inside a subquery): sharded ones are broadcast to every shard as Arrow inputs.
        inputs, tree, xid = self._broadcast_reads(tree, name)
        try:
            return self._update_delete_on(tree, info, inputs)
        finally:
            self._drop_exchange(xid)

    @staticmethod
    def _moves_rows(tree: exp.Expression, info: TableInfo) -> bool:
        """Does this UPDATE set a partition key column (rows may change shard)?"""
        return bool(isinstance(tree, exp.Update) and not info.replicated and info.key and
                    any(isinstance(e, exp.EQ) and e.this.name in info.key
                        for e in tree.expressions))

    def _reads_others(self, tree: exp.Expression, target: str) -> bool:
        """Does a write read a sharded table other than its own target row (what
        ``_broadcast_reads`` would send to every shard)?"""
        own = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        for t in tree.find_all(exp.Table):
            name = _table_name(t)
            if t is own or name is None or name not in self.catalog:
                continue
            if not self.catalog[name].replicated or name == target:
                return True
        return False

    def _gathered(self, sql: str, params, why: str) -> Result:
        """A write the per-shard plans do not cover, computed over the gathered rows of
        the tables it names and applied as row changes in one 2PC (``gathered.py``)."""
        from .gathered import gathered_write
        tree = _parse(sql)
        if params:
            tree = _inline(tree, params)
            sql = tree.sql(dialect="postgres")
        self._bind_checked(sql)
        refs, has_view = _referenced(tree, self._root(), self.catalog)
        if has_view:
            refs = list(self.catalog)
        return gathered_write(self, sql, refs, why)

    def _bind_checked(self, sql: str):
        """Bind ``sql`` on the mirror and check the session role's privileges for it,
        as executing it there would, without running it (it would write the mirror, or
        compute over its empty tables); returns the engine's prepared statement."""
        session = self.mirror._session
        prepared = session._prepare(sql)
        bound = prepared.bound
        root = self._root()
        if bound is not None and bound.privileges and (session.role or session.auth_user) \
                and root.auth.roles:
            session._check_privileges(root, bound)
        return prepared

    def _update_delete_on(self, tree: exp.Expression, info: TableInfo,
                          inputs: dict | None) -> Result:
        sql = tree.sql(dialect="postgres")
        moves_rows = self._moves_rows(tree, info)
        shards = list(range(self.shards))
        if not info.replicated:
            pinned = _pinned_shard(tree, info, self.shards)
            if pinned is not None and not moves_rows:
                shards = [pinned]
        if moves_rows:
            if inputs:
                raise refuse("UPDATE of a partition key column reading other tables")
            return self._update_key(tree, info, shards)
        replies = self._write({s: sql for s in shards}, inputs_per_shard=inputs)
        if info.replicated:
            return _reply_result(replies[0])
        return _combine(replies)

    def _broadcast_reads(self, tree: exp.Expression, target: str, skip=None):
        """Other tables a write reads (FROM, USING, subqueries; the target itself inside
        a subquery): every sharded one is broadcast to every shard, shard to shard (each
        sends its rows to all the others; a REPLICATED one read as the target goes once,
        from shard 0), and read there as an Arrow input. Returns ``({shard: inputs} or
        None, the statement reading the inputs, the exchange id or None)``."""
        tree, sides = self._broadcast_rewrite(tree, target, skip)
        if not sides:
            return None, tree, None
        xid = self.cluster.new_id("x")
        try:
            received = self._exchange(xid, list(sides.values()), {})
        except BaseException:
            self._drop_exchange(xid)
            raise
        inputs = {s: {name: ("exchange", *got) for name, got in per.items()}
                  for s, per in received.items()}
        return inputs, tree, xid

    def _broadcast_rewrite(self, tree: exp.Expression, target: str, skip=None):
        """The statement reading ``__bcast_<table>`` inputs for the tables
        ``_broadcast_reads`` sends to every shard, and their sides (nothing is sent)."""
        tree = tree.copy()
        own = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        sides: dict[str, Side] = {}
        while True:
            todo = None
            for t in tree.find_all(exp.Table):
                name = _table_name(t)
                if t is own or name is None or name not in self.catalog:
                    continue   # the statement's own target, system and unknown tables
                if self.catalog[name].replicated and name != target:
                    continue   # every shard has all its rows already
                todo = (t, name)
                break
            if todo is None:
                break
            t, name = todo
            alias = f"__bcast_{name}"
            if alias not in sides:
                if self.catalog[name].replicated:
                    sides[alias] = Side(alias, name, None, f'SELECT * FROM "{name}"',
                                        f'SELECT * FROM "{name}" LIMIT 0')
                else:
                    sides[alias] = Side(alias, name, None, None)
            new = t.copy()
            new.set("this", exp.to_identifier(alias))
            new.set("db", None)
            if new.args.get("alias") is None:
                new.set("alias", exp.TableAlias(
                    this=exp.to_identifier(t.name, quoted=t.this.quoted)))
            t.replace(new)
        return tree, sides

    def _drop_exchange(self, xid: str | None) -> None:
        """Forget what exchange ``xid`` left on the shards (the batches of shards a
        statement did not run on, or of a statement that failed)."""
        if xid is None:
            return
        b = self.cluster.backend
        for s in range(self.shards):
            try:
                b.call(s, "drop_exchange", self.sid, xid)
            except errors.Error:
                pass

    def _update_key(self, tree: exp.Update, info: TableInfo, shards: list) -> Result:
        """UPDATE that changes partition keys: update in place on every shard; each
        shard deletes the rows whose new key hashes elsewhere and sends them straight to
        their new shard, which loads them (and checks their uniqueness), all in one
        atomic transaction."""
        if tree.args.get("returning") is not None:
            raise refuse("UPDATE ... RETURNING of a partition key column")
        b = self.cluster.backend
        xid = self.cluster.new_id("x")
        with self._shard_write(shards, xid) as begin:
            begin()
            star = tree.copy()
            star.set("returning", exp.Returning(expressions=[exp.Star()]))
            sql = star.sql(dialect="postgres")
            replies = b.call_all(shards, "move_out", per_shard_args={
                s: (self.sid, xid, sql, info.name, info.key, self.shards) for s in shards})
            for s in shards:
                check(replies[s])
            total = sum(replies[s][1] for s in shards)
            self.write_rows = {s: replies[s][1] for s in shards}
            targets = {t for s in shards for t in replies[s][2]}
            if not targets <= set(shards):
                raise errors.InternalError("cluster: a moved row left the statement's shards")
            self.cluster.ship(*(n for s in shards for n in replies[s][2].values()),
                              between_shards=True)
            tokens = _tokens_by_target(replies[s][3] for s in shards)
            loaded = b.call_all(shards, "load_exchange", per_shard_args={
                t: (self.sid, xid, info.name, tokens.get(t, [])) for t in shards})
            for t in shards:
                check(loaded[t])
        return Result(columns=[], rowcount=total, kind="UPDATE")

