"""The watch rules' read schedule (orders/watch.py next_read) and loop (orders/tasks.py
watch_loop), against the sandbox chain with simulated USDT transfers (sandbox/chain_consumption.py).
The clock is time_machine's: nothing waits, nothing depends on the machine's speed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from energydash.chain.reader import ChainReader
from energydash.orders.tasks import run_loop
from energydash.orders.watch import watch_pass
from energydash.sandbox.chain_consumption import run_consumers, send_usdt
from energydash.sandbox.chain_models import ChainConsumer, ChainTransfer
from tests.api.conftest import box
from tests.watch.test_watch_rules import ONE, rule

START = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reader(settings, http, clock):
    settings.ENERGYDASH_TRON_API_URL = "http://testserver/sandbox/chain"
    settings.ENERGYDASH_TRON_API_QPS = 10_000
    settings.TIME_ZONE = "UTC"
    return ChainReader.from_settings(client=http, retries=0, sleep=clock.shift)


def paths(reader) -> list[str]:
    return [e.url.rsplit("/", 1)[-1] for e in reader.exchanges]


def read_times(watch, address=ONE) -> list[datetime]:
    events = watch.events.filter(address=address, kind__in=("check", "purchase"))
    return list(events.order_by("pk").values_list("created", flat=True))


def test_an_idle_address_is_read_less_often_and_getaccount_is_asked_once(db, http, reader, clock):
    box("tronzap", "tz", price="50")
    watch = rule(interval_seconds=60)
    # A pass every 10 seconds for 40 minutes (the 1-hour rental does not end in it): the address
    # is read when it is due, no sooner.
    for _ in range(240):
        watch_pass(client=http, reader=reader)
        clock.shift(10)
    times = read_times(watch)
    gaps = [int((b - a).total_seconds()) for a, b in zip(times, times[1:], strict=False)]
    # Bought at the first read (read again at 60 s); then nothing is used: 120, then 240 (4 x 60).
    assert gaps[:3] == [60, 120, 240]
    assert set(gaps[2:]) == {240}
    assert paths(reader).count("getaccount") == 1  # active once, active for good
    # One getaccountresource a read: 1 chain call per read of an active address.
    assert paths(reader).count("getaccountresource") == len(times)


def test_an_address_that_uses_energy_is_read_sooner_and_kept_with_a_margin(db, http, reader, clock):
    box("tronzap", "tz", price="50")
    watch = rule(interval_seconds=300, energy=65_000)
    watch_pass(client=http, reader=reader)  # buys 65,000
    clock.shift(300)
    send_usdt(ONE, datetime.now(UTC), needs=60_000)
    watch_pass(client=http, reader=reader)
    target = watch.addresses.get()
    assert target.peak_use >= 59_000  # what it used between the two reads
    assert target.read_every < 300  # at that pace it would reach the floor before 5 minutes
    purchase = watch.events.filter(kind="purchase").first()
    # It keeps the rule's 65,000 plus the use seen between two reads.
    assert purchase.energy >= 65_000 + 59_000 - 5_000 - 1_000


def test_bursty_transfers_never_burn_trx_under_a_watch_rule(db, http, reader, clock):
    """Six simulated hours of one address sending USDT in bursts of up to 2 transfers, kept by
    a threshold rule of two transfers' energy: no transfer burns TRX after the first purchase."""
    box("tronzap", "tz", price="50")
    watch = rule(interval_seconds=120, energy=130_000, daily_budget_sun=10**12)
    ChainConsumer.objects.create(address=ONE, transfers_per_hour=4, burst=2, seed="t")
    watch_pass(client=http, reader=reader)
    run_consumers(datetime.now(UTC))  # plans the first burst
    for _ in range(6 * 360):
        clock.shift(10)
        run_consumers(datetime.now(UTC))
        watch_pass(client=http, reader=reader)
    sent = ChainTransfer.objects.filter(sender=ONE)
    assert sent.count() > 10
    assert not sent.filter(burned_sun__gt=0).exists()
    assert watch.events.filter(kind="purchase").count() >= 2


def test_the_loop_reads_each_address_within_seconds_of_its_interval(db, http, reader, clock):
    box("tronzap", "tz", price="50")
    watch = rule(interval_seconds=90)
    passes = []

    def one_pass():
        passes.append(datetime.now(UTC))
        return watch_pass(client=http, reader=reader)

    # The loop sleeps a second when nothing was due (the clock moves by it): stop after 10 min.
    run_loop(
        one_pass,
        None,
        sleep=clock.shift,
        should_stop=lambda: datetime.now(UTC) >= START + timedelta(minutes=10),
    )
    times = read_times(watch)
    assert len(times) >= 3
    due = [a + timedelta(seconds=s) for a, s in zip(times, (90, 180, 360, 360), strict=False)]
    for expected, actual in zip(due, times[1:], strict=False):
        assert timedelta(0) <= actual - expected <= timedelta(seconds=1)


def test_reads_of_10000_addresses_stay_within_the_chain_budget(settings):
    """The node has no many-addresses read: one request a read. The floor spreads reads so that
    every watched address read as often as allowed stays within the watch share of the QPS."""
    from energydash.orders.models import WatchAddress, WatchRule
    from energydash.orders.watch import budget_floor, next_read

    settings.ENERGYDASH_TRON_API_QPS = 10
    settings.ENERGYDASH_WATCH_QPS_PERCENT = 50
    floor = budget_floor(10_000)
    assert floor == 2_000
    assert 10_000 / floor <= 10 * 0.5  # requests a second, everyone read at the floor
    watch = WatchRule(energy=65_000, interval_seconds=60)
    busy = WatchAddress(read_every=60, use_per_hour=10**9)
    busy.budget_floor = floor
    assert next_read(watch, busy, used=500_000, level=0) == 2_000
    assert budget_floor(20) == 4  # a short list is not slowed
