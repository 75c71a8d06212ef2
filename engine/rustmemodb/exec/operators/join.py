"""Joins: hash joins on equi keys, cross joins, and filtered (theta) joins.

A join is computed as *index pairs* first — which left row goes with which right
row — and the output columns are gathered with ``take`` only at the end, so the
hash join itself moves two small columns (keys and a row number) whatever the
width of the inputs:

    left keys + row#  ─┐
                       ├─ Arrow hash join ─► (left row#, right row#) ─► residual
    right keys + row# ─┘                                                  │
                                   take(left), take(right) ◄──────────────┘

``LogicalJoin.equi_keys`` (filled by ``optimize/extract_equi_keys``) are the
hashed keys; ``condition`` is then only the residual, evaluated on the matched
pairs. Outer joins add the rows left without a partner *after* the residual, so
an ON condition never drops a preserved row (the classic outer-join bug). NULL
keys never match (Arrow agrees with SQL here). A dense integer key on one side
(a primary key, typically) is joined by direct addressing instead of hashing;
otherwise Arrow's hash join builds on the smaller input.

Semi and anti joins (from decorrelated EXISTS / IN) return left rows only.

Without equi keys the join is a cross product filtered by the condition,
computed in blocks of left rows so memory stays bounded; that is a nested loop,
used only when the query has no equality to hash on.
"""
from __future__ import annotations

from ... import infinity

from ...lazy_import import arrow as pa, compute as pc, numpy as np
from ..arrays import contiguous

from ... import errors, numeric_arrays, types
from ... import statement_limits as limits
from ...plan.logical import LogicalJoin
from ..expr.vector import as_array, evaluate
from ..run import operator, run_plan
from ..semantics import hash_key, jsonb_hash_columns
from ...plan.expr import column_refs

# Direct addressing (_dense_pairs) may span the probe side's rows too, not only the
# build side's (False: the build side's alone; tests compare both ways).
DENSE_PROBE_SPAN = True
# The row numbers of a side whose rows each match exactly once, in order (a fact table
# probing a dimension's key): stands for np.arange(rows) without building it.
EVERY_ROW = None
# Cross products are built this many output rows at a time (filtered joins).
BLOCK_ROWS = 1 << 18   # pairs per block: small enough that interrupt acts within ~50 ms


@operator(LogicalJoin)
def join(node: LogicalJoin, ctx) -> pa.Table:
    left = run_plan(node.left, ctx)
    if node.index_probe is not None:          # index nested loop (optimize/use_index_join)
        from .index_join import index_probe   # loads numpy: not for a first small session
        probed = index_probe(node, left, ctx)
        if probed is not None:
            right, li, ri = probed
            return join_pairs(node, left, right, li, ri, ctx)
    right = run_plan(node.right, ctx)
    return join_tables(node, left, right, ctx)


def join_tables(node: LogicalJoin, left: pa.Table, right: pa.Table, ctx) -> pa.Table:
    if node.equi_keys:
        li, ri = _equi_pairs(node, left, right, ctx)
    else:
        li, ri = _theta_pairs(node, left, right, ctx)
    return join_pairs(node, left, right, li, ri, ctx)


def join_pairs(node: LogicalJoin, left: pa.Table, right: pa.Table, li, ri, ctx) -> pa.Table:
    """Finish a join from its matching (left row#, right row#) pairs. ``li`` or ``ri``
    may be ``EVERY_ROW`` (_dense_pairs: each row of that side once, in order)."""
    kind = node.kind
    plain = not (node.equi_keys and node.condition is not None)    # no residual condition
    if plain and (li is EVERY_ROW and kind in ("inner", "left") or
                  ri is EVERY_ROW and kind in ("inner", "right")):
        # nothing to filter and no row left unmatched: the side's columns as they are
        # (no 5M-row arange to build, nor to recognize again in _taken)
        coded = ctx.coded_joins.get(id(node)) if ctx.coded_joins else None
        return _gather(node, left, right, li, ri, coded)
    if li is EVERY_ROW:
        li = np.arange(left.num_rows, dtype=np.int64)
    if ri is EVERY_ROW:
        ri = np.arange(right.num_rows, dtype=np.int64)
    if node.equi_keys and node.condition is not None and len(li):
        li, ri = _residual(node, left, right, li, ri, ctx)
    if kind in ("semi", "anti"):
        return _semi(node, left, li, kind == "anti")
    if kind in ("left", "full"):
        missing = _unmatched(li, left.num_rows)
        li = np.concatenate([li, missing])
        ri = np.concatenate([ri, np.full(len(missing), -1, np.int64)])
    if kind in ("right", "full"):
        missing = _unmatched(ri, right.num_rows)
        li = np.concatenate([li, np.full(len(missing), -1, np.int64)])
        ri = np.concatenate([ri, missing])
    coded = ctx.coded_joins.get(id(node)) if ctx.coded_joins else None
    return _gather(node, left, right, li, ri, coded)


# ---- index pairs --------------------------------------------------------------------------

def _equi_pairs(node, left, right, ctx) -> tuple[np.ndarray, np.ndarray]:
    """(left row#, right row#) for every pair of rows whose keys are equal."""
    lkeys, rkeys = [], []
    for le, re_ in node.equi_keys:
        lk = as_array(evaluate(le, left, ctx), left.num_rows)
        rk = as_array(evaluate(re_, right, ctx), right.num_rows)
        if le.type == types.JSON:    # documents meet by hash key: {"a": 1.0} = {"a": 1}
            lk, rk = jsonb_hash_columns([lk, rk], [types.JSON, types.JSON])[0]
        lk, rk = _common_key_type(lk, rk)
        lkeys.append(lk)
        rkeys.append(rk)
    if not left.num_rows or not right.num_rows:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if len(lkeys) == 1:
        pairs = _dense_pairs(lkeys[0], rkeys[0])
        if pairs is not None:
            return pairs
    names = [f"k{i}" for i in range(len(lkeys))]
    _charge_join_size(lkeys, rkeys, names)
    lt = pa.Table.from_arrays(lkeys + [pa.array(np.arange(left.num_rows, dtype=np.int64))],
                              names=names + ["__l"])
    rt = pa.Table.from_arrays(rkeys + [pa.array(np.arange(right.num_rows, dtype=np.int64))],
                              names=names + ["__r"])
    try:
        # Arrow builds its hash table on the right input: keep the smaller side there
        # (15x faster for 1M probes against 40k keys than the other way round).
        if lt.num_rows < rt.num_rows:
            j = rt.join(lt, keys=names, join_type="inner", use_threads=True)
        else:
            j = lt.join(rt, keys=names, join_type="inner", use_threads=True)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid) as exc:
        raise errors.not_supported(f"hash join on keys of type {lkeys[0].type}: {exc}")
    return _np(j.column("__l")), _np(j.column("__r"))


def _charge_join_size(lkeys, rkeys, names) -> None:
    """Account the pairs a hash join will produce *before* Arrow builds them (16 bytes a
    pair), so a join exploding to billions of rows fails with 53200 instead of exhausting
    memory. Cheap bounds first: rows x rows, then probe rows x the build side's largest
    key multiplicity; only when both exceed the budget are the exact counts joined."""
    nl, nr = len(lkeys[0]), len(rkeys[0])
    budget = limits.remaining()
    if 16 * nl * nr <= budget:
        return
    small, big = (lkeys, rkeys) if nl <= nr else (rkeys, lkeys)
    counts = pa.Table.from_arrays(small, names=names).group_by(names).aggregate(
        [([], "count_all")])
    most = infinity.pyscalar(pc.max(counts.column("count_all"))) or 0
    if 16 * max(nl, nr) * most <= budget:
        return
    other = pa.Table.from_arrays(big, names=names).group_by(names).aggregate(
        [([], "count_all")]).rename_columns(names + ["other"])
    both = counts.join(other, keys=names, join_type="inner", use_threads=False)
    pairs = pc.sum(pc.multiply(both.column("count_all"), both.column("other"))).as_py() or 0
    limits.charge(16 * pairs, "join")


def hash_friendly(values):
    """Keys as Arrow's hash join / group_by should see them: large_string as string
    (5-12x faster on 1M rows; large offsets only matter past 2 GB of text, where the
    cast fails), and -0.0 as 0.0 (SQL: equal; Arrow hashes the bits, so apart)."""
    values = hash_key(values)
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        from ..functions.array import encode_keys      # array imports the aggregates
        return encode_keys(values)        # arrays as text; callers restore_keys after
    if pa.types.is_large_string(values.type):
        try:
            return values.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowCapacityError):
            return values
    return values


def _common_key_type(a, b):
    both = numeric_arrays.common_keys(a, b)     # numerics: one form, compared by value
    if both is not None:
        a, b = both
    a, b = hash_friendly(a), hash_friendly(b)
    if a.type == b.type:
        return a, b
    if pa.types.is_null(a.type):
        return a.cast(b.type), b
    if pa.types.is_null(b.type):
        return a, b.cast(a.type)
    if pa.types.is_integer(a.type) and pa.types.is_floating(b.type) or \
            pa.types.is_floating(a.type) and pa.types.is_integer(b.type):
        return pc.cast(a, pa.float64(), safe=False), pc.cast(b, pa.float64(), safe=False)
    if pa.types.is_date(a.type) and pa.types.is_timestamp(b.type):
        return pc.cast(a, b.type), b
    if pa.types.is_timestamp(a.type) and pa.types.is_date(b.type):
        return a, pc.cast(b, a.type)
    return a, b.cast(a.type)


def _dense_pairs(lk, rk):
    """Direct addressing when one side's integer keys are unique and dense.

    A primary key 1..n joined with a foreign key is the common case: a lookup
    array ``slot[key - lo] = row#`` answers every probe with one numpy gather,
    several times faster than building a hash table.
    """
    if not (pa.types.is_integer(lk.type) and pa.types.is_integer(rk.type)):
        return None
    # Build on the smaller side; it must be unique for direct addressing.
    swap = len(lk) < len(rk)
    build, probe = (lk, rk) if swap else (rk, lk)
    bv, bnull = _ints(build)
    if bnull is not None or not len(bv):
        return None
    lo, hi = int(bv.min()), int(bv.max())
    span = hi - lo + 1
    # The slot array costs O(span) time and 8 bytes a slot: worth it while the span is
    # within a few times the build rows, or within the probe rows (a filtered primary
    # key: one year's orders probed by lineitem), whose pair arrays cost as much.
    if span > 4 * len(bv) + 1024 and not (DENSE_PROBE_SPAN and span <= len(probe)):
        return None
    # int32 row numbers while they fit: half the bytes to gather and no copy where the
    # pairs become dictionary codes (_taken)
    width = np.int32 if len(bv) < (1 << 31) else np.int64
    slot = np.full(span, -1, width)
    slot[bv - lo] = np.arange(len(bv), dtype=width)
    if int(np.count_nonzero(slot >= 0)) != len(bv):
        return None   # duplicate keys: hash join
    hit = _every_probe_hit(slot, lo, probe)
    if hit is not None:
        return (hit, EVERY_ROW) if swap else (EVERY_ROW, hit)
    pv, pnull = _ints(probe)
    if pnull is None and len(pv) and int(pv.min()) >= lo and int(pv.max()) <= hi:
        hit = slot[pv - lo] if lo else slot[pv]   # every key in range: one gather, no masks
    else:
        inside = (pv >= lo) & (pv <= hi)
        if pnull is not None:
            inside &= ~pnull
        hit = np.full(len(pv), -1, slot.dtype)
        hit[inside] = slot[pv[inside] - lo]
    matched = hit >= 0
    if matched.all():                 # a fact table's foreign key: every row matches once
        probe_rows, build_rows = EVERY_ROW, hit
    else:
        probe_rows = np.flatnonzero(matched)
        build_rows = hit[probe_rows]
    return (build_rows, probe_rows) if swap else (probe_rows, build_rows)


def _every_probe_hit(slot: np.ndarray, lo: int, probe):
    """The build row of every probe row, chunk by chunk (no copy of a stored column into
    one array), when each probe key finds one: all in range, none NULL, and no hole in
    the slots between the smallest and largest probe key (checked on the slots, not
    per row). Else None."""
    if probe.null_count or not len(probe):
        return None
    chunks = [c.to_numpy(zero_copy_only=False) for c in
              (probe.chunks if isinstance(probe, pa.ChunkedArray) else [probe]) if len(c)]
    first = min(int(c.min()) for c in chunks) - lo
    last = max(int(c.max()) for c in chunks) - lo
    if first < 0 or last >= len(slot) or bool((slot[first:last + 1] < 0).any()):
        return None
    hit = np.empty(len(probe), slot.dtype)
    start = 0
    for c in chunks:      # in blocks: a DataFrame's column is one 5M-row chunk
        for i in range(0, len(c), BLOCK_ROWS):
            block = c[i:i + BLOCK_ROWS]
            np.take(slot, block - lo if lo else block, out=hit[start:start + len(block)])
            start += len(block)
    return hit


def _ints(v):
    v = contiguous(v)
    nulls = v.is_null().to_numpy(zero_copy_only=False) if v.null_count else None
    if nulls is not None:
        v = v.fill_null(0)
    return v.to_numpy(zero_copy_only=False).astype(np.int64, copy=False), nulls


def _theta_pairs(node, left, right, ctx) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (cross join), filtered by the condition block by block."""
    nl, nr = left.num_rows, right.num_rows
    if not nl or not nr:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if node.condition is None:
        limits.charge(16 * nl * nr, "cross join")
        return np.repeat(np.arange(nl, dtype=np.int64), nr), \
            np.tile(np.arange(nr, dtype=np.int64), nl)
    step = max(1, BLOCK_ROWS // nr)
    lis, ris = [], []
    for start in range(0, nl, step):
        ctx.check_cancel()
        stop = min(nl, start + step)
        li = np.repeat(np.arange(start, stop, dtype=np.int64), nr)
        ri = np.tile(np.arange(nr, dtype=np.int64), stop - start)
        keep = _condition_mask(node, left, right, li, ri, ctx)
        lis.append(li[keep])
        ris.append(ri[keep])
    return np.concatenate(lis), np.concatenate(ris)


def _residual(node, left, right, li, ri, ctx):
    keep = _condition_mask(node, left, right, li, ri, ctx)
    return li[keep], ri[keep]


def _condition_mask(node, left, right, li, ri, ctx) -> np.ndarray:
    """The join condition over the given pairs, NULL counting as false."""
    refs = column_refs(node.condition)
    nl = left.num_columns
    cols = []
    for i in range(nl + right.num_columns):
        if i not in refs:
            cols.append(pa.nulls(len(li), pa.null()))
        elif i < nl:
            cols.append(left.column(i).take(li))
        else:
            cols.append(right.column(i - nl).take(ri))
    pairs = pa.Table.from_arrays(cols, names=[f"c{i}" for i in range(len(cols))])
    mask = evaluate(node.condition, pairs, ctx)
    if isinstance(mask, pa.Scalar):
        return np.full(len(li), infinity.pyscalar(mask) is True)
    return _np(pc.fill_null(mask, False)).astype(bool)


def _unmatched(idx: np.ndarray, n: int) -> np.ndarray:
    seen = np.zeros(n, bool)
    seen[idx[idx >= 0]] = True
    return np.flatnonzero(~seen).astype(np.int64)


def _semi(node, left, li, anti: bool) -> pa.Table:
    seen = np.zeros(left.num_rows, bool)
    seen[li] = True
    keep = ~seen if anti else seen
    if keep.all():
        return left
    return left.filter(pa.array(keep))


def _gather(node, left, right, li, ri, coded=None) -> pa.Table:
    """Output columns: left then right, NULL where a row has no partner (index -1).
    ``coded``: output positions an aggregate above only groups by; a text column of a
    side much smaller than the output goes out dictionary-encoded (the side's rows as
    the dictionary, the pair indices as codes) instead of copying its strings per row."""
    rows = left.num_rows if li is EVERY_ROW else len(li)
    limits.charge(rows * (_row_bytes(left) + _row_bytes(right)), "join output")
    nl = left.num_columns
    cols = _taken(left, li, coded, 0) + _taken(right, ri, coded, nl)
    names = [n for n, _ in node.columns]
    if not cols:
        from .scan import rows_only      # scan loads numpy: not for a first small session
        return rows_only(rows)
    return pa.Table.from_arrays(cols, names=names)


def _taken(table: pa.Table, idx: np.ndarray, coded=None, first: int = 0) -> list:
    """The table's columns at rows ``idx``; as they are when ``idx`` is every row in order
    (each probe row of a fact table matching one dimension row: no 5M-row gathers).
    Columns at output positions in ``coded`` may come back dictionary-encoded (_gather)."""
    n = table.num_rows
    if idx is EVERY_ROW:
        return list(table.columns)
    if len(idx) == n and n and idx[0] == 0 and idx[-1] == n - 1 and \
            bool((idx[1:] > idx[:-1]).all()):
        return list(table.columns)
    taken = codes = None
    out = []
    for j, c in enumerate(table.columns):
        if coded and first + j in coded and len(idx) >= 4 * n and n < (1 << 31) and \
                _codable(c.type):
            if codes is None:
                codes = pa.array(idx.astype(np.int32, copy=False), mask=idx < 0) \
                    if len(idx) and idx.min() < 0 else pa.array(idx.astype(np.int32, copy=False))
            # row numbers of this side (or masked -1): in range, no validation pass
            out.append(pa.DictionaryArray.from_arrays(codes, contiguous(c), safe=False))
            continue
        if taken is None:
            taken = _take_indices(idx)
        out.append(c.take(taken))
    return out


def _codable(t: pa.DataType) -> bool:
    """Types a join may hand out dictionary-encoded (text and integers: their grouping
    by dictionary_encode is SQL's; floats are not, -0.0 and NaN)."""
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)


def _row_bytes(table: pa.Table) -> int:
    """Average bytes per row (memory accounting, statement_limits.py)."""
    return table.nbytes // table.num_rows if table.num_rows else 8 * table.num_columns


def _take_indices(idx: np.ndarray) -> pa.Array:
    if len(idx) and idx.min() < 0:
        return pa.array(idx, mask=idx < 0)
    return pa.array(idx)


def _np(col) -> np.ndarray:
    col = contiguous(col)
    return col.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
