"""Webhook destinations are public, HTTP(S) only, checked when saved and again before each send
(security issue, finding 2). No test sends anything beyond 127.0.0.1: names are resolved by a
stand-in resolver, and what is checked is what the code refuses."""

from __future__ import annotations

import http.server
import socket
import threading
from datetime import timedelta

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from energydash.api.models import ApiToken, WebhookDelivery
from energydash.api.webhooks import deliver
from energydash.core import outbound
from energydash.orders.models import Order
from energydash.providers.models import ProviderAccount
from tests.api.conftest import address, issue

NAMES = {
    "hooks.example.com": "93.184.215.14",
    "inside.example.com": "10.1.2.3",
    "metadata.example.com": "169.254.169.254",
    "rebind.example.com": "93.184.215.15",
    "receiver.internal": "127.0.0.1",
}


@pytest.fixture(autouse=True)
def resolver(monkeypatch):
    """Resolve the names above (and IP literals, and localhost) without any DNS traffic."""
    table = dict(NAMES)

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "localhost":
            address = "127.0.0.1"
        else:
            try:
                address = str(outbound.ipaddress.ip_address(host))
            except ValueError:
                if host not in table:
                    raise socket.gaierror(socket.EAI_NONAME, "not known") from None
                address = table[host]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    return table


REFUSED = [
    "http://127.0.0.1:5432/",
    "http://127.0.0.1:6379/",
    "http://localhost:8000/admin/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://100.64.0.1/",
    "http://inside.example.com/hook",
    "http://metadata.example.com/",
    "ftp://hooks.example.com/",
    "gopher://hooks.example.com/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_webhook_url_to_an_inside_address_is_refused_when_saved(db, url):
    token, _raw = issue("wallet", "operator")
    token.webhook_url = url
    with pytest.raises(ValidationError) as refused:
        token.full_clean()
    assert "webhook_url" in refused.value.message_dict
    assert ApiToken.objects.get(pk=token.pk).webhook_url == ""


def test_the_admin_form_refuses_a_private_webhook_url(admin_client_):
    page = admin_client_.post(
        "/admin/api/apitoken/add/",
        {"name": "sneaky", "role": "viewer", "webhook_url": "http://169.254.169.254/x"},
    )
    assert page.status_code == 200
    assert "only public addresses are allowed" in page.content.decode()
    assert not ApiToken.objects.filter(name="sneaky").exists()


@pytest.mark.parametrize("url", ["https://hooks.example.com/energy", "http://93.184.215.14/h"])
def test_a_public_webhook_url_is_accepted(db, url):
    token, _raw = issue("wallet", "operator")
    token.webhook_url = url
    token.full_clean()


def test_an_allowed_internal_host_is_accepted_on_purpose(db, settings):
    settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = ["receiver.internal"]
    token, _raw = issue("wallet", "operator")
    token.webhook_url = "http://receiver.internal:9000/hook"
    token.full_clean()
    token.webhook_url = "http://inside.example.com/hook"  # only the named host, nothing else
    with pytest.raises(ValidationError):
        token.full_clean()


def _delivery(url: str) -> WebhookDelivery:
    token, _raw = issue("wallet", "operator", webhook_url="https://hooks.example.com/energy")
    account = ProviderAccount.objects.create(name="hooked", provider="itrx", api_key="K" * 32)
    order = Order.objects.create(
        account=account, receive_address=address("hook"), energy=65_000, burn_sun_per_energy=100
    )
    return WebhookDelivery.objects.create(
        token=token,
        order=order,
        event="order.completed",
        url=url,
        payload="{}",
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )


def test_a_name_that_resolves_inside_at_send_time_is_refused_and_nothing_is_sent(db, resolver):
    delivery = _delivery("https://rebind.example.com/hook")
    resolver["rebind.example.com"] = "127.0.0.1"  # the name now points inside (DNS rebinding)
    sent: list[httpx.Request] = []
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204))
    )
    deliver(delivery.pk, client=client)
    delivery.refresh_from_db()
    assert sent == []
    assert delivery.last_error == "refused: private address"
    assert delivery.delivered_at is None


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("illegal status line: b'-ERR unknown command'"),
    ],
)
def test_stored_errors_never_tell_ports_apart(db, exc):
    delivery = _delivery("https://hooks.example.com/energy")

    def fail(request):
        raise exc

    deliver(delivery.pk, client=httpx.Client(transport=httpx.MockTransport(fail)))
    delivery.refresh_from_db()
    assert delivery.last_error == "failed"
    assert list(delivery.tries.values_list("error", flat=True)) == ["failed"]


class _Hook(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self):  # noqa: N802
        self.hits.append(self.headers.get("Host", ""))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.hits = []
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_guarded_client_connects_to_an_allowed_host_and_refuses_the_rest(
    db, settings, local_receiver
):
    port = local_receiver
    with outbound.guarded_client(5) as client:
        with pytest.raises(outbound.Refused):
            client.post(f"http://receiver.internal:{port}/hook", content=b"{}")
        with pytest.raises(outbound.Refused):
            client.post(f"http://127.0.0.1:{port}/hook", content=b"{}")
        assert _Hook.hits == []
        settings.ENERGYDASH_WEBHOOK_ALLOWED_HOSTS = ["receiver.internal"]
        answer = client.post(f"http://receiver.internal:{port}/hook", content=b"{}")
    assert answer.status_code == 204
    assert _Hook.hits == [f"receiver.internal:{port}"]  # the name kept, the vetted IP dialled


def test_a_delivery_through_the_guarded_client_to_a_private_address_is_refused(db, local_receiver):
    delivery = _delivery(f"http://127.0.0.1:{local_receiver}/hook")
    deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.last_error == "refused: private address"
    assert _Hook.hits == []


def test_a_provider_base_url_to_an_inside_address_is_refused(db, settings):
    settings.ENERGYDASH_SANDBOX = False
    account = ProviderAccount(name="x", provider="itrx", base_url="http://10.0.0.7/")
    with pytest.raises(ValidationError) as refused:
        account.full_clean()
    assert "base_url" in refused.value.message_dict
    settings.ENERGYDASH_SANDBOX = True  # the console's own sandbox on loopback
    account.base_url = "http://127.0.0.1:8000/sandbox/itrx"
    account.full_clean(exclude=["api_key", "api_secret"])
