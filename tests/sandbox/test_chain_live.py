"""Over real HTTP: an order placed at each simulated provider completes, and the chain reader,
configured by its settings as `make run` configures it, finds the delegation on the sandbox chain.
The test waits on that condition (with a deadline), never for a fixed time."""

from __future__ import annotations

import httpx
import pytest

from energydash.chain.delegations import delegations_to
from energydash.chain.reader import ChainReader
from energydash.sandbox.models import SandboxOrder
from tests.sandbox.helpers import (
    NETTS,
    address,
    itrx_post,
    netts_headers,
    tronzap_post,
)
from tests.waiting import wait_until

RECEIVER = address("live chain receiver")


def place(client: httpx.Client, kind: str, account) -> None:
    if kind == "itrx":
        body = {"energy_amount": 65_000, "period": "1H", "receive_address": RECEIVER}
        assert itrx_post(client, account, "order", body).json()["errno"] == 0
    elif kind == "tronzap":
        params = {"address": RECEIVER, "amounts": {"energy": 65_000}, "duration": 1}
        body = {"service": "energy", "params": params}
        answer = tronzap_post(client, account, "transaction/new", body)
        assert answer.json()["code"] == 0
    else:
        answer = client.post(
            NETTS + "order1h",
            json={"amount": 65_000, "receiveAddress": RECEIVER},
            headers=netts_headers(account),
        )
        assert answer.status_code == 200


@pytest.mark.parametrize("kind", ["itrx", "tronzap", "netts"])
def test_the_reader_finds_a_completed_orders_delegation_over_http(
    live_sandbox, settings, request, kind
):
    account = request.getfixturevalue(f"{kind}_box")
    account.delegation_delay_seconds = 1
    account.save()
    settings.ENERGYDASH_TRON_API_URL = f"{live_sandbox}/sandbox/chain"
    settings.ENERGYDASH_TRON_API_KEY = "live-test-key-0001"
    with httpx.Client(base_url=live_sandbox, timeout=30) as client:
        place(client, kind, account)
    order = SandboxOrder.objects.get(account=account)
    with httpx.Client(timeout=30) as http:
        reader = ChainReader.from_settings(client=http)

        def ours():
            # One reading is three requests; the delegation may land between the first (the
            # receiver's resources) and the last. Wait for a reading taken wholly after it:
            # the delegation found and the receiver's energy showing it.
            reading = delegations_to(RECEIVER, reader)
            assert reading.ok, reading.message
            found = reading.value.from_delegator(account.delegator())
            landed = found and reading.value.resource.energy_limit >= found[0].energy > 0
            return landed and reading

        reading = wait_until(ours, interval=0.2, message="the delegation is on the sandbox chain")
    (delegation,) = reading.value.delegations
    assert delegation.energy >= order.energy
    # The chain keeps milliseconds.
    assert abs((delegation.expires_at - order.expires_at()).total_seconds()) < 0.001
    assert reading.value.resource.energy_limit == delegation.energy
    assert reading.calls == 3
    assert all("live-test-key-0001" not in e.request_body for e in reader.exchanges)
