"""The ordered list of optimizer rules (the only place that decides their order)."""
from __future__ import annotations

from .pushdown_filters import pushdown_filters

RULES = (
    ("pushdown_filters", pushdown_filters),
)
