"""Two verification passes on one order at once: one looks and writes, the other changes
nothing and announces nothing (threads released together by a barrier, on a real database
transaction each)."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection

from energydash.chain.reader import ChainReader
from energydash.orders.delivery import claim, verify_pass
from energydash.orders.delivery_look import look
from energydash.orders.models import Order
from energydash.orders.signals import delivery_checked
from tests.delivery.conftest import T0, address, completed_order

RECEIVER = address("raced receiver")
POOL = address("raced pool")


def together(n, work):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(work())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.fixture
def heard():
    got = []
    lock = threading.Lock()

    def listen(sender, order, status, **kwargs):
        with lock:
            got.append((order.pk, status))

    delivery_checked.connect(listen, dispatch_uid="race-heard")
    yield got
    delivery_checked.disconnect(dispatch_uid="race-heard")


@pytest.mark.django_db(transaction=True)
def test_two_passes_racing_on_one_order_verify_it_once(itrx_account, chain, heard):
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + timedelta(hours=1))

    def one_pass():
        with httpx.Client(transport=httpx.MockTransport(chain.handle)) as http:
            return verify_pass(now=T0 + timedelta(seconds=1), client=http, concurrency=1)

    results = together(2, one_pass)
    assert sorted(r.checked for r in results) in ([0, 1], [1, 1])
    order.refresh_from_db()
    assert order.delivery_status == "verified"
    assert order.events.filter(kind="delivery").count() == 1
    assert heard == [(order.pk, "verified")]


@pytest.mark.django_db(transaction=True)
def test_of_two_looks_that_read_the_same_row_only_the_first_writes(itrx_account, chain, heard):
    """Past the claim (say a lease ran out mid-look): the verdict's UPDATE is conditional on
    the look count both read, so the second changes nothing."""
    order = completed_order(itrx_account, RECEIVER)
    chain.delegate(POOL, RECEIVER, 65_000, T0 + timedelta(hours=1))
    now = T0 + timedelta(seconds=1)
    claimed = claim(order.pk, now)
    copies = [Order.objects.select_related("account").get(pk=order.pk) for _ in range(2)]
    for copy in copies:
        copy.delivery_status = claimed.delivery_status

    def one_look(copy):
        with httpx.Client(transport=httpx.MockTransport(chain.handle)) as http:
            return look(copy, ChainReader.from_settings(client=http), now)[0]

    it = iter(copies)
    lock = threading.Lock()

    def next_copy():
        with lock:
            return next(it)

    results = together(2, lambda: one_look(next_copy()))
    assert sorted(results) == [False, True]
    order.refresh_from_db()
    assert order.delivery_looks == 1
    assert order.events.filter(kind="delivery").count() == 1
    assert heard == [(order.pk, "verified")]
