"""Row constructors in comparisons: ``(a, b) = (1, 2)``, ``(a, b) < (c, d)``,
``(a, b) IN ((1, 2), (3, 4))`` and ``(a, b) [NOT] IN (SELECT x, y ...)``.

The engine has no row-valued expressions; these forms are rewritten into the
scalar comparisons SQL defines them by, with PostgreSQL's NULL rules:

* ``=`` is the AND of the pairs' ``=``, ``<>`` the OR of their ``<>``, IS [NOT]
  DISTINCT FROM likewise;
* ``<``, ``<=``, ``>``, ``>=`` compare left to right, the first unequal pair deciding
  (a NULL in it makes the answer NULL): ``a < c OR (a = c AND b < d)``;
* an IN list is the OR of row equalities; ``row IS NULL`` holds when every field is
  NULL, ``row IS NOT NULL`` when none is;
* IN (subquery) is TRUE when some row is equal, NULL when none is but some
  comparison is NULL, else FALSE: two EXISTS subqueries over the subquery's rows
  (the first an ordinary semi-join). As a plain conjunct of WHERE, where NULL and
  FALSE both drop the row, IN needs only the first and NOT IN becomes one NOT EXISTS.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ..parse import position_of

_FLIPPED = {"lt": "lt", "le": "lt", "gt": "gt", "ge": "gt"}


def row_items(node) -> list | None:
    """The elements of a row constructor ``(a, b)`` / ``ROW(a, b)``, else None."""
    if isinstance(node, exp.Tuple):
        return list(node.expressions)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "row":
        return list(node.expressions)
    return None


def _pairs(binder, left: list, right: list, node) -> list:
    if len(left) != len(right):
        raise errors.syntax_error("unequal number of entries in row expressions",
                                  position=position_of(node))
    return [(binder.bind(a), binder.bind(b)) for a, b in zip(left, right)]


def _chain(binder, name: str, parts: list, node):
    out = parts[0]
    for p in parts[1:]:
        out = binder.call(name, [out, p], node)
    return out


def bind_row_comparison(binder, name: str, left: list, right: list, node):
    """``(l1, l2...) op (r1, r2...)`` as scalar comparisons (see the module docstring)."""
    pairs = _pairs(binder, left, right, node)
    if name in ("eq", "is_not_distinct"):
        return _chain(binder, "and", [binder.call(name, list(p), node) for p in pairs], node)
    if name in ("ne", "is_distinct"):
        return _chain(binder, "or", [binder.call(name, list(p), node) for p in pairs], node)
    if name not in _FLIPPED:
        raise errors.not_supported(f"row constructors with {name}", position=position_of(node))
    out = binder.call(name, list(pairs[-1]), node)
    for a, b in reversed(pairs[:-1]):
        strict = binder.call(_FLIPPED[name], [a, b], node)
        same = binder.call("eq", [a, b], node)
        out = binder.call("or", [strict, binder.call("and", [same, out], node)], node)
    return out


def bind_row_is_null(binder, items: list, node, negated: bool):
    """``row IS NULL``: every field is NULL; ``row IS NOT NULL``: none is (so a row
    with some NULL fields is neither, as in PostgreSQL)."""
    tests = [binder.call("is_null", [binder.bind(i)], node) for i in items]
    if negated:
        tests = [binder.call("not", [t], node) for t in tests]
    return _chain(binder, "and", tests, node)


def bind_row_in_list(binder, node: exp.In, left: list):
    """``(a, b) [NOT] IN ((1, 2), ...)``: the OR of row equalities."""
    alternatives = []
    for value in node.expressions:
        items = row_items(value)
        if items is None:
            raise errors.syntax_error("unequal number of entries in row expressions",
                                      position=position_of(value))
        alternatives.append(bind_row_comparison(binder, "eq", left, items, node))
    out = _chain(binder, "or", alternatives, node)
    return binder.call("not", [out], node) if node.args.get("negate") else out


def bind_row_in_query(binder, node: exp.In, left: list, negated: bool):
    """``(a, b) [NOT] IN (SELECT x, y ...)`` through EXISTS (see the module docstring)."""
    query = node.args["query"]
    body = query.this if isinstance(query, exp.Subquery) else query
    names = [f"__row_in_{i}" for i in range(len(left))]
    width = len(body.selects) if isinstance(body, exp.Select) else None
    if width is not None and width != len(left) and not any(
            isinstance(s, exp.Star) for s in body.selects):
        raise errors.syntax_error(
            "subquery has too " + ("many" if width > len(left) else "few") + " columns",
            position=position_of(node))
    source = exp.Subquery(this=body.copy(), alias=exp.TableAlias(
        this=exp.to_identifier("__row_in"),
        columns=[exp.to_identifier(n) for n in names]))

    def matches():
        return exp.and_(*[exp.EQ(this=item.copy(), expression=exp.column(n, "__row_in"))
                          for item, n in zip(left, names)])

    def exists(condition):
        return exp.Exists(this=exp.select("1").from_(source.copy()).where(condition))

    plain_where = _plain_conjunct(node.parent if not negated else node.parent.parent)
    if plain_where:       # NULL and FALSE both drop the row
        if not negated:
            return binder.bind(exists(matches()))
        unsure_or_equal = exp.Not(this=exp.Is(this=exp.paren(matches()),
                                              expression=exp.false()))
        return binder.bind(exp.Not(this=exists(unsure_or_equal)))
    some_null = exp.Is(this=exp.paren(matches()), expression=exp.Null())
    value = exp.Case(ifs=[exp.If(this=exists(matches()), true=exp.true()),
                          exp.If(this=exists(some_null), true=exp.Null())],
                     default=exp.false())
    return binder.bind(exp.Not(this=value) if negated else value)


def _plain_conjunct(parent) -> bool:
    """Whether a node whose parent is ``parent`` is one of the AND-ed terms of a WHERE."""
    while isinstance(parent, (exp.And, exp.Paren)):
        parent = parent.parent
    return isinstance(parent, exp.Where)
