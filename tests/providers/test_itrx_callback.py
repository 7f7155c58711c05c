from __future__ import annotations

import json

import pytest

from energydash.providers import base
from energydash.providers.itrx import ItrxAdapter, canonical_body, sign
from energydash.providers.registry import adapter_for
from tests.providers import fixtures as fx
from tests.providers.conftest import FakeProvider, credentials, reply

TS = fx.ITRX_EXAMPLE_TS


def adapter() -> ItrxAdapter:
    return ItrxAdapter(credentials("itrx"), FakeProvider(reply({})).client())


def spaced(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True).encode()


def test_documented_callback_vectors_reproduce_in_both_serializations():
    compact = canonical_body(fx.ITRX_CALLBACK)
    assert sign(fx.ITRX_SECRET, TS, compact) == fx.ITRX_CALLBACK_COMPACT_SIG
    assert sign(fx.ITRX_SECRET, TS, spaced(fx.ITRX_CALLBACK).decode()) == (
        fx.ITRX_CALLBACK_SPACED_SIG
    )


def test_compact_signature_is_accepted():
    headers = {"TIMESTAMP": str(TS), "SIGNATURE": fx.ITRX_CALLBACK_COMPACT_SIG}
    event = adapter().verify_callback(headers, spaced(fx.ITRX_CALLBACK), now=TS + 5)
    assert event.matched_form == "compact"
    assert event.provider_ref == "886294f5204ac2fc1430f5a7d9215a80"
    assert event.reference == "123456"
    assert event.status == base.COMPLETED
    assert event.raw_status == "40"
    assert event.energy_delivered == 32170
    assert event.tx_hashes == (fx.ITRX_CALLBACK["txid"], fx.ITRX_CALLBACK["bandwidth_hash"])


def test_spaced_signature_is_accepted_with_django_meta_headers():
    headers = {"HTTP_TIMESTAMP": str(TS), "HTTP_SIGNATURE": fx.ITRX_CALLBACK_SPACED_SIG}
    body = canonical_body(fx.ITRX_CALLBACK).encode()
    event = adapter().verify_callback(headers, body, now=TS)
    assert event.matched_form == "spaced"


def test_header_names_are_case_insensitive():
    headers = {"timestamp": str(TS), "signature": fx.ITRX_CALLBACK_COMPACT_SIG.upper()}
    event = adapter().verify_callback(headers, spaced(fx.ITRX_CALLBACK), now=TS)
    assert event.matched_form == "compact"


def test_signature_over_the_raw_body_is_accepted():
    body = b'{"serial": "abc",   "status": 41, "pay_amount": 1.10}'
    headers = {"TIMESTAMP": str(TS), "SIGNATURE": sign(fx.ITRX_SECRET, TS, body.decode())}
    event = adapter().verify_callback(headers, body, now=TS)
    assert event.matched_form == "raw"
    assert event.status == base.REFUNDED  # 41: "refund termination", as in the query API


def test_bad_signature_is_refused_with_403():
    headers = {"TIMESTAMP": str(TS), "SIGNATURE": "0" * 64}
    with pytest.raises(base.CallbackRejected) as caught:
        adapter().verify_callback(headers, spaced(fx.ITRX_CALLBACK), now=TS)
    assert caught.value.status_code == 403


def test_tampered_body_is_refused_with_403():
    headers = {"TIMESTAMP": str(TS), "SIGNATURE": fx.ITRX_CALLBACK_COMPACT_SIG}
    tampered = {**fx.ITRX_CALLBACK, "status": 41}
    with pytest.raises(base.CallbackRejected) as caught:
        adapter().verify_callback(headers, spaced(tampered), now=TS)
    assert caught.value.status_code == 403


@pytest.mark.parametrize(
    "seconds", [301, 3_600, 2 * 86_400], ids=["5 min", "itrx's last retry", "two days"]
)
def test_a_correctly_signed_callback_is_accepted_whatever_its_age(seconds):
    # itrx retries for about an hour (15 s ... 1800 s) with the payload it signed first.
    headers = {"TIMESTAMP": str(TS), "SIGNATURE": fx.ITRX_CALLBACK_COMPACT_SIG}
    event = adapter().verify_callback(headers, spaced(fx.ITRX_CALLBACK), now=TS + seconds)
    assert event.status == base.COMPLETED
    assert event.provider_ref == "886294f5204ac2fc1430f5a7d9215a80"


def test_clock_skew_into_the_future_is_tolerated():
    headers = {"TIMESTAMP": str(TS), "SIGNATURE": fx.ITRX_CALLBACK_COMPACT_SIG}
    event = adapter().verify_callback(headers, spaced(fx.ITRX_CALLBACK), now=TS - 600)
    assert event.status == base.COMPLETED


def test_an_old_callback_is_still_refused_when_forged():
    headers = {"TIMESTAMP": str(TS), "SIGNATURE": sign("not-the-secret", TS, "{}")}
    with pytest.raises(base.CallbackRejected) as caught:
        adapter().verify_callback(headers, spaced(fx.ITRX_CALLBACK), now=TS + 3_600)
    assert caught.value.status_code == 403


def test_re_signing_with_a_new_timestamp_needs_the_secret():
    # An attacker replaying a captured callback cannot move its timestamp: it is signed too.
    headers = {"TIMESTAMP": str(TS + 10), "SIGNATURE": fx.ITRX_CALLBACK_COMPACT_SIG}
    with pytest.raises(base.CallbackRejected) as caught:
        adapter().verify_callback(headers, spaced(fx.ITRX_CALLBACK), now=TS + 10)
    assert caught.value.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"TIMESTAMP": str(TS)},
        {"SIGNATURE": fx.ITRX_CALLBACK_COMPACT_SIG},
        {"TIMESTAMP": "yesterday", "SIGNATURE": fx.ITRX_CALLBACK_COMPACT_SIG},
    ],
)
def test_missing_or_malformed_headers_are_refused_with_401(headers):
    with pytest.raises(base.CallbackRejected) as caught:
        adapter().verify_callback(headers, spaced(fx.ITRX_CALLBACK), now=TS)
    assert caught.value.status_code == 401


def test_body_that_is_not_json_is_refused_unless_signed():
    headers = {"TIMESTAMP": str(TS), "SIGNATURE": fx.ITRX_CALLBACK_COMPACT_SIG}
    with pytest.raises(base.CallbackRejected) as caught:
        adapter().verify_callback(headers, b"not json", now=TS)
    assert caught.value.status_code == 403


def test_other_providers_refuse_callbacks():
    for kind in ("tronzap", "netts"):
        other = adapter_for(credentials(kind), FakeProvider(reply({})).client())
        with pytest.raises(base.CallbackRejected) as caught:
            other.verify_callback({"TIMESTAMP": str(TS)}, b"{}", now=TS)
        assert caught.value.status_code == 403
