"""Statement size and depth limits, applied around parsing so no pass hits Python's stack.

The parser (sqlglot), the binder, the optimizer and the executor are recursive over the
syntax tree, and a library may not raise the process-wide recursion limit. Two shapes
make trees deep:

* **Flat chains** -- ``a OR b OR c ...`` and ``SELECT .. UNION ALL SELECT .. ...`` --
  parse (iteratively) into left-deep trees as deep as the chain is long. AND, OR, UNION
  [ALL] and INTERSECT [ALL] are associative, so ``balance`` rebuilds every long chain as a
  balanced tree of the same operands in the same order (10,000 terms: depth 14). Order is
  kept, so evaluation order, and with it which rows reach which operand, is unchanged.
  EXCEPT is not associative and is left alone.
* **Real nesting** -- parentheses, CASE, subqueries, nested calls. ``collapse_parens``
  first drops redundant grouping, ``((x))`` to ``(x)``, at the token level, so 1,000
  nested parentheses around one expression cost nothing. Whatever nesting remains is
  measured (iteratively, on the text and tokens before sqlglot and on the tree after): a
  statement nested deeper than ``MAX_NESTING`` levels, or with queries nested deeper
  than ``MAX_QUERY_NESTING``, is refused with 54001 "statement too complex" before any
  recursive pass runs. Below that, deep statements are parsed in slices
  (sql/outline.py) and the recursive passes continue on a fresh stack when they near
  the recursion limit (deep.py). A run of NOTs is shortened to one or two by parity
  before parsing (sql/parse.py); a ``RecursionError`` that still happens (other nesting
  without brackets, ``- - - ... 1``) becomes 54001 too (api/guard.py).
"""
from __future__ import annotations

import re

from sqlglot import exp

from .. import errors
from .. import statement_limits

# Nesting depth (parentheses and CASE...END) a statement may have. sqlglot's parser
# reaches about 490 levels by itself; deeper statements are parsed in slices
# (sql/outline.py) and every recursive pass after it continues on a fresh stack near the
# recursion limit (deep.py), so this bounds work, not the stack.
MAX_NESTING = 1000
# Syntax-tree depth (nodes, checked after parsing): ``(1+(1+...))`` takes two nodes a
# level, a nested CASE three.
MAX_TREE_DEPTH = 8 * MAX_NESTING
# Query levels (SELECT, set operations) nested in one another: scalar subqueries,
# derived tables. Binding a subquery renumbers the outer references of everything
# inside it, so cost grows with the square of this depth (200 levels: ~1.5 s).
MAX_QUERY_NESTING = 200
# Chains shorter than this keep sqlglot's left-deep shape (plans and EXPLAIN unchanged).
BALANCE_FROM = 16

_SKIP = re.compile(r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|--[^\n]*|/\*.*?(?:\*/|$)"""
                   r"""|\$([A-Za-z_]\w*)?\$.*?(?:\$\1\$|$)|[()]|[^'"()\-/$]+|.""", re.S)


def _tokens(sql: str):
    """(start, end, kind) over the text: 'open', 'close', 'comma', 'word', 'space' or
    'other', with quoted strings, identifiers and comments as single 'other'/'space'
    tokens (so parentheses inside them do not count)."""
    tick = statement_limits.tick    # interrupt / timeout while scanning huge text
    for m in _SKIP.finditer(sql):
        tick()
        text = m.group(0)
        c = text[0]
        if c == "(":
            yield m.start(), m.end(), "open"
        elif c == ")":
            yield m.start(), m.end(), "close"
        elif text.startswith(("--", "/*")):
            yield m.start(), m.end(), "space"
        else:
            yield m.start(), m.end(), "other"


def paren_depth(sql: str) -> int:
    depth = best = 0
    for _, _, kind in _tokens(sql):
        if kind == "open":
            depth += 1
            if depth > best:
                best = depth
        elif kind == "close":
            depth -= 1
    return best


def collapse_parens(sql: str) -> str:
    """``sql`` with redundant grouping removed: a parenthesised group whose whole content
    is one parenthesised group ``((x))`` becomes ``(x)`` (unless it holds a top-level
    comma, where ``((1, 2))`` is a row inside a list)."""
    toks = list(_tokens(sql))
    # match parentheses
    pair: dict[int, int] = {}
    stack: list[int] = []
    for i, (_, _, kind) in enumerate(toks):
        if kind == "open":
            stack.append(i)
        elif kind == "close" and stack:
            pair[stack.pop()] = i
    drop: set[int] = set()
    for o, c in pair.items():
        statement_limits.tick()
        # inner group: the next non-space token after o is '(' closing right before c
        i = o + 1
        while i < c and toks[i][2] == "space" or (i < c and _blank(sql, toks[i])):
            i += 1
        j = c - 1
        while j > o and (toks[j][2] == "space" or _blank(sql, toks[j])):
            j -= 1
        if i < j and toks[i][2] == "open" and pair.get(i) == j and not _has_comma(sql, toks, i, j):
            drop.add(i)
            drop.add(j)
    if not drop:
        return sql
    # keep the outermost of each run: we dropped the inner pair of every doubled group
    out, pos = [], 0
    for k in sorted(drop):
        s, e, _ = toks[k]
        out.append(sql[pos:s])
        out.append(" ")
        pos = e
    out.append(sql[pos:])
    return "".join(out)


def _has_comma(sql: str, toks, i: int, j: int) -> bool:
    """A top-level comma inside the group toks[i]..toks[j]: a row or a list."""
    depth = 0
    for s, e, kind in toks[i + 1:j]:
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif depth == 0 and kind == "other" and "," in sql[s:e] and sql[s] not in "'\"$":
            return True
    return False


def _blank(sql: str, tok) -> bool:
    s, e, kind = tok
    return kind == "other" and not sql[s:e].strip()


def check_text(sql: str) -> str:
    """Collapse redundant parentheses and refuse text nested deeper than MAX_NESTING."""
    sql = collapse_parens(sql)
    if paren_depth(sql) > MAX_NESTING:
        raise too_complex()
    return sql


def too_complex(detail: str | None = None) -> errors.Error:
    return errors.sql_error(
        "54001", "statement too complex",
        detail=detail or f"expressions may be nested at most {MAX_NESTING} levels deep",
        hint="Flatten the expression, or split the statement.")


# ---- the tree -------------------------------------------------------------------------------

_CHAIN = (exp.And, exp.Or, exp.Union, exp.Intersect)


def _chain_key(node) -> tuple | None:
    """Nodes that may be re-associated with each other share a key."""
    if isinstance(node, (exp.And, exp.Or)):
        return (type(node),)
    if isinstance(node, (exp.Union, exp.Intersect)):
        args = node.args
        # only plain links: modifiers (ORDER BY, LIMIT, WITH, ...) stay on the chain's top
        for k, v in args.items():
            if k not in ("this", "expression", "distinct") and v:
                return None
        return (type(node), bool(args.get("distinct")))
    return None


# Every link of an AND/OR/UNION/INTERSECT chain is one of these words in the text.
_CHAIN_WORD = re.compile(r"(?<![\w$])(?:and|or|union|intersect)(?![\w$])", re.I)
# A text shorter than this cannot hold a tree deeper than MAX_TREE_DEPTH (a few nodes per
# character at most) nor more than MAX_QUERY_NESTING + 1 queries nested in one another
# (each level is a keyword of at least five characters: SELECT, UNION, EXCEPT...;
# counted as four, for a margin).
_SHALLOW_TEXT = min(MAX_TREE_DEPTH // 4, 4 * (MAX_QUERY_NESTING + 1))


# (public: sql/pieces.py tests text against the same bounds)
SHALLOW_TEXT = _SHALLOW_TEXT


def kept_as_parsed(sql: str) -> bool:
    """Whether ``balance`` leaves the tree parsed from ``sql`` as it is, unwalked: a text
    with fewer chain words than a balanced chain needs and too short to be too deep."""
    if len(sql) >= _SHALLOW_TEXT:
        return False
    words = 0
    for _ in _CHAIN_WORD.finditer(sql):
        words += 1
        if words >= BALANCE_FROM - 1:
            return False
    return True


def balance(tree: exp.Expression, sql: str | None = None) -> exp.Expression:
    """Rebuild long AND/OR/UNION/INTERSECT chains balanced; check the depth after.
    ``sql``: the parsed text, when known: a text with fewer chain words than a balanced
    chain needs and too short to be too deep is left as it is, without walking the tree
    (the two walks were a tenth of planning a 300-character statement)."""
    statement_limits.check()   # sqlglot's parse cannot be interrupted: check right after it
    if sql is not None and kept_as_parsed(sql):
        return tree
    todo = [tree]
    while todo:
        node = todo.pop()
        statement_limits.tick()    # interrupt / timeout while planning a huge statement
        key = _top_key(node)
        if key is not None:
            operands = _operands(node, key)
            if len(operands) >= BALANCE_FROM:
                _rebuild(node, operands)
            todo.extend(operands)
            continue
        todo.extend(node.iter_expressions())
    if tree_depth(tree) > MAX_TREE_DEPTH:
        raise too_complex(f"the expression tree may be at most {MAX_TREE_DEPTH} levels deep")
    return tree


def _top_key(node):
    key = _chain_key(node)
    if key is None and isinstance(node, (exp.Union, exp.Intersect)):
        # a chain's top may carry modifiers: its links below are still plain
        key = (type(node), bool(node.args.get("distinct")))
    return key


def _operands(node, key) -> list:
    """The chain's operands left to right, walking same-key links iteratively."""
    out, stack = [], [node.args.get("expression"), node.this]
    while stack:
        n = stack.pop()
        statement_limits.tick()
        if n is not None and _chain_key(n) == key:
            stack.append(n.args.get("expression"))
            stack.append(n.this)
        else:
            out.append(n)
    return out


def _rebuild(node, operands: list) -> None:
    """Make ``node`` the root of a balanced tree over ``operands`` (in order)."""
    cls = type(node)
    distinct = node.args.get("distinct")

    def link(a, b):
        if cls in (exp.And, exp.Or):
            return cls(this=a, expression=b)
        return cls(this=a, expression=b, distinct=distinct)

    level = list(operands)
    while len(level) > 2:
        nxt = [link(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    node.set("this", level[0])
    node.set("expression", level[1])


_QUERY_NODES = (exp.Select, exp.SetOperation)


def tree_depth(tree: exp.Expression) -> int:
    """The depth of ``tree`` in nodes, computed iteratively; 54001 (``too_complex``) at
    once when queries nest more than MAX_QUERY_NESTING levels."""
    best = 0
    stack = [(tree, 0, 0)]
    while stack:
        node, d, q = stack.pop()
        statement_limits.tick()
        d += 1
        if isinstance(node, _QUERY_NODES):
            q += 1
            if q > MAX_QUERY_NESTING + 1:   # the statement's own query is not nested
                raise too_complex(f"queries may be nested at most {MAX_QUERY_NESTING} levels deep")
        if d > best:
            best = d
        for child in node.iter_expressions():
            stack.append((child, d, q))
    return best
