"""``tsvector @@ tsquery``: whether a document matches a query, as PostgreSQL's TS_execute.

AND, OR and NOT are boolean over the lexemes present (an operand with weights needs a
position of one of them, a prefix operand ``:*`` any lexeme starting with it). A phrase
operator ``a <N> b`` needs positions: its value is the set of positions where the phrase
ends (with its width, so that phrases nest), a NOT inside a phrase the complement of its
operand's positions. A lexeme stored without positions (``strip``) matches no phrase, as
in PostgreSQL.
"""
from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache

from . import tsvector as V


class Doc:
    """A tsvector prepared for lookups: lexeme -> positions, lexemes sorted for prefixes."""

    __slots__ = ("vector", "by_lexeme", "lexemes")

    def __init__(self, vector: V.TsVector) -> None:
        self.vector = vector
        self.by_lexeme = dict(vector)
        self.lexemes = [lex for lex, _ in vector]

    def entries(self, operand) -> list:
        """(lexeme, positions) of the entries an operand matches."""
        _, lexeme, _, prefix = operand
        if not prefix:
            ps = self.by_lexeme.get(lexeme)
            return [] if ps is None else [(lexeme, ps)]
        out = []
        i = bisect_left(self.lexemes, lexeme)
        while i < len(self.lexemes) and self.lexemes[i].startswith(lexeme):
            out.append((self.lexemes[i], self.by_lexeme[self.lexemes[i]]))
            i += 1
        return out

    def positions(self, operand):
        """The operand's positions (a sorted list); None when absent; "maybe" when
        present without positions."""
        weights = operand[2]
        found = self.entries(operand)
        if not found:
            return None
        out = set()
        maybe = False
        for _, ps in found:
            if not ps:
                maybe = True
                continue
            for p, w in ps:
                if not weights or w in weights:
                    out.add(p)
        if out:
            return sorted(out)
        return "maybe" if maybe else None


@lru_cache(maxsize=1024)
def doc_of(text: str) -> Doc:
    return Doc(V.parse(text))


def may_match(node, vector_text: str) -> bool:
    """False only when a stored vector (its text) cannot match the query: an operand's
    quoted lexeme (for a prefix, its quoted start) is not in the text where the query
    needs it. A substring test per operand, without parsing the vector."""
    kind = node[0]
    if kind == "val":
        return (("'" + node[1].replace("\\", "\\\\").replace("'", "''")) if node[3]
                else V.quote(node[1])) in vector_text
    if kind == "not":
        return True
    if kind == "or":
        return may_match(node[1], vector_text) or may_match(node[2], vector_text)
    return may_match(node[1], vector_text) and may_match(node[2], vector_text)


def stored_matches(vector_text: str, query) -> bool:
    """``matches`` for a stored vector's text (rows are mostly rejected unparsed)."""
    if query is None or not may_match(query, vector_text):
        return False
    return matches(doc_of(vector_text), query)


def matches(doc: Doc, query) -> bool:
    if query is None:
        return False
    return evaluate(query, doc.positions)


def evaluate(node, lookup) -> bool:
    """The query's truth with ``lookup(operand)`` giving positions / None / "maybe"."""
    kind = node[0]
    if kind == "val":
        return lookup(node) is not None
    if kind == "not":
        return not evaluate(node[1], lookup)
    if kind == "and":
        return evaluate(node[1], lookup) and evaluate(node[2], lookup)
    if kind == "or":
        return evaluate(node[1], lookup) or evaluate(node[2], lookup)
    result = phrase_positions(node, lookup)
    return result is not None and (result[0] or bool(result[1]) or result[3])


def phrase_positions(node, lookup):
    """(negated, positions, width, maybe) where the sub-phrase ends; None: no match."""
    kind = node[0]
    if kind == "val":
        ps = lookup(node)
        if ps is None or ps == "maybe":     # no positions: a phrase cannot match it
            return None
        return (False, frozenset(ps), 0, False)
    if kind == "not":
        inner = phrase_positions(node[1], lookup)
        if inner is None:
            return (True, frozenset(), 0, False)
        neg, ps, width, maybe = inner
        if maybe:
            return (True, frozenset(), width, True)
        return (not neg, ps, width, False)
    left = phrase_positions(node[1], lookup)
    right = phrase_positions(node[2], lookup)
    if kind == "or":
        if left is None:
            return right
        if right is None:
            return left
        return _combine(left, right, "or")
    if left is None or right is None:
        return None
    if left[3] or right[3]:     # no positions to check: presence is all we know
        return (False, frozenset(), 0, True)
    if kind == "and":
        return _combine(left, right, "and")
    distance = node[3]
    lneg, lps, lwidth, _ = left
    rneg, rps, rwidth, _ = right
    offset = rwidth + distance
    shifted = frozenset(p + offset for p in lps)
    width = lwidth + distance + rwidth
    if not lneg and not rneg:
        out = shifted & rps
    elif not lneg:
        out = shifted - rps
    elif not rneg:
        out = frozenset(p for p in rps if p - offset not in lps and p - offset >= 1)
    else:
        return (True, shifted | rps, width, False)
    return (False, out, width, False) if out else None


def _combine(left, right, op):
    lneg, lps, lw, _ = left
    rneg, rps, rw, _ = right
    width = max(lw, rw)
    if op == "or":
        if not lneg and not rneg:
            return (False, lps | rps, width, False)
        if lneg and rneg:
            return (True, lps & rps, width, False)
        neg_ps, pos_ps = (lps, rps) if lneg else (rps, lps)
        return (True, neg_ps - pos_ps, width, False)
    if not lneg and not rneg:
        out = lps & rps
    elif lneg and rneg:
        return (True, lps | rps, width, False)
    else:
        neg_ps, pos_ps = (lps, rps) if lneg else (rps, lps)
        out = pos_ps - neg_ps
    return (False, out, width, False) if out else None
