"""The statement binder's hooks for query features, one module per feature.

``StatementBinder`` inherits these; the SELECT and expression binders call them
when they meet a WITH clause, a set operation, DISTINCT ON, a window function,
a subquery, an ordered-set/extended aggregate or a JSON operator. Each hook
only forwards to its module so the features stay in their own files.
"""
from __future__ import annotations


class QueryHooks:
    # ---- subqueries (bind_subquery.py) ------------------------------------------------
    def bind_subquery(self, binder, node):
        from .bind_subquery import bind_scalar_subquery
        return bind_scalar_subquery(self, binder, node)

    def bind_exists(self, binder, node):
        from .bind_subquery import bind_exists
        return bind_exists(self, binder, node)

    def bind_in_subquery(self, binder, node):
        from .bind_subquery import bind_in_subquery
        return bind_in_subquery(self, binder, node)

    def bind_quantified(self, binder, node):
        from .bind_subquery import bind_quantified
        return bind_quantified(self, binder, node)

    # ---- WITH (bind_cte.py) ---------------------------------------------------------------
    def bind_with(self, node, with_, parent):
        from .bind_cte import bind_with
        return bind_with(self, node, with_, parent)

    def cte_plan(self, cte):
        from .bind_cte import cte_plan
        return cte_plan(self, cte)

    # ---- UNION / INTERSECT / EXCEPT (bind_setop.py) ----------------------------------------
    def bind_set_operation(self, node, parent):
        from .bind_setop import bind_set_operation
        return bind_set_operation(self, node, parent)

    # ---- window functions and DISTINCT ON (bind_window.py) ---------------------------------
    def bind_window(self, binder, node):
        from .bind_window import bind_window_call
        return bind_window_call(self, binder, node)

    def bind_windows(self, plan, select_exprs, order_specs):
        from .bind_window import bind_windows
        return bind_windows(self, plan, select_exprs, order_specs)

    def bind_distinct_on(self, plan, on, names, select_exprs):
        from .bind_window import bind_distinct_on
        return bind_distinct_on(self, plan, on, names, select_exprs)
