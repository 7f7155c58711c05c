from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import time_machine

from energydash.lib.tron import SUN_PER_TRX
from energydash.sandbox.models import SandboxAddress, SandboxOrder
from tests.sandbox.helpers import TRONZAP, address, balance, tronzap_post, unactivated

RECEIVER = address("tronzap receiver")
COST_65K = 3.3995  # 65,000 energy x 52.3 sun, in TRX


def energy(**params):
    return {"service": "energy", "params": {"address": RECEIVER, "duration": 1} | params}


def test_a_wrong_signature_is_code_1_with_http_200(http, tronzap_box):
    response = tronzap_post(http, tronzap_box, "balance", secret="wrong")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 1 and body["key"] == "auth"
    assert body["error"] == "Incorrect token or signature"
    assert len(body["request_id"]) == 36


def test_an_unknown_token_is_code_1(http, tronzap_box):
    assert tronzap_post(http, tronzap_box, "balance", token="nobody").json()["code"] == 1


def test_the_signature_is_over_the_exact_bytes_sent(http, tronzap_box):
    body = b'{ "whatever" :  1 }'
    signature = hashlib.sha256(body + b"tz-secret-1").hexdigest()
    headers = {"Authorization": "Bearer tz-token-1", "X-Signature": signature}
    assert http.post(TRONZAP + "balance", content=body, headers=headers).json()["code"] == 0


def test_balance_is_a_trx_string(http, tronzap_box):
    result = tronzap_post(http, tronzap_box, "balance").json()["result"]
    assert result["balance"] == "100.00"


def test_services_lists_limits_and_prices_per_thousand(http, tronzap_box):
    result = tronzap_post(http, tronzap_box, "services").json()["result"]
    (offer,) = result["energy"]
    assert offer["duration"] == 1
    assert (offer["min_amount"], offer["max_amount"]) == (32_000, 5_000_000)
    assert offer["price"] == 0.0523
    assert offer["price_65k"] == COST_65K
    assert result["activate_address"] == {"price": 1.4}


def test_calculate_adds_the_activation_fee_for_a_new_address(http, tronzap_box):
    new = unactivated("tz calc")
    result = tronzap_post(
        http, tronzap_box, "calculate", {"address": new, "amount": 65_000, "duration": 1}
    ).json()["result"]
    assert result["price"] == COST_65K
    assert result["activation_fee"] == 1.4
    assert result["total"] == 4.7995


def test_new_transaction_charges_and_answers_numbers(http, tronzap_box):
    body = tronzap_post(
        http,
        tronzap_box,
        "transaction/new",
        energy(amounts={"energy": 65_000}) | {"external_id": "x-1"},
    ).json()
    assert body["code"] == 0
    result = body["result"]
    assert result["amount"] == COST_65K
    assert result["external_id"] == "x-1"
    assert result["service"] == "energy"
    assert result["params"]["amounts"] == {"energy": 65_000}
    assert result["status"] == "new"
    assert result["hash"] == ""
    assert result["created_at"].endswith("+00:00")
    assert balance(tronzap_box) == 100 * SUN_PER_TRX - 3_399_500


def test_energy_is_read_from_amounts_energy_then_the_legacy_energy_amount(http, tronzap_box):
    def placed(**params):
        result = tronzap_post(http, tronzap_box, "transaction/new", energy(**params)).json()[
            "result"
        ]
        return SandboxOrder.objects.get(ref=result["id"]).energy

    # amounts.energy: the official Python (1.6.0) and Java SDKs' body.
    assert placed(amounts={"energy": 70_000}, amount=80_000, energy_amount=90_000) == 70_000
    # energy_amount (+ amount): the Node and PHP SDKs' body.
    assert placed(amount=80_000, energy_amount=90_000) == 90_000
    assert placed(energy_amount=90_000) == 90_000


def test_amount_alone_is_refused_like_a_missing_energy_amount_and_charges_nothing(
    http, tronzap_box
):
    before = balance(tronzap_box)
    body = tronzap_post(http, tronzap_box, "transaction/new", energy(amount=65_000)).json()
    assert (body["code"], body["key"]) == (11, "invalid_energy_amount.energy_amount")
    assert "params.amounts.energy" in body["error"]
    assert balance(tronzap_box) == before
    assert not SandboxOrder.objects.exists()


def test_a_refunded_transaction_reports_refunded_and_its_refund(http, tronzap_box):
    created = tronzap_post(
        http, tronzap_box, "transaction/new", energy(amounts={"energy": 65_000})
    ).json()["result"]
    order = SandboxOrder.objects.get(ref=created["id"])
    assert balance(tronzap_box) == 100 * SUN_PER_TRX - 3_399_500
    assert order.refund() is True
    assert order.refund() is False  # once
    checked = tronzap_post(http, tronzap_box, "transaction/check", {"id": created["id"]}).json()
    assert checked["result"]["status"] == "refunded"
    assert checked["result"]["refund_amount"] == "3.3995"
    assert balance(tronzap_box) == 100 * SUN_PER_TRX  # the whole cost went back


def test_check_answers_strings_and_the_legacy_params_shape(http, tronzap_box):
    created = tronzap_post(
        http,
        tronzap_box,
        "transaction/new",
        energy(amounts={"energy": 65_000}) | {"external_id": "x-2"},
    ).json()["result"]
    by_id = tronzap_post(http, tronzap_box, "transaction/check", {"id": created["id"]}).json()
    by_ref = tronzap_post(http, tronzap_box, "transaction/check", {"external_id": "x-2"}).json()
    assert by_id == by_ref
    result = by_id["result"]
    assert result["amount"] == "3.3995"
    assert result["params"]["energy_amount"] == 65_000
    assert len(result["created_at"]) == len("2026-08-07 10:42:12")


def test_check_pads_amounts_to_two_places(http, tronzap_box):
    tronzap_box.price_sun = 40  # 85,000 x 40 sun = 3.4 TRX
    tronzap_box.save()
    created = tronzap_post(
        http, tronzap_box, "transaction/new", energy(amounts={"energy": 85_000})
    ).json()
    assert created["result"]["amount"] == 3.4
    checked = tronzap_post(http, tronzap_box, "transaction/check", {"id": created["result"]["id"]})
    assert checked.json()["result"]["amount"] == "3.40"


def test_check_of_an_unknown_transaction_is_code_20(http, tronzap_box):
    body = tronzap_post(http, tronzap_box, "transaction/check", {"id": "nope"}).json()
    assert body["code"] == 20
    assert tronzap_post(http, tronzap_box, "transaction/check", {}).json()["code"] == 2


def test_an_invalid_address_is_code_10(http, tronzap_box):
    body = tronzap_post(
        http,
        tronzap_box,
        "transaction/new",
        {
            "service": "energy",
            "params": {"address": "TNotAnAddress", "amounts": {"energy": 65_000}, "duration": 1},
        },
    ).json()
    assert (body["code"], body["key"]) == (10, "invalid_tron_address")


def test_an_amount_out_of_range_is_code_11(http, tronzap_box):
    body = tronzap_post(
        http, tronzap_box, "transaction/new", energy(amounts={"energy": 31_999})
    ).json()
    assert body["code"] == 11
    assert tronzap_post(http, tronzap_box, "transaction/new", energy()).json()["code"] == 11


def test_a_duration_other_than_one_hour_is_code_12(http, tronzap_box):
    body = tronzap_post(
        http, tronzap_box, "transaction/new", energy(amounts={"energy": 65_000}, duration=24)
    ).json()
    assert body["code"] == 12
    assert body["error"] == "Duration must be equal to 1 (1 hour)"


def test_an_unknown_service_is_code_2(http, tronzap_box):
    body = tronzap_post(http, tronzap_box, "transaction/new", {"service": "x", "params": {}})
    assert body.json()["code"] == 2


def test_insufficient_funds_is_code_6_and_charges_nothing(http, tronzap_box):
    tronzap_box.balance_sun = 3_399_499
    tronzap_box.save()
    body = tronzap_post(
        http, tronzap_box, "transaction/new", energy(amounts={"energy": 65_000})
    ).json()
    assert (body["code"], body["key"]) == (6, "insufficient_funds")
    assert balance(tronzap_box) == 3_399_499


def test_an_unactivated_address_is_code_24_unless_activation_is_requested(http, tronzap_box):
    new = unactivated("tz new")
    refused = tronzap_post(
        http, tronzap_box, "transaction/new", energy(address=new, amounts={"energy": 65_000})
    ).json()
    assert refused["code"] == 24
    placed = tronzap_post(
        http,
        tronzap_box,
        "transaction/new",
        energy(address=new, amounts={"energy": 65_000}, activate_address=True),
    ).json()["result"]
    assert placed["amount"] == 4.7995
    assert placed["params"]["activate_address"] is True
    assert balance(tronzap_box) == 100 * SUN_PER_TRX - 3_399_500 - 1_400_000
    assert SandboxAddress.is_activated(new)


def test_activate_address_service_charges_the_fee_once(http, tronzap_box):
    new = unactivated("tz activate")
    activation = {"service": "activate_address", "params": {"address": new}}
    result = tronzap_post(http, tronzap_box, "transaction/new", activation).json()["result"]
    assert result["service"] == "activate_address"
    assert result["amount"] == 1.4
    again = tronzap_post(http, tronzap_box, "transaction/new", activation).json()
    assert (again["code"], again["key"]) == (25, "address_already_activated")
    assert balance(tronzap_box) == 100 * SUN_PER_TRX - 1_400_000


def test_unavailable_service_is_code_35(http, tronzap_box):
    tronzap_box.orders_unavailable = True
    tronzap_box.save()
    body = tronzap_post(
        http, tronzap_box, "transaction/new", energy(amounts={"energy": 65_000})
    ).json()
    assert (body["code"], body["key"]) == (35, "service_unavailable")
    assert balance(tronzap_box) == 100 * SUN_PER_TRX


def test_the_php_sdk_empty_list_body_is_accepted(http, tronzap_box):
    assert tronzap_post(http, tronzap_box, "balance", []).json()["code"] == 0


def test_get_is_not_allowed(http, tronzap_box):
    assert http.get(TRONZAP + "balance").status_code == 405


def test_address_info_shows_energy_while_delegated(http, tronzap_box):
    with time_machine.travel(datetime(2026, 8, 7, 10, 0, tzinfo=UTC), tick=False) as clock:
        tronzap_post(http, tronzap_box, "transaction/new", energy(amounts={"energy": 65_000}))

        def resources():
            body = tronzap_post(http, tronzap_box, "address-info", {"address": RECEIVER}).json()
            return body["result"]["resources"]

        assert resources() == {"energy": 0, "bandwidth": 600}
        clock.shift(6)
        assert resources()["energy"] == 65_000
        clock.shift(3600)
        assert resources()["energy"] == 0
    new = unactivated("tz info new")
    info = tronzap_post(http, tronzap_box, "address-info", {"address": new}).json()["result"]
    assert info["resources"]["bandwidth"] == 0
