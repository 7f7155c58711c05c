from __future__ import annotations

import time
from types import SimpleNamespace

import httpx
import pytest

from energydash.lib.tron import SUN_PER_TRX
from energydash.sandbox import faults
from energydash.sandbox.models import SandboxOrder
from tests.sandbox.helpers import (
    NETTS,
    address,
    balance,
    itrx_get,
    itrx_post,
    netts_headers,
    tronzap_post,
)
from tests.waiting import wait_until

RECEIVER = address("faults receiver")
FULL = 100 * SUN_PER_TRX
ITRX_ORDER = {"energy_amount": 65_000, "period": "1H", "receive_address": RECEIVER}
# Lost answers: the client gives up reading after 0.1 s while the server holds its answer for
# 0.5 s after committing; the connection itself may take as long as a busy machine needs.
IMPATIENT = httpx.Timeout(30.0, read=0.1)
TZ_ORDER = {
    "service": "energy",
    "params": {"address": RECEIVER, "amounts": {"energy": 65_000}, "duration": 1},
}


def netts_order(client, account):
    return client.post(
        NETTS + "order1h",
        json={"amount": 65_000, "receiveAddress": RECEIVER},
        headers=netts_headers(account),
    )


def set_faults(account, **knobs) -> None:
    for name, value in knobs.items():
        setattr(account, name, value)
    account.save()


def test_error_rate_one_answers_each_providers_5xx_and_charges_nothing(
    http, itrx_box, tronzap_box, netts_box
):
    for account in (itrx_box, tronzap_box, netts_box):
        set_faults(account, error_rate=1.0)
    itrx = itrx_post(http, itrx_box, "order", ITRX_ORDER)
    assert itrx.status_code == 500 and "Server Error" in itrx.text
    tz = tronzap_post(http, tronzap_box, "transaction/new", TZ_ORDER)
    assert tz.status_code == 500 and tz.json()["key"] == "internal_server_error"
    netts = netts_order(http, netts_box)
    assert netts.status_code == 500 and netts.json() == {
        "code": 5000,
        "msg": "Internal server error occurred",
    }
    assert [balance(a) for a in (itrx_box, tronzap_box, netts_box)] == [FULL] * 3
    assert not SandboxOrder.objects.exists()


def test_errors_hit_reads_too(http, itrx_box):
    set_faults(itrx_box, error_rate=1.0)
    assert itrx_get(http, itrx_box, "index-data").status_code == 500


def test_an_unknown_key_gets_the_auth_error_before_any_fault(http, itrx_box, tronzap_box):
    set_faults(tronzap_box, error_rate=1.0)
    assert tronzap_post(http, tronzap_box, "balance", token="nobody").json()["code"] == 1


def test_error_rate_zero_never_fails(http, itrx_box):
    set_faults(itrx_box, error_rate=0.0)
    assert all(itrx_get(http, itrx_box, "index-data").status_code == 200 for _ in range(20))


def test_the_random_source_decides_partial_rates(http, itrx_box):
    set_faults(itrx_box, error_rate=0.5)
    draws = iter([0.49, 0.5, 0.1])
    faults.set_random_source(lambda: next(draws))
    statuses = [itrx_get(http, itrx_box, "index-data").status_code for _ in range(3)]
    assert statuses == [500, 200, 500]


def test_latency_delays_every_answer(http, netts_box):
    set_faults(netts_box, latency_ms=150)
    started = time.monotonic()
    assert http.get(NETTS + "userinfo", headers=netts_headers(netts_box)).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_a_timeout_fault_hangs_then_answers_504_without_placing(http, tronzap_box):
    set_faults(tronzap_box, timeout_rate=1.0, hang_seconds=0.2)
    started = time.monotonic()
    response = tronzap_post(http, tronzap_box, "transaction/new", TZ_ORDER)
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 504
    assert balance(tronzap_box) == FULL
    assert not SandboxOrder.objects.exists()


def test_a_client_with_a_shorter_timeout_times_out_on_a_hang(live_sandbox, netts_box):
    set_faults(netts_box, timeout_rate=1.0, hang_seconds=0.5)
    with httpx.Client(base_url=live_sandbox, timeout=IMPATIENT) as client:
        with pytest.raises(httpx.TimeoutException):
            netts_order(client, netts_box)
    assert balance(netts_box) == FULL


def test_a_lost_itrx_response_times_out_yet_the_order_exists_and_was_charged(
    live_sandbox, itrx_box
):
    set_faults(itrx_box, lose_response_rate=1.0, hang_seconds=0.5)
    with httpx.Client(base_url=live_sandbox, timeout=IMPATIENT) as client:
        with pytest.raises(httpx.TimeoutException):
            itrx_post(client, itrx_box, "order", ITRX_ORDER | {"out_trade_no": "lost-1"})
    # The server commits on its own schedule: wait for the order rather than assume it is there.
    order = wait_until(SandboxOrder.objects.filter(client_ref="lost-1").first)
    assert balance(itrx_box) == FULL - order.cost_sun
    with httpx.Client(base_url=live_sandbox, timeout=5) as client:
        found = itrx_get(client, itrx_box, "order/query", out_trade_no="lost-1").json()
    assert found["order_no"] == order.ref  # reads are not held: reconciliation works


def test_a_lost_tronzap_response_times_out_yet_check_by_external_id_finds_it(
    live_sandbox, tronzap_box
):
    set_faults(tronzap_box, lose_response_rate=1.0, hang_seconds=0.5)
    with httpx.Client(base_url=live_sandbox, timeout=IMPATIENT) as client:
        with pytest.raises(httpx.TimeoutException):
            tronzap_post(
                client, tronzap_box, "transaction/new", TZ_ORDER | {"external_id": "lost-2"}
            )
    wait_until(SandboxOrder.objects.filter(client_ref="lost-2").exists)
    assert balance(tronzap_box) == FULL - 3_399_500
    with httpx.Client(base_url=live_sandbox, timeout=5) as client:
        body = tronzap_post(client, tronzap_box, "transaction/check", {"external_id": "lost-2"})
    assert body.json()["result"]["amount"] == "3.3995"


def test_a_lost_netts_response_still_charges(live_sandbox, netts_box):
    set_faults(netts_box, lose_response_rate=1.0, hang_seconds=0.5)
    with httpx.Client(base_url=live_sandbox, timeout=IMPATIENT) as client:
        with pytest.raises(httpx.TimeoutException):
            netts_order(client, netts_box)
    wait_until(SandboxOrder.objects.filter(provider="netts").exists)
    assert SandboxOrder.objects.filter(provider="netts").count() == 1
    assert balance(netts_box) == FULL - 3_575_000


def test_a_lost_response_is_delivered_to_a_patient_client(http, itrx_box):
    set_faults(itrx_box, lose_response_rate=1.0, hang_seconds=0.1)
    assert itrx_post(http, itrx_box, "order", ITRX_ORDER).json()["errno"] == 0


def test_lose_response_does_not_hold_refused_orders(http, itrx_box, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(faults, "time", SimpleNamespace(sleep=slept.append))
    set_faults(itrx_box, lose_response_rate=1.0, hang_seconds=5, balance_sun=0)
    assert itrx_post(http, itrx_box, "order", ITRX_ORDER).json()["errno"] == 1
    assert slept == []  # answered at once: a refusal is never held


def test_itrx_platform_out_of_energy_is_errno_1(http, itrx_box):
    set_faults(itrx_box, orders_unavailable=True)
    assert itrx_post(http, itrx_box, "order", ITRX_ORDER).json()["errno"] == 1
    assert balance(itrx_box) == FULL
