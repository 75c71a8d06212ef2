"""Arrays: PostgreSQL's one-dimensional arrays as Arrow list columns.

An ``X[]`` value is an Arrow ``list_(X)`` (Python: a list), 1-based as in
PostgreSQL. This module holds

* the text form: ``parse_array_literal`` (``'{1,2,NULL}'::int[]``, ``22P02`` on a
  malformed literal) and ``format_array`` (``{a,"b c",NULL}``);
* the constructor ``ARRAY[...]`` (``array_make``), subscripts ``a[i]``
  (``array_element``: NULL out of range) and slices ``a[lo:hi]`` (``array_slice``,
  bounds clamped, omitted bounds open);
* ``x op ANY/ALL (array)`` with SQL's three-valued rules, vectorised by exploding
  the lists (``list_flatten`` + ``list_parent_indices``) and counting per row;
* the functions ``array_length``, ``cardinality``, ``array_upper``/``lower``,
  ``array_ndims``, ``array_position``, ``array_append``/``prepend``/``cat``,
  ``array_remove``, ``array_replace``, ``array_to_string``, ``string_to_array``,
  ``@>``/``<@``/``&&``, ``=``/``<>`` and ``||`` on arrays;
* ``unnest_values`` for ``unnest(a [, b ...])`` in FROM (exec/operators/table_function.py).

Element types are the scalar SQL types; the binder (sql/bind/bind_array.py) types
the calls and inserts casts, so bodies see lists of one element type.
"""
from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal

from ...lazy_import import arrow as pa, compute as pc, numpy as np, kernel
from ..arrays import contiguous, repeated

from ... import errors, netaddr, numeric, numeric_arrays, types
from .registry import ScalarFunction
from .cast import from_text, to_text, format_float
from .series import generate_series, series_type
from .string import like_functions
from ..expr.rowwise import map_rows
from ..jsonb_keys import hash_text
from ..semantics import array_order_key, hash_key
from .jsonb_order import sort_key
from .ordered_set import register_aggregates as register_ordered_set
from .aggregate import _sorted
from ...plan.aggregates import AGGREGATE_TYPES
from ..operators.aggregate import PYTHON_AGGREGATES
from ... import infinity

N = types.NULL


# ---- the text form ---------------------------------------------------------------------

def parse_array_literal(text: str, element: str) -> list:
    """``'{1,2,NULL}'`` -> ``[1, 2, None]``, each element read as ``element``."""
    s = text.strip()
    if not (s.startswith("{") and s.endswith("}")):
        raise _malformed(text, 'Array value must start with "{" or dimension information.')
    items: list = []
    i, body = 0, s[1:-1]
    if not body.strip():
        return []
    while True:
        while i < len(body) and body[i].isspace():
            i += 1
        if i < len(body) and body[i] == "{":
            raise errors.not_supported("multidimensional arrays")
        if i < len(body) and body[i] == '"':
            i += 1
            out = []
            while i < len(body) and body[i] != '"':
                if body[i] == "\\" and i + 1 < len(body):
                    i += 1
                out.append(body[i])
                i += 1
            if i >= len(body):
                raise _malformed(text, "Unexpected end of input.")
            i += 1
            value: object = "".join(out)
        else:
            start = i
            while i < len(body) and body[i] not in ',"{}':
                i += 1
            raw = body[start:i].strip()
            if not raw:
                raise _malformed(text, 'Unexpected "," character.')
            value = None if raw.upper() == "NULL" else raw
        if value is not None and element != types.TEXT:
            value = from_text(value, element)
        items.append(value)
        while i < len(body) and body[i].isspace():
            i += 1
        if i == len(body):
            return items
        if body[i] != ",":
            raise _malformed(text, f'Unexpected "{body[i]}" character.')
        i += 1


def _malformed(text: str, detail: str) -> errors.Error:
    return errors.sql_error("22P02", f'malformed array literal: "{text}"', hint=detail)


def format_array(values: list, element: str) -> str:
    """``[1, None]`` -> ``{1,NULL}``; elements quoted where PostgreSQL's array_out quotes
    them (empty, NULL-like, or holding a delimiter, brace, quote, backslash or blank: an
    interval's ``"1 day"`` too); booleans as ``t``/``f``, as array_out writes them."""
    parts = []
    for v in values:
        if v is None:
            parts.append("NULL")
            continue
        if element == types.BOOLEAN:
            parts.append("t" if v else "f")
            continue
        parts.append(types.array_item_text(
            v if element == types.TEXT else netaddr.output(element, v)
            if element in types.NETWORK_TYPES else to_text(v, element)))  # array_out
    return "{" + ",".join(parts) + "}"


# ---- construction, subscripts, slices ---------------------------------------------------

def _as_array(v, n: int):
    if isinstance(v, pa.Scalar):
        return repeated(v, n)
    return contiguous(v)


def _length(args) -> int | None:
    for a in args:
        if not isinstance(a, pa.Scalar):
            return len(a)
    return None


def array_make(*args):
    """``ARRAY[a, b, c]`` row by row: the values interleaved into one list per row."""
    n = _length(args)
    args = numeric_arrays.one_form(args)     # numeric(p,s) beside other numerics: keys
    if n is None:
        t = args[0].type if args else pa.null()
        return pa.scalar([infinity.pyscalar(a) for a in args], pa.list_(t))
    cols = [_as_array(a, n) for a in args]
    k = len(cols)
    flat = pa.concat_arrays(cols)
    order = (np.arange(k, dtype=np.int64)[None, :] * n +
             np.arange(n, dtype=np.int64)[:, None]).ravel()
    values = flat.take(pa.array(order))
    offsets = pa.array(np.arange(0, (n + 1) * k, k, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, values)


def _row_series(start, stop, step=1):
    """A select-list generate_series: integers, numerics, or timestamps stepped by an interval."""
    if isinstance(step, types.Interval):
        element = types.TIMESTAMP if _is_timestamp(start, stop) else types.TIMESTAMPTZ
    elif any(isinstance(v, (bytes, Decimal)) for v in (start, stop, step)):
        element = types.NUMERIC
    else:
        element = types.INTEGER
    return infinity.pylist(generate_series([start, stop, step], element))


def _is_timestamp(*bounds) -> bool:
    """series_type's rule on values: a timestamp bound and no timestamptz one."""
    zoned = [getattr(b, "tzinfo", None) is not None for b in bounds]
    naive = [isinstance(b, dt.datetime) and not z or
             (isinstance(b, infinity.Infinite) and b.kind == types.TIMESTAMP)
             for b, z in zip(bounds, zoned)]
    return any(naive) and not any(zoned)


def _row_make(*args):
    return list(args)


def _lists(arr, n: int):
    """(offsets, lengths, flat values, valid mask) of a list array or broadcast scalar."""
    arr = _as_array(arr, n)
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.list_(pa.null()))
    offsets = arr.offsets.to_numpy()[: len(arr) + 1].astype(np.int64)
    lengths = np.diff(offsets)
    valid = np.asarray(pc.is_valid(arr).to_numpy(zero_copy_only=False), bool)
    lengths = np.where(valid, lengths, 0)
    return offsets[:-1], lengths, arr.values, valid


def array_element(arr, idx):
    """``a[i]``: 1-based; NULL when out of range, or when either side is NULL."""
    n = _length([arr, idx])
    if n is None:
        lst, i = infinity.pyscalar(arr), infinity.pyscalar(idx)
        elem = arr.type.value_type if hasattr(arr.type, "value_type") else pa.null()
        ok = lst is not None and i is not None and 1 <= i <= len(lst)
        return pa.scalar(lst[i - 1] if ok else None, elem)
    starts, lengths, values, valid = _lists(arr, n)
    i = _as_array(idx, n)
    ivals = np.asarray(pc.fill_null(i, 0).to_numpy(zero_copy_only=False), np.int64)
    ok = valid & np.asarray(pc.is_valid(i).to_numpy(zero_copy_only=False), bool) & \
        (ivals >= 1) & (ivals <= lengths)
    pos = np.where(ok, starts + ivals - 1, 0)
    if len(values) == 0:
        return pa.nulls(n, values.type)
    out = values.take(pa.array(pos))
    return pc.if_else(pa.array(ok), out, pa.scalar(None, values.type))


def _row_element(lst, i):
    return lst[i - 1] if 1 <= i <= len(lst) else None


def _row_slice(lst, lo, hi):
    if lst is None:
        return None
    lo = 1 if lo is None else lo
    hi = len(lst) if hi is None else hi
    lo, hi = max(lo, 1), min(hi, len(lst))
    return lst[lo - 1:hi] if lo <= hi else []


# ---- size and search ---------------------------------------------------------------------

def _row_length(lst, dim):
    return len(lst) if dim == 1 and lst else None


def _row_lower(lst, dim):
    return 1 if dim == 1 and lst else None


def _vec_length(arr, dim):
    if isinstance(arr, pa.Scalar) and isinstance(dim, pa.Scalar):
        return pa.scalar(_strict(_row_length, infinity.pyscalar(arr), infinity.pyscalar(dim)), pa.int64())
    if isinstance(dim, pa.Scalar) and infinity.pyscalar(dim) == 1:
        lens = pc.list_value_length(arr).cast(pa.int64())
        return pc.if_else(pc.equal(lens, 0), pa.scalar(None, pa.int64()), lens)
    return map_rows(_row_length, [arr, dim], out_type=pa.int64())


def _vec_cardinality(arr):
    if isinstance(arr, pa.Scalar):
        v = infinity.pyscalar(arr)
        return pa.scalar(None if v is None else len(v), pa.int64())
    return pc.list_value_length(arr).cast(pa.int64())


def _strict(fn, *args):
    return None if any(a is None for a in args) else fn(*args)


def _row_position(lst, x, start=1):
    """array_position: the first place at or after ``start`` holding ``x``, compared as IS
    NOT DISTINCT FROM (so NULL finds a NULL), as PostgreSQL's."""
    if lst is None:
        return None
    if start is None:
        raise errors.sql_error("22004", "initial position must not be null")
    for i in range(max(start, 1) - 1, len(lst)):
        v = lst[i]
        if (v is None and x is None) or (v is not None and x is not None and v == x):
            return i + 1
    return None


def _row_append(lst, x):
    return (lst or []) + [x]      # not strict in PostgreSQL: array_append(NULL, NULL) is {NULL}


def _row_prepend(lst, x):
    return [x] + (lst or [])


def _row_cat(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _row_remove(lst, x):
    if lst is None:
        return None
    return [v for v in lst if not (v == x if x is not None else v is None)]


def _row_positions(lst, x):
    """array_positions: every 1-based position of ``x`` (IS NOT DISTINCT FROM)."""
    if lst is None:
        return None
    return [i for i, v in enumerate(lst, 1) if (v == x if x is not None else v is None)]


def _row_trim(lst, n):
    """trim_array(a, n): ``a`` without its last ``n`` elements (2202E past its length)."""
    if lst is None or n is None:
        return None
    if not 0 <= n <= len(lst):
        raise errors.sql_error("2202E", "number of elements to trim must be between 0 and "
                                        f"{len(lst)}")
    return lst[:len(lst) - n]


def _row_fill(value, dims, lower=None):
    """array_fill(value, ARRAY[n] [, ARRAY[lower]]): one dimension here."""
    if dims is None:
        raise errors.sql_error("22004", "dimension array or low bound array cannot be null")
    if len(dims) != 1 or (lower is not None and (len(lower) != 1 or lower[0] != 1)):
        raise errors.not_supported("array_fill of other than one dimension starting at 1")
    if dims[0] is None:
        raise errors.sql_error("22004", "dimension values cannot be null")
    return [value] * max(0, dims[0])


def _row_replace(lst, old, new):
    if lst is None:
        return None
    return [new if (v == old if old is not None else v is None) else v for v in lst]


def _row_to_string(lst, sep, null_text=None):
    if lst is None or sep is None:
        return None
    parts = []
    for v in lst:
        if v is None:
            if null_text is not None:
                parts.append(null_text)
        else:
            parts.append(v if isinstance(v, str) else _text(v))
    return sep.join(parts)


def _text(v) -> str:
    """An element as array_to_string writes it: the element type's output (boolout: t/f)."""
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, float):
        return format_float(v)
    return str(v) if not hasattr(v, "isoformat") else to_text(v, types.DATE
                                                             if type(v).__name__ == "date"
                                                             else types.TIMESTAMP)


def _row_from_string(s, sep, null_text=None):
    if s is None:
        return None
    if s == "":
        return []
    parts = list(s) if sep is None else ([s] if sep == "" else s.split(sep))
    return [None if null_text is not None and p == null_text else p for p in parts]


def _row_contains(a, b):
    """``a @> b``: every element of b is in a (NULL elements never match)."""
    have = {v for v in a if v is not None}
    return all(v is not None and v in have for v in b)


def _row_overlaps(a, b):
    have = {v for v in a if v is not None}
    return any(v is not None and v in have for v in b)


def _row_eq(a, b):
    return a == b


def _row_ne(a, b):
    return a != b


# ---- x op ANY/ALL (array) -----------------------------------------------------------------

def _pattern_match(ignore_case: bool, negate: bool):
    """x [NOT] [I]LIKE element, element by element (``x LIKE ANY (ARRAY['a%', 'b%'])``)."""
    match = like_functions(ignore_case)[0]
    return (lambda x, p: pc.invert(match(x, p))) if negate else match


_CMP = {"eq": kernel("equal"), "ne": kernel("not_equal"), "lt": kernel("less"), "le": kernel("less_equal"),
        "gt": kernel("greater"), "ge": kernel("greater_equal"),
        "like": _pattern_match(False, False), "not_like": _pattern_match(False, True),
        "ilike": _pattern_match(True, False), "not_ilike": _pattern_match(True, True)}


def quantified(quant: str, op: str):
    """The vector body of ``x op ANY (arr)`` / ``x op ALL (arr)``."""
    def run(x, arr):
        n = _length([x, arr])
        if n is None:
            out = run(_as_array(x, 1), _as_array(arr, 1))
            return out[0]
        starts, lengths, values, valid = _lists(arr, n)
        arr_a = _as_array(arr, n)
        flat = pc.list_flatten(arr_a)
        parents = np.asarray(pc.list_parent_indices(arr_a).to_numpy(zero_copy_only=False),
                             np.int64)
        xs = _as_array(x, n)
        x_rep = xs.take(pa.array(parents)) if len(parents) else pa.array([], xs.type)
        if x_rep.type != flat.type and numeric_arrays.is_numeric_form(x_rep.type) and \
                numeric_arrays.is_numeric_form(flat.type):
            # numerics in two forms (decimal128 of some scale, keys): both as keys
            x_rep, flat = numeric_arrays.as_keys(x_rep), numeric_arrays.as_keys(flat)
        if x_rep.type != flat.type and not pa.types.is_null(flat.type):
            x_rep = x_rep.cast(flat.type) if not pa.types.is_null(x_rep.type) \
                else pa.nulls(len(x_rep), flat.type)
        if pa.types.is_binary(flat.type):     # numerics: by value, not scale (numeric.py)
            x_rep, flat = hash_key(x_rep), hash_key(flat)
        cmp = _CMP[op](x_rep, flat) if len(flat) else pa.array([], pa.bool_())
        c = cmp.to_numpy(zero_copy_only=False) if len(cmp) else np.zeros(0, object)
        is_null = np.asarray(pc.is_null(cmp).to_numpy(zero_copy_only=False), bool) \
            if len(cmp) else np.zeros(0, bool)
        truth = np.where(is_null, False, c.astype(bool) if len(c) else c).astype(bool)
        n_true = np.bincount(parents, weights=truth, minlength=n)
        n_null = np.bincount(parents, weights=is_null, minlength=n)
        n_false = lengths - n_true - n_null
        if quant == "any":
            result = np.where(n_true > 0, 1, np.where(n_null > 0, -1, 0))
        else:
            result = np.where(n_false > 0, 0, np.where(n_null > 0, -1, 1))
        mask = (result == -1) | ~valid
        return pa.array(result == 1, pa.bool_(), mask=mask)
    return run


# ---- unnest -------------------------------------------------------------------------------

def unnest_values(values: list, element_types: list[str]) -> list[pa.Array]:
    """``unnest(a, b, ...)``: one column per array, padded with NULLs to the longest."""
    lists = [v or [] for v in values]
    rows = max((len(v) for v in lists), default=0)
    out = []
    for v, t in zip(lists, element_types):
        out.append(pa.array(list(v) + [None] * (rows - len(v)), types.arrow_type(t)))
    return out


# ---- registration -------------------------------------------------------------------------


def _same_arrays(ts):
    known = [t for t in ts if t != N]
    if len(ts) == 2 and known and all(types.is_array(t) for t in known) and \
            all(t == known[0] for t in known):
        return known[0]
    return None


def _position_args(ts) -> bool:
    """array_position's arguments: an array, an element [, an integer start]."""
    return bool(_array_and_element(ts[:2])) and (
        len(ts) == 2 or (len(ts) == 3 and ts[2] in (types.INTEGER, types.NULL)))


def _array_and_element(ts):
    if len(ts) == 2 and types.is_array(ts[0]) and ts[1] in (types.element_type(ts[0]), N):
        return ts[0]
    return None


def register(reg) -> None:
    I, T, B = types.INTEGER, types.TEXT, types.BOOLEAN
    register_aggregates()
    register_ordered_set()

    def make_type(ts):
        known = [t for t in ts if t != N]
        if not known:
            return types.array_of(T)
        if any(types.is_array(t) for t in known) or types.INTERVAL in known:
            return None
        return types.array_of(known[0]) if all(t == known[0] for t in known) else None

    reg.add(ScalarFunction("array_make", make_type, array_make, _row_make, strict=False))
    reg.add(ScalarFunction("array_element",
                           lambda ts: types.element_type(ts[0]) if len(ts) == 2 and
                           types.is_array(ts[0]) and ts[1] in (I, N) else None,
                           array_element, _row_element))
    reg.add(ScalarFunction("array_slice",
                           lambda ts: ts[0] if len(ts) == 3 and types.is_array(ts[0]) and
                           ts[1] in (I, N) and ts[2] in (I, N) else None,
                           None, _row_slice, strict=False))
    length_type = (lambda ts: I if len(ts) == 2 and types.is_array(ts[0]) and ts[1] in (I, N)
                   else None)
    for name in ("array_length", "array_size", "array_upper"):
        reg.add(ScalarFunction(name, length_type, _vec_length, _row_length))
    reg.add(ScalarFunction("array_lower", length_type, None, _row_lower))
    reg.add(ScalarFunction("array_dims", lambda ts: T if len(ts) == 1 and types.is_array(ts[0])
                           else None, None, lambda a: f"[1:{len(a)}]" if a else None))
    reg.add(ScalarFunction("array_ndims", lambda ts: I if len(ts) == 1 and types.is_array(ts[0])
                           else None, None, lambda a: 1 if a else None))
    reg.add(ScalarFunction("cardinality", lambda ts: I if len(ts) == 1 and types.is_array(ts[0])
                           else None, _vec_cardinality, len))
    reg.add(ScalarFunction("array_position", lambda ts: I if _position_args(ts) else None,
                           None, _row_position, strict=False))
    reg.add(ScalarFunction("array_positions",
                           lambda ts: types.array_of(I) if _array_and_element(ts) else None,
                           None, _row_positions, strict=False))
    reg.add(ScalarFunction("trim_array", lambda ts: ts[0] if len(ts) == 2 and
                           types.is_array(ts[0]) and ts[1] in (I, N) else None,
                           None, _row_trim, strict=False))
    reg.add(ScalarFunction("array_fill", lambda ts: types.array_of(ts[0]) if len(ts) in (2, 3)
                           and ts[0] not in (N, types.INTERVAL) and not types.is_array(ts[0])
                           and all(t in (types.array_of(I), N) for t in ts[1:]) else None,
                           None, _row_fill, strict=False))
    reg.add(ScalarFunction("array_append", _array_and_element, None, _row_append, strict=False))
    reg.add(ScalarFunction("array_prepend", _array_and_element, None, _row_prepend,
                           strict=False))
    for name in ("array_cat", "array_concat"):
        reg.add(ScalarFunction(name, _same_arrays, None, _row_cat, strict=False))
    reg.add(ScalarFunction("array_remove", _array_and_element, None, _row_remove, strict=False))
    reg.add(ScalarFunction("array_replace",
                           lambda ts: ts[0] if len(ts) == 3 and types.is_array(ts[0]) and
                           all(t in (types.element_type(ts[0]), N) for t in ts[1:]) else None,
                           None, _row_replace, strict=False))
    reg.add(ScalarFunction("array_to_string",
                           lambda ts: T if len(ts) in (2, 3) and types.is_array(ts[0]) and
                           all(t in (T, N) for t in ts[1:]) else None,
                           None, _row_to_string, strict=False))
    reg.add(ScalarFunction("string_to_array",
                           lambda ts: types.array_of(T) if len(ts) in (2, 3) and
                           all(t in (T, N) for t in ts) else None,
                           None, _row_from_string, strict=False))
    both = (lambda ts: B if _same_arrays(ts) else None)
    reg.add(ScalarFunction("array_contains_all", both, None, _row_contains))
    reg.add(ScalarFunction("array_contained_by", both, None, lambda a, b: _row_contains(b, a)))
    reg.add(ScalarFunction("array_overlaps", both, None, _row_overlaps))
    for name, op in (("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
                     ("ge", operator.ge)):
        reg.add(ScalarFunction(name, both, None,
                               lambda a, b, op=op: op(array_order_key(a), array_order_key(b))))
    reg.add(ScalarFunction("eq", both, None, _row_eq))
    reg.add(ScalarFunction("ne", both, None, _row_ne))
    reg.add(ScalarFunction("is_distinct", both, None, _row_ne, strict=False))
    reg.add(ScalarFunction("is_not_distinct", both, None, _row_eq, strict=False))
    reg.add(ScalarFunction("concat_op", _same_arrays, None, _row_cat, strict=False))
    # an untyped NULL beside an array is an array (PostgreSQL: ARRAY[1] || NULL is {1})
    reg.add(ScalarFunction("concat_op", lambda ts: _array_and_element(ts) if ts[1:] != [N]
                           and ts[1:] != (N,) else None, None, _row_append, strict=False))
    reg.add(ScalarFunction("concat_op",
                           lambda ts: ts[1] if len(ts) == 2 and types.is_array(ts[1]) and
                           ts[0] == types.element_type(ts[1]) else None,
                           None, lambda x, a: _row_prepend(a, x), strict=False))
    _register_numeric_elements(reg)
    # set-returning functions of the select list: the array to expand (LogicalProjectSet)
    # (volatile: never folded into a constant, which would hide the expansion)
    reg.add(ScalarFunction("srf_unnest", lambda ts: ts[0] if len(ts) == 1 and
                           types.is_array(ts[0]) else None, lambda a: a, lambda a: a,
                           volatile=True))
    reg.add(ScalarFunction("srf_generate_series",
                           lambda ts: types.array_of(series_type(ts)) if series_type(ts)
                           else None, None, _row_series, volatile=True))
    # one result of a select-list SRF call: a binding-time placeholder that
    # bind_select._project_set always replaces by the LogicalProjectSet's column
    reg.add(ScalarFunction("srf_row", lambda ts: types.element_type(ts[0]) if len(ts) == 1
                           and types.is_array(ts[0]) else None, None, None, volatile=True))
    for quant in ("any", "all"):
        for op in _CMP:
            reg.add(ScalarFunction(f"{quant}_{op}_array",
                                   lambda ts: B if len(ts) == 2 and types.is_array(ts[1]) else None,
                                   quantified(quant, op), None, strict=False))


# ---- array_agg ------------------------------------------------------------------------------

def _array_agg(values, a):
    """One group's values (NULLs kept) in ORDER BY order; an empty group is NULL."""
    if not values:
        return None
    if len(a.extra) > 1 and a.extra[1]:
        return _array_agg_distinct(values, a)
    if len(a.order_by) == 1 and getattr(a.args[0], "fn", None) != "agg_pack":
        return _sorted_by_value(values, *a.order_by[0][1:])
    packed = getattr(a.args[0], "fn", None) == "agg_pack"
    if a.order_by:
        if packed:
            import json as _json
            values = [None if v is None else _json.loads(v) for v in values]
        values = _sorted(values, a, packed)
        if packed:
            element = a.extra[0] if a.extra else None
            values = [_unpack(v[0], element) for v in values]
    return values


def _sorted_by_value(values: list, descending: bool, nulls_first: bool) -> list:
    """ORDER BY the value itself: C-speed sorted(), NaN above numbers, NULLs placed."""
    nulls = [v for v in values if v is None]
    vals = [v for v in values if v is not None]
    nans = [v for v in vals if v != v] if vals and isinstance(vals[0], float) else []
    if nans:
        vals = [v for v in vals if v == v]
    vals = sorted(vals) + nans
    if descending:
        vals.reverse()
    return nulls + vals if nulls_first else vals + nulls


def _array_agg_distinct(values, a):
    """DISTINCT: each value once, NULL too, sorted (NULL last), as PostgreSQL's sort does.
    Numerics are one value per number (1.5 and 1.50: the first one met is kept), jsonb
    documents one per document as ``=`` compares them."""
    if not values:
        return None
    numbers = bool(a.args) and getattr(a.args[0], "type", None) == types.NUMERIC
    # jsonb: one value per document by its hash key, sorted in jsonb's order
    documents = bool(a.args) and getattr(a.args[0], "type", None) == types.JSON
    seen, out, has_null = set(), [], False
    for v in values:
        if v is None:
            has_null = True
            continue
        k = numeric.value_part(v) if numbers else hash_text(v) if documents else \
            v if v == v else "NaN"
        if k not in seen:
            seen.add(k)
            out.append(v)
    out.sort(key=numeric.value_part if numbers else sort_key if documents else None)
    if a.order_by and a.order_by[0][1]:
        out.reverse()
    return ([None] if has_null and a.order_by and a.order_by[0][2] else []) + out + \
        ([None] if has_null and not (a.order_by and a.order_by[0][2]) else [])


def _unpack(v, element):
    if v is None or element is None:
        return v
    if element == types.DATE:
        return types.parse_date(v)
    if element == types.TIMESTAMP:
        return types.parse_timestamp(v)
    if element == types.TIMESTAMPTZ:
        return types.parse_timestamptz(v)
    return v


def register_aggregates() -> None:
    AGGREGATE_TYPES["array_agg"] = (lambda ts: types.array_of(ts[0] if ts[0] != N else types.TEXT)
                                    if len(ts) == 1 and not types.is_array(ts[0]) else None)
    PYTHON_AGGREGATES["array_agg"] = _array_agg


# ---- arrays as keys: hashing (GROUP BY, DISTINCT, set operations, joins) and sorting ---------
# Arrow hashes and sorts no list types. Hash kernels get each array as canonical JSON text
# (equal arrays, equal text) and the callers turn result keys back with ``restore_keys``;
# sorts get each array's rank in PostgreSQL's order (element by element, NULL elements
# last, a prefix before the longer array).

def is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def encode_keys(values):
    import json as _json
    values = contiguous(values)
    return pa.array([None if v is None else _json.dumps(v, default=str)
                     for v in infinity.pylist(values)], pa.large_string())


def restore_keys(values, arrow_type: pa.DataType):
    """Encoded keys back to lists of ``arrow_type`` (dates and timestamps re-parsed)."""
    import json as _json
    values = contiguous(values)
    element = arrow_type.value_type
    parse = None
    if pa.types.is_date(element):
        parse = types.parse_date
    elif pa.types.is_timestamp(element):
        parse = types.parse_timestamp
    out = []
    for text in infinity.pylist(values):
        if text is None:
            out.append(None)
            continue
        items = _json.loads(text)
        out.append(items if parse is None else [None if x is None else parse(x) for x in items])
    return pa.array(out, arrow_type)


# ---- numeric elements: equal by value -------------------------------------------------------
# A numeric array's elements are numeric.py's keys, which carry the display scale in their
# last two bytes, so 2.5 and 2.50 are different bytes; PostgreSQL's numeric equality
# ignores the scale. These overloads (tried first for numeric[]) compare the keys without it.

def _values(lst):
    return None if lst is None else [None if v is None else numeric.value_part(v)
                                     for v in lst]


def _numeric_elements(ts) -> bool:
    return bool(ts) and types.is_array(ts[0]) and types.element_type(ts[0]) == types.NUMERIC


def _register_numeric_elements(reg) -> None:
    I, B = types.INTEGER, types.BOOLEAN

    def element(fn):
        return lambda lst, x, *rest: fn(_values(lst), None if x is None else numeric.value_part(x),
                                        *rest)

    def keep(lst, x, new=None, replace=False):
        # remove / replace: the elements not equal to x by value keep their own scale
        if lst is None:
            return None
        key = None if x is None else numeric.value_part(x)
        out = []
        for v in lst:
            same = v is None if key is None else (v is not None and
                                                  numeric.value_part(v) == key)
            if not same:
                out.append(v)
            elif replace:
                out.append(new)
        return out

    def pair(fn):
        return lambda a, b: fn(_values(a), _values(b))

    numeric_pair = (lambda ts: len(ts) == 2 and _numeric_elements(ts) and
                    _same_arrays(ts) is not None)
    reg.add(ScalarFunction("array_position", lambda ts: I if _numeric_elements(ts) and
                           _position_args(ts) else None,
                           None, element(_row_position), strict=False))
    reg.add(ScalarFunction("array_positions", lambda ts: types.array_of(I) if
                           _numeric_elements(ts) and _array_and_element(ts) else None,
                           None, element(_row_positions), strict=False))
    reg.add(ScalarFunction("array_remove", lambda ts: ts[0] if _numeric_elements(ts) and
                           _array_and_element(ts) else None, None, keep, strict=False))
    reg.add(ScalarFunction("array_replace", lambda ts: ts[0] if _numeric_elements(ts) and
                           len(ts) == 3 and all(t in (types.element_type(ts[0]), N)
                                                for t in ts[1:]) else None,
                           None, lambda lst, x, new: keep(lst, x, new, replace=True),
                           strict=False))
    for name, op in (("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
                     ("ge", operator.ge)):
        reg.add(ScalarFunction(name, lambda ts: B if numeric_pair(ts) else None, None,
                               pair(lambda a, b, op=op: op(array_order_key(a),
                                                           array_order_key(b)))))
    for name, fn, strict in (("array_contains_all", _row_contains, True),
                             ("array_contained_by", lambda a, b: _row_contains(b, a), True),
                             ("array_overlaps", _row_overlaps, True),
                             ("eq", _row_eq, True), ("ne", _row_ne, True),
                             ("is_distinct", _row_ne, False),
                             ("is_not_distinct", _row_eq, False)):
        reg.add(ScalarFunction(name, lambda ts: B if numeric_pair(ts) else None, None,
                               pair(fn), strict=strict))
