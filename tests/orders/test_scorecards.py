"""Provider scorecards from our own orders: times, fill rate, chain verdicts, charged against
quoted, refusals by reason; over a window, in a few set-based queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from energydash.orders.models import Order
from energydash.orders.scorecards import scorecards

NOW = timezone.now().replace(microsecond=0)
ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def order(
    account, *, ago: float = 600, done: float | None = None, verified: float | None = None, **fields
):
    """An order placed `ago` seconds before NOW, done `done` s and verified `verified` s later."""
    created = NOW - timedelta(seconds=ago)
    fields.setdefault("status", "completed")
    fields.setdefault("provider_ref", "p-1" if fields["status"] != "failed" else "")
    return Order.objects.create(
        account=account,
        receive_address=ADDRESS,
        energy=65_000,
        period="1H",
        burn_sun_per_energy=100,
        created=created,
        submitted_at=created if fields["provider_ref"] else None,
        finished_at=created + timedelta(seconds=done) if done is not None else None,
        delivery_verified_at=created + timedelta(seconds=verified)
        if verified is not None
        else None,
        **fields,
    )


@pytest.mark.django_db
def test_a_scorecard_counts_what_the_account_really_did(itrx_account, tronzap_account):
    for i in range(1, 11):  # done after 1..10 s, verified 2 s later; quoted 3 TRX
        order(
            itrx_account,
            done=i,
            verified=i + 2,
            delivery_status="verified",
            quoted_cost_sun=3_000_000,
            cost_sun=3_000_000,
        )
    order(
        itrx_account,
        done=4,
        delivery_status="missing",
        quoted_cost_sun=3_000_000,
        cost_sun=3_300_000,
    )
    order(
        itrx_account, done=4, delivery_status="short", quoted_cost_sun=3_000_000, cost_sun=3_000_000
    )
    order(itrx_account, done=5, delivery_status="not_checked")
    order(itrx_account, status="submitted")
    order(itrx_account, status="failed", last_error="Insufficient balance")
    order(itrx_account, status="failed", last_error="Insufficient balance")
    order(itrx_account, status="failed", last_error="Address not activated")
    order(itrx_account, status="draft")  # never sent: not counted
    order(itrx_account, ago=3 * 86_400, done=1, delivery_status="missing")  # outside 24 h
    order(tronzap_account, done=1, verified=3, delivery_status="reclaimed_early")

    cards = scorecards(hours=24)
    card = cards[itrx_account.pk]
    assert card.orders == 17
    assert (card.accepted, card.completed) == (14, 13)
    assert card.fill_rate == round(100 * 13 / 14, 1)
    assert (card.judged, card.verified, card.short, card.missing) == (12, 10, 1, 1)
    assert card.verified_rate == round(100 * 10 / 12, 1)
    assert card.missing_share == card.short_share == round(100 / 12, 1)
    assert card.not_checked == 1
    # Charged against quoted: 12 priced orders, one charged 0.3 TRX above its quote.
    assert (card.priced, card.quoted_sun, card.charged_sun) == (12, 36_000_000, 36_300_000)
    assert card.above_quote == 1 and card.charged_vs_quoted == 100.8
    assert card.refusals == [("Insufficient balance", 2), ("Address not activated", 1)]
    assert card.refused == 3
    # Done: 1..10, 4, 4, 5 s (13 orders): nearest-rank p50 is the 7th, p95 the 13th.
    assert (card.done_p50, card.done_p95) == (5.0, 10.0)
    # Verified 3..12 s (10 orders): p50 the 5th (7 s), p95 the 10th (12 s).
    assert (card.verified_p50, card.verified_p95) == (7.0, 12.0)
    other = cards[tronzap_account.pk]
    assert other.reclaimed_early == 1 and other.reclaimed_share == 100.0 and other.verified == 0
    assert other.verified_p50 == 3.0  # it was verified before it was taken back


@pytest.mark.django_db
def test_the_window_decides_which_orders_count(itrx_account):
    order(itrx_account, ago=2 * 3600, done=1, delivery_status="missing")
    order(itrx_account, ago=60, done=1, verified=2, delivery_status="verified")
    assert scorecards(hours=1)[itrx_account.pk].verified_rate == 100.0
    assert scorecards(hours=3)[itrx_account.pk].verified_rate == 50.0


@pytest.mark.django_db
def test_scorecards_take_the_same_few_queries_for_many_orders(
    itrx_account, tronzap_account, netts_account, django_assert_max_num_queries
):
    rows = []
    for i in range(300):
        account = (itrx_account, tronzap_account, netts_account)[i % 3]
        created = NOW - timedelta(seconds=600 + i)
        rows.append(
            Order(
                account=account,
                receive_address=ADDRESS,
                burn_sun_per_energy=100,
                status="completed",
                provider_ref=f"p-{i}",
                created=created,
                submitted_at=created,
                finished_at=created + timedelta(seconds=i % 7),
                delivery_status="verified" if i % 5 else "missing",
                delivery_verified_at=created + timedelta(seconds=i % 9) if i % 5 else None,
            )
        )
    Order.objects.bulk_create(rows)
    with django_assert_max_num_queries(4):
        cards = scorecards(hours=24)
    assert sum(c.orders for c in cards.values()) == 300
    assert sum(c.missing for c in cards.values()) == 60
