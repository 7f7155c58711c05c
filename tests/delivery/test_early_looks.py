"""Looks before the provider's done is recorded (issue 20 latency): the chain is watched from
a few seconds after an energy order was sent, so its energy is verified when it lands, not when
the poller next hears "done" from a busy provider. Before done nothing is judged short or
missing: the provider may still be delegating."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase

from energydash.orders.delivery import state_of, verify_pass
from energydash.orders.models import Order
from energydash.orders.transitions import transition
from tests.delivery.conftest import T0, address, completed_order

RECEIVER = address("receiver")
POOL = address("provider pool")
HOUR = timedelta(hours=1)
pytestmark = pytest.mark.django_db


def run(http, at):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return verify_pass(now=at, client=http)


def sent_order(account, *, status="submitted", seconds_ago=5, **fields) -> Order:
    """An energy order sent `seconds_ago` before T0 that its provider has not reported done."""
    order = completed_order(account, RECEIVER, status=status, **fields)
    Order.objects.filter(pk=order.pk).update(
        finished_at=None,
        created=T0 - timedelta(seconds=seconds_ago),
        submitted_at=T0 - timedelta(seconds=seconds_ago),
    )
    order.refresh_from_db()
    return order


def test_energy_on_chain_before_the_provider_said_done_is_verified_when_it_lands(
    itrx_account, chain, http
):
    order = sent_order(itrx_account)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    run(http, T0)
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert order.delivery_verified_at == T0
    assert order.status == "submitted"  # the provider's word is still the poller's to record
    assert "before the provider" in order.delivery_evidence["words"]


def test_before_done_nothing_on_chain_is_pending_looked_at_a_block_later_and_never_missing(
    itrx_account, chain, http
):
    order = sent_order(itrx_account, status="delegating")
    result = run(http, T0)
    order.refresh_from_db()
    assert order.delivery_status == "pending"
    assert result.by_order[order.pk] == 1  # who delegates to the receiver: nobody yet
    assert order.delivery_next_check_at == T0 + timedelta(seconds=3)
    # Long after any deadline, still not done: the provider may still deliver, nothing judged.
    Order.objects.filter(pk=order.pk).update(delivery_next_check_at=T0 + timedelta(minutes=5))
    run(http, T0 + timedelta(minutes=5))
    order.refresh_from_db()
    assert order.delivery_status == "pending"
    assert order.delivery_next_check_at is None  # watched only while young; done will ask


def test_part_of_the_energy_before_done_is_not_judged_short(itrx_account, chain, http):
    order = sent_order(itrx_account)
    chain.delegate(POOL, RECEIVER, 30_000, T0 + HOUR)
    run(http, T0)
    order.refresh_from_db()
    assert order.delivery_status == "pending"


def test_an_order_sent_a_moment_ago_is_not_looked_at_yet(itrx_account, chain, http):
    order = sent_order(itrx_account, seconds_ago=1)
    result = run(http, T0)
    assert result.checked == 0
    order.refresh_from_db()
    assert order.delivery_status == ""


def test_done_makes_a_pending_look_due_at_once(itrx_account, chain, http):
    order = sent_order(itrx_account)
    run(http, T0)
    order.refresh_from_db()
    assert order.delivery_next_check_at == T0 + timedelta(seconds=3)
    assert transition(order, "completed", label="test")
    order.refresh_from_db()
    assert order.delivery_next_check_at <= order.finished_at


def test_an_order_watched_early_that_then_failed_shows_no_delivery(itrx_account, chain, http):
    order = sent_order(itrx_account)
    run(http, T0)
    assert transition(Order.objects.get(pk=order.pk), "failed", label="test")
    order.refresh_from_db()
    assert state_of(order) is None


def test_early_looks_can_be_turned_off(itrx_account, chain, http, settings):
    settings.ENERGYDASH_DELIVERY_EARLY_LOOKS = False
    order = sent_order(itrx_account)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + HOUR)
    assert run(http, T0).checked == 0
    order.refresh_from_db()
    assert order.delivery_status == ""
