"""The provider adapters against the sandbox over HTTP: both read providers.md the same way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine

from energydash.lib.crypto import Secret
from energydash.lib.tron import SUN_PER_TRX
from energydash.providers import base
from energydash.providers.credentials import Credentials
from energydash.providers.registry import adapter_for
from energydash.sandbox.models import SandboxAccount, SandboxOrder
from energydash.sandbox.tasks import deliver_due_callbacks
from tests.sandbox.helpers import address, balance, unactivated
from tests.waiting import wait_until

RECEIVER = address("contract receiver")
FULL = 100 * SUN_PER_TRX
START = datetime(2026, 8, 7, 10, 0, tzinfo=UTC)
PLACE_ENERGY = {"energy": 65_000, "period": "1H"}


def credentials(box: SandboxAccount, base_url: str, **extra) -> Credentials:
    return Credentials(
        provider=box.provider,
        base_url=f"{base_url}/sandbox/{box.provider}",
        api_key=box.api_key,
        api_secret=box.api_secret,
        egress_ip="127.0.0.1" if box.provider == "netts" else "",
        **extra,
    )


@pytest.fixture
def adapter(wsgi_app) -> Callable[..., base.Adapter]:
    """adapter(box, **credential overrides): the registry's adapter talking to the sandbox."""

    def make(box: SandboxAccount, **overrides) -> base.Adapter:
        client = httpx.Client(transport=httpx.WSGITransport(app=wsgi_app))
        creds = credentials(box, "http://testserver")
        if overrides:
            creds = Credentials(**{**creds.__dict__, **overrides})
        return adapter_for(creds, client, sleep=lambda seconds: None)

    return make


@pytest.fixture(params=["itrx", "tronzap", "netts"])
def box(request, itrx_box, tronzap_box, netts_box) -> SandboxAccount:
    return {"itrx": itrx_box, "tronzap": tronzap_box, "netts": netts_box}[request.param]


@pytest.fixture(params=["itrx", "tronzap"])
def box_with_reference(request, itrx_box, tronzap_box) -> SandboxAccount:
    return {"itrx": itrx_box, "tronzap": tronzap_box}[request.param]


def refused(call: Callable[[], object]) -> base.ProviderError:
    with pytest.raises(base.ProviderError) as caught:
        call()
    return caught.value


def test_balance_matches_the_sandbox(adapter, box):
    assert adapter(box).balance().balance_sun == FULL


def test_the_quote_is_what_the_order_then_costs(adapter, box):
    client = adapter(box)
    quote = client.quote(65_000, "1H", RECEIVER)
    placed = client.place_energy_order(RECEIVER, reference="q-1", **PLACE_ENERGY)
    assert placed.cost_sun == quote.total_sun == SandboxOrder.objects.get().cost_sun
    assert client.balance().balance_sun == FULL - placed.cost_sun
    assert (quote.limits.min_energy, quote.limits.max_energy) == (box.min_energy, box.max_energy)


def test_an_order_is_found_by_its_provider_ref(adapter, box):
    client = adapter(box)
    placed = client.place_energy_order(RECEIVER, reference="ref-1", **PLACE_ENERGY)
    state = client.get_order(provider_ref=placed.provider_ref)
    assert state.provider_ref == placed.provider_ref
    assert state.cost_sun == placed.cost_sun


def test_an_order_is_found_by_our_reference(adapter, box_with_reference):
    client = adapter(box_with_reference)
    placed = client.place_energy_order(RECEIVER, reference="ours-42", **PLACE_ENERGY)
    assert client.get_order(reference="ours-42").provider_ref == placed.provider_ref
    missing = refused(lambda: client.get_order(reference="never"))
    assert (missing.outcome, missing.not_found) == (base.REJECTED, True)


def test_the_order_completes_with_hashes_after_the_delegation_delay(adapter, box):
    client = adapter(box)
    with time_machine.travel(START, tick=False) as clock:
        ref = client.place_energy_order(RECEIVER, reference="life", **PLACE_ENERGY).provider_ref
        early = client.get_order(provider_ref=ref)
        assert early.status in (base.SUBMITTED, base.DELEGATING)
        assert early.tx_hashes == ()
        clock.shift(6)
        done = client.get_order(provider_ref=ref)
    assert done.status == base.COMPLETED
    assert len(done.tx_hashes[0]) == 64


def test_itrx_collection_order(adapter, itrx_box):
    client = adapter(itrx_box)
    placed = client.place_collection_order(RECEIVER, reference="sweep-1")
    assert placed.cost_sun == 65_000 * 65
    assert placed.balance_after_sun == FULL - placed.cost_sun == balance(itrx_box)
    assert client.get_order(reference="sweep-1").energy_ordered == 65_000


def test_tronzap_activation_order_charges_the_listed_price(adapter, tronzap_box):
    client = adapter(tronzap_box)
    new = unactivated("contract tz activation")
    price = client.activation_price(new)
    placed = client.activate_address(new, reference="act-1")
    assert placed.cost_sun == price == 1_400_000
    assert client.get_order(reference="act-1").provider_ref == placed.provider_ref
    again = refused(lambda: client.activate_address(new, reference="act-2"))
    assert again.outcome == base.REJECTED
    assert balance(tronzap_box) == FULL - 1_400_000


@pytest.mark.parametrize("kind, fee", [("itrx", 1_500_000), ("tronzap", 1_400_000)])
def test_activation_on_an_energy_order_is_charged(adapter, itrx_box, tronzap_box, kind, fee):
    box = itrx_box if kind == "itrx" else tronzap_box
    client = adapter(box)
    new = unactivated(f"contract {kind} activate")
    plain = client.quote(65_000, "1H", RECEIVER).total_sun
    placed = client.place_energy_order(new, reference="a", activate=True, **PLACE_ENERGY)
    assert placed.cost_sun == plain + fee


def test_a_quote_with_activation_is_what_the_order_with_activation_then_costs(adapter, box):
    client = adapter(box)
    new = unactivated(f"contract {box.provider} quote activation")
    quote = client.quote(65_000, "1H", new, activate=True)
    placed = client.place_energy_order(new, reference="qa", activate=True, **PLACE_ENERGY)
    assert quote.activation_sun and quote.activation_sun > 0
    assert placed.cost_sun == quote.total_sun == FULL - balance(box)


def test_netts_quotes_come_from_pricing(adapter, netts_box):
    quote = adapter(netts_box).quote(65_000, "1H", RECEIVER)
    assert quote.price_source == "/apiv2/pricing"
    assert quote.total_sun == 65_000 * 55


def test_netts_repeated_idempotency_key_is_208_with_the_first_order_charged_once(
    adapter, netts_box
):
    client = adapter(netts_box)
    first = client.place_energy_order(RECEIVER, reference="netts-key-1", **PLACE_ENERGY)
    again = client.place_energy_order(RECEIVER, reference="netts-key-1", **PLACE_ENERGY)
    assert client.exchanges[-1].status_code == 208
    assert again.provider_ref == first.provider_ref
    assert again.raw_status == "10000 (208 already placed)"
    assert SandboxOrder.objects.count() == 1
    assert balance(netts_box) == FULL - first.cost_sun
    other = client.place_energy_order(RECEIVER, reference="netts-key-2", **PLACE_ENERGY)
    assert other.provider_ref != first.provider_ref  # a new key is a new order


def test_a_refunded_order_reads_as_refunded_with_its_refund(adapter, box_with_reference):
    client = adapter(box_with_reference)
    placed = client.place_energy_order(RECEIVER, reference="refund-1", **PLACE_ENERGY)
    assert SandboxOrder.objects.get(ref=placed.provider_ref).refund()
    state = client.get_order(provider_ref=placed.provider_ref)
    assert state.status == base.REFUNDED
    assert state.refund_sun == placed.cost_sun
    assert balance(box_with_reference) == FULL


def test_netts_activates_automatically_at_cost(adapter, netts_box):
    client = adapter(netts_box)
    new = unactivated("contract netts activate")
    placed = client.place_energy_order(new, reference="", **PLACE_ENERGY)
    assert placed.cost_sun == 65_000 * 55 + 1_100_000
    assert placed.energy == 65_050
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=7)):
        hashes = client.get_order(provider_ref=placed.provider_ref).tx_hashes
    assert len(hashes) == 2  # the delegation and the activation


def test_a_wrong_key_is_rejected(adapter, box):
    error = refused(lambda: adapter(box, api_key=Secret("not-the-key")).balance())
    assert error.outcome == base.REJECTED


def test_a_wrong_secret_on_an_order_is_rejected(adapter, box_with_reference):
    client = adapter(box_with_reference, api_secret=Secret("not-the-secret"))
    error = refused(lambda: client.place_energy_order(RECEIVER, reference="s", **PLACE_ENERGY))
    assert error.outcome == base.REJECTED
    assert balance(box_with_reference) == FULL


def test_a_netts_ip_outside_the_whitelist_is_rejected(adapter, netts_box):
    error = refused(lambda: adapter(netts_box, egress_ip="198.51.100.9").balance())
    assert (error.outcome, error.http_status) == (base.REJECTED, 401)


def test_insufficient_funds_is_rejected_and_charges_nothing(adapter, box):
    box.balance_sun = 1_000_000
    box.save()
    error = refused(
        lambda: adapter(box).place_energy_order(RECEIVER, reference="poor", **PLACE_ENERGY)
    )
    assert error.outcome == base.REJECTED
    assert balance(box) == 1_000_000
    assert not SandboxOrder.objects.exists()


def test_below_the_minimum_energy_is_rejected(adapter, box):
    box.min_energy = 100_000
    box.save()
    error = refused(
        lambda: adapter(box).place_energy_order(RECEIVER, reference="m", **PLACE_ENERGY)
    )
    assert error.outcome == base.REJECTED
    assert balance(box) == FULL


def test_an_unactivated_address_without_activation_is_rejected(adapter, box_with_reference):
    new = unactivated("contract not activated")
    error = refused(
        lambda: adapter(box_with_reference).place_energy_order(new, reference="n", **PLACE_ENERGY)
    )
    assert error.outcome == base.REJECTED
    assert balance(box_with_reference) == FULL


def test_an_invalid_address_is_rejected(adapter, box):
    bad = RECEIVER[:-1] + ("A" if RECEIVER[-1] != "A" else "B")
    error = refused(lambda: adapter(box).place_energy_order(bad, reference="x", **PLACE_ENERGY))
    assert error.outcome == base.REJECTED


def test_server_errors_on_a_read_are_unavailable(adapter, box):
    box.error_rate = 1.0
    box.save()
    error = refused(lambda: adapter(box).balance())
    assert error.outcome == base.UNAVAILABLE
    assert error.http_status == 500


def test_server_errors_on_a_placing_request_are_unknown(adapter, box):
    box.error_rate = 1.0
    box.save()
    error = refused(
        lambda: adapter(box).place_energy_order(RECEIVER, reference="5xx", **PLACE_ENERGY)
    )
    assert error.outcome == base.UNKNOWN


def test_a_lost_answer_is_unknown_and_the_order_is_then_found_by_reference(
    live_sandbox, box_with_reference
):
    box_with_reference.lose_response_rate = 1.0
    box_with_reference.hang_seconds = 1.0
    box_with_reference.save()
    creds = credentials(box_with_reference, live_sandbox, timeout=0.2, connect_timeout=1.0)
    with adapter_for(creds, sleep=lambda seconds: None) as client:
        error = refused(
            lambda: client.place_energy_order(RECEIVER, reference="lost-9", **PLACE_ENERGY)
        )
        assert error.outcome == base.UNKNOWN
        wait_until(SandboxOrder.objects.exists)  # the sandbox commits on its own schedule
        found = client.get_order(reference="lost-9")
    order = SandboxOrder.objects.get()
    assert found.provider_ref == order.ref
    assert balance(box_with_reference) == FULL - order.cost_sun


def test_a_lost_netts_answer_is_unknown_and_needs_a_person(live_sandbox, netts_box):
    netts_box.lose_response_rate = 1.0
    netts_box.hang_seconds = 1.0
    netts_box.save()
    creds = credentials(netts_box, live_sandbox, timeout=0.2, connect_timeout=1.0)
    with adapter_for(creds, sleep=lambda seconds: None) as client:
        error = refused(lambda: client.place_energy_order(RECEIVER, reference="", **PLACE_ENERGY))
        assert error.outcome == base.UNKNOWN
        assert refused(lambda: client.get_order(reference="anything")).outcome == base.REJECTED
    wait_until(SandboxOrder.objects.exists)
    assert balance(netts_box) == FULL - SandboxOrder.objects.get().cost_sun


def test_the_itrx_callback_passes_the_adapters_verification(adapter, itrx_box, settings):
    settings.ENERGYDASH_PUBLIC_URL = "https://console.example"  # the sandbox calls back only it
    client = adapter(itrx_box)
    with time_machine.travel(START, tick=False):
        placed = client.place_energy_order(
            RECEIVER,
            reference="cb-1",
            callback_url="https://console.example/callbacks/itrx/cb/",
            **PLACE_ENERGY,
        )
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    delivered_at = START + timedelta(seconds=6)
    deliver_due_callbacks(
        now=delivered_at, client=httpx.Client(transport=httpx.MockTransport(receiver))
    )
    (request,) = received
    event = client.verify_callback(request.headers, request.content, now=delivered_at.timestamp())
    assert (event.provider_ref, event.reference) == (placed.provider_ref, "cb-1")
    assert event.status == base.COMPLETED
    assert event.energy_delivered == 65_000
    assert event.matched_form == "compact"
    forged = refused_callback(client, request.headers, request.content.replace(b"cb-1", b"cb-2"))
    assert forged.status_code == 403


def refused_callback(client: base.Adapter, headers, body: bytes) -> base.CallbackRejected:
    with pytest.raises(base.CallbackRejected) as caught:
        client.verify_callback(headers, body, now=START.timestamp() + 6)
    return caught.value
