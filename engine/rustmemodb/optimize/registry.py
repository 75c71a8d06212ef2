"""The ordered list of optimizer rules (the only place that decides their order)."""
from __future__ import annotations

from .decorrelate_subqueries import decorrelate_subqueries
from .extract_equi_keys import extract_equi_keys
from .pushdown_filters import pushdown_filters
from .pushdown_join_filters import pushdown_join_filters

RULES = (
    ("decorrelate_subqueries", decorrelate_subqueries),
    ("pushdown_join_filters", pushdown_join_filters),
    ("pushdown_filters", pushdown_filters),
    ("extract_equi_keys", extract_equi_keys),
)
