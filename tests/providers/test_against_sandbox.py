"""The adapters against the project's provider sandbox, in-process over WSGI (no network).

MockTransport tests pin each adapter to providers.md; these prove the adapters and the sandbox
read the spec the same way, so demo and training runs exercise the real client code.
"""

from __future__ import annotations

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler

from energydash.lib.crypto import Secret
from energydash.lib.tron import SUN_PER_TRX
from energydash.providers import base
from energydash.providers.credentials import Credentials
from energydash.providers.registry import adapter_for
from energydash.sandbox.models import SandboxAccount
from tests.sandbox.conftest import wsgi_app  # noqa: F401  (shared fixture)
from tests.sandbox.helpers import address

KEYS = {
    "itrx": ("SANDBOXITRXKEY000000000000000001", "sandbox-itrx-secret"),
    "tronzap": ("sandbox-tz-token", "sandbox-tz-secret"),
    "netts": ("b" * 32, ""),
}
EGRESS_IP = "203.0.113.7"


@pytest.fixture
def wsgi(wsgi_app, settings) -> WSGIHandler:  # noqa: F811
    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    return wsgi_app


def sandbox_adapter(wsgi: WSGIHandler, kind: str, **account) -> base.Adapter:
    key, secret = KEYS[kind]
    SandboxAccount.objects.create(
        provider=kind,
        name=f"box {kind}",
        api_key=key,
        api_secret=secret,
        balance_sun=100 * SUN_PER_TRX,
        whitelist_ips=EGRESS_IP,
        **account,
    )
    credentials = Credentials(
        provider=kind,
        base_url=f"http://testserver/sandbox/{kind}",
        api_key=Secret(key),
        api_secret=Secret(secret),
        egress_ip=EGRESS_IP if kind == "netts" else "",
    )
    client = httpx.Client(transport=httpx.WSGITransport(app=wsgi))
    return adapter_for(credentials, client, sleep=lambda s: None)


@pytest.mark.parametrize("kind", ["itrx", "tronzap", "netts"])
def test_order_is_charged_and_found_again(wsgi, kind):
    adapter = sandbox_adapter(wsgi, kind)
    before = adapter.balance().balance_sun
    quote = adapter.quote(131000, "1H")
    placed = adapter.place_energy_order(address(kind), 131000, "1H", f"ref-{kind}")
    assert placed.provider_ref
    assert placed.cost_sun == quote.total_sun
    assert adapter.balance().balance_sun == before - placed.cost_sun
    state = adapter.get_order(provider_ref=placed.provider_ref)
    assert state.provider_ref == placed.provider_ref
    assert state.status not in (base.FAILED, base.REFUNDED)
    if adapter.supports_reference_lookup:
        assert adapter.get_order(reference=f"ref-{kind}").provider_ref == placed.provider_ref


@pytest.mark.parametrize("kind", ["itrx", "tronzap"])
def test_unknown_reference_is_reported_not_found(wsgi, kind):
    adapter = sandbox_adapter(wsgi, kind)
    with pytest.raises(base.ProviderError) as caught:
        adapter.get_order(reference="never-placed")
    assert (caught.value.outcome, caught.value.not_found) == (base.REJECTED, True)


@pytest.mark.parametrize("kind", ["tronzap", "netts"])
def test_provider_saying_it_cannot_serve_is_unavailable(wsgi, kind):
    adapter = sandbox_adapter(wsgi, kind, orders_unavailable=True)
    with pytest.raises(base.ProviderError) as caught:
        adapter.place_energy_order(address(kind), 131000, "1H", "ref-down")
    assert caught.value.outcome == base.UNAVAILABLE
    assert adapter.balance().balance_sun == 100 * SUN_PER_TRX
