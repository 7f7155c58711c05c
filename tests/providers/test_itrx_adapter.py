from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from energydash.providers import base
from energydash.providers.itrx import ItrxAdapter, canonical_body, sign
from tests.providers import fixtures as fx
from tests.providers.conftest import FakeProvider, body_json, credentials, reply, text_reply

NOW = 1_700_000_000
PREFIX = "/prefix/itrx/api/v1/frontend"


def adapter(fake: FakeProvider, **kw) -> ItrxAdapter:
    kw.setdefault("sleep", lambda s: None)
    return ItrxAdapter(credentials("itrx"), fake.client(), clock=lambda: NOW, **kw)


def query(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}


def test_signature_reproduces_the_documented_worked_example():
    signature = sign(fx.ITRX_SECRET, fx.ITRX_EXAMPLE_TS, fx.ITRX_EXAMPLE_BODY)
    assert signature == fx.ITRX_EXAMPLE_SIGNATURE


def test_canonical_body_is_sorted_compact_json_of_the_documented_params():
    params = {
        "energy_amount": 32000,
        "period": "1D",
        "receive_address": "TExWKszFWYTKZH8LYiovAPKzS3L9MLZ4kw",
        "callback_url": "http://{mydomain}/callback",
        "out_trade_no": "123456",
    }
    assert canonical_body(params) == fx.ITRX_EXAMPLE_BODY


def test_balance_reads_index_data_with_only_the_api_key():
    fake = FakeProvider(reply(fx.ITRX_INDEX_DATA))
    balance = adapter(fake).balance()
    assert balance.balance_sun == 813892429257
    request = fake.last
    assert request.method == "GET"
    assert request.url.path == f"{PREFIX}/index-data"
    assert request.headers["API-KEY"] == fx.ITRX_KEY
    assert "SIGNATURE" not in request.headers and "TIMESTAMP" not in request.headers


def test_empty_index_data_means_the_key_is_wrong():
    fake = FakeProvider(reply({}))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).balance()
    assert caught.value.outcome == base.REJECTED
    assert "authentication failed" in caught.value.message


def test_quote_uses_total_price_and_live_limits():
    fake = FakeProvider(reply(fx.ITRX_PRICE), reply(fx.ITRX_INDEX_DATA))
    quote = adapter(fake).quote(32000, "3D", address=fx.ADDRESS)
    assert quote.total_sun == 10192000  # addition already inside total_price
    assert quote.unit_price_sun == Decimal("318.500")
    assert quote.limits == base.Limits(32000, 100000000, ("1H", "1D", "3D", "30D"))
    assert quote.activation_sun is None
    price_request = fake.requests[0]
    assert price_request.url.path == f"{PREFIX}/order/price"
    assert query(price_request) == {"period": "3D", "energy_amount": "32000"}


def test_quote_with_activation_adds_itrx_s_1_5_trx_to_the_total():
    fake = FakeProvider(reply(fx.ITRX_PRICE), reply(fx.ITRX_INDEX_DATA))
    quote = adapter(fake).quote(32000, "3D", address=fx.ADDRESS, activate=True)
    assert quote.activation_sun == 1_500_000  # active=1: "costing 1.5 TRX"
    assert quote.total_sun == 10192000 + 1_500_000
    assert quote.unit_price_sun == Decimal("318.500")  # the energy price alone
    # The price request itself is the same: itrx's price API knows nothing of activation.
    assert query(fake.requests[0]) == {"period": "3D", "energy_amount": "32000"}


def test_quote_refuses_an_unknown_period_before_any_call():
    fake = FakeProvider(reply(fx.ITRX_PRICE))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).quote(32000, "2W")
    assert caught.value.outcome == base.REJECTED
    assert fake.calls == 0


def test_energy_order_is_signed_and_the_body_is_exactly_the_signed_string():
    fake = FakeProvider(reply(fx.ITRX_ORDER))
    placed = adapter(fake).place_energy_order(
        fx.ADDRESS, 65000, "1H", "ord-42", activate=True, callback_url="https://ops.example/cb"
    )
    request = fake.last
    assert request.method == "POST"
    assert request.url.path == f"{PREFIX}/order"
    assert request.headers["TIMESTAMP"] == str(NOW)
    assert request.headers["Content-Type"] == "application/json"
    recomputed = sign(fx.ITRX_SECRET, request.headers["TIMESTAMP"], request.content.decode())
    assert request.headers["SIGNATURE"] == recomputed
    assert request.content.decode() == canonical_body(body_json(request))
    assert body_json(request) == {
        "active": 1,
        "callback_url": "https://ops.example/cb",
        "energy_amount": 65000,
        "out_trade_no": "ord-42",
        "period": "1H",
        "receive_address": fx.ADDRESS,
    }
    assert placed == base.PlacedOrder(
        provider_ref="7297a8a2a9e39b86fc5bad0d2e9edda2",
        status=base.SUBMITTED,
        raw_status="errno 0",
        cost_sun=3120000,
        balance_after_sun=813900029257,
        energy=None,
        tx_hashes=(),
        raw=fx.ITRX_ORDER,
    )


def test_energy_order_without_activation_or_callback_sends_neither():
    fake = FakeProvider(reply(fx.ITRX_ORDER))
    adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1D", "ord-43")
    sent = set(body_json(fake.last))
    assert sent == {"energy_amount", "out_trade_no", "period", "receive_address"}


def test_invalid_address_is_refused_before_any_call():
    fake = FakeProvider(reply(fx.ITRX_ORDER))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order("TExWKszFWYTKZH8LYiovAPKzS3L9MLZ4kX", 65000, "1H", "r")
    assert caught.value.outcome == base.REJECTED
    assert "checksum" in caught.value.message
    assert fake.calls == 0


def test_collection_order_posts_to_collect_manual():
    fake = FakeProvider(reply(fx.ITRX_COLLECT))
    placed = adapter(fake).place_collection_order(
        fx.ADDRESS, "sweep-1", to_address=fx.OTHER_ADDRESS, callback_url="https://ops.example/cb"
    )
    assert fake.last.url.path == f"{PREFIX}/order/collect-manual"
    assert body_json(fake.last) == {
        "callback_url": "https://ops.example/cb",
        "out_trade_no": "sweep-1",
        "receive_address": fx.ADDRESS,
        "scene": 0,
        "to_address": fx.OTHER_ADDRESS,
    }
    assert "SIGNATURE" in fake.last.headers
    assert placed.provider_ref == fx.ITRX_COLLECT["serial"]
    assert placed.cost_sun == 4000000


def test_activation_order_is_refused_with_the_way_to_do_it():
    fake = FakeProvider(reply({}))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).activate_address(fx.ADDRESS, "act-1")
    assert caught.value.outcome == base.REJECTED
    assert "activate=True" in caught.value.message and "1.5 TRX" in caught.value.message
    assert fake.calls == 0


def test_get_order_by_serial_maps_the_documented_query_reply():
    fake = FakeProvider(reply(fx.ITRX_QUERY))
    state = adapter(fake).get_order(provider_ref="58b451473d290f92443eabf0322b9907")
    assert fake.last.url.path == f"{PREFIX}/order/query"
    assert query(fake.last) == {"serial": "58b451473d290f92443eabf0322b9907"}
    assert state.status == base.COMPLETED
    assert state.raw_status == "40"
    assert state.cost_sun == 3800000
    assert state.energy_ordered == 32000
    assert state.energy_delivered == 32170
    assert state.tx_hashes == ("e2e7aa0113f3",)
    assert state.refund_sun == 0


def test_get_order_by_reference_uses_out_trade_no():
    fake = FakeProvider(reply(fx.ITRX_QUERY))
    state = adapter(fake).get_order(reference="ord-42")
    assert query(fake.last) == {"out_trade_no": "ord-42"}
    assert state.reference == "ord-42"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (0, base.FAILED),
        (10, base.SUBMITTED),
        (20, base.SUBMITTED),
        (30, base.DELEGATING),
        (31, base.DELEGATING),
        (32, base.DELEGATING),
        (40, base.COMPLETED),
        (41, base.REFUNDED),
        (43, base.FAILED),
        (99, base.SUBMITTED),
    ],
)
def test_order_status_codes_are_normalised(raw, status):
    fake = FakeProvider(reply({**fx.ITRX_QUERY, "status": raw}))
    assert adapter(fake).get_order(provider_ref="x").status == status


def test_order_not_found_is_rejected_with_errno_404():
    fake = FakeProvider(reply(fx.ITRX_NOT_FOUND))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).get_order(reference="ord-missing")
    error = caught.value
    assert (error.outcome, error.code) == (base.REJECTED, "errno 404")
    assert error.message == "Order not found"
    assert error.not_found


def test_errno_1_on_an_order_is_rejected_and_nothing_charged():
    fake = FakeProvider(reply({"errno": 1, "message": "Insufficient balance"}))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-1")
    assert str(caught.value) == (
        "itrx rejected the request: Insufficient balance — nothing was charged"
    )


def test_400_detail_is_rejected_with_the_detail_text():
    fake = FakeProvider(reply({"detail": "API not found"}, 400))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-1")
    error = caught.value
    assert (error.outcome, error.code, error.http_status) == (base.REJECTED, "http 400", 400)
    assert error.message == "API not found"


def test_400_field_errors_are_joined_per_field():
    fake = FakeProvider(reply(fx.ITRX_FIELD_ERRORS, 400))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 5000, "1H", "ord-1")
    assert caught.value.message == (
        "energy_amount: Please make sure the value is greater than or equal to 10000.; "
        "period: '1X' is not a legal option."
    )
    assert caught.value.outcome == base.REJECTED


def test_403_is_an_authentication_rejection():
    fake = FakeProvider(reply({"detail": "Invalid API key"}, 403))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).balance()
    assert caught.value.outcome == base.REJECTED
    assert caught.value.code == "http 403"
    assert "authentication failed" in caught.value.message


def test_500_after_an_order_is_unknown_and_not_retried():
    fake = FakeProvider(text_reply("<html>Bad gateway</html>", 502))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-1")
    assert caught.value.outcome == base.UNKNOWN
    assert "reconcile" in str(caught.value)
    assert fake.calls == 1


def test_unreadable_200_after_an_order_is_unknown():
    fake = FakeProvider(text_reply("OK"))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-1")
    assert caught.value.outcome == base.UNKNOWN


def test_errno_0_without_serial_is_unknown():
    fake = FakeProvider(reply({"errno": 0, "amount": 3120000}))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-1")
    assert caught.value.outcome == base.UNKNOWN


def test_price_reply_without_total_is_unavailable_not_a_crash():
    fake = FakeProvider(reply({"period": "1H", "price": 65}), reply(fx.ITRX_INDEX_DATA))
    with pytest.raises(base.ProviderError) as caught:
        adapter(fake).quote(65000, "1H")
    assert caught.value.outcome == base.UNAVAILABLE


def test_activation_price_is_the_documented_fee_without_a_call():
    fake = FakeProvider(reply({}))
    assert adapter(fake).activation_price(fx.ADDRESS) == 1_500_000
    assert fake.calls == 0
