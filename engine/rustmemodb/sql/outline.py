"""Parsing statements nested deeper than sqlglot's recursive parser reaches.

sqlglot's parser (compiled with mypyc, so it cannot be subclassed or hooked) recurses a
couple of frames per parenthesis or CASE level and stops near 490 levels -- less when
the caller already stands deep in its stack. A statement nested 1,000 levels deep is
parsed here in slices instead, from the inside out, over sqlglot's own tokens:

* The tokens are grouped by their brackets: ``( ... )`` and ``CASE ... END``.
* Walking the groups bottom-up, a group whose content is ``SLICE`` levels deep is cut
  out: its content is parsed on its own (``SELECT <content>``, or as a query when it is
  one) and replaced in the enclosing tokens by a placeholder name; a CASE is replaced
  whole. Every parse then sees at most ``SLICE`` levels.
* The outermost tokens are parsed last, and each placeholder column is replaced by the
  tree it stands for (a query inside plain parentheses becomes a ``Subquery``, as
  sqlglot builds it).

The result is the tree sqlglot would build from the whole text, token positions
included. A group is cut only where that is certainly so: content that is one plain
expression (no top-level comma, alias, DISTINCT, ORDER BY, ...) or a scalar subquery,
and not the argument list of a function with its own syntax (``position(a IN b)``,
``extract(x FROM y)``, ``cast(x AS t)``...). Anything else stays in its enclosing
slice; if the statement cannot be sliced safely, ``parse_sliced`` returns None and the
caller parses the whole text (deep enough, that raises 54001 "statement too complex").
"""
from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from .. import errors
from .limits import statement_limits   # interrupt / timeout between tokens

# Levels of nesting one parse may see: sqlglot needs about 2 frames per level.
SLICE = 64
_PREFIX = "__rmdb_slice_"

# Functions whose argument list has its own grammar: never cut inside their parentheses.
_SPECIAL_CALLS = frozenset({
    "position", "extract", "substring", "substr", "trim", "overlay", "cast", "try_cast",
    "convert", "normalize", "treat", "xmlelement", "xmlforest", "xmlparse", "xmlserialize",
    "json_object", "json_array", "json_objectagg", "json_arrayagg", "json_table",
    "json_value", "json_query", "json_exists", "filter", "within", "over", "values",
    "interval", "array", "row", "unnest", "grouping", "cube", "rollup", "sets"})
# Tokens that make a following parenthesised query something other than a scalar
# subquery (IN list, EXISTS, ANY/ALL, ARRAY, a derived table, ...).
_NOT_SCALAR_BEFORE = frozenset({
    TokenType.IN, TokenType.EXISTS, TokenType.ANY, TokenType.ALL, TokenType.SOME,
    TokenType.ARRAY, TokenType.FROM, TokenType.JOIN, TokenType.LATERAL, TokenType.COMMA,
    TokenType.VAR, TokenType.ALIAS, TokenType.USING, TokenType.UNION, TokenType.EXCEPT,
    TokenType.INTERSECT, TokenType.L_PAREN, TokenType.ON, TokenType.TABLE,
    TokenType.VALUES, TokenType.INSERT, TokenType.INTO})
_QUERY_START = frozenset({TokenType.SELECT, TokenType.WITH, TokenType.VALUES})


class _Unsafe(Exception):
    """The statement cannot be sliced safely: parse it whole."""


def max_depth(tokens: list) -> int:
    """Nesting depth of parentheses and CASE...END over the tokens."""
    depth = best = 0
    tick = statement_limits.tick
    for tok in tokens:
        tick()
        t = tok.token_type
        if t is TokenType.L_PAREN or t is TokenType.CASE:
            depth += 1
            if depth > best:
                best = depth
        elif t is TokenType.R_PAREN or t is TokenType.END:
            depth -= 1
    return best


def parse_sliced(tokens: list, sql: str, parser_factory) -> exp.Expression | None:
    """The statement of ``tokens`` parsed slice by slice; None when it cannot be sliced
    safely (a placeholder in a place no expression may stand); 42601 for unbalanced
    brackets."""
    try:
        return _Slicer(sql, parser_factory).run(tokens)
    except _Unsafe:
        return None


class _Frame:
    __slots__ = ("tokens", "height", "kind", "before", "seg_start", "seg_height")

    def __init__(self, kind, before, first):
        self.kind = kind            # "paren", "case" or "top"
        self.before = before        # the token before the opening one (or None)
        self.tokens = [first] if first is not None else []
        self.height = 0             # nesting levels inside, as the parser will see them
        self.seg_start = len(self.tokens)   # where the current comma-separated item began
        self.seg_height = 0


class _Slicer:
    def __init__(self, sql: str, parser_factory):
        self.sql = sql
        self.parser_factory = parser_factory
        self.trees: dict[str, exp.Expression] = {}     # placeholder -> its tree
        self.queries: set[str] = set()                 # placeholders standing for queries
        self.parsed: list[exp.Expression] = []         # every slice's tree

    def run(self, tokens: list) -> exp.Expression:
        stack = [_Frame("top", None, None)]
        prev = None
        for tok in tokens:
            statement_limits.tick()
            t = tok.token_type
            if t is TokenType.L_PAREN or t is TokenType.CASE:
                stack.append(_Frame("paren" if t is TokenType.L_PAREN else "case", prev, tok))
            elif t is TokenType.R_PAREN or t is TokenType.END:
                frame = stack.pop()
                if len(stack) == 0 or frame.kind != ("paren" if t is TokenType.R_PAREN else "case"):
                    raise errors.syntax_error(f'syntax error at or near "{tok.text}"',
                                              position=tok.start)
                self._end_item(frame)
                frame.tokens.append(tok)
                frame.height += 1
                self._close(frame, stack[-1])
            elif t is TokenType.COMMA:
                self._end_item(stack[-1])
                stack[-1].tokens.append(tok)
                stack[-1].seg_start = len(stack[-1].tokens)
            else:
                stack[-1].tokens.append(tok)
            prev = tok
        if len(stack) != 1:
            raise errors.syntax_error("syntax error at end of input", position=len(self.sql))
        tree = self._parse(stack[0].tokens)
        self.parsed.append(tree)
        self._substitute()
        return tree

    def _end_item(self, frame: _Frame) -> None:
        """A comma-separated item of a parenthesised list (or its whole content) ends:
        cut it out when it is deep and one plain expression."""
        height = frame.seg_height
        frame.seg_height = 0
        if height >= SLICE and frame.kind == "paren" and not self._special(frame):
            item = frame.tokens[frame.seg_start:]
            if item and item[0].token_type not in _QUERY_START:
                placeholder = self._cut_expression(item)
                if placeholder is not None:
                    del frame.tokens[frame.seg_start:]
                    frame.tokens.append(placeholder)
                    height = 0
        frame.height = max(frame.height, height)

    @staticmethod
    def _special(frame: _Frame) -> bool:
        before = frame.before
        return before is not None and before.token_type is TokenType.VAR \
            and before.text.lower() in _SPECIAL_CALLS

    def _close(self, frame: _Frame, parent: _Frame) -> None:
        if frame.height >= SLICE:
            placeholder = None
            if frame.kind == "case":
                placeholder = self._cut_expression(frame.tokens)
            elif len(frame.tokens) > 2 and frame.tokens[1].token_type in _QUERY_START \
                    and not (frame.before is not None
                             and frame.before.token_type in _NOT_SCALAR_BEFORE):
                placeholder = self._cut_query(frame.tokens[1:-1])
                if placeholder is not None:
                    placeholder = [frame.tokens[0], placeholder, frame.tokens[-1]]
            if placeholder is not None:
                parent.tokens.extend(placeholder if isinstance(placeholder, list)
                                     else (placeholder,))
                parent.seg_height = max(parent.seg_height, 1 if frame.kind == "paren" else 0)
                return
        parent.tokens.extend(frame.tokens)
        parent.seg_height = max(parent.seg_height, frame.height)

    def _cut_query(self, content: list):
        tree = self._try_parse(content)
        if not isinstance(tree, exp.Query):
            return None
        name = self._name(tree)
        self.queries.add(name)
        self.parsed.append(tree)
        return self._placeholder(name, content)

    def _cut_expression(self, content: list):
        select = Token(TokenType.SELECT, "select", content[0].line, content[0].col,
                       content[0].start, content[0].start)
        wrapper = self._try_parse([select, *content])
        if not isinstance(wrapper, exp.Select) or len(wrapper.expressions) != 1 \
                or any(v for k, v in wrapper.args.items() if k != "expressions"):
            return None
        tree = wrapper.expressions[0]
        if isinstance(tree, exp.Alias):
            return None
        self.parsed.append(wrapper)
        return self._placeholder(self._name(tree), content)

    def _name(self, tree: exp.Expression) -> str:
        name = f"{_PREFIX}{len(self.trees)}"
        self.trees[name] = tree
        return name

    @staticmethod
    def _placeholder(name: str, content: list) -> Token:
        first, last = content[0], content[-1]
        return Token(TokenType.VAR, name, first.line, first.col, first.start, last.end)

    def _try_parse(self, tokens: list):
        try:
            return self._parse(tokens)
        except (ParseError, TokenError, RecursionError):
            return None

    def _parse(self, tokens: list) -> exp.Expression:
        statements = self.parser_factory().parse(tokens, self.sql)
        statements = [s for s in statements if s is not None]
        if len(statements) != 1:
            raise ParseError("not one statement")
        return statements[0]

    def _swap(self, old: exp.Expression, new: exp.Expression) -> exp.Expression:
        """Put ``new`` where ``old`` stands: in its parent, or as the tree a placeholder
        names when ``old`` is one (not yet placed)."""
        if old.parent is not None:
            old.replace(new)
        for name, tree in self.trees.items():
            if tree is old:
                self.trees[name] = new
        return new

    def _substitute(self) -> None:
        """Replace each placeholder column by its tree (every slice is shallow, so
        walking each one is safe; a placeholder occurs in exactly one slice)."""
        found = 0
        for tree in self.parsed:
            for col in list(tree.find_all(exp.Column)):
                name = col.name
                if not name.startswith(_PREFIX) or col.table:
                    continue
                sub = self.trees.get(name)
                if sub is None:
                    raise _Unsafe()
                found += 1
                if name in self.queries:
                    paren = col.parent
                    if not isinstance(paren, exp.Paren) or col.arg_key != "this":
                        raise _Unsafe()
                    node = self._swap(paren, exp.Subquery(this=sub))
                    # sqlglot reads ((SELECT ...)) as a subquery of a subquery
                    while isinstance(node.parent, exp.Paren) and node.arg_key == "this":
                        node = self._swap(node.parent, exp.Subquery(this=node))
                else:
                    col.replace(sub)
        if found != len(self.trees):
            raise _Unsafe()


def _top_level_comma(tokens: list) -> bool:
    depth = 0
    for tok in tokens:
        t = tok.token_type
        if t is TokenType.L_PAREN or t is TokenType.CASE:
            depth += 1
        elif t is TokenType.R_PAREN or t is TokenType.END:
            depth -= 1
        elif depth == 0 and t is TokenType.COMMA:
            return True
    return False
