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
- `ENERGYDASH_WEBHOOK_ALLOWED_HOSTS` lists host names an operator allows on purpose (an internal
  receiver); they skip the address check, nothing else does.

Stored errors say "refused: private address" or "failed", never a socket-level detail that would
tell an open port from a closed one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
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


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for host:port; Refused when any of them is not public.

    An allowed host's addresses are returned as they are. A name that does not resolve gives []
    (the caller's connection then fails as any unresolvable name does).
    """
    host = host.lower().rstrip(".")
    literal = _literal(host)
    addresses = [literal] if literal else resolve(host, port)
    if host in _allowed_hosts():
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

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = public_addresses(host, port)
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


def guarded_client(timeout: float) -> httpx.Client:
    """An httpx client that reaches only public addresses (or allowed hosts), follows no
    redirect and ignores proxy settings from the environment."""
    transport = httpx.HTTPTransport(trust_env=False)
    pool = transport._pool  # httpcore.ConnectionPool (httpx 0.28, pinned)
    pool._network_backend = _GuardedBackend(pool._network_backend)
    return httpx.Client(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    )


def refusal_reason(exc: BaseException) -> str:
    """What to store for a failed send: never the socket-level detail."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Refused):
            return REFUSED_PRIVATE
        seen = seen.__cause__ or seen.__context__
    return FAILED
