"""Text form of bound expressions, for EXPLAIN and error messages."""
from __future__ import annotations

_INFIX = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "eq": "=", "ne": "<>",
    "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "AND", "or": "OR", "concat": "||",
    "like": "LIKE", "ilike": "ILIKE", "is_distinct": "IS DISTINCT FROM",
    "is_not_distinct": "IS NOT DISTINCT FROM", "json_get": "->", "json_get_text": "->>",
}


def format_call(call) -> str:
    args = call.args
    if call.fn in _INFIX and len(args) == 2:
        return f"({args[0]} {_INFIX[call.fn]} {args[1]})"
    if call.fn == "not":
        return f"(NOT {args[0]})"
    if call.fn == "neg":
        return f"(-{args[0]})"
    if call.fn == "is_null":
        return f"({args[0]} IS NULL)"
    if call.fn == "is_not_null":
        return f"({args[0]} IS NOT NULL)"
    return f"{call.fn}({', '.join(map(str, args))})"
