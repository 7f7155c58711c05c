from __future__ import annotations

from energydash.lib.tron import SUN_PER_TRX
from energydash.sandbox.models import SandboxAddress
from tests.sandbox.helpers import NETTS, address, balance, netts_headers, unactivated

RECEIVER = address("netts receiver")
UNAUTHORIZED = {"detail": "Invalid API key or IP not in whitelist"}


def order1h(http, account, amount=131_000, receiver=RECEIVER, ip="127.0.0.1"):
    return http.post(
        NETTS + "order1h",
        json={"amount": amount, "receiveAddress": receiver},
        headers=netts_headers(account, ip),
    )


def test_a_wrong_key_is_401(http, netts_box):
    netts_box.api_key = "wrong"
    response = http.get(NETTS + "userinfo", headers=netts_headers(netts_box))
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_an_ip_outside_the_whitelist_is_401(http, netts_box):
    response = order1h(http, netts_box, ip="198.51.100.1")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert (
        http.get(NETTS + "userinfo", headers={"X-API-KEY": netts_box.api_key.reveal()}).status_code
        == 401
    )
    assert balance(netts_box) == 100 * SUN_PER_TRX


def test_userinfo_reports_the_balance_in_trx(http, netts_box):
    response = http.get(NETTS + "userinfo", headers=netts_headers(netts_box, "203.0.113.7"))
    data = response.json()
    assert data["status"] == "success"
    assert data["stats"]["balance"] == 100


def test_pricing_marks_the_current_period(http, netts_box):
    data = http.get(NETTS + "pricing", headers=netts_headers(netts_box)).json()
    periods = data["data"]["services"]["energy_1h"]["periods"]
    assert data["success"] is True
    assert sum(p["is_current"] for p in periods) == 1
    assert {p["price"] for p in periods} == {55}


def test_deprecated_prices_keep_their_shape(http, netts_box):
    data = http.get(NETTS + "prices", headers=netts_headers(netts_box)).json()
    assert data["status"] == "success"
    assert sum(p["is_active"] for p in data["periods"]) == 1
    assert data["periods"][0]["prices"]["less_than_200k"] == {"price_sun": 55}


def test_order_deducts_and_answers_in_the_detail_envelope(http, netts_box):
    response = order1h(http, netts_box)
    assert response.status_code == 200
    detail = response.json()["detail"]
    assert detail["code"] == 10000
    assert detail["msg"] == "Successful, 7.205 TRX deducted"
    data = detail["data"]
    assert data["orderId"].startswith("1H")
    assert data["paidTRX"] == 7.205
    assert data["energy"] == 131_050
    assert data["hash"] == ""
    assert data["delegateAddress"].startswith("T")
    assert balance(netts_box) == 100 * SUN_PER_TRX - 7_205_000


def test_amounts_outside_61000_to_5000000_are_400(http, netts_box):
    assert order1h(http, netts_box, amount=60_999).status_code == 400
    assert order1h(http, netts_box, amount=5_000_001).status_code == 400
    assert balance(netts_box) == 100 * SUN_PER_TRX


def test_an_invalid_address_is_400(http, netts_box):
    response = order1h(http, netts_box, receiver="T" + "1" * 33)
    assert response.status_code == 400
    assert "detail" in response.json()


def test_insufficient_funds_is_403_code_1004(http, netts_box):
    netts_box.balance_sun = 1_500_000
    netts_box.save()
    response = order1h(http, netts_box)
    assert response.status_code == 403
    assert response.json() == {
        "code": 1004,
        "msg": "Insufficient funds. Required: 7.21 TRX, Available: 1.50 TRX",
    }
    assert balance(netts_box) == 1_500_000


def test_an_unactivated_address_is_activated_at_cost(http, netts_box):
    new = unactivated("netts new")
    data = order1h(http, netts_box, receiver=new).json()["detail"]["data"]
    assert data["paidTRX"] == 8.305  # 7.205 energy + 1.1 activation
    assert SandboxAddress.is_activated(new)
    check = http.get(
        NETTS + "order_check",
        params={"order_id": data["orderId"]},
        headers={"X-API-KEY": netts_box.api_key.reveal()},
    ).json()
    assert check["activation"]["cost"] == 1.1
    assert check["order"]["rate_sun"] == 55


def test_order_check_of_an_unknown_order(http, netts_box):
    response = http.get(
        NETTS + "order_check", params={"order_id": "1Hnope"}, headers=netts_headers(netts_box)
    )
    assert response.json() == {"success": False, "msg": "Order not found"}


def test_unavailable_providers_are_503(http, netts_box):
    netts_box.orders_unavailable = True
    netts_box.save()
    response = order1h(http, netts_box)
    assert response.status_code == 503
    assert response.json()["code"] == 5003
