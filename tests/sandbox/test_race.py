from __future__ import annotations

import threading

import httpx

from energydash.lib.tron import SUN_PER_TRX
from energydash.sandbox.models import SandboxAccount, SandboxOrder
from tests.sandbox.helpers import address, balance, itrx_post, netts_headers, tronzap_post

RECEIVER = address("race receiver")
RACERS = 6


def race(base_url: str, send) -> list[httpx.Response]:
    """Fire RACERS requests at once from as many threads; the responses in any order."""
    start = threading.Barrier(RACERS)
    responses: list[httpx.Response] = []

    def run() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            start.wait()
            responses.append(send(client))

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_itrx_orders_racing_for_the_last_trx_never_overdraw(live_sandbox, itrx_box):
    cost = 65_000 * 65
    itrx_box.balance_sun = 2 * cost + cost // 2
    itrx_box.save()
    body = {"energy_amount": 65_000, "period": "1H", "receive_address": RECEIVER}
    responses = race(live_sandbox, lambda c: itrx_post(c, itrx_box, "order", body))
    assert [r.status_code for r in responses] == [200] * RACERS
    errnos = sorted(r.json()["errno"] for r in responses)
    assert errnos == [0, 0] + [1] * (RACERS - 2)
    assert balance(itrx_box) == cost // 2
    assert SandboxOrder.objects.count() == 2


def test_tronzap_orders_racing_for_the_last_trx_never_overdraw(live_sandbox, tronzap_box):
    tronzap_box.balance_sun = 3_399_500 + 3_000_000
    tronzap_box.save()
    body = {
        "service": "energy",
        "params": {"address": RECEIVER, "amounts": {"energy": 65_000}, "duration": 1},
    }
    responses = race(live_sandbox, lambda c: tronzap_post(c, tronzap_box, "transaction/new", body))
    assert sorted(r.json()["code"] for r in responses) == [0] + [6] * (RACERS - 1)
    assert balance(tronzap_box) == 3_000_000


def test_netts_orders_racing_for_the_last_trx_never_overdraw(live_sandbox, netts_box):
    netts_box.balance_sun = 3 * 3_575_000 + 1
    netts_box.save()
    body = {"amount": 65_000, "receiveAddress": RECEIVER}
    responses = race(
        live_sandbox,
        lambda c: c.post(
            "/sandbox/netts/apiv2/order1h", json=body, headers=netts_headers(netts_box)
        ),
    )
    assert sorted(r.status_code for r in responses) == [200] * 3 + [403] * (RACERS - 3)
    assert balance(netts_box) == 1


def test_a_stale_copy_of_the_account_cannot_spend_the_balance_twice(itrx_box):
    first, stale = SandboxAccount.objects.get(), SandboxAccount.objects.get()
    assert first.charge(60 * SUN_PER_TRX)
    assert stale.balance_sun == 100 * SUN_PER_TRX  # it still believes 100 TRX are there
    assert not stale.charge(60 * SUN_PER_TRX)
    assert stale.balance_sun == 40 * SUN_PER_TRX
    assert balance(itrx_box) == 40 * SUN_PER_TRX
