"""Settings PostgreSQL takes that change how values print or read: where this engine
builds only one way (intervals in PostgreSQL's default style, bytea in hex, UTF8 text,
standard-conforming strings, ISO dates), another value is 0A000 and changes nothing,
never accepted and then ignored (a client would believe output follows it)."""
from __future__ import annotations

import pytest

import rustmemodb


@pytest.mark.parametrize("sql, name, kept", [
    ("SET intervalstyle = 'iso_8601'", "intervalstyle", "postgres"),
    ("SET intervalstyle = 'sql_standard'", "intervalstyle", "postgres"),
    ("SET bytea_output = 'escape'", "bytea_output", "hex"),
    ("SET client_encoding = 'LATIN1'", "client_encoding", "UTF8"),
    ("SET standard_conforming_strings = off", "standard_conforming_strings", "on"),
    ("SET datestyle = 'SQL, DMY'", "datestyle", "ISO, MDY"),
])
def test_unhonoured_values_are_refused_and_change_nothing(sql, name, kept):
    conn = rustmemodb.connect()
    with pytest.raises(rustmemodb.Error) as info:
        conn.execute(sql)
    assert info.value.sqlstate == "0A000"
    assert conn.execute(f"SHOW {name}").fetchone()[0] == kept
    assert conn.execute("SELECT interval '1 day 2 hours'::text, 'ab'::bytea::text, "
                        "'a\\b'").fetchone() == ("1 day 02:00:00", "\\x6162", "a\\b")
