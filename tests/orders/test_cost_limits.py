"""After placing, every path compares the charge with the quote, the API's max_cost_trx and the
budget (issue 19): Mark as placed included. An overrun flags the order and alerts once."""

from __future__ import annotations

import pytest
from django.core import mail

from energydash.balances.models import Alert, AlertKind
from energydash.orders.cost_check import check_charge, overrun
from energydash.orders.models import Route, RouteAttempt, Status
from energydash.orders.review import mark_placed
from tests.balances.factories import order
from tests.orders.test_review_lookup import remote_order
from tests.orders.test_views import order_for


def test_mark_as_placed_checks_the_found_charge_and_alerts_once(
    netts, operator, http, django_capture_on_commit_callbacks
):
    netts.account.alert_emails = "ops@example.com"
    netts.account.save(update_fields=["alert_emails"])
    remote_order(netts, "1Hdear0001", cost_sun=4_575_000)
    made = order_for(netts, status=Status.NEEDS_REVIEW, quoted_cost_sun=3_575_000)
    with django_capture_on_commit_callbacks(execute=True):
        assert mark_placed(made, operator, "1Hdear0001", None, "", client=http)
    made.refresh_from_db()
    assert "above the quote of 3.575000 TRX" in made.cost_flag
    assert Alert.objects.filter(kind=AlertKind.COST_OVERRUN).count() == 1
    assert len(mail.outbox) == 1
    # a second report of the same charge flags nothing more
    assert not check_charge(made, label="poll")
    assert Alert.objects.filter(kind=AlertKind.COST_OVERRUN).count() == 1


def routed(made, max_cost_sun: int | None) -> None:
    route = Route.objects.create(
        key=f"k-{made.pk}",
        body_hash="x",
        via="api",
        receive_address=made.receive_address,
        max_cost_sun=max_cost_sun,
        status=Route.Status.PLACED,
        order=made,
    )
    RouteAttempt.objects.create(
        route=route,
        number=1,
        account=made.account,
        order=made,
        outcome=RouteAttempt.Outcome.ACCEPTED,
    )


def test_a_charge_above_the_apis_max_cost_is_an_overrun_even_within_the_quotes_rounding(
    netts_account,
):
    """Quoted 3.995 TRX under a max_cost_trx of 4; Netts charged 4.004 (its 0.01 TRX rounding of
    the quote, but above what the API caller allowed)."""
    made = order(netts_account, cost_sun=4_004_000, quoted_cost_sun=3_995_000)
    routed(made, 4_000_000)
    words = overrun(made)
    assert "above the max_cost_trx of 4.000000 TRX it was sent with" in words
    assert "quote" not in words


@pytest.mark.parametrize("max_cost", [None, 4_004_000])
def test_a_charge_within_max_cost_is_no_overrun(netts_account, max_cost):
    made = order(netts_account, cost_sun=4_004_000, quoted_cost_sun=3_995_000)
    routed(made, max_cost)
    assert overrun(made) == ""
