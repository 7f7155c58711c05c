"""Outbound URLs a user can set are vetted when the connection is made, not only before: alert
channels (Apprise, over requests) and provider accounts with a typed-in base URL (security
issue, webhook finding, "the same rule applies to any other outbound URL a user can set").

DNS rebinding: a name answers a public address when it is checked and a private one when the
sender connects. No test here sends anything beyond 127.0.0.1: names are resolved by a stand-in
resolver, and a safety net refuses (and records) any socket connect to a non-loopback address,
so a public answer can never be dialled even if the code under test regressed.
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading

import pytest
import requests

from energydash.balances import channels
from energydash.balances.models import AlertChannel
from energydash.core import outbound
from energydash.providers.errors import ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for

PUBLIC = "93.184.215.14"  # answered to the check only; never dialled (see no_public_traffic)


class Resolver:
    """getaddrinfo for test names: rebind.example.com answers PUBLIC the first `public_answers`
    times, then 127.0.0.1. IP literals and localhost resolve as themselves."""

    def __init__(self) -> None:
        self.public_answers = 0
        self.lookups: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        host = host.decode() if isinstance(host, bytes) else host
        if host == "localhost":
            address = "127.0.0.1"
        elif host == "rebind.example.com":
            self.lookups.append(host)
            if self.public_answers > 0:
                self.public_answers -= 1
                address = PUBLIC
            else:
                address = "127.0.0.1"
        else:
            try:
                address = str(ipaddress.ip_address(host))
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, "not known") from None
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
def resolver(monkeypatch):
    fake = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture(autouse=True)
def no_public_traffic(monkeypatch):
    """Any connect to an address that is not loopback fails here and is recorded."""
    dialled: list[str] = []
    connect = socket.socket.connect

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            if not ipaddress.ip_address(address[0].split("%", 1)[0]).is_loopback:
                dialled.append(address[0])
                raise OSError("test safety net: only loopback may be dialled")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield dialled
    assert dialled == [], "a non-loopback address was dialled"


def webhook_channel(url: str) -> AlertChannel:
    made = AlertChannel(name="hook", kind="webhook")
    made.secret = url
    made.save()
    return AlertChannel.objects.get(pk=made.pk)


def test_an_alert_channel_whose_name_rebinds_inside_when_apprise_connects_is_refused(
    db, resolver, fake_server, settings
):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = []
    url = f"http://rebind.example.com:{fake_server.port}/alerts"
    hook = webhook_channel(url)
    # The check before the send sees a public address; by the time Apprise connects, the name
    # points at this machine (where the fake server listens, standing in for an inside service).
    resolver.public_answers = 1
    assert channels.send(hook, "t", "b") == "refused: private address"
    assert fake_server.requests == []
    assert len(resolver.lookups) == 2  # the check, then the connection's own lookup


def test_an_alert_channel_whose_name_resolves_inside_at_send_time_is_refused(
    db, resolver, fake_server, settings
):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = []
    url = f"http://rebind.example.com:{fake_server.port}/alerts"
    resolver.public_answers = 1
    outbound.validate_public_url(url)  # public when it was saved
    hook = webhook_channel(url)
    assert channels.send(hook, "t", "b") == "refused: private address"
    assert fake_server.requests == []


def test_an_allowed_internal_host_is_sent_to_through_the_guard(db, resolver, fake_server, settings):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = ["rebind.example.com"]
    hook = webhook_channel(f"http://rebind.example.com:{fake_server.port}/alerts")
    assert channels.send(hook, "t", "b") == "ok"
    (seen,) = fake_server.requests
    assert seen.headers["host"] == f"rebind.example.com:{fake_server.port}"  # the name kept


@pytest.fixture
def redirecting_server():
    """Answers /alerts with a redirect to /followed on the same host and port; records paths."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.path)
            if self.path.startswith("/alerts"):
                self.send_response(307)
                self.send_header("Location", f"http://{self.headers['Host']}/followed")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_an_alert_channel_redirect_is_not_followed(db, resolver, redirecting_server, settings):
    port, seen = redirecting_server
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = ["rebind.example.com"]
    hook = webhook_channel(f"http://rebind.example.com:{port}/alerts")
    assert channels.send(hook, "t", "b").startswith("not delivered")
    assert seen == ["/alerts"]


def test_the_socket_guard_holds_only_inside_its_block(resolver, fake_server, settings):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = []
    url = f"http://rebind.example.com:{fake_server.port}/x"
    with outbound.guarded_sockets() as guard:
        with pytest.raises(requests.ConnectionError):
            requests.post(url, data=b"{}", timeout=5)
    assert guard.refused
    assert fake_server.requests == []
    # Outside the block requests is untouched (loopback here, so allowed by the safety net).
    assert requests.post(url, data=b"{}", timeout=5).status_code == 200
    assert len(fake_server.requests) == 1


def _adapter(base_url: str):
    account = ProviderAccount(
        name=f"typed {ProviderAccount.objects.count()}",
        provider="itrx",
        api_key="K" * 32,
        api_secret="S" * 32,
        base_url=base_url,
    )
    account.save()
    return adapter_for(ProviderAccount.objects.get(pk=account.pk).credentials())


def test_a_provider_base_url_that_rebinds_inside_is_refused_when_the_call_connects(
    db, resolver, fake_server, settings
):
    settings.ENERGYDASH_SANDBOX = False
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = []
    url = f"http://rebind.example.com:{fake_server.port}"
    resolver.public_answers = 1
    outbound.validate_provider_base_url(url)  # public when it was saved
    adapter = _adapter(url)
    with pytest.raises(ProviderError) as refused:
        adapter.balance()
    assert fake_server.requests == []
    assert refused.value.outcome == "unavailable"
    assert "refused: private address" in str(refused.value)
    assert "nothing was sent" in str(refused.value)
    assert len(resolver.lookups) == 2  # refused at once, not retried


def test_a_provider_on_an_allowed_internal_host_is_reached(db, resolver, fake_server, settings):
    settings.ENERGYDASH_SANDBOX = False
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = ["rebind.example.com"]
    fake_server.answer = b'{"balance": 12000000, "errno": 0}'
    adapter = _adapter(f"http://rebind.example.com:{fake_server.port}")
    try:
        adapter.balance()
    except ProviderError:
        pass  # the fake's answer need not satisfy the adapter: reaching it is the point
    assert len(fake_server.requests) >= 1


def test_the_sandbox_on_loopback_is_reached_only_while_the_sandbox_is_on(
    db, resolver, fake_server, settings
):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = []
    settings.ENERGYDASH_SANDBOX = True
    adapter = _adapter(f"http://127.0.0.1:{fake_server.port}")
    try:
        adapter.balance()
    except ProviderError:
        pass
    assert len(fake_server.requests) >= 1
    settings.ENERGYDASH_SANDBOX = False
    before = len(fake_server.requests)
    with pytest.raises(ProviderError) as refused:
        _adapter(f"http://127.0.0.1:{fake_server.port}").balance()
    assert "refused: private address" in str(refused.value)
    assert len(fake_server.requests) == before
