"""A hand-written recognizer for the simplest, hottest statement shapes.

``SELECT 1`` is how connection pools, drivers and health checks say hello; a script, a
test suite or a notebook often starts with ``CREATE TABLE``, a few ``INSERT ... VALUES``
and a point ``SELECT``. Through sqlglot and the binder, the first such statement of a
process imports sqlglot and the binder (and, through them, much of the executor): about
half of a cold start (issue 11's start-up target). This module recognizes only these
shapes, over unquoted names and plain literals:

* ``SELECT <literal> [AS name], ...``
* ``SELECT * | col, ... FROM table [WHERE col = <literal>]``
* ``INSERT INTO table [(col, ...)] VALUES (<literal>, ...), ...``
* ``CREATE TABLE table (col TYPE [NOT NULL] [PRIMARY KEY], ...)``

and builds exactly the bound statement the binder builds for them, literal slots
included (tests/engine/test_quick.py compares the two over many texts). Anything else
-- another shape, a quoted name, a comment, an unknown table or column, a literal whose
type is not the column's own, a column with a DEFAULT -- returns ``None`` and takes the
ordinary way, which also reports every error: this module never raises one.
"""
from __future__ import annotations

import re

from .. import errors, types
from ..statement_limits import tick
from ..plan.ddl import LogicalCreateTable
from ..plan.expr import Call, ColRef, Const
from ..plan.logical import LogicalFilter, LogicalInsert, LogicalProject, LogicalScan, \
    LogicalValues
from ..storage.schema import Column, TableSchema, UniqueConstraint
from .bound import BoundStatement

# Words, numbers, plain strings (no quote or backslash inside) and the few punctuation
# marks of these shapes; any other character ends recognition.
# A literal or word must not run on into a letter, digit, point or quote (``1e3``,
# ``1.``, ``E'x'``, ``'a''b'``): such text is the ordinary path's to read.
_TOKEN = re.compile(
    r"\s*(?:(?:(?P<dec>[0-9]+\.[0-9]+)|(?P<int>[0-9]+)|'(?P<str>[^'\\]*)'"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))(?![A-Za-z0-9_.'])|(?P<punct>[(),;=*]))"
    r"|\s*(?P<end>$)")
_AT_END = re.compile(r"\s*$")
# A character no token above holds: outside a string (a text without a quote), one
# declines the statement, which every shape here reads to its end (one search instead
# of the tokens before it: most one-off SELECTs hold an operator).
_FOREIGN = re.compile(r"[^\sA-Za-z0-9_.(),;=*]")

# PostgreSQL's reserved key words and the words sqlglot reads as syntax in these
# positions: never a name here (the ordinary path decides what they mean).
_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time current_timestamp
current_user default deferrable desc distinct do else end except false fetch for foreign
from grant group having in initially intersect into lateral leading limit localtime
localtimestamp not null offset on only or order placing primary references returning
select session_user some symmetric system_user table then to trailing true union unique
user using variadic when where window with values set natural join left right inner outer
cross full qualify pivot unpivot tablesample sample filter over partition conflict key
index if exists temp temporary unlogged generated always identity like ilike similar is
isnull notnull between escape interval collation overlaps nothing returning by
""".split())

_INT64_MAX = 2 ** 63 - 1
_WORDS = {"null": (None, types.TEXT), "true": (True, types.BOOLEAN),
          "false": (False, types.BOOLEAN)}
# Column types a CREATE TABLE here may name (one word each), as the binder maps them:
# (engine type, typmod: sql/bind/type_modifiers.column_typmod).
_INT4, _INT8 = (types.INTEGER, ("int4",)), (types.INTEGER, None)
_FLOAT4 = (types.FLOAT, ("float4",))
_TYPES = {"integer": _INT4, "int": _INT4, "int4": _INT4, "bigint": _INT8, "int8": _INT8,
          "text": (types.TEXT, None),
          "varchar": (types.TEXT, None), "float": (types.FLOAT, None),
          "float8": (types.FLOAT, None), "real": _FLOAT4, "boolean": (types.BOOLEAN, None),
          "bool": (types.BOOLEAN, None), "date": (types.DATE, None),
          "timestamp": (types.TIMESTAMP, None)}
# Column types a ``WHERE col = <literal>`` here compares without a conversion.
_SIMPLE = (types.INTEGER, types.FLOAT, types.TEXT, types.BOOLEAN)


class _Decline(Exception):
    """Not a shape recognized here: the statement takes the ordinary way."""


class _Tokens:
    """The statement's tokens: (kind, text, start offset); ``kind`` is a group name.
    Scanned as the recognizer asks for them: a statement it declines at its fifth token
    (most analytic ones) costs five tokens, not the whole text."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.pos = 0
        self.items: list = []
        self.i = 0
        self.done = False

    def _fill(self, upto: int) -> None:
        """Scan until token ``upto`` exists or the text ends (a trailing ``;`` dropped)."""
        items, sql = self.items, self.sql
        while len(items) <= upto and not self.done:
            tick()   # a megabyte INSERT ... VALUES: interrupt / timeout while scanning
            m = _TOKEN.match(sql, self.pos)
            if m is None:
                raise _Decline()
            if m.group("end") is not None:
                self.done = True
                break
            kind = m.lastgroup
            text = m.group(kind)
            self.pos = m.end()
            if kind == "punct" and text == ";" and _AT_END.match(sql, self.pos):
                self.done = True
                break
            items.append((kind, text, m.start(kind)))

    def peek(self) -> tuple:
        if self.i >= len(self.items):
            self._fill(self.i)
        return self.items[self.i] if self.i < len(self.items) else ("end", "", -1)

    def next(self) -> tuple:
        tok = self.peek()
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        """Consume the keywords ``words`` in order if they come next."""
        i = self.i
        self._fill(i + len(words) - 1)
        for w in words:
            kind, text, _ = self.items[i] if i < len(self.items) else ("end", "", -1)
            if kind != "word" or text.lower() != w:
                return False
            i += 1
        self.i = i
        return True

    def expect(self, *words: str) -> None:
        if not self.keyword(*words):
            raise _Decline()

    def punct(self, mark: str) -> bool:
        kind, text, _ = self.peek()
        if kind == "punct" and text == mark:
            self.i += 1
            return True
        return False

    def need(self, mark: str) -> None:
        if not self.punct(mark):
            raise _Decline()

    def name(self) -> str:
        kind, text, _ = self.next()
        low = text.lower()
        if kind != "word" or low in _RESERVED:
            raise _Decline()
        return low

    def at_end(self) -> bool:
        self._fill(self.i)
        return self.i == len(self.items)


def recognize(sql: str, shape=None, root=None, functions=None
              ) -> tuple[BoundStatement, dict | None] | None:
    """(bound statement, literal tags) for a recognized statement, or None. With the
    statement's ``shape`` (sql/literals.py), literals the binder would tag for lifting
    carry their slot and the tags are returned (the session lifts them); ``root`` and
    ``functions``: the catalog and function registry the statement is bound against
    (statements naming a table need them)."""
    if not sql.isascii() or "'" not in sql and _FOREIGN.search(sql):
        return None
    try:
        toks = _Tokens(sql)
        starts = {start: i for i, (start, _, _) in enumerate(shape.literals)} if shape else {}
        if toks.keyword("select"):
            bound = _select(toks, starts, root, functions)
        elif toks.keyword("insert", "into"):
            bound = _insert(toks, starts, root)
        elif toks.keyword("create", "table"):
            return _create_table(toks, root), None    # DDL keeps its literals
        else:
            return None
    except _Decline:
        return None
    bound.source = sql          # for column privileges (auth/check.py), parsed if needed
    tags = {start: (i, kind, raw) for i, (start, kind, raw) in enumerate(shape.literals)} \
        if starts else None
    return bound, tags


# ---- literals ------------------------------------------------------------------------------

_INF = float("inf")


def _literal(toks: _Tokens, starts: dict) -> Const:
    """The next token as the binder binds a literal: Const(value, type, lifted slot)."""
    kind, text, start = toks.next()
    if kind == "int":
        value = int(text)
        if value > _INT64_MAX:
            raise _Decline()          # 22003 from the ordinary path
        return Const(value=value, type=types.INTEGER, slot=starts.get(start))
    if kind == "dec":                 # numeric, exact (bind_expr._Literal)
        try:
            value = types.numeric.encode(types.numeric.parse(text))
        except errors.Error:
            raise _Decline() from None      # its error from the ordinary path
        return Const(value=value, type=types.NUMERIC, slot=starts.get(start))
    if kind == "str":
        return Const(value=text, type=types.TEXT, slot=starts.get(start - 1))
    if kind == "word" and text.lower() in _WORDS:
        value, type_ = _WORDS[text.lower()]
        return Const(value=value, type=type_)
    raise _Decline()


def _as_column(c: Const, column) -> Const:
    """A literal written into ``column``: the same Const when it already has the
    column's type, a NULL of that type (into a column that allows it), an integer
    widened for a FLOAT column; any other pairing is the binder's to convert or refuse."""
    column_type = column.type
    if c.value is None and c.slot is None and c.type == types.TEXT:   # NULL
        if column.not_null:
            raise _Decline()
        return Const(value=None, type=column_type)
    if c.type == column_type:
        return c
    if c.type == types.INTEGER and column_type == types.FLOAT:
        return Const(value=float(c.value), type=types.FLOAT, slot=c.slot)
    if c.type == types.NUMERIC and column_type == types.FLOAT:    # as coerce.adapt reads it
        return Const(value=types.numeric.to_float(types.numeric.decode(c.value)),
                     type=types.FLOAT, slot=c.slot)
    raise _Decline()


# ---- SELECT --------------------------------------------------------------------------------

def _select(toks: _Tokens, starts: dict, root, functions) -> BoundStatement:
    kind, text, _ = toks.peek()
    if kind == "punct" and text == "*" or kind == "word" and text.lower() not in _WORDS:
        return _select_from(toks, starts, root, functions)
    columns: list = []
    exprs: list = []
    while True:
        const = _literal(toks, starts)
        alias = toks.name() if toks.keyword("as") else None
        columns.append((alias or "?column?", const.type))
        exprs.append(const)
        if not toks.punct(","):
            break
    if not toks.at_end():
        raise _Decline()
    plan = LogicalProject(columns=columns, child=LogicalValues(columns=[], rows=[[]]),
                          exprs=exprs)
    return BoundStatement("SELECT", plan=plan, returns_rows=True)


def _select_from(toks: _Tokens, starts: dict, root, functions) -> BoundStatement:
    wanted = None                       # None: *
    if not toks.punct("*"):
        wanted = [toks.name()]
        while toks.punct(","):
            wanted.append(toks.name())
    toks.expect("from")
    table = toks.name()
    version = root.tables.get(table) if root is not None else None
    if version is None or functions is None:
        raise _Decline()
    schema = version.schema
    cols = [(c.name, c.type) for c in schema.columns]
    positions = {c.name: i for i, c in enumerate(schema.columns)}

    def ref(name: str) -> ColRef:
        i = positions.get(name)
        if i is None:
            raise _Decline()             # 42703 from the ordinary path
        return ColRef(index=i, type=cols[i][1], name=name)

    plan = LogicalScan(columns=cols, table=table, alias=table)
    if toks.keyword("where"):
        left = ref(toks.name())
        toks.need("=")
        right = _literal(toks, starts)
        if right.type == types.NUMERIC and left.type == types.FLOAT and right.value is not None:
            right = _as_column(right, left)      # a float8 column meets it as float8
        if right.value is None or left.type not in _SIMPLE or right.type != left.type \
                or type(left.type) is not str:     # an enum's literal is checked there
            raise _Decline()   # NULL, or a comparison the binder converts: its to bind
        fn, ret = functions.resolve("eq", [left.type, right.type])
        if ret != types.BOOLEAN:
            raise _Decline()
        plan = LogicalFilter(columns=cols, child=plan,
                             predicate=Call(fn="eq", args=(left, right), type=ret, impl=fn))
    if not toks.at_end():
        raise _Decline()
    exprs = [ref(n) for n in wanted] if wanted is not None else \
        [ColRef(index=i, type=t, name=n) for i, (n, t) in enumerate(cols)]
    plan = LogicalProject(columns=[(e.name, e.type) for e in exprs], child=plan, exprs=exprs)
    return BoundStatement("SELECT", plan=plan, deps=[("table", table, schema)],
                          returns_rows=True, privileges=(("table", table, "SELECT", None),))


# ---- INSERT --------------------------------------------------------------------------------

def _insert(toks: _Tokens, starts: dict, root) -> BoundStatement:
    table = toks.name()
    version = root.tables.get(table) if root is not None else None
    if version is None:
        raise _Decline()
    schema = version.schema
    if schema.matview_sql is not None or any(c.generated is not None for c in schema.columns):
        raise _Decline()                 # 42809, or generated columns: the ordinary path
    columns = schema.columns
    if toks.punct("("):
        positions = {c.name: i for i, c in enumerate(columns)}
        targets = []
        while True:
            i = positions.get(toks.name())
            if i is None or i in targets:
                raise _Decline()
            targets.append(i)
            if not toks.punct(","):
                break
        toks.need(")")
    else:
        targets = list(range(len(columns)))
    if any(columns[i].identity is not None for i in targets):
        raise _Decline()                 # 428C9 for GENERATED ALWAYS: the ordinary path
    defaults = {}
    for i, c in enumerate(columns):
        if i in targets:
            continue          # values are checked against their column in _as_column
        if c.default_sql is not None or c.not_null or (
                c.typmod is not None and c.typmod[0] == "domain"):   # its DEFAULT, NOT NULL
            raise _Decline()
        else:
            defaults[i] = Const(value=None, type=c.type)
    toks.expect("values")
    rows = []
    while True:
        tick()
        toks.need("(")
        row = [_as_column(_literal(toks, starts), columns[targets[0]])]
        for i in targets[1:]:
            toks.need(",")
            row.append(_as_column(_literal(toks, starts), columns[i]))
        toks.need(")")
        rows.append(row)
        if not toks.punct(","):
            break
    if not toks.at_end():
        raise _Decline()
    source = LogicalValues(columns=[(columns[i].name, columns[i].type) for i in targets],
                           rows=rows)
    plan = LogicalInsert(columns=[], table=table, source=source, targets=targets,
                         defaults=defaults)
    return BoundStatement("INSERT", plan=plan, deps=[("table", table, schema)],
                          privileges=(("table", table, "INSERT", None),))


# ---- CREATE TABLE --------------------------------------------------------------------------

def _create_table(toks: _Tokens, root) -> BoundStatement:
    table = toks.name()
    if root is None or table in root.tables or table in root.views:
        raise _Decline()                 # 42P07 from the ordinary path
    toks.need("(")
    columns: list = []
    primary = None
    while True:
        name = toks.name()
        declared = _TYPES.get(toks.name())
        if declared is None or any(c.name == name for c in columns):
            raise _Decline()
        not_null = False
        seen: set = set()
        while True:
            if toks.keyword("not", "null"):
                word = "not null"
            elif toks.keyword("primary", "key"):
                word = "primary key"
                if primary is not None:
                    raise _Decline()     # 42P16 from the ordinary path
                primary = len(columns)
            else:
                break
            if word in seen:
                raise _Decline()
            seen.add(word)
            not_null = True
        columns.append(Column(name, declared[0], not_null, None, typmod=declared[1]))
        if not toks.punct(","):
            break
    toks.need(")")
    if not toks.at_end():
        raise _Decline()
    uniques = (UniqueConstraint(f"{table}_pkey", (primary,), True),) if primary is not None \
        else ()
    schema = TableSchema(table, tuple(columns), uniques, (), ())
    plan = LogicalCreateTable(columns=[], name=table, schema=schema, if_not_exists=False)
    return BoundStatement("CREATE TABLE", plan=plan, cacheable=False,
                          privileges=(("schema", "public", "CREATE", None),),
                          ddl_objects=(("create", table), ("routines",)))
