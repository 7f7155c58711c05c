from __future__ import annotations

from django_q.models import OrmQ, Schedule

from energydash.balances import schedules, tasks
from energydash.balances.services import state_for
from energydash.lib.tron import SUN_PER_TRX


def test_ensure_schedules_is_idempotent_and_follows_the_setting(db, settings):
    settings.ENERGYDASH_BALANCE_REFRESH_MINUTES = 7
    names = schedules.ensure_schedules()
    assert names[0] == schedules.REFRESH_BALANCES  # the ledger's schedules follow (test_ledger)
    schedules.ensure_schedules()
    schedule = Schedule.objects.get(name=schedules.REFRESH_BALANCES)
    assert schedule.minutes == 7
    assert schedule.func == "energydash.balances.tasks.refresh_balances"
    assert Schedule.objects.filter(name=schedules.REFRESH_BALANCES).count() == 1


def test_the_refresh_task_refreshes_enabled_accounts_and_queues_an_alert_pass(
    itrx_account, tronzap_account, monkeypatch
):
    tronzap_account.enabled = False
    tronzap_account.save()
    seen = []

    def fake_refresh(account, *, source="refresh", client=None):
        seen.append(account.name)
        from energydash.balances.services import record_balance

        return record_balance(account, 5 * SUN_PER_TRX, source=source)

    monkeypatch.setattr("energydash.balances.passes.refresh_account", fake_refresh)
    assert tasks.refresh_balances() == "1 refreshed, 0 failed"
    assert seen == ["itrx main"]
    assert state_for(itrx_account).balance_sun == 5 * SUN_PER_TRX
    assert OrmQ.objects.count() == 1  # the check_balances task, run by the worker


def test_the_check_task_reports_how_many_alerts_it_sent(itrx_account):
    from energydash.balances.services import record_balance

    itrx_account.alert_emails = "ops@example.com"
    itrx_account.save()
    record_balance(itrx_account, 1, source="refresh")
    assert tasks.check_balances() == "1 alert(s) sent"
    assert tasks.check_balances() == "no alerts"
