"""Binding: sqlglot AST + catalog snapshot -> typed logical plans.

One module per statement family (``bind_select``, ``bind_insert``, ...), a shared
expression binder (``bind_expr``), name resolution (``scope``) and the type rules
for implicit coercion (``coerce``). Strict type checks happen here, so type
errors carry a position and never reach execution.
"""
