"""Parsing: sqlglot with the PostgreSQL dialect, errors turned into ``42601``.

Only this module talks to sqlglot's parser. It returns sqlglot's AST; the binder
gives it meaning. Statements sqlglot does not model (transaction control,
EXPLAIN, PREPARE, ...) never reach here: ``dispatch.py`` peels them off first by
their leading keyword.

PostgreSQL folds unquoted identifiers to lower case in its lexer; so do we, on
sqlglot's tokens before they are parsed (``_fold_case``). Folding the finished
tree instead (sqlglot's ``normalize_identifiers``) is a second walk over every
node of every statement: 20-40% of the parse.
"""
from __future__ import annotations

import re
import threading

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from .. import errors, types
from ..plan.internal_functions import INTERNAL_SCHEMA
from . import limits, outline, parse_pg15, parse_sequence, wide


# Text shorter than this cannot nest deeper than the limits or hold a long chain.
_SHORT = 120
# Text longer than this is tokenized and parsed in bounded steps where it can be
# (sql/wide.py), so interrupt() and statement_timeout act during the parse.
_WIDE = 1 << 15

class _Postgres(Postgres):
    """PostgreSQL as sqlglot reads it, except that date/time templates (``to_char(d,
    'Mon DD')``, ``to_date``, ``to_timestamp``) stay PostgreSQL's: sqlglot would turn them
    into strftime codes, which cannot say everything a template says (``Day`` became
    ``%uay``). exec/functions/templates.py interprets them."""
    TIME_MAPPING: dict = {}

    @classmethod
    def format_time(cls, expression):
        # an empty template stays empty (sqlglot's mapping turns it into the text 'None':
        # to_char(ts, '') is NULL in PostgreSQL, to_char(1, '') empty text)
        if isinstance(expression, exp.Literal) and expression.is_string and \
                expression.this == "":
            return exp.Literal.string("")
        return super().format_time(expression)


def altered_constraint(action: exp.Expression) -> tuple[str, str] | None:
    """(constraint, its options' words) of ALTER CONSTRAINT c [NOT] DEFERRABLE
    [INITIALLY ...], carried as an ``AnalyzeValidate`` of kind ALTER CONSTRAINT; else None."""
    if isinstance(action, exp.AnalyzeValidate) and action.args.get("kind") == "ALTER CONSTRAINT":
        return action.this.name, action.expression.name
    return None


def validated_constraint(action: exp.Expression) -> str | None:
    """The constraint an ALTER TABLE action validates (VALIDATE CONSTRAINT c), else None.
    sqlglot has no node for it, and its compiled classes cannot be subclassed: it is
    carried as an ``AnalyzeValidate`` of kind CONSTRAINT (made by ``_statement_forms``)."""
    if isinstance(action, exp.AnalyzeValidate) and action.args.get("kind") == "CONSTRAINT":
        return action.this.name
    return None


def renamed_constraint(action: exp.Expression) -> tuple[str, str] | None:
    """(old, new) of an ALTER TABLE action RENAME CONSTRAINT old TO new, else None (carried
    as an ``AnalyzeValidate`` of kind RENAME CONSTRAINT, as validated_constraint's)."""
    if isinstance(action, exp.AnalyzeValidate) and \
            action.args.get("kind") == "RENAME CONSTRAINT":
        return action.this.name, action.expression.name
    return None


DIALECT = _Postgres()   # one instance: sqlglot builds a new one per call from a name
# Tokens whose text is data or a quoted name: they keep their case.
_KEEP_CASE = frozenset(t for t in TokenType if t.name.endswith("STRING")) | {
    TokenType.IDENTIFIER, TokenType.STRING}


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


# token text -> its folded text: statements repeat their keywords, names, numbers and
# punctuation, and a number or a bracket is no ``islower()`` text, so each was translated
# every time (a quarter of parse_one around sqlglot's own work). Bounded.
_FOLDED: dict = {}
_FOLDED_MAX = 4096


def _fold_case(tokens: list) -> list:
    """Unquoted words in lower case, ASCII letters only (as PostgreSQL's downcasing)."""
    keep = _KEEP_CASE
    folded = _FOLDED
    check = limits.statement_limits.check   # interrupt / timeout over huge token lists
    for i, tok in enumerate(tokens):
        if not i & 127:
            check()
        if tok.token_type not in keep:
            text = tok.text
            new = folded.get(text)
            if new is None:
                new = text if text.islower() else text.translate(_ASCII_LOWER)
                if new == text:
                    new = text
                if len(folded) >= _FOLDED_MAX:
                    folded.clear()
                folded[text] = new
            if new is not text:
                tok.text = new
    return tokens


# A run of NOTs (``NOT NOT NOT x``) nests without brackets, one parser frame each, so
# sql/outline.py cannot slice it. Double negation is the identity on booleans (NULL
# included) and still type-checks its operand, so a run keeps one NOT or two, by parity.
_NOT_RUN = re.compile(r"(?i)(?<![\w$])not\s+not\s+not(?![\w$])")


def _fold_nots(tokens: list) -> list:
    out: list = []
    run = 0
    for tok in tokens:
        if tok.token_type is TokenType.NOT:
            run += 1
            if run > 2:          # NOT NOT NOT -> NOT: drop this one and the one before
                out.pop()
                run = 1
                continue
        else:
            run = 0
        out.append(tok)
    return out


# ``timestamp '...'::time`` is ``(timestamp '...')::time`` in PostgreSQL; sqlglot binds the
# cast to the string first (``CAST(CAST('...' AS TIME) AS TIMESTAMP)``), so the typed
# literal is bracketed before parsing.
_TYPED_LITERAL = frozenset({TokenType.DATE, TokenType.TIME, TokenType.TIMETZ, TokenType.TIMESTAMP,
                            TokenType.TIMESTAMPTZ, TokenType.JSON, TokenType.JSONB,
                            TokenType.INET})


def _rewrite_pairs(tokens: list, rewrite) -> list:
    """One pass over adjacent token pairs: ``rewrite(tok, next, after)`` returns the
    tokens that replace ``tok`` and ``next``, or None to keep ``tok``."""
    out: list = []
    n = len(tokens)
    i = 0
    while i < n:
        tok = tokens[i]
        new = rewrite(tok, tokens[i + 1] if i + 1 < n else None,
                      tokens[i + 2] if i + 2 < n else None)
        if new is not None:
            out.extend(new)
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def _bracketed(first, last, inner: list) -> list:
    return [Token(TokenType.L_PAREN, "(", first.line, first.col, first.start, first.start),
            *inner, Token(TokenType.R_PAREN, ")", last.line, last.col, last.end, last.end)]


def _typed_literal(tok, lit, after):
    if tok.token_type in _TYPED_LITERAL and lit is not None and after is not None and \
            lit.token_type is TokenType.STRING and after.token_type is TokenType.DCOLON:
        return _bracketed(tok, lit, [tok, lit])
    return None


# sqlglot rewrites ``INTERVAL '<n> <unit> <more>'`` to ``INTERVAL '<n>' <unit>`` when the
# text holds one "number unit" pair, silently dropping the rest: ``interval '2 days
# 01:02:03'`` lost its time. Such a literal is read as a cast of its whole text instead,
# which PostgreSQL's interval input (types.parse_interval) understands. The test is
# sqlglot's own pattern, so it follows what sqlglot would rewrite.
_INTERVAL_PAIR = exp.INTERVAL_STRING_RE


def _whole_interval(tok, lit, _after):
    if tok.token_type is TokenType.INTERVAL and lit is not None and \
            lit.token_type is TokenType.STRING and \
            len(_INTERVAL_PAIR.findall(lit.text)) == 1 and \
            not _INTERVAL_PAIR.fullmatch(lit.text):
        cast = Token(TokenType.DCOLON, "::", lit.line, lit.col, lit.end, lit.end)
        return _bracketed(tok, lit, [lit, cast, tok])
    return None


# Object identifier types sqlglot reads after ``::`` or AS, but not with ``[]`` after them:
# ``$1::oid[]`` (asyncpg's type introspection) failed to parse. An oid is a number here,
# so an array of them is a BIGINT[]; the cast names the type OID_ARRAY, which the binder
# reads as BIGINT[] that also takes an oidvector's text ('20 21': pg_proc.proargtypes,
# cast by pgcli's function completion as ``proargtypes::regtype[]``).
_OID_TYPES = frozenset({"oid", "regclass", "regtype", "regproc", "regnamespace", "regrole"})
OID_ARRAY = "rmdb_oid_array"


def _oid_arrays(tokens: list) -> list:
    out = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if 0 < i < n - 2 and tok.token_type in (TokenType.VAR, TokenType.OBJECT_IDENTIFIER) \
                and tok.text.lower() in _OID_TYPES and \
                tokens[i - 1].token_type in (TokenType.DCOLON, TokenType.ALIAS) and \
                tokens[i + 1].token_type is TokenType.L_BRACKET and \
                tokens[i + 2].token_type is TokenType.R_BRACKET:
            out.append(Token(TokenType.VAR, OID_ARRAY, tok.line, tok.col, tok.start,
                             tokens[i + 2].end))
            i += 3
            continue
        out.append(tok)
        i += 1
    return out


def _double_stars(tokens: list) -> list:
    """DuckDB's power operator ``a ** b`` (two adjacent stars): PostgreSQL's ``^``, with
    the same precedence. Two stars are no other SQL, so nothing else changes meaning."""
    out: list = []
    for tok in tokens:
        if tok.token_type is TokenType.STAR and out and \
                out[-1].token_type is TokenType.STAR and out[-1].end + 1 == tok.start:
            first = out.pop()
            out.append(Token(TokenType.CARET, "^", first.line, first.col, first.start, tok.end))
            continue
        out.append(tok)
    return out


_SAMPLE_UNITS = frozenset({TokenType.MOD, TokenType.PERCENT, TokenType.ROWS})


def _sample_rows(tokens: list) -> list:
    """DuckDB's ``USING SAMPLE n`` with no unit is n rows; sqlglot reads it as n percent
    (as it reads ``n%``), so the missing ROWS is written in."""
    out: list = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        out.append(tok)
        if tok.token_type is TokenType.NUMBER and i >= 2 and \
                tokens[i - 1].token_type is TokenType.VAR and tokens[i - 1].text == "sample" \
                and tokens[i - 2].token_type is TokenType.USING and \
                (i + 1 == n or tokens[i + 1].token_type not in _SAMPLE_UNITS):
            out.append(Token(TokenType.ROWS, "rows", tok.line, tok.col, tok.end, tok.end))
    return out


def _json_arrows(tokens: list) -> list:
    """``f(doc -> 'k' ORDER BY x)``: sqlglot fails on an aggregate argument holding the
    JSON ``->`` operator followed by ORDER BY (``f((doc -> 'k') ORDER BY x)`` parses). The
    argument before the ORDER BY is bracketed when it holds ``->`` at its own level."""
    out: list = []
    starts: list[int] = []          # where the current argument of each open bracket starts
    for tok in tokens:
        kind = tok.token_type
        if kind is TokenType.ORDER_BY and starts and _arrow_at_top(out, starts[-1]):
            start = starts[-1]
            out[start:] = _bracketed(out[start], out[-1], out[start:])
        out.append(tok)
        if kind is TokenType.L_PAREN:
            starts.append(len(out))
        elif kind is TokenType.R_PAREN and starts:
            starts.pop()
        elif kind is TokenType.COMMA and starts:
            starts[-1] = len(out)
    return out


def _arrow_at_top(out: list, start: int) -> bool:
    depth = 0
    for tok in out[start:]:
        if tok.token_type is TokenType.L_PAREN:
            depth += 1
        elif tok.token_type is TokenType.R_PAREN:
            depth -= 1
        elif tok.token_type is TokenType.ARROW and depth == 0:
            return True
    return False


def _floor_slashes(tokens: list) -> list:
    """DuckDB's ``a // b`` (integer division for integers, division otherwise) is this
    engine's ``/``, which divides integers as PostgreSQL does: the two adjacent slashes
    become one. (PostgreSQL has no ``//``; spaced apart, ``/ /`` stays a syntax error.)"""
    out: list = []
    for tok in tokens:
        if tok.token_type is TokenType.SLASH and out and \
                out[-1].token_type is TokenType.SLASH and out[-1].end + 1 == tok.start:
            continue
        out.append(tok)
    return out


# jsonb's ``doc @? path`` is a token sqlglot's PostgreSQL parser has no rule for, while
# ``doc @@ path`` parses (as text search's MatchAgainst). ``@?`` becomes ``@@`` with its
# right operand wrapped in a marker call the binder reads back (bind_jsonb.py).
PATH_EXISTS_MARK = "rustmemodb_path_exists"


# Types sqlglot reads no typed literal of: ``cidr '10/8'`` / ``money '1.50'`` (a type name
# then a string) is read as the cast ``('10/8'::cidr)``, as PostgreSQL reads it.
_NET_TYPE_WORDS = frozenset({"cidr", "macaddr", "macaddr8", "money"})
_NET_LITERAL = re.compile(r"(?i)\b(?:cidr|macaddr8?|money)\s*'")


def _network_literal(tok, lit, _after):
    if tok.token_type in (TokenType.VAR, TokenType.MONEY) and lit is not None and \
            lit.token_type is TokenType.STRING and tok.text.lower() in _NET_TYPE_WORDS:
        cast = Token(TokenType.DCOLON, "::", lit.line, lit.col, lit.end, lit.end)
        name = Token(tok.token_type, tok.text.lower(), tok.line, tok.col, tok.start, tok.end)
        return _bracketed(tok, lit, [lit, cast, name])
    return None


def _bit_varying(tokens: list) -> list:
    """``bit varying`` (sqlglot reads BIT then a name) as ``varbit``, its other name."""
    out: list = []
    for tok in tokens:
        if tok.token_type is TokenType.VAR and tok.text.lower() == "varying" and out and \
                out[-1].token_type is TokenType.BIT:
            first = out.pop()
            out.append(Token(TokenType.VAR, "varbit", first.line, first.col, first.start,
                             tok.end))
            continue
        out.append(tok)
    return out


def _subnet_operators(tokens: list) -> list:
    """inet's ``<<=`` and ``>>=`` (is contained by or equals / contains or equals):
    sqlglot reads ``<`` then ``<=``. They become ``<@`` and ``@>``, the containment
    operators sqlglot knows (array_contained_by / array_contains_all, which
    exec/functions/network.py defines for inet and cidr)."""
    out: list = []
    for tok in tokens:
        if out and tok.start == out[-1].end + 1 and (
                (tok.token_type is TokenType.LTE and out[-1].token_type is TokenType.LT) or
                (tok.token_type is TokenType.GTE and out[-1].token_type is TokenType.GT)):
            first = out.pop()
            kind, text = (TokenType.LT_AT, "<@") if first.token_type is TokenType.LT else \
                (TokenType.AT_GT, "@>")
            out.append(Token(kind, text, first.line, first.col, first.start, tok.end))
            continue
        out.append(tok)
    return out


def _path_exists_operator(tokens: list) -> list:
    out: list = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok.token_type is not TokenType.AT_QMARK or i + 1 >= n:
            out.append(tok)
            i += 1
            continue
        end = i + 2          # the right operand: a name (a.b), $n, a literal, or a (group)
        if tokens[i + 1].token_type is TokenType.PARAMETER and i + 2 < n:
            end = i + 3
        while end + 1 < n and tokens[end].token_type is TokenType.DOT:
            end += 2
        if tokens[i + 1].token_type is TokenType.L_PAREN:
            depth = 0
            for end in range(i + 1, n):
                depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(
                    tokens[end].token_type, 0)
                if depth == 0:
                    break
            end += 1
        first, last = tokens[i + 1], tokens[end - 1]
        out.append(Token(TokenType.DAT, "@@", tok.line, tok.col, tok.start, tok.end))
        out.append(Token(TokenType.VAR, PATH_EXISTS_MARK, first.line, first.col,
                         first.start, first.start))
        out.append(Token(TokenType.L_PAREN, "(", first.line, first.col, first.start,
                         first.start))
        out.extend(tokens[i + 1:end])
        out.append(Token(TokenType.R_PAREN, ")", last.line, last.col, last.end, last.end))
        i = end
    return out


PG_JSON_OBJECT = "pg_json_object"


def _json_object_calls(tokens: list) -> list:
    """PostgreSQL 15's ``json_object(text[] [, text[]])``: sqlglot reads every
    ``json_object(...)`` as SQL/JSON's ``JSON_OBJECT(k: v, ...)`` (PostgreSQL 16). A call
    with no ``:`` at its own level is the array form, renamed for the binder."""
    out = list(tokens)
    for i, tok in enumerate(tokens[:-1]):
        if tok.token_type is not TokenType.VAR or tok.text.lower() != "json_object" or \
                tokens[i + 1].token_type is not TokenType.L_PAREN:
            continue
        depth = 0
        for later in tokens[i + 1:]:
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(later.token_type, 0)
            if depth == 0 or (depth == 1 and later.token_type is TokenType.COLON):
                break
        if depth == 0:
            out[i] = Token(TokenType.VAR, PG_JSON_OBJECT, tok.line, tok.col, tok.start,
                           tok.end)
    return out


# sqlglot reads ``date_part('f', x)`` as ``extract(f FROM x)``; PostgreSQL's date_part is
# float8 where extract is numeric (14+): the call is renamed so the binder tells them apart
PG_DATE_PART = "pg_date_part"


def _date_part_calls(tokens: list) -> list:
    out = list(tokens)
    for i, tok in enumerate(tokens[:-1]):
        if tok.token_type is TokenType.VAR and tok.text.lower() == "date_part" and \
                tokens[i + 1].token_type is TokenType.L_PAREN:
            out[i] = Token(TokenType.VAR, PG_DATE_PART, tok.line, tok.col, tok.start, tok.end)
    return out


_LOCAL = threading.local()


def _tokenizer():
    """A tokenizer per thread: building one costs more than tokenizing a statement,
    and a tokenizer keeps per-call state, so threads must not share one."""
    tok = getattr(_LOCAL, "tokenizer", None)
    if tok is None:
        tok = _LOCAL.tokenizer = DIALECT.tokenizer()
    return tok


def _parser():
    """A parser per thread, for the same reasons (``Parser.parse`` resets its state)."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = DIALECT.parser()
    return parser


# REFRESH MATERIALIZED VIEW is no statement sqlglot reads (it logs a warning and returns
# an opaque Command); CREATE MATERIALIZED VIEW ... WITH DATA neither.
_REFRESH = re.compile(r"(?is)^\s*refresh\s+materialized\s+view\s+(concurrently\s+)?"
                      r"(?:(?P<schema>\"(?:[^\"]|\"\")+\"|[a-z_][\w$]*)\s*\.\s*)?"
                      r"(?P<name>\"(?:[^\"]|\"\")+\"|[a-z_][\w$]*)\s*"
                      r"(?P<data>with\s+(?:no\s+)?data)?\s*;?\s*$")
_ON_COMMIT = re.compile(r"(?is)^(\s*create\s+(?:global\s+|local\s+)?temp(?:orary)?\s+table\b.*?)"
                        r"\s+on\s+commit\s+(preserve\s+rows|delete\s+rows|drop)\s*;?\s*$")
_SET_RETURNING = re.compile(r"(?is)^\s*create\s+(?:or\s+replace\s+)?function\b.*?"
                            r"\breturns\s+(setof|table)\b")
# A name as written (quoted, or bare), and the head of ``ALTER TABLE [IF EXISTS] [ONLY]
# [schema.]name`` with its groups (exists, schema, name): the ALTER TABLE forms sqlglot has
# no node for, below, start with it
_NAME = r"\"(?:[^\"]|\"\")+\"|[a-z_][\w$]*"
_ALTER_TABLE_HEAD = (r"(?is)^\s*alter\s+table\s+(?P<exists>if\s+exists\s+)?(?:only\s+)?"
                     rf"(?:(?P<schema>{_NAME})\s*\.\s*)?(?P<name>{_NAME})\s+")
_VALIDATE = re.compile(_ALTER_TABLE_HEAD +
                       rf"validate\s+constraint\s+(?P<constraint>{_NAME})\s*;?\s*$")
# ALTER TABLE t ALTER CONSTRAINT c [NOT] DEFERRABLE [INITIALLY DEFERRED | IMMEDIATE]:
# sqlglot has no node for it either (carried like VALIDATE CONSTRAINT, below)
_ALTER_CONSTRAINT = re.compile(
    _ALTER_TABLE_HEAD + rf"alter\s+constraint\s+(?P<constraint>{_NAME})"
    r"(?P<options>(?:\s+(?:not\s+)?deferrable|\s+initially\s+(?:deferred|immediate))+)\s*;?\s*$")
# ALTER TABLE t RENAME CONSTRAINT c TO d: sqlglot has no node for it either (carried like
# VALIDATE CONSTRAINT, below)
_RENAME_CONSTRAINT = re.compile(
    _ALTER_TABLE_HEAD + rf"rename\s+constraint\s+(?P<constraint>{_NAME})\s+to\s+"
    rf"(?P<new>{_NAME})\s*;?\s*$")
# RENAME's COLUMN is optional in PostgreSQL; sqlglot reads ``RENAME c TO d`` without it as
# a rename of the table (to ``c``), so the word is put back.
_RENAME_BARE_COLUMN = re.compile(
    r"(?is)^(\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?"
    r"(?:\"(?:[^\"]|\"\")+\"|[a-z_][\w$]*)(?:\s*\.\s*(?:\"(?:[^\"]|\"\")+\"|[a-z_][\w$]*))?"
    r"\s+rename\s+)(?!(?:column|constraint|to)\b)(?=\"|[a-z_])")
# DROP SEQUENCE | INDEX [CONCURRENTLY] | TYPE [IF EXISTS] a, b [CASCADE | RESTRICT]: a list of names
_DROP_LIST = re.compile(r"(?is)^\s*drop\s+(?P<kind>sequence|index|type)\s+"
                        r"(?P<concurrently>concurrently\s+)?(?P<exists>if\s+exists\s+)?"
                        r"(?P<rest>[^,;]+,.*)$")
# CREATE VIEW ... WITH [LOCAL | CASCADED] CHECK OPTION: sqlglot reads it as a Command (and
# logs a warning): the tail is cut and kept as the view's check_option property, which is
# how sqlglot reads the equivalent WITH (check_option = ...).
_CHECK_OPTION = re.compile(r"(?is)^(\s*create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+)?"
                           r"(?:recursive\s+)?view\b.*?)\s+with\s+(?:(local|cascaded)\s+)?"
                           r"check\s+option\s*;?\s*$")
_WITH_DATA = re.compile(r"(?is)^(\s*create\s+materialized\s+view\b.*?)\s+with\s+(no\s+)?data"
                        r"\s*;?\s*$")


def _identifier(name: str) -> exp.Identifier:
    """A name as written: quoted keeps its case (doubled quotes undone), bare folds."""
    if name.startswith('"'):
        return exp.to_identifier(name[1:-1].replace('""', '"'), quoted=True)
    return exp.to_identifier(name.lower())


def _table(m: re.Match) -> exp.Table:
    """The ``[schema.]name`` a statement form's match names (sql/schemas.py qualifies it)."""
    schema = m.group("schema")
    return exp.Table(this=_identifier(m.group("name")),
                     db=_identifier(schema) if schema else None)


def _statement_forms(sql: str) -> exp.Expression | str:
    """What sqlglot cannot read, made readable: REFRESH MATERIALIZED VIEW as a Refresh
    node; CREATE MATERIALIZED VIEW without its WITH DATA tail (the default; WITH NO DATA
    is refused: an unpopulated view is not kept here); CREATE TEMP TABLE without ON COMMIT
    PRESERVE ROWS (the default; DELETE ROWS and DROP are refused)."""
    if sql[:40].lstrip()[:6].lower() in ("create", "alter "):
        seq = parse_sequence.statement(sql) or parse_sequence.alter_identity(sql)
        if seq is not None:
            return seq
        if "dentity" in sql or "DENTITY" in sql:
            sql = parse_sequence.identity_lists(sql)
    m = _SET_RETURNING.match(sql)
    if m is not None:
        raise errors.not_supported(f"RETURNS {m.group(1).upper()}",
                                   hint="SQL functions here return one value.")
    m = _ON_COMMIT.match(sql)
    if m is not None:
        if not m.group(2).lower().startswith("preserve"):
            raise errors.not_supported(f"ON COMMIT {m.group(2).upper()}",
                                       hint="Temporary tables here keep their rows until "
                                            "the session ends (ON COMMIT PRESERVE ROWS).")
        return m.group(1)
    m = _REFRESH.match(sql)
    if m is not None:
        if m.group("data") and "no" in m.group("data").lower():
            raise errors.not_supported("REFRESH MATERIALIZED VIEW ... WITH NO DATA")
        return exp.Refresh(this=_table(m),
                           kind="MATERIALIZED VIEW")
    m = _DROP_LIST.match(sql)
    if m is not None:        # sqlglot reads a list of names only after DROP TABLE / VIEW
        stmt = parse_one(f"DROP TABLE {m.group('exists') or ''}{m.group('rest')}")
        stmt.set("kind", m.group("kind").upper())
        stmt.set("concurrently", bool(m.group("concurrently")))
        return stmt
    m = _RENAME_BARE_COLUMN.match(sql)
    if m is not None:
        return m.group(1) + "COLUMN " + sql[m.end():]
    m = _VALIDATE.match(sql)
    if m is not None:
        return exp.Alter(this=_table(m), kind="TABLE",
                         exists=bool(m.group("exists")),
                         actions=[exp.AnalyzeValidate(kind="CONSTRAINT",
                                                      this=_identifier(m.group("constraint")))])
    m = _RENAME_CONSTRAINT.match(sql)
    if m is not None:
        return exp.Alter(this=_table(m), kind="TABLE",
                         exists=bool(m.group("exists")),
                         actions=[exp.AnalyzeValidate(kind="RENAME CONSTRAINT",
                                                      this=_identifier(m.group("constraint")),
                                                      expression=_identifier(m.group("new")))])
    m = _ALTER_CONSTRAINT.match(sql)
    if m is not None:
        options = " ".join(m.group("options").upper().split())
        return exp.Alter(this=_table(m), kind="TABLE",
                         exists=bool(m.group("exists")),
                         actions=[exp.AnalyzeValidate(kind="ALTER CONSTRAINT",
                                                      this=_identifier(m.group("constraint")),
                                                      expression=exp.var(options))])
    m = _WITH_DATA.match(sql)
    if m is not None:
        if m.group(2):
            raise errors.not_supported("CREATE MATERIALIZED VIEW ... WITH NO DATA",
                                       hint="Create it with its data (the default).")
        return m.group(1)
    return sql


# Statements sqlglot reads as an opaque Command, with a warning on the process's log
# (which a library must not leave there): refused here first, by their first word.
_UNSUPPORTED_COMMANDS = frozenset({"do", "listen", "notify", "unlisten", "cluster",
                                   "reindex", "load", "security", "import", "call", "lock",
                                   "declare", "fetch", "move", "close"})
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")
# Objects and table actions sqlglot also reads as a Command (with that log warning): named
# in the 0A000 so the user learns what is missing, not that the SQL is misspelt.
_UNSUPPORTED_CREATE = re.compile(
    r"(?is)^\s*create\s+(?:or\s+replace\s+)?(?:(?:trusted|procedural|default|constraint)\s+)*"
    r"(?P<kind>domain|extension|policy|aggregate|statistics|rule|collation|tablespace|operator"
    r"(?:\s+class|\s+family)?|conversion|language|cast|event\s+trigger|foreign\s+data\s+wrapper"
    r"|foreign\s+table|server|publication|subscription|text\s+search|transform|access\s+method"
    r"|user\s+mapping)\b")
_UNSUPPORTED_ALTER = re.compile(
    r"(?is)^\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?[\w.\"$]+\s+"
    r"(?P<kind>(?:enable|disable|force|no\s+force)\s+(?:row\s+level\s+security|trigger|rule)"
    r"|cluster\s+on|set\s+(?:logged|unlogged|without\s+cluster|tablespace|access\s+method|schema)"
    r"|replica\s+identity|inherit|no\s+inherit|attach\s+partition|detach\s+partition"
    r"|alter\s+(?:column\s+)?[\w\"$]+\s+set\s+(?:statistics|storage|compression))\b")
# ALTER TABLE's actions as sqlglot reads them (its ALTER_PARSERS, for PostgreSQL) plus the
# ones read before it (VALIDATE CONSTRAINT, OWNER TO): any other word would be a Command.
_ALTER_TABLE_ACTION = re.compile(
    r"(?is)^\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?"
    r"(?:\"(?:[^\"]|\"\")+\"|[\w$]+)(?:\.(?:\"(?:[^\"]|\"\")+\"|[\w$]+))?\s+(?P<word>[a-z]+)\b")
_ALTER_TABLE_WORDS = frozenset({"add", "alter", "drop", "rename", "set", "owner", "validate"})
_UNSUPPORTED_ALTER_OBJECT = re.compile(
    r"(?is)^\s*alter\s+(?P<kind>type|system|domain|extension|policy|aggregate|collation"
    r"|tablespace|operator|language|publication|subscription|server|event\s+trigger"
    r"|text\s+search|statistics|rule|large\s+object)\b")
_UNSUPPORTED_HINTS = {
    "EXTENSION": "Extensions do not load here; gen_random_uuid(), md5() and the JSON "
                 "functions are built in.",
    "DOMAIN": "Use the base type with a CHECK constraint on the column.",
}


# information_schema._pg_expandarray(a) is a set-returning function of records (x: the
# element, n: its position). pgjdbc's getPrimaryKeys/getIndexInfo select its fields
# beside each other in one select list, and ``(result.KEYS).x`` of the whole record one
# level up. There are no record types here, so those forms are read as the two
# set-returning functions that give the fields, expanded in lockstep as PostgreSQL
# expands a select list's set-returning functions: ``(...).n`` is generate_subscripts,
# the record and ``(...).x`` are unnest, and the field ``x`` of such a column is the
# column. int2vector columns (indkey, indoption) are read as arrays (``::oid[]``).
_EXPAND_FIELD = re.compile(r"\(\s*information_schema\._pg_expandarray\(([^()]*)\)\s*\)\.(n|x)\b",
                           re.I)
_EXPAND_RECORD = re.compile(r"information_schema\._pg_expandarray\(([^()]*)\)", re.I)
_RECORD_X = re.compile(r"\(\s*(\w+\.\w+)\s*\)\.x\b", re.I)
_INDOPTION = re.compile(r"\b(\w+)\.indoption\b(?!\s*::)", re.I)


def _expandarray_records(sql: str) -> str:
    sql = _EXPAND_FIELD.sub(lambda m: f"generate_subscripts(({m.group(1)})::oid[], 1)"
                            if m.group(2).lower() == "n" else f"unnest(({m.group(1)})::oid[])",
                            sql)
    sql = _EXPAND_RECORD.sub(lambda m: f"unnest(({m.group(1)})::oid[])", sql)
    sql = _RECORD_X.sub(r"\1", sql)
    return _INDOPTION.sub(r"\1.indoption::oid[]", sql)


# ALTER TABLE t ADD CHECK (...) with no CONSTRAINT name: sqlglot reads only the named
# form (the unnamed one became a Command and a 42601). Parsed with a placeholder name,
# then the bare check is put back, so it gets PostgreSQL's default name (t_x_check).
_ADD_CHECK = re.compile(r"(?is)(^\s*alter\s+table\s+.*?\s|,\s*)add\s+check\s*\(")
_UNNAMED = "rmdb_unnamed_check"


def _unnamed_checks(sql: str) -> exp.Expression:
    stmt = _parse_one(_ADD_CHECK.sub(lambda m: f"{m.group(1)}ADD CONSTRAINT {_UNNAMED} CHECK (",
                                     sql))
    for node in list(stmt.find_all(exp.Constraint)):
        if node.name == _UNNAMED:
            check = node.find(exp.CheckColumnConstraint)
            if check is not None:
                node.replace(check)
    return stmt


_OVERRIDING = re.compile(r"(?is)(\)|\binsert\s+into\s+(?:\"(?:[^\"]|\"\")+\"|[\w$.]+)"
                         r"(?:\s+as\s+\w+)?)\s+overriding\s+(system|user)\s+value\b")


def _overriding(sql: str) -> tuple[str, str | None]:
    """INSERT ... OVERRIDING {SYSTEM | USER} VALUE, which sqlglot cannot read: the text
    without it, and "system" / "user" (kept in the Insert node's meta by ``parse_one``)."""
    m = _OVERRIDING.search(sql)
    if m is None:
        return sql, None
    return sql[:m.end(1)] + sql[m.end():], m.group(2).lower()


def parse_one(sql: str) -> exp.Expression:
    if "verriding" in sql or "VERRIDING" in sql:
        sql, overriding = _overriding(sql)
        if overriding is not None:
            stmt = _parse_one(sql)
            insert = stmt if isinstance(stmt, exp.Insert) else stmt.find(exp.Insert)
            if insert is None:
                raise errors.syntax_error('syntax error at or near "OVERRIDING"')
            insert.meta["overriding"] = overriding     # no sqlglot arg says it
            return stmt
    return _parse_one(sql)


def _parse_one(sql: str) -> exp.Expression:
    m = _FIRST_WORD.match(sql)
    if m is not None and m.group(1).lower() in _UNSUPPORTED_COMMANDS:
        word = m.group(1).upper()
        raise errors.not_supported(f"statement {word}", hint={
            "DO": "Anonymous code blocks (PL/pgSQL) do not run here.",
            "CALL": "There are no stored procedures here.",
            "LOCK": "Transactions here are snapshot-isolated: a write conflict is 40001 at "
                    "COMMIT; SELECT ... FOR UPDATE locks the rows it reads.",
            **dict.fromkeys(("DECLARE", "FETCH", "MOVE", "CLOSE"),
                            "SQL cursors are the wire server's (rustmemodb server); embedded, "
                            "the DB-API cursor's fetchmany() reads a result in parts.")}
            .get(word))
    head = sql[:30].lstrip()[:6].lower()
    if head == "alter ":
        other = _UNSUPPORTED_ALTER_OBJECT.match(sql)
        if other is not None:
            raise errors.not_supported("ALTER " + " ".join(other.group("kind").upper().split()))
    if head in ("create", "alter "):
        bad = (_UNSUPPORTED_CREATE if head == "create" else _UNSUPPORTED_ALTER).match(sql)
        if bad is not None:
            kind = " ".join(bad.group("kind").upper().split())
            what = f"CREATE {kind}" if head == "create" else f"ALTER TABLE ... {kind}"
            raise errors.not_supported(what, hint=_UNSUPPORTED_HINTS.get(kind))
        if head == "alter ":
            action = _ALTER_TABLE_ACTION.match(sql)
            if action is not None and action.group("word").lower() not in _ALTER_TABLE_WORDS:
                word = action.group("word").upper()
                raise errors.syntax_error(f'syntax error at or near "{word}"',
                                          position=action.start("word"))
    if head == "alter " and _ADD_CHECK.search(sql) is not None:
        return _unnamed_checks(sql)
    if head == "create" and _CHECK_OPTION.match(sql) is not None:
        return _with_check_option(sql)
    if sql[:30].lstrip()[:7].lower() in ("refresh", "create ", "alter s", "alter t",
                                           "drop se", "drop in", "drop ty"):
        form = _statement_forms(sql)
        if isinstance(form, exp.Expression):
            return form
        sql = form
    if "_pg_expandarray" in sql:
        sql = _expandarray_records(sql)
    if not sql.isascii():
        types.check_text(sql)   # a lone surrogate is not UTF-8: 22021
    deep = len(sql) > _SHORT and (sql.count("(") > outline.SLICE or _many_cases(sql))
    if deep:
        sql = limits.check_text(sql)
    dialect = DIALECT
    try:
        tokens = wide.tokenize(sql, _tokenizer()) if len(sql) > _WIDE else None
        if tokens is None:
            tokens = _tokenizer().tokenize(sql)
        tokens = _fold_case(tokens)
        if len(sql) > _SHORT and _NOT_RUN.search(sql):
            tokens = _fold_nots(tokens)
        if "::" in sql:
            tokens = _rewrite_pairs(tokens, _typed_literal)
        if "[]" in sql:
            tokens = _oid_arrays(tokens)
        if "//" in sql:
            tokens = _floor_slashes(tokens)
        if "**" in sql:
            tokens = _double_stars(tokens)
        if "->" in sql and ("rder" in sql or "RDER" in sql):
            tokens = _json_arrows(tokens)
        if "ample" in sql or "AMPLE" in sql:
            tokens = _sample_rows(tokens)
        if "nterval" in sql or "NTERVAL" in sql:
            tokens = _rewrite_pairs(tokens, _whole_interval)
        if "@?" in sql:
            tokens = _path_exists_operator(tokens)
        if "<<=" in sql or ">>=" in sql:
            tokens = _subnet_operators(tokens)
        if "arying" in sql or "ARYING" in sql:
            tokens = _bit_varying(tokens)
        if "'" in sql and _NET_LITERAL.search(sql):
            tokens = _rewrite_pairs(tokens, _network_literal)
        if "son_object" in sql or "SON_OBJECT" in sql:
            tokens = _json_object_calls(tokens)
        if "ate_part" in sql or "ATE_PART" in sql:
            tokens = _date_part_calls(tokens)
        pg15 = None
        if (("ulls" in sql or "ULLS" in sql) and parse_pg15.NULLS_DISTINCT.search(sql)) or (
                ("et " in sql or "ET " in sql) and parse_pg15.SET_LIST.search(sql)):
            tokens, pg15 = parse_pg15.cut(tokens, _CREATE_INDEX.match(sql) is not None)
        statements = None
        if deep:
            depth = outline.max_depth(tokens)
            if depth > limits.MAX_NESTING:
                raise limits.too_complex()
            if depth > outline.SLICE:   # sliced from the inside out (sql/outline.py)
                stmt = outline.parse_sliced(tokens, sql, dialect.parser)
                if stmt is not None:
                    statements = [stmt]
        if statements is None and len(tokens) > 2 * wide.RUN_TOKENS:
            stmt = wide.parse(tokens, sql, dialect.parser)
            if stmt is not None:
                statements = [stmt]
        if statements is None:
            statements = _parser().parse(tokens, sql)
    except ParseError as exc:
        raise _syntax_error(sql, exc) from None
    except TokenError as exc:
        raise errors.syntax_error(f"syntax error: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # sqlglot's own bugs on odd input (e.g. date_part('', x)): still a syntax error
        raise errors.syntax_error(f"syntax error: {exc}") from None
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise errors.syntax_error(
            "cannot run several statements in one execute()" if statements else "empty statement",
            hint="Use executescript() or split the statements." if statements else None)
    stmt = statements[0]
    if pg15 is not None:
        parse_pg15.put_back(stmt, pg15)
    if isinstance(stmt, exp.Command):
        word = str(stmt.this).upper()
        raise errors.syntax_error(f'syntax error at or near "{word}"', position=0)
    if len(sql) > _SHORT:   # long chains balanced, depth checked (sql/limits.py)
        stmt = limits.balance(stmt, sql)
    _keep_written_names(stmt, sql)
    if _ROW_SET.search(sql):
        _expand_row_assignments(stmt)
    if "ts_stat" in sql or "TS_STAT" in sql:
        _ts_stat_queries(stmt)
    return stmt


_ROW_SET = re.compile(r"(?i)\bset\s*\(")
_CREATE_INDEX = re.compile(r"(?is)\s*create\s+(?:unique\s+)?index\b")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _keep_written_names(stmt: exp.Expression, sql: str) -> None:
    """A function call's name as written, in its node's meta (``written``): sqlglot builds
    one node for several names (``lpad``/``rpad`` are Pad, ``strpos`` StrPosition,
    ``mod(a, b)`` the Mod of ``a % b``), and PostgreSQL names a select-list call after the
    name written (sql/bind/bind_select.output_name); a DEFAULT keeps ``now()``
    (bind_ddl.default_text). Only those places are marked: rows of VALUES are skipped."""
    if "(" not in sql:
        return
    for node in stmt.walk(prune=_no_names_in):
        if isinstance(node, exp.Select):
            for item in node.expressions:
                _mark_calls(item, sql)
                _mark_leftmost(item, sql)
        elif isinstance(node, (exp.DefaultColumnConstraint, exp.AlterColumn)):
            _mark_calls(node, sql)


def _no_names_in(node: exp.Expression) -> bool:
    return isinstance(node, exp.Values)


def _mark_calls(tree: exp.Expression, sql: str) -> None:
    """The parser left a call's name token span in its node's meta; an operator's node
    (``a % b``) has none, nor has a call sqlglot reads with a parser of its own."""
    for node in tree.walk():
        meta = node._meta
        if meta and "start" in meta and isinstance(node, (exp.Func, exp.Binary)) and \
                not isinstance(node, exp.Anonymous):
            end = meta["end"] + 1
            word = sql[meta["start"]:end]
            if _WORD.fullmatch(word) and sql[end:end + 64].lstrip().startswith("("):
                meta["written"] = word.lower()


def _mark_leftmost(item: exp.Expression, sql: str) -> None:
    """A select-list call sqlglot read with a parser of its own (json_agg, date_part, ...)
    keeps no span: its name is the word before the "(" that precedes its leftmost
    argument token, if that is all there is between them."""
    while isinstance(item, (exp.Window, exp.Filter, exp.WithinGroup)):
        item = item.this
    if isinstance(item, exp.Func) and \
            not isinstance(item, (exp.Anonymous, exp.Cast, exp.TryCast)) and \
            not (item._meta and "written" in item._meta):
        starts = [n._meta["start"] for n in item.walk() if n._meta and "start" in n._meta]
        if starts:
            m = _CALL_BEFORE.search(sql, 0, min(starts))
            if m is not None:
                item.meta["written"] = m.group(1).lower()


_CALL_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_$]*)\s*\(\s*(?:distinct\s+)?$", re.I)


def _ts_stat_queries(stmt: exp.Expression) -> None:
    """``FROM ts_stat('SELECT tsv FROM docs' [, weights])``: the query it names, its
    lexemes unnested and counted (word, ndoc: documents, nentry: occurrences, a lexeme
    without positions once), as a derived table, so every reader of the tree (binder,
    cluster routing) sees the table it reads. ``ts_stat_source`` (exec/functions/
    textsearch.py) is 22023 unless the named query returns one tsvector column."""
    for table in list(stmt.find_all(exp.Table)):
        func = table.this
        if not (isinstance(func, exp.Anonymous) and func.name.lower() == "ts_stat"):
            continue
        args = list(func.expressions)
        if len(args) not in (1, 2) or not all(isinstance(a, exp.Literal) and a.is_string
                                              for a in args):
            raise errors.not_supported("ts_stat of anything but literal query text",
                                       hint="ts_stat('SELECT tsv FROM docs' [, 'ab'])")
        vector = f"{INTERNAL_SCHEMA}.ts_stat_source(s.v)"
        if len(args) == 2:      # only positions of these weights count ('ab')
            letters = ",".join(c for c in args[1].this.lower() if c in "abcd")
            vector = f"ts_filter({vector}, '{{{letters}}}')"
        query = _parse_one(
            "SELECT u.lexeme AS word, count(*) AS ndoc, "
            "sum(coalesce(array_length(u.positions, 1), 1)) AS nentry "
            f"FROM (SELECT 1) AS s(v) CROSS JOIN LATERAL unnest({vector}) AS u "
            "GROUP BY u.lexeme")
        query.find(exp.Subquery).set("this", _parse_one(args[0].this))
        alias = table.args.get("alias")
        table.replace(exp.Subquery(this=query, alias=alias.copy() if alias is not None else
                                   exp.TableAlias(this=exp.to_identifier("ts_stat"))))


def _expand_row_assignments(stmt: exp.Expression) -> None:
    """``SET (a, b) = (x, y)`` / ``= ROW(x, y)`` / ``= (SELECT p, q ...)`` of UPDATE and
    ON CONFLICT DO UPDATE, as the one-column assignments every later stage reads
    (``a = x, b = y``; a sub-select gives each column its own projection of it, which
    the scalar subquery rules then check: 21000 for more than one row, NULLs for none)."""
    for node in stmt.find_all(exp.Update, exp.OnConflict):
        items = node.args.get("expressions") or []
        if not any(isinstance(a, exp.EQ) and isinstance(a.this, (exp.Tuple, exp.Paren))
                   for a in items):
            continue
        out = []
        for a in items:
            target = a.this if isinstance(a, exp.EQ) else None
            if not isinstance(target, (exp.Tuple, exp.Paren)):
                out.append(a)
                continue
            columns = target.expressions if isinstance(target, exp.Tuple) else [target.this]
            source = a.expression
            if isinstance(source, exp.Tuple) or (isinstance(source, exp.Anonymous)
                                                 and source.name.upper() == "ROW"):
                values = list(source.expressions)
            elif isinstance(source, exp.Subquery) and isinstance(source.this, exp.Select):
                select = source.this
                if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column)
                                                   and isinstance(e.this, exp.Star))
                       for e in select.expressions):
                    raise errors.not_supported(
                        "SET (...) = (SELECT * ...)", hint="Name the sub-select's columns.")
                values = []
                for e in select.expressions:
                    one = select.copy()
                    one.set("expressions", [e.copy()])
                    values.append(exp.Subquery(this=one))
            elif isinstance(source, exp.Paren) and len(columns) == 1:
                values = [source.this]
            elif len(columns) == 1:
                values = [source]
            else:
                raise errors.sql_error("0A000", "source for a multiple-column UPDATE item must "
                                                "be a sub-SELECT or ROW() expression",
                                       position=position_of(a))
            if len(values) != len(columns):
                raise errors.syntax_error("number of columns does not match number of values",
                                          position=position_of(a))
            for column, value in zip(columns, values):
                out.append(exp.EQ(this=column.copy(), expression=value.copy()))
        node.set("expressions", out)


def _with_check_option(sql: str) -> exp.Expression:
    """CREATE VIEW ... WITH [LOCAL | CASCADED] CHECK OPTION as sqlglot reads ``CREATE VIEW v
    WITH (check_option = local | cascaded) AS ...`` (CASCADED is the default)."""
    m = _CHECK_OPTION.match(sql)
    stmt = parse_one(m.group(1))
    if not isinstance(stmt, exp.Create) or (stmt.args.get("kind") or "").upper() != "VIEW":
        raise errors.syntax_error('syntax error at or near "CHECK"')
    props = stmt.args.get("properties")
    if props is None:
        props = exp.Properties(expressions=[])
        stmt.set("properties", props)
    props.append("expressions", exp.Property(this=exp.var("check_option"),
                                             value=exp.var((m.group(2) or "cascaded").lower())))
    return stmt


def _many_cases(sql: str) -> bool:
    """More CASE keywords than one slice nests (a cheap pre-test; the tokens decide)."""
    return sql.count("CASE") + sql.count("case") + sql.count("Case") > outline.SLICE


def _syntax_error(sql: str, exc: ParseError) -> errors.Error:
    info = exc.errors[0] if exc.errors else {}
    position = None
    near = info.get("highlight") or ""
    if info.get("line"):
        lines = sql.split("\n")
        offset = sum(len(l) + 1 for l in lines[: info["line"] - 1])
        position = max(0, offset + info["col"] - len(near))
    desc = info.get("description", str(exc))
    message = f'syntax error at or near "{near}"' if near else f"syntax error: {desc}"
    return errors.syntax_error(message, position=position, hint=desc if near else None)


def position_of(node: exp.Expression) -> int | None:
    """0-based character offset of a node, when sqlglot recorded one."""
    for n in (node, node.args.get("this")):
        meta = getattr(n, "meta", None) if isinstance(n, exp.Expression) else None
        if meta and "start" in meta:
            return meta["start"]
    return None
