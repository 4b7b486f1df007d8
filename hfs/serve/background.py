"""Running an ASGI app (``hfs serve``'s, or any) on a loopback port in a background thread: for
using the proxy from inside a Python process (a notebook, a benchmark, tests)."""

from __future__ import annotations

import socket
import threading
import time


class BackgroundServer:
    """uvicorn serving ``app`` on ``host``:``port`` (0: a free port) in a daemon thread, until ``stop``."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 30.0) -> None:
        import uvicorn

        self.host = host
        self.sock = socket.socket()
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name=f"uvicorn-{self.port}")
        self.thread.start()
        deadline = time.monotonic() + start_timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise RuntimeError(f"the server on {host}:{self.port} did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        """The OpenAI base URL (``http://host:port/v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
