"""Property: two workers racing on a random rule (price, cap, energy, budget, addresses) never buy
above the cap, never beyond the daily budget, and never twice for one address's shortfall.
Hypothesis draws the rule; two threads run the watch pass at once against the sandbox over WSGI."""

from __future__ import annotations

import itertools
import threading

import httpx
import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from energydash.chain.reader import ChainReader
from energydash.orders.models import Kind
from energydash.orders.watch import rule_orders, spent_today, watch_pass
from tests.api.conftest import address, box
from tests.watch.test_watch_rules import chain as chain  # the fixture
from tests.watch.test_watch_rules import rule

_examples = itertools.count()


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    price=st.integers(min_value=20, max_value=90),
    cap=st.integers(min_value=10, max_value=100),
    energy=st.sampled_from([65_000, 131_000, 200_000]),
    budget_orders=st.integers(min_value=0, max_value=3),
    addresses=st.integers(min_value=1, max_value=3),
)
def test_two_workers_never_exceed_the_cap_or_the_budget(
    chain, wsgi_app, price, cap, energy, budget_orders, addresses
):
    n = next(_examples)
    # Fresh names each example (the database is kept between examples): this example's box is
    # the rule's only allowed account.
    mine = box("tronzap", f"prop{n}", price=str(price))
    who = [address(f"prop-{n}-{i}") for i in range(addresses)]
    budget = budget_orders * price * energy
    watch = rule(*who, energy=energy, max_price_sun=cap, daily_budget_sun=budget, name=f"p{n}")
    watch.accounts.set([mine.account])
    start = threading.Barrier(2)
    errors = []

    def call():
        try:
            with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as http:
                reader = ChainReader.from_settings(client=http, retries=0)
                start.wait()
                watch_pass(client=http, reader=reader)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    orders = list(rule_orders(watch).filter(kind=Kind.ENERGY))
    assert spent_today(watch) <= budget
    for order in orders:
        paid = order.cost_sun if order.cost_sun is not None else order.quoted_cost_sun
        assert paid is not None and paid <= cap * (order.energy or 0)
        assert order.account_id == mine.account.pk
    if price > cap or budget < price * energy:
        assert orders == []
    per_address = [o.receive_address for o in orders]
    assert len(per_address) == len(set(per_address))  # never twice for one shortfall
    if price <= cap:
        assert len(orders) == min(addresses, budget_orders)
