from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from energydash.providers import base
from energydash.providers.netts import NettsAdapter
from tests.providers import fixtures as fx
from tests.providers.conftest import FakeProvider, body_json, credentials, reply, text_reply

PREFIX = "/prefix/netts/apiv2"


def adapter(fake: FakeProvider, **overrides) -> NettsAdapter:
    return NettsAdapter(credentials("netts", **overrides), fake.client(), sleep=lambda s: None)


def place(fake: FakeProvider, energy: int = 131000) -> base.PlacedOrder:
    return adapter(fake).place_energy_order(fx.ADDRESS, energy, "1H", "ord-42")


def assert_authenticated(request) -> None:
    assert request.headers["X-API-KEY"] == fx.NETTS_KEY
    assert request.headers["X-Real-IP"] == fx.EGRESS_IP


def test_balance_reads_userinfo_stats_in_trx():
    fake = FakeProvider(reply(fx.NETTS_USERINFO))
    assert adapter(fake).balance().balance_sun == 28_361_150_000
    assert (fake.last.method, fake.last.url.path) == ("GET", f"{PREFIX}/userinfo")
    assert_authenticated(fake.last)


def test_missing_egress_ip_is_refused_before_any_call():
    fake = FakeProvider(reply(fx.NETTS_USERINFO))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake, egress_ip="").balance()
    assert caught.value.outcome == base.REJECTED
    assert "X-Real-IP" in caught.value.message
    assert fake.calls == 0


def test_quote_reads_the_current_price_from_pricing_first():
    fake = FakeProvider(reply(fx.NETTS_PRICING))
    quote = adapter(fake).quote(65000, "1H")
    assert fake.calls == 1
    request = fake.last
    assert (request.method, request.url.path) == ("GET", f"{PREFIX}/pricing")
    assert request.url.params["services"] == "energy_1h"
    assert_authenticated(request)
    assert quote.unit_price_sun == Decimal(18)
    assert quote.total_sun == 18 * 65000
    assert quote.price_source == "/apiv2/pricing"
    assert quote.limits == base.Limits(61000, 5_000_000, ("1H",))


def test_quote_with_activation_includes_the_activation_cost():
    quote = adapter(FakeProvider(reply(fx.NETTS_PRICING))).quote(65000, "1H", activate=True)
    assert quote.activation_sun == 1_100_000
    assert quote.total_sun == 18 * 65000 + 1_100_000
    assert quote.unit_price_sun == Decimal(18)  # the energy price alone


RETIRED = reply({"detail": "Not Found"}, 404)


@pytest.mark.parametrize(
    ("energy", "unit"),
    [(65000, 19), (131000, 17), (199999, 19), (200000, 16), (1_000_000, 16)],
)
def test_without_pricing_the_deprecated_prices_tier_by_amount_is_used(energy, unit):
    fake = FakeProvider(RETIRED, reply(fx.NETTS_PRICES))
    quote = adapter(fake).quote(energy, "1H")
    assert [r.url.path for r in fake.requests] == [f"{PREFIX}/pricing", f"{PREFIX}/prices"]
    assert quote.unit_price_sun == Decimal(unit)
    assert quote.total_sun == unit * energy
    assert quote.limits == base.Limits(61000, 5_000_000, ("1H",))
    assert quote.price_source.startswith("/apiv2/prices (deprecated; /apiv2/pricing unavailable")


@pytest.mark.parametrize(
    "failure",
    [
        reply({"code": 5000, "msg": "Internal server error occurred"}, 500),
        reply({"success": True, "data": {"services": {}}}),  # no current 1h price
        httpx.ConnectError("refused"),
    ],
    ids=["5xx", "no current price", "unreachable"],
)
def test_prices_is_read_only_when_pricing_is_unavailable(failure):
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/prices"):
            return reply(fx.NETTS_PRICES)
        if isinstance(failure, Exception):
            raise failure
        return failure

    fake = FakeProvider(route)
    quote = adapter(fake).quote(65000, "1H")
    assert fake.last.url.path == f"{PREFIX}/prices"
    assert quote.unit_price_sun == Decimal(19)
    assert "/apiv2/pricing unavailable" in quote.price_source


def test_an_authentication_refusal_on_pricing_is_not_hidden_by_the_fallback():
    fake = FakeProvider(reply({"detail": "Invalid API key or IP not in whitelist"}, 401))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).quote(65000, "1H")
    assert caught.value.outcome == base.REJECTED
    assert [r.url.path for r in fake.requests] == [f"{PREFIX}/pricing"]


def test_quote_falls_back_to_the_dearest_tier_when_one_is_missing():
    prices = {**fx.NETTS_PRICES}
    prices["periods"] = [
        {"is_active": True, "prices": {"more_than_200k": {"price_sun": 16}, "x": {"price_sun": 21}}}
    ]
    quote = adapter(FakeProvider(RETIRED, reply(prices))).quote(65000, "1H")
    assert quote.unit_price_sun == Decimal(21)


def test_order_sends_our_reference_as_x_idempotency_key():
    fake = FakeProvider(reply(fx.NETTS_ORDER))
    place(fake)
    assert fake.last.headers["X-Idempotency-Key"] == "ord-42"


def test_208_for_a_repeated_key_is_the_order_already_placed():
    fake = FakeProvider(reply(fx.NETTS_ORDER, 208))
    placed = place(fake)
    assert fake.calls == 1  # never re-sent
    assert placed.provider_ref == "1H123456"
    assert placed.cost_sun == 2_230_000
    assert placed.raw_status == "10000 (208 already placed)"


@pytest.mark.parametrize(
    "body", [{}, {"detail": {"code": 10000, "data": {}}}, None], ids=["empty", "no id", "html"]
)
def test_208_without_the_first_order_is_unknown_and_not_re_sent(body):
    answer = reply(body, 208) if body is not None else text_reply("<html>", 208)
    fake = FakeProvider(answer)
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    assert caught.value.outcome == base.UNKNOWN
    assert caught.value.http_status == 208
    assert "already placed" in caught.value.message
    assert fake.calls == 1


def test_order1h_sends_camel_case_body_and_our_reference_only_as_a_header():
    fake = FakeProvider(reply(fx.NETTS_ORDER))
    placed = place(fake)
    request = fake.last
    assert (request.method, request.url.path) == ("POST", f"{PREFIX}/order1h")
    assert_authenticated(request)
    assert request.headers["Content-Type"] == "application/json"
    assert body_json(request) == {"amount": 131000, "receiveAddress": fx.ADDRESS}
    assert placed == base.PlacedOrder(
        provider_ref="1H123456",
        status=base.COMPLETED,
        raw_status="10000",
        cost_sun=2_230_000,
        balance_after_sun=None,
        energy=131050,
        tx_hashes=("a1b2c3d4",),
        raw=fx.NETTS_ORDER["detail"]["data"],
    )


def test_order_without_hash_yet_is_delegating():
    data = {**fx.NETTS_ORDER["detail"]["data"], "hash": ""}
    fake = FakeProvider(reply({"detail": {"code": 10000, "msg": "ok", "data": data}}))
    assert place(fake).status == base.DELEGATING


@pytest.mark.parametrize("energy", [60999, 5_000_001])
def test_energy_outside_the_documented_range_is_refused_before_any_call(energy):
    fake = FakeProvider(reply(fx.NETTS_ORDER))
    with pytest.raises(base.ProviderError) as caught:
        place(fake, energy)
    assert caught.value.outcome == base.REJECTED
    assert fake.calls == 0


def test_401_detail_string_is_an_authentication_rejection():
    fake = FakeProvider(reply({"detail": "Invalid API key or IP not in whitelist"}, 401))
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    error = caught.value
    assert (error.outcome, error.code, error.http_status) == (base.REJECTED, "http 401", 401)
    assert error.message == "authentication failed: Invalid API key or IP not in whitelist"


def test_403_insufficient_funds_is_rejected_with_code_1004():
    msg = "Insufficient funds. Required: 2.23 TRX, Available: 1.50 TRX"
    fake = FakeProvider(reply({"code": 1004, "msg": msg}, 403))
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    assert (caught.value.outcome, caught.value.code, caught.value.message) == (
        base.REJECTED,
        "1004",
        msg,
    )


def test_400_is_rejected():
    fake = FakeProvider(reply({"detail": "amount must be between 61000 and 5000000"}, 400))
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    assert (caught.value.outcome, caught.value.code) == (base.REJECTED, "http 400")


def test_error_code_nested_in_detail_is_read():
    fake = FakeProvider(reply({"detail": {"code": 1004, "msg": "Insufficient funds"}}, 403))
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    assert (caught.value.code, caught.value.message) == ("1004", "Insufficient funds")


def test_500_code_5000_after_an_order_is_unknown():
    fake = FakeProvider(reply({"code": 5000, "msg": "Internal server error occurred"}, 500))
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    assert (caught.value.outcome, caught.value.code) == (base.UNKNOWN, "5000")
    assert fake.calls == 1


@pytest.mark.parametrize(
    ("code", "msg", "transient"),
    [
        (5001, "Energy provider temporarily unavailable", True),
        (5002, "Energy provider temporarily unavailable", True),
        (5003, "Service temporarily unavailable. All energy providers are unavailable.", True),
        (5004, "Energy provider requires higher minimum amount", False),
    ],
)
def test_503_provider_codes_are_unavailable(code, msg, transient):
    fake = FakeProvider(reply({"code": code, "msg": msg}, 503))
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    error = caught.value
    assert (error.outcome, error.code, error.message) == (base.UNAVAILABLE, str(code), msg)
    assert error.transient is transient
    assert fake.calls == 1


def test_503_without_a_netts_code_after_an_order_is_unknown():
    fake = FakeProvider(text_reply("upstream timed out", 503))
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    assert caught.value.outcome == base.UNKNOWN


def test_2xx_without_success_code_after_an_order_is_unknown():
    fake = FakeProvider(reply({"detail": {"code": 10001, "msg": "processing"}}))
    with pytest.raises(base.ProviderError) as caught:
        place(fake)
    assert caught.value.outcome == base.UNKNOWN


def test_get_order_reads_order_check():
    fake = FakeProvider(reply(fx.NETTS_ORDER_CHECK))
    state = adapter(fake).get_order(provider_ref="1H123456")
    assert fake.last.url.path == f"{PREFIX}/order_check"
    assert fake.last.url.params["order_id"] == "1H123456"
    assert_authenticated(fake.last)
    assert state.status == base.COMPLETED
    assert state.tx_hashes == ("d1e2f3",)
    assert state.cost_sun == 2_535_000
    assert (state.energy_ordered, state.energy_delivered) == (131050, 131050)
    assert state.reference is None


def test_order_without_tx_hashes_is_still_delegating():
    check = {**fx.NETTS_ORDER_CHECK, "order": {**fx.NETTS_ORDER_CHECK["order"], "tx_hashes": []}}
    state = adapter(FakeProvider(reply(check))).get_order(provider_ref="1H123456")
    assert (state.status, state.raw_status, state.energy_delivered) == (
        base.DELEGATING,
        "processing",
        None,
    )


def test_order_check_failure_is_rejected_with_the_message():
    fake = FakeProvider(reply({"success": False, "msg": "Order not found"}))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).get_order(provider_ref="1Hnope")
    assert (caught.value.outcome, caught.value.message) == (base.REJECTED, "Order not found")
    assert caught.value.not_found


def test_lookup_by_our_reference_is_refused_before_any_call():
    fake = FakeProvider(reply(fx.NETTS_ORDER_CHECK))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).get_order(reference="ord-42")
    assert caught.value.outcome == base.REJECTED
    assert "cannot look up an order by our reference" in caught.value.message
    assert fake.calls == 0


def test_activation_and_collection_are_refused_in_plain_words():
    fake = FakeProvider(reply({}))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).activate_address(fx.ADDRESS, "act-1")
    assert "activates automatically at cost" in caught.value.message
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_collection_order(fx.ADDRESS, "sweep-1")
    assert "no collection order" in caught.value.message
    assert fake.calls == 0


def test_error_status_body_with_http_200_is_an_authentication_rejection():
    body = {"status": "error", "code": 401, "message": "Invalid API key or IP not in whitelist"}
    with pytest.raises(base.ProviderError) as caught:
        adapter(FakeProvider(reply(body))).balance()
    assert (caught.value.outcome, caught.value.code) == (base.REJECTED, "401")
    assert "whitelist" in caught.value.message


def test_balance_that_is_not_a_number_is_unavailable_not_a_crash():
    body = {**fx.NETTS_USERINFO, "stats": {"balance": "n/a"}}
    with pytest.raises(base.ProviderError) as caught:
        adapter(FakeProvider(reply(body))).balance()
    assert caught.value.outcome == base.UNAVAILABLE


def test_activation_price_is_refused_in_plain_words():
    fake = FakeProvider(reply({}))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).activation_price(fx.ADDRESS)
    assert "paidTRX" in caught.value.message
    assert fake.calls == 0


def test_order_check_counts_the_activation_listed_apart_in_the_cost():
    """order_check lists activation.cost apart from order.cost (4.4), while paidTRX at placing
    included it: the order's charge is both."""
    check = {**fx.NETTS_ORDER_CHECK, "activation": {"cost": 1.1, "tx_hash": "ac71"}}
    state = adapter(FakeProvider(reply(check))).get_order(provider_ref="1H123456")
    assert state.cost_sun == 2_535_000 + 1_100_000
