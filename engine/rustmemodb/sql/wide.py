"""Tokenizing and parsing huge statements in bounded steps, so they can be cancelled.

sqlglot's tokenizer and parser are compiled (mypyc): each call holds the GIL from start
to end, about 1 s per MB of SQL each, so neither another thread's ``interrupt()`` nor a
thread waiting on the parse can act meanwhile. A statement of a megabyte or two is
almost always one long list: ``INSERT ... VALUES`` rows, an ``IN (...)`` list, function
arguments, an ``ARRAY[...]``. So, for long text:

* ``tokenize``: the text is cut after commas, or in the blank before an ``OR`` or
  ``AND`` (a long WHERE chain has no commas), that lie outside strings, quoted names and
  comments, into pieces of about ``PIECE`` characters, each tokenized on its own, with
  token positions shifted to the whole text; interrupt and timeout are checked between
  pieces. Text with constructs a simple scan cannot follow safely (backslashes, block
  comments, dollar quotes, an unterminated quote) is tokenized whole.
* ``parse``: the tokens are grouped by brackets; inside a list, runs of items longer
  than ``RUN_TOKENS`` tokens are parsed on their own (``SELECT item, ...``, or ``VALUES
  row, ...`` for VALUES rows) and replaced by one placeholder name; the statement left
  is small, and every placeholder is then replaced by its items, spliced into the
  list it stands in. Each parse is bounded and interrupt and timeout are checked
  between them. A run that does not parse as exactly its items (an alias, a syntax
  error, a placeholder not in a list) makes the caller parse the whole text instead,
  so errors and odd syntax behave exactly as without slicing.
"""
from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from .limits import statement_limits

# Characters per tokenizer call, tokens per parser call: ~10-20 ms of work each.
PIECE = 1 << 14
RUN_TOKENS = 4096
_PREFIX = "__rmdb_run_"

# Text a comma scan cannot follow: backslash escapes (E'...'), block comments (which
# nest), dollar quotes ($$ or $tag$; $1 is a parameter).
_UNSAFE = re.compile(r"\\|/\*|\$(?![0-9])")
# Strings, quoted names and line comments are skipped whole; a lone quote is unsafe.
_LEX = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|,"
                  r"|\s+(?=(?i:or|and)(?![\w$]))|['\"]")


class _Unsafe(Exception):
    """Not sliced: the caller parses the whole text."""


def tokenize(sql: str, tokenizer) -> list | None:
    """The tokens of ``sql``, tokenized piece by piece; None when it is not safe."""
    if _UNSAFE.search(sql):
        return None
    cuts = [0]
    next_cut = PIECE
    count = 0
    for m in _LEX.finditer(sql):
        text = m.group()
        if text == "," or text[0].isspace():    # no token spans these: safe cuts
            if m.end() >= next_cut:
                cuts.append(m.end())
                next_cut = m.end() + PIECE
        elif text in ("'", '"'):
            return None
        count += 1
        if not count & 4095:
            statement_limits.check()
    cuts.append(len(sql))
    out: list = []
    line0 = 0          # newlines before the piece
    for start, end in zip(cuts, cuts[1:]):
        statement_limits.check()
        if start >= end:
            continue
        piece = sql[start:end]
        tokens = tokenizer.tokenize(piece)
        if start:
            col0 = start - (sql.rfind("\n", 0, start) + 1)
            for tok in tokens:
                if tok.line == 1:
                    tok.col += col0
                tok.line += line0
                tok.start += start
                tok.end += start
        out.extend(tokens)
        line0 += piece.count("\n")
    return out


class _Frame:
    __slots__ = ("tokens", "kind", "before", "close", "seg_start", "seg_atoms",
                 "run_start", "run_kind", "items", "list_ok")

    def __init__(self, kind, before, first, close):
        self.kind = kind                 # "paren", "bracket" or "top"
        self.before = before             # the token before the opening one
        self.close = close               # the closing token type
        self.tokens = [first] if first is not None else []
        self.seg_start = len(self.tokens)
        self.seg_atoms = 0               # tokens and whole groups in the current item
        self.run_start = -1              # first token of the run being gathered
        self.run_kind = None             # "values" or "list"
        self.items = 0                   # items in the run
        self.list_ok = None              # may this bracket's items be cut (decided lazily)


_OPEN = {TokenType.L_PAREN: (TokenType.R_PAREN, "paren"),
         TokenType.L_BRACKET: (TokenType.R_BRACKET, "bracket")}
_CLOSE = {TokenType.R_PAREN, TokenType.R_BRACKET}
_QUERY_START = frozenset({TokenType.SELECT, TokenType.WITH, TokenType.VALUES,
                          TokenType.L_PAREN})
# Calls whose arguments are not a plain list (sql/outline.py has the same concern).
_SPECIAL = frozenset({
    "position", "extract", "substring", "substr", "trim", "overlay", "cast", "try_cast",
    "convert", "normalize", "treat", "xmlelement", "xmlforest", "xmlparse", "xmlserialize",
    "json_object", "json_array", "json_objectagg", "json_arrayagg", "json_table",
    "json_value", "json_query", "json_exists", "filter", "within", "over", "row",
    "grouping", "cube", "rollup", "sets", "partition", "order", "by", "using", "on",
    "as", "in_", "unnest", "values", "interval"})


def parse(tokens: list, sql: str, parser_factory) -> exp.Expression | None:
    """The statement of ``tokens`` parsed run by run; None when slicing is not safe or
    would not help (the caller then parses the whole text)."""
    try:
        return _Runs(sql, parser_factory).run(tokens)
    except _Unsafe:
        return None


class _Runs:
    def __init__(self, sql: str, parser_factory):
        self.sql = sql
        self.parser_factory = parser_factory
        self.runs: dict[str, tuple[str, list]] = {}    # placeholder -> (kind, items)
        self.parsed: list = []                          # trees that may hold placeholders

    def run(self, tokens: list) -> exp.Expression:
        stack = [_Frame("top", None, None, None)]
        prev = None
        for tok in tokens:
            t = tok.token_type
            opening = _OPEN.get(t)
            if opening is not None:
                stack.append(_Frame(opening[1], prev, tok, opening[0]))
            elif t in _CLOSE:
                frame = stack.pop()
                if not stack or frame.close is not t:
                    raise _Unsafe()      # unbalanced: the whole parse reports it
                frame.tokens.append(tok)
                parent = stack[-1]
                parent.tokens.extend(frame.tokens)
                parent.seg_atoms += 1
            elif t is TokenType.COMMA:
                self._item_done(stack[-1])
                frame = stack[-1]
                frame.tokens.append(tok)
                frame.seg_start = len(frame.tokens)
                frame.seg_atoms = 0
            else:
                frame = stack[-1]
                frame.tokens.append(tok)
                frame.seg_atoms += 1
                if t is TokenType.VALUES:    # VALUES rows: the first item starts here
                    frame.seg_start = len(frame.tokens)
                    frame.seg_atoms = 0
            prev = tok
        if len(stack) != 1 or not self.runs:
            raise _Unsafe()
        statement_limits.check()
        tree = self._parse(stack[0].tokens)
        self.parsed.append(tree)
        self._substitute()
        return tree

    # ---- gathering runs --------------------------------------------------------------------
    def _item_done(self, frame: _Frame) -> None:
        """An item of ``frame``'s comma-separated list ends (the comma is next)."""
        toks = frame.tokens
        start = frame.seg_start
        kind = None
        if frame.seg_atoms == 1 and start < len(toks) and toks[start].token_type is TokenType.L_PAREN \
                and (frame.run_kind == "values"
                     or (start and toks[start - 1].token_type is TokenType.VALUES)):
            kind = "values"                   # a row of a VALUES list
        elif frame.kind != "top" and self._list_ok(frame):
            kind = "list"
        if kind is None or (frame.run_kind is not None and kind != frame.run_kind):
            frame.run_start, frame.run_kind, frame.items = -1, None, 0
            return
        if frame.run_start < 0:
            if kind == "list" and start == 1:
                return                        # a list's first item stays in place
            frame.run_start, frame.run_kind, frame.items = start, kind, 0
        frame.items += 1
        if len(toks) - frame.run_start >= RUN_TOKENS:
            self._cut(frame)

    def _list_ok(self, frame: _Frame) -> bool:
        if frame.list_ok is None:
            before = frame.before
            first = frame.tokens[1] if len(frame.tokens) > 1 else None
            frame.list_ok = not (
                (first is not None and first.token_type in _QUERY_START)
                or (before is not None and before.text.lower() in _SPECIAL))
        return frame.list_ok

    def _cut(self, frame: _Frame) -> None:
        statement_limits.check()
        toks = frame.tokens
        content = toks[frame.run_start:]
        first = content[0]
        word = (TokenType.VALUES, "values") if frame.run_kind == "values" \
            else (TokenType.SELECT, "select")
        head = Token(word[0], word[1], first.line, first.col, first.start, first.start)
        tree = self._parse([head, *content])
        if frame.run_kind == "values":
            if not isinstance(tree, exp.Values) or any(
                    v for k, v in tree.args.items() if k != "expressions"):
                raise _Unsafe()
            items = list(tree.expressions)
        else:
            if not isinstance(tree, exp.Select) or any(
                    v for k, v in tree.args.items() if k != "expressions"):
                raise _Unsafe()
            items = list(tree.expressions)
            if any(isinstance(i, exp.Alias) for i in items):
                raise _Unsafe()
        if len(items) != frame.items:
            raise _Unsafe()
        name = f"{_PREFIX}{len(self.runs)}"
        self.runs[name] = (frame.run_kind, items)
        self.parsed.extend(items)
        del toks[frame.run_start:]
        toks.append(Token(TokenType.VAR, name, first.line, first.col, first.start,
                          content[-1].end))
        frame.run_start = len(toks) + 1      # the next run begins after the comma
        frame.items = 0

    def _parse(self, tokens: list) -> exp.Expression:
        try:
            statements = self.parser_factory().parse(tokens, self.sql)
        except (ParseError, TokenError, RecursionError, ValueError, TypeError, KeyError,
                IndexError, AttributeError):
            raise _Unsafe() from None
        statements = [s for s in statements if s is not None]
        if len(statements) != 1:
            raise _Unsafe()
        return statements[0]

    # ---- putting the items back --------------------------------------------------------------
    def _substitute(self) -> None:
        """Each placeholder column is replaced by its run's items, spliced into the list
        it stands in (one rebuild per list)."""
        lists: dict = {}          # (id(parent), arg) -> (parent, arg, {index: items})
        found = 0
        for tree in self.parsed:
            statement_limits.tick()
            for col in tree.find_all(exp.Column):
                statement_limits.tick()
                name = col.name
                if not name.startswith(_PREFIX) or col.table:
                    continue
                kind, items = self.runs[name]
                anchor = col
                if kind == "values":
                    anchor = col.parent    # VALUES reads a bare name as a one-column row
                    if not isinstance(anchor, exp.Tuple) or len(anchor.expressions) != 1 \
                            or not isinstance(anchor.parent, exp.Values):
                        raise _Unsafe()
                parent, arg = anchor.parent, anchor.arg_key
                if parent is None or not isinstance(parent.args.get(arg), list) \
                        or anchor.index is None:
                    raise _Unsafe()
                entry = lists.setdefault((id(parent), arg), (parent, arg, {}))
                entry[2][anchor.index] = items
                found += 1
        if found != len(self.runs):
            raise _Unsafe()
        for parent, arg, spliced in lists.values():
            statement_limits.check()
            out = []
            for i, node in enumerate(parent.args[arg]):
                items = spliced.get(i)
                if items is None:
                    out.append(node)
                else:
                    out.extend(items)
            parent.set(arg, out)
