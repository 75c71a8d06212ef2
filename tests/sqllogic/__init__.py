"""In-project sqllogictest runner (DuckDB-flavoured ``.test`` format).

The runner is split into small modules:

* :mod:`.records`  -- the record types a ``.test`` file is made of;
* :mod:`.parser`   -- text of a ``.test`` file -> records;
* :mod:`.render`   -- Python values from a DB-API cursor -> PostgreSQL-like text;
* :mod:`.compare`  -- sort modes and result comparison, readable mismatch reports;
* :mod:`.executor` -- runs records against any DB-API backend, collects failures;
* :mod:`.engine`   -- the backend for ``rustmemodb`` (the database under test);
* :mod:`.pgcheck`  -- developer tool: verifies the files' expectations on a real
  PostgreSQL (``python -m tests.sqllogic.pgcheck FILE...``).

``python -m tests.sqllogic FILE...`` runs files against rustmemodb and prints failures.
The pytest entry point is ``tests/test_sql_logic.py``.
"""

from .compare import compare_results
from .executor import Failure, FileReport, run_file, run_test_file
from .parser import ParseError, parse_file, parse_text
from .records import Halt, Mode, Query, Statement, TestFile
from .render import render_value

__all__ = [
    "Failure",
    "FileReport",
    "Halt",
    "Mode",
    "ParseError",
    "Query",
    "Statement",
    "TestFile",
    "compare_results",
    "parse_file",
    "parse_text",
    "render_value",
    "run_file",
    "run_test_file",
]
