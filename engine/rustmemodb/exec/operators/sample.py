"""TABLESAMPLE / USING SAMPLE: keep a random subset of the child's rows, in order.

* bernoulli: each row independently with probability p/100;
* system: each block of ``BLOCK_ROWS`` consecutive rows with probability p/100
  (PostgreSQL samples 8 kB pages; a block of 128 rows is about a page of narrow
  rows, and the whole table is one block per 128 rows whatever its chunks);
* reservoir: exactly min(n, rows) rows chosen uniformly.

With a seed (REPEATABLE) the generator is numpy's PCG64 seeded from the seed's
float64 bits, so the same rows in the same order give the same sample; without
one it is seeded from the OS. Never numpy's global generator: a library must not
touch its host's random state. The sample differs from PostgreSQL's for the same
seed (another generator, another physical order); only its distribution matches.
"""
from __future__ import annotations

from ... import infinity

import struct

import numpy as np
import pyarrow as pa

from ... import errors
from ...plan.logical import LogicalSample
from ..expr.vector import evaluate
from ..run import operator, run_plan

BLOCK_ROWS = 128


@operator(LogicalSample)
def sample(node: LogicalSample, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    rng = _generator(_value(node.seed, ctx, "TABLESAMPLE REPEATABLE parameter cannot be null",
                            "2202G"))
    n = table.num_rows
    if node.method == "reservoir":
        k = _value(node.rows, ctx, "sample size cannot be null")
        if k < 0:
            raise errors.sql_error("2202H", "sample size must not be negative")
        if k >= n:
            return table
        keep = np.sort(rng.choice(n, size=int(k), replace=False))
        return table.take(pa.array(keep, pa.int64()))
    p = _value(node.percent, ctx, "TABLESAMPLE parameter cannot be null")
    if not 0 <= p <= 100:     # NaN fails both comparisons
        raise errors.sql_error("2202H", "sample percentage must be between 0 and 100")
    if node.method == "system":
        blocks = -(-n // BLOCK_ROWS)
        mask = np.repeat(rng.random(blocks) < p / 100.0, BLOCK_ROWS)[:n]
    else:
        mask = rng.random(n) < p / 100.0
    return table.filter(pa.array(mask, pa.bool_()))


def _value(e, ctx, null_message: str, sqlstate: str = "2202H"):
    if e is None:
        return None
    v = evaluate(e, pa.table({}), ctx)
    value = infinity.pyscalar(v if isinstance(v, pa.Scalar) else v[0])
    if value is None:
        raise errors.sql_error(sqlstate, null_message)
    return value


def _generator(seed) -> np.random.Generator:
    if seed is None:
        return np.random.default_rng()
    bits = int.from_bytes(struct.pack("<d", float(seed)), "little")
    return np.random.Generator(np.random.PCG64(bits))
