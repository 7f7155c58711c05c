"""django-q2 tasks: plain functions, safe to run twice, returning a short summary."""

from __future__ import annotations

from django_q.tasks import async_task

from energydash.balances import alerts, passes

CHECK_TASK = "energydash.balances.tasks.check_balances"


def refresh_balances() -> str:
    """Refresh every enabled account's balance, then queue one alert pass."""
    results = passes.refresh_all()
    async_task(CHECK_TASK, task_name="balances: check after refresh")
    return passes.summarise_refresh(results)


def refresh_account(account_id: int) -> str:
    result = passes.refresh_one(account_id)
    return passes.summarise_refresh([result] if result else [])


def check_balances() -> str:
    sent = alerts.check_all()
    return f"{len(sent)} alert(s) sent" if sent else "no alerts"
