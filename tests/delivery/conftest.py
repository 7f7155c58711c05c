"""A fake TRON node on 127.0.0.1 (an httpx.MockTransport: nothing leaves the process) whose
delegations a test sets, and completed orders to verify against it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from energydash.lib.tron import address_from_payload
from energydash.orders.models import Order

NODE = "http://127.0.0.1:8090"
LIMIT, WEIGHT = 180_000_000_000, 17_000_000_000
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def address(seed: str) -> str:
    return address_from_payload(hashlib.sha256(seed.encode()).digest()[:20])


def stake_for(energy: int) -> int:
    """The least sun staked that yields `energy` at the fake network's ratio."""
    return -(-energy * 1_000_000 * WEIGHT // LIMIT)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FakeChain:
    def __init__(self) -> None:
        self.delegations: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.activated: set[str] = set()
        self.transactions: dict[str, datetime] = {}  # txid: its block's time
        self.requests: list[str] = []
        self.fail_with: int | None = None

    def delegate(self, delegator: str, receiver: str, energy: int, expires: datetime) -> None:
        self.delegations.setdefault((delegator, receiver), []).append(
            (stake_for(energy), ms(expires))
        )

    def undelegate(self, delegator: str, receiver: str) -> None:
        self.delegations.pop((delegator, receiver), None)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(path)
        if self.fail_with:
            return httpx.Response(self.fail_with, json={})
        body = json.loads(request.content)
        if path.endswith("/getaccountresource"):
            a = body["address"]
            energy = sum(
                s * LIMIT // (1_000_000 * WEIGHT)
                for (_, to), rows in self.delegations.items()
                if to == a
                for s, _ in rows
            )
            return httpx.Response(
                200,
                json={
                    "EnergyLimit": energy,
                    "TotalEnergyLimit": LIMIT,
                    "TotalEnergyWeight": WEIGHT,
                },
            )
        if path.endswith("/getdelegatedresourceaccountindexv2"):
            a = body["value"]
            froms = sorted({f for (f, to) in self.delegations if to == a})
            return httpx.Response(200, json={"account": a, "fromAccounts": froms} if froms else {})
        if path.endswith("/getdelegatedresourcev2"):
            rows = self.delegations.get((body["fromAddress"], body["toAddress"]), [])
            resources = [
                {
                    "from": body["fromAddress"],
                    "to": body["toAddress"],
                    "frozen_balance_for_energy": s,
                    "expire_time_for_energy": e,
                }
                for s, e in rows
            ]
            return httpx.Response(200, json={"delegatedResource": resources} if rows else {})
        if path.endswith("/gettransactioninfobyid"):
            txid = body["value"]
            if txid not in self.transactions:
                return httpx.Response(200, json={})
            at = ms(self.transactions[txid])
            return httpx.Response(
                200, json={"id": txid, "blockNumber": at // 3000, "blockTimeStamp": at}
            )
        if path.endswith("/getaccount"):
            a = body["address"]
            if a not in self.activated:
                return httpx.Response(200, json={})
            return httpx.Response(
                200, json={"address": a, "balance": 1_000_000, "create_time": ms(T0)}
            )
        return httpx.Response(404, json={})


@pytest.fixture
def chain(settings) -> Iterator[FakeChain]:
    settings.ENERGYDASH_TRON_API_URL = NODE
    settings.ENERGYDASH_TRON_API_QPS = 10_000  # no test waits on the budget
    settings.ENERGYDASH_DELIVERY_MIDPERIOD_PERCENT = 0
    yield FakeChain()


@pytest.fixture
def http(chain) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(chain.handle)) as client:
        yield client


def completed_order(
    account,
    receiver: str,
    *,
    energy: int = 65_000,
    period: str = "1H",
    done: datetime = T0,
    kind: str = "energy",
    **fields,
) -> Order:
    fields.setdefault("status", "completed")
    return Order.objects.create(
        account=account,
        kind=kind,
        receive_address=receiver,
        energy=energy if kind == "energy" else None,
        period=period if kind == "energy" else "",
        burn_sun_per_energy=100,
        cost_sun=3_000_000,
        created=done - timedelta(seconds=5),
        submitted_at=done - timedelta(seconds=5),
        finished_at=done,
        **fields,
    )
