"""Every adapter, fed arbitrary JSON (and odd statuses) for every answer it reads, either returns
well-typed values or raises its one error type, ProviderError; a callback is either accepted or
refused with CallbackRejected. Anything else would surface as a 500 or a crashed worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from energydash.providers import base, static_cache
from energydash.providers.base import CallbackRejected, ProviderError
from energydash.providers.itrx import sign as itrx_sign
from energydash.providers.registry import adapter_for
from tests.fuzz.conftest import fuzz
from tests.fuzz.strategies import JSON, encoded, mutated
from tests.providers import fixtures as fx
from tests.providers.conftest import credentials

ADDRESS = fx.ADDRESS

# Real answers per endpoint (the path's end), as templates to mutate.
TEMPLATES: dict[str, dict[str, Any]] = {
    "itrx": {
        "index-data": fx.ITRX_INDEX_DATA,
        "order/price": fx.ITRX_PRICE,
        "order": fx.ITRX_ORDER,
        "collect-manual": fx.ITRX_COLLECT,
        "order/query": fx.ITRX_QUERY,
        "summary": {"errno": 0, "data": {}},
    },
    "tronzap": {
        "balance": fx.tz_ok(fx.TZ_BALANCE),
        "services": fx.tz_ok(fx.TZ_SERVICES),
        "calculate": fx.tz_ok(fx.TZ_CALCULATE),
        "transaction/new": fx.tz_ok(fx.TZ_TRANSACTION),
        "transaction/check": fx.tz_ok(fx.TZ_CHECK),
    },
    "netts": {
        "userinfo": fx.NETTS_USERINFO,
        "pricing": fx.NETTS_PRICING,
        "prices": fx.NETTS_PRICES,
        "order1h": fx.NETTS_ORDER,
        "order_check": fx.NETTS_ORDER_CHECK,
    },
}
STATUSES = st.sampled_from([200] * 8 + [201, 400, 401, 403, 404, 429, 500, 502, 503])


def template_for(kind: str, path: str) -> Any:
    matches = [suffix for suffix in TEMPLATES[kind] if path.endswith("/" + suffix)]
    return TEMPLATES[kind][max(matches, key=len)] if matches else {}


def operations(adapter: base.Adapter) -> list[tuple[str, Callable[[], Any]]]:
    """Every call that reads a provider answer, with valid arguments."""
    return [
        ("balance", adapter.balance),
        ("quote", lambda: adapter.quote(65_000, adapter.periods[0], ADDRESS)),
        (
            "quote+activate",
            lambda: adapter.quote(65_000, adapter.periods[0], ADDRESS, activate=True),
        ),
        ("activation_price", lambda: adapter.activation_price(ADDRESS)),
        (
            "place_energy_order",
            lambda: adapter.place_energy_order(ADDRESS, 65_000, adapter.periods[0], "fuzz-ref-1"),
        ),
        ("place_collection_order", lambda: adapter.place_collection_order(ADDRESS, "fuzz-ref-2")),
        ("activate_address", lambda: adapter.activate_address(ADDRESS, "fuzz-ref-3")),
        ("get_order by id", lambda: adapter.get_order(provider_ref="886294f5204ac2fc")),
        ("get_order by reference", lambda: adapter.get_order(reference="fuzz-ref-1")),
        *([("summary", adapter.summary)] if hasattr(adapter, "summary") else []),
    ]


MONEY_FIELDS = ("balance_sun", "total_sun", "cost_sun", "balance_after_sun", "refund_sun")


def check_result(result: Any) -> None:
    """Money is integer sun, never a float, Decimal or string that slipped through a parser."""
    for name in MONEY_FIELDS:
        value = getattr(result, name, None)
        assert value is None or (type(value) is int), f"{name}={value!r}"
    if isinstance(result, int):
        assert type(result) is int


@pytest.mark.parametrize("kind", ["itrx", "tronzap", "netts"])
@fuzz(max_examples=40)
@given(data=st.data())
def test_any_answer_gives_a_result_or_a_provider_error(kind: str, data: st.DataObject) -> None:
    # Each example asks afresh: limits kept by an earlier example (static_cache.py) would make
    # one example draw fewer answers than its replay, which Hypothesis rejects as flaky.
    static_cache.forget()

    def answer(request: httpx.Request) -> httpx.Response:
        if data.draw(st.integers(0, 19), label="not json") == 0:
            body = data.draw(st.binary(max_size=40), label="raw body")
            return httpx.Response(data.draw(STATUSES, label="status"), content=body)
        value = data.draw(mutated(template_for(kind, request.url.path)), label=request.url.path)
        return httpx.Response(data.draw(STATUSES, label="status"), content=encoded(value))

    client = httpx.Client(transport=httpx.MockTransport(answer))
    adapter = adapter_for(credentials(kind), client, sleep=lambda seconds: None)
    for name, call in operations(adapter):
        try:
            result = call()
        except ProviderError:
            continue
        except Exception as exc:  # the property: nothing else escapes
            raise AssertionError(f"{kind} {name} raised {type(exc).__name__}: {exc}") from exc
        check_result(result)


def _itrx_signed(body: bytes, now: int) -> dict[str, str]:
    ts = str(now)
    return {"TIMESTAMP": ts, "SIGNATURE": itrx_sign(fx.ITRX_SECRET, ts, body.decode())}


@fuzz(max_examples=100)
@given(
    payload=mutated(fx.ITRX_CALLBACK),
    headers=st.dictionaries(
        st.sampled_from(["TIMESTAMP", "SIGNATURE", "Content-Type"]), st.text(max_size=80)
    ),
    signed=st.booleans(),
)
def test_any_itrx_callback_is_accepted_or_rejected_never_crashes(payload, headers, signed):
    adapter = adapter_for(credentials("itrx"), httpx.Client(transport=httpx.MockTransport(None)))
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    now = int(time.time())
    if signed:  # correctly signed: the parser behind the signature check sees the payload
        headers = {**headers, **_itrx_signed(body, now)}
    try:
        event = adapter.verify_callback(headers, body, now=now)
    except CallbackRejected as exc:
        assert 400 <= exc.status_code < 500
        return
    assert isinstance(event, base.CallbackEvent)
    assert isinstance(event.provider_ref, str)
    assert event.reference is None or isinstance(event.reference, str)


@pytest.mark.parametrize("kind", ["tronzap", "netts"])
@fuzz(max_examples=30)
@given(body=JSON.map(encoded), headers=st.dictionaries(st.text(max_size=20), st.text(max_size=40)))
def test_providers_without_callbacks_refuse_any_callback(kind, body, headers):
    adapter = adapter_for(credentials(kind), httpx.Client(transport=httpx.MockTransport(None)))
    try:
        adapter.verify_callback(headers, body, now=time.time())
    except (CallbackRejected, ProviderError):
        return
    raise AssertionError(f"{kind} accepted a callback it never sends")
