from __future__ import annotations

import json
import time

from energydash.lib.tron import SUN_PER_TRX
from energydash.sandbox.itrx_auth import sign
from energydash.sandbox.models import SandboxAddress, SandboxOrder
from tests.sandbox.helpers import ITRX, address, balance, itrx_get, itrx_post, unactivated

RECEIVER = address("itrx receiver")


def order(**extra):
    return {"energy_amount": 65_000, "period": "1H", "receive_address": RECEIVER} | extra


def test_signature_matches_the_documented_worked_example():
    body = (
        '{"callback_url":"http://{mydomain}/callback","energy_amount":32000,"out_trade_no":"123456",'
        '"period":"1D","receive_address":"TExWKszFWYTKZH8LYiovAPKzS3L9MLZ4kw"}'
    )
    secret = "0285A2741D0E76E2E187260EB23E51851D48403A756333E7D0CF845406ABF3E8"
    expected = "07c125cabfe006614a02131f927cca9e7a654f7644a817b155fad591e1c50f7b"
    assert sign(secret, "1686796826", body) == expected


def test_index_data_reports_balance_in_sun_and_limits(http, itrx_box):
    data = itrx_get(http, itrx_box, "index-data").json()
    assert data["balance"] == 100 * SUN_PER_TRX
    assert data["minimum_order_energy"] == 10_000
    assert data["maximum_order_energy"] == 100_000_000
    assert data["small_amount"] == 50_000 and data["small_addition"] == 0.6
    assert data["usdt_energy_need_old"] == 65_000 and data["usdt_energy_need_new"] == 131_000
    assert {"period": 0, "price": 65} in data["tiered_pricing"]


def test_index_data_with_a_wrong_key_answers_empty_data(http, itrx_box):
    response = http.get(ITRX + "index-data", headers={"API-KEY": "nope"})
    assert response.status_code == 200
    assert response.json() == {}


def test_price_includes_the_small_order_addition(http, itrx_box):
    data = itrx_get(http, itrx_box, "order/price", period="1H", energy_amount=32_000).json()
    assert data == {
        "period": "1H",
        "energy_amount": 32_000,
        "price": 65,
        "total_price": 32_000 * 65 + 600_000,
        "addition": 600_000,
    }


def test_price_for_days_uses_the_tier_and_multiplies_by_days(http, itrx_box):
    data = itrx_get(http, itrx_box, "order/price", period="3D", energy_amount=65_000).json()
    assert data["price"] == 80
    assert data["total_price"] == 65_000 * 80 * 3


def test_price_estimates_energy_from_a_destination(http, itrx_box):
    new = unactivated("never held usdt")
    assert (
        itrx_get(http, itrx_box, "order/price", period="1H", to_address=new).json()["energy_amount"]
        == 131_000
    )
    assert (
        itrx_get(http, itrx_box, "order/price", period="1H", to_address=RECEIVER).json()[
            "energy_amount"
        ]
        == 65_000
    )


def test_price_with_a_wrong_key_is_forbidden(http, itrx_box):
    response = http.get(ITRX + "order/price", params={"period": "1H"}, headers={"API-KEY": "x"})
    assert response.status_code == 403
    assert "detail" in response.json()


def test_order_deducts_the_balance_and_reports_it_in_sun(http, itrx_box):
    data = itrx_post(http, itrx_box, "order", order(out_trade_no="ours-1")).json()
    cost = 65_000 * 65
    assert data["errno"] == 0
    assert len(data["serial"]) == 32
    assert data["amount"] == cost
    assert data["balance"] == 100 * SUN_PER_TRX - cost
    assert balance(itrx_box) == 100 * SUN_PER_TRX - cost
    assert SandboxOrder.objects.get(ref=data["serial"]).client_ref == "ours-1"


def test_a_wrong_signature_is_forbidden_and_charges_nothing(http, itrx_box):
    response = itrx_post(http, itrx_box, "order", order(), secret="not the secret")
    assert response.status_code == 403
    assert response.json()["detail"] == "Signature verification failed."
    assert balance(itrx_box) == 100 * SUN_PER_TRX
    assert not SandboxOrder.objects.exists()


def test_an_unknown_api_key_is_forbidden(http, itrx_box):
    itrx_box.api_key = "someone else"
    response = itrx_post(http, itrx_box, "order", order())
    assert response.status_code == 403


def test_a_stale_timestamp_is_refused(http, itrx_box):
    response = itrx_post(http, itrx_box, "order", order(), timestamp=int(time.time()) - 101)
    assert response.status_code == 403
    assert "TIMESTAMP" in response.json()["detail"]


def test_a_body_that_is_not_sorted_compact_json_is_refused_even_if_signed(http, itrx_box):
    spaced = json.dumps({"receive_address": RECEIVER, "period": "1H", "energy_amount": 65000})
    response = itrx_post(http, itrx_box, "order", {}, body=spaced)
    assert response.status_code == 403
    assert "sorted compact JSON" in response.json()["detail"]


def test_below_minimum_energy_is_a_field_error(http, itrx_box):
    response = itrx_post(http, itrx_box, "order", order(energy_amount=9_999))
    assert response.status_code == 400
    assert response.json() == {
        "energy_amount": ["Please make sure the value is greater than or equal to 10000."]
    }


def test_unknown_period_and_missing_fields_are_field_errors(http, itrx_box):
    response = itrx_post(http, itrx_box, "order", {"period": "1X"})
    assert response.status_code == 400
    assert response.json() == {
        "energy_amount": ["This field is required."],
        "period": ["'1X' is not a legal option."],
        "receive_address": ["This field is required."],
    }


def test_days_up_to_thirty_are_accepted(http, itrx_box):
    assert itrx_post(http, itrx_box, "order", order(period="7D")).json()["errno"] == 0
    assert itrx_post(http, itrx_box, "order", order(period="31D")).status_code == 400


def test_an_invalid_address_is_a_field_error(http, itrx_box):
    bad = RECEIVER[:-1] + ("A" if RECEIVER[-1] != "A" else "B")
    response = itrx_post(http, itrx_box, "order", order(receive_address=bad))
    assert response.status_code == 400
    assert list(response.json()) == ["receive_address"]


def test_insufficient_balance_is_errno_1_and_charges_nothing(http, itrx_box):
    itrx_box.balance_sun = 65_000 * 65 - 1
    itrx_box.save()
    data = itrx_post(http, itrx_box, "order", order()).json()
    assert data == {"errno": 1, "message": "insufficient balance"}
    assert balance(itrx_box) == 65_000 * 65 - 1


def test_an_unactivated_address_fails_unless_activation_is_requested(http, itrx_box):
    new = unactivated("itrx new address")
    refused = itrx_post(http, itrx_box, "order", order(receive_address=new)).json()
    assert refused == {"errno": 1, "message": "the address is not activated"}
    assert balance(itrx_box) == 100 * SUN_PER_TRX

    placed = itrx_post(http, itrx_box, "order", order(receive_address=new, active=1)).json()
    assert placed["amount"] == 65_000 * 65 + 1_500_000
    assert balance(itrx_box) == 100 * SUN_PER_TRX - placed["amount"]
    assert SandboxAddress.is_activated(new)


def test_query_by_serial_or_out_trade_no(http, itrx_box):
    serial = itrx_post(http, itrx_box, "order", order(out_trade_no="ref-9")).json()["serial"]
    by_serial = itrx_get(http, itrx_box, "order/query", serial=serial).json()
    by_reference = itrx_get(http, itrx_box, "order/query", out_trade_no="ref-9").json()
    assert by_serial == by_reference
    assert by_serial["order_no"] == serial
    assert by_serial["amount"] == 65_000 * 65
    assert by_serial["period"] == 0
    assert by_serial["api_name"] == "box itrx"
    assert by_serial["create_time"].endswith("+08:00")


def test_query_of_an_unknown_order_is_errno_404(http, itrx_box):
    data = itrx_get(http, itrx_box, "order/query", serial="0" * 32).json()
    assert data == {"errno": 404, "message": "Order not found"}
    assert itrx_get(http, itrx_box, "order/query").status_code == 400


def test_query_with_a_wrong_key_is_forbidden(http, itrx_box):
    response = http.get(ITRX + "order/query", params={"serial": "x"}, headers={"API-KEY": "x"})
    assert response.status_code == 403


def test_collect_manual_picks_a_scene_and_charges(http, itrx_box):
    data = itrx_post(
        http, itrx_box, "order/collect-manual", {"scene": 0, "receive_address": RECEIVER}
    ).json()
    assert data["errno"] == 0
    assert data["scene"] == 1
    assert data["amount"] == 65_000 * 65
    assert data["balance"] == balance(itrx_box)
    assert SandboxOrder.objects.get(ref=data["serial"]).kind == "collect"


def test_collect_manual_to_a_new_recipient_uses_more_energy(http, itrx_box):
    to = unactivated("collect destination")
    data = itrx_post(
        http,
        itrx_box,
        "order/collect-manual",
        {"scene": 0, "receive_address": RECEIVER, "to_address": to},
    ).json()
    assert data["scene"] == 2
    assert data["amount"] == 131_000 * 65


def test_collect_manual_refuses_an_unknown_scene(http, itrx_box):
    response = itrx_post(
        http, itrx_box, "order/collect-manual", {"scene": 7, "receive_address": RECEIVER}
    )
    assert response.status_code == 400
    assert response.json() == {"scene": ["'7' is not a legal option."]}


def test_reclaim_accepts_a_known_order(http, itrx_box):
    serial = itrx_post(http, itrx_box, "order", order()).json()["serial"]
    assert itrx_post(http, itrx_box, "order/reclaim", {"serial": serial}).json() == {
        "errno": 0,
        "message": "request accept",
    }
    missing = itrx_post(http, itrx_box, "order/reclaim", {"serial": "f" * 32}).json()
    assert missing["errno"] == 404


def test_get_endpoints_refuse_post(http, itrx_box):
    response = http.post(ITRX + "index-data", headers={"API-KEY": itrx_box.api_key.reveal()})
    assert response.status_code == 405


def test_out_trade_no_may_be_a_number_and_callback_url_any_http_url(http, itrx_box):
    data = order(out_trade_no=123456, callback_url="http://{mydomain}/callback")
    assert itrx_post(http, itrx_box, "order", data).json()["errno"] == 0
    assert itrx_get(http, itrx_box, "order/query", out_trade_no="123456").json()["errno"] == 0


def test_a_callback_url_that_is_not_http_is_a_field_error(http, itrx_box):
    response = itrx_post(http, itrx_box, "order", order(callback_url="ftp://x/y"))
    assert response.status_code == 400
    assert response.json() == {"callback_url": ["Please enter a valid URL."]}
