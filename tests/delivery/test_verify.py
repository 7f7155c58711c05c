"""Verifying an order's delivery on chain: verified, short, missing, reclaimed early, not
checked; the delegator named by the provider, or matched by amount and lock when it is not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase

from energydash.orders.delivery import verify_pass
from energydash.orders.models import Order, OrderEvent
from energydash.orders.signals import delivery_checked
from tests.delivery.conftest import T0, address, completed_order

RECEIVER = address("receiver")
POOL = address("provider pool")
STRANGER = address("a stranger")
HOUR = timedelta(hours=1)


@pytest.fixture
def heard():
    got = []

    def listen(sender, order, status, **kwargs):
        got.append((order.pk, status))

    delivery_checked.connect(listen, dispatch_uid="test-heard")
    yield got
    delivery_checked.disconnect(dispatch_uid="test-heard")


def run(http, at):
    # Announcements go out after the commit: run them as the pass's commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return verify_pass(now=at, client=http)


def netts_order(account, receiver=RECEIVER, delegator=POOL, **fields):
    order = completed_order(account, receiver, tx_hashes=["ab" * 32], **fields)
    OrderEvent.objects.create(
        order=order,
        kind="exchange",
        response_body=f'{{"order": {{"delegateAddress": "{delegator}", "hash": "{"ab" * 32}"}}}}',
    )
    return order


@pytest.mark.django_db(transaction=False)
def test_an_order_whose_energy_is_on_chain_is_verified_with_evidence(
    itrx_account, chain, http, heard
):
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    result = run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert order.delivery_energy >= 65_000
    evidence = order.delivery_evidence
    assert evidence["delegators"] == [POOL] and evidence["delegator_known"] is False
    assert evidence["staked_sun"] == chain.delegations[(POOL, RECEIVER)][0][0]
    assert evidence["tronscan"] is None  # not mainnet
    assert "weaker evidence" in evidence["words"]
    assert result.by_order[order.pk] == 3  # resources, index, one delegator
    event = order.events.get(kind="delivery")
    assert (event.from_status, event.to_status) == ("pending", "verified")
    assert POOL in event.message and "65,000" in event.message
    assert order.events.filter(kind="exchange").count() == 3  # the reads it rests on
    assert heard == [(order.pk, "verified")]
    # Looked at again near the end of the hour paid for (no mid-period sample at 0%).
    assert order.delivery_next_check_at == T0 + HOUR - timedelta(minutes=3)


@pytest.mark.django_db
def test_a_named_delegator_takes_two_requests_and_a_strangers_delegation_is_not_counted(
    netts_account, chain, http
):
    order = netts_order(netts_account)
    chain.delegate(STRANGER, RECEIVER, 65_000, T0 + HOUR)  # at the same moment, not ours
    run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "pending"
    assert order.delivery_evidence["delegator"] == POOL
    result = run(http, T0 + timedelta(minutes=4))  # past the 180 s deadline
    order.refresh_from_db()
    assert order.delivery_status == "missing"
    # The named delegator's delegation, the ratio, and whether the provider's tx is in a block.
    assert result.by_order[order.pk] == 3
    assert "Missing on chain" in order.delivery_evidence["words"]
    assert order.delivery_evidence["delegations"] == []  # only the named delegator was read
    assert STRANGER not in order.delivery_evidence["words"]


@pytest.mark.django_db
def test_a_named_delegators_delegation_is_verified_beside_a_strangers(netts_account, chain, http):
    order = netts_order(netts_account)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    chain.delegate(STRANGER, RECEIVER, 30_000, T0 + HOUR)
    run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert order.delivery_evidence["delegator_known"] is True
    assert "Netts's delegateAddress" in order.delivery_evidence["delegator_source"]
    assert order.delivery_evidence["tx_id"] == "ab" * 32
    assert "weaker" not in order.delivery_evidence["words"]


@pytest.mark.django_db
def test_less_than_ordered_is_short_by_how_much_once_the_deadline_passed(
    itrx_account, chain, http, heard
):
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 32_500, T0 + HOUR)
    run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "pending"
    assert order.delivery_next_check_at == T0 + timedelta(seconds=2)
    run(http, T0 + timedelta(minutes=3, seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "short"
    assert order.delivery_evidence["short_by_energy"] == 65_000 - order.delivery_energy
    assert order.delivery_energy < 65_000 * 98 // 100
    assert order.delivery_evidence["words"].startswith("Short on chain by")
    assert order.delivery_next_check_at is None
    assert heard == [(order.pk, "short")]


@pytest.mark.django_db
def test_within_the_tolerance_is_verified(itrx_account, chain, http, settings):
    settings.ENERGYDASH_DELIVERY_TOLERANCE_PERCENT = 2
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 63_700, T0 + HOUR)  # 98% of 65,000
    run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "verified"


@pytest.mark.django_db
def test_a_delegation_that_began_before_the_order_is_not_counted_when_the_delegator_is_unknown(
    itrx_account, chain, http
):
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(STRANGER, RECEIVER, 65_000, T0 + timedelta(minutes=10))  # locked earlier
    run(http, T0 + timedelta(minutes=4))
    order.refresh_from_db()
    assert order.delivery_status == "missing"


@pytest.mark.django_db
def test_a_delegation_taken_back_before_the_period_ends_is_reclaimed_early(
    itrx_account, chain, http, heard
):
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    run(http, T0 + timedelta(seconds=1))
    chain.undelegate(POOL, RECEIVER)
    assert run(http, T0 + timedelta(minutes=30)).checked == 0  # no look due mid-period
    run(http, T0 + HOUR - timedelta(minutes=3))
    order.refresh_from_db()
    assert order.delivery_status == "reclaimed_early"
    assert order.delivery_energy == 0
    assert "Reclaimed early" in order.delivery_evidence["words"]
    assert heard == [(order.pk, "verified"), (order.pk, "reclaimed_early")]
    event = order.events.filter(kind="delivery").last()
    assert (event.from_status, event.to_status) == ("verified", "reclaimed_early")


@pytest.mark.django_db
def test_a_delegation_that_stays_is_left_verified_after_the_end_look(itrx_account, chain, http):
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    run(http, T0 + timedelta(seconds=1))
    run(http, T0 + HOUR - timedelta(minutes=3))
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert order.delivery_next_check_at is None
    assert len(order.delivery_evidence["looks"]) == 1
    assert order.events.filter(kind="delivery").count() == 1


@pytest.mark.django_db
def test_a_sampled_order_gets_a_mid_period_look_that_catches_an_early_reclaim(
    itrx_account, chain, http, settings
):
    settings.ENERGYDASH_DELIVERY_MIDPERIOD_PERCENT = 100
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    mid = order.delivery_next_check_at
    assert T0 + timedelta(minutes=10) < mid < T0 + timedelta(minutes=50)
    chain.undelegate(POOL, RECEIVER)
    run(http, mid)
    order.refresh_from_db()
    assert order.delivery_status == "reclaimed_early"


@pytest.mark.django_db
def test_without_a_configured_node_orders_are_not_checked_not_an_error(itrx_account, settings):
    settings.ENERGYDASH_TRON_API_URL = ""
    order = completed_order(itrx_account, RECEIVER)
    result = verify_pass(now=T0)
    order.refresh_from_db()
    assert order.delivery_status == "not_checked"
    assert "no TRON node is configured" in order.delivery_evidence["words"]
    assert order.delivery_next_check_at is None
    assert result.calls == 0
    assert verify_pass(now=T0 + HOUR).checked == 0


@pytest.mark.django_db
def test_an_unreadable_chain_is_asked_again_then_given_up_as_not_checked(itrx_account, chain, http):
    settings_retries = chain
    settings_retries.fail_with = 404  # refused by the node
    order = completed_order(itrx_account, RECEIVER)
    run(http, T0)
    order.refresh_from_db()
    assert order.delivery_status == "pending"
    assert order.delivery_next_check_at == T0 + timedelta(seconds=10)
    run(http, T0 + timedelta(minutes=14))
    order.refresh_from_db()
    assert order.delivery_status == "not_checked"
    assert "could not be read" in order.delivery_evidence["words"]


@pytest.mark.django_db
def test_an_activation_is_verified_by_the_account_existing(tronzap_account, chain, http):
    order = completed_order(tronzap_account, RECEIVER, kind="activation")
    late = completed_order(tronzap_account, address("never activated"), kind="activation")
    chain.activated.add(RECEIVER)
    result = run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert result.by_order[order.pk] == 1
    run(http, T0 + timedelta(minutes=4))
    late.refresh_from_db()
    assert late.delivery_status == "missing"


@pytest.mark.django_db
def test_orders_that_deliver_nothing_are_not_looked_at(itrx_account, chain, http):
    failed = completed_order(itrx_account, RECEIVER)
    Order.objects.filter(pk=failed.pk).update(status="failed")
    assert run(http, T0).checked == 0


@pytest.mark.django_db
def test_the_moment_of_verification_is_kept_through_later_looks(itrx_account, chain, http):
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    run(http, T0 + timedelta(seconds=2))
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert order.delivery_verified_at == T0 + timedelta(seconds=2)
    run(http, order.delivery_next_check_at)  # the end-of-period look: still there
    order.refresh_from_db()
    assert order.delivery_looks == 2
    assert order.delivery_verified_at == T0 + timedelta(seconds=2)


# What a look costs: one request says "nothing yet" (issue 20: median <= 3 per verified order).


@pytest.mark.django_db
def test_before_anything_lands_a_named_delegators_look_costs_one_request(
    netts_account, chain, http
):
    order = netts_order(netts_account)
    first = run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "pending"
    assert first.by_order[order.pk] == 1  # what the named delegator gives: nothing yet
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    second = run(http, T0 + timedelta(seconds=2))
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert second.by_order[order.pk] == 2  # the delegation, then the ratio
    assert order.delivery_evidence["calls"] == 3


@pytest.mark.django_db
def test_before_anything_lands_an_unnamed_delegators_look_costs_one_request(
    itrx_account, chain, http
):
    order = completed_order(itrx_account, RECEIVER)
    first = run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "pending"
    assert first.by_order[order.pk] == 1  # who delegates to the receiver: nobody yet
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    second = run(http, T0 + timedelta(seconds=2))
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert second.by_order[order.pk] == 3
    assert order.delivery_evidence["calls"] == 4


@pytest.mark.django_db
def test_a_provider_transaction_on_chain_whose_delegation_is_gone_is_reclaimed_early_not_missing(
    netts_account, chain, http, heard
):
    """Taken back before our first look: the provider's transaction is in a block, so the
    energy was delivered and reclaimed, not never sent."""
    order = netts_order(netts_account)
    chain.transactions["ab" * 32] = T0 + timedelta(seconds=2)
    run(http, T0 + timedelta(minutes=4))  # past the deadline, nothing delegated now
    order.refresh_from_db()
    assert order.delivery_status == "reclaimed_early"
    evidence = order.delivery_evidence
    assert evidence["tx_block_time"].startswith("2026-11-21T12:00:02")
    assert "Reclaimed early" in evidence["words"] and "ab" * 32 in evidence["words"]
    assert heard == [(order.pk, "reclaimed_early")]


@pytest.mark.django_db
def test_a_provider_transaction_not_on_chain_with_nothing_delegated_is_missing(
    netts_account, chain, http
):
    order = netts_order(netts_account)
    run(http, T0 + timedelta(minutes=4))
    order.refresh_from_db()
    assert order.delivery_status == "missing"
    assert order.delivery_evidence["tx_on_chain"] is False


# Collections (itrx): held to the energy itrx says it delivered, else a USDT transfer's 65,000.


@pytest.mark.django_db
def test_a_collection_is_verified_against_the_energy_itrx_says_it_delivered(
    itrx_account, chain, http
):
    order = completed_order(itrx_account, RECEIVER, kind="collection", energy_delivered=131_000)
    chain.delegate(POOL, RECEIVER, 131_000, T0 + HOUR)
    run(http, T0 + timedelta(seconds=1))
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert order.delivery_evidence["ordered_energy"] == 131_000
    assert order.delivery_energy >= 131_000 * 98 // 100


@pytest.mark.django_db
def test_a_collection_with_too_little_on_chain_is_short(itrx_account, chain, http):
    order = completed_order(itrx_account, RECEIVER, kind="collection", energy_delivered=131_000)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    run(http, T0 + timedelta(minutes=4))
    order.refresh_from_db()
    assert order.delivery_status == "short"


@pytest.mark.django_db
def test_a_collection_itrx_gave_no_figure_for_is_held_to_one_transfer(itrx_account, chain, http):
    """Nothing on chain must never pass for verified because the amount is unknown."""
    order = completed_order(itrx_account, RECEIVER, kind="collection")
    run(http, T0 + timedelta(minutes=4))
    order.refresh_from_db()
    assert order.delivery_status == "missing"
    assert order.delivery_evidence["ordered_energy"] == 65_000


@pytest.mark.django_db
def test_an_order_just_done_is_looked_at_before_pending_ones_however_many_are_due(
    itrx_account, chain, http
):
    """A pass has room for `limit` orders: the order whose done was just recorded goes first,
    not after every pending order already waiting (NULL next look sorts last in PostgreSQL)."""
    from energydash.orders.delivery import due_ids

    waiting = completed_order(itrx_account, address("waiting"))
    run(http, T0)  # looked at once, nothing yet: pending, due again at T0 + 1 s
    fresh = completed_order(itrx_account, RECEIVER)
    assert due_ids(T0 + timedelta(seconds=5), limit=1) == [fresh.pk]
    assert set(due_ids(T0 + timedelta(seconds=5), limit=2)) == {fresh.pk, waiting.pk}


@pytest.mark.django_db
def test_while_nothing_lands_looks_back_off_and_one_comes_at_the_deadline(
    itrx_account, chain, http
):
    """Every block at first, then less often: a missing order costs a handful of requests until
    its deadline, not one a second."""
    order = completed_order(itrx_account, RECEIVER)
    moments = []
    at = T0
    while True:
        run(http, at)
        order.refresh_from_db()
        if order.delivery_status != "pending":
            break
        moments.append(at)
        at = order.delivery_next_check_at
    assert order.delivery_status == "missing"
    assert at == T0 + timedelta(seconds=180)  # the deadline's look
    assert moments[1] - moments[0] == timedelta(seconds=1)  # the first block may be in a second
    # 15 looks over the 180 s deadline (one a second, then every 2 s and 5 s, was 60).
    assert len(moments) <= 16
    assert order.delivery_evidence["calls"] <= 18


@pytest.mark.django_db
def test_the_worker_loop_takes_short_passes_so_a_new_done_waits_one_short_pass(
    itrx_account, chain, http, settings, monkeypatch
):
    """A pass waits for its slowest look; with 200 due orders at the budget's pace a new done
    order would wait for all of them. The loop's passes take 2 per thread."""
    from energydash.orders import delivery, tasks

    settings.ENERGYDASH_DELIVERY_CONCURRENCY = 2
    for n in range(7):
        completed_order(itrx_account, address(f"r{n}"))
    seen: list[int] = []
    real = delivery.verify_pass

    def counting(**kwargs):
        result = real(client=http, now=T0, **kwargs)
        seen.append(result.checked)
        return result

    monkeypatch.setattr(delivery, "verify_pass", counting)
    tasks._verify_pass()
    assert seen == [4]
