"""The simulated chain, read by the real chain reader (in-process WSGI), as sandbox orders
complete, and each of its fault knobs. Time is moved with time_machine: nothing waits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine

from energydash.chain.budget import RequestBudget
from energydash.chain.delegations import delegations_to
from energydash.chain.outcomes import OK, REFUSED, UNAVAILABLE
from energydash.chain.reader import ChainReader
from energydash.sandbox.chain_models import ChainAccount, ChainDelegation, ChainNetwork
from energydash.sandbox.chain_state import record_delegation
from energydash.sandbox.models import SandboxOrder
from tests.sandbox.helpers import NETTS, address, itrx_post, netts_headers, unactivated

START = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
RECEIVER = address("chain receiver")
BASE = "http://testserver/sandbox/chain"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reader(wsgi_app, clock) -> ChainReader:
    return make_reader(wsgi_app, clock)


def make_reader(wsgi_app, clock, qps: int = 1_000, retries: int = 3) -> ChainReader:
    """The product's reader on the sandbox chain; its sleeps move the travelled clock."""

    def sleep(seconds: float) -> None:
        clock.shift(seconds)

    client = httpx.Client(transport=httpx.WSGITransport(app=wsgi_app))
    budget = RequestBudget(qps, sleep=sleep)
    return ChainReader(
        BASE, "sandbox-key", client=client, budget=budget, sleep=sleep, retries=retries
    )


def at(clock, seconds: float) -> None:
    clock.move_to(START + timedelta(seconds=seconds))


def netts_order(http, account, amount: int = 131_000, receiver: str = RECEIVER) -> dict:
    response = http.post(
        NETTS + "order1h",
        json={"amount": amount, "receiveAddress": receiver},
        headers=netts_headers(account),
    )
    assert response.status_code == 200, response.text
    return response.json()["detail"]["data"]


def test_an_order_lands_on_chain_when_it_completes_and_leaves_at_its_end(
    http, reader, clock, netts_box
):
    placed = netts_order(http, netts_box)  # 131,050 energy (Netts adds 50), delegated at +6 s
    order = SandboxOrder.objects.get(ref=placed["orderId"])
    assert placed["delegateAddress"] == netts_box.delegator()
    at(clock, 5)
    assert delegations_to(RECEIVER, reader).value.delegations == ()
    assert not reader.transaction_info(order.fake_hash("delegate")).value.on_chain
    at(clock, 6)
    reading = delegations_to(RECEIVER, reader)
    assert reading.outcome == OK, reading.message
    (ours,) = reading.value.delegations
    assert ours.delegator == netts_box.delegator()
    assert 131_050 <= ours.energy < 131_050 + 11  # at most one TRX's worth of energy more
    assert ours.staked_sun == ChainNetwork.current().stake_for_energy(131_050)
    assert ours.expires_at == START + timedelta(seconds=6 + 3600)
    assert reading.value.resource.energy_limit == ours.energy
    assert reading.calls == 3
    info = reader.transaction_info(order.fake_hash("delegate")).value
    assert info.on_chain and info.block_time >= START + timedelta(seconds=6)
    at(clock, 6 + 3600)
    assert delegations_to(RECEIVER, reader).value.delegations == ()
    assert reader.account_resource(RECEIVER).value.energy_limit == 0


def test_the_network_ratio_is_mainnet_like(reader, clock):
    resource = reader.account_resource(RECEIVER).value
    assert (resource.total_energy_limit, resource.total_energy_weight) == (
        180_000_000_000,
        17_000_000_000,
    )
    assert resource.energy_for(1_000_000) == 10  # 10.59 energy per TRX staked
    assert resource.free_net_limit == 600


def test_never_delegates(http, reader, clock, netts_box):
    netts_box.chain_never_delegates = True
    netts_box.save()
    netts_order(http, netts_box)
    at(clock, 60)
    reading = delegations_to(RECEIVER, reader)
    assert reading.ok and reading.value.delegations == () and reading.calls == 1  # the index only


def test_delegates_a_part(http, reader, clock, netts_box):
    netts_box.chain_delegated_percent = 50
    netts_box.save()
    netts_order(http, netts_box)
    at(clock, 6)
    (ours,) = delegations_to(RECEIVER, reader).value.delegations
    assert 65_525 <= ours.energy < 65_525 + 11


def test_delegates_late(http, reader, clock, netts_box):
    netts_box.chain_late_seconds = 30
    netts_box.save()
    placed = netts_order(http, netts_box)
    at(clock, 35)
    check = http.get(
        NETTS + "order_check",
        params={"order_id": placed["orderId"]},
        headers=netts_headers(netts_box),
    )
    assert check.json()["order"]["tx_hashes"]  # the provider says it is done ...
    assert delegations_to(RECEIVER, reader).value.delegations == ()  # ... the chain does not
    at(clock, 36)
    assert len(delegations_to(RECEIVER, reader).value.delegations) == 1


def test_undelegates_early(http, reader, clock, netts_box):
    netts_box.chain_undelegate_after_seconds = 600
    netts_box.save()
    netts_order(http, netts_box)
    at(clock, 6 + 599)
    (ours,) = delegations_to(RECEIVER, reader).value.delegations
    assert ours.expires_at == START + timedelta(seconds=6 + 3600)  # the lock said an hour
    at(clock, 6 + 600)
    assert delegations_to(RECEIVER, reader).value.delegations == ()


def test_someone_else_delegates_the_same_at_the_same_moment(http, reader, clock, netts_box):
    netts_box.chain_other_party_percent = 100
    netts_box.save()
    netts_order(http, netts_box)
    at(clock, 6)
    found = delegations_to(RECEIVER, reader).value
    assert {d.delegator for d in found.delegations} == {
        netts_box.delegator(),
        netts_box.other_party(),
    }
    assert len({d.staked_sun for d in found.delegations}) == 1  # twins but for the delegator
    assert len(found.from_delegator(netts_box.delegator())) == 1
    assert found.resource.energy_limit == found.energy


def test_never_delegates_while_a_stranger_does(http, reader, clock, netts_box):
    netts_box.chain_never_delegates = True
    netts_box.chain_other_party_percent = 100
    netts_box.save()
    netts_order(http, netts_box)
    at(clock, 6)
    (only,) = delegations_to(RECEIVER, reader).value.delegations
    assert only.delegator == netts_box.other_party()


def test_two_orders_of_one_delegator_add_up_in_one_record(http, reader, clock, netts_box):
    netts_order(http, netts_box)
    at(clock, 100)
    netts_order(http, netts_box)
    at(clock, 106)
    entries = reader.delegated_resources(netts_box.delegator(), RECEIVER).value
    assert len(entries) == 1  # the chain keeps one locked record per pair
    assert entries[0].energy_sun == 2 * ChainNetwork.current().stake_for_energy(131_050)
    assert entries[0].energy_expires_at == START + timedelta(seconds=106 + 3600)


def test_an_itrx_reclaim_takes_the_delegation_back(http, reader, clock, itrx_box):
    body = {"energy_amount": 65_000, "period": "1H", "receive_address": RECEIVER}
    serial = itrx_post(http, itrx_box, "order", body).json()["serial"]
    at(clock, 10)
    assert len(delegations_to(RECEIVER, reader).value.delegations) == 1
    assert itrx_post(http, itrx_box, "order/reclaim", {"serial": serial}).json()["errno"] == 0
    at(clock, 11)
    assert delegations_to(RECEIVER, reader).value.delegations == ()


def test_an_itrx_collection_puts_its_scenes_energy_on_chain(http, reader, clock, itrx_box):
    """collect-manual delegates one USDT transfer's energy (scene 1: 65,000) to the sweeping
    address, with itrx's delegation transaction: what the console's verification holds it to."""
    serial = itrx_post(
        http, itrx_box, "order/collect-manual", {"scene": 1, "receive_address": RECEIVER}
    ).json()["serial"]
    at(clock, 10)
    (landed,) = delegations_to(RECEIVER, reader).value.delegations
    assert landed.energy >= 65_000
    order = SandboxOrder.objects.get(ref=serial)
    assert reader.transaction_info(order.fake_hash("delegate")).value.on_chain


def test_a_refunded_order_never_lands(http, reader, clock, netts_box):
    placed = netts_order(http, netts_box)
    SandboxOrder.objects.get(ref=placed["orderId"]).refund()
    at(clock, 60)
    assert delegations_to(RECEIVER, reader).value.delegations == ()


def test_recording_twice_changes_nothing(netts_box, clock):
    fields = {"account": netts_box, "provider": "netts", "receive_address": RECEIVER}
    order = SandboxOrder.objects.create(ref="r1", energy=65_000, cost_sun=1, **fields)
    first = record_delegation(order)
    assert record_delegation(order) == first
    assert ChainDelegation.objects.count() == 1
    activation = SandboxOrder.objects.create(
        ref="r2", energy=0, cost_sun=1, kind=SandboxOrder.Kind.ACTIVATE, **fields
    )
    assert record_delegation(activation) == []


def test_getaccount_knows_activation_balance_and_creation(reader, clock):
    fresh = unactivated("never seen on chain")
    assert reader.account(fresh).value.activated is False
    assert reader.account_resource(fresh).value.total_energy_weight == 0  # `{}`
    rich = address("rich")
    ChainAccount.objects.create(address=rich, balance_sun=12_345_678, created_at=START)
    account = reader.account(rich).value
    assert account.activated and account.balance_sun == 12_345_678
    assert account.created_at == START


def test_an_address_a_sandbox_order_activated_was_created_then(reader, clock):
    """Netts activating a recipient unasked: the chain dates the account to that moment, so the
    console can tell the activation came with the order (orders/chain_evidence.py)."""
    from energydash.sandbox.models import SandboxAddress

    fresh = unactivated("activated by an order")
    SandboxAddress.activate(fresh)
    account = reader.account(fresh).value
    assert account.activated
    activated_at = SandboxAddress.objects.get(address=fresh).activated_at
    assert abs((account.created_at - activated_at).total_seconds()) < 0.001  # the chain's ms


def test_a_usdt_transfer_estimate_depends_on_the_recipient(reader, clock):
    holder, newcomer = address("holder"), address("newcomer")
    ChainAccount.objects.create(address=holder, holds_usdt=True)
    assert reader.estimate_transfer(RECEIVER, holder, 10**6).value.energy_used == 65_000
    assert reader.estimate_transfer(RECEIVER, newcomer, 10**6).value.energy_used == 131_000
    other = reader.estimate_transfer(RECEIVER, holder, 1, contract=address("not usdt")).value
    assert not other.succeeded
    assert "No contract" in other.message


def test_the_rate_limit_answers_429_and_the_readers_budget_stays_under_it(wsgi_app, clock):
    network = ChainNetwork.current()
    network.rate_limit_qps, network.rate_limit_retry_after = 3, 1
    network.save()
    polite = make_reader(wsgi_app, clock, qps=3)
    assert all(polite.account(RECEIVER).ok for _ in range(10))
    assert {e.status_code for e in polite.exchanges} == {200}  # waited instead of being refused
    eager = make_reader(wsgi_app, clock, qps=100, retries=0)
    at(clock, 100)  # a fresh second
    readings = [eager.account(RECEIVER) for _ in range(4)]
    assert [r.outcome for r in readings] == [OK, OK, OK, UNAVAILABLE]
    assert readings[-1].http_status == 429
    retrying = make_reader(wsgi_app, clock, qps=100)
    at(clock, 1000)
    readings = [retrying.account(RECEIVER) for _ in range(4)]
    assert all(r.ok for r in readings)
    assert [e.status_code for e in retrying.exchanges] == [200, 200, 200, 429, 200]
    assert ChainNetwork.current().rate_limited_answers == 2  # counted for the soak's figure


@pytest.mark.parametrize("status", [403, 503])
def test_the_rate_limit_status_is_a_knob(wsgi_app, clock, status):
    ChainNetwork.objects.create(pk=1, rate_limit_qps=1, rate_limit_status=status)
    reader = make_reader(wsgi_app, clock, retries=0)
    assert reader.account(RECEIVER).ok
    assert reader.account(RECEIVER).http_status == status


def test_wrong_requests_get_the_nodes_error_envelope(http, reader, clock):
    path = "/sandbox/chain/wallet/getaccount"
    assert http.post(path, json={"address": "T123", "visible": True}).json() == {
        "Error": "Invalid address"
    }
    assert "visible=true" in http.post(path, json={"address": RECEIVER}).json()["Error"]
    assert http.post(path, content=b"not json").json() == {"Error": "the request body is not JSON"}
    assert http.get(path).status_code == 405
    txinfo = "/sandbox/chain/wallet/gettransactioninfobyid"
    assert http.post(txinfo, json={"value": "12"}).json() == {"Error": "Invalid transaction id"}


def test_a_wrong_base_url_reaches_the_reader_as_refused(reader, clock):
    reader.node.base_url = "http://testserver/sandbox/no-chain"
    reading = reader.account(RECEIVER)
    assert reading.outcome == REFUSED
    assert "ENERGYDASH_TRON_API_URL" in reading.message


def test_off_the_sandbox_the_chain_is_404(http, settings):
    settings.ENERGYDASH_SANDBOX = False
    assert http.post("/sandbox/chain/wallet/getaccount", json={}).status_code == 404


def test_with_a_block_time_a_delegation_appears_at_the_next_block(http, reader, clock, netts_box):
    network = ChainNetwork.current()
    network.block_seconds = 3
    network.save()
    clock.move_to(START + timedelta(seconds=1))  # Netts delegates 6 s later: at +7 s
    netts_order(http, netts_box)
    at(clock, 8.9)  # blocks at +0, +3, +6, +9 s: +7 s is on chain at +9 s
    assert delegations_to(RECEIVER, reader).value.delegations == ()
    at(clock, 9)
    (ours,) = delegations_to(RECEIVER, reader).value.delegations
    assert ours.expires_at == START + timedelta(seconds=7 + 3600)
    assert network.block_at_or_after(START + timedelta(seconds=9)) == START + timedelta(seconds=9)


def test_per_order_fault_rates_pick_disjoint_orders_each_the_way_it_goes_wrong(netts_box, clock):
    for fault in SandboxOrder.CHAIN_FAULTS:
        setattr(netts_box, f"chain_{fault}_rate", 0.1)
    netts_box.save()
    picked: dict[str, list[SandboxOrder]] = {}
    for i in range(400):
        order = SandboxOrder.objects.create(
            account=netts_box,
            provider="netts",
            kind="energy",
            ref=f"fault-{i}",
            receive_address=address(f"fault receiver {i}"),
            energy=65_000,
            duration_seconds=3600,
            cost_sun=1,
        )
        picked.setdefault(order.chain_fault(), []).append(order)
    assert set(picked) == {"", *SandboxOrder.CHAIN_FAULTS}
    assert all(20 <= len(picked[f]) <= 60 for f in SandboxOrder.CHAIN_FAULTS)  # about 10% each
    assert 160 <= len(picked[""]) <= 240
    network = ChainNetwork.current()

    def ours(order):
        return [r for r in record_delegation(order) if not r.by_other_party]

    assert ours(picked["missing"][0]) == []
    (short,) = ours(picked["short"][0])
    assert network.energy_for_stake(short.staked_sun) in range(32_500, 32_511)
    late = picked["late"][0]
    (row,) = ours(late)
    assert row.lands_at == late.delegated_at() + timedelta(seconds=10)
    early = picked["early"][0]
    (row,) = ours(early)
    assert row.undelegated_at == row.lands_at + timedelta(seconds=20)
    beside = record_delegation(picked["other_party"][0])
    assert sorted(r.by_other_party for r in beside) == [False, True]
    (healthy,) = record_delegation(picked[""][0])
    assert healthy.undelegated_at == picked[""][0].expires_at()


def test_a_refund_credited_late_never_rewrites_what_the_chain_showed(
    http, reader, clock, netts_box
):
    """A refund due before the delegation's block but credited after it landed (the callback
    worker credits due refunds when it runs): the chain showed the energy meanwhile, and a chain
    cannot change its past, so the delegation leaves when the refund is credited."""
    placed = netts_order(http, netts_box)
    order = SandboxOrder.objects.get(ref=placed["orderId"])
    at(clock, 60)
    (landed,) = delegations_to(RECEIVER, reader).value.delegations
    order.refund(at=order.created_at + timedelta(seconds=1))  # due long before it landed
    row = ChainDelegation.objects.get(order=order, by_other_party=False)
    assert row.undelegated_at == START + timedelta(seconds=60)  # when credited, not when due
    assert row.undelegated_at > row.lands_at
    assert delegations_to(RECEIVER, reader).value.delegations == ()
