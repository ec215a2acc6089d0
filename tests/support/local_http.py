"""Fake HTTP services for the tests of our in-pod scripts (the restore drill's API server, the escrow's Vault): each
on 127.0.0.1 at a free port, served from a thread, shut down after the test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def local_servers() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], str]]:
    """`start(handler_class)` serves it and returns its base URL; every server started stops on exit."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
