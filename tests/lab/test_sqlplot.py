"""%sqlplot histogram / boxplot / bar / pie: drawn from aggregates computed in the engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rustmemodb_lab.source import Source


@pytest.fixture
def measures(ip, cell):
    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "x": rng.gamma(2.0, 3.0, 5000),
        "k": rng.integers(0, 40, 5000),
        "city": rng.choice(["oslo", "rome", "lima", "pune", "kiev", "doha"], 5000, p=[.3, .25, .2, .1, .1, .05]),
    })
    df.loc[::97, "x"] = np.nan
    ip.user_ns["df_m"] = df
    cell("%sql --persist df_m")
    return df


@pytest.fixture
def spy(monkeypatch):
    """Every generated query and the number of rows it brought back."""
    seen: list[tuple[str, int]] = []
    original = Source.query

    def query(self, sql):
        table = original(self, sql)
        seen.append((sql, table.num_rows))
        return table

    monkeypatch.setattr(Source, "query", query)
    return seen


def test_histogram_counts_match_numpy(cell, measures):
    plot = cell("%sqlplot histogram --table df_m --column x --bins 25").value
    values = measures["x"].dropna().to_numpy()
    counts, edges = np.histogram(values, bins=25, range=(values.min(), values.max()))
    assert plot.data["counts"]["x"] == counts.tolist()
    assert np.allclose(plot.data["edges"], edges)
    assert plot.png().startswith(b"\x89PNG")


def test_histogram_of_an_integer_column_and_two_columns(cell, measures):
    plot = cell("%sqlplot histogram -t df_m -c k x -b 10").value
    assert sum(plot.data["counts"]["k"]) == 5000 and sum(plot.data["counts"]["x"]) == measures["x"].count()


def test_only_bins_leave_the_engine(ip, cell, spy):
    n = 200_000
    ip.user_ns["big"] = pd.DataFrame({"v": np.random.default_rng(1).normal(size=n)})
    cell("%sql --persist big")
    plot = cell("%sqlplot histogram -t big -c v --bins 40").value
    assert sum(plot.data["counts"]["v"]) == n
    assert sum(rows for _, rows in spy) <= 40 + 2  # the range row, one row per bin (+ the maximum's own)
    assert all("GROUP BY" in sql or "min(" in sql or "LIMIT 0" in sql for sql, _ in spy)


def test_boxplot_quartiles_match_percentile_cont(cell, measures, spy):
    plot = cell("%sqlplot boxplot --table df_m --column x").value
    stats = plot.data["stats"][0]
    values = measures["x"].dropna().to_numpy()
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    assert np.allclose([stats["q1"], stats["med"], stats["q3"]], [q1, med, q3])
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    assert stats["whislo"] == inside.min() and stats["whishi"] == inside.max()
    outliers = values[(values < q1 - 1.5 * iqr) | (values > q3 + 1.5 * iqr)]
    assert stats["outliers"] == len(outliers) and sorted(stats["fliers"]) == sorted(outliers.tolist())
    assert sum(rows for _, rows in spy) <= 6 + 2 + 2 * 500


def test_boxplot_horizontal_of_two_columns(cell, measures):
    plot = cell("%sqlplot boxplot -t df_m -c x k --orient h").value
    assert [s["label"] for s in plot.data["stats"]] == ["x", "k"]


def test_bar_counts_and_limit(cell, measures):
    plot = cell("%sqlplot bar -t df_m -c city --show-numbers").value
    expected = measures["city"].value_counts()
    assert dict(zip(plot.data["labels"], plot.data["counts"])) == expected.to_dict()
    top = cell("%sqlplot bar -t df_m -c city --limit 2 --orient h").value
    assert top.data["labels"] == expected.index[:2].tolist() and top.data["other"] == 5000 - expected.iloc[:2].sum()
    assert "(top 2 of 6 values)" in top.ax.get_title()


def test_pie_with_an_other_slice_and_nulls(ip, cell):
    ip.user_ns["df_c"] = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + [None] * 2 + list("cdefghijklm")})
    plot = cell("%sqlplot pie -t df_c -c c --limit 3 -S").value
    assert plot.data["labels"] == ["a", "b", "NULL"] and plot.data["counts"] == [5, 3, 2]
    assert plot.data["other"] == 11 and plot.data["other_categories"] == 11
    labels = [t.get_text() for t in plot.ax.texts]
    assert "other (11)" in labels


def test_dash_o_stores_the_figure(ip, cell, measures):
    from matplotlib.figure import Figure

    out = cell("%sqlplot histogram -t df_m -c x -o fig")
    assert isinstance(ip.user_ns["fig"], Figure) and ip.user_ns["fig"] is out.value.figure
    bundle = out.value._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG")


def test_plot_of_a_snippet(cell, measures):
    cell("%%sql --save rome --no-execute\nSELECT * FROM df_m WHERE city = 'rome'")
    plot = cell("%sqlplot histogram -t rome -c k -b 5").value
    assert sum(plot.data["counts"]["k"]) == (measures["city"] == "rome").sum()


@pytest.mark.parametrize(
    ("line", "message"),
    [("histogram -t df_m -c city", "needs a numeric column; city is TEXT (try bar)"),
     ("bar -t df_m -c nope", "has no column 'nope'"),
     ("pie -t df_m -c city x", "takes one column"),
     ("histogram -t df_m -c x -b 0", "at least 1"),
     ("scatter -t df_m -c x", "invalid choice"),
     ("histogram -c x", "required: -t/--table")],
)
def test_usage_errors(cell, measures, line, message):
    assert message in str(cell(f"%sqlplot {line}", fails=True).error)


def test_all_null_column_says_there_is_nothing_to_plot(ip, cell):
    ip.user_ns["df_n"] = pd.DataFrame({"v": pd.Series([None, None], dtype="float64")})
    assert "no non-NULL values" in str(cell("%sqlplot histogram -t df_n -c v", fails=True).error)


@pytest.fixture(params=["sqlite", "duckdb"])
def external(request, cell, tmp_path, measures):
    """The same measures in another database, opened with a connection string."""
    if request.param == "sqlite":
        import sqlite3

        with sqlite3.connect(tmp_path / "m.db") as db:
            measures.to_sql("m", db, index=False)
        cell(f"%sql sqlite:///{tmp_path / 'm.db'}")
    else:
        pytest.importorskip("duckdb_engine")
        cell("%sql duckdb://")
        cell("%sql CREATE TABLE m (x DOUBLE, k BIGINT, city VARCHAR)")
        for chunk in range(0, len(measures), 1000):
            rows = measures.iloc[chunk:chunk + 1000]
            values = ", ".join(
                f"({'NULL' if pd.isna(x) else repr(float(x))}, {int(k)}, '{c}')" for x, k, c in rows.itertuples(index=False))
            cell(f"%sql INSERT INTO m VALUES {values}")
    return request.param


def test_plots_and_profile_run_in_the_external_database(cell, measures, external):
    hist = cell("%sqlplot histogram -t m -c x --bins 25").value
    values = measures["x"].dropna().to_numpy()
    counts, _ = np.histogram(values, bins=25, range=(values.min(), values.max()))
    assert hist.data["counts"]["x"] == counts.tolist()
    box = cell("%sqlplot boxplot -t m -c x").value.data["stats"][0]
    assert np.allclose([box["q1"], box["med"], box["q3"]], np.percentile(values, [25, 50, 75]))
    bar = cell("%sqlplot bar -t m -c city").value
    assert dict(zip(bar.data["labels"], bar.data["counts"])) == measures["city"].value_counts().to_dict()
    prof = cell("%sqlcmd profile -t m").value.profile_frame()
    assert prof.loc["count", "x"] == len(values) and np.isclose(prof.loc["std", "x"], values.std(ddof=1))
    assert prof.loc["distinct", "city"] == 6
    grid = cell("%sqlcmd explore -t m --page-size 7").value
    assert grid.total == 5000 and len(grid.current.rows()) == 7
