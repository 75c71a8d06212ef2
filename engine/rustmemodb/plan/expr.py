"""Bound expressions: names resolved to column positions, every node typed.

The binder turns sqlglot's syntax tree into these; the optimizer rewrites them;
the executor evaluates them either over Arrow columns (``exec/expr/vector.py``)
or over one Python row tuple (``exec/expr/row.py``). Column references are
positions in the input of the plan node that owns the expression, so a bound
expression never looks a name up again.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..deep import deep
from .. import composite, ranges, statement_limits as _limits, types
from .format import format_call


class Expr:
    type: str

    def children(self) -> tuple["Expr", ...]:
        return ()

    def walk(self):
        """Every node, pre-order; iterative, so a tree of any depth walks."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            children = node.children()
            if children:
                stack.extend(reversed(children))


@dataclass(frozen=True, eq=True)
class ColRef(Expr):
    index: int
    type: str
    name: str = ""

    # The three commonest nodes (a one-off statement makes ~40 of them) get an
    # ``__init__`` that fills the instance dict directly: the generated one of a frozen
    # dataclass calls ``object.__setattr__`` once per field, ~40% slower. Same fields,
    # same defaults, same keywords (``dataclasses.replace`` passes them by name).
    def __init__(self, index: int, type: str, name: str = "") -> None:
        d = self.__dict__
        d["index"] = index
        d["type"] = type
        d["name"] = name

    def __str__(self) -> str:
        return self.name or f"#{self.index}"


@dataclass(frozen=True, eq=True)
class Const(Expr):
    value: Any          # storage form (see types.py)
    type: str
    # The literal this constant was written as, when the statement's literals are being
    # lifted into parameters (sql/literals.py); part of equality, so two literals are the
    # same expression only when they are the same literal of the text.
    slot: int | None = field(default=None, repr=False)
    # The call or cast this constant was folded from, when one of its arguments was a
    # lifted literal (``md5(42::text)``): a cached plan evaluates it again for the next
    # text's literal (sql/literals.parameterize) instead of pinning the literal.
    origin: Any = field(default=None, repr=False)

    def __init__(self, value: Any, type: str, slot: int | None = None,
                 origin: Any = None) -> None:     # as ColRef's
        d = self.__dict__
        d["value"] = value
        d["type"] = type
        d["slot"] = slot
        d["origin"] = origin

    def __str__(self) -> str:
        if self.value is None:
            return "NULL"
        if isinstance(self.value, str):
            return "'" + self.value.replace("'", "''") + "'"
        kind = ranges.KINDS.get(self.type)
        if kind is not None:        # a range: its text, not its stored bytes
            return f"'{ranges.format_range(kind, ranges.decode(kind, self.value))}'::" \
                   f"{kind.pg_name}"
        if self.type in types.NETWORK_TYPES:     # a binary key (netaddr.py): its text
            return f"'{types.netaddr.output(self.type, self.value)}'::{self.type.lower()}"
        if self.type == types.MONEY:             # cents (money.py)
            return f"'{types.money.format(self.value)}'::money"
        if composite.is_record(self.type):       # ordered bytes (composite.py): its text
            text = composite.format_record(self.type, self.value).replace("'", "''")
            return f"'{text}'::{composite.type_name(self.type)}"
        if self.type == types.TIMETZ:            # an ordered key (timetz.py)
            return f"'{types.timetz.format(self.value)}'::timetz"
        if self.type == types.NUMERIC:           # an ordered key (numeric.py): its text
            text = types.numeric.text_of(self.value)
            return text if text[-1].isdigit() else f"'{text}'::numeric"
        return str(self.value)


@dataclass(frozen=True, eq=True)
class Param(Expr):
    """A placeholder; ``type`` is what the context expects (checked at execution)."""
    slot: int
    type: str

    def __str__(self) -> str:
        return f"${self.slot + 1}"


@dataclass(frozen=True, eq=True)
class Call(Expr):
    """A scalar function or operator, resolved at bind time to ``impl``."""
    fn: str
    args: tuple
    type: str
    impl: Any = field(default=None, compare=False, repr=False)   # ScalarFunction

    def __init__(self, fn: str, args: tuple, type: str, impl: Any = None) -> None:
        d = self.__dict__     # as ColRef's
        d["fn"] = fn
        d["args"] = args
        d["type"] = type
        d["impl"] = impl

    def children(self):
        return self.args

    def __str__(self) -> str:
        return format_call(self)


@dataclass(frozen=True, eq=True)
class Case(Expr):
    whens: tuple          # ((cond, value), ...)
    default: Expr | None
    type: str

    def children(self):
        out = []
        for c, v in self.whens:
            out += [c, v]
        if self.default is not None:
            out.append(self.default)
        return tuple(out)

    def __str__(self) -> str:
        body = " ".join(f"WHEN {c} THEN {v}" for c, v in self.whens)
        tail = f" ELSE {self.default}" if self.default is not None else ""
        return f"CASE {body}{tail} END"


@dataclass(frozen=True, eq=True)
class Cast(Expr):
    arg: Expr
    type: str

    def children(self):
        return (self.arg,)

    def __str__(self) -> str:
        return f"CAST({self.arg} AS {self.type})"


@dataclass(frozen=True, eq=True)
class InList(Expr):
    arg: Expr
    values: tuple
    negated: bool = False
    type: str = "BOOLEAN"

    def children(self):
        return (self.arg,) + self.values

    def __str__(self) -> str:
        return f"{self.arg} {'NOT ' if self.negated else ''}IN ({', '.join(map(str, self.values))})"


@dataclass(frozen=True, eq=True)
class AggCall(Expr):
    """An aggregate; lives only in a LogicalAggregate's ``aggregates`` list."""
    fn: str
    args: tuple
    type: str
    distinct: bool = False
    star: bool = False
    filter: Expr | None = None
    order_by: tuple = ()     # ((expr, desc, nulls_first), ...) for string_agg/array_agg
    extra: tuple = ()        # constant extra args (e.g. string_agg separator)

    def children(self):
        return self.args + ((self.filter,) if self.filter is not None else ())

    def __str__(self) -> str:
        inner = "*" if self.star else ", ".join(map(str, self.args))
        return f"{self.fn}({'DISTINCT ' if self.distinct else ''}{inner})"


@dataclass(frozen=True, eq=False)
class SubqueryExpr(Expr):
    """A subquery used as a value: kind is 'scalar', 'exists' or 'in'."""
    kind: str
    plan: Any                 # a logical plan
    type: str
    arg: Expr | None = None   # the left side of IN
    negated: bool = False
    correlated: tuple = ()    # outer ColRefs the plan reads as parameters (outer_refs)

    def children(self):
        return ((self.arg,) if self.arg is not None else ()) + tuple(self.correlated)

    def __str__(self) -> str:
        return f"({'NOT ' if self.negated else ''}{self.kind} subquery)"


@dataclass(frozen=True, eq=True)
class OuterRef(Expr):
    """A column of an enclosing query, read by a correlated subquery."""
    depth: int
    index: int
    type: str
    name: str = ""

    def __str__(self) -> str:
        return f"outer.{self.name or self.index}"


@dataclass(frozen=True, eq=True)
class WindowCall(Expr):
    """A window function; lives only in a LogicalWindow's ``functions`` list.

    ``frame`` is ``(mode, start, end)``: mode 'rows' | 'range' | 'groups', each bound
    ``(kind, offset)`` with kind 'unbounded_preceding', 'preceding', 'current',
    'following', 'unbounded_following'. None means the SQL default frame.
    """
    fn: str
    args: tuple
    type: str
    partition: tuple = ()    # (Expr, ...)
    order: tuple = ()        # ((Expr, desc, nulls_first), ...)
    frame: tuple | None = None
    distinct: bool = False
    filter: Expr | None = None
    star: bool = False

    def children(self):
        out = list(self.args) + list(self.partition) + [o[0] for o in self.order]
        if self.filter is not None:
            out.append(self.filter)
        return tuple(out)

    def __str__(self) -> str:
        inner = "*" if self.star else ", ".join(map(str, self.args))
        over = []
        if self.partition:
            over.append("PARTITION BY " + ", ".join(map(str, self.partition)))
        if self.order:
            over.append("ORDER BY " + ", ".join(f"{e}{' DESC' if d else ''}"
                                                for e, d, _ in self.order))
        return f"{self.fn}({inner}) OVER ({' '.join(over)})"


@dataclass(frozen=True, eq=False)
class NextVal(Expr):
    """nextval('seq'): the next value of a sequence (SERIAL defaults); never folded."""
    sequence: str
    type: str = "INTEGER"

    def __str__(self) -> str:
        return f"nextval('{self.sequence}')"


@dataclass(frozen=True, eq=False)
class CurrVal(Expr):
    """currval('seq'): the value nextval() last gave this session, read when the statement
    runs (so ``VALUES (nextval('s'), currval('s'))`` sees the value drawn beside it)."""
    sequence: str
    type: str = "INTEGER"

    def __str__(self) -> str:
        return f"currval('{self.sequence}')"


@dataclass(frozen=True, eq=True)
class SetVal(Expr):
    """setval('seq', value[, is_called]): sets the sequence, gives ``value``; a write,
    so never folded and never on a read-only fast path."""
    sequence: str
    value: Expr
    is_called: Expr | None = None
    type: str = "INTEGER"

    def children(self) -> tuple[Expr, ...]:
        return (self.value,) if self.is_called is None else (self.value, self.is_called)

    def __str__(self) -> str:
        called = "" if self.is_called is None else f", {self.is_called}"
        return f"setval('{self.sequence}', {self.value}{called})"


def column_refs(e: Expr) -> set[int]:
    return {n.index for n in e.walk() if isinstance(n, ColRef)}


def depth_exceeds(e: Expr, limit: int) -> bool:
    """Whether the tree under ``e`` is more than ``limit`` levels deep (iterative, one
    level at a time: no (node, depth) pair per node; every compiled row expression is
    checked)."""
    if limit < 1:
        return True
    level = [e]
    depth = 1
    while True:
        below: list = []
        for node in level:
            below.extend(node.children())
        if not below:
            return False
        depth += 1
        if depth > limit:
            return True
        level = below


@deep
def transform(e: Expr, fn) -> Expr:
    """Rebuild ``e`` bottom-up, replacing each node by ``fn(node)`` (children first)."""
    _limits.tick()   # optimizer passes over huge expressions stay interruptible
    kind = type(e)
    # The nodes most trees are made of, rebuilt directly: the generic walk below costs a
    # field loop and a dataclasses.replace per node, a third of pruning a small plan.
    if kind is ColRef or kind is Param:
        return fn(e)
    if kind is Call:
        args = e.args
        new = [transform(a, fn) if isinstance(a, Expr) else _transform_item(a, fn)
               for a in args]
        for a, b in zip(new, args):
            if a is not b:
                return fn(Call(e.fn, tuple(new), e.type, e.impl))
        return fn(e)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _field_names(kind)
    if not names:    # not a dataclass, or one without fields
        return fn(e)
    changes = {}
    for name in names:
        v = getattr(e, name)
        if isinstance(v, Expr):
            nv = transform(v, fn)
            if nv is not v:
                changes[name] = nv
        elif isinstance(v, tuple) and v and any(isinstance(x, (Expr, tuple)) for x in v):
            nv = tuple(_transform_item(x, fn) for x in v)
            if any(a is not b for a, b in zip(nv, v)):
                changes[name] = nv
    if changes:
        e = dataclasses.replace(e, **changes)
    return fn(e)


_FIELD_NAMES: dict = {}


def _field_names(cls) -> tuple:
    """A dataclass's field names (``dataclasses.fields`` rebuilds the list each call);
    () for a class that is not a dataclass."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls)) \
            if dataclasses.is_dataclass(cls) else ()
    return names


def _transform_item(x, fn):
    if isinstance(x, Expr):
        return transform(x, fn)
    if isinstance(x, tuple):     # (cond, value) of a CASE: kept when neither changed
        new = tuple([_transform_item(y, fn) for y in x])
        return x if all(a is b for a, b in zip(new, x)) else new
    return x


# ---- helpers for rewrites (optimizer rules, binder) ---------------------------------------

def conjuncts(e: Expr | None) -> list[Expr]:
    """``a AND b AND c`` as ``[a, b, c]`` (None gives []); iterative, so a chain of any
    length or shape splits without recursion."""
    if e is None:
        return []
    out, stack = [], [e]
    while stack:
        n = stack.pop()
        if isinstance(n, Call) and n.fn == "and" and len(n.args) == 2:
            stack.append(n.args[1])
            stack.append(n.args[0])
        else:
            out.append(n)
    return out


def conjoin(parts: list[Expr]) -> Expr | None:
    """The AND of ``parts`` (None when empty): left-deep when short (the shape the parser
    gives), balanced when long so that no pass recurses as deep as the list is long."""
    if not parts:
        return None
    impl = _builtin("and")
    if len(parts) < _BALANCE_FROM:
        out = parts[0]
        for p in parts[1:]:
            out = Call("and", (out, p), "BOOLEAN", impl)
        return out
    level = list(parts)
    while len(level) > 1:
        nxt = [Call("and", (level[i], level[i + 1]), "BOOLEAN", impl)
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


_BALANCE_FROM = 16


def make_call(name: str, args: list[Expr]) -> Call:
    """A call of a built-in function, resolved against the built-in registry."""
    reg = _builtin_registry()
    fn, ret = reg.resolve(name, [a.type for a in args])
    return Call(name, tuple(args), ret, fn)


def remap_columns(e: Expr, fn) -> Expr:
    """``e`` with each ColRef ``c`` replaced by ``fn(c)`` (an Expr)."""
    return transform(e, lambda n: fn(n) if isinstance(n, ColRef) else n)


def shift_columns(e: Expr, offset: int) -> Expr:
    if offset == 0:
        return e
    return remap_columns(e, lambda c: ColRef(c.index + offset, c.type, c.name))


def has_subquery(e: Expr) -> bool:
    return any(isinstance(n, SubqueryExpr) for n in e.walk())


def is_volatile(e: Expr) -> bool:
    return any(isinstance(n, Call) and n.impl is not None and n.impl.volatile for n in e.walk())


_REGISTRY = None


def _builtin_registry():
    global _REGISTRY
    if _REGISTRY is None:
        from ..exec.functions.registry import FunctionRegistry
        _REGISTRY = FunctionRegistry()
    return _REGISTRY


def _builtin(name: str):
    return _builtin_registry().lookup(name)
