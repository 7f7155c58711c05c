"""The ledger against the provider sandbox: seeded history, the "charge without an order" fault,
and itrx's per-key usage summary (in-process over WSGI, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from django.core import mail
from django.utils import timezone

from energydash.balances import ledger, ledger_checks
from energydash.balances.models import Alert, BalanceSnapshot, LedgerFlag
from energydash.balances.services import refresh_account
from energydash.demo import seed
from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec
from energydash.providers import base
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for
from energydash.sandbox.models import SandboxAccount, SandboxOrder
from energydash.sandbox.setup import setup_sandbox
from tests.balances.factories import ADDRESS
from tests.sandbox.conftest import wsgi_app  # noqa: F401  (shared fixture)

KEY, SECRET = "LEDGERITRXKEY0000000000000000001", "ledger-itrx-secret"


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"


@pytest.fixture
def http(wsgi_app) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as client:
        yield client


@pytest.fixture
def box(db) -> SandboxAccount:
    return SandboxAccount.objects.create(
        provider="itrx",
        name="ledger box",
        api_key=KEY,
        api_secret=SECRET,
        balance_sun=200 * SUN_PER_TRX,
        delegation_delay_seconds=5,
        hang_seconds=0.1,
    )


@pytest.fixture
def account(box) -> ProviderAccount:
    created = ProviderAccount.objects.create(
        name="ledger itrx",
        provider="itrx",
        base_url="http://testserver/sandbox/itrx",
        api_key=KEY,
        api_secret=SECRET,
        alert_emails="ops@example.com",
    )
    return ProviderAccount.objects.get(pk=created.pk)


def buy(account: ProviderAccount, http: httpx.Client) -> Order:
    spec = OrderSpec(account=account, kind="energy", receive_address=ADDRESS, energy=65_000)
    return place_order(spec, client=http)


def all_intervals(account: ProviderAccount) -> list[ledger.Interval]:
    ends = BalanceSnapshot.objects.filter(account=account).values_list("taken_at", flat=True)
    return ledger.build_intervals(account, ends)


def test_seeded_sandbox_history_is_explained_except_its_top_ups(db):
    setup_sandbox("http://127.0.0.1:8000")
    seed.seed_history()
    for account in ProviderAccount.objects.all():
        intervals = all_intervals(account)
        assert len(intervals) > 100
        verdicts = {iv.kind for iv in intervals}
        assert verdicts <= {"explained", "topup"}, account.name
        assert [iv.kind for iv in intervals].count("topup") == 1  # the one generated deposit
        assert sum(iv.charges_sun for iv in intervals) == sum(
            Order.objects.filter(account=account).values_list("cost_sun", flat=True)
        )


def test_charge_without_an_order_is_one_discrepancy_and_one_email(account, box, http):
    refresh_account(account, client=http)  # 200 TRX
    box.charge_without_order_once = True
    box.save()
    lost = buy(account, http)
    assert lost.status == Status.FAILED  # the sandbox refused, yet took the money
    assert SandboxOrder.objects.count() == 0
    good = buy(account, http)  # a normal order: its response carries the balance after both
    assert good.status in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED)
    refresh_account(account, client=http)
    box.refresh_from_db()
    missing = 200 * SUN_PER_TRX - good.cost_sun - box.balance_sun
    assert missing > 0

    verdicts = [(iv.kind, iv.discrepancy_sun) for iv in all_intervals(account)]
    assert ("discrepancy", missing) in verdicts
    assert [k for k, _ in verdicts].count("discrepancy") == 1

    later = timezone.now() + timedelta(minutes=15)
    (alert,) = ledger_checks.check_discrepancies(account, now=later)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@example.com"]
    assert "Ledger discrepancy" in mail.outbox[0].subject
    assert f"/ledger/{account.code}/" in mail.outbox[0].body
    assert alert.kind == "ledger_discrepancy" and alert.delivered
    # hysteresis: later passes find the finding reported and send nothing
    assert ledger_checks.check_discrepancies(account, now=later) == []
    assert ledger_checks.check_ledger() == "no discrepancies"
    assert len(mail.outbox) == 1
    assert LedgerFlag.objects.get().amount_sun == missing
    assert ledger.unexplained_decrease_sun(account, lost.created - timedelta(seconds=1)) == missing


def test_the_discrepancy_is_listed_under_alerts(account, box, http, viewer_client):
    refresh_account(account, client=http)
    box.charge_without_order_once = True
    box.save()
    buy(account, http)
    refresh_account(account, client=http)
    ledger_checks.check_discrepancies(account, now=timezone.now() + timedelta(minutes=15))
    html = viewer_client.get("/alerts/").content.decode()
    assert "Ledger discrepancy" in html and "no order accounts for" in html
    assert f"/ledger/{account.code}/" in html
    page = viewer_client.get(f"/ledger/{account.code}/").content.decode()
    assert 'data-kind="discrepancy"' in page and "e-mailed" in page


def test_the_newest_discrepancy_waits_for_the_grace_period(account, box, http):
    refresh_account(account, client=http)
    box.charge_without_order_once = True
    box.save()
    buy(account, http)
    refresh_account(account, client=http)
    assert ledger_checks.check_discrepancies(account, now=timezone.now()) == []
    assert mail.outbox == []


def test_a_share_of_charges_without_an_order_is_editable_like_other_faults(
    account, box, http, admin_client
):
    box.charge_without_order_rate = 1.0
    box.save()
    buy(account, http)
    box.refresh_from_db()
    assert box.balance_sun < 200 * SUN_PER_TRX and SandboxOrder.objects.count() == 0
    page = admin_client.get(f"/admin/sandbox/sandboxaccount/{box.pk}/change/").content.decode()
    assert "charge_without_order_rate" in page and "charge_without_order_once" in page


# --- itrx usage summary ------------------------------------------------------------------------


def backdate_one_day() -> None:
    for o in SandboxOrder.objects.all():
        SandboxOrder.objects.filter(pk=o.pk).update(created_at=o.created_at - timedelta(days=1))
    for o in Order.objects.exclude(submitted_at=None):
        Order.objects.filter(pk=o.pk).update(submitted_at=o.submitted_at - timedelta(days=1))


def test_the_sandbox_summary_counts_its_own_orders(account, http):
    buy(account, http)
    buy(account, http)
    with adapter_for(account.credentials(), client=http) as adapter:
        today = adapter.summary()
    costs = list(SandboxOrder.objects.values_list("cost_sun", flat=True))
    assert (today.today_count, today.today_sum_trx) == (2, sum(costs))
    assert (today.yesterday_count, today.yesterday_sum_trx) == (0, 0)
    backdate_one_day()
    with adapter_for(account.credentials(), client=http) as adapter:
        moved = adapter.summary()
    assert (moved.yesterday_count, moved.yesterday_sum_trx, moved.today_count) == (2, sum(costs), 0)


def test_itrx_summary_agreeing_sends_nothing(account, http):
    buy(account, http)
    buy(account, http)
    backdate_one_day()
    line, alert = ledger_checks.check_itrx_summary(account, client=http)
    assert alert is None and "agrees (2 orders)" in line
    assert mail.outbox == []


def test_itrx_summary_mismatch_is_flagged_once(account, box, http):
    buy(account, http)
    # an order placed with the same key outside energydash
    SandboxOrder.objects.create(
        account=box, provider="itrx", ref="outside", receive_address=ADDRESS, cost_sun=3_000_000
    )
    backdate_one_day()
    line, alert = ledger_checks.check_itrx_summary(account, client=http)
    assert "mismatch reported" in line
    assert alert is not None and alert.kind == "summary_mismatch"
    assert "itrx counts 2 orders" in alert.problem and "energydash recorded 1" in alert.problem
    assert len(mail.outbox) == 1 and "itrx summary mismatch" in mail.outbox[0].subject
    line, again = ledger_checks.check_itrx_summary(account, client=http)
    assert again is None and "already reported" in line and len(mail.outbox) == 1
    assert Alert.objects.filter(kind="summary_mismatch").count() == 1


def test_itrx_summary_unavailable_is_reported_not_raised(account, box, http):
    box.error_rate = 1.0
    box.save()
    line, alert = ledger_checks.check_itrx_summary(account, client=http)
    assert alert is None and "summary not available" in line


def test_an_unreadable_summary_is_refused():
    def handler(request: httpx.Request) -> httpx.Response:
        body = b'{"name": "k", "today_count": 1, "today_sum_trx": NaN, "yesterday_count": -1}'
        return httpx.Response(200, content=body)

    from energydash.lib.crypto import Secret
    from energydash.providers.credentials import Credentials

    creds = Credentials(
        provider="itrx", api_key=Secret("k"), api_secret=Secret("s"), base_url="http://x"
    )
    with adapter_for(creds, client=httpx.Client(transport=httpx.MockTransport(handler))) as a:
        with pytest.raises(base.ProviderError, match="unreadable usage summary"):
            a.summary()
