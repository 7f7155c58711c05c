"""Netts cost (issue 19, finding 5): activation is quoted unless the address is known active,
polling never lowers the charge its placing answer stated, and a charge above the quote, the
account's maximum per order or its daily budget flags the order and alerts once."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from energydash.api.serializers import order_json
from energydash.balances.models import Alert, AlertKind
from energydash.chain.outcomes import OK, Reading
from energydash.orders.cost_check import check_charge
from energydash.orders.models import Order, Status
from energydash.orders.placement_outcome import record_placed
from energydash.orders.provider_state import apply_state
from energydash.orders.spec import OrderSpec, estimate_cost
from energydash.providers import base
from energydash.providers.base import OrderState, PlacedOrder
from energydash.providers.netts import ACTIVATION_SUN, NettsAdapter
from tests.balances.factories import ADDRESS, order
from tests.providers import fixtures as fx
from tests.providers.conftest import FakeProvider, credentials, reply

PRICE = 18 * 65_000  # NETTS_PRICING's current price


def quote_for(account, address=ADDRESS, reader=None, monkeypatch=None) -> int:
    adapter = NettsAdapter(credentials("netts"), FakeProvider(reply(fx.NETTS_PRICING)).client())
    spec = OrderSpec(account=account, kind="energy", receive_address=address, energy=65_000)
    total, _ = estimate_cost(spec, adapter)
    return total


def test_netts_quotes_activation_for_an_address_not_known_to_be_active(netts_account):
    assert quote_for(netts_account) == PRICE + ACTIVATION_SUN


def test_an_earlier_completed_order_to_the_address_makes_it_known_active(
    netts_account, itrx_account
):
    order(itrx_account, status=Status.COMPLETED)  # to ADDRESS
    assert quote_for(netts_account) == PRICE


def test_the_chain_reader_when_configured_can_say_the_address_is_active(netts_account, monkeypatch):
    from energydash.chain import answers
    from energydash.orders import activation

    class Reader:
        configured = True

        def account(self, address):
            return Reading(OK, answers.Account(address, True, 5, None))

    monkeypatch.setattr(activation.ChainReader, "from_settings", lambda **kw: Reader())
    assert quote_for(netts_account) == PRICE


def netts_order(account, *, quoted: int, status=Status.DRAFT) -> Order:
    return order(account, cost_sun=None, quoted_cost_sun=quoted, status=status)


def placed(paid_sun: int) -> PlacedOrder:
    return PlacedOrder(
        provider_ref="1H42",
        status=base.DELEGATING,
        raw_status="10000",
        cost_sun=paid_sun,
        balance_after_sun=None,
        energy=65_050,
        tx_hashes=(),
        raw={"orderId": "1H42", "paidTRX": paid_sun / 1e6},
    )


def polled(cost_sun: int) -> OrderState:
    return OrderState(
        provider_ref="1H42",
        reference=None,
        status=base.COMPLETED,
        raw_status="confirmed",
        cost_sun=cost_sun,
        energy_ordered=65_050,
        energy_delivered=65_050,
        tx_hashes=("ab" * 32,),
        refund_sun=None,
        raw={},
    )


def test_polling_never_lowers_the_cost_the_placing_answer_said_was_paid(netts_account):
    made = netts_order(netts_account, quoted=3_600_000)
    record_placed(made, placed(3_575_000), None, "test")
    assert apply_state(made, polled(2_475_000), label="poll")
    made.refresh_from_db()
    assert (made.status, made.cost_sun) == (Status.COMPLETED, 3_575_000), made.last_error
    assert "the recorded cost is kept" in made.events.last().message


def test_a_charge_above_the_quote_flags_the_order_and_alerts_once(
    netts_account, viewer_client, django_capture_on_commit_callbacks, admin_user
):
    admin_user.email = "ops@example.com"
    admin_user.save()
    made = netts_order(netts_account, quoted=PRICE)
    with django_capture_on_commit_callbacks(execute=True):
        record_placed(made, placed(PRICE + ACTIVATION_SUN), None, "test")
        apply_state(made, polled(PRICE + ACTIVATION_SUN + 500_000), label="poll")
    made.refresh_from_db()
    assert "above the quote of 1.170000 TRX" in made.cost_flag
    alerts = Alert.objects.filter(kind=AlertKind.COST_OVERRUN)
    assert alerts.count() == 1 and len(mail.outbox) == 1
    assert "2.270000 TRX" in mail.outbox[0].body
    html = viewer_client.get(reverse("orders:detail", args=[made.code])).content.decode()
    assert "Charge above the limits" in html
    assert order_json(made)["cost_flag"] == made.cost_flag


def test_a_charge_above_the_accounts_maximum_or_daily_budget_is_flagged(
    netts_account, django_capture_on_commit_callbacks
):
    netts_account.max_order_sun = 2_000_000
    netts_account.daily_budget_sun = 4_000_000
    netts_account.save()
    order(netts_account, cost_sun=2_000_000, status=Status.COMPLETED)
    made = netts_order(netts_account, quoted=2_500_000)
    with django_capture_on_commit_callbacks(execute=True):
        record_placed(made, placed(2_500_000), None, "test")
    made.refresh_from_db()
    assert "maximum of 2.000000 TRX per order" in made.cost_flag
    assert "above its daily budget of 4.000000 TRX" in made.cost_flag
    assert "quote" not in made.cost_flag


def test_a_charge_within_the_quote_and_limits_is_not_flagged(netts_account):
    netts_account.max_order_sun = 5_000_000
    netts_account.save()
    made = netts_order(netts_account, quoted=2_230_000)
    record_placed(made, placed(2_230_000 + 5_000), None, "test")  # 0.01 TRX rounding
    made.refresh_from_db()
    assert made.cost_flag == "" and not Alert.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_racing_reports_of_an_overrun_flag_the_order_and_alert_once(netts_account):
    made = order(netts_account, cost_sun=9_000_000, quoted_cost_sun=1_000_000)
    Order.objects.filter(pk=made.pk).update(provider_ref="1H42", submitted_at=timezone.now())
    barrier = threading.Barrier(6)
    results, errors = [], []

    def report():
        try:
            mine = Order.objects.select_related("account").get(pk=made.pk)
            barrier.wait(timeout=30)
            results.append(check_charge(mine, label="race"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=report) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert results.count(True) == 1
    assert Alert.objects.filter(kind=AlertKind.COST_OVERRUN).count() == 1
