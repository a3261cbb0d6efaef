"""Running the studio: a socket on 127.0.0.1, the token, the URL, uvicorn in this thread or another."""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time

from synth.app.studio import security
from synth.app.studio.app import build_app
from synth.app.studio.session import StudioSession

DEFAULT_PORT = 8478  # a choice: free on most machines; the next nine are tried when it is taken
PORT_TRIES = 10


class ServerError(OSError):
    """The studio cannot listen where it was asked to."""


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on host:port (port None: DEFAULT_PORT or one of the next nine; 0: any free one)."""
    ports = [DEFAULT_PORT + i for i in range(PORT_TRIES)] if port is None else [port]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last = None
    for p in ports:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, p))
        except OSError as e:
            sock.close()
            last = e
            if e.errno != errno.EADDRINUSE:
                break
            continue
        sock.listen(64)
        return sock
    if last is not None and last.errno != errno.EADDRINUSE:
        raise ServerError(f"cannot listen on {host} port {p}: {(last.strerror or str(last)).lower()} "
                          "(is it an address of this machine?)")
    tried = f"ports {ports[0]}-{ports[-1]}" if len(ports) > 1 else f"port {ports[0]}"
    raise ServerError(f"cannot listen on {host} {tried}: in use (try --port N)")


class Studio:
    """A studio server: its session, token, URL, and uvicorn on a socket bound already."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, model: str = "iix",
                 token: str | None = None) -> None:
        import uvicorn

        self.sock = bind(host, port)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.token = token or security.new_token()
        self.session = StudioSession(model=model)
        self.app = build_app(self.session, self.token, host, self.port)
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
        self.base_url = f"http://{shown}:{self.port}"
        self.url = f"{self.base_url}/?{security.TOKEN_QUERY}={self.token}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", ws="auto")
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve until Ctrl-C (or should_exit), in this thread."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.close()

    def start(self) -> Studio:
        """Serve in a thread of its own (for tests and scripts); returns when it accepts requests."""
        self.server.install_signal_handlers = lambda: None  # not the main thread
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                        name="liquidsky-studio", daemon=True)
        self._thread.start()

        while not self.server.started and self._thread.is_alive():
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.close()

    def close(self) -> None:
        self.session.close()
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> Studio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
