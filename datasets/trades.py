"""A small, deterministic market-trades table for the tour notebook and tests.

    trades(id INTEGER, sym TEXT, px FLOAT, qty INTEGER, ts TIMESTAMP)

Prices follow a seeded random walk per symbol (always positive, rounded to cents);
timestamps increase through one trading session starting 2024-01-02 09:30.

    >>> from datasets import trades
    >>> t = trades.generate(1000)
    >>> t.column_names, t.num_rows
    (['id', 'sym', 'px', 'qty', 'ts'], 1000)
    >>> trades.generate_df(5).sym.tolist() == trades.generate(5)["sym"].to_pylist()
    True
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["generate", "generate_df", "SYMBOLS"]

SYMBOLS = ("AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "TSLA", "META", "ACME")
_START_PX = (190.0, 370.0, 140.0, 150.0, 480.0, 250.0, 350.0, 42.0)
SESSION_START = np.datetime64("2024-01-02T09:30:00", "us")


def generate(rows: int = 10_000, seed: int = 7, symbols: tuple[str, ...] = SYMBOLS) -> pa.Table:
    """`rows` trades as a pyarrow Table (id int64, sym large_string, px float64,
    qty int64, ts timestamp[us]); same arguments, same table."""
    rng = np.random.default_rng(seed)
    n_sym = len(symbols)
    sym_idx = rng.integers(0, n_sym, rows)
    start_px = np.resize(np.array(_START_PX), n_sym)
    # Per-symbol random walk: cumulative log-returns within each symbol's own trades.
    steps = rng.normal(0.0, 0.0015, rows)
    order = np.argsort(sym_idx, kind="stable")
    walk = np.empty(rows)
    sorted_steps = steps[order]
    sorted_sym = sym_idx[order]
    csum = np.cumsum(sorted_steps)
    group_start = np.searchsorted(sorted_sym, sorted_sym, side="left")
    base = np.where(group_start > 0, csum[group_start - 1], 0.0)
    walk[order] = csum - base
    px = np.round(start_px[sym_idx] * np.exp(walk), 2)
    qty = rng.integers(1, 100, rows) * 10
    gaps_us = rng.integers(1_000, 2_000_000, rows)  # 1 ms .. 2 s between trades
    ts = SESSION_START + np.cumsum(gaps_us).astype("timedelta64[us]")
    return pa.table({
        "id": pa.array(np.arange(1, rows + 1, dtype=np.int64)),
        "sym": pc.take(pa.array(list(symbols), pa.large_string()), pa.array(sym_idx)),
        "px": pa.array(px, pa.float64()),
        "qty": pa.array(qty.astype(np.int64)),
        "ts": pa.array(ts, pa.timestamp("us")),
    })


def generate_df(rows: int = 10_000, seed: int = 7, symbols: tuple[str, ...] = SYMBOLS):
    """The same data as a pandas DataFrame (pandas imported lazily)."""
    return generate(rows, seed, symbols).to_pandas()
