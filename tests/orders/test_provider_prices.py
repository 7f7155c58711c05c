"""The providers page: prices of the common sizes through the quote path, read by a scheduled
task and stored (opening the page asks no provider), limits, budget left today, runway, an
edit link for admins, and the price history with its CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from energydash.balances.models import AccountBalanceState
from energydash.orders import prices, quotes, tasks
from energydash.orders.models import PriceBoardEntry, PriceSample, Status
from energydash.orders.spec import OrderSpec
from energydash.providers import registry
from tests.orders.conftest import address
from tests.orders.test_views import order_for

BOARD = reverse("provider_prices")

pytestmark = pytest.mark.django_db(transaction=True)  # quotes run in worker threads


@pytest.fixture
def calls(monkeypatch, http):
    """Every adapter the board and the quotes build, through the in-process sandbox, counted."""
    made: list[str] = []

    def through_sandbox(credentials, client=None, **kw):
        made.append(credentials.provider)
        return registry.adapter_for(credentials, http, **kw)

    monkeypatch.setattr(prices, "adapter_for", through_sandbox)
    monkeypatch.setattr(quotes, "adapter_for", through_sandbox)
    return made


def _board(client):
    response = client.get(BOARD, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response, {row.account.pk: row for row in response.context["rows"]}


def _read(client):
    """The scheduled task reads the prices, then the page shows them."""
    assert tasks.refresh_price_board().endswith("prices read")
    return _board(client)


def test_the_board_prices_the_common_sizes_where_offered(viewer_client, itrx, tronzap, calls):
    response, rows = _read(viewer_client)
    cells = {(c.energy, c.period): c for c in rows[itrx.account.pk].cells}
    assert set(cells) == {(65_000, "1H"), (65_000, "1D"), (131_000, "1H"), (131_000, "1D")}
    assert all(c.offered and c.total_sun and not c.problem for c in cells.values())
    assert cells[(131_000, "1D")].total_sun > cells[(131_000, "1H")].total_sun > 0
    zap = {(c.energy, c.period): c for c in rows[tronzap.account.pk].cells}
    assert not zap[(65_000, "1D")].offered and zap[(65_000, "1H")].total_sun
    assert "not offered" in response.content.decode()
    assert rows[tronzap.account.pk].min_energy is not None
    # The same figure the new-order page's quote path gives for that size.
    [row] = quotes.compare(
        [OrderSpec(itrx.account, "energy", address("board"), energy=131_000, period="1H")]
    )
    assert row.total_sun == cells[(131_000, "1H")].total_sun


def test_the_page_asks_no_provider_and_says_how_old_the_prices_are(
    viewer_client, itrx, tronzap, calls
):
    response, rows = _board(viewer_client)
    assert calls == []  # a web request never asks a provider
    assert all(c.total_sun is None for r in rows.values() for c in r.cells)
    assert "No prices read yet" in response.content.decode()
    tasks.refresh_price_board()
    assert len(calls) == 4 + 2  # itrx: two sizes x two periods; TronZap: two sizes x 1 hour
    response, _ = _board(viewer_client)
    _board(viewer_client)
    assert len(calls) == 4 + 2
    assert "Read 0" in response.content.decode() and response.context["oldest"] is not None
    # Each read replaces the stored answer: one row per account, size and period.
    tasks.refresh_price_board()
    assert PriceBoardEntry.objects.count() == 6


def test_the_task_is_scheduled_and_allowed(db):
    from django_q.models import Schedule

    from energydash.core.task_guard import TASK_FUNCTIONS
    from energydash.orders.schedules import PRICE_BOARD, ensure_schedules

    ensure_schedules()
    schedule = Schedule.objects.get(name=PRICE_BOARD)
    assert schedule.func == "energydash.orders.tasks.refresh_price_board" in TASK_FUNCTIONS
    assert schedule.minutes == prices.board_minutes()


def test_a_price_read_before_the_account_changed_is_marked(viewer_client, itrx, calls):
    tasks.refresh_price_board()
    itrx.account.priority = 3
    itrx.account.save()  # `updated` moves on
    _, rows = _board(viewer_client)
    assert all(c.stale for c in rows[itrx.account.pk].cells)
    tasks.refresh_price_board()
    _, rows = _board(viewer_client)
    assert not any(c.stale for c in rows[itrx.account.pk].cells)


def test_a_refused_account_says_why_in_plain_words_and_a_disabled_one_is_not_asked(
    viewer_client, itrx, tronzap, calls
):
    itrx.account.api_key = "0" * 32
    itrx.account.save()
    tronzap.account.enabled = False
    tronzap.account.save()
    response, rows = _read(viewer_client)
    html = response.content.decode()
    assert all(c.total_sun is None for c in rows[itrx.account.pk].cells)
    assert "refused this account&#x27;s credentials" in html
    assert "0" * 32 not in html
    assert calls.count("tronzap") == 0
    assert "Account disabled." in html
    # Stored in English, shown in the reader's language.
    entry = PriceBoardEntry.objects.filter(account=itrx.account).first()
    assert "refused this account's credentials" in entry.problem
    ru = viewer_client.get(BOARD, headers={"HX-Request": "true"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert "refused this account" not in ru.content.decode()


def test_board_and_quotes_record_history_at_most_once_per_window(viewer_client, itrx, calls):
    tasks.refresh_price_board()
    assert PriceSample.objects.filter(account=itrx.account).count() == 4
    spec = OrderSpec(itrx.account, "energy", address("h"), energy=131_000, period="1H")
    quotes.compare([spec])  # within the window: not recorded again
    assert PriceSample.objects.filter(account=itrx.account).count() == 4
    other = OrderSpec(itrx.account, "energy", address("h"), energy=100_000, period="1H")
    quotes.compare([other])
    sample = PriceSample.objects.get(account=itrx.account, energy=100_000)
    assert sample.total_sun > 0 and sample.period == "1H"


def test_history_page_and_csv_are_exact(viewer_client, itrx):
    PriceSample.objects.create(
        account=itrx.account, energy=65_000, period="1H", total_sun=3_250_001
    )
    page = viewer_client.get(reverse("provider_price_history", args=[itrx.account.code]))
    assert page.status_code == 200 and "3.250001" in page.content.decode()
    export = viewer_client.get(reverse("provider_price_history_csv", args=[itrx.account.code]))
    [row] = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert row["price_sun"] == "3250001" and row["price_trx"] == "3.250001"
    assert row["energy"] == "65000" and row["provider"] == "itrx"


def test_limits_budget_left_and_runway(viewer_client, itrx):
    account = itrx.account
    account.max_order_sun, account.daily_budget_sun, account.priority = 5_000_000, 50_000_000, 7
    account.save()
    order_for(itrx, status=Status.COMPLETED, cost_sun=4_000_000, quoted_cost_sun=4_000_000)
    AccountBalanceState.objects.create(
        account=account, balance_sun=300_000_000, as_of=timezone.now(), source="refresh"
    )
    response = viewer_client.get(reverse("providers"))
    [standing] = response.context["standings"]
    assert standing.spent_today_sun == 4_000_000 and standing.budget_left_sun == 46_000_000
    html = response.content.decode()
    assert "46.00 TRX" in html and "5.00 TRX" in html and "50.00 TRX" in html
    assert reverse("balances:statement", args=[account.code]) in html
    assert reverse("provider_price_history", args=[account.code]) in html
    edit = reverse("admin:providers_provideraccount_change", args=[account.pk])
    assert edit not in html  # a viewer gets no edit link
    assert hx_board_link(html)


def hx_board_link(html: str) -> bool:
    return f'hx-get="{BOARD}"' in html


def test_admins_get_the_edit_link(admin_client, itrx):
    html = admin_client.get(reverse("providers")).content.decode()
    assert reverse("admin:providers_provideraccount_change", args=[itrx.account.pk]) in html


def test_the_board_works_without_javascript_as_a_page(viewer_client, itrx, calls):
    response = viewer_client.get(BOARD)
    assert response.status_code == 200
    assert b"<h1>Prices now</h1>" in response.content
