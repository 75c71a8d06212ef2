"""tsvector and tsquery in PostgreSQL's binary wire format (tsvectorsend, tsquerysend).

A client that asks for binary results gets what PostgreSQL sends: a tsvector as its
lexeme count, then each lexeme NUL-terminated with its positions (weight in the top two
bits); a tsquery as its item count, then the items in PostgreSQL's stored order (an
operator before its right operand, then its left).
"""
from __future__ import annotations

import struct

from . import tsquery as Q, tsvector as V

_OPERATORS = {"not": 1, "and": 2, "or": 3, "phrase": 4}


def tsvector_send(text: str) -> bytes:
    vec = V.parse(text)
    out = [struct.pack("!i", len(vec))]
    for lexeme, positions in vec:
        out.append(lexeme.encode("utf-8") + b"\x00")
        out.append(struct.pack("!H", len(positions)))
        for pos, weight in positions:
            out.append(struct.pack("!H", (weight << 14) | pos))
    return b"".join(out)


def _items(node, out: list) -> None:
    kind = node[0]
    if kind == "val":
        _, lexeme, weights, prefix = node
        mask = sum(1 << w for w in weights)
        out.append(struct.pack("!bbb", 1, mask, 1 if prefix else 0) +
                   lexeme.encode("utf-8") + b"\x00")
        return
    if kind == "not":
        out.append(struct.pack("!bb", 2, _OPERATORS["not"]))
        _items(node[1], out)
        return
    head = struct.pack("!bb", 2, _OPERATORS[kind])
    if kind == "phrase":
        head += struct.pack("!h", node[3])
    out.append(head)
    _items(node[2], out)
    _items(node[1], out)


def tsquery_send(text: str) -> bytes:
    tree = Q.parse(text)
    items: list = []
    if tree is not None:
        _items(tree, items)
    return struct.pack("!i", len(items)) + b"".join(items)
