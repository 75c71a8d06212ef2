"""GROUPING SETS / ROLLUP / CUBE in the aggregate operator (``LogicalAggregate.grouping_sets``).

The input is read and the group keys and aggregate inputs evaluated once; each
grouping set is then one ordinary aggregation over a subset of those keys
(``aggregate.aggregate_keys``). Every set's rows come out in the full layout —
all group columns (NULL outside the set), then all aggregates — and ``GROUPING(..)``
is the set's constant bit mask (an argument outside the set sets its bit; the
first argument is the most significant), as PostgreSQL defines it.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from ... import numeric_arrays, types
from ...plan.logical import LogicalAggregate
from .aggregate import aggregate_keys


def aggregate_sets(node: LogicalAggregate, keys, inputs, n: int, ctx) -> pa.Table:
    ng = len(node.groups)
    real = [j for j, a in enumerate(node.aggregates) if a.fn != "grouping"]
    names = [c for c, _ in node.columns]
    pieces = []
    for members in node.grouping_sets:
        members = list(members)
        sub = dataclasses.replace(
            node, columns=[node.columns[i] for i in members] +
            [node.columns[ng + j] for j in real],
            groups=[node.groups[i] for i in members],
            aggregates=[node.aggregates[j] for j in real], grouping_sets=None)
        out = aggregate_keys(sub, [keys[i] for i in members], [inputs[j] for j in real], n, ctx)
        rows = out.num_rows
        arrays = []
        for i, (_, t) in enumerate(node.columns[:ng]):
            arrays.append(out.column(members.index(i)) if i in members
                          else pa.nulls(rows, types.arrow_type(t)))
        for j, a in enumerate(node.aggregates):
            if a.fn == "grouping":
                bits = 0
                for arg in a.args:
                    bits = (bits << 1) | (0 if node.groups.index(arg) in members else 1)
                arrays.append(pa.array(np.full(rows, bits, np.int64)))
            else:
                arrays.append(out.column(len(members) + real.index(j)))
        pieces.append(pa.Table.from_arrays(arrays, names=names))
    # a numeric aggregate may come out as decimal128 in one set and as keys in another
    return numeric_arrays.concat_tables(pieces)
