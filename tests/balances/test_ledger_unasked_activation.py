"""An unresolved order at a provider that activates a recipient unasked (Netts): its possible
charge covers the activation too when the quote did not count it and the address was not known
to be active (soak: an order in review quoted 3.575 TRX that Netts activated and charged 4.675
opened a false 1.105 TRX discrepancy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from energydash.balances import ledger
from energydash.balances.intervals import DISCREPANCY, POSSIBLE
from energydash.balances.ledger_checks import check_discrepancies
from energydash.balances.models import BalanceSnapshot, LedgerFlag
from energydash.orders.models import Order, Status
from energydash.providers.netts import ACTIVATION_SUN
from tests.balances.factories import OTHER_ADDRESS, order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
QUOTE = 3_575_000  # 65,000 energy at 55 sun: no activation counted


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reading(account, seconds: float, balance_sun: int) -> None:
    BalanceSnapshot.objects.create(
        account=account, balance_sun=balance_sun, taken_at=at(seconds), source="refresh"
    )


def unresolved(account, *, quoted: int = QUOTE, status: str = Status.NEEDS_REVIEW) -> Order:
    o = order(account, cost_sun=None, quoted_cost_sun=quoted, status=status, created=at(10))
    Order.objects.filter(pk=o.pk).update(unit_price_sun=55, submitted_at=at(12))
    return o


def charged_with_activation(account) -> list:
    """Readings around the unresolved order: Netts took quote + activation (4.675 TRX)."""
    account.ledger_tolerance_sun = 10_000
    account.save()
    reading(account, 0, 100_000_000)
    reading(account, 30, 100_000_000 - QUOTE - ACTIVATION_SUN)
    reading(account, 90, 100_000_000 - QUOTE - ACTIVATION_SUN)
    ends = BalanceSnapshot.objects.filter(account=account).values_list("taken_at", flat=True)
    return ledger.build_intervals(account, ends)


def test_an_unasked_activation_is_a_possible_charge_not_a_discrepancy(netts_account):
    unresolved(netts_account)
    ivs = charged_with_activation(netts_account)
    assert ivs[0].kind == POSSIBLE
    assert ivs[0].possible_cover_sun == QUOTE + ACTIVATION_SUN
    assert ivs[0].discrepancy_sun == 0
    check_discrepancies(netts_account, at(90) + timedelta(minutes=11))
    assert not LedgerFlag.objects.filter(kind=LedgerFlag.Kind.DISCREPANCY).exists()


def test_an_unknown_order_covers_the_activation_as_well(netts_account):
    unresolved(netts_account, status=Status.UNKNOWN)
    assert charged_with_activation(netts_account)[0].kind == POSSIBLE


def test_a_quote_that_counted_activation_covers_only_itself(netts_account):
    """Quoted with activation (3.575 + 1.1 TRX): the cover is the quote, and more money gone
    than that is a discrepancy."""
    unresolved(netts_account, quoted=QUOTE + ACTIVATION_SUN)
    netts_account.ledger_tolerance_sun = 10_000
    netts_account.save()
    reading(netts_account, 0, 100_000_000)
    reading(netts_account, 30, 100_000_000 - QUOTE - 2 * ACTIVATION_SUN)
    ends = BalanceSnapshot.objects.filter(account=netts_account).values_list("taken_at", flat=True)
    iv = ledger.build_intervals(netts_account, ends)[0]
    assert iv.possible_cover_sun == QUOTE + ACTIVATION_SUN
    assert iv.kind == DISCREPANCY and iv.discrepancy_sun == ACTIVATION_SUN


def test_an_address_known_active_gets_no_activation_cover(netts_account):
    """An earlier order to the same address completed: it is active, Netts cannot activate it,
    so 1.1 TRX gone beyond the quote is flagged."""
    done = order(netts_account, status=Status.COMPLETED, created=at(-600))
    Order.objects.filter(pk=done.pk).update(submitted_at=at(-598), finished_at=at(-500))
    unresolved(netts_account)
    ivs = charged_with_activation(netts_account)
    assert ivs[0].possible_cover_sun == QUOTE
    assert ivs[0].kind == DISCREPANCY


def test_another_address_completed_does_not_make_this_one_active(netts_account):
    done = order(netts_account, status=Status.COMPLETED, created=at(-600), address=OTHER_ADDRESS)
    Order.objects.filter(pk=done.pk).update(submitted_at=at(-598), finished_at=at(-500))
    unresolved(netts_account)
    assert charged_with_activation(netts_account)[0].kind == POSSIBLE


def test_a_provider_that_never_activates_unasked_gets_no_activation_cover(tronzap_account):
    unresolved(tronzap_account)
    ivs = charged_with_activation(tronzap_account)
    assert ivs[0].possible_cover_sun == QUOTE
    assert ivs[0].kind == DISCREPANCY
