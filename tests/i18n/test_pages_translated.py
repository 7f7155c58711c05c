"""The pages added after the first translation round speak the operator's language: the audit
trail, the monthly statement, top-up help, price history, Ready to send, watch rules and the
bulk review results show no English sentence in zh-hans or ru (their data, codes and the
provider's own words aside)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from energydash.orders.models import ReadyCheck, Status, WatchRule
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

LANGUAGES = ("zh-hans", "ru")


def english_left(html: str, phrases: list[str]) -> list[str]:
    return [p for p in phrases if p in html]


def page(client, url: str, lang: str, **kwargs) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang, **kwargs)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_audit_trail(admin_client_, lang):
    html = page(admin_client_, reverse("audit") + "?since=yesterday", lang)
    assert (
        english_left(
            html,
            [
                "Audit trail",
                "Who did what",
                "No audit events match",
                ">Who<",
                ">anyone<",
                "An action matches from its start",
                "must be a date like",
            ],
        )
        == []
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_monthly_statement(viewer_client, itrx_account, lang):
    url = reverse("balances:statement", args=[itrx_account.code]) + "?month=20x"
    html = page(viewer_client, url, lang)
    assert (
        english_left(
            html,
            [
                "Calendar month in",
                "Opening balance",
                "Closing balance",
                "No top-ups this month",
                "Download CSV",
                "Orders charged",
                "The month must look like",
                ">Print<",
            ],
        )
        == []
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_top_up_help_and_price_history(viewer_client, itrx_account, lang):
    html = page(viewer_client, reverse("provider_topup", args=[itrx_account.code]), lang)
    assert (
        english_left(
            html, ["does not name a deposit address", "Top-ups seen in the last", "None seen"]
        )
        == []
    )
    html = page(viewer_client, reverse("provider_price_history", args=[itrx_account.code]), lang)
    assert (
        english_left(
            html, ["Price history", "No prices recorded yet", "Download CSV", "quoted for energy"]
        )
        == []
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ready_to_send(operator_client, operator, lang):
    html = page(operator_client, reverse("ready:new"), lang)
    assert (
        english_left(html, ["Make a sender address able", "Sender address", "Make ready to send"])
        == []
    )
    check = ReadyCheck.objects.create(
        key="k-i18n", body_hash="x", via="console", address="T" + "1" * 33, actor=operator
    )
    html = page(operator_client, reverse("ready:detail", args=[check.pk]), lang)
    assert (
        english_left(
            html,
            ["waiting for a worker", ">Recipient<", "Energy estimate", "not read yet", "Asked by"],
        )
        == []
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_watch_rules(operator_client, lang):
    rule = WatchRule.objects.create(
        name="hot wallets", energy=70_000, max_price_sun=60, daily_budget_sun=50_000_000
    )
    html = page(operator_client, reverse("watch:list"), lang)
    assert (
        english_left(
            html, ["Each rule keeps", "Keep at least", "sun per energy", "New rule", ">Rule<"]
        )
        == []
    )
    html = page(operator_client, reverse("watch:detail", args=[rule.pk]), lang)
    assert (
        english_left(
            html, ["Spent today", "Nothing checked yet", "any enabled account", "check every"]
        )
        == []
    )
    html = page(operator_client, reverse("watch:new"), lang)
    assert english_left(html, ["New watch rule", "Rental period", "Check every"]) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bulk_review_results(operator_client, itrx_account, lang):
    waiting, done = order(itrx_account, status=Status.NEEDS_REVIEW), order(itrx_account)
    response = operator_client.post(
        reverse("orders:bulk"),
        {"action": "not_placed", "order": [str(waiting.code), str(done.code)]},
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        english_left(
            html,
            ["Marked not placed", "Each order was decided", "Not waiting for review", "All orders"],
        )
        == []
    )
