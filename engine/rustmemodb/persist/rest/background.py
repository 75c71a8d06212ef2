"""A REST app served by uvicorn on a background thread with its own event loop.

For a process that has its own loop already (a Jupyter kernel) or none it can give
up (a script): ``serve_in_thread(api, port=0)`` binds the socket first (so port 0
picks a free port and the URL is known at once), runs ``uvicorn.Server`` on a daemon
thread (``Server.run`` makes a fresh loop there) and returns when it accepts
requests. ``close()`` asks uvicorn to exit and waits for the thread.
"""
from __future__ import annotations

import socket
import threading
import time


class BackgroundServer:
    def __init__(self, api, host: str, port: int, token: str | None = None) -> None:
        import uvicorn
        self.token = token
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.host, self.port = host, self.sock.getsockname()[1]
        self.api = api
        self.server = uvicorn.Server(uvicorn.Config(api, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name=f"rustmemodb-rest-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def headers(self) -> dict:
        """What a client sends: the bearer token, when the app requires one."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @property
    def closed(self) -> bool:
        return not self.thread.is_alive()

    def start(self, timeout: float = 30) -> "BackgroundServer":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise OSError(f"the REST server on {self.host}:{self.port} did not start")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(10)
        self.sock.close()
        unfollow = getattr(self.api.state, "unfollow", None)
        if unfollow is not None:
            unfollow()


def serve_in_thread(api, host: str = "127.0.0.1", port: int = 0, *,
                    token: str | None = None) -> BackgroundServer:
    """Serve ``api`` (from ``create_app``) on a daemon thread; returns once it is up.
    ``token`` is only recorded (``.headers``): pass the same one to ``create_app``."""
    return BackgroundServer(api, host, port, token).start()
