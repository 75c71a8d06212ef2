"""The error a statement raises, for tests that check its SQLSTATE (shared by the role,
privilege and view tests)."""
from __future__ import annotations

import pytest

import rustmemodb


def raised(fn, *args) -> rustmemodb.Error:
    """The rustmemodb.Error ``fn(*args)`` raises (the test fails if it raises none)."""
    with pytest.raises(rustmemodb.Error) as info:
        fn(*args)
    return info.value


def sqlstate(fn, *args) -> str:
    """The SQLSTATE of the error ``fn(*args)`` raises."""
    return raised(fn, *args).sqlstate
