"""RustMemDB Lab: the IPython extension behind ``%load_ext rustmemodb_lab``.

Loading the extension is the only entry point (as in jupysql): it creates one
:class:`~rustmemodb_lab.session.LabSession` for the shell, registers the
``RustmemodbLab`` configurable (so ``%config RustmemodbLab.displaylimit = 50``
works) and the ``%sql`` / ``%%sql`` magics. Everything else lives in the
modules named in ``magic.py``'s docstring.
"""

from __future__ import annotations

from typing import Any

from rustmemodb_lab.live import LiveFrame, live
from rustmemodb_lab.rest import persist_app, rest_server

__all__ = ["LiveFrame", "live", "persist_app", "rest_server", "load_ipython_extension",
           "unload_ipython_extension"]


def load_ipython_extension(ip: Any) -> None:
    """Register the configurable and the ``%sql`` magics on ``ip``."""
    from rustmemodb_lab.magic import register

    register(ip)


def unload_ipython_extension(ip: Any) -> None:
    """Forget the session (connections, branches, undo history) of ``ip``."""
    from rustmemodb_lab.magic import unregister

    unregister(ip)
