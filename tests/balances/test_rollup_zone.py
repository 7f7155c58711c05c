"""The rollups remember the time zone they were built in; a different TIME_ZONE is refused."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

from django.core import checks
from django.core.management import call_command
from django.urls import reverse

from energydash.balances.checks import check_rollup_zone
from energydash.balances.models import RollupZone
from energydash.lib.zones import zone_label
from tests.balances.factories import order


def test_the_first_rollup_write_records_the_zone(settings, itrx_account):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert not RollupZone.objects.exists()
    order(itrx_account, cost_sun=42)
    assert RollupZone.objects.get().zone == "Asia/Shanghai"
    assert check_rollup_zone(databases=["default"]) == []


def test_a_time_zone_change_fails_the_check_until_the_rollups_are_rebuilt(settings, itrx_account):
    settings.TIME_ZONE = "UTC"
    order(itrx_account, cost_sun=42, created=datetime(2026, 3, 9, 20, 0, tzinfo=ZoneInfo("UTC")))
    settings.TIME_ZONE = "Asia/Shanghai"

    [error] = check_rollup_zone(databases=["default"])
    assert isinstance(error, checks.Error) and error.is_serious()
    assert "UTC" in error.msg and "Asia/Shanghai" in error.msg
    assert "manage.py rebuild_rollups" in error.hint
    # A later order in the new zone does not hide the old rows.
    order(itrx_account, cost_sun=7)
    assert check_rollup_zone(databases=["default"]) != []

    call_command("rebuild_rollups", stdout=StringIO())
    assert RollupZone.objects.get().zone == "Asia/Shanghai"
    assert check_rollup_zone(databases=["default"]) == []


def test_the_check_runs_with_the_database_checks(settings, itrx_account):
    settings.TIME_ZONE = "UTC"
    order(itrx_account, cost_sun=42)
    settings.TIME_ZONE = "Europe/Moscow"
    ids = {m.id for m in checks.run_checks(databases=["default"])}
    assert "energydash.E010" in ids


def test_zone_labels_carry_the_utc_offset_never_an_abbreviation():
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("UTC"))
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=ZoneInfo("UTC"))
    assert zone_label("Asia/Shanghai", winter) == "Asia/Shanghai, UTC+08:00"
    assert zone_label("Asia/Kolkata", winter) == "Asia/Kolkata, UTC+05:30"
    assert zone_label("America/Chicago", winter) == "America/Chicago, UTC-06:00"
    assert zone_label("America/Chicago", summer) == "America/Chicago, UTC-05:00"
    assert zone_label("UTC", winter) == "UTC"


def test_the_dashboard_and_daily_ledger_name_the_zone_with_its_offset(
    settings, viewer_client, itrx_account
):
    settings.TIME_ZONE = "Asia/Shanghai"
    dashboard = viewer_client.get("/").content.decode()
    assert "calendar days in Asia/Shanghai, UTC+08:00" in dashboard
    assert "CST" not in dashboard
    daily = viewer_client.get(reverse("balances:ledger_daily", args=[itrx_account.code]))
    assert "Calendar days in Asia/Shanghai, UTC+08:00" in daily.content.decode()


def test_console_timestamps_carry_the_offset_not_an_abbreviation(settings):
    from django.template import Context, Template
    from django.utils import timezone

    settings.TIME_ZONE = "Asia/Shanghai"
    moment = datetime(2026, 3, 9, 20, 0, tzinfo=ZoneInfo("UTC"))
    with timezone.override("Asia/Shanghai"):
        text = Template("{% load money %}{{ moment|ts }}").render(Context({"moment": moment}))
    assert text == "2026-03-10 04:00:00 UTC+08:00"
