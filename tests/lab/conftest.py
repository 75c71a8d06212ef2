"""Fixtures for the lab tests: a real IPython shell with the extension loaded.

``ip`` is IPython's test shell (``globalipapp.start_ipython``) with a fresh
``rustmemodb_lab`` session per test, so connections, branches and settings
never leak between tests. ``cell`` runs a cell the way a notebook does and
returns what a person would see: the value, the displayed outputs, the
printed text (tracebacks included) and the exception, if any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output



@pytest.fixture(scope="session")
def shell():
    ip = start_ipython()
    # A terminal shell only formats text/plain; a kernel formats everything.
    ip.display_formatter.active_types = list(ip.display_formatter.format_types)
    return ip


@pytest.fixture
def ip(shell):
    import rustmemodb_lab

    rustmemodb_lab.load_ipython_extension(shell)
    names_before = set(shell.user_ns)
    yield shell
    rustmemodb_lab.unload_ipython_extension(shell)
    shell.config.pop("RustmemodbLab", None)  # %config writes through to the shell's config
    for name in set(shell.user_ns) - names_before:
        shell.user_ns.pop(name, None)


@dataclass
class Outcome:
    """What running one cell produced."""

    value: Any
    error: BaseException | None
    outputs: list = field(default_factory=list)
    stdout: str = ""

    @property
    def displayed(self) -> list[dict[str, Any]]:
        """MIME bundles passed to display() during the cell."""
        return [o.data for o in self.outputs]

    def html(self) -> str:
        """The returned value's HTML (what JupyterLab would render)."""
        bundle = self.value._repr_mimebundle_() if hasattr(self.value, "_repr_mimebundle_") else {}
        return bundle.get("text/html") or self.value._repr_html_()


@pytest.fixture
def cell(ip):
    def run(source: str, *, fails: bool = False) -> Outcome:
        with capture_output() as cap:
            result = ip.run_cell(source, store_history=False)
        error = result.error_in_exec or result.error_before_exec
        outcome = Outcome(result.result, error, cap.outputs, cap.stdout + cap.stderr)
        if fails and error is None:
            pytest.fail(f"cell was expected to fail:\n{source}")
        if not fails and error is not None:
            raise AssertionError(f"cell failed:\n{source}\n{outcome.stdout}") from error
        return outcome

    return run


@pytest.fixture
def session(ip):
    """The lab session behind the magics (connections, branches)."""
    return ip._rustmemodb_lab_session


@pytest.fixture
def trades(cell):
    """A small trades table on the default connection's main branch."""
    cell(
        "%%sql\n"
        "CREATE TABLE trades (id INTEGER PRIMARY KEY, sym TEXT NOT NULL, px FLOAT, qty INTEGER);\n"
        "INSERT INTO trades VALUES (1, 'ACME', 10.5, 100), (2, 'ACME', 11.0, 50),\n"
        "  (3, 'GLOBEX', 20.0, 10), (4, 'INITECH', 5.25, 200), (5, 'GLOBEX', 21.0, 30)"
    )
