"""Registers every built-in function family into a registry."""
from __future__ import annotations

from . import arith, compare, misc, string


def register_all(reg) -> None:
    for family in (arith, compare, string, misc):
        family.register(reg)
