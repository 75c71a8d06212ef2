"""The kernel end of the JupyterLab sidebar: a comm that serves catalog snapshots and actions.

The front end (``labextension/src/kernel.ts``) and the kernel talk over one Jupyter comm
with the target name ``rustmemodb-lab``. Either side may open it: ``%load_ext`` opens one
towards the front end (so a sidebar already showing the notebook connects at once), and
the front end opens one when it meets a kernel that has the extension loaded already
(a reloaded page). Messages are JSON objects with a ``type``:

* front end → kernel: ``{"type": "hello", "request": n}`` (on a comm the kernel opened:
  the labextension is there); ``{"type": "snapshot", "request": n}``; ``{"type": "action",
  "request": n, "action": "checkout" | "fork" | "drop" | "diff", "branch": ..., "name": ...,
  "other": ...}``; other types are routed to handlers registered with :meth:`handle`
  (the result grid's pages, ``render/grid.py``);
* kernel → front end: the reply ``{"type": "reply", "request": n, "ok": bool, ...}``, and
  ``{"type": "snapshot", ...}`` pushed after every executed cell and (debounced, from the
  committing thread) after every commit on a branch of the current connection.

Actions run the same code as the ``%sql`` line options (``--checkout NAME`` ...), so the
sidebar can do nothing a cell cannot, and report errors with the same messages.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from rustmemodb_lab.catalog_snapshot import snapshot

TARGET = "rustmemodb-lab"
#: commits closer together than this become one pushed snapshot
DEBOUNCE_SECONDS = 0.25

ACTION_LINES: dict[str, Callable[[dict[str, Any]], str]] = {
    "checkout": lambda m: f"--checkout {m['branch']}",
    "fork": lambda m: f"--fork {m['name']}" + (f" --checkout {m['name']}" if m.get("checkout") else ""),
    "drop": lambda m: f"--drop-branch {m['branch']}",
    "diff": lambda m: f"--diff {m['branch']} {m['other']}",
}


class SidebarChannel:
    """Open comms to the front end, the snapshot pushes, and the request handlers."""

    def __init__(self, ip: Any, session: Any) -> None:
        self.ip = ip
        self.session = session
        self.comms: list[Any] = []
        from rustmemodb_lab.render import grid

        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"page": grid.page}
        self._subscriptions: dict[int, Any] = {}
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------
    def install(self) -> None:
        """Register the comm target and the after-cell hook; open a comm to the front end."""
        manager = _comm_manager()
        if manager is None:
            return  # not in a kernel (IPython terminal, tests' shell): no front end to serve
        manager.register_target(TARGET, self._opened)
        self.ip.events.register("post_run_cell", self._after_cell)
        import comm

        self._adopt(comm.create_comm(target_name=TARGET, data=self._snapshot()))

    def uninstall(self) -> None:
        manager = _comm_manager()
        if manager is not None:
            manager.unregister_target(TARGET, self._opened)
        try:
            self.ip.events.unregister("post_run_cell", self._after_cell)
        except ValueError:
            pass
        for sub in self._subscriptions.values():
            sub.cancel()
        self._subscriptions.clear()
        for c in list(self.comms):
            c.close()
        self.comms.clear()

    def handle(self, kind: str, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Answer messages of type ``kind`` with ``handler(message)`` (merged into the reply)."""
        self.handlers[kind] = handler

    # -- comms ---------------------------------------------------------------------
    def _opened(self, comm: Any, msg: dict[str, Any]) -> None:
        self._adopt(comm)
        data = msg.get("content", {}).get("data") or {}
        if data.get("type"):
            self._on_msg({"content": {"data": data}}, comm)

    def _adopt(self, comm: Any) -> None:
        self.comms.append(comm)
        comm.on_msg(lambda msg: self._on_msg(msg, comm))
        comm.on_close(lambda msg: self._closed(comm))

    def _closed(self, comm: Any) -> None:
        if comm in self.comms:
            self.comms.remove(comm)
        if not self.comms:
            self.session.labextension_connected = False

    def _on_msg(self, msg: dict[str, Any], comm: Any) -> None:
        data = msg.get("content", {}).get("data") or {}
        # a message from the front end proves the labextension is there (widgets.branch_tree)
        self.session.labextension_connected = True
        reply: dict[str, Any] = {"type": "reply", "request": data.get("request")}
        try:
            reply.update(self._answer(data))
            reply.setdefault("ok", True)
        except Exception as exc:  # a bad request must never take the kernel's comm down
            reply.update(ok=False, error=getattr(exc, "message", None) or str(exc))
        comm.send(reply)

    def _answer(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data.get("type")
        if kind == "snapshot":
            return {"snapshot": self._snapshot()}
        if kind == "hello":
            return {}
        if kind == "action":
            return self._action(data)
        if kind in self.handlers:
            return self.handlers[kind](data)
        raise ValueError(f"unknown sidebar request {kind!r}")

    def _action(self, data: dict[str, Any]) -> dict[str, Any]:
        from rustmemodb_lab.command import Namespace, parse
        from rustmemodb_lab.context import Context
        from rustmemodb_lab.magic import SqlMagics
        from rustmemodb_lab.progress import Ticker
        from rustmemodb_lab.run import run_command

        line = ACTION_LINES[data["action"]](data)
        ns = Namespace(self.ip.user_ns, None)
        shown: list[Any] = []
        # the sidebar shows the result itself, never in a cell: display collects into a list
        ctx = Context(self.session, ns, shown.append, Ticker(), label=f"sidebar: %sql {line}")
        value = run_command(parse(SqlMagics.sql.parser, line, None, ns), ctx)
        self.push()
        html = getattr(value, "_repr_html_", None)
        return {"line": f"%sql {line}", "text": repr(value) if value is not None else "",
                "html": html() if html else None}

    # -- pushes --------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        self._follow_commits()
        return {"type": "snapshot", **snapshot(self.session)}

    def push(self) -> None:
        """Send the current snapshot to every open comm."""
        if not self.comms:
            return
        data = self._snapshot()
        for c in list(self.comms):
            c.send(data)

    def _after_cell(self, result: Any = None) -> None:
        self.push()

    def _follow_commits(self) -> None:
        """Subscribe to the commits of every branch database of the current connection."""
        registry = self.session.connections.get(self.session.current_name or "")
        live = {id(b.database): b.database for b in registry.branches.values()} if registry else {}
        for key in set(self._subscriptions) - set(live):
            self._subscriptions.pop(key).cancel()
        for key, db in live.items():
            if key not in self._subscriptions and hasattr(db, "subscribe"):
                self._subscriptions[key] = db.subscribe(_WeakCommitHook(self))

    def _committed(self) -> None:
        with self._lock:
            if self._timer is not None:
                return
            self._timer = threading.Timer(DEBOUNCE_SECONDS, self._flush)
            self._timer.daemon = True
            self._timer.start()

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.push()
        except Exception:  # the kernel may be shutting down; the next cell pushes again
            pass


class _WeakCommitHook:
    """``Database.subscribe`` callback that does not keep the channel alive."""

    def __init__(self, channel: SidebarChannel) -> None:
        self.channel = weakref.ref(channel)

    def __call__(self, old_root: Any, new_root: Any, changed: Any) -> None:
        channel = self.channel()
        if channel is not None:
            channel._committed()


def _comm_manager() -> Any:
    """ipykernel's comm manager, or None outside a kernel."""
    try:
        from ipykernel.ipkernel import IPythonKernel
    except ImportError:
        return None
    if not IPythonKernel.initialized():
        return None
    return getattr(IPythonKernel.instance(), "comm_manager", None)
