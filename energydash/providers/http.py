"""One HTTP client per process for every provider call, so placing an order does not pay for
building an SSL context (loading the CA bundle took ~22 ms per placement, issue 9).

Two clients share one SSL context:

* shared_client(): reads (status polls, quotes, balances). Connections are kept alive and
  reused, so a poller's threads do not repeat TCP and TLS handshakes.
* placing_client(): order-creating requests. It keeps no idle connection, so a placement
  never goes out on a pooled connection the provider may have closed meanwhile; such a request
  fails with "server disconnected" after the bytes left, which would make the outcome unknown
  (possibly charged) for no reason. The new connection's handshake is time in httpx, not
  overhead of ours.

An account whose base URL was typed in (anything but its provider's own address, DEFAULT_BASE_URLS)
is called through guarded_shared_client() / guarded_placing_client() instead: the same pools, but
every connection goes only to an address core/outbound.py has just vetted as public (or to an
allowed host, or to the sandbox on loopback while ENERGYDASH_SANDBOX is on), and no proxy from the
environment is used (a proxy would resolve the name itself, past the check). The check on save
alone would let a name that resolves inside later (DNS rebinding) through.

httpx.Client is safe to share between threads (its pool locks). Each process builds its own
(keyed by pid): a forked worker never reuses its parent's sockets. Timeouts are per request
(Transport._request), as accounts have their own.
"""

from __future__ import annotations

import os
import ssl
import threading

import httpx

from energydash.core import outbound

_lock = threading.Lock()
_clients: dict[tuple[int, str], httpx.Client] = {}
_contexts: dict[int, ssl.SSLContext] = {}


def ssl_context() -> ssl.SSLContext:
    """The process's SSL context (system CA bundle via certifi, as httpx's default)."""
    pid = os.getpid()
    context = _contexts.get(pid)
    if context is None:
        with _lock:
            context = _contexts.get(pid)
            if context is None:
                _contexts.clear()
                context = _contexts[pid] = httpx.create_ssl_context()
    return context


def _client(kind: str, limits: httpx.Limits, *, guarded: bool = False) -> httpx.Client:
    key = (os.getpid(), kind)
    client = _clients.get(key)
    if client is None:
        context = ssl_context()
        with _lock:
            client = _clients.get(key)
            if client is None:
                for stale in [k for k in _clients if k[0] != key[0]]:
                    del _clients[stale]  # the parent's, after a fork: never touch its sockets
                if guarded:
                    client = httpx.Client(
                        transport=outbound.guarded_transport(
                            verify=context, limits=limits, sandbox_loopback=True
                        ),
                        follow_redirects=False,
                        trust_env=False,
                    )
                else:
                    client = httpx.Client(verify=context, follow_redirects=False, limits=limits)
                _clients[key] = client
    return client


_READ = httpx.Limits(max_connections=100, max_keepalive_connections=20)
_PLACE = httpx.Limits(max_connections=100, max_keepalive_connections=0)


def shared_client() -> httpx.Client:
    return _client("read", _READ)


def placing_client() -> httpx.Client:
    return _client("place", _PLACE)


def guarded_shared_client() -> httpx.Client:
    return _client("read-guarded", _READ, guarded=True)


def guarded_placing_client() -> httpx.Client:
    return _client("place-guarded", _PLACE, guarded=True)
