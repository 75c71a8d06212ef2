"""Parsing a one-table SELECT by its pieces (issue 11: a file of one-off queries).

A file of distinct statements over one table (SQLite's select1-5.test corpus, a
notebook's cells, a test suite) writes the same select items, conditions and ORDER BY
lists again and again in different combinations: no statement's text repeats, so the
plan cache (keyed by text or shape) cannot help, but its pieces do. sqlglot's parse of
such a statement costs ~100 us; a regular-expression scan that cuts the statement at
its top-level commas, clause words and AND/OR costs a tenth of that, and each piece is
parsed by ``parse_one`` once per session (``PieceParser``, an LRU of pieces).

Only this shape is recognized, with its clauses in this order:

    SELECT <item>, ... FROM <one source> [WHERE <cond> {AND|OR} <cond> ...]
        [ORDER BY ...] [LIMIT ...]

and the tree assembled is the one ``parse_one`` builds for the whole text, node for
node (tests/engine/test_pieces.py compares them over the corpus and every statement
of tests/sql): AND binds tighter than OR and both group from the left, as sqlglot's
parser does, and ``BETWEEN x AND y`` keeps its AND. Anything else returns None and
takes the whole parse, which also reports every syntax error (this module never
raises one): another clause or a DISTINCT, a join, a comment, a dollar sign or
backslash, escape-string prefixes, text the whole parse rewrites before sqlglot reads
it (``::``, ``//``, ``@?``, runs of NOT, deep or long text: ``parse.py``), a piece
that repeats within the statement, a piece sqlglot reads otherwise alone than in
place.

What a caller must know of the tree it gets back:

* its pieces are shared with earlier and later statements of the session: nothing may
  change them (parse and bind never do: DESIGN.md). The assembling sets each piece's
  parent to the new statement, so parent links hold while this statement is bound;
* node positions (``meta``) are offsets into the piece, not the statement: a caller
  reporting an error must parse the whole text again for the error's position (the
  session binds the whole parse again when binding this tree fails);
* literals are not tagged as parameter slots (only a statement without lifted
  literals may use this);
* it passed the binder's ``check_clauses`` (each piece when it was parsed, the nodes
  joining them when assembled): the binder may skip that walk
  (``StatementBinder.clauses_checked``).
"""
from __future__ import annotations

import re
from collections import OrderedDict

from sqlglot import exp

from .. import errors
from ..statement_limits import check
from . import limits, outline
from .bind.check_clauses import check_clauses, check_node
from .parse import _NOT_RUN, _SHORT, _many_cases, parse_one

# Pieces kept per session (LRU).
MAX_PIECES = 1024

# The tokens that matter for cutting: a quoted string or name (skipped whole; a quote
# left alone is ``bad``), a bracket or comma, and the words below (any other word is
# passed over). Everything between
# them is the pieces' text, which sqlglot reads (``_ALLOWED`` vets its characters).
_WORDS = ("case end select from where order limit and or between by distinct all group "
          "having window qualify union intersect except offset fetch for into join inner "
          "left right full cross natural lateral on using returning with values "
          "tablesample sample pivot unpivot top sort cluster distribute connect start "
          "prewhere settings format options lock")
_SCANNED = frozenset(_WORDS.split())


def _trie(words) -> str:
    """A regular expression matching exactly ``words``, as a trie (``c(?:ase|ross)``):
    Python's engine tries the alternatives of a plain list one by one."""
    heads: dict = {}
    for w in words:
        if w:
            heads.setdefault(w[0], []).append(w[1:])
    alts = [h + _trie(rest) if rest != [""] else h for h, rest in sorted(heads.items())]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return "(?:" + body + ")?" if "" in words else body


# One match per token that matters, over the lower-cased text: what lies before it
# (characters that are none of these tokens' and whole words that are not scanned
# words: a word runs on through digits, and digits before a letter are no word's) is
# passed over inside the regex engine, so the loop below sees only the tokens it acts
# on. At the end of the text ``end`` matches, so that trailing text is passed over once
# (a failed match at every later position would be quadratic).
_KEYWORD = r"%s(?![a-z0-9_])" % _trie(sorted(_SCANNED))
# A bracketed group, nested at most two deep, holding no quote, square bracket, CASE or
# END: inside brackets only those tokens act (the others act at the top level only),
# and a group's brackets balance, so it is passed over whole (a subquery or a call
# costs no tokens).
_ATOM = r"[^()'\"\[\]a-z_]++|(?!(?:case|end)(?![a-z0-9_]))[a-z_][a-z0-9_]*+"
_GROUP = r"\((?:%s|\((?:%s)*+\))*+\)" % (_ATOM, _ATOM)
_SCAN = re.compile(
    r"((?:[^a-z_'\"(),\[\]]++|(?!%s)[a-z_][a-z0-9_]*+|%s)*+)" % (_KEYWORD, _GROUP) +
    r"('(?:[^']|'')*+'|\"(?:[^\"]|\"\")*+\"|['\"]|[(),\[\]]|%s|\Z)" % _KEYWORD)
# Characters a statement of this shape may hold; a number may not run on into a letter
# (``1abc``; ``1e5`` is a number).
_ALLOWED = re.compile(r"[\sA-Za-z0-9_'\"(),\[\]\-+*/%<>=!|&^~#.:?@]*")
_NUMBER_RUN_ON = re.compile(r"(?<![A-Za-z0-9_.])(?>[0-9][0-9.]*(?:[eE][-+]?[0-9]+)?)[A-Za-z_]")
_DIGIT_LETTER = re.compile(r"[0-9][A-Za-z_]")
# Clause words of other shapes (GROUP BY, HAVING, set operations, joins, ...) after a
# space or bracket, in the lower-cased text: a statement holding one is declined before
# the scan (a word in a string or a quoted name declines it too: the whole parse reads it).
_OTHER_SHAPE = re.compile(
    r"[\s)](?:group|having|union|intersect|except|join|window|offset|fetch|qualify)[\s(]")
_SELECT = re.compile(r"\s*select(?![A-Za-z0-9_])", re.IGNORECASE)
# A character right before a quote that makes the quote part of a prefixed literal or
# name (E'..', B'..', U&'..') or of a longer one.
_PREFIXES = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_&'\"")
# The clause words of this shape -> the clauses each may follow.
_CLAUSES = {"from": ("select",), "where": ("from",), "order": ("from", "where"),
            "limit": ("from", "where", "order")}
# The scanned words that may stand at the top level of a piece (any other opens a
# clause or a construct this shape does not have).
_CUTS = frozenset({"and", "or", "between"})

_ITEM, _SOURCE, _COND, _ORDER, _LIMIT = "item", "source", "cond", "order", "limit"
# The text each kind of piece is parsed in, and the one clause it fills there.
_WRAPPER = {_ITEM: ("SELECT ", "expressions"), _SOURCE: ("SELECT 1 FROM ", "from_"),
            _COND: ("SELECT 1 WHERE ", "where"), _ORDER: ("SELECT 1 ORDER BY ", "order"),
            _LIMIT: ("SELECT 1 LIMIT ", "limit")}
_DECLINED = object()


def split(sql: str):
    """(items, source, conditions, operators, order, limit) as texts, cut at the top
    level, or None when ``sql`` is not of this module's shape. ``conditions`` and
    ``operators`` alternate (``operators[i]`` joins conditions i and i+1: "and"/"or").
    The caller must not change the lists: the last text's answer is kept, as a
    statement planned from its pieces' plans (sql/piece_plan.py) and, when that
    declines, parsed by its pieces asks for it twice."""
    global _last_split
    last = _last_split
    if last[0] == sql:
        return last[1]
    cut = _split(sql)
    _last_split = (sql, cut)
    return cut


_last_split: tuple = ("", None)


def _split(sql: str):
    # Refused anywhere in the text: comments, and what the whole parse reads otherwise
    # than plain text (parse.py: bracketed typed literals, floor division, jsonpath
    # exists); dollar quotes and parameters, escapes and a statement separator are no
    # characters of _ALLOWED
    if not sql.isascii() or "--" in sql or "/*" in sql or "::" in sql or "//" in sql \
            or "@?" in sql:
        return None
    m = _SELECT.match(sql)
    if m is None or _ALLOWED.fullmatch(sql) is None:
        return None
    low = sql.lower()
    if _OTHER_SHAPE.search(low):
        return None     # a clause of another shape, found before the whole scan
    # the exact tests below are regular expressions with look-behinds, a few
    # microseconds each: taken only when a plain substring test cannot rule them out
    if low.count("not") >= 3 and _NOT_RUN.search(sql):
        return None
    if _DIGIT_LETTER.search(sql) and _NUMBER_RUN_ON.search(sql):
        return None
    if not _as_parsed(sql, low):
        return None
    end = len(sql.rstrip())
    depth = 0
    clause = "select"           # the clause being read
    spans: dict = {}            # clause -> (start, end) of its text
    items, conds, ops = [], [], []
    piece_start = m.end()
    between = False             # a top-level BETWEEN waits for its AND
    order_at = -1               # where ORDER's BY must be
    pos = piece_start
    # (text passed over, token) pairs: each match starts where the last one ended (the
    # text before a token is always passed over), so positions are running sums
    for skipped, tok in _SCAN.findall(low, piece_start):
        start = pos + len(skipped)
        pos = start + len(tok)
        if tok == ",":
            if depth == 0:
                if clause == "select":
                    items.append(sql[piece_start:start])
                    piece_start = pos
                elif clause != "order":
                    return None
            continue
        if tok == "(" or tok == "[":
            depth += 1
            continue
        if tok == ")" or tok == "]":
            depth -= 1
            if depth < 0:
                return None
            continue
        if not tok:
            break       # the end of the text
        first = tok[0]
        if first == "'" or first == '"':
            if len(tok) == 1:
                return None     # a quote left alone
            if sql[start - 1] in _PREFIXES:      # E'..', B'..', U&'..', a"b"
                return None
            continue
        w = tok
        if w == "case":
            depth += 1
        elif w == "end":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:
            if w in _CLAUSES:
                if w in spans or clause not in _CLAUSES[w]:
                    return None
                text = sql[piece_start:start]
                if clause == "select":
                    items.append(text)
                elif clause == "where":
                    if between:
                        return None
                    conds.append(text)
                spans[clause] = (piece_start, start)
                clause, piece_start = w, pos
                if w == "order":
                    order_at = pos
                continue
            if w == "by" and clause == "order" and order_at >= 0:
                if sql[order_at:start].strip():
                    return None
                order_at, piece_start = -1, pos
                continue
            if w not in _CUTS:
                return None
            if clause == "where":
                if w == "between":
                    between = True
                elif w == "and" and between:
                    between = False
                elif w != "between":
                    conds.append(sql[piece_start:start])
                    ops.append(w)
                    piece_start = pos
    if order_at >= 0:
        return None
    if depth != 0 or clause == "select" or between:
        return None
    spans[clause] = (piece_start, end)
    if clause == "where":
        conds.append(sql[piece_start:end])
    source = sql[slice(*spans["from"])]
    order = sql[slice(*spans["order"])] if "order" in spans else None
    limit = sql[slice(*spans["limit"])] if "limit" in spans else None
    for text in (*items, *conds, source, order, limit):
        if text is not None and not text.strip():
            return None
    return items, source, conds, ops, order, limit


def _as_parsed(sql: str, low: str) -> bool:
    """Whether ``parse_one`` reads ``sql`` as sqlglot's plain parse (no bounded steps,
    slicing, chain balancing or depth check that the pieces alone would not see).
    ``low``: ``sql`` in lower case."""
    if len(sql) > _SHORT and (sql.count("(") > outline.SLICE or _many_cases(sql)):
        return False
    if len(sql) < limits.SHALLOW_TEXT and low.count("and") + low.count("or") + \
            low.count("union") + low.count("intersect") < limits.BALANCE_FROM - 1:
        return True     # fewer chain words than that even counted as substrings
    return limits.kept_as_parsed(sql)


class PieceParser:
    """A session's parsed pieces: (kind, text) -> sqlglot tree, least recently used
    dropped first."""

    __slots__ = ("hits", "misses", "pieces")

    def __init__(self, size: int = MAX_PIECES) -> None:
        self.pieces: OrderedDict = OrderedDict()
        self.hits = 0
        self.misses = 0

    def parse(self, sql: str) -> exp.Select | None:
        """The tree ``parse_one(sql)`` would give, assembled from shared pieces; or None
        (another shape, or a piece that does not parse alone as in place)."""
        cut = split(sql)
        if cut is None:
            return None
        items, source, conds, ops, order, limit = cut
        seen: set = set()
        nodes = []
        for text in items:
            node = self._piece(_ITEM, text, seen)
            if node is None:
                return None
            nodes.append(node)
        from_ = self._piece(_SOURCE, source, seen)
        if from_ is None:
            return None
        where = None
        if conds:
            operands = []
            for text in conds:
                node = self._piece(_COND, text, seen)
                if node is None:
                    return None
                operands.append(node)
            where = exp.Where(this=_chain(operands, ops))
        order_node = limit_node = None
        if order is not None:
            order_node = self._piece(_ORDER, order, seen)
            if order_node is None:
                return None
        if limit is not None:
            limit_node = self._piece(_LIMIT, limit, seen)
            if limit_node is None:
                return None
        check()     # as parse_one does after sqlglot: interrupt, statement_timeout
        # the arguments in the order sqlglot's parser sets them
        args = {"kind": None, "hint": None, "distinct": None, "expressions": nodes,
                "limit": limit_node, "exclude": None, "operation_modifiers": None,
                "from_": from_}
        if where is not None:
            args["where"] = where
        if order_node is not None:
            args["order"] = order_node
        select = exp.Select(**args)
        # The binder's check_clauses, done: each piece passed it when it was parsed, and
        # the nodes joining them are checked here (a refusal: the whole parse reports it)
        try:
            _check_joints(select)
        except errors.Error:
            return None
        return select

    def node(self, kind: str, text: str) -> exp.Expression | None:
        """A select item (``kind`` "item") or WHERE condition ("cond") parsed alone, as
        this module reads it in a statement, or None when it does not parse alone as in
        place; kept among this parser's pieces, so that a piece tested for reuse
        (sql/piece_plan.py) is not parsed again for its own statement."""
        return self._piece(kind, text, set())

    def _piece(self, kind: str, text: str, seen: set):
        """The parsed piece, or None: it does not parse alone as in place, or it is
        already in this statement (one node has one parent)."""
        text = text.strip()
        key = (kind, text)
        if key in seen:
            return None
        seen.add(key)
        pieces = self.pieces
        node = pieces.get(key)
        if node is None:
            self.misses += 1
            node = _parse_piece(kind, text)
            if len(pieces) >= MAX_PIECES:
                pieces.popitem(last=False)
            pieces[key] = node
        else:
            self.hits += 1
            pieces.move_to_end(key)
        return None if node is _DECLINED else node


def _check_joints(select: exp.Select) -> None:
    """check_clauses over the nodes of ``select`` that are no piece's."""
    todo = [select]
    where = select.args.get("where")
    if where is not None:
        todo.append(where)
        node = where.this
        stack = [node]
        while stack:
            node = stack.pop()
            if type(node) is exp.And or type(node) is exp.Or:
                todo.append(node)
                stack.append(node.this)
                stack.append(node.expression)
    for node in todo:
        check_node(node)


def _parse_piece(kind: str, text: str):
    prefix, arg = _WRAPPER[kind]
    try:
        stmt = parse_one(prefix + text)
        # the binder's clause check, once per piece (``PieceParser.parse``: checked)
        check_clauses(stmt)
    except errors.Error:
        return _DECLINED     # the whole parse reports it, with its position
    if type(stmt) is not exp.Select:
        return _DECLINED
    filled = {k for k, v in stmt.args.items() if v}
    if filled != ({"expressions"} if kind == _ITEM else {"expressions", arg}):
        return _DECLINED
    if kind == _ITEM:
        values = stmt.args["expressions"]
        return values[0] if len(values) == 1 else _DECLINED
    if kind == _COND:
        node = stmt.args["where"].this
        # an AND/OR at the top was a cut this module missed: the place decides it
        return _DECLINED if type(node) in (exp.And, exp.Or) else node
    return stmt.args[arg]


def _chain(operands: list, ops: list):
    """The operands joined as sqlglot's parser joins them: AND before OR, both from the
    left."""
    return chain(operands, ops, lambda a, b: exp.And(this=a, expression=b),
                 lambda a, b: exp.Or(this=a, expression=b))


def chain(operands: list, ops: list, conj, disj):
    """``operands`` joined by ``ops`` ("and"/"or" between each pair) with AND binding
    tighter than OR and both grouping from the left: ``conj(a, b)`` / ``disj(a, b)`` build
    each join (sqlglot nodes here, bound calls in piece_plan.py)."""
    terms = []
    current = operands[0]
    for op, node in zip(ops, operands[1:]):
        if op == "and":
            current = conj(current, node)
        else:
            terms.append(current)
            current = node
    terms.append(current)
    out = terms[0]
    for node in terms[1:]:
        out = disj(out, node)
    return out
