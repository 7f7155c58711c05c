from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from tests.sandbox.helpers import NETTS, address, itrx_get, itrx_post, netts_headers, tronzap_post

START = datetime(2026, 8, 7, 10, 0, tzinfo=UTC)
RECEIVER = address("lifecycle receiver")


def test_itrx_order_goes_from_30_to_40_with_a_delegate_hash_then_is_reclaimed(http, itrx_box):
    with time_machine.travel(START, tick=False) as clock:
        serial = itrx_post(
            http,
            itrx_box,
            "order",
            {"energy_amount": 65_000, "period": "1H", "receive_address": RECEIVER},
        ).json()["serial"]

        def query():
            return itrx_get(http, itrx_box, "order/query", serial=serial).json()

        first = query()
        assert (first["status"], first["details"], first["pay_amount"]) == (30, [], 0.0)
        clock.shift(5)
        assert query()["status"] == 30
        clock.shift(1)
        done = query()
        assert (done["status"], done["pay_amount"]) == (40, 65_000.0)
        (detail,) = done["details"]
        assert len(detail["delegate_hash"]) == 64
        assert detail["delegate_time"] == "2026-08-07T10:00:06.000000Z"
        assert (detail["status"], detail["reclaim_hash"], detail["reclaim_time_real"]) == (
            20,
            "",
            None,
        )
        clock.shift(3600)
        (reclaimed,) = query()["details"]
        assert reclaimed["status"] == 30
        assert reclaimed["reclaim_time_real"] == "2026-08-07T11:00:06.000000Z"
        assert len(reclaimed["reclaim_hash"]) == 64


def test_itrx_early_reclaim_shows_in_the_details(http, itrx_box):
    with time_machine.travel(START, tick=False) as clock:
        serial = itrx_post(
            http,
            itrx_box,
            "order",
            {"energy_amount": 65_000, "period": "1D", "receive_address": RECEIVER},
        ).json()["serial"]
        clock.shift(60)
        itrx_post(http, itrx_box, "order/reclaim", {"serial": serial})
        clock.shift(1)
        (detail,) = itrx_get(http, itrx_box, "order/query", serial=serial).json()["details"]
        assert detail["status"] == 30
        assert detail["reclaim_time_real"] == "2026-08-07T10:01:00.000000Z"
        assert detail["reclaim_time"] == "2026-08-08T10:00:06.000000Z"


def test_tronzap_transaction_goes_new_pending_success(http, tronzap_box):
    with time_machine.travel(START, tick=False) as clock:
        created = tronzap_post(
            http,
            tronzap_box,
            "transaction/new",
            {
                "service": "energy",
                "params": {"address": RECEIVER, "amounts": {"energy": 65_000}, "duration": 1},
            },
        ).json()["result"]

        def check():
            return tronzap_post(
                http, tronzap_box, "transaction/check", {"id": created["id"]}
            ).json()["result"]

        assert (created["status"], check()["status"]) == ("new", "new")
        clock.shift(3)
        assert check()["status"] == "pending"
        assert check()["hash"] == ""
        clock.shift(3)
        assert check()["status"] == "success"
        assert len(check()["hash"]) == 64


def test_tronzap_with_no_delay_succeeds_at_once(http, tronzap_box):
    tronzap_box.delegation_delay_seconds = 0
    tronzap_box.save()
    created = tronzap_post(
        http,
        tronzap_box,
        "transaction/new",
        {
            "service": "energy",
            "params": {"address": RECEIVER, "amounts": {"energy": 65_000}, "duration": 1},
        },
    ).json()["result"]
    assert created["status"] == "success"
    assert created["hash"]


def test_netts_tx_hashes_appear_after_the_delay(http, netts_box):
    with time_machine.travel(START, tick=False) as clock:
        order_id = http.post(
            NETTS + "order1h",
            json={"amount": 65_000, "receiveAddress": RECEIVER},
            headers=netts_headers(netts_box),
        ).json()["detail"]["data"]["orderId"]

        def check():
            return http.get(
                NETTS + "order_check",
                params={"order_id": order_id},
                headers=netts_headers(netts_box),
            ).json()

        body = check()
        assert (body["success"], body["code"]) == (True, 10000)
        assert body["order"]["tx_hashes"] == []
        assert body["order"]["energy"] == 65_050
        assert body["order"]["cost"] == 3.575
        assert body["order"]["timestamp"] == "2026-08-07 10:00:00"
        clock.shift(6)
        (tx_hash,) = check()["order"]["tx_hashes"]
        assert len(tx_hash) == 64
