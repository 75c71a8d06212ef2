"""Domains (CREATE / ALTER / DROP DOMAIN: sql/bind/bind_domain.py,
exec/operators/domain_types.py, exec/typmods.py, exec/constraints.py): a domain's NOT NULL
and CHECKs hold on every way rows arrive, its DEFAULT fills omitted columns, and the
domain is durable (log and checkpoint), transactional and merged between branches.
tests/sql/foundation/domains.test replays the SQL side on PostgreSQL 15 and a cluster."""
from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb import errors
from rustmemodb.branch import merge

CHECK = 'value for domain posint violates check constraint "posint_check"'


def make(c) -> None:
    c.execute("CREATE DOMAIN posint AS bigint CHECK (VALUE > 0)")
    c.execute("CREATE DOMAIN tag AS varchar(4) NOT NULL DEFAULT 'none'")
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, n posint, t tag)")
    c.execute("INSERT INTO p (id, n) VALUES (1, 10), (2, 20)")


def _state(c, write) -> str:
    with pytest.raises(errors.Error) as info:
        write(c)
    return info.value.sqlstate


def test_every_write_path_checks_the_domain(tmp_path):
    c = rustmemodb.connect()
    make(c)
    bad = [lambda c: c.execute("INSERT INTO p VALUES (3, -1, 'x')"),
           lambda c: c.execute("UPDATE p SET n = 0 WHERE id = 1"),
           lambda c: c.executemany("INSERT INTO p VALUES (?, ?, ?)",
                                   [(3, 1, "a"), (4, -4, "b")]),
           lambda c: c.execute("INSERT INTO p SELECT 5, -5, 'c'"),
           lambda c: c.execute("INSERT INTO p VALUES (1, 1, 'a') ON CONFLICT (id) "
                               "DO UPDATE SET n = -1")]
    for write in bad:
        assert _state(c, write) == "23514"
    with pytest.raises(errors.Error, match=CHECK):
        c.execute("INSERT INTO p VALUES (3, -1, 'x')")
    with pytest.raises(errors.Error, match="domain tag does not allow null values"):
        c.execute("INSERT INTO p VALUES (3, 1, NULL)")
    c.register("arrow", pa.table({"id": [7], "n": [7], "t": ["arr"]}))
    c.execute("INSERT INTO p SELECT * FROM arrow")
    c.register("frame", pd.DataFrame({"id": [8, 9], "n": [8, -9], "t": ["df", "df"]}))
    assert _state(c, lambda c: c.execute("INSERT INTO p SELECT * FROM frame")) == "23514"
    c.register("nulls", pa.table({"id": [8], "n": [8], "t": pa.array([None], pa.string())}))
    assert _state(c, lambda c: c.execute("INSERT INTO p SELECT * FROM nulls")) == "23502"
    good, worse = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("10\t10\tcopy\n")
    worse.write_text("11\t-11\tcopy\n")
    c.execute(f"COPY p FROM '{good}'")
    assert _state(c, lambda c: c.execute(f"COPY p FROM '{worse}'")) == "23514"
    assert c.execute("SELECT id, n, t FROM p ORDER BY id").fetchall() == \
        [(1, 10, "none"), (2, 20, "none"), (7, 7, "arr"), (10, 10, "copy")]


def test_casts_and_parameters():
    c = rustmemodb.connect()
    make(c)
    assert c.execute("SELECT 5::posint, CAST('abcdef' AS tag)").fetchall() == [(5, "abcd")]
    assert c.execute("SELECT ?::posint", (3,)).fetchall() == [(3,)]
    assert _state(c, lambda c: c.execute("SELECT ?::posint", (-3,))) == "23514"
    assert _state(c, lambda c: c.execute("SELECT NULL::tag")) == "23502"
    c.execute("PREPARE q(posint) AS SELECT $1 + 1")
    assert c.execute("EXECUTE q(4)").fetchall() == [(5,)]
    assert _state(c, lambda c: c.execute("EXECUTE q(0)")) == "23514"
    # values are the base type's everywhere else
    assert c.execute("SELECT sum(n), max(t) FROM p").fetchall() == [(30, "none")]


def test_alter_domain_rewrites_the_columns_and_checks_the_rows():
    c = rustmemodb.connect()
    make(c)
    with pytest.raises(errors.Error, match='column "n" of table "p" contains values that '
                                           'violate the new constraint'):
        c.execute("ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 15)")
    c.execute("ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 15) NOT VALID")
    assert _state(c, lambda c: c.execute("INSERT INTO p (id, n) VALUES (3, 16)")) == "23514"
    assert _state(c, lambda c: c.execute("ALTER DOMAIN posint VALIDATE CONSTRAINT small")) \
        == "23514"
    c.execute("ALTER DOMAIN posint DROP CONSTRAINT small")
    c.execute("INSERT INTO p (id, n) VALUES (3, 16)")
    c.execute("ALTER DOMAIN tag SET DEFAULT 'dflt'")
    c.execute("INSERT INTO p (id, n) VALUES (4, 1)")
    assert c.execute("SELECT t FROM p WHERE id = 4").fetchall() == [("dflt",)]
    c.execute("ALTER DOMAIN posint RENAME TO pos")
    with pytest.raises(errors.Error, match="value for domain pos violates check constraint "
                                           '"posint_check"'):
        c.execute("INSERT INTO p (id, n) VALUES (5, -1)")
    assert _state(c, lambda c: c.execute("DROP DOMAIN pos")) == "2BP01"
    c.execute("DROP TABLE p")
    c.execute("DROP DOMAIN pos, tag")
    assert c.execute("SELECT count(*) FROM pg_type WHERE typtype = 'd'").fetchall() == [(0,)]


def test_a_type_that_is_no_domain():
    c = rustmemodb.connect()
    c.execute("CREATE TYPE mood AS ENUM ('a')")
    for sql, message in (("DROP DOMAIN mood", '"mood" is not a domain'),
                         ("DROP DOMAIN IF EXISTS mood", '"mood" is not a domain'),
                         ("ALTER DOMAIN mood SET NOT NULL", "mood is not a domain")):
        with pytest.raises(errors.Error, match=message) as info:
            c.execute(sql)
        assert info.value.sqlstate == "42809"
    assert _state(c, lambda c: c.execute("ALTER DOMAIN nope DROP DEFAULT")) == "42704"


def test_create_domain_is_transactional():
    c = rustmemodb.connect()
    c.execute("BEGIN")
    c.execute("CREATE DOMAIN d1 AS text CHECK (VALUE <> '')")
    c.execute("CREATE TABLE x (v d1)")
    c.execute("ROLLBACK")
    assert c.execute("SELECT count(*) FROM pg_type WHERE typname = 'd1'").fetchall() == [(0,)]
    assert _state(c, lambda c: c.execute("SELECT 'a'::d1")) == "42704"


@pytest.mark.parametrize("checkpoint", [False, True])
def test_domains_are_durable(tmp_path, checkpoint):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    make(c)
    c.execute("ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 100)")
    c.execute("CREATE DOMAIN even AS posint CHECK (VALUE % 2 = 0)")
    c.execute("CREATE DOMAIN spare AS text")
    c.execute("DROP DOMAIN spare")
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("CREATE TABLE e (v even)")
    c.execute("INSERT INTO e VALUES (4)")
    c.close()
    c = rustmemodb.connect(path)
    assert c.execute("SELECT typname, typnotnull, typdefault FROM pg_type WHERE typtype = 'd' "
                     "ORDER BY 1").fetchall() == \
        [("even", False, None), ("posint", False, None), ("tag", True, "'none'")]
    assert c.execute("SELECT n, t FROM p ORDER BY id").fetchall() == [(10, "none"), (20, "none")]
    assert _state(c, lambda c: c.execute("INSERT INTO p (id, n) VALUES (3, 100)")) == "23514"
    assert _state(c, lambda c: c.execute("INSERT INTO e VALUES (3)")) == "23514"
    assert _state(c, lambda c: c.execute("INSERT INTO e VALUES (102)")) == "23514"
    assert _state(c, lambda c: c.execute("SELECT 'x'::spare")) == "42704"
    c.close()


def test_a_fork_keeps_its_domain_until_merged():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE base (id INTEGER PRIMARY KEY)")
    f = c.fork()
    f.execute("CREATE DOMAIN pct AS float CHECK (VALUE BETWEEN 0 AND 100)")
    f.execute("CREATE TABLE scores (id INTEGER PRIMARY KEY, s pct)")
    f.execute("INSERT INTO scores VALUES (1, 50)")
    assert _state(c, lambda c: c.execute("SELECT 1::pct")) == "42704"
    assert merge(f, c).applied
    assert c.execute("SELECT 1.5::pct").fetchall() == [(1.5,)]
    assert c.execute("SELECT * FROM scores").fetchall() == [(1, 50.0)]
    assert _state(c, lambda c: c.execute("INSERT INTO scores VALUES (2, 101)")) == "23514"
