"""Ready to send against the sandbox providers and the sandbox chain over WSGI (127.0.0.1 is
not even needed: httpx.WSGITransport): nothing bought when ready, only the deficit bought and
seen on chain, activation first, approval pending, no route, and two concurrent calls."""

from __future__ import annotations

import io
import threading

import httpx
import pytest
from django.db import connection

from energydash.chain.reader import ChainReader
from energydash.orders.models import Order, ReadyCheck, Status
from energydash.orders.readiness import (
    ReadyRefused,
    ensure_ready,
    open_check,
    run_check,
    usdt_units,
)
from energydash.providers.models import ProviderAccount
from energydash.sandbox.chain_models import ChainAccount, ChainNetwork
from energydash.sandbox.models import SandboxAddress, SandboxOrder
from tests.api.conftest import address, box

SENDER = address("ready-sender")
HOLDER = address("ready-holder")
NEWBIE = address("ready-newbie")


@pytest.fixture
def chain(settings):
    settings.ENERGYDASH_TRON_API_URL = "http://testserver/sandbox/chain"
    settings.ENERGYDASH_TRON_API_QPS = 10_000
    settings.ENERGYDASH_READY_HEADROOM_PERCENT = 5


@pytest.fixture
def reader(chain, http):
    return ChainReader.from_settings(client=http, retries=0)


def ready(key, who=SENDER, *, http, reader, **kw):
    kw.setdefault("deadline_seconds", 30)
    return ensure_ready(key, who, via="test", client=http, reader=reader, **kw)


def energy_bought(who=SENDER) -> int:
    return sum(SandboxOrder.objects.filter(receive_address=who).values_list("energy", flat=True))


def test_an_address_with_enough_energy_is_ready_and_nothing_is_bought(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    first = ready("k-1", http=http, reader=reader, deadline_seconds=30)
    assert first.check.state == "ready" and first.check.energy_bought == 137_550
    # Asked again with another key: the energy is there, nothing more is bought.
    again = ready("k-2", http=http, reader=reader)
    assert again.check.state == "ready", again.check.reason
    assert again.check.energy_bought == 0 and again.check.route is None
    assert energy_bought() == 137_550 and Order.objects.count() == 1
    assert again.check.energy_available >= 137_550
    assert again.check.fee_limit_sun == 131_000 * 100
    assert "Send with fee_limit 13.100000 TRX" in again.check.reason


def test_only_the_deficit_is_bought_and_verified_on_chain(db, chain, http, reader):
    box("itrx", "itrx-dear", price="70")
    cheap = box("tronzap", "tz-cheap", price="50")
    ChainAccount.objects.create(address=HOLDER, holds_usdt=True)
    answer = ready("k-deficit", http=http, reader=reader, recipient=HOLDER, usdt=10_000_000)
    check = answer.check
    assert answer.done_here and check.state == "ready", check.reason
    assert check.energy_estimate == 65_000  # triggerconstantcontract: the recipient holds USDT
    assert check.energy_needed == 68_250  # + 5% headroom
    assert check.energy_bought == 68_250 and check.route.order.account == cheap.account
    assert check.energy_available >= 68_250 and check.bandwidth_available > 0
    assert check.fee_limit_sun == 6_500_000
    assert "verified on chain" in check.reason
    # A replay with the key answers the same check and buys nothing.
    replay = ready("k-deficit", http=http, reader=reader, recipient=HOLDER, usdt=10_000_000)
    assert not replay.done_here and replay.check.pk == check.pk
    assert SandboxOrder.objects.count() == 1
    # The key with another body is refused, nothing done.
    other = ready("k-deficit", http=http, reader=reader, recipient=NEWBIE)
    assert not other.same_body and SandboxOrder.objects.count() == 1


def test_a_recipient_that_never_held_usdt_needs_131000(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    check = ready("k-new", http=http, reader=reader, recipient=NEWBIE).check
    assert check.state == "ready" and check.energy_estimate == 131_000


def test_an_inactive_sender_is_activated_first(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    SandboxAddress.objects.create(address=SENDER, activated=False)
    check = ready("k-act", http=http, reader=reader).check
    assert check.state == "ready", check.reason
    assert check.activation_route.order.kind == "activation"
    assert SandboxAddress.is_activated(SENDER)
    assert check.energy_bought == 137_550


def test_an_order_awaiting_approval_answers_not_ready_with_the_reason(db, chain, http, reader):
    tz = box("tronzap", "tz", price="50")
    tz.account.approval_above_sun = 1
    tz.account.save()
    check = ready("k-approve", http=http, reader=reader).check
    assert check.state == "not_ready"
    assert "awaits approval" in check.reason and "nothing was sent" in check.reason
    assert check.route.order.status == Status.AWAITING_APPROVAL
    assert not SandboxOrder.objects.exists()


def test_no_route_answers_not_ready_and_buys_nothing(db, chain, http, reader):
    tz = box("tronzap", "tz", price="50")
    tz.account.max_order_sun = 1
    tz.account.save()
    check = ready("k-none", http=http, reader=reader).check
    assert check.state == "not_ready" and "No account could take" in check.reason
    assert not SandboxOrder.objects.exists() and not Order.objects.exists()


def test_bad_input_is_refused_before_anything_is_done(db, chain, http, reader):
    with pytest.raises(ReadyRefused, match="not a valid TRON address"):
        ready(
            "k-bad", SENDER[:-1] + ("2" if SENDER.endswith("1") else "1"), http=http, reader=reader
        )
    with pytest.raises(ReadyRefused, match="USDT"):
        usdt_units("1.1234567")
    assert usdt_units("12.5") == 12_500_000
    assert not ReadyCheck.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_calls_for_one_address_buy_one_deficit(chain, wsgi_app):
    box("tronzap", "tz", price="50")
    start = threading.Barrier(2)
    answers = {}

    def call(key):
        try:
            with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as http:
                reader = ChainReader.from_settings(client=http, retries=0)
                start.wait()
                answers[key] = ready(key, http=http, reader=reader)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(k,)) for k in ("race-a", "race-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {a.check.state for a in answers.values()} == {"ready"}
    assert Order.objects.count() == 1 and energy_bought() == 137_550
    assert sorted(a.check.energy_bought for a in answers.values()) == [0, 137_550]


def test_energy_not_on_chain_by_the_deadline_is_not_bought_again(db, chain, http, reader):
    box("tronzap", "tz", price="50", delegation_delay_seconds=3600)
    late = ready("k-late", http=http, reader=reader, deadline_seconds=0).check
    assert late.state == "not_ready" and late.energy_bought == 137_550
    assert "the chain shows 0 of the 137,550 needed" in late.reason
    # Asked again with a new key: the order on its way counts, nothing more is bought.
    again = ready("k-late-2", http=http, reader=reader, deadline_seconds=0).check
    assert again.state == "not_ready" and again.energy_bought == 0 and again.route is None
    assert "137,550 energy from earlier checks still on its way" in again.reason
    assert SandboxOrder.objects.count() == 1 and energy_bought() == 137_550


def test_the_command_answers_ready_or_exits_with_the_reason(db, chain, http, monkeypatch):
    from django.core.management import CommandError, call_command

    from energydash.orders import readiness

    box("tronzap", "tz", price="50")
    real = readiness.ensure_ready
    # The command's reader and provider calls go to the sandbox over WSGI.
    monkeypatch.setattr(
        "energydash.orders.management.commands.ensure_ready.ensure_ready",
        lambda *a, **kw: real(*a, client=http, **kw),
    )
    out = io.StringIO()
    call_command("ensure_ready", SENDER, "--recipient", NEWBIE, "--key", "c1", stdout=out)
    assert out.getvalue().startswith(f"ready {SENDER}: energy 137,550")
    assert "fee_limit 13100000 sun (13.100000 TRX), bought 137,550 energy" in out.getvalue()
    with pytest.raises(CommandError, match="refused, nothing done: not a valid TRON address"):
        call_command("ensure_ready", "Tnot-an-address")
    with pytest.raises(CommandError, match="not an amount of USDT"):
        call_command("ensure_ready", SENDER, "--usdt", "-3")
    SandboxAddress.objects.create(address=NEWBIE, activated=False)
    box("itrx", "itrx-only-energy", price="40")
    tz = ProviderAccount.objects.get(name="tz")
    tz.enabled = False
    tz.save()
    with pytest.raises(CommandError, match="not_ready: No account could take the order for"):
        call_command("ensure_ready", NEWBIE, "--deadline", "0")
    assert SandboxOrder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_queued_checks_run_by_two_workers_buy_one_deficit(chain, wsgi_app):
    """The API's path: two requests for one address recorded at once, each run by a worker."""
    box("tronzap", "tz", price="50")
    first = open_check("api-a", SENDER, via="test", deadline_seconds=30).check
    second = open_check("api-b", SENDER, via="test", deadline_seconds=30).check
    assert (first.state, second.state) == ("working", "queued")
    start = threading.Barrier(3)

    def worker(check_id):
        try:
            with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as http:
                reader = ChainReader.from_settings(client=http, retries=0)
                start.wait()
                run_check(check_id, client=http, reader=reader)
        finally:
            connection.close()

    # Both checks, and the first one a second time (a task the queue delivered twice).
    threads = [
        threading.Thread(target=worker, args=(pk,)) for pk in (first.pk, second.pk, first.pk)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("ready", "ready"), (first.reason, second.reason)
    assert Order.objects.count() == 1 and energy_bought() == 137_550
    assert sorted((first.energy_bought, second.energy_bought)) == [0, 137_550]


def test_a_queued_check_gives_up_at_its_deadline_and_buys_nothing(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    first = open_check("q-a", SENDER, via="test", deadline_seconds=30).check
    second = open_check("q-b", SENDER, via="test", deadline_seconds=0).check
    done = run_check(second.pk, client=http, reader=reader)
    assert done.state == "not_ready" and "still running at the deadline" in done.reason
    assert "nothing was bought by this one" in done.reason
    assert not SandboxOrder.objects.exists()
    first.refresh_from_db()
    assert first.state == "working"  # untouched: its own worker answers it


def test_the_fee_limit_uses_the_chains_energy_fee(db, chain, http, reader):
    box("tronzap", "tz", price="50")
    ChainNetwork.current()
    ChainNetwork.objects.update(energy_fee_sun=210)
    check = ready("k-fee", http=http, reader=reader).check
    assert check.state == "ready" and check.energy_fee_sun == 210
    assert check.fee_limit_sun == 131_000 * 210
    assert "Send with fee_limit 27.510000 TRX (210 sun per energy, the chain's getEnergyFee)" in (
        check.reason
    )


def test_an_unreadable_energy_fee_falls_back_to_the_configured_price(
    db, chain, http, reader, settings
):
    settings.ENERGYDASH_READY_ENERGY_PRICE_SUN = 420
    box("tronzap", "tz", price="50")
    ChainNetwork.current()
    ChainNetwork.objects.update(energy_fee_sun=0)  # no node answers 0; it does not vet
    check = ready("k-fee-0", http=http, reader=reader).check
    assert check.state == "ready" and check.energy_fee_sun == 420
    assert check.fee_limit_sun == 131_000 * 420
    assert "ENERGYDASH_READY_ENERGY_PRICE_SUN: the chain's parameters could not be read" in (
        check.reason
    )
    assert "getEnergyFee 0 sun is outside 1 to 10,000" in check.reason


def test_a_deficit_below_every_minimum_is_rounded_up_to_the_smallest(db, chain, http, reader):
    box("tronzap", "tz", price="50", min_energy=100_000)
    box("itrx", "itrx", price="60", min_energy=150_000)
    ChainAccount.objects.create(address=HOLDER, holds_usdt=True)
    check = ready("k-min", http=http, reader=reader, recipient=HOLDER).check
    assert check.state == "ready", check.reason
    assert check.energy_needed == 68_250 and check.energy_bought == 100_000
    assert check.route.order.account.name == "tz"
    assert "the 68,250 lacking, rounded up to the provider's minimum" in check.reason
    assert energy_bought() == 100_000


def test_a_deficit_some_account_takes_is_not_rounded(db, chain, http, reader):
    box("tronzap", "tz", price="50", min_energy=100_000)
    box("itrx", "itrx", price="60", min_energy=10_000)
    ChainAccount.objects.create(address=HOLDER, holds_usdt=True)
    check = ready("k-min-2", http=http, reader=reader, recipient=HOLDER).check
    assert check.state == "ready" and check.energy_bought == 68_250
    assert check.route.order.account.name == "itrx"


def test_the_command_replaying_a_key_still_running_says_so(db, chain):
    from django.core.management import CommandError, call_command

    running = open_check("cli:same", SENDER, via="command:ensure_ready", deadline_seconds=0)
    assert running.check.state == "working"  # another process works on it
    with pytest.raises(CommandError, match=r"still working: the check with this --key \(id \d+\)"):
        call_command("ensure_ready", SENDER, "--key", "same")
    assert not SandboxOrder.objects.exists()
