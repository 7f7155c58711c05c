from __future__ import annotations

import logging
import pickle

import httpx
import pytest

from energydash.providers import base
from energydash.providers.credentials import Credentials
from energydash.providers.itrx import ItrxAdapter
from energydash.providers.netts import NettsAdapter
from energydash.providers.registry import ADAPTERS, adapter_for
from energydash.providers.tronzap import TronZapAdapter
from tests.providers import fixtures as fx
from tests.providers.conftest import FakeProvider, credentials, reply, text_reply

SECRETS = (fx.ITRX_KEY, fx.ITRX_SECRET, fx.TZ_TOKEN, fx.TZ_SECRET, fx.NETTS_KEY)


def itrx(fake: FakeProvider, delays: list[float] | None = None, **kw) -> ItrxAdapter:
    sleep = delays.append if delays is not None else (lambda s: None)
    return ItrxAdapter(credentials("itrx"), fake.client(), sleep=sleep, **kw)


def place_itrx(fake: FakeProvider) -> None:
    itrx(fake).place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")


def test_registry_picks_the_adapter_by_provider_kind():
    assert ADAPTERS == {"itrx": ItrxAdapter, "tronzap": TronZapAdapter, "netts": NettsAdapter}
    made = adapter_for(credentials("tronzap"), FakeProvider(reply({})).client(), read_retries=5)
    assert isinstance(made, TronZapAdapter)
    assert made.read_retries == 5


def test_registry_refuses_an_unknown_kind():
    with pytest.raises(base.ProviderError) as caught:
        adapter_for(credentials("itrx", provider="acme"))
    assert caught.value.outcome == base.REJECTED


def test_capabilities_are_declared_per_provider():
    assert (ItrxAdapter.supports_reference_lookup, ItrxAdapter.supports_collection) == (True, True)
    assert (TronZapAdapter.supports_reference_lookup, TronZapAdapter.supports_activation_order) == (
        True,
        True,
    )
    assert NettsAdapter.supports_reference_lookup is False
    assert ItrxAdapter.periods == ("1H", "1D", "3D", "30D")
    assert TronZapAdapter.periods == NettsAdapter.periods == ("1H",)


def test_default_client_uses_the_account_timeouts_and_no_redirects(monkeypatch):
    made = ItrxAdapter(credentials("itrx", timeout=12.0, connect_timeout=3.0))
    other = ItrxAdapter(credentials("itrx", timeout=30.0))
    assert made.client is other.client  # one client (one SSL context) per process
    assert made.client.follow_redirects is False
    sent: list[httpx.Request] = []

    def refuse(request: httpx.Request, **kwargs: object) -> httpx.Response:
        sent.append(request)
        raise httpx.ConnectError("refused", request=request)

    monkeypatch.setattr(made.client, "send", refuse)
    with pytest.raises(base.ProviderError):
        made.balance()
    assert sent and sent[0].extensions["timeout"] == httpx.Timeout(12.0, connect=3.0).as_dict()
    made.close()
    assert not made.client.is_closed  # closing an adapter leaves the shared client open


def test_lost_response_after_an_order_is_unknown_and_never_retried():
    fake = FakeProvider(httpx.ReadTimeout("timed out"))
    with pytest.raises(base.ProviderError) as caught:
        place_itrx(fake)
    error = caught.value
    assert error.outcome == base.UNKNOWN
    assert error.charged == "it may have been charged; reconcile before retrying"
    assert fake.calls == 1
    assert error.exchange is not None and error.exchange.error == "ReadTimeout"
    assert error.exchange.status_code is None


@pytest.mark.parametrize(
    "exc", [httpx.RemoteProtocolError("reset"), httpx.ReadError("reset"), httpx.WriteTimeout("w")]
)
def test_connection_lost_mid_order_is_unknown(exc):
    fake = FakeProvider(exc)
    with pytest.raises(base.ProviderError) as caught:
        place_itrx(fake)
    assert caught.value.outcome == base.UNKNOWN
    assert fake.calls == 1


def test_order_that_never_connected_is_unavailable_because_nothing_was_sent():
    fake = FakeProvider(httpx.ConnectError("refused"))
    with pytest.raises(base.ProviderError) as caught:
        place_itrx(fake)
    assert caught.value.outcome == base.UNAVAILABLE
    assert caught.value.charged == "nothing was charged"
    assert fake.calls == 1


def test_reads_are_retried_with_backoff_then_reported_unavailable():
    fake = FakeProvider(httpx.ReadTimeout("timed out"))
    delays: list[float] = []
    with pytest.raises(base.ProviderError) as caught:
        itrx(fake, delays, read_retries=2).balance()
    assert fake.calls == 3
    assert delays == [0.5, 1.0]
    assert (caught.value.outcome, caught.value.transient) == (base.UNAVAILABLE, True)


def test_read_that_recovers_on_retry_succeeds_and_records_every_attempt():
    fake = FakeProvider(
        text_reply("busy", 503), httpx.ReadTimeout("slow"), reply(fx.ITRX_INDEX_DATA)
    )
    adapter = itrx(fake)
    assert adapter.balance().balance_sun == fx.ITRX_INDEX_DATA["balance"]
    assert fake.calls == 3
    assert [e.status_code for e in adapter.exchanges] == [503, None, 200]
    assert [e.error for e in adapter.exchanges] == ["", "ReadTimeout", ""]


def test_429_on_a_read_is_retried_honouring_retry_after_then_unavailable():
    fake = FakeProvider(httpx.Response(429, headers={"Retry-After": "2"}, content=b"slow down"))
    delays: list[float] = []
    with pytest.raises(base.ProviderError) as caught:
        itrx(fake, delays, read_retries=1).balance()
    assert delays == [2.0]
    assert (caught.value.outcome, caught.value.code) == (base.UNAVAILABLE, "http 429")


def test_5xx_on_a_read_is_unavailable_not_unknown():
    fake = FakeProvider(text_reply("oops", 500))
    with pytest.raises(base.ProviderError) as caught:
        itrx(fake, read_retries=0).get_order(provider_ref="abc")
    assert caught.value.outcome == base.UNAVAILABLE
    assert fake.calls == 1


def test_redirect_is_not_followed_and_is_rejected():
    fake = FakeProvider(httpx.Response(302, headers={"Location": "https://elsewhere/"}))
    with pytest.raises(base.ProviderError) as caught:
        place_itrx(fake)
    assert (caught.value.outcome, caught.value.code) == (base.REJECTED, "http 302")
    assert fake.calls == 1


def test_exchange_records_path_query_and_exact_body_but_no_headers():
    fake = FakeProvider(reply(fx.ITRX_ORDER))
    adapter = itrx(fake)
    adapter.place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")
    (exchange,) = adapter.exchanges
    assert exchange.method == "POST"
    assert exchange.url == "/prefix/itrx/api/v1/frontend/order"
    assert exchange.request_body == fake.last.content.decode()
    assert exchange.status_code == 200
    assert '"serial"' in exchange.response_body
    assert fake.last.headers["SIGNATURE"] not in repr(exchange)


def test_exchange_response_body_is_truncated():
    fake = FakeProvider(text_reply("x" * 50_000, 400))
    adapter = itrx(fake)
    with pytest.raises(base.ProviderError):
        adapter.balance()
    assert len(adapter.exchanges[-1].response_body) == base.MAX_RECORDED_BODY


def test_provider_echoing_secrets_does_not_leak_them(caplog):
    caplog.set_level(logging.DEBUG, logger="energydash.providers")

    def echo(request: httpx.Request) -> httpx.Response:
        leaked = " ".join(f"{k}={v}" for k, v in request.headers.items())
        return reply({"errno": 1, "message": f"bad request {leaked} {fx.ITRX_SECRET}"})

    fake = FakeProvider(echo)
    adapter = itrx(fake)
    with pytest.raises(base.ProviderError) as caught:
        adapter.place_energy_order(fx.ADDRESS, 65000, "1H", "ord-42")
    signature = fake.last.headers["SIGNATURE"]
    texts = [str(caught.value), repr(caught.value), caught.value.message, caplog.text]
    texts += [repr(e) for e in adapter.exchanges]
    for text in texts:
        for secret in (*SECRETS, signature):
            assert secret not in text
    assert base.REDACTED in caught.value.message


def test_tronzap_echo_of_token_and_signature_is_redacted(caplog):
    caplog.set_level(logging.DEBUG, logger="energydash.providers")

    def echo(request: httpx.Request) -> httpx.Response:
        auth = request.headers["Authorization"]
        sig = request.headers["X-Signature"]
        return reply({"code": 1, "key": "auth", "error": f"bad {auth} {sig}"}, 401)

    fake = FakeProvider(echo)
    adapter = TronZapAdapter(credentials("tronzap"), fake.client())
    with pytest.raises(base.ProviderError) as caught:
        adapter.balance()
    signature = fake.last.headers["X-Signature"]
    for text in (str(caught.value), repr(caught.value), caplog.text, repr(adapter.exchanges)):
        assert fx.TZ_TOKEN not in text and fx.TZ_SECRET not in text and signature not in text


def test_log_lines_name_method_path_status_and_nothing_secret(caplog):
    caplog.set_level(logging.INFO, logger="energydash.providers")
    fake = FakeProvider(reply(fx.NETTS_USERINFO))
    NettsAdapter(credentials("netts"), fake.client()).balance()
    (record,) = caplog.records
    assert record.getMessage().startswith("netts GET /prefix/netts/apiv2/userinfo -> 200 in ")
    assert fx.NETTS_KEY not in caplog.text


def test_credentials_repr_never_shows_secrets():
    creds = credentials("itrx")
    assert fx.ITRX_SECRET not in repr(creds) and fx.ITRX_KEY not in repr(creds)


def test_error_sentence_reads_well_for_each_outcome():
    rejected = base.ProviderError(base.REJECTED, "Insufficient balance", provider="itrx", code="x")
    unavailable = base.ProviderError(base.UNAVAILABLE, "down", provider="netts")
    unknown = base.ProviderError(base.UNKNOWN, "no answer", provider="tronzap", code="ReadTimeout")
    assert str(rejected) == "itrx rejected the request: Insufficient balance — nothing was charged"
    assert str(unavailable) == "Netts is unavailable: down — nothing was charged"
    assert str(unknown) == (
        "TronZap gave no usable answer: no answer — "
        "it may have been charged; reconcile before retrying"
    )
    assert (rejected.transient, unavailable.transient, unknown.transient) == (False, True, True)


def test_error_survives_pickling():
    error = base.ProviderError(base.UNKNOWN, "lost", provider="itrx", code="c", http_status=502)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.outcome, copy.message, copy.code, copy.http_status) == (
        base.UNKNOWN,
        "lost",
        "c",
        502,
    )


def test_error_refuses_an_unknown_outcome():
    with pytest.raises(ValueError):
        base.ProviderError("maybe", "x")


def test_final_statuses():
    assert base.FINAL_STATUSES == {base.COMPLETED, base.FAILED, base.REFUNDED}


def test_plain_string_credentials_still_sign_and_stay_redacted():
    # A ProviderAccount created in memory holds str, not Secret, until reloaded from the DB.
    creds = Credentials(
        provider="tronzap",
        base_url="http://sandbox.test",
        api_key=fx.TZ_TOKEN,
        api_secret=fx.TZ_SECRET,
    )
    fake = FakeProvider(reply({"code": 1, "error": f"bad token {fx.TZ_TOKEN}"}))
    with pytest.raises(base.ProviderError) as caught:
        TronZapAdapter(creds, fake.client()).balance()
    assert fake.last.headers["Authorization"] == f"Bearer {fx.TZ_TOKEN}"
    assert fx.TZ_TOKEN not in str(caught.value)
