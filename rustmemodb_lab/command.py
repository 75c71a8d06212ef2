"""From the text of a ``%sql`` line (and ``%%sql`` cell) to a :class:`Command`.

This is the only place that understands magic syntax. It

1. splits the line into the option head and the SQL tail: options are parsed
   with IPython's ``magic_arguments`` (so ``%sql?`` prints their help), but
   only up to the first token that is not an option, because SQL must never
   go through a shell-style splitter (quotes in SQL are SQL's);
2. reads ``name << SELECT ...`` assignment;
3. splits the SQL into statements (the engine's ``split_statements``) *as
   written*, so no interpolated value can ever add a statement;
4. in each statement, pastes ``{var}`` and jupysql's ``{{ expr }}`` (Jinja)
   from the user namespace, then numbers its ``:var`` parameters ``$1..$n``
   and binds their *values* (never their text).

Each rewrite keeps a :class:`~rustmemodb_lab.sqltext.TextMap`, so an engine
error position in the text that was sent maps back to the cell as typed.

Nothing here runs SQL or touches connections; ``run.py`` does that. The
result is a plain dataclass, easy to assert on in tests.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from IPython.core.magic_arguments import argument, argument_group, magic_arguments

from rustmemodb.branch import commands as branch_commands
from rustmemodb_lab import sqltext
from rustmemodb_lab.errors import LabUsageError

# Notebook wording where the lab does more than the shared grammar says.
_BRANCH_HELP = {
    "branches": "show the branch tree (click a branch to check it out)",
    "undo": "return the current branch to its state before the last cell that changed it",
}

def _branch_argument(verb: branch_commands.Verb) -> Callable:
    """The ``%sql`` option of one shared branch command (``fork`` → ``--fork NAME``)."""
    help_text = _BRANCH_HELP.get(verb.name, verb.help)
    if verb.nargs == 0:
        return argument(f"--{verb.name}", action="store_true", help=help_text)
    if verb.nargs == "+":
        return argument(f"--{verb.name}", nargs="+", metavar=verb.metavar, help=help_text)
    return argument(f"--{verb.name}", metavar=verb.metavar, help=help_text)


ARGUMENTS = [
    argument_group("Results"),
    argument("-o", "--output", metavar="NAME", help="store the last result in variable NAME (pandas by default)"),
    argument("--arrow", action="store_true", help="with -o / <<: store a pyarrow.Table"),
    argument("--polars", action="store_true", help="with -o / <<: store a polars DataFrame"),
    argument("-a", "--all", action="store_true", help="display the result of every statement, not only the last"),
    argument("--explain", action="store_true", help="render the plan of the last statement (EXPLAIN ANALYZE for queries)"),
    argument("--expect-error", action="store_true", help="the cell must fail: show the error instead of raising it"),
    argument("--live", metavar="NAME", help="a live grid of the query in variable NAME, redrawn after each commit to its tables"),
    argument_group("Branches"),
    argument("--on", metavar="A,B,...", help="run the cell on each branch, results side by side"),
    # --fork ... --undo and merge's options: the grammar shared with the TUI's \\fork ...
    *[_branch_argument(v) for v in branch_commands.VERBS],
    *[argument(f"--{flag}", **({"metavar": metavar} if metavar else {"action": "store_true"}),
               help=text.replace("with merge:", "with --merge:"))
      for flag, metavar, text in branch_commands.MERGE_OPTIONS],
    argument_group("Connections and data"),
    argument("--connect", metavar="PATH", help="open a database (':memory:' for a new in-memory one) and switch to it"),
    argument("--alias", metavar="NAME", help="with --connect: the connection's name"),
    argument("--cluster", metavar="BACKEND",
             help="open a sharded database (rustmemodb.cluster: local, dask or ray) and switch to it"),
    argument("--shards", metavar="N", type=int, help="with --cluster: the number of shards (default 2)"),
    argument("--connection", metavar="NAME", help="switch to the open connection NAME"),
    argument("--connections", action="store_true", help="list open connections"),
    argument("--persist", metavar="VAR", help="create table VAR from the DataFrame / Arrow table in variable VAR"),
    argument("--append", metavar="VAR", help="insert the rows of DataFrame / Arrow variable VAR into table VAR"),
    argument("--tables", action="store_true", help="list the tables of the current branch with row counts"),
    argument("--serve", nargs="?", const="0", metavar="PORT",
             help="serve this database over the PostgreSQL protocol on 127.0.0.1 (the database name picks the branch); '--serve stop' stops it"),
    argument("--serve-rest", dest="serve_rest", nargs="?", const="0", metavar="PORT",
             help="serve this database's persist collections as REST routes on 127.0.0.1 (bearer token; rustmemodb_lab.rest_server() has the URL); '--serve-rest stop' stops it"),
    argument("--import", dest="import_", nargs="+", metavar="URL TABLE [AS NAME]",
             help="copy table TABLE of the database at URL (or open connection URL) into the current branch"),
    argument_group("Snippets"),
    argument("--save", metavar="NAME", help="save the cell's query as snippet NAME on the current branch"),
    argument("--no-execute", action="store_true", help="with --save: save without running"),
    argument("--with", dest="with_", action="append", metavar="NAME",
             help="prepend saved snippet(s) NAME as CTEs (repeat or comma-separate)"),
]


def sql_arguments(func: Callable) -> Callable:
    """Decorate a magic with every ``%sql`` option (``magic_arguments`` style)."""
    for deco in reversed(ARGUMENTS):
        func = deco(func)
    return magic_arguments()(func)


@dataclass(frozen=True)
class Statement:
    """One statement of a cell, as it will be sent to the engine.

    ``text`` is what is sent (``{var}`` pasted, ``:name`` numbered ``$n``);
    ``named_text`` the same before numbering (for snippets and SQLAlchemy
    connections, which bind ``:name`` themselves); ``params`` maps each name
    to its value in slot order. ``maps`` lead from the text as the user wrote
    it (at ``offset`` in the cell) to ``text``, one per rewrite.
    """

    text: str
    offset: int
    index: int
    params: dict[str, Any] | None = None
    maps: tuple[sqltext.TextMap, ...] = ()
    named_text: str | None = None

    @property
    def values(self) -> list[Any] | None:
        """The parameter values in ``$n`` order (what the engine receives)."""
        return None if self.params is None else list(self.params.values())

    def cell_position(self, position: int | None) -> int | None:
        """Map an engine error position (in ``text``) to a position in the cell."""
        if position is None:
            return None
        for mapping in reversed(self.maps):
            position = mapping.to_original(position)
        return self.offset + max(0, position)

    def rewritten(self, prefix_new: str, prefix_old_len: int) -> Statement:
        """A copy whose first ``prefix_old_len`` characters become ``prefix_new``."""
        text, mapping = sqltext.substitute(self.text, [(0, prefix_old_len, prefix_new)])
        return replace(self, text=text, maps=(*self.maps, mapping))


@dataclass
class Command:
    """Everything one ``%sql`` invocation asks for."""

    sql: str = ""
    statements: list[Statement] = field(default_factory=list)
    output: str | None = None
    output_format: str = "pandas"
    show_all: bool = False
    explain: bool = False
    expect_error: bool = False
    on: list[str] | None = None
    fork: str | None = None
    checkout: str | None = None
    branches: bool = False
    drop_branch: str | None = None
    diff: tuple[str, str, str | None] | None = None
    merge: str | None = None
    into: str | None = None
    strategy: str = "abort"
    undo: bool = False
    connect: str | None = None
    alias: str | None = None
    connection: str | None = None
    connections: bool = False
    persist: str | None = None
    append: str | None = None
    tables: bool = False
    import_: tuple[str, str, str] | None = None
    save: str | None = None
    no_execute: bool = False
    with_: list[str] = field(default_factory=list)
    live: str | None = None
    serve: str | None = None
    serve_rest: str | None = None
    connect_url: str | None = None
    cluster: str | None = None
    shards: int | None = None

    @property
    def has_sql(self) -> bool:
        return bool(self.statements)


class Namespace:
    """Variable lookup for ``{var}`` and ``:var``: local scope first, then the user's."""

    def __init__(self, user_ns: Mapping[str, Any], local_ns: Mapping[str, Any] | None = None) -> None:
        self.user_ns = user_ns
        self.local_ns = local_ns or {}

    def __getitem__(self, name: str) -> Any:
        if name in self.local_ns:
            return self.local_ns[name]
        return self.user_ns[name]

    def __contains__(self, name: str) -> bool:
        return name in self.local_ns or name in self.user_ns

    def mapping(self) -> dict[str, Any]:
        """Every visible name (local scope wins), for Jinja expressions."""
        return {**self.user_ns, **self.local_ns}


def parse(parser: argparse.ArgumentParser, line: str, cell: str | None, ns: Namespace) -> Command:
    """Parse a magic invocation into a :class:`Command` (raises ``UsageError``)."""
    head, rest = split_options(parser, line)
    args = parser.parse_args(head)
    url, rest = split_url(rest)
    output, sql = _sql_and_assignment(rest, cell)
    command = _from_args(args)
    if output:
        if command.output:
            raise LabUsageError("use either -o NAME or NAME << ..., not both")
        command.output = output
    if url:  # %sql sqlite:///{path}: the URL is a template too (it never holds SQL)
        url = sqltext.interpolate(url, ns.__getitem__, JinjaValues(ns))[0]
    command.connect_url = url
    command.sql = sql if sql.strip() else ""
    command.statements = bind_statements(command.sql, ns)
    _validate(command)
    return command


_URL_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*://\S*)")


def split_url(sql: str) -> tuple[str | None, str]:
    """A leading connection string (``duckdb://``, ``sqlite:///f.db``) and the rest.

    >>> split_url("sqlite:///tmp/x.db SELECT 1")
    ('sqlite:///tmp/x.db', ' SELECT 1')
    >>> split_url("SELECT 'a://b'")
    (None, "SELECT 'a://b'")
    """
    m = _URL_RE.match(sql)
    if not m:
        return None, sql
    return m.group(1), sql[m.end() :]


def split_options(parser: argparse.ArgumentParser, line: str) -> tuple[list[str], str]:
    """Split ``line`` into option tokens and the raw remainder (the SQL).

    >>> from rustmemodb_lab.magic import SqlMagics
    >>> split_options(SqlMagics.sql.parser, "--on main,b -o out SELECT 'a b' -- x")
    (['--on', 'main,b', '-o', 'out'], "SELECT 'a b' -- x")
    """
    tokens: list[str] = []
    pos = 0
    expecting = 0  # option arguments still to consume; -1 = any number
    while True:
        token, start, end = _next_token(line, pos)
        if token is None:
            return tokens, ""
        is_option = token.startswith("-") and len(token) > 1 and token != "--"
        if expecting == OPTIONAL:
            # An optional value (``--serve [PORT]``) is taken only when it cannot be
            # the start of the SQL: a number or a bare word such as ``stop``.
            expecting = 0
            if not is_option and _OPTIONAL_VALUE.fullmatch(token) and not _SQL_START.match(token):
                tokens.append(token)
                pos = end
                continue
        if expecting == 0 or (expecting < 0 and is_option):
            if not is_option:
                return tokens, line[start:]
            expecting = _arity(parser, token)
        else:
            expecting -= 1 if expecting > 0 else 0
        tokens.append(token)
        pos = end


def _next_token(line: str, pos: int) -> tuple[str | None, int, int]:
    """The next whitespace-separated token (quotes group, and are removed)."""
    while pos < len(line) and line[pos].isspace():
        pos += 1
    if pos >= len(line):
        return None, pos, pos
    start = pos
    if line[pos] in "'\"":
        quote = line[pos]
        end = line.find(quote, pos + 1)
        end = len(line) if end < 0 else end
        return line[pos + 1 : end], start, min(end + 1, len(line))
    while pos < len(line) and not line[pos].isspace():
        pos += 1
    return line[start:pos], start, pos


OPTIONAL = -2   # _arity of an option whose value may be left out (nargs="?")
_OPTIONAL_VALUE = re.compile(r"\d+|stop", re.IGNORECASE)
_SQL_START = re.compile(r"(select|with|values|table|show|explain)$", re.IGNORECASE)


def _arity(parser: argparse.ArgumentParser, option: str) -> int:
    """How many values ``option`` takes: 0, 1, -1 for "one or more", OPTIONAL for "0 or 1"."""
    name = option.split("=", 1)[0]
    action = parser._option_string_actions.get(name)  # noqa: SLF001 - argparse has no public lookup
    if action is None or "=" in option:
        return 0  # unknown: argparse reports it; --opt=value carries its value
    if action.nargs == 0:
        return 0
    if action.nargs in ("+", "*"):
        return -1
    if action.nargs == "?":
        return OPTIONAL
    return int(action.nargs or 1)


def _sql_and_assignment(rest: str, cell: str | None) -> tuple[str | None, str]:
    """The SQL text and the ``name <<`` target, from the line tail and the cell."""
    if cell is None:
        return sqltext.split_assignment(rest)
    output, tail = sqltext.split_assignment(rest)
    if tail.strip():
        raise LabUsageError(
            f"unexpected text on the %%sql line: {tail.strip()!r}; put SQL in the cell body"
        )
    return output, cell


def _from_args(args: argparse.Namespace) -> Command:
    if args.arrow and args.polars:
        raise LabUsageError("choose one of --arrow and --polars")
    try:
        strategy = branch_commands.merge_strategy(args.ours, args.theirs)
    except branch_commands.BranchCommandError as exc:
        raise LabUsageError(str(exc)) from None
    return Command(
        output=args.output,
        output_format="arrow" if args.arrow else "polars" if args.polars else "pandas",
        show_all=args.all,
        explain=args.explain,
        expect_error=args.expect_error,
        on=_branch_list(args.on),
        fork=args.fork,
        checkout=args.checkout,
        branches=args.branches,
        drop_branch=args.drop_branch,
        diff=_diff_args(args.diff),
        merge=args.merge,
        into=args.into,
        strategy=strategy,
        undo=args.undo,
        connect=args.connect,
        alias=args.alias,
        cluster=args.cluster,
        shards=args.shards,
        connection=args.connection,
        connections=args.connections,
        persist=args.persist,
        append=args.append,
        tables=args.tables,
        import_=_import_args(args.import_),
        save=args.save,
        no_execute=args.no_execute,
        with_=[n.strip() for v in args.with_ or [] for n in v.split(",") if n.strip()],
        live=args.live,
        serve=args.serve,
        serve_rest=args.serve_rest,
    )


def _import_args(values: list[str] | None) -> tuple[str, str, str] | None:
    if values is None:
        return None
    if len(values) == 2:
        return values[0], values[1], values[1].split(".")[-1]
    if len(values) == 4 and values[2].upper() == "AS":
        return values[0], values[1], values[3]
    raise LabUsageError("--import takes a connection and a table: --import URL TABLE [AS NAME]")


def _branch_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise LabUsageError("--on needs branch names, e.g. --on main,exp1")
    return names


def _diff_args(values: list[str] | None) -> tuple[str, str, str | None] | None:
    if values is None:
        return None
    try:
        return branch_commands.diff_args(values)
    except branch_commands.BranchCommandError as exc:
        raise LabUsageError(str(exc)) from None


def _validate(c: Command) -> None:
    try:
        branch_commands.check_merge_options(c.merge, c.into, c.strategy)
    except branch_commands.BranchCommandError as exc:
        raise LabUsageError(str(exc)) from None
    if c.alias and not (c.connect or c.connect_url or c.cluster):
        raise LabUsageError("--alias goes with --connect PATH, --cluster or a connection string")
    if c.shards is not None and not c.cluster:
        raise LabUsageError("--shards goes with --cluster BACKEND")
    needs_sql = {"--on": c.on and not c.has_sql, "--explain": c.explain and not c.has_sql,
                 "--expect-error": c.expect_error and not c.has_sql}
    for option, missing in needs_sql.items():
        if missing:
            raise LabUsageError(f"{option} needs SQL to run")
    if c.output and not (c.has_sql or c.diff):
        raise LabUsageError("-o / << needs a query (or --diff) whose result to store")
    if c.no_execute and not c.save:
        raise LabUsageError("--no-execute goes with --save NAME")
    if c.save and len(c.statements) != 1:
        raise LabUsageError("--save NAME needs exactly one query to save")
    if c.with_ and not c.has_sql:
        raise LabUsageError("--with NAME needs a query that uses the snippet")
    if c.live is not None:
        if not c.live.isidentifier():
            raise LabUsageError(f"--live needs a Python variable name, not {c.live!r}")
        if len(c.statements) != 1:
            raise LabUsageError("--live NAME needs exactly one query")
        if c.statements[0].params:
            raise LabUsageError("--live queries cannot use :var parameters; use {var} to paste a value")
        if c.output or c.on or c.explain or c.save:
            raise LabUsageError("--live goes alone with its query (no -o, --on, --explain or --save)")
    if c.output and not c.output.isidentifier():
        raise LabUsageError(f"-o needs a Python variable name, not {c.output!r}")


# -- statements and bound parameters ----------------------------------------

def split_sql(sql: str) -> list[tuple[str, int]]:
    """``(text, offset)`` of each statement; the engine's splitter when it has one."""
    try:
        from rustmemodb import split_statements
    except ImportError:
        split_statements = _split_fallback
    pieces = split_statements(sql)
    return [(text, offset) for text, offset in pieces if sqltext.skip_leading_trivia(text) < len(text)]


def _split_fallback(sql: str) -> list[tuple[str, int]]:
    """Split on ``;`` outside literals and comments (used without the engine's)."""
    cuts, start = [], 0
    for span_start, span_end in sqltext.code_spans(sql):
        for i in range(span_start, span_end):
            if sql[i] == ";":
                cuts.append((start, i))
                start = i + 1
    cuts.append((start, len(sql)))
    out = []
    for a, b in cuts:
        text = sql[a:b]
        lead = len(text) - len(text.lstrip())
        out.append((text.strip(), a + lead))
    return [(t, o) for t, o in out if t]


def bind_statements(sql: str, ns: Namespace) -> list[Statement]:
    """Statements of ``sql``, split as written, then interpolated and bound from ``ns``."""
    if not sql.strip():
        return []
    return [bind_statement(text, offset, i, ns) for i, (text, offset) in enumerate(split_sql(sql))]


def bind_statement(written: str, offset: int, index: int, ns: Namespace) -> Statement:
    """One statement: ``{var}`` / ``{{ expr }}`` pasted, ``:var`` numbered and bound."""
    if sqltext.jinja_statements(written):
        raise LabUsageError(
            "Jinja statements ({% ... %}) are not supported in %sql; "
            "use {{ expression }} for values, or build the SQL in Python"
        )
    pasted, pasted_map = sqltext.interpolate(written, ns.__getitem__, JinjaValues(ns))
    return number_statement(pasted, offset, index, ns, maps=(pasted_map,))


def number_statement(named: str, offset: int, index: int, ns: Namespace,
                     maps: tuple[sqltext.TextMap, ...] = ()) -> Statement:
    """``named`` with its ``:var`` parameters numbered and their values bound."""
    text, names, numbered_map = sqltext.number_params(named)
    params = bind_params(names, ns)
    return Statement(text=text, offset=offset, index=index, params=params,
                     maps=(*maps, numbered_map), named_text=named)


class JinjaValues:
    """Renders ``{{ expr }}`` as jupysql does (Jinja), but strict about undefined names."""

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self._env: Any = None

    def __call__(self, expr: str) -> str | None:
        """The value's text, or None when ``expr`` is not a Jinja expression."""
        import jinja2

        if self._env is None:
            self._env = jinja2.Environment(undefined=jinja2.StrictUndefined)
        try:
            compiled = self._env.compile_expression(expr, undefined_to_none=False)
        except jinja2.TemplateSyntaxError:
            return None  # not Jinja: SQL such as the array literal '{{1,2},{3,4}}'
        try:
            return str(compiled(self.ns.mapping()))
        except jinja2.UndefinedError as exc:
            raise LabUsageError(f"{{{{ {expr} }}}}: {exc.message}; define it in the notebook") from None
        except Exception as exc:  # a filter or attribute failing in the user's expression
            raise LabUsageError(f"{{{{ {expr} }}}} failed: {type(exc).__name__}: {exc}") from None


def bind_params(names: tuple[str, ...], ns: Namespace) -> dict[str, Any] | None:
    """``{name: value}`` for every parameter name, in slot order (``None`` for none)."""
    params: dict[str, Any] = {}
    for name in names:
        if name not in ns:
            raise LabUsageError(
                f"the bound parameter :{name} has no value: define a variable "
                f"named {name!r} in the notebook"
            )
        params[name] = _python_value(ns[name])
    return params or None


def _python_value(value: Any) -> Any:
    """numpy scalars become Python scalars (the engine binds plain values)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError):
            return value
    return value
