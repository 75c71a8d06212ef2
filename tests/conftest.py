"""Root test configuration: kept minimal on purpose (suites own their fixtures).

The repo root is on sys.path (pyproject `pythonpath`), so tests import the unpackaged
`datasets` and `bench` folders directly.
"""

import os

# jupysql (a test/bench dependency) must not phone home for telemetry or version checks.
os.environ.setdefault("PLOOMBER_STATS_ENABLED", "false")
os.environ.setdefault("PLOOMBER_VERSION_CHECK_DISABLED", "true")
