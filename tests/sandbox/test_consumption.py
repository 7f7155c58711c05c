"""Energy consumption on the simulated chain (sandbox/chain_consumption.py): USDT transfers use the
sender's energy, read back by the product's chain reader; a transfer without enough energy burns
TRX and says so; usage recovers over 24 hours; bursty consumers send at their rate, reproducibly.
Time is moved with time_machine: nothing waits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine

from energydash.sandbox.chain_consumption import energy, run_consumers, send_usdt
from energydash.sandbox.chain_models import (
    ChainAccount,
    ChainConsumer,
    ChainNetwork,
    ChainTransfer,
)
from energydash.sandbox.tasks import simulate_transfers
from tests.sandbox.helpers import address
from tests.sandbox.test_chain import RECEIVER, START, at, make_reader, netts_order

OTHER = address("consumption other")


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reader(wsgi_app, clock):
    return make_reader(wsgi_app, clock)


def test_a_transfer_uses_the_senders_energy_as_the_reader_sees_it(http, reader, clock, netts_box):
    netts_order(http, netts_box)  # 131,050 energy, on chain at +6 s
    at(clock, 6)
    before = reader.account_resource(RECEIVER).value
    assert before.energy_used == 0 and before.energy_available >= 131_050
    ChainAccount.objects.create(address=OTHER, holds_usdt=True)
    sent = send_usdt(RECEIVER, START + timedelta(seconds=6), recipient=OTHER)
    assert (sent.energy, sent.energy_from_stake, sent.burned_sun) == (65_000, 65_000, 0)
    after = reader.account_resource(RECEIVER).value
    assert after.energy_used == 65_000
    assert after.energy_available == before.energy_available - 65_000


def test_a_transfer_without_enough_energy_burns_trx_for_the_rest(http, reader, clock, netts_box):
    netts_order(http, netts_box)
    at(clock, 6)
    first = send_usdt(RECEIVER, START + timedelta(seconds=6), recipient=OTHER)  # 131,000
    assert first.burned_sun == 0
    second = send_usdt(RECEIVER, START + timedelta(seconds=6), recipient=OTHER)
    fee = ChainNetwork.current().energy_fee_sun
    left = second.energy_from_stake
    assert left == 50  # what the first left over (Netts adds 50)
    assert second.burned_sun == (131_000 - left) * fee > 0
    assert reader.account_resource(RECEIVER).value.energy_available == 0


def test_an_address_without_energy_burns_the_whole_transfer(db, clock):
    sent = send_usdt(RECEIVER, START, needs=65_000)
    assert sent.energy_from_stake == 0
    assert sent.burned_sun == 65_000 * ChainNetwork.current().energy_fee_sun


def test_usage_recovers_over_24_hours_and_ends_with_the_rental(http, clock, netts_box):
    netts_box.save()
    netts_order(http, netts_box)
    at(clock, 6)
    send_usdt(RECEIVER, START + timedelta(seconds=6), needs=120_000)
    half_hour = START + timedelta(seconds=6, minutes=30)
    used = energy(RECEIVER, half_hour).used
    assert used == 120_000 - 120_000 * 30 // (24 * 60)  # 1/48 recovered
    # The rental ends (1 hour): no energy in force, no usage weighs on the next rental.
    assert energy(RECEIVER, START + timedelta(seconds=6 + 3600)).limit == 0
    at(clock, 3700)
    netts_order(http, netts_box)
    fresh = energy(RECEIVER, START + timedelta(seconds=3706))
    assert fresh.used == 0 and fresh.available >= 131_050


def test_a_consumer_sends_bursts_at_its_rate_reproducibly(db, clock):
    ChainConsumer.objects.create(address=RECEIVER, transfers_per_hour=6, burst=3, seed="a")
    ChainConsumer.objects.create(address=OTHER, transfers_per_hour=6, burst=3, seed="a")
    assert run_consumers(START) == []  # the first run plans the first bursts
    sent = []
    for minute in range(1, 24 * 60 + 1):
        sent += run_consumers(START + timedelta(minutes=minute))
    mine = [s for s in sent if s.sender == RECEIVER]
    # 144 transfers expected a day at 6 an hour; bursty randomness keeps it near that.
    assert 90 <= len(mine) <= 200
    bursts = {}
    for one in mine:
        bursts.setdefault(one.at, []).append(one)
    assert max(len(b) for b in bursts.values()) > 1  # some bursts send several at once
    assert all(len(b) <= 3 for b in bursts.values())
    assert all(s.energy == 65_000 and s.burned_sun > 0 for s in mine)  # no energy rented
    # The same seed and address give the same transfers; running again sends nothing twice.
    assert run_consumers(START + timedelta(days=1)) == []
    times = list(ChainTransfer.objects.filter(sender=RECEIVER).values_list("at", flat=True))
    ChainTransfer.objects.all().delete()
    ChainConsumer.objects.filter(address=RECEIVER).update(next_burst_at=None, bursts=0)
    run_consumers(START)
    for minute in range(1, 24 * 60 + 1):
        run_consumers(START + timedelta(minutes=minute))
    again = ChainTransfer.objects.filter(sender=RECEIVER).values_list("at", flat=True)
    assert list(again) == times


def test_the_sandbox_task_sends_due_transfers(db, clock):
    ChainConsumer.objects.create(address=RECEIVER, transfers_per_hour=60, burst=1)
    simulate_transfers(START)
    words = simulate_transfers(START + timedelta(hours=1))
    count = ChainTransfer.objects.filter(sender=RECEIVER).count()
    assert count > 10
    assert words == f"{count} transfer(s) sent, {count} burned TRX"
