"""What one look at an open order costs the database (issue 23: poller capacity).

A look that changes nothing writes only its release (next look, poll count, lease) in one
UPDATE for its chunk: no transition, rollup, ledger-day or event write. The sandbox's own
queries (it answers in this thread through the WSGI transport) are not the poller's.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from energydash.orders.models import Status
from energydash.orders.polling import poll_pass
from tests.orders.test_tracking import place


def _poller_statements(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "sandbox_" not in q["sql"] and not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]


def test_a_look_that_changes_nothing_reads_little_and_writes_one_update(itrx, http):
    itrx.sandbox.delegation_delay_seconds = 100_000
    itrx.sandbox.save()
    order = place(itrx, http)
    now = timezone.now()
    with time_machine.travel(now + timedelta(seconds=10), tick=False):
        poll_pass(client=http)  # submitted -> delegating: a change
    order.refresh_from_db()
    assert order.status == Status.DELEGATING
    later = order.next_poll_at + timedelta(seconds=1)
    with time_machine.travel(later, tick=False), CaptureQueriesContext(connection) as queries:
        result = poll_pass(client=http)
    assert (result.checked, result.changed) == (1, 0)
    statements = _poller_statements(queries)
    # the due count, the claim, the chunk's read, the release
    assert len(statements) <= 4, statements
    writes = [s for s in statements if not s.startswith("SELECT")]
    assert len(writes) == 2, writes  # the claim and the release
    assert "next_poll_at" in writes[-1] and "claimed_until" in writes[-1]
    # PostgreSQL's claim is WITH picked ... UPDATE: either way only orders_order is written
    assert all('UPDATE "orders_order"' in s for s in writes)  # no event, rollup, ledger day
    order.refresh_from_db()
    assert order.poll_count == 2 and order.next_poll_at > later
