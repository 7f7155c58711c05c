"""Net charge: the money a provider kept (cost - refund) counts everywhere and is shown as such.

Issue 19, finding 1: a partly refunded itrx order (41), an itrx order that ended 0 or 43 with
nothing refunded, and a TronZap order that failed after it was accepted all kept money, yet they
dropped out of spend, the daily budget and the charts, and the order page said "nothing".
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.api.serializers import order_json
from energydash.balances import rollups, stats
from energydash.balances.models import DailyOrderRollup
from energydash.orders.limits import limit_violation, spent_today_sun
from energydash.orders.models import Order, Status
from energydash.orders.provider_state import apply_state
from energydash.providers import itrx, tronzap
from energydash.providers.base import OrderState
from tests.balances.factories import order

TRX = 1_000_000


def accepted(account, cost: int = 3_800_000, ref: str = "serial-1", **kw) -> Order:
    made = order(account, cost_sun=cost, status=Status.SUBMITTED, **kw)
    Order.objects.filter(pk=made.pk).update(provider_ref=ref, submitted_at=timezone.now())
    made.refresh_from_db()
    return made


def state(status: str, raw: str, cost: int | None, refund: int | None, ref="serial-1"):
    return OrderState(
        provider_ref=ref,
        reference=None,
        status=status,
        raw_status=raw,
        cost_sun=cost,
        energy_ordered=65_000,
        energy_delivered=None,
        tx_hashes=(),
        refund_sun=refund,
        raw={"status": raw},
    )


def settle(made: Order, provider_state: OrderState) -> Order:
    assert apply_state(made, provider_state, label="test")
    made.refresh_from_db()
    return made


def page(client, made: Order) -> str:
    return client.get(reverse("orders:detail", args=[made.code])).content.decode()


def test_a_partly_refunded_itrx_order_keeps_the_difference_everywhere(viewer_client, itrx_account):
    made = accepted(itrx_account)
    made = settle(made, state(itrx.STATUS[41], "41", 3_800_000, 1_000_000))
    assert (made.status, made.cost_sun, made.refund_sun) == (Status.REFUNDED, 3_800_000, 1 * TRX)
    assert made.kept_sun == 2_800_000

    html = page(viewer_client, made)
    assert "charged 3.800000, refunded 1.000000, kept 2.800000 TRX" in html
    assert "nothing" not in html.split("<h2>Timeline</h2>")[0]

    assert spent_today_sun(itrx_account) == 2_800_000
    assert stats.spend_totals().overall.today_sun == 2_800_000
    assert DailyOrderRollup.objects.get(status=Status.REFUNDED).spend_sun == 2_800_000
    data = order_json(made)
    assert (data["kept_sun"], data["kept_trx"], data["charged"]) == (2_800_000, "2.800000", True)


@pytest.mark.parametrize("code", [0, 43])
def test_an_itrx_order_that_ended_without_a_refund_counts_its_whole_cost(
    viewer_client, itrx_account, code
):
    made = settle(accepted(itrx_account), state(itrx.STATUS[code], str(code), 3_800_000, 0))
    assert made.status == Status.FAILED
    assert made.kept_sun == 3_800_000
    html = page(viewer_client, made)
    assert "nothing was charged" not in html
    assert "charged 3.800000, refunded 0.000000, kept 3.800000 TRX" in html
    assert spent_today_sun(itrx_account) == 3_800_000
    assert stats.spend_totals().overall.today_sun == 3_800_000


def test_a_tronzap_order_that_failed_after_acceptance_kept_its_cost(viewer_client, tronzap_account):
    made = accepted(tronzap_account, cost=2_000_000, ref="tz-1")
    made = settle(made, state(tronzap.STATUS["failed"], "failed", 2_000_000, None, ref="tz-1"))
    assert made.kept_sun == 2_000_000
    html = page(viewer_client, made)
    assert "nothing was charged" not in html
    assert "kept 2.000000 TRX" in html
    assert "no refund stated" in html
    assert spent_today_sun(tronzap_account) == 2_000_000


def test_a_full_refund_keeps_nothing_and_says_so(viewer_client, itrx_account):
    made = settle(accepted(itrx_account), state(itrx.STATUS[41], "41", 3_800_000, 3_800_000))
    assert made.kept_sun == 0
    assert "refunded in full: nothing was kept" in page(viewer_client, made)
    assert spent_today_sun(itrx_account) == 0
    assert stats.spend_totals().overall.today_sun == 0


def test_a_refusal_before_sending_says_nothing_was_charged(viewer_client, itrx_account):
    refused = order(itrx_account, cost_sun=None, quoted_cost_sun=3_800_000, status=Status.FAILED)
    assert refused.kept_sun == 0
    assert "nothing was charged" in page(viewer_client, refused)


def test_the_daily_budget_counts_money_kept_by_refunded_and_failed_orders(itrx_account):
    itrx_account.daily_budget_sun = 5 * TRX
    itrx_account.save()
    settle(accepted(itrx_account, ref="a"), state(itrx.STATUS[41], "41", 3_800_000, 1 * TRX, "a"))
    ended = accepted(itrx_account, cost=1 * TRX, ref="b")
    settle(ended, state(itrx.STATUS[43], "43", None, 0, "b"))
    assert spent_today_sun(itrx_account) == 3_800_000
    assert "only 1.200000 TRX" in limit_violation(itrx_account, 2 * TRX)


def test_the_csv_export_has_each_orders_kept_money_and_the_daily_spend(
    viewer_client, itrx_account, tronzap_account
):
    settle(accepted(itrx_account), state(itrx.STATUS[41], "41", 3_800_000, 1 * TRX))
    failed = accepted(tronzap_account, cost=2 * TRX, ref="tz")
    settle(failed, state("failed", "failed", None, None, "tz"))
    text = b"".join(viewer_client.get(reverse("balances:orders_csv")).streaming_content)
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert sorted(r["kept_sun"] for r in rows) == ["2000000", "2800000"]
    text = b"".join(viewer_client.get(reverse("balances:daily_cost_csv")).streaming_content)
    daily = list(csv.DictReader(io.StringIO(text.decode())))
    assert sorted(r["spend_sun"] for r in daily) == ["2000000", "2800000"]


CASES = [
    # (status, cost, quoted, refund, provider_ref) -> kept, spend
    ((Status.COMPLETED, 100, 90, None, "r"), 100, 100),
    ((Status.COMPLETED, 100, 90, 30, "r"), 70, 70),
    ((Status.REFUNDED, 100, 90, 40, "r"), 60, 60),
    ((Status.REFUNDED, 100, 90, None, "r"), 0, 0),
    ((Status.REFUNDED, None, 90, None, "r"), 0, 0),
    ((Status.FAILED, 100, 90, None, "r"), 100, 100),
    ((Status.FAILED, 100, 90, 100, "r"), 0, 0),
    ((Status.FAILED, None, 90, None, ""), 0, 0),
    ((Status.SUBMITTED, None, 90, None, "r"), 90, 90),
    ((Status.DELEGATING, 100, 90, None, "r"), 100, 100),
    ((Status.UNKNOWN, None, 90, None, ""), 0, 90),
    ((Status.NEEDS_REVIEW, 100, 90, None, "r"), 0, 100),
]


def test_one_definition_of_kept_money_in_python_sql_and_the_orm(itrx_account):
    """The order page (Python), the rollups (SQL) and the budget (ORM) agree on every case."""
    from energydash.orders.money import SPEND

    at = timezone.now().replace(minute=10)
    made = []
    for (status, cost, quoted, refund, ref), kept, spend in CASES:
        o = order(itrx_account, cost_sun=cost, quoted_cost_sun=quoted, status=status, created=at)
        Order.objects.filter(pk=o.pk).update(refund_sun=refund, provider_ref=ref)
        o.refresh_from_db()
        assert (o.kept_sun, o.spend_sun) == (kept, spend), (status, cost, refund, ref)
        made.append((o, spend))
    by_orm = dict(Order.objects.annotate(s=SPEND).values_list("pk", "s"))
    assert by_orm == {o.pk: spend for o, spend in made}
    rollups.rebuild()
    assert sum(DailyOrderRollup.objects.values_list("spend_sun", flat=True)) == sum(
        s for _, s in made
    )
    at_end = stats.daily_spend_by_account(at + timedelta(days=1))[itrx_account.pk] * 7
    assert round(at_end) == sum(s for _, s in made)


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_in_one_bucket_each_count_once_in_spend(itrx_account):
    """Settlements that refund in part race in one (account, hour): the rollups' spend is exact
    and equal to a rebuild."""
    from tests.balances.test_rollups import _race, snapshot

    at = timezone.now().replace(minute=20)
    placed = [
        order(itrx_account, cost_sun=1_000, status=Status.COMPLETED, created=at) for _ in range(6)
    ]
    others = [
        order(itrx_account, cost_sun=None, quoted_cost_sun=10, status=Status.SUBMITTED, created=at)
        for _ in range(4)
    ]
    from functools import partial

    from energydash.orders.transitions import transition

    _race(
        [partial(transition, o, Status.REFUNDED, refund_sun=300) for o in placed]
        + [partial(transition, o, Status.FAILED, provider_ref="x", cost_sun=500) for o in others]
    )
    refunded = DailyOrderRollup.objects.get(account=itrx_account, status=Status.REFUNDED)
    failed = DailyOrderRollup.objects.get(account=itrx_account, status=Status.FAILED)
    assert (refunded.orders, refunded.spend_sun) == (6, 6 * 700)
    assert (failed.orders, failed.spend_sun) == (4, 4 * 500)
    live = snapshot()
    rollups.rebuild()
    assert snapshot() == live
