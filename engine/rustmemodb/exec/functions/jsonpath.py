"""SQL/JSON path expressions, as PostgreSQL's jsonb_path_* functions read them.

``jsonb_path_query(doc, '$.items[*] ? (@.price > $min).name', '{"min": 10}')`` selects
items of a document with a small language of its own: ``$`` (the document), ``@`` (the
current item in a filter), ``$name`` (a variable of the vars object), ``.key``,
``."key"``, ``.*``, ``.**`` (every level, or ``{n}`` / ``{n to m}`` levels), ``[i]``,
``[i to j]``, ``[last]``, ``[*]``, filters ``? (predicate)`` with ``== != <> < <= > >=``,
``&&``, ``||``, ``!``, ``exists (path)``, ``like_regex "re" flag "i"``, ``starts with``,
``(...) is unknown``, arithmetic ``+ - * / %``, and the item methods ``type()``,
``size()``, ``double()``, ``ceiling()``, ``floor()``, ``abs()``, ``keyvalue()``.

A path evaluates to a sequence of items. In ``lax`` mode (the default) an accessor on the
wrong kind of item gives nothing instead of an error, and arrays unwrap where an object
member is asked for; ``strict`` mode raises 2203A/22033/22039 instead. Predicates are
three-valued: a comparison of items that cannot be compared is unknown, as in PostgreSQL.
The grammar is parsed once per distinct path text (cached) into nested tuples. One
difference: ``keyvalue()``'s ``id`` is 0 here (PostgreSQL numbers objects by their place
in its binary format).
"""
from __future__ import annotations

import functools
import math
import re
from decimal import Decimal

from ... import errors, numeric

# ---- tokens --------------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:
    (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<var>\$[A-Za-z_]\w*|\$"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<>|<=|>=|&&|\|\||\*\*|[$@.\[\](){},?!<>*+\-/%])
  | (?P<word>[A-Za-z_]\w*)
)""", re.X)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "\\": "\\",
            "/": "/"}


def _syntax(path: str, detail: str = "") -> errors.Error:
    return errors.sql_error("42601", f'syntax error in jsonpath "{path}"'
                            + (f": {detail}" if detail else ""))


def _unquote(text: str) -> str:
    out, i = [], 1
    while i < len(text) - 1:
        c = text[i]
        if c == "\\":
            nxt = text[i + 1]
            if nxt == "u":
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _tokens(path: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = path.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _syntax(path, f"unexpected character at {pos}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    out.append(("end", ""))
    return out


# ---- parser: nested tuples ---------------------------------------------------------------------

class _Parser:
    def __init__(self, path: str) -> None:
        self.path = path
        self.toks = _tokens(path)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> tuple[str, str]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value and self.peek()[0] in ("op", "word"):
            self.i += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.accept(value):
            raise _syntax(self.path, f'expected "{value}" near "{self.peek()[1]}"')

    def parse(self) -> tuple:
        strict = False
        if self.peek() == ("word", "strict") or self.peek() == ("word", "lax"):
            strict = self.take()[1] == "strict"
        expr = self.or_()
        if self.peek()[0] != "end":
            raise _syntax(self.path, f'unexpected "{self.peek()[1]}"')
        return strict, expr

    # predicates
    def or_(self):
        left = self.and_()
        while self.accept("||"):
            left = ("or", left, self.and_())
        return left

    def and_(self):
        left = self.not_()
        while self.accept("&&"):
            left = ("and", left, self.not_())
        return left

    def not_(self):
        if self.accept("!"):
            self.expect("(")
            inner = self.or_()
            self.expect(")")
            return ("not", inner)
        return self.predicate()

    def predicate(self):
        if self.peek() == ("word", "exists") and self.peek(1)[1] == "(":
            self.i += 2
            inner = self.or_()
            self.expect(")")
            return ("exists", inner)
        left = self.additive()
        kind, value = self.peek()
        if kind == "op" and value in ("==", "!=", "<>", "<", "<=", ">", ">="):
            self.i += 1
            return ("cmp", "!=" if value == "<>" else value, left, self.additive())
        if (kind, value) == ("word", "like_regex"):
            self.i += 1
            pattern = self._string()
            flags = self._string() if self.accept("flag") else ""
            return ("like_regex", left, _regex(self.path, pattern, flags))
        if (kind, value) == ("word", "starts"):
            self.i += 1
            self.expect("with")
            kind, value = self.peek()
            prefix = ("lit", _unquote(self.take()[1])) if kind == "str" else self.primary()
            return ("starts", left, prefix)
        if (kind, value) == ("word", "is"):
            self.i += 1
            self.expect("unknown")
            return ("is_unknown", left)
        return left

    def _string(self) -> str:
        kind, value = self.take()
        if kind != "str":
            raise _syntax(self.path, "expected a string")
        return _unquote(value)

    # values
    def additive(self):
        left = self.multiplicative()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            left = ("arith", self.take()[1], left, self.multiplicative())
        return left

    def multiplicative(self):
        left = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "%"):
            left = ("arith", self.take()[1], left, self.unary())
        return left

    def unary(self):
        if self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            sign = self.take()[1]
            return ("neg", self.unary()) if sign == "-" else self.unary()
        return self.accessors(self.primary())

    def primary(self):
        kind, value = self.take()
        if kind == "op" and value in ("$", "@"):
            return ("root",) if value == "$" else ("current",)
        if kind == "var":
            return ("var", _unquote(value[1:]) if value[1:2] == '"' else value[1:])
        if kind == "num":
            return ("lit", numeric.of_json(value) if any(c in value for c in ".eE")
                    else int(value))
        if kind == "str":
            return ("lit", _unquote(value))
        if kind == "word" and value in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[value])
        if kind == "word" and value == "last":
            return ("last",)
        if kind == "op" and value == "(":
            inner = self.or_()
            self.expect(")")
            return inner
        raise _syntax(self.path, f'unexpected "{value}"')

    def accessors(self, base):
        while True:
            kind, value = self.peek()
            if (kind, value) == ("op", "."):
                self.i += 1
                base = self._member(base)
            elif (kind, value) == ("op", "["):
                self.i += 1
                base = self._subscripts(base)
            elif (kind, value) == ("op", "?"):
                self.i += 1
                self.expect("(")
                cond = self.or_()
                self.expect(")")
                base = ("filter", base, cond)
            else:
                return base

    def _member(self, base):
        kind, value = self.take()
        if (kind, value) == ("op", "*"):
            return ("any_member", base)
        if (kind, value) == ("op", "**"):
            lo, hi = 0, None
            if self.accept("{"):
                lo = hi = self._level()
                if self.accept("to"):
                    hi = self._level()
                self.expect("}")
            return ("any_level", base, lo, hi)
        if kind == "str":
            return ("member", base, _unquote(value))
        if kind == "word":
            if self.peek()[1] == "(" and value in _METHODS:
                self.i += 1
                self.expect(")")
                return ("method", base, value)
            return ("member", base, value)
        raise _syntax(self.path, f'unexpected "{value}" after "."')

    def _level(self):
        kind, value = self.take()
        if kind == "word" and value == "last":
            return -1
        if kind == "num" and value.isdigit():
            return int(value)
        raise _syntax(self.path, "expected a level number")

    def _subscripts(self, base):
        if self.accept("*"):
            self.expect("]")
            return ("any_element", base)
        subs = []
        while True:
            lo = self.additive()
            hi = self.additive() if self.accept("to") else None
            subs.append((lo, hi))
            if not self.accept(","):
                break
        self.expect("]")
        return ("elements", base, subs)


def _regex(path: str, pattern: str, flags: str):
    opts = 0
    for f in flags:
        if f == "i":
            opts |= re.I
        elif f == "s":
            opts |= re.S
        elif f == "m":
            opts |= re.M
        elif f == "x":
            opts |= re.X
        elif f != "q":
            raise _syntax(path, f'invalid like_regex flag "{f}"')
    try:
        return re.compile(re.escape(pattern) if "q" in flags else pattern, opts)
    except re.error as exc:
        raise errors.sql_error("2201B", f"invalid regular expression: {exc}") from None


@functools.lru_cache(maxsize=256)
def compile_path(path: str) -> tuple:
    return _Parser(path).parse()


# ---- evaluation ----------------------------------------------------------------------------

_METHODS = ("type", "size", "double", "ceiling", "floor", "abs", "keyvalue")
_UNKNOWN = None


class _Context:
    def __init__(self, root, variables: dict, strict: bool) -> None:
        self.root = root
        self.vars = variables
        self.strict = strict


def _is_number(v) -> bool:
    # a jsonb number is an int or an exact Decimal (types.load_jsonb): numeric
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def _structural(ctx: _Context, sqlstate: str, message: str) -> list:
    if ctx.strict:
        raise errors.sql_error(sqlstate, message)
    return []


def _eval(node, ctx: _Context, current, last: int | None = None) -> list:
    op = node[0]
    if op == "root":
        return [ctx.root]
    if op == "current":
        return [current]
    if op == "lit":
        return [node[1]]
    if op == "var":
        if node[1] not in ctx.vars:
            raise errors.sql_error("42704", f'could not find jsonpath variable "{node[1]}"')
        return [ctx.vars[node[1]]]
    if op == "last":
        if last is None:
            raise errors.sql_error("22033", "LAST is allowed only in array subscripts")
        return [last]
    if op == "member":
        out = []
        for item in _eval(node[1], ctx, current, last):
            for v in (item if isinstance(item, list) and not ctx.strict else [item]):
                if isinstance(v, dict) and node[2] in v:
                    out.append(v[node[2]])
                elif ctx.strict:
                    raise errors.sql_error("2203A", f'JSON object does not contain key "{node[2]}"'
                                           if isinstance(v, dict) else
                                           "jsonpath member accessor can only be applied to "
                                           "an object")
        return out
    if op == "any_member":
        out = []
        for item in _eval(node[1], ctx, current, last):
            for v in (item if isinstance(item, list) and not ctx.strict else [item]):
                if isinstance(v, dict):
                    out.extend(v.values())
                elif ctx.strict:
                    raise errors.sql_error("2203C", "jsonpath wildcard member accessor can "
                                                    "only be applied to an object")
        return out
    if op == "any_level":
        out = []
        for item in _eval(node[1], ctx, current, last):
            _descend(item, 0, node[2], node[3], out)
        return out
    if op == "any_element":
        out = []
        for item in _eval(node[1], ctx, current, last):
            if isinstance(item, list):
                out.extend(item)
            elif ctx.strict:
                raise errors.sql_error("22039", "jsonpath wildcard array accessor can only "
                                                "be applied to an array")
            else:
                out.append(item)
        return out
    if op == "elements":
        out = []
        for item in _eval(node[1], ctx, current, last):
            if not isinstance(item, list):
                if ctx.strict:
                    raise errors.sql_error("22039", "jsonpath array accessor can only be "
                                                    "applied to an array")
                item = [item]
            top = len(item) - 1
            for lo_node, hi_node in node[2]:
                lo = _index(lo_node, ctx, current, top)
                hi = _index(hi_node, ctx, current, top) if hi_node is not None else lo
                if ctx.strict and (lo < 0 or hi > top or lo > hi):
                    raise errors.sql_error("22033", "jsonpath array subscript is out of bounds")
                out.extend(item[max(lo, 0):hi + 1] if hi >= 0 else [])
        return out
    if op == "filter":
        return [v for item in _eval(node[1], ctx, current, last)
                for v in (item if isinstance(item, list) and not ctx.strict else [item])
                if _truth(node[2], ctx, v) is True]
    if op == "method":
        out = []
        for item in _eval(node[1], ctx, current, last):
            for v in (item if isinstance(item, list) and node[2] not in ("size", "type")
                      and not ctx.strict else [item]):
                got = _method(node[2], v, ctx)
                out.extend(got) if isinstance(got, _Pairs) else out.append(got)
        return out
    if op == "neg":
        return [_negate(_number(v, "unary minus"))
                for v in _eval(node[1], ctx, current, last)]
    if op == "arith":
        left, right = (_eval(n, ctx, current, last) for n in node[2:4])
        if len(left) != 1 or len(right) != 1:
            raise errors.sql_error("22038", "left and right operands of jsonpath operator "
                                            f'"{node[1]}" must be single numeric values')
        return [_arith(node[1], _number(left[0], node[1]), _number(right[0], node[1]))]
    # a predicate used as a path: its truth value as a JSON boolean (or null)
    return [_truth(node, ctx, current)]


class _Pairs(list):
    """keyvalue()'s result: several items, not one array item."""


def _descend(item, depth: int, lo: int, hi: int | None, out: list) -> None:
    if depth >= lo and (hi is None or hi == -1 or depth <= hi):
        out.append(item)
    if hi is not None and hi != -1 and depth >= hi:
        return
    children = item.values() if isinstance(item, dict) else item if isinstance(item, list) \
        else ()
    for child in children:
        _descend(child, depth + 1, lo, hi, out)


def _index(node, ctx: _Context, current, top: int) -> int:
    values = _eval(node, ctx, current, top)
    if len(values) != 1 or not _is_number(values[0]):
        raise errors.sql_error("22033", "jsonpath array subscript is not a single numeric value")
    return int(values[0])


def _number(v, what: str):
    if not _is_number(v):
        raise errors.sql_error("22038", f'operand of jsonpath operator "{what}" is not a '
                                        "numeric value")
    return v


def _negate(v):
    return -v if type(v) is int else numeric.negate(v)


# numeric's operators, as PostgreSQL's jsonpath computes: scales kept (1.50 + 1 is 2.50),
# division at numeric's own scale (7 / 2 is 3.5000000000000000)
_NUMERIC_OPS = {"+": numeric.add, "-": numeric.sub, "*": numeric.mul, "/": numeric.div,
                "%": numeric.mod}


def _arith(op: str, a, b):
    if type(a) is int and type(b) is int and op in ("+", "-", "*"):
        return a + b if op == "+" else a - b if op == "-" else a * b
    return _NUMERIC_OPS[op](numeric.as_decimal(a), numeric.as_decimal(b))


_FLOAT8_MAX = Decimal("1.7976931348623157e308")


def _method(name: str, v, ctx: _Context):
    if name == "type":
        return ("null" if v is None else "boolean" if isinstance(v, bool) else "number"
                if _is_number(v) else "string" if isinstance(v, str) else "array"
                if isinstance(v, list) else "object")
    if name == "size":
        if isinstance(v, list):
            return len(v)
        if ctx.strict:
            raise errors.sql_error("22039", "jsonpath item method .size() can only be "
                                            "applied to an array")
        return 1
    if name == "keyvalue":       # expanded into one item per pair by _eval
        if not isinstance(v, dict):
            raise errors.sql_error("22039", "jsonpath item method .keyvalue() can only be "
                                            "applied to an object")
        return _Pairs({"key": k, "value": val, "id": 0} for k, val in v.items())
    if name == "double":
        # a number stays itself (checked to fit a float8); a string is read as float8
        # and becomes the numeric of it (float8_numeric: 15 digits)
        if isinstance(v, str):
            try:
                f = float(v)
            except ValueError:
                f = math.nan
            if f != f or f in (math.inf, -math.inf) or "_" in v:
                raise errors.sql_error("22036", "string argument of jsonpath item method "
                                                ".double() is not a valid representation "
                                                "of a double precision number")
            return numeric.from_float(f)
        if _is_number(v):
            if abs(v) > _FLOAT8_MAX:
                raise errors.sql_error("22036", "numeric argument of jsonpath item method "
                                                ".double() is out of range for type "
                                                "double precision")
            return v
        raise errors.sql_error("22039", "jsonpath item method .double() can only be applied "
                                        "to a string or numeric value")
    if not _is_number(v):
        raise errors.sql_error("22039", f"jsonpath item method .{name}() can only be "
                                        "applied to a numeric value")
    if type(v) is int:
        return abs(v) if name == "abs" else v
    if name == "abs":
        return v.copy_abs()
    return numeric.ceil(v) if name == "ceiling" else numeric.floor(v)


def _truth(node, ctx: _Context, current):
    """True, False or None (unknown) of a predicate."""
    op = node[0]
    if op == "and":
        a = _truth(node[1], ctx, current)
        if a is False:
            return False
        b = _truth(node[2], ctx, current)
        return False if b is False else (None if a is None or b is None else True)
    if op == "or":
        a = _truth(node[1], ctx, current)
        if a is True:
            return True
        b = _truth(node[2], ctx, current)
        return True if b is True else (None if a is None or b is None else False)
    if op == "not":
        a = _truth(node[1], ctx, current)
        return None if a is None else not a
    if op == "is_unknown":
        return _truth(node[1], ctx, current) is None
    if op == "exists":
        try:
            return bool(_eval(node[1], ctx, current))
        except errors.Error as exc:
            if exc.sqlstate == "42704":
                raise
            return None
    try:
        if op == "cmp":
            left, right = _eval(node[2], ctx, current), _eval(node[3], ctx, current)
            return _any_pair(left, right, lambda a, b: _compare(node[1], a, b))
        if op == "like_regex":
            return _any_pair(_eval(node[1], ctx, current), [None],
                             lambda a, _: None if not isinstance(a, str)
                             else bool(node[2].search(a)))
        if op == "starts":
            return _any_pair(_eval(node[1], ctx, current), _eval(node[2], ctx, current),
                             lambda a, b: None if not (isinstance(a, str) and isinstance(b, str))
                             else a.startswith(b))
    except errors.Error as exc:
        if exc.sqlstate == "42704":      # a missing variable is an error, not unknown
            raise
        return None
    values = _eval(node, ctx, current)
    if len(values) == 1 and isinstance(values[0], bool):
        return values[0]
    raise errors.sql_error("22038", "single boolean result is expected")


def _any_pair(left: list, right: list, test):
    """Existential: true if some pair passes; unknown if none does and some was unknown."""
    unknown = False
    for a in (x for v in left for x in (v if isinstance(v, list) else [v])):
        for b in (x for v in right for x in (v if isinstance(v, list) else [v])):
            r = test(a, b)
            if r is True:
                return True
            if r is None:
                unknown = True
    return None if unknown else False


def _compare(op: str, a, b):
    if a is None or b is None:          # null equals only null; never ordered
        if op in ("==", "!="):
            return (a is None and b is None) == (op == "==")
        return False if (a is None) != (b is None) else None
    if _is_number(a) and _is_number(b) or (isinstance(a, str) and isinstance(b, str)) or \
            (isinstance(a, bool) and isinstance(b, bool)):
        if isinstance(a, bool) and op not in ("==", "!="):
            return None
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                ">=": a >= b}[op]
    return None       # different kinds, arrays or objects: not comparable


# ---- the SQL functions -----------------------------------------------------------------------

def query(doc, path: str, variables=None, silent: bool = False) -> list:
    """Every item ``path`` selects from ``doc`` (parsed JSON values)."""
    strict, expr = compile_path(path)
    if variables is not None and not isinstance(variables, dict):
        raise errors.sql_error("22023", '"vars" argument is not an object',
                               detail="Jsonpath parameters should be encoded as key-value "
                                      "pairs of \"vars\" object.")
    try:
        return _eval(expr, _Context(doc, variables or {}, strict), doc)
    except errors.Error as exc:
        if silent and exc.sqlstate not in ("42601", "42704"):
            return []
        raise


def match(doc, path: str, variables=None, silent: bool = False):
    """jsonb_path_match / ``@@``: the single boolean the path yields (NULL if unknown)."""
    items = query(doc, path, variables, silent)
    if len(items) == 1 and (items[0] is None or isinstance(items[0], bool)):
        return items[0]
    if silent:
        return None
    raise errors.sql_error("22038", "single boolean result is expected")
