"""An itrx order response carries the account balance; placing an order records it."""

from __future__ import annotations

import json

import httpx

from energydash.balances.models import BalanceSnapshot
from energydash.balances.services import state_for
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec
from tests.balances.factories import ADDRESS

INDEX = {"balance": 813_892_429_257, "minimum_order_energy": 10_000, "maximum_order_energy": 10**8}
PRICE = {"period": "1H", "energy_amount": 65_000, "price": 65, "total_price": 4_225_000}
ORDER = {"errno": 0, "serial": "7297a8a2", "amount": 4_225_000, "balance": 813_888_204_257}


def itrx(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    body = ORDER if path.endswith("/order") else PRICE if path.endswith("/price") else INDEX
    return httpx.Response(200, content=json.dumps(body).encode())


def test_an_itrx_order_response_writes_an_order_snapshot(itrx_account):
    client = httpx.Client(transport=httpx.MockTransport(itrx))
    spec = OrderSpec(account=itrx_account, kind="energy", receive_address=ADDRESS, energy=65_000)
    order = place_order(spec, client=client)
    snapshot = BalanceSnapshot.objects.get()
    assert (snapshot.source, snapshot.balance_sun) == ("order", 813_888_204_257)
    assert order.balance_after_sun == 813_888_204_257
    assert state_for(itrx_account).balance_sun == 813_888_204_257
