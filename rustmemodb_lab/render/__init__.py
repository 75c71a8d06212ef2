"""HTML (and plain-text) renderers for everything the lab displays.

Each module turns one kind of lab object into markup: ``table`` (result
tables), ``plan`` (EXPLAIN trees), ``diff`` (branch diff grids), ``merge``
(merge conflicts), ``side_by_side`` (``--on a,b``), ``error`` (SQL errors with
a caret). They return strings and never touch IPython or the engine, so they
are easy to test and reuse (exported HTML, VS Code and JupyterLab all receive
the same markup).

All markup uses inline styles plus JupyterLab's CSS variables with light
fallbacks, because notebook front-ends differ in what ``<style>`` blocks they
keep; the one shared palette lives in ``html.py``.
"""
