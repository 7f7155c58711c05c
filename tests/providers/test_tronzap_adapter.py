from __future__ import annotations

from decimal import Decimal

import pytest

from energydash.providers import base
from energydash.providers.tronzap import TronZapAdapter, sign
from tests.providers import fixtures as fx
from tests.providers.conftest import FakeProvider, body_json, credentials, reply, text_reply

PREFIX = "/prefix/tronzap/v1"


def adapter(fake: FakeProvider) -> TronZapAdapter:
    return TronZapAdapter(credentials("tronzap"), fake.client(), sleep=lambda s: None)


def assert_signed(request) -> None:
    assert request.method == "POST"
    assert request.headers["Authorization"] == f"Bearer {fx.TZ_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Signature"] == sign(fx.TZ_SECRET, request.content.decode())


def test_signature_reproduces_the_documented_example():
    assert sign(fx.TZ_EXAMPLE_SECRET, fx.TZ_EXAMPLE_BODY) == fx.TZ_EXAMPLE_SIGNATURE


def test_balance_posts_and_signs_an_empty_object():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_BALANCE)))
    balance = adapter(fake).balance()
    assert balance.balance_sun == 100_500_000
    assert fake.last.url.path == f"{PREFIX}/balance"
    assert fake.last.content == b"{}"
    assert_signed(fake.last)


def test_balance_given_as_a_string_is_converted_exactly():
    fake = FakeProvider(reply(fx.tz_ok({"balance": "2.23", "address": "T"})))
    assert adapter(fake).balance().balance_sun == 2_230_000


def test_quote_with_address_uses_calculate_and_services_limits():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_SERVICES)), reply(fx.tz_ok(fx.TZ_CALCULATE)))
    quote = adapter(fake).quote(65000, "1H", address=fx.ADDRESS)
    services, calculate = fake.requests
    assert services.url.path == f"{PREFIX}/services" and services.content == b"{}"
    assert calculate.url.path == f"{PREFIX}/calculate"
    assert body_json(calculate) == {"address": fx.ADDRESS, "amount": 65000, "duration": 1}
    assert_signed(calculate)
    assert quote.total_sun == 4_800_000
    assert quote.activation_sun == 1_400_000
    assert quote.unit_price_sun == Decimal("52.308")  # 3.4 TRX / 65000 energy
    assert quote.limits == base.Limits(50000, 131000, ("1H",))


def test_quote_without_address_prices_from_the_per_1000_rate():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_SERVICES)))
    quote = adapter(fake).quote(65000, "1H")
    assert fake.calls == 1
    assert quote.unit_price_sun == Decimal("52.3")  # 0.0523 TRX per 1000 energy
    assert quote.total_sun == 3_399_500
    assert quote.activation_sun is None


def test_services_deprecated_min_max_aliases_are_read():
    entry = {"duration": 1, "min_energy": 32000, "max_energy": 150000, "price": "0.05"}
    legacy = {"energy": [entry]}
    fake = FakeProvider(reply(fx.tz_ok(legacy)))
    quote = adapter(fake).quote(32000, "1H")
    assert (quote.limits.min_energy, quote.limits.max_energy) == (32000, 150000)
    assert quote.total_sun == 1_600_000


def test_only_the_one_hour_period_is_offered():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_SERVICES)))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1D", "ord-42")
    assert caught.value.outcome == base.REJECTED
    assert fake.calls == 0


def test_energy_order_sends_the_body_of_the_official_python_and_java_sdks():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_TRANSACTION)))
    placed = adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42", activate=True)
    assert fake.last.url.path == f"{PREFIX}/transaction/new"
    assert_signed(fake.last)
    # Exact bytes: params.amounts.energy (never params.amount alone), external_id last.
    assert fake.last.content == (
        b'{"service":"energy","params":{"address":"' + fx.ADDRESS.encode() + b'",'
        b'"amounts":{"energy":65000},"duration":1,"activate_address":true},'
        b'"external_id":"ord-42"}'
    )
    assert "amount" not in body_json(fake.last)["params"]
    assert placed == base.PlacedOrder(
        provider_ref="tz-7f3a9c",
        status=base.SUBMITTED,
        raw_status="new",
        cost_sun=3_400_000,
        balance_after_sun=None,
        energy=65000,
        tx_hashes=(),
        raw=fx.TZ_TRANSACTION,
    )


def test_energy_order_that_settles_at_once_is_completed():
    done = {**fx.TZ_TRANSACTION, "status": "success", "hash": "ff00", "amount": "3.40"}
    fake = FakeProvider(reply(fx.tz_ok(done)))
    placed = adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")
    assert (placed.status, placed.tx_hashes) == (base.COMPLETED, ("ff00",))
    assert placed.cost_sun == 3_400_000
    # Like the SDKs: activate_address is sent only when asked for.
    assert body_json(fake.last)["params"] == {
        "address": fx.ADDRESS,
        "amounts": {"energy": 65000},
        "duration": 1,
    }


def test_activation_order_uses_the_activate_address_service():
    result = {**fx.TZ_TRANSACTION, "service": "activate_address", "params": [], "amount": 1.4}
    fake = FakeProvider(reply(fx.tz_ok(result)))
    placed = adapter(fake).activate_address(fx.ADDRESS, "act-1")
    assert fake.last.content == (
        b'{"service":"activate_address","params":{"address":"'
        + fx.ADDRESS.encode()
        + b'"},"external_id":"act-1"}'
    )
    assert placed.cost_sun == 1_400_000
    assert placed.energy is None


def test_collection_is_refused_before_any_call():
    fake = FakeProvider(reply(fx.tz_ok({})))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_collection_order(fx.ADDRESS, "sweep-1")
    assert caught.value.outcome == base.REJECTED
    assert fake.calls == 0


def test_get_order_by_id_maps_the_check_reply():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_CHECK)))
    state = adapter(fake).get_order(provider_ref="tz-7f3a9c")
    assert fake.last.url.path == f"{PREFIX}/transaction/check"
    assert body_json(fake.last) == {"id": "tz-7f3a9c"}
    assert state.status == base.COMPLETED
    assert state.cost_sun == 3_400_000  # "3.40" as a string
    assert state.energy_ordered == 65000  # legacy energy_amount shape
    assert state.energy_delivered == 65000
    assert state.tx_hashes == ("ab12cd34ef56",)
    assert state.reference == "ord-42"


def test_get_order_by_reference_uses_external_id():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_CHECK)))
    adapter(fake).get_order(reference="ord-42")
    assert body_json(fake.last) == {"external_id": "ord-42"}


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("new", base.SUBMITTED),
        ("pending", base.DELEGATING),
        ("success", base.COMPLETED),
        ("failed", base.FAILED),
        ("refunded", base.REFUNDED),
        ("something new", base.SUBMITTED),  # unknown: not final, polling goes on
    ],
)
def test_transaction_statuses_are_normalised(raw, status):
    fake = FakeProvider(reply(fx.tz_ok({**fx.TZ_CHECK, "status": raw})))
    assert adapter(fake).get_order(provider_ref="tz-7f3a9c").status == status


def test_a_refunded_transaction_carries_its_refund_figure_when_given():
    refunded = {**fx.TZ_CHECK, "status": "refunded", "refund_amount": "3.40"}
    state = adapter(FakeProvider(reply(fx.tz_ok(refunded)))).get_order(provider_ref="tz-7f3a9c")
    assert (state.status, state.raw_status) == (base.REFUNDED, "refunded")
    assert state.refund_sun == 3_400_000
    assert state.energy_delivered is None  # nothing delivered on a refund


def test_a_refunded_transaction_without_a_figure_leaves_the_refund_unknown():
    refunded = {**fx.TZ_CHECK, "status": "refunded"}
    state = adapter(FakeProvider(reply(fx.tz_ok(refunded)))).get_order(provider_ref="tz-7f3a9c")
    assert state.status == base.REFUNDED
    assert state.refund_sun is None  # not assumed to be the whole cost


def test_quote_with_activation_and_no_address_adds_the_listed_activation_price():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_SERVICES)))
    quote = adapter(fake).quote(65000, "1H", activate=True)
    assert quote.activation_sun == 1_400_000  # activate_address.price 1.4
    assert quote.total_sun == 3_399_500 + 1_400_000


def test_empty_result_given_as_list_is_an_empty_object():
    fake = FakeProvider(reply(fx.tz_ok([])))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).balance()
    assert caught.value.outcome == base.UNAVAILABLE  # no balance in it, but no crash either


@pytest.mark.parametrize(
    ("code", "key", "error"),
    [
        (1, "auth", "Incorrect token or signature"),
        (2, "invalid_service_or_params", "Amount out of range"),
        (5, "wallet_not_found", "Wallet not found"),
        (6, "insufficient_funds", "Insufficient funds"),
        (10, "invalid_tron_address", "Invalid TRON address"),
        (11, "invalid_energy_amount", "Invalid energy amount"),
        (12, "invalid_duration", "Duration must be equal to 1 (1 hour)"),
        (20, "subscription_not_found", "Transaction not found"),
        (24, "address_not_activated", "Address not activated"),
        (25, "address_already_activated", "Address already activated"),
    ],
)
def test_refusal_codes_on_an_order_are_rejected(code, key, error):
    fake = FakeProvider(reply(fx.tz_error(code, key, error)))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")
    exc = caught.value
    assert (exc.outcome, exc.code, exc.transient) == (base.REJECTED, str(code), False)
    if code == 1:  # worded like itrx's and Netts's, TronZap's words as detail
        assert exc.message == f"authentication failed: {error} (request_id 99d8b507-0bca)"
    else:
        assert exc.message.startswith(error)
        assert key in exc.message
    assert fake.calls == 1


def test_http_200_with_a_non_zero_code_is_an_error():
    fake = FakeProvider(reply({"code": 6, "error": "Insufficient funds"}, 200))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")
    assert caught.value.outcome == base.REJECTED
    assert caught.value.http_status == 200
    assert str(caught.value) == (
        "TronZap rejected the request: Insufficient funds — nothing was charged"
    )


def test_transaction_not_found_is_marked_not_found():
    fake = FakeProvider(reply(fx.tz_error(20, "subscription_not_found", "Transaction not found")))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).get_order(reference="ord-missing")
    assert caught.value.not_found


def test_code_35_is_unavailable_and_transient():
    fake = FakeProvider(reply(fx.tz_error(35, "service_unavailable", "Service unavailable")))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")
    assert (caught.value.outcome, caught.value.transient) == (base.UNAVAILABLE, True)
    assert caught.value.charged == "nothing was charged"


def test_code_500_after_an_order_is_unknown():
    fake = FakeProvider(reply(fx.tz_error(500, "internal_server_error", "Internal error"), 500))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")
    assert caught.value.outcome == base.UNKNOWN
    assert "99d8b507-0bca" in caught.value.message  # request_id to quote to support
    assert fake.calls == 1


def test_code_500_on_a_read_is_unavailable_after_retries():
    fake = FakeProvider(reply(fx.tz_error(500, "internal_server_error", "Internal error"), 500))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).get_order(provider_ref="tz-1")
    assert caught.value.outcome == base.UNAVAILABLE
    assert fake.calls == 3


def test_non_json_401_is_an_authentication_rejection():
    fake = FakeProvider(text_reply("Unauthorized", 401))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).balance()
    assert (caught.value.outcome, caught.value.code) == (base.REJECTED, "http 401")


def test_success_without_a_transaction_id_is_unknown():
    fake = FakeProvider(reply(fx.tz_ok({"status": "new"})))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")
    assert caught.value.outcome == base.UNKNOWN


def test_activation_price_comes_from_services():
    fake = FakeProvider(reply(fx.tz_ok(fx.TZ_SERVICES)))
    assert adapter(fake).activation_price(fx.ADDRESS) == 1_400_000
    assert fake.last.url.path == f"{PREFIX}/services"


def test_a_transaction_that_failed_after_acceptance_carries_its_refund_figure_when_given():
    """Failed after acceptance: what TronZap says it gave back is recorded, so the order keeps
    cost - refund; without a figure the refund stays unknown (nothing assumed given back)."""
    failed = {**fx.TZ_CHECK, "status": "failed", "refund_amount": "1.40"}
    state = adapter(FakeProvider(reply(fx.tz_ok(failed)))).get_order(provider_ref="tz-7f3a9c")
    assert (state.status, state.cost_sun, state.refund_sun) == (base.FAILED, 3_400_000, 1_400_000)
    bare = {**fx.TZ_CHECK, "status": "failed"}
    state = adapter(FakeProvider(reply(fx.tz_ok(bare)))).get_order(provider_ref="tz-7f3a9c")
    assert state.refund_sun is None
