"""What every step of a ``%sql`` run may need, passed around as one object.

Keeps function signatures short (``step(cmd, ctx)``) and makes the steps
testable without IPython: a test can build a ``Context`` with a plain dict as
the namespace and a list's ``append`` as ``display``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rustmemodb_lab.branches import BranchRegistry
from rustmemodb_lab.command import Namespace
from rustmemodb_lab.config import RustmemodbLab
from rustmemodb_lab.progress import Ticker
from rustmemodb_lab.session import LabSession


@dataclass
class Context:
    """The session, the namespace and the output channel of one run."""

    session: LabSession
    ns: Namespace
    display: Callable[[Any], Any]
    ticker: Ticker
    label: str = ""

    @property
    def config(self) -> RustmemodbLab:
        return self.session.config

    @property
    def registry(self) -> BranchRegistry:
        return self.session.registry

    @property
    def displaylimit(self) -> int | None:
        return self.config.displaylimit or None
