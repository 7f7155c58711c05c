"""Outbound URLs a user can set reach only public HTTP(S) addresses.

A webhook URL (and a provider account's base URL) is typed by a person, and the worker then
POSTs to it. Without a guard that is a way into the inside: loopback, private ranges, the cloud
metadata address 169.254.169.254, or a name that resolves to one of them. So:

- `validate_public_url` (a model-field validator) refuses such a URL when it is saved: the scheme
  must be http or https, and an IP literal or a name that resolves now must be public.
- `check_host` is called again right before each send, after DNS resolution, and
  `guarded_client()` connects only to an address it has just checked (the TCP connection goes
  to the vetted IP, while TLS and the Host header keep the name), so a name that resolves inside
  later (DNS rebinding) is refused too. Redirects are never followed and proxies from the
  environment are not used.
- Provider accounts whose base URL was typed in (not the provider's own address) are called
  through `guarded_transport()`, the same vetted-address connection (the sandbox's loopback
  address is let through while ENERGYDASH_SANDBOX is on).
- Apprise (alert channels) sends with `requests`, which dials through urllib3. Inside
  `guarded_sockets()` every urllib3 connection is vetted the same way: the name is resolved
  once, every address must be public, and the socket is opened to the vetted address (TLS
  still verifies the name). Apprise copies the caller's context into its worker threads, so
  the guard holds there too.
- `ENERGYDASH_WEBHOOK_ALLOWED_HOSTS` lists host names an operator allows on purpose (an internal
  receiver); they skip the address check, nothing else does.

Stored errors say "refused: private address" or "failed", never a socket-level detail that would
tell an open port from a closed one.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.core.exceptions import ValidationError

REFUSED_PRIVATE = "refused: private address"
FAILED = "failed"


class Refused(Exception):
    """The destination is not a public address (and not an allowed host)."""


def _allowed_hosts() -> frozenset[str]:
    return frozenset(h.lower() for h in getattr(settings, "ENERGYDASH_WEBHOOK_ALLOWED_HOSTS", ()))


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def public_addresses(host: str, port: int, *, sandbox_loopback: bool = False) -> list[str]:
    """The addresses to connect to for host:port; Refused when any of them is not public.

    An allowed host's addresses are returned as they are. A name that does not resolve gives []
    (the caller's connection then fails as any unresolvable name does). With sandbox_loopback
    (provider calls) and ENERGYDASH_SANDBOX on, a loopback name whose every address is loopback
    is let through: the console's own sandbox.
    """
    host = host.lower().rstrip(".").strip("[]")
    literal = _literal(host)
    addresses = [literal] if literal else resolve(host, port)
    if host in _allowed_hosts():
        return addresses
    if (
        sandbox_loopback
        and getattr(settings, "ENERGYDASH_SANDBOX", False)
        and host in LOOPBACK_NAMES
        and all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)
    ):
        return addresses
    if any(not is_public(a) for a in addresses):
        raise Refused(host)
    return addresses


def check_host(host: str, port: int = 443) -> None:
    public_addresses(host, port)


def validate_public_url(url: str) -> None:
    """Model-field validator: http(s) only, and not to a private address (as resolved now)."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an http:// or https:// URL.", code="invalid_scheme")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError(
            "The port is not a number from 0 to 65535.", code="bad_port"
        ) from None
    try:
        check_host(parts.hostname, port)
    except Refused:
        raise ValidationError(
            "This address is loopback, private, link-local or reserved: only public addresses "
            "are allowed (an operator may allow a named internal host with "
            "ENERGYDASH_WEBHOOK_ALLOWED_HOSTS).",
            code="private_address",
        ) from None


def validate_provider_base_url(url: str) -> None:
    """A provider account's base URL: public like a webhook, except that with the sandbox on
    (ENERGYDASH_SANDBOX) the loopback address of this very console is allowed."""
    host = (urlsplit(url).hostname or "").lower() if url else ""
    if getattr(settings, "ENERGYDASH_SANDBOX", False) and host in ("127.0.0.1", "localhost", "::1"):
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValidationError("Enter an http:// or https:// URL.", code="invalid_scheme")
        return
    validate_public_url(url)


class _GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses public_addresses() has just vetted for the host asked for."""

    def __init__(self, inner: httpcore.NetworkBackend, *, sandbox_loopback: bool = False) -> None:
        self._inner = inner
        self._sandbox_loopback = sandbox_loopback

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = public_addresses(host, port, sandbox_loopback=self._sandbox_loopback)
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        last: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise Refused("unix socket")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_transport(
    *, verify: Any = True, limits: httpx.Limits | None = None, sandbox_loopback: bool = False
) -> httpx.HTTPTransport:
    """An httpx transport that dials only addresses public_addresses() has just vetted; no
    proxy (a proxy would resolve the name itself, past the check)."""
    transport = httpx.HTTPTransport(verify=verify, limits=limits or httpx.Limits(), trust_env=False)
    pool = transport._pool  # httpcore.ConnectionPool (httpx 0.28, pinned)
    pool._network_backend = _GuardedBackend(
        pool._network_backend, sandbox_loopback=sandbox_loopback
    )
    return transport


def guarded_client(timeout: float) -> httpx.Client:
    """An httpx client that reaches only public addresses (or allowed hosts), follows no
    redirect and ignores proxy settings from the environment."""
    return httpx.Client(
        transport=guarded_transport(), timeout=timeout, follow_redirects=False, trust_env=False
    )


# Apprise (requests, urllib3) ---------------------------------------------------------------


@dataclass
class SocketGuard:
    """What the guard refused inside one guarded_sockets() block (shared with Apprise's worker
    threads, which run in a copy of the caller's context)."""

    refused: bool = False


_socket_guard: contextvars.ContextVar[SocketGuard | None] = contextvars.ContextVar(
    "energydash_outbound_socket_guard", default=None
)
_install_lock = threading.Lock()
_installed = False


def _install_urllib3_guard() -> None:
    """Wrap urllib3's create_connection once per process. Outside guarded_sockets() it is the
    original, untouched; inside, the host is vetted and only a vetted address is dialled."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        from urllib3.util import connection

        original = connection.create_connection

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            guard = _socket_guard.get()
            if guard is None:
                return original(address, *args, **kwargs)
            host, port = address
            try:
                addresses = public_addresses(host, port)
            except Refused:
                guard.refused = True
                raise OSError(REFUSED_PRIVATE) from None
            if not addresses:
                raise OSError(FAILED)
            last: OSError | None = None
            for vetted in addresses:
                try:
                    return original((vetted, port), *args, **kwargs)
                except OSError as exc:
                    last = exc
            assert last is not None
            raise last

        connection.create_connection = create_connection
        _installed = True


@contextlib.contextmanager
def guarded_sockets() -> Iterator[SocketGuard]:
    """Every urllib3 (requests) connection opened in this block, in this thread or in a worker
    thread started with a copy of its context, goes only to a vetted public address (or an
    allowed host). The yielded SocketGuard says whether one was refused."""
    _install_urllib3_guard()
    guard = SocketGuard()
    token = _socket_guard.set(guard)
    try:
        yield guard
    finally:
        _socket_guard.reset(token)


def refusal_reason(exc: BaseException) -> str:
    """What to store for a failed send: never the socket-level detail."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Refused):
            return REFUSED_PRIVATE
        seen = seen.__cause__ or seen.__context__
    return FAILED
