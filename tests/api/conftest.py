from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from energydash.api.models import ApiToken
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.routing import RouteRequest
from energydash.providers.models import ProviderAccount
from energydash.sandbox import faults
from energydash.sandbox.models import SandboxAccount
from tests.orders.conftest import Box
from tests.sandbox.conftest import live_sandbox, wsgi_app  # noqa: F401  (shared fixtures)
from tests.sandbox.helpers import address  # noqa: F401  (re-exported)

EGRESS_IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def _sandbox_urls(settings):
    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    yield
    faults.set_random_source(None)


def box(
    kind: str,
    name: str,
    *,
    base: str = "http://testserver",
    price: str | None = None,
    priority: int = 0,
    **sandbox,
) -> Box:
    """A sandbox account and the ProviderAccount pointing at it; several per provider allowed."""
    key = (
        (name.replace(" ", "").upper() + "K" * 32)[:32]
        if kind != "netts"
        else ("n" + name)[:32].ljust(32, "n")
    )
    secret = f"secret-{name}"
    values = {
        "balance_sun": 1000 * SUN_PER_TRX,
        "delegation_delay_seconds": 0,
        "hang_seconds": 0.1,
        "whitelist_ips": EGRESS_IP,
        **sandbox,
    }
    if price is not None:
        values["price_sun"] = price
    sandbox_account = SandboxAccount.objects.create(
        provider=kind, name=f"box {name}", api_key=key, api_secret=secret, **values
    )
    account = ProviderAccount.objects.create(
        name=name,
        provider=kind,
        base_url=f"{base}/sandbox/{kind}",
        api_key=key,
        api_secret=secret,
        egress_ip=EGRESS_IP if kind == "netts" else None,
        priority=priority,
    )
    return Box(sandbox_account, account)


@pytest.fixture
def http(wsgi_app) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as client:
        yield client


class FailPlacing(httpx.BaseTransport):
    """The sandbox over WSGI, except that placing requests matching `when` get a 502 and never
    reach it: the client cannot know whether the order was placed (an unknown outcome)."""

    def __init__(self, inner: httpx.BaseTransport, when: Callable[[httpx.Request], bool]) -> None:
        self.inner, self.when = inner, when

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and self.when(request):
            return httpx.Response(502, text="<html>bad gateway</html>")
        return self.inner.handle_request(request)


def issue(name: str, role: str, webhook_url: str = "") -> tuple[ApiToken, str]:
    token = ApiToken(name=name, role=role, webhook_url=webhook_url)
    raw, _signing = token.assign_new_secrets()
    token.save()
    return token, raw


@pytest.fixture
def operator_token(db) -> tuple[ApiToken, str]:
    return issue("payments-backend", "operator")


@pytest.fixture
def viewer_token(db) -> tuple[ApiToken, str]:
    return issue("reporting", "viewer")


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def route_request(receive_address: str, **changes) -> RouteRequest:
    """A best-price request for 65,000 energy for an hour to receive_address, with changes."""
    fields = {"receive_address": receive_address, "energy": 65_000, "period": "1H"}
    return RouteRequest(**{**fields, **changes})


@pytest.fixture
def three(db):
    """Three sandbox accounts priced 70, 50 and 60 sun per energy (dear, cheap, mid)."""
    return (
        box("itrx", "itrx-dear", price="70"),
        box("tronzap", "tz-cheap", price="50"),
        box("itrx", "itrx-mid", price="60"),
    )
