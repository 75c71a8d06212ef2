"""Which columns of which relations a statement uses, per privilege: what a role holding
only column privileges (``GRANT SELECT (a) ON t``) needs, as PostgreSQL checks them.

PostgreSQL marks, while it analyses a statement, the columns each relation has
*selected* (read anywhere: select list, WHERE, JOIN ... ON/USING, GROUP BY, ORDER BY,
RETURNING, subqueries; ``*`` and a whole-row ``t`` are every column), *inserted* and
*updated*; a statement is allowed when the role holds the table's privilege, or the
column's privilege on every marked column (on any one column when none is marked:
``SELECT count(*) FROM t``, ``INSERT ... DEFAULT VALUES``); a foreign key needs
*references* on the parent's columns it names. An INSERT without a column
list targets as many leading columns as its source gives values (``*`` expanded, set
operations, CTEs and functions followed); an UPDATE's SET columns are updated, and
what its expressions, WHERE and RETURNING read is selected (MERGE alike).

This is worked out from the statement's syntax tree (``column_uses``), and only when a
table privilege is missing and the table has column grants (auth/check.py): statements
of superusers and table-privileged roles never come here. The names are resolved as
the binder resolved them (it already refused anything ambiguous or unknown). A
statement or FROM item this module does not follow raises ``Unknown`` (the check then
denies), and the clauses of a node it has no rule for are walked as reads all the same
(``_rest``): what it does not understand makes it refuse more, not allow more.
"""
from __future__ import annotations

from sqlglot import exp

SELECT, INSERT, UPDATE = "SELECT", "INSERT", "UPDATE"
_QUERIES = (exp.Select, exp.Union, exp.Intersect, exp.Except)


class Unknown(Exception):
    """A statement shape whose column uses are not worked out here."""


class _Source:
    """A FROM item as the query's names see it: ``relation`` None for derived ones
    (subqueries, CTEs, functions, EXCLUDED), whose columns need no privilege."""
    __slots__ = ("alias", "relation", "names", "real")

    def __init__(self, alias, relation, names, real=None) -> None:
        self.alias, self.relation, self.names = alias, relation, list(names)
        self.real = list(real) if real is not None else self.names


class Uses:
    """The result: ``out[(relation, privilege)]`` the set of columns marked; ``targets``
    the relations an INSERT/UPDATE/DELETE writes (reading none of their columns needs
    no SELECT there)."""

    def __init__(self, columns_of, constraint_columns=None) -> None:
        self.columns_of = columns_of     # relation -> column names, None: no relation
        # (table, constraint name) -> the columns of its PRIMARY KEY or UNIQUE constraint;
        # (table, None) -> its primary key's (None: no such table or key)
        self.constraint_columns = constraint_columns
        self.out: dict = {}
        self.targets: set = set()
        self.ctes: list = []

    # ---- statements ----------------------------------------------------------------------
    def statement(self, node) -> None:
        if isinstance(node, (*_QUERIES, exp.Subquery, exp.Values)):
            self.query(node, [])         # its WITH is the query's own
            return
        with_ = node.args.get("with_") if isinstance(node, exp.Expression) else None
        self._push_ctes(with_)
        if isinstance(node, exp.Insert):
            self._insert(node)
        elif isinstance(node, exp.Update):
            self._update(node)
        elif isinstance(node, exp.Delete):
            self._delete(node)
        elif isinstance(node, exp.Merge):
            self._merge(node)
        elif isinstance(node, exp.Copy):
            self._copy(node)
        elif isinstance(node, (exp.Create, exp.Alter)):
            self._references(node)
        else:
            raise Unknown(type(node).__name__)
        if with_ is not None:
            self.ctes.pop()

    def _target(self, table) -> _Source:
        if not isinstance(table, exp.Table) or isinstance(table.this, exp.Func):
            raise Unknown("target")
        names = self.columns_of(table.name)
        if names is None:
            raise Unknown("target")
        self.targets.add(table.name)
        return _Source(table.alias_or_name, table.name, names)

    def _insert(self, node) -> None:
        schema = node.this
        table = schema.this if isinstance(schema, exp.Schema) else schema
        target = self._target(table)
        source = node.expression
        # the source's output columns (``*`` expanded); none for DEFAULT VALUES
        given = self.query(source, []) if source is not None else []
        if isinstance(schema, exp.Schema):
            cols = [i.name for i in schema.expressions]
        else:       # as many leading columns as the source gives values
            cols = target.names[:len(given)]
        self.out.setdefault((target.relation, INSERT), set()).update(cols)
        frame = [target, _Source("excluded", None, target.names)]
        conflict = node.args.get("conflict")
        if conflict is not None:
            constraint = conflict.args.get("constraint")
            if constraint is not None:     # its arbiter's columns are read
                cols = self.constraint_columns(target.relation, constraint.name) \
                    if self.constraint_columns is not None else None
                if cols is None:
                    raise Unknown("ON CONFLICT ON CONSTRAINT")
                self.out.setdefault((target.relation, SELECT), set()).update(cols)
            self.exprs(conflict.args.get("conflict_keys"), frame, [])
            for item in conflict.expressions:
                self._set_item(item, target, frame, [])
            self.exprs(conflict.args.get("where"), frame, [])
        self._returning(node, frame[:1])
        self._rest(node, ("this", "expression", "conflict", "returning", "with_"), frame[:1],
                   [])

    def _returning(self, node, frame) -> None:
        """RETURNING reads what it names; ``*`` every column of the FROM items."""
        returning = node.args.get("returning")
        for item in returning.expressions if returning is not None else ():
            if isinstance(item, exp.Star):
                for s in frame:
                    self._all(s)
            else:
                self.exprs(item, frame, [])

    def _set_item(self, item, target: _Source, frame, outer) -> None:
        if not isinstance(item, exp.EQ):
            raise Unknown("SET")
        lhs = item.this.expressions if isinstance(item.this, exp.Tuple) else [item.this]
        for col in lhs:
            if not isinstance(col, exp.Column):
                raise Unknown("SET")
            self.out.setdefault((target.relation, UPDATE), set()).add(col.name)
        self.exprs(item.expression, frame, outer)

    def _update(self, node) -> None:
        target = self._target(node.this)
        frame = [target]
        from_ = node.args.get("from_")
        if from_ is not None:
            self._from_items(from_, node.args.get("joins"), frame, [])
        for item in node.expressions:
            self._set_item(item, target, frame, [])
        self.exprs(node.args.get("where"), frame, [])
        self._returning(node, frame)
        self._rest(node, ("this", "expressions", "from_", "joins", "where", "returning",
                          "with_"), frame, [])

    def _delete(self, node) -> None:
        frame = [self._target(node.this)]
        for item in node.args.get("using") or ():
            self._source(item, frame, [])
        self.exprs(node.args.get("where"), frame, [])
        self._returning(node, frame)
        self._rest(node, ("this", "using", "where", "returning", "with_"), frame, [])

    def _merge(self, node) -> None:
        """MERGE: the ON condition and the WHEN clauses read; UPDATE SET's columns are
        updated, INSERT's inserted (a NOT MATCHED clause sees the source alone)."""
        target = self._target(node.this)
        source: list = []
        self._source(node.args.get("using"), source, [])
        both = [target, *source]
        self.exprs(node.args.get("on"), both, [])
        whens = node.args.get("whens")
        for when in whens.expressions if isinstance(whens, exp.Whens) else whens or ():
            frame = both if when.args.get("matched") else source
            self.exprs(when.args.get("condition"), frame, [])
            then = when.args.get("then")
            if isinstance(then, exp.Update):
                for item in then.expressions:
                    self._set_item(item, target, frame, [])
            elif isinstance(then, exp.Insert):
                values = then.expression
                n = len(values.expressions) if isinstance(values, exp.Tuple) else 0
                cols = [c.name for c in then.this.expressions] \
                    if isinstance(then.this, exp.Tuple) else target.names[:n]
                self.out.setdefault((target.relation, INSERT), set()).update(cols)
                self.exprs(values, frame, [])
            elif not isinstance(then, exp.Var):     # DELETE, DO NOTHING
                raise Unknown("MERGE action")
        self._rest(node, ("this", "using", "on", "whens", "with_"), both, [])

    def _references(self, node) -> None:
        """CREATE TABLE / ALTER TABLE: a foreign key needs REFERENCES on the columns it
        names, or on the parent's primary key columns when it names none; CREATE TABLE
        AS reads its query."""
        for ref in node.find_all(exp.Reference):
            target = ref.this
            if isinstance(target, exp.Schema) and target.expressions:
                table, cols = target.this.name, [i.name for i in target.expressions]
            else:
                table = target.this.name if isinstance(target, exp.Schema) else target.name
                cols = self.constraint_columns(table, None) \
                    if self.constraint_columns is not None else None
                if cols is None:
                    raise Unknown("REFERENCES a table without a primary key")
            self.out.setdefault((table, "REFERENCES"), set()).update(cols)
        query = node.args.get("expression")
        if isinstance(query, (*_QUERIES, exp.Subquery)):
            self.query(query, [])

    def _copy(self, node) -> None:
        this = node.this
        if isinstance(this, exp.Subquery) or isinstance(this, _QUERIES):
            self.query(this, [])
            return
        table = this.this if isinstance(this, exp.Schema) else this
        names = self.columns_of(table.name) if isinstance(table, exp.Table) else None
        if names is None:
            raise Unknown("COPY")
        cols = [i.name for i in this.expressions] if isinstance(this, exp.Schema) else names
        self.out.setdefault((table.name, INSERT if node.args.get("kind") else SELECT),
                            set()).update(cols)

    # ---- queries -------------------------------------------------------------------------
    def query(self, node, outer) -> list:
        """Mark what ``node`` reads; its output column names."""
        if isinstance(node, exp.Subquery):
            return self.query(node.this, outer)
        if isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
            with_ = node.args.get("with_")
            self._push_ctes(with_)
            names = self.query(node.left, outer)
            self.query(node.right, outer)
            # ORDER BY names output columns; its subqueries (and LIMIT's) read
            self._rest(node, ("this", "expression", "with_"), [], outer)
            if with_ is not None:
                self.ctes.pop()
            return names
        if isinstance(node, exp.Values):
            self.exprs(node.expressions, [], outer)
            first = node.expressions[0] if node.expressions else None
            n = len(first.expressions) if isinstance(first, exp.Tuple) else 1
            return [f"column{i}" for i in range(1, n + 1)]
        if isinstance(node, exp.Table) and node.args.get("joins"):
            frame: list = []
            self._from_items(exp.From(this=node.copy()), None, frame, outer)
            return [n for s in frame for n in s.names]
        if not isinstance(node, exp.Select):
            raise Unknown(type(node).__name__)
        with_ = node.args.get("with_")
        self._push_ctes(with_)
        frame = []
        from_ = node.args.get("from_")
        if from_ is not None or node.args.get("joins"):
            self._from_items(from_, node.args.get("joins"), frame, outer)
        names = []
        for item in node.expressions:
            if isinstance(item, exp.Star):
                for s in frame:
                    self._all(s)
                    names.extend(s.names)
                continue
            self.exprs(item, frame, outer)
            if isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
                names.extend(n for s in frame if s.alias == item.table for n in s.names)
            else:
                names.append(item.alias_or_name)
        aliases = {item.alias for item in node.expressions if isinstance(item, exp.Alias)}
        for key, value in node.args.items():
            if key == "order" and value is not None and aliases:
                # ORDER BY name: an output column's name means that column (read above)
                value = [o for o in value.expressions
                         if not (isinstance(o.this, exp.Column) and not o.this.table
                                 and o.this.name in aliases)]
            if key not in ("expressions", "from_", "joins", "with_"):
                self.exprs(value, frame, outer)
        if with_ is not None:
            self.ctes.pop()
        return names

    def _from_items(self, from_, joins, frame: list, outer) -> None:
        items = [from_.this] if from_ is not None else []
        for item in items:
            self._source(item, frame, outer)
        for join in joins or ():
            before = len(frame)
            self._source(join.this, frame, outer)
            self.exprs(join.args.get("on"), frame, outer)
            self._rest(join, ("this", "on", "using"), frame, outer)
            names = [i.name for i in join.args.get("using") or ()]
            if (join.args.get("method") or "").upper() == "NATURAL":
                left = {n for s in frame[:before] for n in s.names}
                names = [n for s in frame[before:] for n in s.names if n in left]
            for name in names:
                for s in frame:      # USING and NATURAL compare both sides' columns
                    if name in s.names:
                        self._mark(s, name)

    def _source(self, item, frame: list, outer) -> None:
        alias = item.args.get("alias")
        renamed = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) \
            and alias.columns else None
        name = item.alias_or_name
        if isinstance(item, exp.Table) and not isinstance(item.this, exp.Func):
            if item.args.get("joins"):       # FROM (a JOIN b ...) spelled as a table
                inner = item.copy()
                inner.set("joins", None)
                self._from_items(exp.From(this=inner), item.args["joins"], frame, outer)
                return
            cte = self._cte(item.name) if not item.db else None
            if cte is not None:
                frame.append(_Source(name, None, _renamed(cte, renamed)))
                return
            cols = self.columns_of(item.name)
            if cols is None:               # a catalog, ROWS FROM (...), a notebook variable
                self._rest(item, ("this", "db", "catalog", "alias"), frame, outer)
                frame.append(_Source(name, None, renamed or []))
                return
            self.out.setdefault((item.name, SELECT), set())
            self._rest(item, ("this", "db", "catalog", "alias"), frame, outer)
            frame.append(_Source(name, item.name, _renamed(cols, renamed), cols))
            return
        if isinstance(item, exp.Table):      # a function in FROM: generate_series(...)
            self._rest(item, ("alias",), frame, outer)
            frame.append(_Source(name, None, renamed or [name]))
            return
        if isinstance(item, exp.Lateral):
            inner = item.this
            if isinstance(inner, (exp.Subquery, *_QUERIES)):
                names = self.query(inner, [frame, *outer])
            else:
                self.exprs(inner, frame, outer)
                names = [name]
            self._rest(item, ("this", "alias"), frame, outer)
            frame.append(_Source(name, None, _renamed(names, renamed)))
            return
        if isinstance(item, exp.Subquery):
            if isinstance(item.this, exp.Table) and item.this.args.get("joins"):
                self._source(item.this, frame, outer)
                return
            names = self.query(item.this, [frame, *outer])
            self._rest(item, ("this", "alias"), frame, outer)
            frame.append(_Source(name, None, _renamed(names, renamed)))
            return
        if isinstance(item, exp.Values):
            names = self.query(item, [frame, *outer])
            frame.append(_Source(name, None, _renamed(names, renamed)))
            return
        if isinstance(item, exp.Unnest):
            self._rest(item, ("alias",), frame, outer)
            frame.append(_Source(name, None, renamed or [name]))
            return
        raise Unknown(type(item).__name__)

    # ---- expressions ---------------------------------------------------------------------
    def _rest(self, node, handled: tuple, frame: list, outer) -> None:
        """Every part of ``node`` not followed above is walked too, read in ``frame``: a
        clause this module does not know can only mark more columns, never slip past."""
        for key, value in node.args.items():
            if key not in handled:
                self.exprs(value, frame, outer)

    def exprs(self, value, frame: list, outer) -> None:
        if value is None:
            return
        if isinstance(value, list):
            for v in value:
                self.exprs(v, frame, outer)
            return
        if not isinstance(value, exp.Expression):
            return
        stack = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, _QUERIES):
                self.query(node, [frame, *outer])
            elif isinstance(node, exp.Column):
                self._column(node, frame, outer)
            else:
                stack.extend(node.iter_expressions())

    def _column(self, node: exp.Column, frame, outer) -> None:
        table, star = node.table, isinstance(node.this, exp.Star)
        name = None if star else node.name
        for scope in (frame, *outer):
            if table:
                found = next((s for s in scope if s.alias == table), None)
                if found is None:
                    continue
                if star:
                    self._all(found)
                elif name in found.names:
                    self._mark(found, name)
                return
            hit = next((s for s in scope if name in s.names), None)
            if hit is not None:
                self._mark(hit, name)
                return
            whole = next((s for s in scope if s.alias == name), None)
            if whole is not None:            # SELECT t FROM t: the whole row
                self._all(whole)
                return
        # not a column of any FROM item: an output name (ORDER BY x), a keyword

    def _mark(self, source: _Source, name: str, priv: str = SELECT) -> None:
        if source.relation is not None:
            real = source.real[source.names.index(name)]
            self.out.setdefault((source.relation, priv), set()).add(real)

    def _all(self, source: _Source) -> None:
        if source.relation is not None:
            self.out.setdefault((source.relation, SELECT), set()).update(source.real)

    # ---- WITH ----------------------------------------------------------------------------
    def _push_ctes(self, with_) -> None:
        if with_ is None:
            return
        frame: dict = {}
        self.ctes.append(frame)
        for cte in with_.expressions:
            alias = cte.args.get("alias")
            declared = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) \
                and alias.columns else None
            if declared is not None:         # a recursive query may read itself
                frame[cte.alias_or_name] = declared
            body = cte.this
            if isinstance(body, (exp.Insert, exp.Update, exp.Delete)):
                self.statement(body)
                names = [e.alias_or_name for e in
                         (body.args.get("returning").expressions
                          if body.args.get("returning") is not None else [])]
            else:
                names = self.query(body, [])
            frame[cte.alias_or_name] = _renamed(names, declared)

    def _cte(self, name: str):
        for frame in reversed(self.ctes):
            if name in frame:
                return frame[name]
        return None


def _renamed(names: list, renamed: list | None) -> list:
    """A FROM item's column names with its alias's column list applied: the first
    ones renamed, the rest kept."""
    if not renamed:
        return list(names)
    return list(renamed) + list(names[len(renamed):])


def column_uses(ast, columns_of, constraint_columns=None) -> Uses:
    """The column uses of a statement's tree; ``columns_of(relation)`` gives a table's
    or view's column names (None: not one), ``constraint_columns(table, name)`` a
    constraint's (ON CONFLICT ON CONSTRAINT). Raises ``Unknown``."""
    uses = Uses(columns_of, constraint_columns)
    uses.statement(ast)
    return uses
