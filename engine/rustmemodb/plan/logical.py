"""Logical plan nodes: a tree of relational operators over typed columns.

Each node lists its output ``columns`` as (name, SQL type) pairs; expressions
inside a node refer to its *input* columns by position. The executor maps each
node class to a physical operator (``exec/run.py``); EXPLAIN renders the same
tree (``plan/explain.py``). Nodes are plain dataclasses: optimizer rules build
new trees rather than mutating them.

Example: ``SELECT b, count(*) FROM t WHERE a > 1 GROUP BY b ORDER BY 2 DESC``

    Sort [#1 DESC]
    └── Project [b, count]
        └── Aggregate groups=[b] aggs=[count(*)]
            └── Filter (a > 1)
                └── Scan t
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .expr import ColRef, remap_columns

Columns = list  # list[tuple[str, str]]: (name, sql type)

# Live rows in a scanned table up to which a plan runs on Python tuples (the row path,
# exec/row_ops.py). Measured (2-core VM, a filter and a GROUP BY of 3 columns): row path
# 19/24 µs at 16 rows, 105/65 at 64, 299/248 at 256; vectorised 120-360 µs at every size
# up to 2k rows. The paths cross between 100 and 200 rows. The optimizer leaves the
# columns of plans over such tables unpruned (optimize/prune_columns.py), and a cached
# plan made for them is made again once one has grown past it (sql/plan_cache.py).
SMALL_ROWS = 128


@dataclass
class LogicalNode:
    columns: Columns

    def children(self) -> list["LogicalNode"]:
        return []

    @property
    def names(self) -> list[str]:
        return [c[0] for c in self.columns]

    @property
    def types(self) -> list[str]:
        return [c[1] for c in self.columns]


@dataclass
class LogicalScan(LogicalNode):
    table: str
    alias: str | None = None
    with_rowid: bool = False             # adds a trailing _rowid column (for UPDATE/DELETE)
    filter: Any = None                   # pushed-down predicate over the table's columns
    index_lookup: Any = None             # set by optimize.use_index: (index name, key exprs)
    projection: Any = None               # table column positions to output (prune_columns);
                                         # None = all. ``filter`` still reads table positions.


@dataclass
class LogicalArrowScan(LogicalNode):
    """A registered pandas/Arrow object read in place (replacement scan)."""
    name: str
    data: Any                            # pyarrow.Table


@dataclass
class LogicalVirtualScan(LogicalNode):
    """A catalog view (``information_schema.tables``...) computed from the root read."""
    schema: str
    name: str
    table: Any                           # catalog.virtual.VirtualTable
    who: tuple = (None, None)            # (database, user) names of the session, if set
    live: Any = None                     # fn() -> rows: the session's own (VirtualTable.session_rows)

    def describe(self) -> str:
        return f"on {self.schema}.{self.name}"


@dataclass
class LogicalValues(LogicalNode):
    rows: list                           # list[list[Expr]]


@dataclass
class LogicalFilter(LogicalNode):
    child: LogicalNode
    predicate: Any

    def children(self):
        return [self.child]


@dataclass
class LogicalLockRows(LogicalNode):
    """SELECT ... FOR UPDATE / SHARE: the rows ``source`` yields (a scan of ``table``
    with rowids, filtered by the query's WHERE) are locked in the transaction, then
    ``child`` (the query itself) runs on the same snapshot. SKIP LOCKED (``wait`` =
    'skip') has no ``source``: ``child`` runs without the rows others hold and ends
    with a ``_rowid`` column, the rows to lock, which the output drops."""
    child: LogicalNode
    table: str
    source: LogicalNode | None
    exclusive: bool = True               # FOR [NO KEY] UPDATE (else FOR [KEY] SHARE)
    wait: str = "check"                  # 'check' | 'nowait' | 'skip'

    def children(self):
        return [self.child] if self.source is None else [self.child, self.source]

    def describe(self) -> str:
        return self.table if self.wait == "check" else \
            f"{self.table} {'SKIP LOCKED' if self.wait == 'skip' else 'NOWAIT'}"


@dataclass
class LogicalProject(LogicalNode):
    child: LogicalNode
    exprs: list

    def children(self):
        return [self.child]


@dataclass
class LogicalAggregate(LogicalNode):
    """Output: one column per group expression, then one per aggregate."""
    child: LogicalNode
    groups: list
    aggregates: list                     # list[AggCall]
    grouping_sets: Any = None            # reserved for ROLLUP/CUBE

    def children(self):
        return [self.child]


@dataclass
class LogicalSort(LogicalNode):
    child: LogicalNode
    keys: list                           # list[(Expr, descending, nulls_first)]
    limit: Any = None                    # top-k hint set by the optimizer

    def children(self):
        return [self.child]


@dataclass
class LogicalLimit(LogicalNode):
    child: LogicalNode
    limit: Any                           # Expr or None
    offset: Any                          # Expr or None

    def children(self):
        return [self.child]


@dataclass
class LogicalDistinct(LogicalNode):
    child: LogicalNode
    on: list | None = None               # DISTINCT ON expressions (None = whole row)

    def children(self):
        return [self.child]


@dataclass
class LogicalDistinctOn(LogicalNode):
    """DISTINCT ON: the first row (in input order) of each group of ``keys``."""
    child: LogicalNode
    keys: list                           # list[Expr] over the child's columns

    def children(self):
        return [self.child]


@dataclass
class LogicalJoin(LogicalNode):
    left: LogicalNode
    right: LogicalNode
    kind: str                            # inner | left | right | full | cross | semi | anti
    condition: Any = None                # over left columns ++ right columns
    equi_keys: list = field(default_factory=list)   # [(left expr, right expr)], by optimizer
    index_probe: Any = None              # unique index of the right scan probed per left row
                                         # (use_index_join), instead of hashing the right side

    def children(self):
        return [self.left, self.right]


@dataclass
class LogicalSample(LogicalNode):
    """TABLESAMPLE / USING SAMPLE: a random subset of the child's rows, order kept.

    ``method`` is bernoulli (each row with probability percent/100), system (each
    block of ``exec.operators.sample.BLOCK_ROWS`` consecutive rows with that
    probability) or reservoir (exactly ``rows`` rows, or all when fewer). ``seed``
    (REPEATABLE) makes the choice deterministic for the same input rows."""
    child: LogicalNode
    method: str                          # bernoulli | system | reservoir
    percent: Any = None                  # Expr (percentage, 0-100) for bernoulli/system
    rows: Any = None                     # Expr (row count) for reservoir
    seed: Any = None                     # Expr or None

    def children(self):
        return [self.child]

    def describe(self) -> str:
        size = f"{self.percent}%" if self.percent is not None else f"{self.rows} rows"
        seed = f" repeatable {self.seed}" if self.seed is not None else ""
        return f"{self.method} {size}{seed}"


@dataclass
class LogicalSetOp(LogicalNode):
    left: LogicalNode
    right: LogicalNode
    kind: str                            # union | intersect | except
    all: bool = False

    def children(self):
        return [self.left, self.right]


@dataclass
class LogicalWindow(LogicalNode):
    """Output: the input columns followed by one column per window function."""
    child: LogicalNode
    functions: list                      # list[WindowCall]

    def children(self):
        return [self.child]


@dataclass
class LogicalWithWrites(LogicalNode):
    """A statement whose WITH holds INSERT/UPDATE/DELETE queries (``WITH d AS (DELETE
    ... RETURNING *) INSERT INTO log SELECT * FROM d``): ``writes``, references to those
    CTEs, run first, each once and in order, whether or not anything reads them; their
    RETURNING rows are what the references give. Then ``child``, the statement."""
    child: LogicalNode
    writes: tuple = ()

    def children(self):
        return [self.child]

    def explain_children(self):
        return [w.cte.plan for w in self.writes] + [self.child]

    def describe(self) -> str:
        return ", ".join(w.name for w in self.writes)


@dataclass
class LogicalCTERef(LogicalNode):
    """A reference to a materialised CTE (or the working table of a recursive one)."""
    name: str
    cte: Any


@dataclass
class LogicalRecursiveCTE(LogicalNode):
    name: str
    anchor: LogicalNode
    recursive: LogicalNode
    union_all: bool
    cte: Any

    def children(self):
        return [self.anchor, self.recursive]


# ---- statements that change data -------------------------------------------------------

@dataclass
class OnConflict:
    """INSERT ... ON CONFLICT: what happens to a proposed row that collides on a unique key.

    ``arbiters`` are the unique indexes whose collision counts as a conflict (the ones
    matching the conflict target, or None = every unique index, for ``DO NOTHING``
    without a target); a collision on any other unique index is still ``23505``.
    ``assignments`` and ``where`` (``DO UPDATE``) are expressions over the existing
    row followed by the proposed row (``excluded``): positions ``0..w-1`` and ``w..2w-1``.
    Executed by exec/operators/upsert.py.
    """
    action: str                          # "nothing" | "update"
    arbiters: list | None                # unique index names, or None = all of them
    target: str = ""                     # the conflict target as written, for EXPLAIN
    assignments: dict = field(default_factory=dict)   # column position -> Expr
    where: Any = None                    # DO UPDATE ... WHERE, or None
    width: int = 0                       # the table's column count (where excluded starts)
    alias: str = ""                      # the existing row's name (table or AS alias)

    def describe(self) -> str:
        """``on conflict (id) do update, arbiter t_pkey, filter: (t.v < excluded.v)``."""
        out = f"on conflict{' ' + self.target if self.target else ''} do {self.action}"
        if self.arbiters:
            out += ", arbiter " + ", ".join(self.arbiters)
        if self.where is not None:
            w, alias = self.width, self.alias

            def qualified(c):
                prefix = "excluded." if c.index >= w else f"{alias}."
                return ColRef(c.index, c.type, prefix + c.name)
            out += f", filter: {remap_columns(self.where, qualified)}"
        return out


@dataclass
class LogicalInsert(LogicalNode):
    table: str
    source: LogicalNode                  # produces values for `targets`
    targets: list                        # table column positions fed by the source
    defaults: dict                       # column position -> Expr for omitted columns
    returning: Any = None                # list[Expr] over the full new row, or None
    on_conflict: OnConflict | None = None

    def children(self):
        return [self.source]


@dataclass
class LogicalUpdate(LogicalNode):
    """UPDATE [... FROM]: ``source`` yields the old row, its _rowid, then (UPDATE ... FROM)
    the columns of the FROM items, one row per target row. ``assignments`` and
    ``returning`` read that layout, except that ``returning`` sees the *new* values
    in the target's positions."""
    table: str
    source: LogicalNode                  # scan with_rowid (+ filter): old row ++ _rowid [++ FROM]
    assignments: dict                    # column position -> Expr over the source row
    returning: Any = None

    def children(self):
        return [self.source]


@dataclass
class MergeAction:
    """One WHEN clause of MERGE: for source rows that did (``matched``) or did not find a
    target row and meet ``condition``, ``kind`` 'update' (``assignments``), 'delete',
    'insert' (``values`` for ``targets``, ``defaults`` for the rest) or 'nothing'."""
    matched: bool
    kind: str
    condition: Any = None
    assignments: dict = field(default_factory=dict)
    targets: list = field(default_factory=list)
    values: list = field(default_factory=list)
    defaults: dict = field(default_factory=dict)


@dataclass
class LogicalMerge(LogicalNode):
    """MERGE INTO table USING source ON ...: ``source`` yields each source row (its
    ``source_width`` columns) joined LEFT to its target row ++ _rowid (NULLs: no match);
    each row takes the first action whose kind of match and condition it meets."""
    table: str
    source: LogicalNode
    source_width: int
    actions: list                        # [MergeAction], in WHEN order
    returning: Any = None

    def children(self):
        return [self.source]


@dataclass
class LogicalDelete(LogicalNode):
    """DELETE [... USING]: ``source`` yields old row ++ _rowid [++ USING columns], one row
    per target row; ``returning`` reads that layout."""
    table: str
    source: LogicalNode                  # scan with_rowid (+ filter) [joined with USING]
    returning: Any = None

    def children(self):
        return [self.source]


@dataclass
class LogicalViewCheck(LogicalNode):
    """INSERT/UPDATE through a view WITH CHECK OPTION (sql/bind/view_dml.py): ``child``,
    the statement on the base table, returns the user's RETURNING items, one boolean per
    view condition and then the base row (columns ``row`` = (start, end)). ``checks``:
    (view, column) in the order checked; a row whose condition is not true is 44000.
    Outputs the user's RETURNING columns; ``returning`` is their expressions, or None."""
    child: LogicalNode
    checks: tuple = ()
    row: tuple = (0, 0)
    returning: Any = None

    def children(self):
        return [self.child]

    def describe(self) -> str:
        return ", ".join(view for view, _ in self.checks)


# ---- LATERAL and set-returning functions in FROM ----------------------------------------

@dataclass
class LogicalLateralJoin(LogicalNode):
    """``left [LEFT] JOIN LATERAL right``: ``right`` is re-planned per left row.

    ``right`` is a ``SubqueryExpr`` of kind ``lateral``: its plan reads the left
    columns listed in ``correlated`` through OuterRefs (a frame per distinct
    combination, as for correlated subqueries). Output: left columns ++ right
    columns; ``condition`` (over that layout) filters, and for ``left`` a left row
    with no surviving match is kept once with NULLs. Executed by
    exec/operators/lateral.py.
    """
    left: LogicalNode
    right: Any                           # SubqueryExpr(kind="lateral")
    kind: str = "inner"                  # inner | left
    condition: Any = None

    def children(self):
        return [self.left]

    def explain_children(self):
        return [self.left, self.right.plan]

    def describe(self) -> str:
        keys = ", ".join(str(c) for c in self.right.correlated)
        out = f"{self.kind}, per ({keys})"
        return out + (f", filter: {self.condition}" if self.condition is not None else "")


@dataclass
class LogicalTableFunction(LogicalNode):
    """A set-returning function in FROM whose arguments are known only at run time
    (``generate_series(1, t.n)``, ``unnest(t.arr)``): evaluated by
    exec/operators/table_function.py, once per outer frame when under LATERAL."""
    function: str                        # generate_series | unnest | regexp_matches
    args: list                           # list[Expr] (constants, parameters, OuterRefs)
    ordinality: bool = False             # WITH ORDINALITY: a trailing 1-based INTEGER column

    def describe(self) -> str:
        return f"{self.function}({', '.join(map(str, self.args))})" + \
            (" with ordinality" if self.ordinality else "")


# ---- files --------------------------------------------------------------------------------

@dataclass
class LogicalFileScan(LogicalNode):
    """``read_csv``/``read_parquet``/``read_json`` or the source of ``COPY ... FROM``:
    the files (already resolved and checked against the file root) read as
    ``columns`` (exec/operators/file_scan.py, exec/files.py)."""
    format: str                          # csv | text | parquet | json
    paths: list                          # absolute paths
    options: tuple = ()                  # ((name, value), ...)

    def describe(self) -> str:
        shown = self.paths[0] if len(self.paths) == 1 else f"{len(self.paths)} files"
        return f"{self.format} {shown}"


@dataclass
class LogicalCopyTo(LogicalNode):
    """``COPY table | (query) TO 'file' (FORMAT ...)``: writes ``child``'s rows;
    no output columns, the row count is the statement's."""
    child: LogicalNode
    path: str
    format: str
    options: tuple = ()

    def children(self):
        return [self.child]

    def describe(self) -> str:
        return f"{self.format} {self.path}"


@dataclass
class LogicalProjectSet(LogicalNode):
    """Set-returning functions in the select list (``SELECT id, unnest(tags) FROM t``):
    the child (the select-list projection) holds an array at each of ``positions``;
    each input row becomes as many rows as its longest such array, the arrays' elements
    side by side (shorter ones padded with NULL), the other columns repeated. A row
    whose arrays are all empty or NULL yields none, as in PostgreSQL."""
    child: LogicalNode
    positions: list

    def children(self):
        return [self.child]
