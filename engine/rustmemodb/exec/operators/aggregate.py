"""Aggregation: GROUP BY with Arrow's hash aggregation, plus a generic fallback.

Native kernels cover count/count(*)/count(DISTINCT)/sum/avg/min/max; every other
aggregate (user-defined ones, DISTINCT sum/avg, string_agg, ...) goes through a
per-group Python function over the group's values (``hash_list``), which is
correct for any aggregate and fast enough for moderate group counts.

SQL corrections (exec/semantics.py): SUM over INTEGER must fail on overflow
instead of wrapping, sum/avg/min/max of no rows is NULL while count is 0, and
NULL groups form one group.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ...lazy_import import arrow as pa, compute as pc, numpy as np
from ..arrays import contiguous

from decimal import Decimal

from ... import errors, numeric, numeric_arrays, types
from ... import statement_limits as limits
from ...plan.aggregates import PAIR_EXTREMES, PAIR_STATISTICS
from ...plan.expr import Call, ColRef, column_refs
from ...plan.logical import LogicalAggregate, LogicalJoin
from ..expr.vector import as_array, evaluate
from ..functions.aggregate_pairs import pair_aggregate
from ..functions.datetime import scale_interval
from ..semantics import (array_order_key, jsonb_hash_columns, restore_interval_keys,
                         restored_key, sort_keys_for, sort_ranks)
from ..run import operator, run_plan
from .grouped_numpy import (BLOCK, count_distinct_codes, few_slots, group_ids,
                            grouped_int_bincount)
from .join import hash_friendly
from ..semantics import hash_key, sum_int64
from ... import infinity

I, F = types.INTEGER, types.FLOAT
# corr, covar_*, regr_*, arg_max, arg_min: both arguments reach exec/functions/aggregate_pairs
PAIR_AGGREGATES = frozenset(PAIR_STATISTICS + PAIR_EXTREMES)
_PLAIN = ("count", "sum", "avg", "min", "max")
# name -> fn(list of Python values) -> value, for aggregates without Arrow kernels.
PYTHON_AGGREGATES: dict = {}
# name -> fn(Arrow array of one group's values, aggcall) -> value: the same aggregates
# when a body can work on the column itself (median sorts in Arrow, not in Python).
ARROW_AGGREGATES: dict = {}


@operator(LogicalAggregate)
def aggregate(node: LogicalAggregate, ctx) -> pa.Table:
    coded = _codable_join_keys(node)
    if coded:
        if ctx.coded_joins is None:
            ctx.coded_joins = {}
        ctx.coded_joins[id(node.child)] = coded
        try:
            table = run_plan(node.child, ctx)
        finally:
            ctx.coded_joins.pop(id(node.child), None)
    else:
        table = run_plan(node.child, ctx)
    n = table.num_rows
    originals = [as_array(evaluate(g, table, ctx), n) for g in node.groups]
    whole = _whole_number_key(originals[0], n, _integral(node.groups[0]),
                              per_row=not node.aggregates or
                              not all(a.star for a in node.aggregates)) \
        if len(originals) == 1 and node.grouping_sets is None else None
    hashed, jsonb = jsonb_hash_columns(originals, [g.type for g in node.groups]) \
        if whole is None else (originals, ())
    keys = [whole[0]] if whole is not None else [group_key(k) for k in hashed]
    inputs = []
    for a in node.aggregates:
        if a.star or a.fn == "grouping":     # GROUPING(): a constant per grouping set
            inputs.append(None)
            continue
        if node.grouping_sets is None and _sortable_in_arrow(a):
            inputs.append(_ordered_input(a, table, n, ctx))
            continue
        v = as_array(evaluate(a.args[0], table, ctx), n)
        if len(a.args) == 2 and a.fn in PAIR_AGGREGATES:     # corr(y, x), arg_max(a, v)
            inputs.append(Pair(v, as_array(evaluate(a.args[1], table, ctx), n),
                               _keep_mask(a, table, ctx, n)))
            continue
        if pa.types.is_interval(v.type) and a.distinct:
            v = group_key(v)                 # count(DISTINCT i): equal spans are one value
        elif a.distinct and a.fn == "count" and a.args[0].type == types.JSON:
            v = jsonb_hash_columns([v], [types.JSON])[0][0]   # {"a": 1.0} is {"a": 1}
        elif pa.types.is_floating(v.type) and (a.distinct or a.fn not in _PLAIN):
            # one NaN, one zero, as PostgreSQL compares floats: only where values are
            # compared with each other (sum/avg/min/max/count need no copy of 5M floats)
            v = group_key(v)
        if a.filter is not None:
            keep = pc.fill_null(as_array(evaluate(a.filter, table, ctx), n), False)
            if _filter_drops_rows(a, ctx):   # NULL is a value to it: drop, per group
                v = Kept(v, keep)
            else:                            # NULLs are skipped: a filtered row is one
                v = pc.if_else(keep, v, pa.scalar(None, v.type))
        inputs.append(v)
    if node.grouping_sets is not None:
        from .grouping_sets import aggregate_sets      # it groups each set through here
        out = aggregate_sets(node, keys, inputs, n, ctx)
        return _shown_documents(out, jsonb, hashed, originals) if jsonb else out
    if whole is not None:
        coded = _key_as_integer(node)
        out = grouped_int_bincount(coded.aggregates, keys, inputs, coded.columns,
                                   bounds=(0, whole[2]), rows=whole[3])
        if out is None:
            out = aggregate_keys(coded, keys, inputs, n, ctx)
        return _decode_whole_numbers(node, out, whole[1])
    out = aggregate_keys(node, keys, inputs, n, ctx)
    if jsonb or any(restored_key(k.type) for k in originals):   # by span / by value
        nk = len(keys)
        shown = restore_interval_keys(out.columns[:nk], keys, originals, jsonb)
        out = pa.Table.from_arrays(shown + out.columns[nk:], names=out.column_names)
    return out


def _shown_documents(out: pa.Table, which: tuple, hashed: list, originals: list) -> pa.Table:
    """Grouping sets' jsonb key columns showing, for each group, the first document of
    it met (the groups were formed by hash keys: jsonb_hash_columns)."""
    for i in which:
        first: dict = {}
        for k, doc in zip(infinity.pylist(hashed[i]), infinity.pylist(originals[i])):
            first.setdefault(k, doc)
        shown = [None if k is None else first.get(k, k)
                 for k in infinity.pylist(out.column(i))]
        out = out.set_column(i, out.field(i), pa.array(shown, out.field(i).type))
    return out


@dataclasses.dataclass(frozen=True)
class Ordered:
    """The input of ``array_agg(x ORDER BY ...)`` or ``string_agg(x, sep ORDER BY ...)``:
    the values, and each row's rank in the ORDER BY (-1 for a row its FILTER drops, and
    for string_agg's NULLs). Groups collect ranks (int64: Arrow's
    hash_list takes them fast) and one numpy lexsort by (group, rank) puts every group's
    values in order: no per-row Python, no packing of values with their keys as text."""
    values: Any
    rank: Any


def _sortable_in_arrow(a) -> bool:
    if not a.order_by:
        return False
    if a.fn == "array_agg":
        return not (len(a.extra) > 1 and a.extra[1])      # DISTINCT sorts its own way
    return a.fn == "string_agg" and not a.distinct


def _ordered_input(a, table, n: int, ctx) -> Ordered:
    packed = getattr(a.args[0], "fn", None) == "agg_pack"
    value = a.args[0].args[0] if packed else a.args[0]
    values = as_array(evaluate(value, table, ctx), n)
    cols, keys = {}, []
    for i, (expr, desc, nulls_first) in enumerate(a.order_by):
        parts = sort_keys_for(as_array(evaluate(expr, table, ctx), n),
                              "descending" if desc else "ascending",
                              "at_start" if nulls_first else "at_end")
        for j, (arr, order, placement) in enumerate(parts):
            cols[f"k{i}_{j}"] = arr
            keys.append((f"k{i}_{j}", order, placement))
    order = pc.sort_indices(pa.table(cols), sort_keys=keys)     # stable: ties keep row order
    rank = np.empty(n, np.int64)
    rank[order.to_numpy(zero_copy_only=False)] = np.arange(n, dtype=np.int64)
    if a.filter is not None:
        keep = pc.fill_null(as_array(evaluate(a.filter, table, ctx), n), False)
        rank[~keep.to_numpy(zero_copy_only=False)] = -1
    if a.fn == "string_agg" and values.null_count:     # string_agg skips NULL values
        rank[values.is_null().to_numpy(zero_copy_only=False)] = -1
    return Ordered(values, pa.array(rank))


def _ordered_groups(a, ordered: Ordered, rank_lists) -> pa.Array:
    """Each group's values in ORDER BY order, from the groups' lists of ranks; a group
    whose rows were all filtered out is NULL (array_agg over no rows)."""
    rank_lists = contiguous(rank_lists)
    ranks = rank_lists.flatten().to_numpy(zero_copy_only=False)
    groups = pc.list_parent_indices(rank_lists).to_numpy(zero_copy_only=False)
    kept = ranks >= 0
    ranks, groups = ranks[kept], groups[kept]
    by = np.lexsort((ranks, groups))
    n_rows = len(ordered.rank)
    row_of_rank = np.empty(n_rows, np.int64)
    rank_all = ordered.rank.to_numpy(zero_copy_only=False)
    live = rank_all >= 0
    row_of_rank[rank_all[live]] = np.flatnonzero(live)
    values = ordered.values
    values = contiguous(values)
    values = values.take(pa.array(row_of_rank[ranks[by]]))
    if numeric_arrays.is_decimal(values.type):      # numeric(p,s) into NUMERIC[]: keys
        values = numeric_arrays.as_keys(values)
    counts = np.bincount(groups, minlength=len(rank_lists))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    out = pa.ListArray.from_arrays(pa.array(offsets), values,
                                   mask=pa.array(counts == 0))
    if a.fn == "string_agg":
        sep = a.extra[0] if a.extra and a.extra[0] is not None else ""
        # the separator must have the values' string type for Arrow's kernel
        return pc.binary_join(out, pa.scalar(sep, out.type.value_type)) \
            .cast(types.arrow_type(a.type))
    return out.cast(types.arrow_type(a.type))


def _keep_mask(a, table, ctx, n: int):
    """The rows an aggregate reads: all, or those its FILTER accepts (numpy bools)."""
    if a.filter is None:
        return np.ones(n, bool)
    keep = pc.fill_null(as_array(evaluate(a.filter, table, ctx), n), False)
    keep = contiguous(keep)
    return keep.to_numpy(zero_copy_only=False).astype(bool, copy=False)


@dataclasses.dataclass(frozen=True)
class Pair:
    """Both arguments of a two-argument aggregate and its FILTER mask (numpy)."""
    first: Any
    second: Any
    keep: Any


def _pair_result(a, v: Pair, gid, ngroups: int, memo: dict | None = None):
    try:
        key = ("pair", a.args, a.filter)
        hash(key)
    except TypeError:
        key = None
    return pair_aggregate(a.fn, v.first, v.second, v.keep, gid, ngroups, memo, key)


def _codable_join_keys(node: LogicalAggregate) -> frozenset:
    """Columns of a join right below that this aggregate reads only as bare GROUP BY keys
    or not at all: the join may hand them out dictionary-encoded (join._gather) instead
    of copying a value per row; the keys are grouped by their codes
    (_grouped_by_dictionary)."""
    child = node.child
    if not isinstance(child, LogicalJoin) or child.kind in ("semi", "anti") or \
            node.grouping_sets is not None:
        return frozenset()
    bare = {g.index for g in node.groups if type(g) is ColRef}
    bare |= set(range(len(child.columns))) - _referenced(node)
    return frozenset(bare - _referenced(node, bare_keys=False))


def _referenced(node: LogicalAggregate, bare_keys: bool = True) -> set:
    """Input columns the aggregate reads (without bare_keys: other than as bare keys)."""
    used: set = set()
    if bare_keys:
        used = {g.index for g in node.groups if type(g) is ColRef}
    for g in node.groups:
        if type(g) is not ColRef:
            used |= column_refs(g)
    for a in node.aggregates:
        for e in a.children():
            used |= column_refs(e)
        for e, _, _ in a.order_by:
            used |= column_refs(e)
    return used


def _grouped_by_dictionary(node, keys, inputs, n: int, ctx) -> pa.Table:
    """GROUP BY with dictionary-encoded keys (from a join, see _codable_join_keys): each
    such key is replaced by int codes over its distinct values (a dictionary may repeat
    a value: one dimension row each), grouped, and decoded in the output."""
    columns = list(node.columns)
    if len(keys) == 1:
        out = _folded_by_dictionary(node, keys[0], inputs)
        if out is not None:
            return out
    plain, decode = [], {}
    for i, key in enumerate(keys):
        if not pa.types.is_dictionary(key.type):
            plain.append(key)
            continue
        key = contiguous(key)
        uniq = pc.dictionary_encode(key.dictionary)      # values -> distinct values
        remap = uniq.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        if key.null_count:
            idx = key.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            codes = np.where(idx >= 0, remap[np.maximum(idx, 0)], -1)
        else:   # the indices as they are (a view; NumPy gathers by int32 too): one pass
            codes = remap[key.indices.to_numpy(zero_copy_only=False)]
        nulls = codes < 0 if key.null_count or uniq.indices.null_count else None
        plain.append(pa.array(codes, mask=nulls) if nulls is not None and nulls.any()
                     else pa.array(codes))
        name, key_type = columns[i]
        decode[i] = (uniq.dictionary, name, key_type)
        columns[i] = (name, types.INTEGER)
    coded = dataclasses.replace(node, columns=columns)
    out = None
    if len(plain) == 1 and decode:     # codes in [0, distinct values): no min/max passes
        out = grouped_int_bincount(coded.aggregates, plain, inputs, columns,
                                   bounds=(0, max(len(decode[0][0]) - 1, 0)))
    if out is None:
        out = aggregate_keys(coded, plain, inputs, n, ctx)
    for i, (dictionary, name, key_type) in decode.items():
        values = dictionary.take(out.column(i)).cast(types.arrow_type(key_type))
        out = out.set_column(i, name, values)
    return out


def _folded_by_dictionary(node, key, inputs) -> pa.Table | None:
    """GROUP BY one dictionary-encoded key without NULLs: count and sum per dictionary
    entry (a dimension row) over the indices as they are, then add the entries up per
    distinct value; no per-row group number is gathered. None when it does not apply."""
    key = contiguous(key)
    if key.null_count or not len(key):
        return None
    uniq = pc.dictionary_encode(key.dictionary)          # entries -> distinct values
    if uniq.indices.null_count:
        return None
    fold = uniq.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    name, key_type = node.columns[0]
    columns = [(name, types.INTEGER)] + list(node.columns[1:])
    out = grouped_int_bincount(node.aggregates, [key.indices], inputs, columns,
                               bounds=(0, max(len(fold) - 1, 0)), fold=fold)
    if out is None:
        return None
    values = uniq.dictionary.take(out.column(0)).cast(types.arrow_type(key_type))
    return out.set_column(0, name, values)


def aggregate_keys(node: LogicalAggregate, keys, inputs, n: int, ctx) -> pa.Table:
    """The aggregate of already evaluated group keys and aggregate inputs."""
    if any(pa.types.is_dictionary(k.type) for k in keys):
        return _grouped_by_dictionary(node, keys, inputs, n, ctx)
    if not keys:
        memo: dict = {}     # per input array: NaN test and min_max, shared by the calls
        values = [_scalar_aggregate(a, v, n, ctx, memo)
                  for a, v in zip(node.aggregates, inputs)]
        arrays = [numeric_arrays.array_of([v], types.arrow_type(t)) for v, (_, t) in
                  zip(values, node.columns)]
        return pa.Table.from_arrays(arrays, names=[c for c, _ in node.columns]) if arrays \
            else pa.table({"_": [None]}).select([])
    if len(keys) == 1 and pa.types.is_floating(keys[0].type) and n >= FLOAT_KEY_CODES:
        return _grouped_by_codes(node, keys[0], inputs, n, ctx)
    return _grouped(node, keys, inputs, n, ctx)


# Arrow's group_by hashes float keys ~7x slower than integers (5M rows: 0.73 s against
# 0.10 s); from this many rows a single float key is grouped by its dictionary codes.
FLOAT_KEY_CODES = 65536


def _integral(key) -> bool:
    """Whether a float key's finite values are whole numbers by construction."""
    return isinstance(key, Call) and key.fn in _ROUNDING and len(key.args) == 1


_ROUNDING = frozenset({"floor", "ceil", "ceiling", "trunc", "round"})


def _whole_number_key(values, n: int, integral: bool = False, per_row: bool = True):
    """A float key whose values are its minimum plus whole numbers over a compact range
    (``floor(x / 20)``, ``round(x)``: histogram bins) as (int64 offsets from the minimum,
    the minimum, the largest offset, the rows per offset or None); else None. Integer
    offsets group by bincount instead of hashing 5M floats, and -0.0 and 0.0 land on one
    offset as SQL groups them. NULL, NaN, infinities, fractions or a wide range leave the
    key to group_key. ``integral``: the values are whole numbers by construction, so
    offsets from the (whole) minimum are exact and need no check. ``per_row``: whether
    the offsets are needed beyond the rows per offset (not for count(*) alone); when
    not, the offsets come back as None."""
    if n < FLOAT_KEY_CODES or not pa.types.is_floating(values.type) or values.null_count:
        return None
    chunks = [c.to_numpy(zero_copy_only=False) for c in
              (values.chunks if isinstance(values, pa.ChunkedArray) else [values]) if len(c)]
    lo = min(float(c.min()) for c in chunks)     # NaN anywhere makes these NaN
    hi = max(float(c.max()) for c in chunks)
    if not (abs(lo) < 2.0 ** 52 and abs(hi) < 2.0 ** 52) or hi - lo + 1 > max(4 * n, 1 << 16):
        return None
    span = int(hi - lo) + 1
    rows = np.zeros(span, np.int64) if few_slots(span, n) else None
    keep = per_row or rows is None          # else one block's offsets, reused
    offsets = np.empty(n if keep else min(n, BLOCK), np.int64)
    # block by block with reused scratch, so the temporaries stay in cache (a computed
    # key is one 5M-row chunk: whole-column temporaries cost more in page faults than
    # the arithmetic); the rows per offset are counted while a block is hot, when few
    back = np.empty(min(n, BLOCK))
    same = np.empty(min(n, BLOCK), np.bool_)
    start = 0
    for chunk in chunks:
        for i in range(0, len(chunk), BLOCK):
            block = chunk[i:i + BLOCK]
            m = len(block)
            part = offsets[start:start + m] if keep else offsets[:m]
            np.subtract(block, lo, out=part, casting="unsafe")     # truncates toward zero
            # exact only if every value is its offset plus the minimum again (k - lo may
            # round a tiny fraction away: 1e-20 - -3.0 is 3.0); then equal offsets mean
            # equal keys
            if not integral:
                np.add(part, lo, out=back[:m])
                if not np.equal(back[:m], block, out=same[:m]).all():
                    return None
            if rows is not None:
                rows += np.bincount(part, minlength=span)
            start += m
    return (pa.array(offsets) if keep else None), lo, span - 1, rows


def _key_as_integer(node: LogicalAggregate) -> LogicalAggregate:
    name, _ = node.columns[0]
    return dataclasses.replace(node, columns=[(name, types.INTEGER)] + list(node.columns[1:]))


def _decode_whole_numbers(node: LogicalAggregate, out: pa.Table, lo: float) -> pa.Table:
    """The offsets of _whole_number_key back to the key's values and type."""
    name, key_type = node.columns[0]
    offsets = out.column(0).to_numpy(zero_copy_only=False)
    values = pa.array(offsets.astype(np.float64) + lo).cast(types.arrow_type(key_type))
    return out.set_column(0, name, values)


def _grouped_by_codes(node, key, inputs, n: int, ctx) -> pa.Table:
    """GROUP BY one float key through ``dictionary_encode``: group by the int codes, then
    turn the output codes back into the key values (NULL stays NULL)."""
    key = contiguous(key)
    enc = pc.dictionary_encode(key)
    name, key_type = node.columns[0]
    out = _grouped(_key_as_integer(node), [enc.indices.cast(pa.int64())], inputs, n, ctx)
    values = enc.dictionary.take(out.column(0)).cast(types.arrow_type(key_type))
    return out.set_column(0, name, values)


def group_key(values):
    """Keys as SQL groups them: -0.0 and 0.0 are one group, and so are all NaNs
    (PostgreSQL's float equality; Arrow hashes them apart)."""
    if pa.types.is_floating(values.type):
        values = pc.add(values, 0.0)
        if len(values) and pc.any(pc.is_nan(values)).as_py():
            values = pc.if_else(pc.is_nan(values), pa.scalar(float("nan"), values.type), values)
    return hash_friendly(values)    # callers cast results back to the SQL type's Arrow type


def has_nan(v) -> bool:
    return v is not None and pa.types.is_floating(v.type) and len(v) > 0 and \
        bool(pc.any(pc.is_nan(v)).as_py())


def _grouped(node, keys, inputs, n, ctx) -> pa.Table:
    # count(DISTINCT numeric keys) counts numbers, not scales: by the keys' value part
    inputs = [hash_key(v) if a.distinct and a.fn == "count" and _numeric_arg(a) and
              isinstance(v, (pa.Array, pa.ChunkedArray)) and pa.types.is_binary(v.type)
              else _list_keys(v, _numeric_arg(a))
              if a.distinct and a.fn == "count" and _is_list(v)
              else v for a, v in zip(node.aggregates, inputs)]
    dense = grouped_int_bincount(node.aggregates, keys, inputs, node.columns)
    if dense is not None:   # one integer key over a compact range: numpy bincount
        return dense
    coded = _coded_distinct(node, keys, inputs)
    if coded is not None:   # count(DISTINCT) by integer codes (exec/functions/aggregate.py)
        gid, rep, distinct = coded
        cols = {"g0": pa.array(gid)}
    else:
        cols = {f"g{i}": k for i, k in enumerate(keys)}
    specs, post = [], []
    pairs = any(isinstance(v, Pair) for v in inputs)
    if pairs:      # each row's group, read back from the row numbers collected per group
        cols["__row"] = pa.array(np.arange(n, dtype=np.int64))
        specs.append(("__row", "list"))
    for j, (a, v) in enumerate(zip(node.aggregates, inputs)):
        name = f"a{j}"
        if coded is not None and j in distinct:
            post.append(None)
            continue
        if isinstance(v, Pair):
            post.append(v)
            continue
        if isinstance(v, Ordered):      # ranks per group, sorted in numpy (_ordered_groups)
            cols[name] = v.rank
            specs.append((name, "list"))
            post.append(f"{name}_list")
            continue
        if isinstance(v, Kept):        # collected per group with its mask (_kept_groups)
            cols[name], cols[f"k{j}"] = v.values, v.keep
            specs += [(name, "list"), (f"k{j}", "list")]
            post.append(f"{name}_list")
            continue
        if a.fn in ("min", "max") and types.is_array(a.type) and \
                isinstance(v, (pa.Array, pa.ChunkedArray)):
            # Arrow has no min/max (nor list collection) of arrays: the extreme of their
            # ranks in SQL's array order, read back as the array (_ranked_values)
            cols[name] = sort_ranks(v)
            specs.append((name, a.fn, pc.ScalarAggregateOptions(skip_nulls=True,
                                                                min_count=1)))
            post.append(("ranked", f"{name}_{a.fn}", v, cols[name]))
            continue
        vec = _keys_as_vector(a, v, with_scales=True)
        if vec is not None and not numeric_arrays.sum_may_wrap(vec[0], n):
            # numeric keys of several scales: the exact decimal sum per group at the
            # largest scale of all, shown at the largest scale of the group's values
            cols[name], cols[f"s{j}"] = vec
            specs += [(name, "sum", pc.ScalarAggregateOptions(min_count=1)),
                      (f"s{j}", "max", pc.ScalarAggregateOptions(min_count=1))]
            if a.fn == "avg":
                specs.append((name, "count", pc.CountOptions(mode="only_valid")))
            post.append(("keys_" + a.fn, f"{name}_sum", f"s{j}_max",
                         f"{name}_count" if a.fn == "avg" else None))
            continue
        if v is not None:
            # Arrow cannot collect intervals per group (hash_list): carry them as text
            # "months days nanoseconds" and read them back in _python_groups
            cols[name] = _interval_codes(v) if pa.types.is_interval(v.type) else v
        if a.type == types.NUMERIC and not a.distinct and a.fn in ("sum", "avg") and \
                not isinstance(v, (Pair, Ordered, Kept)) and v is not None and \
                numeric_arrays.is_decimal(v.type) and not numeric_arrays.sum_may_wrap(v, n):
            # the vector form: Arrow's exact decimal sum per group (and count: avg)
            specs.append((name, "sum", pc.ScalarAggregateOptions(min_count=1)))
            if a.fn == "avg":
                specs.append((name, "count", pc.CountOptions(mode="only_valid")))
                post.append(("decimal_average", f"{name}_sum", f"{name}_count"))
            else:
                post.append(f"{name}_sum")
            continue
        if _integer_average(a, v):
            # avg of integers is numeric (PostgreSQL): the exact sum (decimal128: no int64
            # wrap) and the count per group, divided as numerics in numeric.average_keys
            cols[name] = pc.cast(v, pa.decimal128(38, 0))
            specs += [(name, "sum", pc.ScalarAggregateOptions(min_count=1)),
                      (name, "count", pc.CountOptions(mode="only_valid"))]
            post.append(("average", f"{name}_sum", f"{name}_count"))
            continue
        native = _native_spec(a, name)
        if native is None and a.fn in ("min", "max") and v is not None and \
                not isinstance(v, (Pair, Ordered, Kept)) and numeric_arrays.is_decimal(v.type):
            native = (name, a.fn, pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)), \
                f"{name}_{a.fn}"
        if native is not None and a.fn in ("min", "max") and has_nan(v):
            native = None        # Arrow skips NaN in min/max; PostgreSQL sorts it last
        if native is not None:
            specs.append(native[0])
            post.append(native[1])
            if a.fn == "sum" and a.type == I and not a.distinct and not _sum_fits(v, n):
                # Arrow wraps int64 sums; a float shadow sum tells when that happened
                # (skipped when min/max prove no sum of n values can wrap).
                cols[f"f{j}"] = pc.cast(v, pa.float64(), safe=False)
                specs.append((f"f{j}", "sum", pc.ScalarAggregateOptions(min_count=1)))
        else:
            specs.append((name, "list"))
            post.append(f"{name}_list")
    tmp = pa.table(cols)
    limits.charge(tmp.nbytes + 8 * n, "aggregation")
    nkeys = 1 if coded is not None else len(keys)
    grouped = tmp.group_by([f"g{i}" for i in range(nkeys)], use_threads=False).aggregate(specs)
    if coded is not None:
        out_gid = grouped.column("g0").to_numpy()
        rows = pa.array(rep[out_gid])
        out = [k.take(rows) for k in keys]
    else:
        out = [grouped.column(f"g{i}") for i in range(len(keys))]
    if pairs:
        gid, ngroups = _row_groups(grouped.column("__row_list"), n)
        states: dict = {}
    for j, (a, colname) in enumerate(zip(node.aggregates, post)):
        if colname is None:
            out.append(pa.array(distinct[j][out_gid]))
            continue
        if isinstance(colname, Pair):
            out.append(_pair_result(a, colname, gid, ngroups, states))
            continue
        if isinstance(colname, tuple) and colname[0] == "ranked":
            out.append(_ranked_values(grouped.column(colname[1]), *colname[2:]))
            continue
        if isinstance(colname, tuple) and colname[0] in ("keys_sum", "keys_avg"):
            out.append(_keys_group_results(grouped, *colname))
            continue
        if isinstance(colname, tuple) and colname[0] == "decimal_average":
            out.append(numeric_arrays.array_of([
                None if not c or s is None else numeric.div(s, Decimal(c)) for s, c in zip(
                    grouped.column(colname[1]).to_pylist(),
                    grouped.column(colname[2]).to_pylist())], pa.binary()))
            continue
        if isinstance(colname, tuple):          # ("average", sums, counts)
            out.append(pa.array(numeric.average_keys(
                grouped.column(colname[1]).to_pylist(), grouped.column(colname[2]).to_pylist()),
                pa.binary()))
            continue
        col = grouped.column(colname)
        if isinstance(inputs[j], Ordered):
            col = _ordered_groups(a, inputs[j], col)
        elif f"k{j}" in cols:
            col = _kept_groups(a, col, grouped.column(f"k{j}_list"), ctx)
        elif colname.endswith("_list"):
            col = _python_groups(a, col, ctx)
        elif a.fn == "sum" and a.type == I and not a.distinct and \
                colname.replace("a", "f", 1).rsplit("_", 1)[0] in cols:
            _check_int_sum(col, grouped.column("f" + colname[1:]))   # a3_sum -> f3_sum
        out.append(col)
    arrays = [_restore(c, types.arrow_type(t)) for c, (_, t) in zip(out, node.columns)]
    return pa.Table.from_arrays(arrays, names=[c for c, _ in node.columns])


def _ranked_values(best, values, ranks):
    """The values whose ranks ``best`` holds per group (NULL stays NULL)."""
    codes = ranks.to_numpy(zero_copy_only=False)
    present = ~np.isnan(codes) if codes.dtype.kind == "f" else np.ones(len(codes), bool)
    at = np.zeros(int(np.nanmax(codes, initial=0)) + 1 if present.any() else 1, np.int64)
    at[codes[present].astype(np.int64)] = np.nonzero(present)[0]
    picked = best.to_numpy(zero_copy_only=False)
    missing = np.isnan(picked) if picked.dtype.kind == "f" else np.zeros(len(picked), bool)
    rows = np.where(missing, 0, np.nan_to_num(picked)).astype(np.int64)
    return contiguous(values).take(pa.array(at[rows], mask=missing))


def _row_groups(row_lists, n: int):
    """(output group number per input row, number of groups) from each group's rows."""
    row_lists = contiguous(row_lists)
    lengths = pc.list_value_length(row_lists).to_numpy(zero_copy_only=False)
    rows = pc.list_flatten(row_lists).to_numpy(zero_copy_only=False)
    gid = np.empty(n, np.int64)
    gid[rows] = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    return gid, len(lengths)


def _restore(c, t: pa.DataType):
    """A result column in its SQL type's Arrow type (array keys come back from text)."""
    if c.type == t or numeric_arrays.keep_form(c, t):
        return c
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and not \
            (pa.types.is_list(c.type) or pa.types.is_large_list(c.type)):
        from ..functions.array import restore_keys     # array registers aggregates here
        return restore_keys(c, t)
    return c.cast(t)


def _coded_distinct(node, keys, inputs):
    """(group id per row, representative row per group, {agg#: counts}) or None."""
    wanted = [j for j, a in enumerate(node.aggregates)
              if a.distinct and a.fn == "count" and not a.star]
    if not wanted or not keys:
        return None
    ids = group_ids(keys)
    if ids is None:
        return None
    gid, ngroups, rep = ids
    distinct = {}
    for j in wanted:
        counts = count_distinct_codes(gid, ngroups, inputs[j])
        if counts is None:
            return None
        distinct[j] = counts
    return gid, rep, distinct


def _native_spec(a, name: str):
    if a.star:
        return ([], "count_all"), "count_all"
    if a.distinct:
        if a.fn == "count":
            return (name, "count_distinct", pc.CountOptions(mode="only_valid")), \
                f"{name}_count_distinct"
        return None
    opts = pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)
    if a.type == types.INTERVAL and a.fn != "count":
        return None          # no Arrow kernels for intervals: _py_sum / _py_avg / _py_min...
    if a.type == types.NUMERIC and a.fn in ("sum", "avg"):
        return None          # exact decimals (numeric.py): _py_sum / _py_avg
    if a.fn == "count":
        return (name, "count", pc.CountOptions(mode="only_valid")), f"{name}_count"
    if a.fn in ("sum", "min", "max"):
        if a.fn != "sum" and (a.type in (types.INTERVAL, types.BOOLEAN) or
                              types.is_array(a.type)):
            return None          # no Arrow kernels for arrays: _py_min / _py_max
        return (name, a.fn, opts), f"{name}_{a.fn}"
    if a.fn == "avg":
        return (name, "mean", opts), f"{name}_mean"
    return None


def _integer_average(a, v) -> bool:
    """avg(integer): numeric, computed from the exact sum and the count."""
    return a.fn == "avg" and a.type == types.NUMERIC and not a.distinct and \
        v is not None and not isinstance(v, (Pair, Ordered, Kept)) and \
        pa.types.is_integer(v.type)


def _sum_fits(v, n: int) -> bool:
    """True when no int64 sum of ``n`` of these values can wrap."""
    mm = pc.min_max(v)
    lo, hi = infinity.pyscalar(mm["min"]), infinity.pyscalar(mm["max"])
    if lo is None:
        return True
    return max(abs(lo), abs(hi)) * max(n, 1) < (1 << 63)


def _check_int_sum(exact, shadow) -> None:
    diff = pc.abs(pc.subtract(pc.cast(exact, pa.float64(), safe=False), shadow))
    limit = pc.add(pc.multiply(pc.abs(shadow), 1e-6), 1.0)
    if pc.any(pc.greater(diff, limit)).as_py():
        raise errors.numeric_out_of_range()


def _interval_codes(v):
    return pa.array([None if x is None else f"{x.months} {x.days} {x.nanoseconds}"
                     for x in infinity.pylist(v)], pa.string())


def _interval_decoded(vals: list) -> list:
    out = []
    for x in vals:
        if x is None:
            out.append(None)
        else:
            m, d, ns = x.split()
            out.append(pa.MonthDayNano([int(m), int(d), int(ns)]))
    return out


def _python_groups(a, lists, ctx) -> pa.Array:
    if a.type == types.INTERVAL or (a.args and a.args[0].type == types.INTERVAL):
        fn = python_aggregate_for(a, ctx)
        values = [fn(_interval_decoded(vals)) for vals in infinity.pylist(lists)]
        return pa.array(values, types.arrow_type(a.type))
    arrow_body = ARROW_AGGREGATES.get(a.fn) if not a.distinct else None
    if arrow_body is not None:
        return pa.array([arrow_body(lists[i].values, a) for i in range(len(lists))],
                        types.arrow_type(a.type))
    fn = python_aggregate_for(a, ctx)
    out = []
    for i, vals in enumerate(infinity.pylist(lists)):
        if i % limits.CHECK_EVERY == 0:
            ctx.check_cancel()
        out.append(fn(vals))
    return numeric_arrays.array_of(out, types.arrow_type(a.type))


def _kept_groups(a, lists, keeps, ctx) -> pa.Array:
    """A FILTERed aggregate that collects NULLs, per group: only the kept values."""
    fn = python_aggregate_for(a, ctx)
    out = []
    for i, (vals, keep) in enumerate(zip(infinity.pylist(lists), infinity.pylist(keeps))):
        if i % limits.CHECK_EVERY == 0:
            ctx.check_cancel()
        out.append(fn([v for v, k in zip(vals, keep) if k]))
    return pa.array(out, types.arrow_type(a.type))


def python_aggregate(a):
    """fn(values) for one group, for aggregates without native kernels."""
    if a.fn in PYTHON_AGGREGATES:
        body = PYTHON_AGGREGATES[a.fn]
        numbers = _numeric_arg(a)
        return (lambda vals: body(_dedupe(vals, numbers), a)) if a.distinct else \
            (lambda vals: body(vals, a))
    base = {"count": lambda v: len([x for x in v if x is not None]),
            "sum": _py_sum, "avg": _py_avg, "min": _py_min, "max": _py_max}.get(a.fn)
    if base is None:
        raise errors.not_supported(f"aggregate {a.fn}")
    if a.distinct:
        numbers = _numeric_arg(a)
        return lambda vals: base(_dedupe(vals, numbers))
    return base



def _dedupe(vals, numbers: bool = False):
    """The distinct values, each first one kept; ``numbers``: numerics (or arrays of
    them), equal by value (2.5 and 2.50 are one value, the first written kept, as
    PostgreSQL's sort keeps one)."""
    seen, out = set(), []
    for v in vals:
        if v is None:
            continue
        key = _distinct_key(v, numbers)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _distinct_key(v, numbers: bool):
    """What tells ``v`` apart: an array by its elements (a list is no set member)."""
    if isinstance(v, list):
        return tuple(None if x is None else _distinct_key(x, numbers) for x in v)
    if numbers:
        return numeric.key_value(v)
    return _NAN if v != v else v     # every NaN is one value in SQL


def _is_list(v) -> bool:
    return isinstance(v, (pa.Array, pa.ChunkedArray)) and (
        pa.types.is_list(v.type) or pa.types.is_large_list(v.type))


def _list_keys(v, numbers: bool):
    """Arrays as text keys that are equal for equal arrays (Arrow's hash kernels take no
    list keys): what count(DISTINCT array) counts in a GROUP BY."""
    return pa.array([None if x is None else repr(_distinct_key(x, numbers))
                     for x in infinity.pylist(v)], pa.string())


def _numeric_arg(a) -> bool:
    t = getattr(a.args[0], "type", None) if a.args else None
    return t == types.NUMERIC or (t is not None and types.is_array(t) and
                                  types.element_type(t) == types.NUMERIC)


def _numbers_once(v):
    """Numeric keys (several scales) with each number once, its first value kept."""
    v = contiguous(v) if isinstance(v, pa.ChunkedArray) else v
    codes = pc.dictionary_encode(hash_key(v)).indices.to_numpy(zero_copy_only=False)
    valid = np.asarray(v.is_valid(), dtype=bool) if v.null_count else None
    positions = np.arange(len(v))
    if valid is not None:
        codes, positions = codes[valid], positions[valid]
    _, first = np.unique(codes, return_index=True)
    return v.take(pa.array(np.sort(positions[first])))


_NAN = object()


def _nan_last(x):
    """Sort key putting NaN above every number, as PostgreSQL orders floats."""
    return (x != x, x if x == x else 0.0) if isinstance(x, float) else (False, x)


def _order_key(x):
    """A value's place in min/max: NaN last, arrays element by element."""
    return (False, array_order_key(x)) if isinstance(x, list) else _nan_last(x)


def _py_min(vals):
    vals = [x for x in vals if x is not None]
    return min(vals, key=_order_key) if vals else None


def _py_max(vals):
    vals = [x for x in vals if x is not None]
    return max(vals, key=_order_key) if vals else None


def _py_sum(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    if isinstance(vals[0], pa.MonthDayNano):
        return _interval_total(vals)
    if type(vals[0]) is bytes or isinstance(vals[0], Decimal):   # numerics: exact, the
        return numeric.encode(_numeric_total(vals))                 # largest scale kept
    total = sum(vals)
    return types.check_int(total) if isinstance(total, int) else total


def _py_avg(vals):
    vals = [v for v in vals if v is not None]
    if vals and isinstance(vals[0], pa.MonthDayNano):   # PostgreSQL: the sum / the count
        return scale_interval(_interval_total(vals), len(vals), True)
    if vals and (type(vals[0]) is bytes or isinstance(vals[0], Decimal)):   # numeric_avg
        return numeric.encode(numeric.div(_numeric_total(vals), Decimal(len(vals))))
    if vals and type(vals[0]) is int:     # avg(integer) is numeric too (PostgreSQL)
        return numeric.average_keys([sum(vals)], [len(vals)])[0]
    return sum(vals) / len(vals) if vals else None


def _numeric_total(keys) -> Decimal:
    total = numeric.ZERO
    for k in keys:
        total = numeric.add(total, numeric.decode(k))
    return total


def _interval_total(vals) -> types.Interval:
    """The sum of Arrow intervals, field by field, as PostgreSQL adds them (an Interval,
    which Arrow reads back by its months, days and nanoseconds)."""
    return types.Interval(sum(v.months for v in vals), sum(v.days for v in vals),
                          sum(v.nanoseconds for v in vals) // 1000)


def _memo(memo: dict | None, what: str, v, fn):
    """fn(v), once per (what, input array) in one aggregation (the inputs list keeps the
    arrays alive, so their ids are stable)."""
    if memo is None:
        return fn(v)
    key = (what, id(v))
    if key not in memo:
        memo[key] = fn(v)
    return memo[key]


def _scalar_aggregate(a, v, n: int, ctx, memo: dict | None = None):
    if a.star:
        return n
    if isinstance(v, Pair):
        return infinity.pyscalar(_pair_result(a, v, np.zeros(n, np.int64), 1, memo)[0])
    if isinstance(v, Ordered):       # one group: its values in rank order
        return infinity.pyscalar(_ordered_groups(
            a, v, pa.array([infinity.pylist(v.rank)], pa.list_(pa.int64())))[0])
    if isinstance(v, Kept):
        v = pc.filter(v.values, v.keep)
    if a.fn in ARROW_AGGREGATES and not a.distinct:
        return ARROW_AGGREGATES[a.fn](v, a)
    if a.distinct and a.fn in ("count", "sum", "avg", "min", "max") and _numeric_arg(a) \
            and isinstance(v, (pa.Array, pa.ChunkedArray)) and pa.types.is_binary(v.type):
        v, a = _numbers_once(v), _without_distinct(a)     # 2.5 and 2.50: one value
    if a.distinct and a.fn in ("count", "sum", "avg", "min", "max") and \
            a.type != types.INTERVAL:
        try:
            # Arrow's hash dedupe (floats arrive with one NaN and one zero, group_key),
            # then the plain kernels below: no Python set over millions of values.
            v, a = pc.unique(v), _without_distinct(a)
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
    if a.type == types.NUMERIC and a.fn in ("min", "max") and \
            isinstance(v, (pa.Array, pa.ChunkedArray)) and pa.types.is_binary(v.type):
        found = numeric_arrays.keys_min_max(v, a.fn)     # keys of several scales
        if found is not NotImplemented:
            return found
    v = _keys_as_vector(a, v)
    if a.type == types.NUMERIC and not a.distinct and a.fn in ("sum", "avg", "min", "max") \
            and numeric_arrays.is_decimal(v.type):     # the vector form: exact, no rows
        return _decimal_aggregate(a.fn, v)
    if _integer_average(a, v):       # the exact sum over the count, as numerics
        total = pc.sum(pc.cast(v, pa.decimal128(38, 0)), min_count=1).as_py()
        return numeric.average_keys([total], [pc.count(v, mode="only_valid").as_py()])[0]
    if a.fn in ("min", "max") and not a.distinct and a.type in (I, F):
        found = _memo(memo, "np_min_max", v, numeric_min_max)
        if found is not None:
            return found[0 if a.fn == "min" else 1]
    if a.distinct or a.fn not in ("count", "sum", "avg", "min", "max") or \
            (a.fn in ("sum", "avg") and a.type in (types.INTERVAL, types.NUMERIC)) or \
            (a.fn in ("min", "max") and (a.type in (types.INTERVAL,) or
                                         types.is_array(a.type) or
                                         _memo(memo, "nan", v, has_nan))):
        fn = python_aggregate_for(a, ctx)
        return fn(infinity.pylist(v))
    if a.fn == "count":
        return pc.count(v, mode="only_valid").as_py()
    if a.fn == "sum":
        if a.type == I:
            return sum_int64(v)
        return pc.sum(v, min_count=1).as_py()
    if a.fn == "avg":
        return pc.mean(v, min_count=1).as_py()
    if a.type in (types.BOOLEAN, types.TEXT, types.UUID, types.BYTEA) or \
            a.type in types.NETWORK_TYPES:
        return infinity.pyscalar((pc.min if a.fn == "min" else pc.max)(v))
    return infinity.pyscalar(_memo(memo, "min_max", v, pc.min_max)[a.fn])   # one pass for both


def _keys_as_vector(a, v, with_scales: bool = False):
    """For sum/avg of numeric keys (an unconstrained column of several display scales):
    the values as decimal128 at their largest scale, which is the scale PostgreSQL's sum
    shows, when they all have that form (numeric_arrays.keys_vector); else ``v``.
    ``with_scales``: (that, each value's display scale) or None (a group's sum shows the
    largest scale of its own values)."""
    if a.type == types.NUMERIC and not a.distinct and a.fn in ("sum", "avg") and \
            isinstance(v, (pa.Array, pa.ChunkedArray)) and pa.types.is_binary(v.type):
        vec = numeric_arrays.keys_vector(v, with_scales)
        if vec is not None:
            return vec
    return None if with_scales else v


def _keys_group_results(grouped, kind: str, sums: str, scales: str, counts: str | None):
    """Per group: its exact sum (computed at the largest scale of all the values) shown at
    the largest scale of its own values, as PostgreSQL's numeric sum; avg divides that
    sum by the count as numeric_avg does. Keys (per value scales)."""
    out = []
    counted = grouped.column(counts).to_pylist() if counts else None
    for i, (s, scale) in enumerate(zip(grouped.column(sums).to_pylist(),
                                       grouped.column(scales).to_pylist())):
        if s is None:
            out.append(None)
            continue
        s = s.quantize(Decimal(1).scaleb(-scale), context=numeric.CTX)   # exact: no digit cut
        if kind == "keys_avg":
            s = numeric.div(s, Decimal(counted[i]))
        out.append(s)
    return numeric_arrays.array_of(out, pa.binary())


def _decimal_aggregate(fn: str, v):
    """sum/avg/min/max of a decimal128 column (numeric_arrays.py) as a Decimal: the sum
    exact (numpy over the scaled integers), avg that sum over the count as numeric_avg
    divides (select_div_scale), min/max by Arrow."""
    if fn in ("min", "max"):
        found = numeric_arrays.min_max_exact(v, fn)
        return found if found is not NotImplemented else getattr(pc, fn)(v).as_py()
    total = numeric_arrays.sum_exact(v)
    if total is None or fn == "sum":
        return total
    return numeric.div(total, Decimal(len(v) - v.null_count))


def numeric_min_max(v):
    """(min, max) of an int64/float64 column as Python values, by numpy over each chunk
    (Arrow's min_max kernel is ~10x slower on 5M doubles); (None, None) when every value
    is NULL, None when the column holds a NaN (PostgreSQL orders NaN above every number:
    the general path handles it) or is of another type."""
    if not (pa.types.is_int64(v.type) or pa.types.is_float64(v.type)):
        return None
    lo = hi = None
    for chunk in (v.chunks if isinstance(v, pa.ChunkedArray) else [v]):
        if chunk.null_count:
            if chunk.null_count == len(chunk):
                continue
            chunk = chunk.drop_null()
        if not len(chunk):
            continue
        arr = chunk.to_numpy(zero_copy_only=False)
        cmin, cmax = arr.min(), arr.max()
        if cmin != cmin or cmax != cmax:     # NaN
            return None
        lo = cmin if lo is None or cmin < lo else lo
        hi = cmax if hi is None or cmax > hi else hi
    if lo is None:
        return None, None
    return lo.item(), hi.item()


def _without_distinct(a):
    """The same aggregate call over already distinct values."""
    return dataclasses.replace(a, distinct=False)


# Aggregates to which a NULL input is a value (array_agg collects it): FILTER must drop
# their filtered rows rather than turn them into NULLs, as it does for the others.
KEEPS_NULLS = {"array_agg", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg"}


def _filter_drops_rows(a, ctx) -> bool:
    if a.fn in KEEPS_NULLS:
        return True
    user = ctx.functions.aggregate(a.fn) if ctx.functions is not None else None
    return user is not None and user.python is not None and a.fn not in PYTHON_AGGREGATES \
        and a.fn not in ("count", "sum", "avg", "min", "max")


@dataclasses.dataclass(frozen=True)
class Kept:
    """An aggregate's input with its FILTER mask, for an aggregate that collects NULLs
    (KEEPS_NULLS): the rows whose mask is false are dropped before it sees them."""
    values: Any
    keep: Any


def python_aggregate_for(a, ctx):
    user = ctx.functions.aggregate(a.fn) if ctx.functions is not None else None
    if user is not None and a.fn not in PYTHON_AGGREGATES and \
            a.fn not in ("count", "sum", "avg", "min", "max"):
        body = user.python
        numbers = _numeric_arg(a)
        return (lambda vals: body(_dedupe(vals, numbers))) if a.distinct else \
            (lambda vals: body([x for x in vals]))
    return python_aggregate(a)
