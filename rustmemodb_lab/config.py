"""User settings of the lab, as one traitlets ``Configurable``.

The class is named ``RustmemodbLab`` because that is the name people type:
``%config RustmemodbLab.displaylimit = 50`` in a notebook, or
``c.RustmemodbLab.autopandas = True`` in ``ipython_config.py``. IPython's
``%config`` magic finds it through ``shell.configurables``, where ``magic.py``
registers the instance. Every setting is read at the moment a cell runs, so a
change applies to the next cell without reloading anything.

This module holds data only: the code that acts on a setting lives next to the
feature (``resultset.py`` for ``displaylimit``, ``progress.py`` for
``progress_after``, ``branches.py`` for ``undo_depth``).
"""

from __future__ import annotations

from traitlets import Bool, Float, Int, Unicode
from traitlets.config import Configurable


class RustmemodbLab(Configurable):
    """Settings of the ``%sql`` magics (``%config RustmemodbLab`` lists them)."""

    displaylimit = Int(
        20,
        help="Rows shown in a result table; the total is always reported. "
        "0 shows every row.",
    ).tag(config=True)

    autopandas = Bool(
        False,
        help="Return pandas DataFrames from %sql instead of result objects.",
    ).tag(config=True)

    feedback = Int(
        1,
        help="0: show nothing for statements without rows and branch commands; "
        "1: one status line (e.g. 'INSERT · 3 rows'); 2: also timings of every "
        "statement of a cell.",
    ).tag(config=True)

    progress_after = Float(
        1.0,
        help="Seconds a statement runs before a progress line appears "
        "(negative disables it).",
    ).tag(config=True)

    undo_depth = Int(
        20,
        help="Cells remembered per branch for %sql --undo. Each entry keeps an "
        "old database root alive, so memory grows with changed data.",
    ).tag(config=True)

    default_branch = Unicode(
        "main",
        help="Name of the first branch of every connection.",
    ).tag(config=True)
