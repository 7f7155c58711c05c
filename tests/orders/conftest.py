from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from energydash.lib.tron import SUN_PER_TRX
from energydash.providers.models import ProviderAccount
from energydash.sandbox import faults
from energydash.sandbox.models import SandboxAccount
from tests.sandbox.conftest import live_sandbox, wsgi_app  # noqa: F401  (shared fixtures)
from tests.sandbox.helpers import address, unactivated  # noqa: F401  (re-exported for tests)

KEYS = {
    "itrx": ("ORDERSITRXKEY00000000000000000001", "orders-itrx-secret-0001"),
    "tronzap": ("orders-tz-token-0001", "orders-tz-secret-0001"),
    "netts": ("c" * 32, ""),
}
EGRESS_IP = "203.0.113.7"


@dataclass
class Box:
    """A sandbox account and the console's ProviderAccount pointing at it."""

    sandbox: SandboxAccount
    account: ProviderAccount

    def balance(self) -> int:
        self.sandbox.refresh_from_db()
        return self.sandbox.balance_sun


@pytest.fixture(autouse=True)
def _sandbox_urls(settings):
    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    yield
    faults.set_random_source(None)


@pytest.fixture
def http(wsgi_app) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as client:
        yield client


def make_box(kind: str, base: str = "http://testserver", **sandbox) -> Box:
    key, secret = KEYS[kind]
    defaults = {
        "balance_sun": 200 * SUN_PER_TRX,
        "delegation_delay_seconds": 5,
        "hang_seconds": 1.5,
        "whitelist_ips": EGRESS_IP,
    }
    box = SandboxAccount.objects.create(
        provider=kind, name=f"box {kind}", api_key=key, api_secret=secret, **{**defaults, **sandbox}
    )
    account = ProviderAccount.objects.create(
        name=f"Sandbox {kind}",
        provider=kind,
        base_url=f"{base}/sandbox/{kind}",
        api_key=key,
        api_secret=secret,
        egress_ip=EGRESS_IP if kind == "netts" else None,
    )
    return Box(box, account)


@pytest.fixture
def itrx(db) -> Box:
    return make_box("itrx")


@pytest.fixture
def tronzap(db) -> Box:
    return make_box("tronzap")


@pytest.fixture
def netts(db) -> Box:
    return make_box("netts")
