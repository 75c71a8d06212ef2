"""Untyped parameters take their type from context, as in PostgreSQL.

A Python value bound to ``$1``/``?``/``:name`` reaches the binder without a SQL
type. Operators give it the other operand's type (the column's type in a
comparison), INSERT/UPDATE the target column's, and a function call the type of
an overload that accepts it, trying text first (``upper(:s)`` is text). Also:
placeholders written without spaces (``(?,?)``, ``$1,$2``) parse.
"""
import datetime as dt

import pytest

import rustmemodb


@pytest.fixture()
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (a INTEGER, b TEXT, f FLOAT, d DATE, ts TIMESTAMP)")
    c.execute("INSERT INTO t VALUES (1, 'x', 1.5, '2024-01-01', '2024-01-01 05:00:00')")
    return c


def one(conn, sql, params):
    cur = conn.execute(sql, params)
    return cur.fetchall(), [d[1] for d in cur.description]


@pytest.mark.parametrize("sql, params", [
    ("SELECT upper($1)", ("abc",)),
    ("SELECT upper(?)", ("abc",)),
    ("SELECT upper(:s)", {"s": "abc"}),
])
def test_str_parameter_in_a_text_function_is_text(conn, sql, params):
    assert one(conn, sql, params) == ([("ABC",)], ["TEXT"])


def test_function_calls_type_each_untyped_parameter(conn):
    assert one(conn, "SELECT length(?)", ("abcd",))[0] == [(4,)]
    assert one(conn, "SELECT split_part(?, ?, ?)", ("a,b,c", ",", 2))[0] == [("b",)]
    assert one(conn, "SELECT replace($1, 'a', 'b')", ("aaa",))[0] == [("bbb",)]
    assert one(conn, "SELECT substring(:s, 2)", {"s": "abc"})[0] == [("bc",)]
    assert one(conn, "SELECT concat(:s, 2)", {"s": "a"})[0] == [("a2",)]
    assert one(conn, "SELECT lower(:s) = b FROM t", {"s": "X"})[0] == [(True,)]
    assert one(conn, "SELECT date_trunc('day', ?)", (dt.datetime(2024, 3, 4, 5),))[0] == \
        [(dt.datetime(2024, 3, 4),)]
    # numeric functions: the numeric category's preferred type (double precision)
    assert one(conn, "SELECT abs(?)", (-3,)) == ([(3.0,)], ["FLOAT"])


def test_parameters_take_the_column_type_in_comparisons(conn):
    assert one(conn, "SELECT a FROM t WHERE d = ?", ("2024-01-01",))[0] == [(1,)]
    assert one(conn, "SELECT a FROM t WHERE d = ?", (dt.date(2024, 1, 1),))[0] == [(1,)]
    assert one(conn, "SELECT a FROM t WHERE ts > :t", {"t": "2023-12-31 00:00:00"})[0] == [(1,)]
    assert one(conn, "SELECT a FROM t WHERE f > ?", (1,))[0] == [(1,)]
    assert one(conn, "SELECT a FROM t WHERE b LIKE ?", ("x%",))[0] == [(1,)]


def test_parameters_take_the_target_column_type_in_insert_and_update(conn):
    conn.execute("INSERT INTO t (a, d, ts) VALUES (?,?,?)", (2, "2024-02-02", "2024-02-02 01:02:03"))
    assert one(conn, "SELECT d, ts FROM t WHERE a = 2", None)[0] == \
        [(dt.date(2024, 2, 2), dt.datetime(2024, 2, 2, 1, 2, 3))]
    conn.execute("UPDATE t SET b = upper(:v) WHERE a = :k", {"v": "q", "k": 2})
    assert one(conn, "SELECT b FROM t WHERE a = 2", None)[0] == [("Q",)]


def test_a_wrong_python_type_is_42804_not_a_missing_function(conn):
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT upper(?)", (5,))
    assert info.value.sqlstate == "42804"
    assert "$1" in str(info.value)


@pytest.mark.parametrize("sql, params", [
    ("INSERT INTO t (a, b) VALUES (?,?)", (7, "q")),
    ("INSERT INTO t (a, b) VALUES ($1,$2)", (7, "q")),
    ("INSERT INTO t (a, b) VALUES (:a,:b)", {"a": 7, "b": "q"}),
])
def test_placeholders_without_spaces_parse(conn, sql, params):
    conn.execute(sql, params)
    assert one(conn, "SELECT b FROM t WHERE a=?", (7,))[0] == [("q",)]
    assert one(conn, "SELECT a+?,a||?||? FROM t WHERE a=?", (1, "x", "y", 7))[0] == [(8, "7xy")]


@pytest.mark.parametrize("sql, params", [
    ("SELECT * FROM t WHERE b = :region AND nope = 1", {"region": "x"}),
    ("SELECT * FROM t WHERE b=:region AND a=:n AND nope=1", {"region": "x", "n": 1}),
    ("SELECT * FROM t WHERE b = ? AND a = ? AND nope = 1", ("x", 1)),
    ("SELECT * FROM t WHERE a = $1 + nope", (1,)),
])
def test_error_positions_point_into_the_text_as_written(conn, sql, params):
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute(sql, params)
    assert info.value.sqlstate == "42703"
    assert sql[info.value.position:].startswith("nope")


def test_placeholder_rewrite_maps_positions_back():
    from rustmemodb.sql.params import normalize
    ph = normalize("SELECT :long_name,:x FROM t")
    assert ph.sql == "SELECT $1 ,$2 FROM t"
    for original in ("SELECT", "FROM t"):
        assert ph.original_position(ph.sql.index(original)) == \
            "SELECT :long_name,:x FROM t".index(original)
    assert ph.original_position(ph.sql.index("$2")) == "SELECT :long_name,:x FROM t".index(":x")


def test_an_explicit_cast_reads_a_str_parameter_as_that_type(conn):
    assert one(conn, "SELECT ?::int + 1", ("5",))[0] == [(6,)]
    assert one(conn, "SELECT CAST(:v AS FLOAT) * 2", {"v": "1.5"})[0] == [(3.0,)]
    assert one(conn, "SELECT ?::boolean", ("yes",))[0] == [(True,)]
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT ?::int", ("abc",))
    assert info.value.sqlstate == "22P02"
    # without a cast the strictness stays: a str is never silently a number
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute("SELECT ? + 1", ("5",))
    assert info.value.sqlstate == "42804"


def test_insert_select_of_parameters_takes_the_target_column_types(conn):
    conn.execute("INSERT INTO t (a, b, d) SELECT ?, ?, ?", (3, "z", "2024-03-01"))
    assert one(conn, "SELECT b, d FROM t WHERE a = 3", None)[0] == [("z", dt.date(2024, 3, 1))]


def test_untyped_parameter_under_a_json_operator_is_json(conn):
    assert one(conn, "SELECT ? ->> 'a'", ('{"a": 1}',))[0] == [("1",)]
    assert one(conn, "SELECT :doc -> 'a' ->> 'b'", {"doc": {"a": {"b": 2}}})[0] == [("2",)]


def test_untyped_parameter_in_to_char_is_a_timestamp(conn):
    assert one(conn, "SELECT to_char(?, 'YYYY-MM')", (dt.date(2024, 5, 5),))[0] == [("2024-05",)]


def test_untyped_parameters_in_extract_and_coalesce(conn):
    assert one(conn, "SELECT extract(year FROM ?)", (dt.datetime(2024, 5, 5),))[0] == [(2024,)]
    assert one(conn, "SELECT date_part('day', ?)", (dt.date(2024, 1, 9),))[0] == [(9,)]
    # both untyped: text, as PostgreSQL resolves unknown in COALESCE (was an internal error)
    assert one(conn, "SELECT coalesce(?, ?)", (None, "x")) == ([("x",)], ["TEXT"])
    assert one(conn, "SELECT coalesce(?, 5)", (None,))[0] == [(5,)]


def test_jsonb_key_operators_are_not_placeholders(conn):
    # ?| and ?& are jsonb operators; ?|| is a placeholder followed by ||
    row = conn.execute("SELECT '{\"a\": 1}'::jsonb ?| ARRAY['a', ?], "
                       "'{\"a\": 1}'::jsonb ?& ARRAY['a', ?], ?||'x'",
                       ("zz", "zz", "p")).fetchall()
    assert row == [(True, False, "px")]


def test_jsonb_question_mark_after_an_operand_is_the_operator(conn):
    conn.execute("CREATE TABLE docs (id INTEGER, doc JSONB)")
    conn.execute("""INSERT INTO docs VALUES (1, '{"a": 1}'), (2, '{"b": 2}')""")
    # doc ? 'a' and doc ? ? : the first ? of each pair is the operator, the last a slot
    rows = conn.execute("SELECT id, doc ? 'a', \"doc\" ? ?, (doc) ? ?, docs.doc ? ? FROM docs "
                        "WHERE doc ? ? OR id = ? ORDER BY id", ("b", "a", "b", "a", 2)).fetchall()
    assert rows == [(1, True, False, True, False), (2, False, True, False, True)]
    assert conn.execute("SELECT '[\"x\"]'::jsonb ? 'x', ?::int + 1", (1,)).fetchall() == \
        [(True, 2)]


@pytest.mark.parametrize("sql, slots", [
    ("SELECT ?", 1),
    ("SELECT * FROM t WHERE a = ? AND b IN (?, ?) LIMIT ? OFFSET ?", 5),
    ("SELECT CASE WHEN ? THEN ? ELSE ? END", 3),
    ("SELECT a FROM t WHERE b BETWEEN ? AND ? OR c LIKE ?", 3),
    ("SELECT ARRAY[?, ?], ?::int, (?)", 4),
    ("UPDATE t SET a = ? WHERE b = ? RETURNING ?", 3),
    ("SELECT doc ? 'k', doc->'o' ? 'k', '{}'::jsonb ? 'k', \"d\" ? 'k', f(x) ? 'k'", 0),
    ("SELECT json ? 'k', settings ? 'k' FROM t", 0),     # columns named like keywords
    ("SELECT coalesce(?, 'a'), ? || 'x'", 2),
])
def test_which_question_marks_are_placeholders(sql, slots):
    from rustmemodb.sql.params import normalize
    assert normalize(sql).count == slots
