"""Watch rules against the sandbox providers and the sandbox chain over WSGI: each rule kind,
the price cap (skip recorded, one alert per episode), the daily budget (uncertain orders count),
two workers at once (one purchase) and activation through Ready to send's purchase path."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from energydash.balances.models import Alert, AlertKind
from energydash.chain.reader import ChainReader
from energydash.orders.models import Order, Status, WatchAddress, WatchEvent, WatchRule
from energydash.orders.watch import WatchRefused, parse_addresses, spent_today, watch_pass
from energydash.sandbox.models import SandboxAddress, SandboxOrder
from tests.api.conftest import address, box

ONE = address("watch-one")
TWO = address("watch-two")


@pytest.fixture
def chain(settings):
    settings.ENERGYDASH_TRON_API_URL = "http://testserver/sandbox/chain"
    settings.ENERGYDASH_TRON_API_QPS = 10_000
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def reader(chain, http):
    return ChainReader.from_settings(client=http, retries=0)


def rule(*addresses, **fields) -> WatchRule:
    values = {
        "name": "keep",
        "energy": 100_000,
        "max_price_sun": 100,
        "daily_budget_sun": 100_000_000,
        "interval_seconds": 60,
    }
    values.update(fields)
    made = WatchRule.objects.create(**values)
    for who in addresses or (ONE,):
        WatchAddress.objects.create(rule=made, address=who)
    return made


def run(http, reader, now=None):
    return watch_pass(client=http, reader=reader, now=now)


def later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


def bought(who=ONE) -> int:
    return sum(SandboxOrder.objects.filter(receive_address=who).values_list("energy", flat=True))


def kinds(watch: WatchRule) -> list[str]:
    return list(watch.events.order_by("pk").values_list("kind", flat=True))


def test_threshold_buys_the_shortfall_once_and_then_only_checks(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    watch = rule()
    done = run(http, reader)
    assert (done.checked, done.changed) == (1, 1)
    purchase = watch.events.get(kind="purchase")
    assert purchase.energy == 100_000 and purchase.order.status != Status.FAILED
    assert bought() == 100_000
    # Not due again before the interval: nothing is read or bought.
    assert run(http, reader).checked == 0
    # Due again: the energy is on chain, nothing more is bought.
    again = run(http, reader, now=later(2))
    assert (again.checked, again.changed) == (1, 0)
    assert "at least 100,000 kept" in watch.events.first().reason
    assert bought() == 100_000 and Order.objects.count() == 1
    assert spent_today(watch) == purchase.order.spend_sun > 0


def test_energy_bought_but_not_yet_on_chain_is_not_bought_again(db, chain, http, reader):
    box("tronzap", "tz", price="50", delegation_delay_seconds=3600)
    watch = rule()
    assert run(http, reader).changed == 1
    assert run(http, reader, now=later(2)).changed == 0
    assert "still on its way" in watch.events.first().reason
    assert SandboxOrder.objects.count() == 1


def test_hours_window_outside_reads_nothing_inside_buys(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    now = later(1)
    hour = now.hour
    outside = rule(hour_from=(hour + 1) % 24, hour_to=(hour + 2) % 24)
    run(http, reader, now=now)
    assert kinds(outside) == ["check"] and "Outside the rule's hours" in outside.events.get().reason
    assert not Order.objects.exists()
    inside = rule(TWO, name="night", hour_from=(hour - 1) % 24, hour_to=(hour + 2) % 24)
    run(http, reader, now=now + timedelta(minutes=2))
    assert kinds(inside) == ["purchase"] and bought(TWO) == 100_000


def test_renew_buys_again_k_minutes_before_the_rental_expires(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    watch = rule(kind="renew", renew_minutes=10, interval_seconds=60)
    assert run(http, reader).changed == 1  # no rental yet: one is started
    assert run(http, reader, now=later(30)).changed == 0
    assert "runs until" in watch.events.first().reason
    assert run(http, reader, now=later(51)).changed == 1  # within 10 minutes of the hour
    assert kinds(watch) == ["purchase", "check", "purchase"]
    assert SandboxOrder.objects.count() == 2
    # The new rental runs for its own hour from when it was bought: not renewed again.
    Order.objects.filter(pk=watch.events.first().order_id).update(created=later(51))
    assert run(http, reader, now=later(53)).changed == 0


def test_price_above_cap_is_skipped_and_alerted_once_per_episode(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    watch = rule(max_price_sun=10)
    run(http, reader)
    run(http, reader, now=later(2))
    assert kinds(watch) == ["skip", "alert", "skip"]
    assert watch.events.filter(reason__startswith="skipped: price above cap").count() == 2
    assert not Order.objects.exists() and not SandboxOrder.objects.exists()
    assert WatchAddress.objects.get().capped_since is not None
    # Once per episode in the alerts inbox too (balances' Alert, through the orders hook).
    (inbox,) = Alert.objects.filter(kind=AlertKind.WATCH_PRICE_CAP)
    assert inbox.account is None and "above the cap" in inbox.problem
    assert watch.name in inbox.subject and inbox.threshold_sun == 10 * 100_000
    # The cap raised: bought, and the episode is over; a new one alerts again.
    WatchRule.objects.filter(pk=watch.pk).update(max_price_sun=100)
    assert run(http, reader, now=later(4)).changed == 1
    assert WatchAddress.objects.get().capped_since is None
    WatchRule.objects.filter(pk=watch.pk).update(max_price_sun=10, energy=300_000)
    run(http, reader, now=later(6))
    run(http, reader, now=later(8))
    assert watch.events.filter(kind="alert").count() == 2
    assert Alert.objects.filter(kind=AlertKind.WATCH_PRICE_CAP).count() == 2


def test_the_daily_budget_stops_purchases(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    watch = rule(ONE, TWO)
    run(http, reader)
    cost = spent_today(watch)
    assert cost > 0 and SandboxOrder.objects.count() == 2
    # A budget for one purchase: the first address is served, the second skipped.
    one = cost // 2
    tight = rule(address("watch-3"), address("watch-4"), name="tight", daily_budget_sun=one)
    run(http, reader, now=later(2))
    assert kinds(tight) == ["purchase", "skip"]
    assert "skipped: daily budget" in tight.events.first().reason
    assert spent_today(tight) == one


def test_an_uncertain_order_counts_as_possible_spend(db, chain, http, reader):
    tz = box("tronzap", "tz", price="50")
    watch = rule(daily_budget_sun=10_000_000)
    unknown = Order.objects.create(
        account=tz.account,
        receive_address=TWO,
        energy=100_000,
        period="1H",
        status=Status.UNKNOWN,
        quoted_cost_sun=9_000_000,
        burn_sun_per_energy=420,
    )
    # An order of the rule for another address, whose outcome is unknown: possibly charged.
    WatchEvent.objects.create(rule=watch, address=TWO, kind="purchase", order=unknown)
    assert spent_today(watch) == 9_000_000
    # Yesterday's spend does not count today.
    Order.objects.filter(pk=unknown.pk).update(created=timezone.now() - timedelta(days=2))
    assert spent_today(watch) == 0
    Order.objects.filter(pk=unknown.pk).update(created=timezone.now())
    # 100,000 energy at 50 sun costs 5 TRX: beyond the 1 TRX the unknown order leaves.
    run(http, reader, now=later(1))
    assert watch.events.first().reason.startswith("skipped: daily budget")
    assert not SandboxOrder.objects.exists()


def test_an_inactive_address_is_activated_through_the_purchase_path(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    SandboxAddress.objects.create(address=ONE, activated=False)
    watch = rule()
    assert run(http, reader).changed == 2
    assert kinds(watch) == ["activation", "purchase"]
    assert watch.events.get(kind="activation").order.kind == "activation"
    assert SandboxAddress.is_activated(ONE) and bought() == 100_000


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_buy_one_shortfall(chain, wsgi_app):
    box("tronzap", "tz", price="50")
    rule()
    start = threading.Barrier(2)
    results = []

    def call():
        try:
            with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as http:
                reader = ChainReader.from_settings(client=http, retries=0)
                start.wait()
                results.append(watch_pass(client=http, reader=reader))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.changed for r in results) == [0, 1]
    assert Order.objects.count() == 1 and SandboxOrder.objects.count() == 1
    assert WatchEvent.objects.filter(kind="purchase").count() == 1


def test_pasted_addresses_one_per_line_or_csv():
    assert parse_addresses(f"address\n{ONE}\n\n{TWO}, {ONE}") == [ONE, TWO]
    with pytest.raises(WatchRefused, match="not a valid TRON address"):
        parse_addresses(f"{ONE}\nT123")


def test_a_disabled_rule_is_not_checked(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    watch = rule(enabled=False)
    assert run(http, reader).checked == 0
    assert not watch.events.exists() and not Order.objects.exists()


def test_the_worker_task_is_scheduled_and_allowed(db):
    from django_q.models import Schedule

    from energydash.core.task_guard import check_task_function
    from energydash.orders.schedules import WATCH_RULES, ensure_schedules

    ensure_schedules()
    schedule = Schedule.objects.get(name=WATCH_RULES)
    assert check_task_function(schedule.func) == "energydash.orders.tasks.check_watch_rules"


def test_only_the_rules_allowed_accounts_are_bought_from(db, chain, http, reader):
    """Found by the property test: routing rebuilt its request from the route, without the
    allowed accounts, and bought from the cheapest enabled account whatever the rule allowed."""
    box("tronzap", "cheap", price="30")
    allowed = box("tronzap", "allowed", price="50")
    watch = rule()
    watch.accounts.set([allowed.account])
    assert run(http, reader).changed == 1
    (order,) = Order.objects.all()
    assert order.account_id == allowed.account.pk
