"""Differential tests: random tables and queries run on rustmemodb and DuckDB.

* :mod:`.sqlgen`   -- hypothesis strategies for small tables (INTEGER/FLOAT/TEXT with
  NULLs) and queries, rendered to SQL for either database;
* :mod:`.backends` -- run a case on rustmemodb / DuckDB (/ PostgreSQL), normalise and
  compare the results;
* ``test_differential.py`` -- the tests (every feature, GROUP BY, joins, set
  operations, subqueries ..., must agree: nothing is skipped or expected to fail),
  ``test_sqlgen.py`` -- engine-free checks of the generator.

The generated SQL keeps to constructs where DuckDB and PostgreSQL agree (explicit
NULLS FIRST/LAST, no integer ``/``, no LIKE escapes, small exact values ...), so
DuckDB stands in for PostgreSQL as the oracle, and ``test_sqlgen.py`` checks that
DuckDB and PostgreSQL (the session's throwaway server, ``tests/pg_server.py``) agree
on generated cases; ``test_pg_features.py`` compares rustmemodb with PostgreSQL
directly on the SQL features that DuckDB spells differently.
"""
