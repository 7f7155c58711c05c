"""One HTTP client per process for chain reads (keep-alive to the node, one CA-bundle load).

A forked worker builds its own: it never reuses its parent's sockets. Timeouts are per request.
"""

from __future__ import annotations

import os
import threading

import httpx

_lock = threading.Lock()
_clients: dict[int, httpx.Client] = {}


def shared_client() -> httpx.Client:
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        with _lock:
            client = _clients.get(pid)
            if client is None:
                _clients.clear()  # the parent's, after a fork: never touch its sockets
                client = _clients[pid] = httpx.Client(
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                )
    return client
