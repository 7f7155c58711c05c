"""Watch rules in the console: an operator creates one with pasted addresses and edits it; a
viewer reads the list and the rule's history and money spent today but cannot change it."""

from __future__ import annotations

from django.urls import reverse

from energydash.orders.models import WatchAddress, WatchEvent, WatchRule
from tests.api.conftest import address, box

ONE = address("watch-console-one")
TWO = address("watch-console-two")


def fields(**changes):
    return {
        "name": "hot wallets",
        "kind": "threshold",
        "energy": "70000",
        "hour_from": "",
        "hour_to": "",
        "renew_minutes": "",
        "max_price_sun": "60",
        "daily_budget_sun": "50000000",
        "period": "1H",
        "interval_seconds": "300",
        "enabled": "on",
        "addresses": f"address\n{ONE}\n{TWO},{ONE}\n",
        **changes,
    }


def test_an_operator_creates_and_edits_a_rule_with_pasted_addresses(operator_client):
    tz = box("tronzap", "tz", price="50")
    sent = operator_client.post(reverse("watch:new"), fields(accounts=[tz.account.pk]))
    rule = WatchRule.objects.get()
    assert sent.status_code == 302 and sent.url == reverse("watch:detail", args=[rule.pk])
    assert list(rule.addresses.order_by("pk").values_list("address", flat=True)) == [ONE, TWO]
    assert list(rule.accounts.all()) == [tz.account]
    edit = operator_client.get(reverse("watch:edit", args=[rule.pk])).content.decode()
    assert ONE in edit and 'value="70000"' in edit
    operator_client.post(
        reverse("watch:edit", args=[rule.pk]),
        fields(kind="renew", renew_minutes="15", addresses=TWO),
    )
    rule.refresh_from_db()
    assert rule.kind == "renew" and rule.renew_minutes == 15
    assert list(rule.addresses.values_list("address", flat=True)) == [TWO]
    assert rule.enabled


def test_bad_input_is_shown_and_changes_nothing(operator_client):
    for bad, words in (
        ({"addresses": f"{ONE}\nT123"}, "not a valid TRON address"),
        ({"energy": "lots"}, "energy: a whole number"),
        ({"hour_from": "25", "hour_to": "3"}, "hour_from: between 0 and 23"),
    ):
        page = operator_client.post(reverse("watch:new"), fields(**bad))
        assert page.status_code == 422 and words in page.content.decode()
    assert not WatchRule.objects.exists() and not WatchAddress.objects.exists()


def test_a_viewer_reads_history_and_spend_but_cannot_change(viewer_client):
    rule = WatchRule.objects.create(
        name="night", energy=65_000, max_price_sun=60, daily_budget_sun=9_000_000
    )
    WatchAddress.objects.create(rule=rule, address=ONE)
    WatchEvent.objects.create(
        rule=rule, address=ONE, kind="skip", reason="skipped: price above cap: the cheapest is"
    )
    listing = viewer_client.get(reverse("watch:list")).content.decode()
    assert "night" in listing and "Keep at least 65,000 energy" in listing
    assert "New rule" not in listing
    page = viewer_client.get(reverse("watch:detail", args=[rule.pk])).content.decode()
    assert "skipped: price above cap" in page and "0.000000 TRX of 9.000000 TRX" in page
    assert "Edit" not in page
    assert viewer_client.get(reverse("watch:new")).status_code == 403
    assert viewer_client.post(reverse("watch:delete", args=[rule.pk])).status_code == 403
    assert WatchRule.objects.exists()


def test_an_operator_deletes_a_rule(operator_client):
    rule = WatchRule.objects.create(
        name="old", energy=65_000, max_price_sun=60, daily_budget_sun=9_000_000
    )
    gone = operator_client.post(reverse("watch:delete", args=[rule.pk]))
    assert gone.status_code == 302 and not WatchRule.objects.exists()
