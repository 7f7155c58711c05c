"""Money faults, through each provider's HTTP API: itrx 41 in part, 0/43 keeping the money,
31/32 on the way; TronZap failed after acceptance and refunds after completion; Netts activating
an unknown recipient at cost; balances printed to a provider's precision."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine

from energydash.sandbox import faults
from energydash.sandbox.chain_models import ChainDelegation
from energydash.sandbox.models import SandboxAddress, SandboxCallback, SandboxOrder
from energydash.sandbox.pricing import trx_string
from energydash.sandbox.tasks import deliver_due_callbacks
from tests.sandbox.helpers import NETTS, balance, itrx_get, itrx_post, netts_headers, tronzap_post
from tests.sandbox.test_callbacks import CONSOLE, HOOK, Receiver, at
from tests.sandbox.test_faults import FULL, ITRX_ORDER, RECEIVER, TZ_ORDER, set_faults

ITRX_COST = 65_000 * 65  # 4.225 TRX
TZ_COST = 3_399_500  # 65,000 x 52.3 sun
NETTS_COST = 65_000 * 55  # 3.575 TRX


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ENERGYDASH_PUBLIC_URL = CONSOLE


@contextmanager
def moment(seconds: float) -> Iterator[None]:
    with time_machine.travel(at(seconds), tick=False):
        yield


def random_values(*values: float) -> None:
    """The fault rolls see these values in turn, over and over."""
    cycle = itertools.cycle(values)
    faults.set_random_source(lambda: next(cycle))


def itrx_place(http, box, **extra) -> str:
    with moment(0):
        answer = itrx_post(http, box, "order", ITRX_ORDER | extra).json()
    assert answer["errno"] == 0 and answer["amount"] == ITRX_COST
    return answer["serial"]


def itrx_query(http, box, serial: str, seconds: float) -> dict:
    with moment(seconds):
        return itrx_get(http, box, "order/query", serial=serial).json()


def tz_place(http, box) -> dict:
    with moment(0):
        return tronzap_post(http, box, "transaction/new", TZ_ORDER).json()["result"]


def tz_check(http, box, ref: str, seconds: float) -> dict:
    with moment(seconds):
        return tronzap_post(http, box, "transaction/check", {"id": ref}).json()["result"]


# itrx -------------------------------------------------------------------------------------------


def test_an_itrx_order_can_end_41_with_part_of_its_cost_refunded(http, itrx_box):
    set_faults(itrx_box, partial_refund_rate=1.0, partial_refund_percent=40)
    serial = itrx_place(http, itrx_box, callback_url=HOOK, out_trade_no="p-1")
    assert itrx_query(http, itrx_box, serial, 3)["status"] == 30
    assert balance(itrx_box) == FULL - ITRX_COST

    done = itrx_query(http, itrx_box, serial, 6)
    refund = ITRX_COST * 40 // 100
    assert (done["status"], done["amount"], done["refund_amount"]) == (41, ITRX_COST, refund)
    assert 0 < done["refund_amount"] < done["amount"]
    assert done["pay_amount"] == 39_000.0  # the 60% not refunded was delegated
    assert balance(itrx_box) == FULL - ITRX_COST + refund
    with moment(6):
        assert itrx_get(http, itrx_box, "index-data").json()["balance"] == balance(itrx_box)

    receiver = Receiver(200)
    assert deliver_due_callbacks(now=at(6), client=receiver.client()) == 1
    callback = json.loads(receiver.requests[0].content)
    assert (callback["status"], callback["pay_amount"]) == (41, 39_000.0)
    assert "refund_amount" not in callback  # not a documented callback field (2.12)


def test_the_callback_worker_credits_a_due_refund_before_it_calls_back(http, itrx_box):
    set_faults(itrx_box, partial_refund_rate=1.0, partial_refund_percent=40)
    itrx_place(http, itrx_box, callback_url=HOOK)
    receiver = Receiver(200)
    deliver_due_callbacks(now=at(6), client=receiver.client())  # no request of the account
    assert balance(itrx_box) == FULL - ITRX_COST + ITRX_COST * 40 // 100
    assert json.loads(receiver.requests[0].content)["status"] == 41


def test_itrx_orders_can_end_0_or_43_and_keep_all_the_money(http, itrx_box):
    set_faults(itrx_box, failed_after_accept_rate=1.0)
    random_values(0.0, 0.0, 0.0, 0.9)  # the fault, then the coin: 0 first, then 43
    closed = itrx_place(http, itrx_box, callback_url=HOOK, out_trade_no="f-1")
    aborted = itrx_place(http, itrx_box, callback_url=HOOK, out_trade_no="f-2")
    assert itrx_query(http, itrx_box, closed, 3)["status"] == 30
    for serial, code in ((closed, 0), (aborted, 43)):
        body = itrx_query(http, itrx_box, serial, 7)
        assert (body["status"], body["refund_amount"], body["amount"]) == (code, 0, ITRX_COST)
        assert (body["pay_amount"], body["details"]) == (0.0, [])
    assert balance(itrx_box) == FULL - 2 * ITRX_COST  # nothing came back
    assert not ChainDelegation.objects.exists()  # nothing was delegated
    assert all(c.last_error.startswith("not sent") for c in SandboxCallback.objects.all())
    assert deliver_due_callbacks(now=at(7), client=Receiver(200).client()) == 0


def test_a_failed_itrx_order_can_give_part_back(http, itrx_box):
    set_faults(itrx_box, failed_after_accept_rate=1.0, failed_refund_percent=50)
    random_values(0.0, 0.9)
    serial = itrx_place(http, itrx_box)
    body = itrx_query(http, itrx_box, serial, 6)
    assert (body["status"], body["refund_amount"]) == (43, ITRX_COST // 2)
    assert balance(itrx_box) == FULL - ITRX_COST // 2


def test_itrx_shows_31_then_32_while_delegating(http, itrx_box):
    set_faults(itrx_box, transient_status_rate=1.0)
    serial = itrx_place(http, itrx_box)
    seen = [(itrx_query(http, itrx_box, serial, s)) for s in (1, 2.5, 4.5, 6)]
    assert [b["status"] for b in seen] == [30, 31, 32, 40]
    assert [b["pay_amount"] for b in seen] == [0.0, 32_500.0, 32_500.0, 65_000.0]
    assert balance(itrx_box) == FULL - ITRX_COST


def test_the_knobs_are_off_by_default(http, itrx_box, tronzap_box):
    serial = itrx_place(http, itrx_box)
    assert itrx_query(http, itrx_box, serial, 6)["status"] == 40
    placed = tz_place(http, tronzap_box)
    assert tz_check(http, tronzap_box, placed["id"], 3600)["status"] == "success"
    assert not SandboxOrder.objects.exclude(fate="").exists()


# TronZap ----------------------------------------------------------------------------------------


def test_a_tronzap_order_can_fail_after_acceptance_keeping_the_money(http, tronzap_box):
    set_faults(tronzap_box, failed_after_accept_rate=1.0)
    placed = tz_place(http, tronzap_box)
    assert (placed["status"], placed["amount"]) == ("new", 3.3995)
    assert tz_check(http, tronzap_box, placed["id"], 3)["status"] == "pending"
    failed = tz_check(http, tronzap_box, placed["id"], 6)
    assert (failed["status"], failed["hash"], failed["amount"]) == ("failed", "", "3.3995")
    assert "refund_amount" not in failed
    assert balance(tronzap_box) == FULL - TZ_COST
    assert not ChainDelegation.objects.exists()


def test_a_failed_tronzap_order_can_be_refunded(http, tronzap_box):
    set_faults(tronzap_box, failed_after_accept_rate=1.0, failed_refund_percent=100)
    placed = tz_place(http, tronzap_box)
    failed = tz_check(http, tronzap_box, placed["id"], 6)
    assert (failed["status"], failed["refund_amount"]) == ("failed", "3.3995")
    assert balance(tronzap_box) == FULL


@pytest.mark.parametrize(
    "coin, refund, text", [(0.0, TZ_COST, "3.3995"), (0.9, TZ_COST * 40 // 100, "1.3598")]
)
def test_a_completed_tronzap_order_can_be_refunded_later(http, tronzap_box, coin, refund, text):
    set_faults(tronzap_box, late_refund_rate=1.0, late_refund_seconds=60)
    random_values(0.0, coin)  # the fault, then in full (heads) or in part
    placed = tz_place(http, tronzap_box)
    done = tz_check(http, tronzap_box, placed["id"], 6)
    assert (done["status"], done["hash"] != "") == ("success", True)
    assert balance(tronzap_box) == FULL - TZ_COST
    assert tz_check(http, tronzap_box, placed["id"], 65)["status"] == "success"

    later = tz_check(http, tronzap_box, placed["id"], 66)
    assert (later["status"], later["refund_amount"], later["amount"]) == (
        "refunded",
        text,
        "3.3995",
    )
    assert balance(tronzap_box) == FULL - TZ_COST + refund
    with moment(67):  # credited once, however often it is read
        shown = tronzap_post(http, tronzap_box, "balance").json()["result"]["balance"]
    assert shown == trx_string(FULL - TZ_COST + refund)


# Netts ------------------------------------------------------------------------------------------


def test_netts_activates_a_never_seen_recipient_on_its_own_at_cost(http, netts_box):
    set_faults(netts_box, unactivated_recipient_rate=1.0)
    with moment(0):
        answer = http.post(
            NETTS + "order1h",
            json={"amount": 65_000, "receiveAddress": RECEIVER},
            headers=netts_headers(netts_box),
        ).json()["detail"]["data"]
    assert answer["paidTRX"] == 4.675  # 3.575 energy + 1.1 activation, unasked
    assert balance(netts_box) == FULL - NETTS_COST - 1_100_000
    assert SandboxAddress.objects.get(address=RECEIVER).activated
    with moment(6):
        check = http.get(
            NETTS + "order_check",
            params={"order_id": answer["orderId"]},
            headers=netts_headers(netts_box),
        ).json()
    assert check["order"]["cost"] == 3.575  # the energy; activation is listed apart
    assert check["activation"]["cost"] == 1.1
    # The same recipient again: activated now, so no second activation.
    with moment(10):
        again = http.post(
            NETTS + "order1h",
            json={"amount": 65_000, "receiveAddress": RECEIVER},
            headers=netts_headers(netts_box),
        ).json()["detail"]["data"]
    assert again["paidTRX"] == 3.575


def test_a_recipient_listed_as_activated_is_never_made_unactivated(http, netts_box):
    SandboxAddress.objects.create(address=RECEIVER, activated=True)
    set_faults(netts_box, unactivated_recipient_rate=1.0)
    answer = http.post(
        NETTS + "order1h",
        json={"amount": 65_000, "receiveAddress": RECEIVER},
        headers=netts_headers(netts_box),
    ).json()["detail"]["data"]
    assert answer["paidTRX"] == 3.575


# Balances ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sun, shown_trx", [(100_123_456, "100.12"), (100_125_000, "100.13"), (100_124_999, "100.12")]
)
def test_balances_are_printed_to_the_providers_precision(
    http, itrx_box, tronzap_box, netts_box, sun, shown_trx
):
    for box in (itrx_box, tronzap_box, netts_box):
        set_faults(box, balance_sun=sun, balance_precision_sun=10_000)
    shown_sun = int(shown_trx.replace(".", "")) * 10_000
    assert tronzap_post(http, tronzap_box, "balance").json()["result"]["balance"] == shown_trx
    userinfo = http.get(NETTS + "userinfo", headers=netts_headers(netts_box)).json()
    assert userinfo["stats"]["balance"] == float(shown_trx)
    assert itrx_get(http, itrx_box, "index-data").json()["balance"] == shown_sun


def test_an_answer_carrying_a_balance_prints_it_rounded_too(http, itrx_box):
    set_faults(itrx_box, balance_sun=100_123_456, balance_precision_sun=10_000)
    answer = itrx_post(http, itrx_box, "order", ITRX_ORDER).json()
    assert answer["balance"] == 95_900_000  # 100,123,456 - 4,225,000 = 95,898,456
    assert balance(itrx_box) == 95_898_456  # the money itself is exact


def test_without_a_precision_balances_are_exact(http, tronzap_box, netts_box):
    for box in (tronzap_box, netts_box):
        set_faults(box, balance_sun=100_123_456)
    assert tronzap_post(http, tronzap_box, "balance").json()["result"]["balance"] == "100.123456"
    userinfo = http.get(NETTS + "userinfo", headers=netts_headers(netts_box)).json()
    assert userinfo["stats"]["balance"] == 100.123456
