"""psql (libpq) scripted against the wire server."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

PSQL = shutil.which("psql") or "/usr/bin/psql"
pytestmark = pytest.mark.skipif(not os.path.exists(PSQL), reason="psql not installed")


def psql(login, *args, password=None, user=None, dbname="main"):
    password = password or login["password"]
    user = user or login["user"]
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10")
    env.pop("PGSERVICE", None)
    return subprocess.run([PSQL, "-X", "-h", "127.0.0.1", "-p", str(login["port"]), "-U", user,
                           "-d", dbname, "-v", "ON_ERROR_STOP=1", *args],
                          capture_output=True, text=True, env=env, timeout=60)


def test_select_one(login):
    out = psql(login, "-At", "-c", "SELECT 1")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "1\n"


def test_script_with_tags_and_table_output(login):
    out = psql(login, "-c", "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT)",
               "-c", "INSERT INTO p VALUES (1, 'ada'), (2, NULL)",
               "-c", "UPDATE p SET name = 'bob' WHERE id = 2",
               "-c", "SELECT id, name FROM p ORDER BY id")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ("CREATE TABLE\nINSERT 0 2\nUPDATE 1\n"
                          " id | name \n----+------\n  1 | ada\n  2 | bob\n(2 rows)\n\n")


def test_error_reported_with_sqlstate(login):
    out = psql(login, "-v", "VERBOSITY=verbose", "-c", "SELECT * FROM nope")
    assert out.returncode != 0
    assert "ERROR:  42P01: relation \"nope\" does not exist" in out.stderr


def test_wrong_password_and_unknown_user_look_alike(login):
    bad = psql(login, "-c", "SELECT 1", password="wrong")
    ghost = psql(login, "-c", "SELECT 1", user="ghost")
    assert bad.returncode == ghost.returncode == 2
    assert 'password authentication failed for user "admin"' in bad.stderr
    assert 'password authentication failed for user "ghost"' in ghost.stderr


def test_transaction_block(login):
    out = psql(login, "-At", "-c", "CREATE TABLE q (x INTEGER)",
               "-c", "BEGIN; INSERT INTO q VALUES (1); ROLLBACK",
               "-c", "BEGIN; INSERT INTO q VALUES (2); COMMIT",
               "-c", "SELECT x FROM q")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "2"


@pytest.mark.parametrize("method", ["md5", "password"])
def test_md5_and_cleartext_password_methods(engine, method):
    import rustmemodb
    with rustmemodb.serve(engine, users={"old": "pw"}, auth=method) as srv:
        login = {"port": srv.port, "user": "old", "password": "pw"}
        ok = psql(login, "-At", "-c", "SELECT 1")
        assert ok.returncode == 0 and ok.stdout == "1\n", ok.stderr
        bad = psql(login, "-c", "SELECT 1", password="nope")
        ghost = psql(login, "-c", "SELECT 1", user="ghost")
        assert 'password authentication failed for user "old"' in bad.stderr
        assert 'password authentication failed for user "ghost"' in ghost.stderr


def test_backslash_dt_lists_tables(login, engine):
    engine.execute("CREATE TABLE b (id INTEGER PRIMARY KEY)")
    engine.execute("CREATE TABLE a (x TEXT)")
    engine.commit()
    out = psql(login, "-c", "\\dt")
    assert out.returncode == 0, out.stderr
    assert out.stdout == ("       List of relations\n"
                          " Schema | Name | Type  | Owner \n"
                          "--------+------+-------+-------\n"
                          " public | a    | table | admin\n"
                          " public | b    | table | admin\n"
                          "(2 rows)\n\n")


def test_describe_lists_expression_partial_and_covering_indexes(login, engine):
    """``\\d u``'s index lines as psql prints them against PostgreSQL 15."""
    engine.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT, deleted BOOLEAN, "
                   "a INTEGER, b INTEGER)")
    engine.execute("CREATE UNIQUE INDEX u_lower ON u (lower(email))")
    engine.execute("CREATE UNIQUE INDEX u_live ON u (email) WHERE NOT deleted")
    engine.execute("CREATE INDEX u_cover ON u (email) INCLUDE (id)")
    engine.execute("CREATE INDEX u_mix ON u (a, (a + b), lower(email))")
    engine.commit()
    out = psql(login, "-c", "\\d u")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("Indexes:\n")[1] == (
        '    "u_pkey" PRIMARY KEY, btree (id)\n'
        '    "u_cover" btree (email) INCLUDE (id)\n'
        '    "u_live" UNIQUE, btree (email) WHERE NOT deleted\n'
        '    "u_lower" UNIQUE, btree (lower(email))\n'
        '    "u_mix" btree (a, (a + b), lower(email))\n\n')



def test_describe_shows_nulls_not_distinct_and_set_default(login, engine):
    """``\\d sc``'s footer as psql prints it against PostgreSQL 15: NULLS NOT DISTINCT
    keys and the SET DEFAULT / SET NULL (col) actions of foreign keys."""
    engine.execute("CREATE TABLE sp (id INTEGER PRIMARY KEY)")
    engine.execute("CREATE TABLE sp2 (x INTEGER, y INTEGER, PRIMARY KEY (x, y))")
    engine.execute("CREATE TABLE sc (id INTEGER PRIMARY KEY, pid INTEGER DEFAULT 0 REFERENCES sp "
                   "ON DELETE SET DEFAULT ON UPDATE SET DEFAULT, a INTEGER UNIQUE NULLS NOT "
                   "DISTINCT, b INTEGER, FOREIGN KEY (pid, b) REFERENCES sp2 (x, y) "
                   "ON DELETE SET NULL (b))")
    engine.execute("CREATE UNIQUE INDEX sc_b ON sc (b) NULLS NOT DISTINCT")
    engine.commit()
    out = psql(login, "-c", "\\d sc")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("Indexes:\n")[1] == (
        '    "sc_pkey" PRIMARY KEY, btree (id)\n'
        '    "sc_a_key" UNIQUE CONSTRAINT, btree (a) NULLS NOT DISTINCT\n'
        '    "sc_b" UNIQUE, btree (b) NULLS NOT DISTINCT\n'
        'Foreign-key constraints:\n'
        '    "sc_pid_b_fkey" FOREIGN KEY (pid, b) REFERENCES sp2(x, y) ON DELETE SET NULL (b)\n'
        '    "sc_pid_fkey" FOREIGN KEY (pid) REFERENCES sp(id) ON UPDATE SET DEFAULT '
        'ON DELETE SET DEFAULT\n\n')


@pytest.mark.parametrize("command, expected", [
    ("\\d b", ['Table "public.b"', " id     | integer |           | not null | ", "Indexes:",
                '"b_pkey" PRIMARY KEY, btree (id)', "Referenced by:",
                'CONSTRAINT "f_bid_fkey" FOREIGN KEY (bid) REFERENCES b(id)']),
    ("\\d f", ["Foreign-key constraints:", '"f_bid_fkey" FOREIGN KEY (bid) REFERENCES b(id)']),
    ("\\dn", ["public"]),
    ("\\du", ["admin", "Superuser"]),
    ("\\l", [" main ", "UTF8"]),
    ("\\di", ["b_pkey", "index"]),
    ("\\dv", ["v"]),
    ("\\dm", [" mv ", "materialized view"]),
    ("\\d mv", ['Materialized view "public.mv"', " n      | bigint "]),
    ("\\d+ v", ['View "public.v"', " id     | integer |", "View definition:", "FROM b"]),
    ("\\d+ mv", ["View definition:", "FROM b"]),
    ("\\ds", [" b_seq ", "sequence"]),
    ("\\d b_seq", ['Sequence "public.b_seq"',
                   "  Type   | Start | Minimum | Maximum | Increment | Cycles? | Cache ",
                   " integer |     1 |       1 |    1000 |         5 | yes     |     1",
                   "Owned by: public.b.id"]),
    ("\\df add1", [" add1 ", "bigint", "func"]),
    # kinds of object that never exist here: each lists nothing, as psql words it
    ("\\dx", ["List of installed extensions"]),
    ("\\dc", ["List of conversions"]),
    ("\\dy", ["List of event triggers"]),
    ("\\des", ["List of foreign servers"]),
    ("\\dew", ["List of foreign-data wrappers"]),
    ("\\dF", ["List of text search configurations"]),
    ("\\do", ["List of operators"]),
    ("\\dC", ["List of casts"]),
    ("\\dAo", ["List of operators of operator families"]),    # pg_amop, regoperator
    ("\\dAp", ["List of support functions of operator families"]),    # pg_amproc
    ("\\dAf", ["List of operator families"]),    # pg_catalog.string_agg(x, ', ')
    ("\\dFd", ["List of text search dictionaries"]),
    ("\\dFp", ["List of text search parsers"]),
    ("\\dFt", ["List of text search templates"]),
    ("\\db", ["pg_default"]),
    ("\\dd", ["Object descriptions"]),          # joins on the tableoid system column
    ("\\dL", ["List of languages"]),
    ("\\dT", [" public | mood "]),
    ("\\dT+ mood", [" mood ", " sad "]),
    ("\\sf add1", ["CREATE OR REPLACE FUNCTION public.add1(x bigint)", " RETURNS bigint",
                    "RETURN (x + 1)"]),
])
def test_describe_commands(login, engine, command, expected):
    engine.execute("CREATE TABLE b (id INTEGER PRIMARY KEY)")
    engine.execute("CREATE TABLE f (id INTEGER PRIMARY KEY, bid INTEGER REFERENCES b(id))")
    engine.execute("CREATE VIEW v AS SELECT id FROM b")
    engine.execute("CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM b")
    engine.execute("CREATE SEQUENCE b_seq AS integer INCREMENT 5 MAXVALUE 1000 CYCLE "
                   "OWNED BY b.id")
    engine.execute("CREATE FUNCTION add1(x integer) RETURNS integer LANGUAGE sql RETURN x + 1")
    engine.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
    engine.commit()
    out = psql(login, "-c", command)
    assert out.returncode == 0, out.stderr
    for text in expected:
        assert text in out.stdout, out.stdout


def test_describe_shows_text_search_columns(login):
    out = psql(login, "-c", "CREATE TABLE fts (id INTEGER PRIMARY KEY, body TEXT, "
                            "tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) "
                            "STORED, q tsquery)",
               "-c", "INSERT INTO fts (id, body, q) VALUES (1, 'Quick foxes', 'fox & !dog')",
               "-c", r"\d fts", "-At", "-c", "SELECT tsv, q, tsv @@ q FROM fts")
    assert out.returncode == 0, out.stderr
    lines = [line.split("|")[:2] for line in out.stdout.splitlines() if "|" in line]
    assert any(a.strip() == "tsv" and b.strip() == "tsvector" for a, b in lines), out.stdout
    assert any(a.strip() == "q" and b.strip() == "tsquery" for a, b in lines), out.stdout
    assert out.stdout.splitlines()[-1] == "'fox':2 'quick':1|'fox' & !'dog'|t"


def test_backslash_d_names_timetz(login, engine):
    """``\\d`` of timetz columns as psql prints it against PostgreSQL 15."""
    engine.execute("CREATE TABLE tz (id bigint, t timetz, p time(3) with time zone)")
    engine.commit()
    out = psql(login, "-c", "\\d tz")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[3:6] == [
        " id     | bigint                 |           |          | ",
        " t      | time with time zone    |           |          | ",
        " p      | time(3) with time zone |           |          | "]
