from __future__ import annotations

import httpx
import pytest

from energydash.core.models import AuditEvent
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec, PlacementRefused
from energydash.sandbox.models import SandboxOrder
from tests.orders.conftest import address, unactivated

ALICE = address("alice")


def spec(box, **kw) -> OrderSpec:
    values = {
        "account": box.account,
        "kind": "energy",
        "receive_address": ALICE,
        "energy": 65_000,
        "period": "1H",
    }
    values.update(kw)
    return OrderSpec(**values)


@pytest.mark.parametrize("kind", ["itrx", "tronzap", "netts"])
def test_an_order_is_placed_and_charged_once_at_each_provider(kind, http, request):
    box = request.getfixturevalue(kind)
    before = box.balance()
    order = place_order(spec(box), client=http)

    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert order.provider_ref
    assert order.cost_sun and order.cost_sun > 0
    assert box.balance() == before - order.cost_sun  # the provider charged exactly what we record
    assert SandboxOrder.objects.count() == 1
    assert order.burn_sun_per_energy == 100 and order.burn_cost_sun == 6_500_000
    assert order.events.filter(kind="exchange", method="POST").count() == 1
    assert AuditEvent.objects.filter(action="order.placed", object_code=str(order.code)).exists()


def test_itrx_order_response_balance_is_recorded(itrx, http):
    from energydash.balances.models import BalanceSnapshot

    order = place_order(spec(itrx), client=http)
    assert order.balance_after_sun == itrx.balance()
    snapshot = BalanceSnapshot.objects.get(account=itrx.account)
    assert snapshot.balance_sun == itrx.balance() and snapshot.source == "order"


def test_insufficient_funds_fails_with_the_providers_words_and_charges_nothing(http, db):
    from tests.orders.conftest import make_box

    box = make_box("tronzap", balance_sun=1 * SUN_PER_TRX)
    order = place_order(spec(box), client=http)
    assert order.status == Status.FAILED
    assert "insufficient" in order.last_error.lower()
    assert "nothing was charged" in order.last_error
    assert box.balance() == 1 * SUN_PER_TRX


def test_an_unactivated_address_is_refused_by_itrx_unless_activation_is_asked(itrx, http):
    target = unactivated("fresh")
    failed = place_order(spec(itrx, receive_address=target), client=http)
    assert failed.status == Status.FAILED and "activat" in failed.last_error.lower()

    activated = place_order(spec(itrx, receive_address=target, activate=True), client=http)
    assert activated.status in (Status.SUBMITTED, Status.DELEGATING)


def test_an_invalid_address_is_refused_before_any_provider_call(itrx):
    calls = []
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(500))
    )
    with pytest.raises(PlacementRefused, match="checksum"):
        place_order(
            spec(itrx, receive_address=ALICE[:-1] + ("a" if ALICE[-1] != "a" else "b")),
            client=client,
        )
    assert calls == [] and not Order.objects.exists()


def test_below_minimum_energy_is_refused_with_the_providers_limit(netts, http):
    with pytest.raises(PlacementRefused) as refused:
        place_order(spec(netts, energy=1_000), client=http)
    assert "below Netts's minimum order of 61,000" in str(refused.value)
    assert not SandboxOrder.objects.exists() and not Order.objects.exists()


def test_the_same_form_token_submitted_twice_creates_one_order(itrx, http):
    first = place_order(spec(itrx), client=http, idempotency_key="token-1")
    second = place_order(spec(itrx), client=http, idempotency_key="token-1")
    assert first.pk == second.pk
    assert Order.objects.count() == 1 and SandboxOrder.objects.count() == 1


def test_a_budget_refusal_makes_no_provider_call_when_the_cost_was_confirmed(itrx):
    itrx.account.daily_budget_sun = 5 * SUN_PER_TRX
    itrx.account.save()
    calls = []
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(500))
    )
    with pytest.raises(PlacementRefused) as refused:
        place_order(spec(itrx), client=client, confirmed_cost_sun=6 * SUN_PER_TRX)
    assert "daily budget of 5.000000 TRX" in str(refused.value)
    assert calls == [] and not Order.objects.exists()


def test_the_daily_budget_counts_todays_orders_and_never_places(itrx, http):
    first = place_order(spec(itrx), client=http)
    itrx.account.daily_budget_sun = first.cost_sun + first.cost_sun // 2
    itrx.account.save()
    with pytest.raises(PlacementRefused, match="spent"):
        place_order(spec(itrx), client=http)
    assert SandboxOrder.objects.count() == 1  # the refused one never reached the provider


def test_a_maximum_per_order_refuses_with_the_numbers(itrx, http):
    itrx.account.max_order_sun = 1 * SUN_PER_TRX
    itrx.account.save()
    with pytest.raises(PlacementRefused, match=r"above Sandbox itrx's maximum of 1.000000 TRX"):
        place_order(spec(itrx), client=http)
    assert not SandboxOrder.objects.exists()


def test_a_price_rise_after_confirmation_is_refused(itrx, http):
    with pytest.raises(PlacementRefused, match="price rose"):
        place_order(spec(itrx), client=http, confirmed_cost_sun=1)
    assert not SandboxOrder.objects.exists()


def test_a_collection_order_goes_to_itrx_collect_manual(itrx, http):
    order = place_order(
        spec(itrx, kind="collection", energy=None, to_address=address("bob")), client=http
    )
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert order.events.filter(url__contains="collect-manual").exists()


def test_collection_and_activation_orders_are_refused_where_the_provider_has_none(tronzap, netts):
    with pytest.raises(PlacementRefused, match="only at itrx"):
        place_order(spec(tronzap, kind="collection"))
    with pytest.raises(PlacementRefused, match="no separate activation order"):
        place_order(spec(netts, kind="activation"))


def test_tronzap_activation_order_is_placed(tronzap, http):
    order = place_order(
        spec(tronzap, kind="activation", energy=None, receive_address=unactivated("a")), client=http
    )
    assert order.status in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED)
    assert order.cost_sun > 0


def test_an_accepted_order_whose_recording_fails_once_is_recorded_by_the_second_try(
    itrx, http, monkeypatch
):
    """The exchange, the placed state and the audit row are one transaction; if it fails, nothing
    of it stays half-written and each part is recorded again on its own."""
    from energydash.orders import placement_outcome

    real = placement_outcome.vet_placed
    calls = []

    def flaky(order, placed):
        calls.append(order.pk)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return real(order, placed)

    monkeypatch.setattr(placement_outcome, "vet_placed", flaky)
    order = place_order(spec(itrx), client=http)
    order.refresh_from_db()
    assert len(calls) == 2
    assert order.status in (Status.SUBMITTED, Status.DELEGATING) and order.provider_ref
    assert order.events.filter(kind="exchange", method="POST").count() == 1  # not twice
    assert order.events.filter(kind="state", from_status=Status.DRAFT).count() == 1
    audited = AuditEvent.objects.filter(action="order.placed", object_code=str(order.code))
    assert audited.count() == 1
    assert SandboxOrder.objects.count() == 1


def test_an_accepted_order_that_cannot_be_recorded_goes_to_review_never_stays_draft(
    tronzap, http, monkeypatch
):
    from energydash.orders import placement_outcome

    def broken(order, placed):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(placement_outcome, "vet_placed", broken)
    order = place_order(spec(tronzap), client=http)
    order.refresh_from_db()
    assert order.status == Status.NEEDS_REVIEW
    assert order.last_error == (
        "Accepted by the provider, but its answer could not be recorded (RuntimeError)."
    )
    assert order.events.filter(kind="exchange", method="POST").count() == 1
    assert SandboxOrder.objects.count() == 1  # sent once, never again
    audited = AuditEvent.objects.filter(action="order.placed", object_code=str(order.code))
    assert audited.count() == 1
