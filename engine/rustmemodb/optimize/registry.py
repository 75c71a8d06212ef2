"""The ordered list of optimizer rules (the only place that decides their order)."""
from __future__ import annotations

from .decorrelate_scalar_subqueries import decorrelate_scalar_subqueries
from .decorrelate_subqueries import decorrelate_subqueries
from .extract_equi_keys import extract_equi_keys
from .optimize_lateral import optimize_lateral
from .optimize_subqueries import optimize_subqueries
from .order_distinct_on import order_distinct_on
from .prune_columns import prune_columns
from .pushdown_filters import pushdown_filters
from .pushdown_join_filters import pushdown_join_filters
from .reorder_joins import reorder_joins
from .use_index import use_index
from .use_index_join import use_index_join

RULES = (
    ("optimize_subqueries", optimize_subqueries),
    ("decorrelate_subqueries", decorrelate_subqueries),
    ("decorrelate_scalar_subqueries", decorrelate_scalar_subqueries),
    ("pushdown_join_filters", pushdown_join_filters),
    ("pushdown_filters", pushdown_filters),
    ("use_index", use_index),
    ("reorder_joins", reorder_joins),
    ("extract_equi_keys", extract_equi_keys),
    ("use_index_join", use_index_join),
    ("order_distinct_on", order_distinct_on),
    ("prune_columns", prune_columns),
    ("optimize_lateral", optimize_lateral),
)

# Rules that run the whole list on plans nested in the statement: called with the
# optimizer itself as a third argument (so no rule imports the package it is part of).
NESTED = frozenset({"optimize_subqueries", "optimize_lateral"})
