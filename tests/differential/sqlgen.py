"""Hypothesis strategies: small random tables and queries, rendered to SQL.

Values come from small domains so that comparisons hit equal values and NULLs often:
integers -5..5, floats from a set of exactly representable values, short ASCII
strings.  Expressions stay clear of the places where DuckDB and PostgreSQL differ:

* no integer ``/`` (DuckDB divides integers as floats), ``%`` only by non-zero
  constants, ``/`` only on FLOAT by powers of two;
* every ORDER BY key names its NULL placement (DuckDB defaults to NULLS LAST for DESC);
* LIKE patterns contain no backslash (DuckDB has no default escape character);
* no min/max of booleans, no bare NULL literals outside IN lists;
* magnitudes stay far from int64 overflow.

Rendering takes a type map so the same case can be created as INTEGER/FLOAT (rustmemodb),
BIGINT/DOUBLE (DuckDB), BIGINT/DOUBLE PRECISION (PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

INT, FLOAT, TEXT, BOOL = "INTEGER", "FLOAT", "TEXT", "BOOLEAN"
COLUMN_TYPES = (INT, FLOAT, TEXT)
NUMERIC = (INT, FLOAT)

INT_DOMAIN = st.integers(-5, 5)
FLOAT_DOMAIN = st.sampled_from([-2.5, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 3.0, 4.75])
TEXT_DOMAIN = st.sampled_from(["", "a", "b", "ab", "ba", "B", "Ab", "abc", "a b", "x_y", "5%"])
LIKE_PATTERNS = st.sampled_from(["a%", "%b", "%a%", "_", "__", "a_", "%", "", "A%", "x!_y", "5%"])
DOMAINS = {INT: INT_DOMAIN, FLOAT: FLOAT_DOMAIN, TEXT: TEXT_DOMAIN}

RUSTMEMODB_TYPES = {INT: "INTEGER", FLOAT: "FLOAT", TEXT: "TEXT"}
DUCKDB_TYPES = {INT: "BIGINT", FLOAT: "DOUBLE", TEXT: "VARCHAR"}
POSTGRES_TYPES = {INT: "BIGINT", FLOAT: "DOUBLE PRECISION", TEXT: "TEXT"}


def literal(value: object) -> str:
    """A SQL literal; negative numbers are parenthesised (``x - (-3)``, never ``--3``)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return f"({text})" if value < 0 else text
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass
class Table:
    name: str
    columns: list[Column]
    rows: list[tuple] = field(default_factory=list)

    def ddl(self, type_map: dict[str, str]) -> str:
        cols = ", ".join(f"{c.name} {type_map[c.type]}" for c in self.columns)
        return f"CREATE TABLE {self.name} ({cols})"

    def insert(self) -> str | None:
        if not self.rows:
            return None
        values = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in self.rows)
        return f"INSERT INTO {self.name} VALUES {values}"

    def setup_sql(self, type_map: dict[str, str]) -> list[str]:
        out = [self.ddl(type_map)]
        ins = self.insert()
        if ins:
            out.append(ins)
        return out


@dataclass
class Case:
    """Tables plus one query; ``ordered`` when the query's row order is determined."""

    tables: list[Table]
    query: str
    ordered: bool = False

    def setup_sql(self, type_map: dict[str, str]) -> list[str]:
        return [sql for t in self.tables for sql in t.setup_sql(type_map)]

    def describe(self) -> str:
        lines = self.setup_sql(RUSTMEMODB_TYPES) + [self.query]
        return ";\n".join(lines) + ";"


# -- tables -------------------------------------------------------------------------


@st.composite
def tables(draw, name: str = "t", prefix: str = "c", min_rows: int = 0, max_rows: int = 10):
    ncols = draw(st.integers(1, 4))
    columns = [Column(f"{prefix}{i}", draw(st.sampled_from(COLUMN_TYPES))) for i in range(ncols)]
    nrows = draw(st.integers(min_rows, max_rows))
    rows = []
    for _ in range(nrows):
        row = tuple(
            draw(st.one_of(st.none(), DOMAINS[c.type]) if draw(st.integers(0, 4)) == 0 else DOMAINS[c.type])
            for c in columns
        )
        rows.append(row)
    return Table(name, columns, rows)


# -- expressions ----------------------------------------------------------------------


class ExprGen:
    """Typed random expressions over a fixed set of columns (SQL text, type)."""

    def __init__(self, draw, columns: list[tuple[str, str]], extended: bool = False) -> None:
        self.draw = draw
        self.columns = columns  # (qualified name, type)
        # extended: also abs(), COALESCE and CASE (beyond the foundation feature set)
        self.extended = extended

    def pick(self, kinds: list[str], extra: list[str]) -> str:
        return self.draw(st.sampled_from(kinds + extra if self.extended else kinds))

    def cols_of(self, *types: str) -> list[str]:
        return [name for name, t in self.columns if t in types]

    def const(self, typ: str) -> str:
        return literal(self.draw(DOMAINS[typ]))

    def leaf(self, typ: str) -> str:
        names = self.cols_of(typ)
        if names and self.draw(st.integers(0, 3)) > 0:
            return self.draw(st.sampled_from(names))
        return self.const(typ)

    def expr(self, typ: str, depth: int = 2) -> str:
        """An expression of *typ* (INT, FLOAT, TEXT or BOOL)."""
        if typ == BOOL:
            return self.boolean(depth)
        if depth <= 0 or self.draw(st.integers(0, 2)) == 0:
            if typ == FLOAT and self.draw(st.booleans()) and self.cols_of(INT):
                return self.leaf(INT)  # INTEGER widens to FLOAT
            return self.leaf(typ)
        d = depth - 1
        if typ == INT:
            kind = self.pick(["+", "-", "*", "%", "neg", "length"], ["abs", "coalesce", "case"])
            if kind in "+-*":
                return f"({self.expr(INT, d)} {kind} {self.expr(INT, d)})"
            if kind == "%":
                return f"({self.expr(INT, d)} % {self.draw(st.sampled_from(['2', '3', '(-4)']))})"
            if kind == "neg":
                return f"(- {self.expr(INT, d)})"
            if kind == "abs":
                return f"abs({self.expr(INT, d)})"
            if kind == "coalesce":
                return f"COALESCE({self.expr(INT, d)}, {self.expr(INT, d)})"
            if kind == "length":
                return f"length({self.expr(TEXT, d)})"
            return f"(CASE WHEN {self.boolean(d)} THEN {self.expr(INT, d)} ELSE {self.expr(INT, d)} END)"
        if typ == FLOAT:
            kind = self.pick(["+", "-", "*", "/", "neg"], ["abs", "coalesce"])
            if kind in "+-":
                return f"({self.expr(FLOAT, d)} {kind} {self.expr(FLOAT, d)})"
            if kind == "*":
                return f"({self.expr(FLOAT, d)} * {self.leaf(FLOAT)})"
            if kind == "/":
                return f"({self.expr(FLOAT, d)} / {self.draw(st.sampled_from(['0.5', '2.0', '(-4.0)']))})"
            if kind == "neg":
                return f"(- {self.expr(FLOAT, d)})"
            if kind == "abs":
                return f"abs({self.expr(FLOAT, d)})"
            return f"COALESCE({self.expr(FLOAT, d)}, {self.leaf(FLOAT)})"
        if typ == TEXT:
            kind = self.pick(["||", "upper", "lower"], ["coalesce"])
            if kind == "||":
                return f"({self.expr(TEXT, d)} || {self.expr(TEXT, d)})"
            if kind == "coalesce":
                return f"COALESCE({self.expr(TEXT, d)}, {self.const(TEXT)})"
            return f"{kind}({self.expr(TEXT, d)})"
        raise ValueError(typ)

    def comparable_type(self) -> str:
        return self.draw(st.sampled_from([INT, FLOAT, TEXT]))

    def boolean(self, depth: int = 2) -> str:
        d = max(depth - 1, 0)
        choices = ["cmp", "cmp", "isnull", "in", "between", "like"]
        if depth > 0:
            choices += ["and", "or", "not"]
        kind = self.draw(st.sampled_from(choices))
        if kind == "cmp":
            typ = self.comparable_type()
            op = self.draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
            rtyp = self.draw(st.sampled_from(NUMERIC)) if typ in NUMERIC else TEXT
            return f"({self.expr(typ, d)} {op} {self.expr(rtyp, d)})"
        if kind == "isnull":
            typ = self.comparable_type()
            neg = self.draw(st.sampled_from(["IS NULL", "IS NOT NULL"]))
            return f"({self.expr(typ, d)} {neg})"
        if kind == "in":
            typ = self.comparable_type()
            items = self.draw(
                st.lists(st.one_of(DOMAINS[typ], st.none()), min_size=1, max_size=4)
            )
            if all(v is None for v in items):
                items[0] = self.draw(DOMAINS[typ])
            neg = self.draw(st.sampled_from(["IN", "NOT IN"]))
            return f"({self.expr(typ, d)} {neg} ({', '.join(literal(v) for v in items)}))"
        if kind == "between":
            typ = self.comparable_type()
            lo, hi = self.const(typ), self.const(typ)
            neg = self.draw(st.sampled_from(["BETWEEN", "NOT BETWEEN"]))
            return f"({self.expr(typ, d)} {neg} {lo} AND {hi})"
        if kind == "like":
            neg = self.draw(st.sampled_from(["LIKE", "NOT LIKE"]))
            return f"({self.expr(TEXT, d)} {neg} {literal(self.draw(LIKE_PATTERNS))})"
        if kind == "not":
            return f"(NOT {self.boolean(d)})"
        return f"({self.boolean(d)} {kind.upper()} {self.boolean(d)})"

    def any_expr(self, depth: int = 2) -> tuple[str, str]:
        typ = self.draw(st.sampled_from([INT, INT, FLOAT, TEXT, BOOL]))
        return self.expr(typ, depth), typ

    def aggregate(self) -> str:
        kind = self.draw(
            st.sampled_from(["count*", "count", "count_distinct", "sum", "avg", "min", "max"])
        )
        if kind == "count*":
            return "count(*)"
        if kind in ("count", "count_distinct"):
            e, _ = self.any_expr(1)
            return f"count({'DISTINCT ' if kind == 'count_distinct' else ''}{e})"
        if kind in ("sum", "avg"):
            return f"{kind}({self.expr(self.draw(st.sampled_from(NUMERIC)), 1)})"
        return f"{kind}({self.expr(self.draw(st.sampled_from(COLUMN_TYPES)), 1)})"


def _order_by(draw, n: int) -> str:
    keys = []
    for i in range(1, n + 1):
        direction = draw(st.sampled_from(["ASC", "DESC"]))
        nulls = draw(st.sampled_from(["NULLS FIRST", "NULLS LAST"]))
        keys.append(f"{i} {direction} {nulls}")
    order = draw(st.permutations(keys))
    return "ORDER BY " + ", ".join(order)


def _columns(table: Table, qualify: bool = False) -> list[tuple[str, str]]:
    return [((f"{table.name}.{c.name}" if qualify else c.name), c.type) for c in table.columns]


# -- queries --------------------------------------------------------------------------


@st.composite
def select_cases(draw, extended: bool = False):
    """SELECT [DISTINCT] exprs FROM t [WHERE ...] (compared as a multiset)."""
    table = draw(tables())
    gen = ExprGen(draw, _columns(table), extended)
    exprs = [gen.any_expr()[0] for _ in range(draw(st.integers(1, 4)))]
    distinct = "DISTINCT " if draw(st.integers(0, 3)) == 0 else ""
    where = f" WHERE {gen.boolean()}" if draw(st.booleans()) else ""
    return Case([table], f"SELECT {distinct}{', '.join(exprs)} FROM {table.name}{where}")


@st.composite
def ordered_cases(draw, extended: bool = False):
    """SELECT exprs ... ORDER BY every output column [LIMIT [OFFSET]] (order compared)."""
    table = draw(tables())
    gen = ExprGen(draw, _columns(table), extended)
    exprs = [gen.any_expr(1)[0] for _ in range(draw(st.integers(1, 3)))]
    where = f" WHERE {gen.boolean(1)}" if draw(st.booleans()) else ""
    sql = f"SELECT {', '.join(exprs)} FROM {table.name}{where} {_order_by(draw, len(exprs))}"
    if draw(st.booleans()):
        sql += f" LIMIT {draw(st.integers(0, 6))}"
        if draw(st.booleans()):
            sql += f" OFFSET {draw(st.integers(0, 4))}"
    return Case([table], sql, ordered=True)


@st.composite
def aggregate_cases(draw, extended: bool = False):
    """SELECT aggregates FROM t [WHERE ...] (no GROUP BY: exactly one row)."""
    table = draw(tables())
    gen = ExprGen(draw, _columns(table), extended)
    aggs = [gen.aggregate() for _ in range(draw(st.integers(1, 4)))]
    where = f" WHERE {gen.boolean(1)}" if draw(st.booleans()) else ""
    return Case([table], f"SELECT {', '.join(aggs)} FROM {table.name}{where}")


@st.composite
def group_by_cases(draw, extended: bool = False):
    """SELECT keys, aggregates FROM t GROUP BY keys [HAVING ...] (multiset)."""
    table = draw(tables())
    gen = ExprGen(draw, _columns(table), extended)
    keys = [gen.expr(draw(st.sampled_from(COLUMN_TYPES)), 1) for _ in range(draw(st.integers(1, 2)))]
    aggs = [gen.aggregate() for _ in range(draw(st.integers(1, 3)))]
    where = f" WHERE {gen.boolean(1)}" if draw(st.booleans()) else ""
    having = ""
    if draw(st.booleans()):
        having = f" HAVING count(*) {draw(st.sampled_from(['>', '<=', '=']))} {draw(st.integers(0, 3))}"
    ordinals = ", ".join(str(i) for i in range(1, len(keys) + 1))
    sql = (
        f"SELECT {', '.join(keys + aggs)} FROM {table.name}{where} "
        f"GROUP BY {ordinals}{having}"
    )
    return Case([table], sql)


@st.composite
def join_cases(draw, extended: bool = False):
    """Two tables joined (inner/left/right/full/cross) on a key equality (multiset)."""
    left = draw(tables(name="t1", prefix="a"))
    right = draw(tables(name="t2", prefix="b"))
    cols = _columns(left, qualify=True) + _columns(right, qualify=True)
    gen = ExprGen(draw, cols, extended)
    kind = draw(st.sampled_from(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN"]))
    common = sorted({c.type for c in left.columns} & {c.type for c in right.columns})
    if kind == "FULL JOIN" and not common:
        kind = "LEFT JOIN"
    if kind == "CROSS JOIN":
        on = ""
    elif kind == "FULL JOIN":
        # PostgreSQL runs FULL JOIN only on hash/merge-joinable conditions: a plain
        # equality of two columns of the same type, nothing else
        typ = draw(st.sampled_from(common))
        lcol = draw(st.sampled_from([f"t1.{c.name}" for c in left.columns if c.type == typ]))
        rcol = draw(st.sampled_from([f"t2.{c.name}" for c in right.columns if c.type == typ]))
        on = f" ON {lcol} = {rcol}"
    else:
        ltyp = draw(st.sampled_from([c.type for c in left.columns]))
        rtypes = [c.type for c in right.columns if (c.type == TEXT) == (ltyp == TEXT)]
        lcol = draw(st.sampled_from([f"t1.{c.name}" for c in left.columns if c.type == ltyp]))
        if rtypes:
            rtyp = draw(st.sampled_from(rtypes))
            rcol = draw(st.sampled_from([f"t2.{c.name}" for c in right.columns if c.type == rtyp]))
        else:
            rcol = literal(draw(DOMAINS[ltyp]))
        on = f" ON {lcol} = {rcol}"
        if draw(st.integers(0, 3)) == 0:
            on += f" AND {gen.boolean(1)}"
    exprs = [gen.any_expr(1)[0] for _ in range(draw(st.integers(1, 3)))]
    where = f" WHERE {gen.boolean(1)}" if draw(st.integers(0, 2)) == 0 else ""
    return Case([left, right], f"SELECT {', '.join(exprs)} FROM t1 {kind} t2{on}{where}")


@st.composite
def set_op_cases(draw, extended: bool = False):
    """SELECT ... {UNION|INTERSECT|EXCEPT} [ALL] SELECT ... over two tables (multiset)."""
    left = draw(tables(name="t1", prefix="a"))
    right = draw(tables(name="t2", prefix="b"))
    # one output column per position, of matching type classes on both sides
    ltypes = [c.type for c in left.columns]
    rtypes = [c.type for c in right.columns]
    width = draw(st.integers(1, 2))
    gl = ExprGen(draw, _columns(left), extended)
    gr = ExprGen(draw, _columns(right), extended)
    out_types = [draw(st.sampled_from(sorted(set(ltypes) | set(rtypes)))) for _ in range(width)]
    lsel = ", ".join(gl.expr(t, 1) for t in out_types)
    rsel = ", ".join(gr.expr(t, 1) for t in out_types)
    lwhere = f" WHERE {gl.boolean(1)}" if draw(st.booleans()) else ""
    rwhere = f" WHERE {gr.boolean(1)}" if draw(st.booleans()) else ""
    op = draw(st.sampled_from(["UNION", "INTERSECT", "EXCEPT"]))
    if draw(st.booleans()):
        op += " ALL"
    sql = f"SELECT {lsel} FROM t1{lwhere} {op} SELECT {rsel} FROM t2{rwhere}"
    return Case([left, right], sql)


@st.composite
def subquery_cases(draw, extended: bool = False):
    """[NOT] IN (SELECT ...), [NOT] EXISTS (correlated), scalar aggregate subqueries."""
    outer = draw(tables(name="t1", prefix="a"))
    inner = draw(tables(name="t2", prefix="b"))
    go = ExprGen(draw, _columns(outer, qualify=True), extended)
    gi = ExprGen(draw, _columns(inner, qualify=True) + _columns(outer, qualify=True), extended)
    kind = draw(st.sampled_from(["in", "exists", "scalar"]))
    typ = draw(st.sampled_from(COLUMN_TYPES))
    inner_cols = [f"t2.{c.name}" for c in inner.columns if c.type == typ]
    inner_expr = draw(st.sampled_from(inner_cols)) if inner_cols else literal(draw(DOMAINS[typ]))
    if kind == "in":
        neg = draw(st.sampled_from(["IN", "NOT IN"]))
        iwhere = f" WHERE {ExprGen(draw, _columns(inner, qualify=True), extended).boolean(1)}" if draw(st.booleans()) else ""
        cond = f"{go.expr(typ, 1)} {neg} (SELECT {inner_expr} FROM t2{iwhere})"
    elif kind == "exists":
        neg = draw(st.sampled_from(["EXISTS", "NOT EXISTS"]))
        cond = f"{neg} (SELECT 1 FROM t2 WHERE {gi.boolean(1)})"
    else:
        agg = draw(st.sampled_from(["min", "max", "count"]))
        cond = f"{go.expr(typ, 1)} {draw(st.sampled_from(['=', '<', '>=']))} (SELECT {agg}({inner_expr}) FROM t2)"
        if agg == "count":
            cond = f"{go.expr(INT, 1)} <= (SELECT count({inner_expr}) FROM t2)"
    exprs = [go.any_expr(1)[0] for _ in range(draw(st.integers(1, 2)))]
    return Case([outer, inner], f"SELECT {', '.join(exprs)} FROM t1 WHERE {cond}")
