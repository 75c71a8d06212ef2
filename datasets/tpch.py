"""TPC-H-like tables, generated deterministically and fast (vectorised numpy + Arrow).

Scale is given by the number of lineitem rows (default 1,000,000); the other tables
follow TPC-H's proportions:

    lineitem  N               orders    N / 4          customer  orders / 10
    part      N / 30          supplier  N / 600        nation 25, region 5

The value distributions follow the TPC-H specification loosely (dates 1992-1998,
quantities 1-50, discounts 0-10 %, returnflag/linestatus derived from dates,
extendedprice = quantity x part retail price, o_totalprice = sum of its lines, ...),
enough for the standard queries to return realistic, non-empty answers. It is *not*
dbgen: keys are dense (1..n), comments come from a fixed pool of word sequences, and
there is no attempt at reproducing dbgen's exact text or answer sets.

    >>> from datasets import tpch
    >>> t = tpch.generate(10_000)
    >>> sorted(t), t["lineitem"].num_rows
    (['customer', 'lineitem', 'nation', 'orders', 'part', 'region', 'supplier'], 10000)

Types: integers int64, money and quantities float64, text large_string, dates date32.
Generation of 1M lineitem rows takes about a second on a 2-core VM.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["generate", "TABLES", "PRIMARY_KEYS"]

TABLES = ("lineitem", "orders", "customer", "part", "supplier", "nation", "region")

PRIMARY_KEYS = {
    "lineitem": ("l_orderkey", "l_linenumber"),
    "orders": ("o_orderkey",),
    "customer": ("c_custkey",),
    "part": ("p_partkey",),
    "supplier": ("s_suppkey",),
    "nation": ("n_nationkey",),
    "region": ("r_regionkey",),
}

REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
NATIONS = [  # (name, regionkey) as in TPC-H
    ("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4),
    ("ETHIOPIA", 0), ("FRANCE", 3), ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2),
    ("IRAN", 4), ("IRAQ", 4), ("JAPAN", 2), ("JORDAN", 4), ("KENYA", 0),
    ("MOROCCO", 0), ("MOZAMBIQUE", 0), ("PERU", 1), ("CHINA", 2), ("ROMANIA", 3),
    ("SAUDI ARABIA", 4), ("VIETNAM", 2), ("RUSSIA", 3), ("UNITED KINGDOM", 3),
    ("UNITED STATES", 1),
]
SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]
PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
SHIPMODES = ["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"]
TYPE_1 = ["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"]
TYPE_2 = ["ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"]
TYPE_3 = ["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"]
COLORS = [
    "almond", "antique", "aquamarine", "azure", "beige", "bisque", "black", "blanched",
    "blue", "blush", "brown", "burlywood", "burnished", "chartreuse", "chiffon",
    "chocolate", "coral", "cornflower", "cornsilk", "cream", "cyan", "dark", "deep",
    "dim", "dodger", "drab", "firebrick", "floral", "forest", "frosted", "gainsboro",
    "ghost", "goldenrod", "green", "grey", "honeydew", "hot", "indian", "ivory", "khaki",
    "lace", "lavender", "lawn", "lemon", "light", "lime", "linen", "magenta", "maroon",
    "medium", "metallic", "midnight", "mint", "misty", "moccasin", "navajo", "navy",
    "olive", "orange", "orchid", "pale", "papaya", "peach", "peru", "pink", "plum",
    "powder", "puff", "purple", "red", "rose", "rosy", "royal", "saddle", "salmon",
    "sandy", "seashell", "sienna", "sky", "slate", "smoke", "snow", "spring", "steel",
    "tan", "thistle", "tomato", "turquoise", "violet", "wheat", "white", "yellow",
]
WORDS = [
    "furiously", "quickly", "carefully", "blithely", "slyly", "regular", "final",
    "express", "special", "pending", "ironic", "bold", "even", "unusual", "silent",
    "requests", "deposits", "packages", "accounts", "instructions", "theodolites",
    "foxes", "pinto", "beans", "platelets", "ideas", "dolphins", "asymptotes",
    "according", "to", "the", "above", "among", "after", "along", "haggle", "sleep",
    "wake", "nag", "cajole", "detect", "integrate", "boost", "use", "are", "about",
]

START = np.datetime64("1992-01-01", "D")
CURRENT = np.datetime64("1995-06-17", "D")  # TPC-H's "current date" for flags
ORDER_DAYS = int((np.datetime64("1998-08-02", "D") - START).astype(np.int64))  # last order date - start


def _text_pool(rng: np.random.Generator, words: list[str], size: int, lo: int, hi: int) -> pa.Array:
    """`size` distinct-ish strings of lo..hi random words, as a large_string array."""
    lengths = rng.integers(lo, hi + 1, size)
    picks = rng.integers(0, len(words), lengths.sum())
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    vocab = np.array(words, dtype=object)
    texts = [" ".join(vocab[picks[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])]
    return pa.array(texts, pa.large_string())


def _pick(pool: pa.Array, idx: np.ndarray) -> pa.Array:
    """pool[idx] as a large_string array (vectorised take)."""
    return pc.take(pool, pa.array(idx, pa.int64()))


def _labels(prefix: str, keys: np.ndarray, width: int = 9) -> pa.Array:
    """'Customer#000000042'-style names, vectorised in Arrow."""
    digits = pc.utf8_lpad(pc.cast(pa.array(keys), pa.large_string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix, pa.large_string()), digits, pa.scalar("", pa.large_string()))


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array((START + days.astype("timedelta64[D]")).astype("datetime64[D]"))


def _money(x: np.ndarray) -> np.ndarray:
    return np.round(x, 2)


@functools.lru_cache(maxsize=2)
def _generate(lineitem_rows: int, seed: int) -> tuple[tuple[str, pa.Table], ...]:
    rng = np.random.default_rng(seed)
    n_line = lineitem_rows
    n_orders = max(1, n_line // 4)
    n_cust = max(1, n_orders // 10)
    n_part = max(1, n_line // 30)
    n_supp = max(1, n_line // 600)

    region = pa.table({
        "r_regionkey": pa.array(np.arange(5, dtype=np.int64)),
        "r_name": pa.array(REGIONS, pa.large_string()),
    })
    nation = pa.table({
        "n_nationkey": pa.array(np.arange(25, dtype=np.int64)),
        "n_name": pa.array([n for n, _ in NATIONS], pa.large_string()),
        "n_regionkey": pa.array(np.array([r for _, r in NATIONS], dtype=np.int64)),
    })

    comments = _text_pool(rng, WORDS, 4096, 3, 9)

    supp_keys = np.arange(1, n_supp + 1, dtype=np.int64)
    supplier = pa.table({
        "s_suppkey": supp_keys,
        "s_name": _labels("Supplier#", supp_keys),
        "s_nationkey": rng.integers(0, 25, n_supp, dtype=np.int64),
        "s_acctbal": _money(rng.uniform(-999.99, 9999.99, n_supp)),
        "s_comment": _pick(comments, rng.integers(0, len(comments), n_supp)),
    })

    part_keys = np.arange(1, n_part + 1, dtype=np.int64)
    retail = (90000 + (part_keys // 10) % 20001 + 100 * (part_keys % 1000)) / 100.0
    part_names = _text_pool(rng, COLORS, 4096, 5, 5)
    types = pa.array([f"{a} {b} {c}" for a in TYPE_1 for b in TYPE_2 for c in TYPE_3], pa.large_string())
    brands = pa.array([f"Brand#{m}{n}" for m in range(1, 6) for n in range(1, 6)], pa.large_string())
    part = pa.table({
        "p_partkey": part_keys,
        "p_name": _pick(part_names, rng.integers(0, len(part_names), n_part)),
        "p_brand": _pick(brands, rng.integers(0, len(brands), n_part)),
        "p_type": _pick(types, rng.integers(0, len(types), n_part)),
        "p_size": rng.integers(1, 51, n_part, dtype=np.int64),
        "p_retailprice": _money(retail),
    })

    cust_keys = np.arange(1, n_cust + 1, dtype=np.int64)
    customer = pa.table({
        "c_custkey": cust_keys,
        "c_name": _labels("Customer#", cust_keys),
        "c_nationkey": rng.integers(0, 25, n_cust, dtype=np.int64),
        "c_acctbal": _money(rng.uniform(-999.99, 9999.99, n_cust)),
        "c_mktsegment": _pick(pa.array(SEGMENTS, pa.large_string()), rng.integers(0, 5, n_cust)),
    })

    # Lines per order: 1..7 (mean 4), then trimmed/padded to exactly n_line lines.
    counts = rng.integers(1, 8, n_orders)
    okey_idx = np.repeat(np.arange(n_orders, dtype=np.int64), counts)[:n_line]
    if len(okey_idx) < n_line:
        extra = rng.integers(0, n_orders, n_line - len(okey_idx))
        okey_idx = np.sort(np.concatenate([okey_idx, extra]), kind="stable")
    first = np.searchsorted(okey_idx, okey_idx, side="left")
    linenumber = (np.arange(n_line, dtype=np.int64) - first + 1)

    orderdate = rng.integers(0, ORDER_DAYS + 1, n_orders)
    l_orderdate = orderdate[okey_idx]
    shipdate = l_orderdate + rng.integers(1, 122, n_line)
    commitdate = l_orderdate + rng.integers(30, 91, n_line)
    receiptdate = shipdate + rng.integers(1, 31, n_line)
    current = int((CURRENT - START).astype(np.int64))

    partkey = rng.integers(1, n_part + 1, n_line, dtype=np.int64)
    quantity = rng.integers(1, 51, n_line).astype(np.float64)
    extprice = _money(quantity * retail[partkey - 1])
    discount = rng.integers(0, 11, n_line) / 100.0
    tax = rng.integers(0, 9, n_line) / 100.0

    returned = receiptdate <= current
    ra = np.where(rng.random(n_line) < 0.5, 1, 0)  # 'R' or 'A' for returned lines
    flag_idx = np.where(returned, ra, 2)
    is_open = shipdate > current

    lineitem = pa.table({
        "l_orderkey": okey_idx + 1,
        "l_partkey": partkey,
        "l_suppkey": rng.integers(1, n_supp + 1, n_line, dtype=np.int64),
        "l_linenumber": linenumber,
        "l_quantity": quantity,
        "l_extendedprice": extprice,
        "l_discount": discount,
        "l_tax": tax,
        "l_returnflag": _pick(pa.array(["A", "R", "N"], pa.large_string()), flag_idx),
        "l_linestatus": _pick(pa.array(["F", "O"], pa.large_string()), is_open.astype(np.int64)),
        "l_shipdate": _dates(shipdate),
        "l_commitdate": _dates(commitdate),
        "l_receiptdate": _dates(receiptdate),
        "l_shipmode": _pick(pa.array(SHIPMODES, pa.large_string()), rng.integers(0, 7, n_line)),
        "l_comment": _pick(comments, rng.integers(0, len(comments), n_line)),
    })

    # Order-level values derived from the lines (orders without lines: status 'O', price 0).
    gross = extprice * (1 + tax) * (1 - discount)
    totalprice = _money(np.bincount(okey_idx, weights=gross, minlength=n_orders))
    n_open = np.bincount(okey_idx, weights=is_open, minlength=n_orders)
    n_lines = np.bincount(okey_idx, minlength=n_orders)
    status_idx = np.where(n_open == 0, 0, np.where(n_open == n_lines, 1, 2))
    status_idx[n_lines == 0] = 1
    order_keys = np.arange(1, n_orders + 1, dtype=np.int64)
    orders = pa.table({
        "o_orderkey": order_keys,
        "o_custkey": rng.integers(1, n_cust + 1, n_orders, dtype=np.int64),
        "o_orderstatus": _pick(pa.array(["F", "O", "P"], pa.large_string()), status_idx),
        "o_totalprice": totalprice,
        "o_orderdate": _dates(orderdate),
        "o_orderpriority": _pick(pa.array(PRIORITIES, pa.large_string()), rng.integers(0, 5, n_orders)),
        "o_comment": _pick(comments, rng.integers(0, len(comments), n_orders)),
    })

    return (
        ("lineitem", lineitem), ("orders", orders), ("customer", customer), ("part", part),
        ("supplier", supplier), ("nation", nation), ("region", region),
    )


def generate(lineitem_rows: int = 1_000_000, seed: int = 42) -> dict[str, pa.Table]:
    """All seven tables as {name: pyarrow.Table}; same arguments, same data.

    The last two results are cached in-process (the tables are immutable), so several
    benchmark suites can share one generation.
    """
    if lineitem_rows < 1:
        raise ValueError("lineitem_rows must be >= 1")
    return dict(_generate(int(lineitem_rows), int(seed)))
