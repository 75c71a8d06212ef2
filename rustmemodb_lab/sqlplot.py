"""``%sqlplot histogram|boxplot|bar|pie``: jupysql's plots, aggregated in the engine.

Only aggregates leave the engine, never the column: a histogram of a
10M-row column moves ``bins`` counts (the bin of each value is arithmetic in
SQL, ``floor((x - min) / width)``, clamped so the maximum falls in the last
bin); a boxplot moves its five numbers and at most ``2 × 500`` outliers (the
quartiles are read at their ranks with ``row_number() OVER (ORDER BY x)``,
interpolated as ``percentile_cont`` does); bar and pie charts move one count
per category (the ``--limit`` largest; the rest are summed as "other").

The figure is a ``matplotlib.figure.Figure`` made without pyplot (no global
figure state, nothing left open), shown as PNG; ``-o NAME`` stores the
figure, and the returned :class:`Plot` also holds the aggregated data
(``plot.data``) and the Axes (``plot.ax``). ``--table`` may name a table, a
view, a DataFrame variable or a snippet (``--with NAME`` as in ``%sql``).
"""

from __future__ import annotations

import argparse
import io
import math
import shlex
from typing import Any

from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.source import Source
from rustmemodb_lab.sqlcmd import NUMERIC, base_type

KINDS = ("histogram", "boxplot", "bar", "pie")
FLIERS_PER_SIDE = 500


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit the kernel
        raise LabUsageError(f"%sqlplot: {message}")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="%sqlplot", add_help=False)
    p.add_argument("kind", choices=KINDS)
    p.add_argument("-t", "--table", required=True, help="table, view, DataFrame variable or snippet")
    p.add_argument("-c", "--column", nargs="+", required=True, help="column(s) to plot")
    p.add_argument("-b", "--bins", type=int, default=50, help="histogram: number of bins")
    p.add_argument("-w", "--with", dest="with_", action="append", metavar="NAME", help="snippet(s) to use")
    p.add_argument("-o", "--output", metavar="NAME", help="store the matplotlib Figure in NAME")
    p.add_argument("--orient", choices=("v", "h"), default="v", help="bar / boxplot orientation")
    p.add_argument("-S", "--show-numbers", action="store_true", help="bar / pie: print the counts")
    p.add_argument("--limit", type=int, default=None, help="bar / pie: categories shown (largest first)")
    return p


class Plot:
    """A figure made by ``%sqlplot``, with the aggregated data it was drawn from."""

    def __init__(self, figure: Any, ax: Any, kind: str, data: dict[str, Any]) -> None:
        self.figure = figure
        self.ax = ax
        self.kind = kind
        self.data = data

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"image/png": self.png(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<{self.ax.get_title() or self.kind}>"


def run_sqlplot(line: str, ctx: Context) -> Plot:
    """Parse and draw one ``%sqlplot`` line."""
    try:
        args = parser().parse_args(shlex.split(line))
    except ValueError as exc:
        raise LabUsageError(f"%sqlplot: {exc}") from None
    if args.output and not args.output.isidentifier():
        raise LabUsageError(f"-o needs a Python variable name, not {args.output!r}")
    if args.kind in ("bar", "pie") and len(args.column) != 1:
        raise LabUsageError(f"%sqlplot {args.kind} takes one column")
    if args.bins < 1:
        raise LabUsageError("--bins must be at least 1")
    source = Source(ctx, [n.strip() for v in args.with_ or [] for n in v.split(",") if n.strip()])
    types = {c["name"]: base_type(c["type"]) for c in source.columns(args.table)}
    for column in args.column:
        if column not in types:
            raise LabUsageError(f"{args.table} has no column {column!r}; it has {', '.join(types)}")
        if args.kind in ("histogram", "boxplot") and types[column] not in NUMERIC:
            raise LabUsageError(f"a {args.kind} needs a numeric column; {column} is {types[column]} (try bar)")
    draw = {"histogram": histogram, "boxplot": boxplot, "bar": bar, "pie": pie}[args.kind]
    plot = draw(source, args)
    if args.output:
        ctx.ns.user_ns[args.output] = plot.figure
    return plot


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0))
    return figure, figure.subplots()


def _title(args: argparse.Namespace, source: Source) -> str:
    return f"{', '.join(args.column)} · {args.table}"


# -- histogram --------------------------------------------------------------------------------

def histogram_bins(source: Source, table: str, columns: list[str], bins: int) -> dict[str, Any]:
    """Shared bin edges over ``columns`` and each column's counts, computed in SQL."""
    t, q = source.quote(table), source.quote
    ranges = ", ".join(f"min(CAST({q(c)} AS {source.double})) AS lo{i}, max(CAST({q(c)} AS {source.double})) AS hi{i}"
                       for i, c in enumerate(columns))
    row = source.query(f"SELECT {ranges} FROM {t}").to_pylist()[0]
    lows = [row[f"lo{i}"] for i in range(len(columns)) if row[f"lo{i}"] is not None]
    highs = [row[f"hi{i}"] for i in range(len(columns)) if row[f"hi{i}"] is not None]
    if not lows:
        raise LabUsageError(f"nothing to plot: {', '.join(columns)} of {table} has no non-NULL values")
    lo, hi = min(lows), max(highs)
    width = (hi - lo) / bins if hi > lo else 1.0
    edges = [lo + width * k for k in range(bins + 1)]
    counts: dict[str, list[int]] = {}
    for c in columns:
        x = f"CAST({q(c)} AS {source.double})"
        # the maximum lands in bin `bins` (one past the end): counted into the last bin below
        sql = (f"SELECT {source.floor_int(f'({x} - {lo!r}) / {width!r}')} AS bin, "
               f"count(*) AS n FROM {t} WHERE {q(c)} IS NOT NULL GROUP BY 1 ORDER BY 1")
        per_bin = [0] * bins
        for r in source.query(sql).to_pylist():
            per_bin[max(0, min(bins - 1, r["bin"]))] += r["n"]
        counts[c] = per_bin
    return {"edges": edges, "counts": counts}


def histogram(source: Source, args: argparse.Namespace) -> Plot:
    data = histogram_bins(source, args.table, args.column, args.bins)
    figure, ax = _figure()
    edges = data["edges"]
    for column, counts in data["counts"].items():
        ax.hist(edges[:-1], bins=edges, weights=counts, label=column,
                alpha=0.6 if len(args.column) > 1 else 1.0, edgecolor="white", linewidth=0.4)
    ax.set_title(f"histogram of {_title(args, source)}")
    ax.set_xlabel(args.column[0] if len(args.column) == 1 else "value")
    ax.set_ylabel("count")
    if len(args.column) > 1:
        ax.legend()
    return Plot(figure, ax, "histogram", data)


# -- boxplot ----------------------------------------------------------------------------------

def box_stats(source: Source, table: str, column: str) -> dict[str, Any]:
    """matplotlib ``bxp`` statistics of ``column``: quartiles, whiskers (1.5 IQR), outliers."""
    t, x = source.quote(table), f"CAST({source.quote(column)} AS {source.double})"
    values = f"(SELECT {x} AS x FROM {t} WHERE {source.quote(column)} IS NOT NULL) AS v"
    n, mean = source.query(f"SELECT count(*) AS n, avg(x) AS mean FROM {values}").to_pylist()[0].values()
    if not n:
        raise LabUsageError(f"nothing to plot: {column} of {table} has no non-NULL values")
    wanted = {p: p * (n - 1) for p in (0.25, 0.5, 0.75)}
    ranks = sorted({math.floor(r) for r in wanted.values()} | {math.ceil(r) for r in wanted.values()})
    ranked = (f"SELECT i, x FROM (SELECT x, row_number() OVER (ORDER BY x) - 1 AS i FROM {values}) AS r "
              f"WHERE i IN ({', '.join(map(str, ranks))})")
    at = {r["i"]: r["x"] for r in source.query(ranked).to_pylist()}

    def quantile(rank: float) -> float:
        below, above = at[math.floor(rank)], at[math.ceil(rank)]
        return below + (above - below) * (rank - math.floor(rank))

    q1, med, q3 = (quantile(wanted[p]) for p in (0.25, 0.5, 0.75))
    lo_fence, hi_fence = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    whiskers = source.query(
        f"SELECT min(CASE WHEN x >= {lo_fence!r} THEN x END) AS lo, max(CASE WHEN x <= {hi_fence!r} THEN x END) AS hi, "
        f"count(CASE WHEN x < {lo_fence!r} OR x > {hi_fence!r} THEN 1 END) AS outliers FROM {values}"
    ).to_pylist()[0]
    fliers = [r["x"] for sql in (
        f"SELECT x FROM {values} WHERE x < {lo_fence!r} ORDER BY x LIMIT {FLIERS_PER_SIDE}",
        f"SELECT x FROM {values} WHERE x > {hi_fence!r} ORDER BY x DESC LIMIT {FLIERS_PER_SIDE}",
    ) for r in source.query(sql).to_pylist()]
    return {"label": column, "q1": q1, "med": med, "q3": q3, "mean": mean, "whislo": whiskers["lo"],
            "whishi": whiskers["hi"], "fliers": fliers, "n": n, "outliers": whiskers["outliers"]}


def boxplot(source: Source, args: argparse.Namespace) -> Plot:
    stats = [box_stats(source, args.table, c) for c in args.column]
    figure, ax = _figure()
    ax.bxp(stats, showmeans=False, orientation="horizontal" if args.orient == "h" else "vertical")
    ax.set_title(f"boxplot of {_title(args, source)}")
    (ax.set_xlabel if args.orient == "h" else ax.set_ylabel)(args.column[0] if len(args.column) == 1 else "value")
    return Plot(figure, ax, "boxplot", {"stats": stats})


# -- bar and pie ------------------------------------------------------------------------------

def category_counts(source: Source, table: str, column: str, limit: int) -> dict[str, Any]:
    """The ``limit`` most frequent values of ``column`` (NULL included) and the rest as a sum."""
    t, c = source.quote(table), source.quote(column)
    top = source.query(
        f"SELECT CAST({c} AS TEXT) AS value, count(*) AS n FROM {t} GROUP BY {c} ORDER BY 2 DESC, 1 LIMIT {limit}"
    ).to_pylist()
    totals = source.query(f"SELECT count(*) AS rows, count(DISTINCT {c}) AS distinct_values, "
                          f"count(*) - count({c}) AS nulls FROM {t}").to_pylist()[0]
    categories = totals["distinct_values"] + (1 if totals["nulls"] else 0)
    shown = sum(r["n"] for r in top)
    return {
        "labels": ["NULL" if r["value"] is None else r["value"] for r in top],
        "counts": [r["n"] for r in top],
        "other": totals["rows"] - shown,
        "other_categories": categories - len(top),
        "categories": categories,
    }


def bar(source: Source, args: argparse.Namespace) -> Plot:
    data = category_counts(source, args.table, args.column[0], args.limit or 30)
    figure, ax = _figure()
    positions = range(len(data["labels"]))
    if args.orient == "h":
        bars = ax.barh(list(positions), data["counts"], tick_label=data["labels"])
        ax.invert_yaxis()
        ax.set_xlabel("count")
    else:
        bars = ax.bar(list(positions), data["counts"], tick_label=data["labels"])
        ax.set_ylabel("count")
        if len(data["labels"]) > 8:
            ax.tick_params(axis="x", labelrotation=60)
    if args.show_numbers:
        ax.bar_label(bars, labels=[f"{n:,}" for n in data["counts"]], fontsize=8)
    ax.set_title(f"{_title(args, source)}{_more(data)}")
    return Plot(figure, ax, "bar", data)


def pie(source: Source, args: argparse.Namespace) -> Plot:
    data = category_counts(source, args.table, args.column[0], args.limit or 10)
    labels, counts = list(data["labels"]), list(data["counts"])
    if data["other"]:
        labels.append(f"other ({data['other_categories']:,})")
        counts.append(data["other"])
    figure, ax = _figure()
    ax.pie(counts, labels=labels, autopct="%1.1f%%" if args.show_numbers else None, startangle=90, counterclock=False)
    ax.set_title(_title(args, source))
    ax.axis("equal")
    return Plot(figure, ax, "pie", data)


def _more(data: dict[str, Any]) -> str:
    if not data["other_categories"]:
        return ""
    return f" (top {len(data['labels'])} of {data['categories']:,} values)"
