"""httpx.MockTransport clients that answer balance requests as each provider documents them."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


def answering(status: int, body: object) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(body).encode())

    return httpx.Client(transport=httpx.MockTransport(handler))


def itrx_balance(sun: int) -> httpx.Client:
    return answering(200, {"balance": sun, "minimum_order_energy": 10000})


def tronzap_balance(trx: object) -> httpx.Client:
    return answering(200, {"code": 0, "result": {"balance": trx, "address": "TDeposit"}})


def netts_balance(trx: object) -> httpx.Client:
    return answering(200, {"status": "success", "stats": {"balance": trx}})


def failing(exc: Exception) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.Client(transport=httpx.MockTransport(handler))
