"""Spend limits see the activation fee when activation is asked for (issue 8, part 4): a budget is
checked against everything the order may cost, never the energy alone."""

from __future__ import annotations

import httpx
import pytest

from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec, PlacementRefused, estimate_cost
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for
from energydash.sandbox.models import SandboxAccount, SandboxOrder
from tests.sandbox.helpers import unactivated

ENERGY_SUN = {"itrx": 65_000 * 65, "tronzap": 3_399_500, "netts": 65_000 * 55}
FEE_SUN = {"itrx": 1_500_000, "tronzap": 1_400_000, "netts": 1_100_000}


@pytest.fixture(params=["itrx", "tronzap", "netts"])
def account(request, itrx_box, tronzap_box, netts_box) -> ProviderAccount:
    box: SandboxAccount = {"itrx": itrx_box, "tronzap": tronzap_box, "netts": netts_box}[
        request.param
    ]
    return ProviderAccount.objects.create(
        name=f"budget {box.provider}",
        provider=box.provider,
        base_url=f"http://testserver/sandbox/{box.provider}",
        api_key=box.api_key.reveal(),
        api_secret=box.secret,
        egress_ip="127.0.0.1" if box.provider == "netts" else None,
    )


@pytest.fixture
def client(wsgi_app) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=wsgi_app))


def spec(account: ProviderAccount, address: str, activate: bool) -> OrderSpec:
    return OrderSpec(
        account=account, kind="energy", receive_address=address, energy=65_000, activate=activate
    )


def test_the_estimate_includes_activation_only_when_asked_for(account, client):
    new = unactivated(f"budget {account.provider} estimate")
    adapter = adapter_for(account.credentials(), client)
    with_fee, quote = estimate_cost(spec(account, new, True), adapter)
    assert quote.activation_sun == FEE_SUN[account.provider]
    assert with_fee == ENERGY_SUN[account.provider] + FEE_SUN[account.provider]


def test_a_maximum_between_energy_and_energy_plus_activation_refuses_before_sending(
    account, client
):
    new = unactivated(f"budget {account.provider} limit")
    account.max_order_sun = ENERGY_SUN[account.provider] + FEE_SUN[account.provider] // 2
    account.save()
    with pytest.raises(PlacementRefused):
        place_order(spec(account, new, True), idempotency_key="budget-1", client=client)
    assert not SandboxOrder.objects.exists()  # nothing reached the provider
    assert not Order.objects.exists()


def test_within_the_budget_the_recorded_quote_covers_what_was_charged(account, client):
    new = unactivated(f"budget {account.provider} ok")
    account.daily_budget_sun = 10 * SUN_PER_TRX
    account.save()
    order = place_order(spec(account, new, True), idempotency_key="budget-2", client=client)
    charged = SandboxOrder.objects.get().cost_sun
    assert (
        order.quoted_cost_sun == charged == ENERGY_SUN[account.provider] + FEE_SUN[account.provider]
    )
