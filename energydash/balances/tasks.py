"""django-q2 tasks: plain functions, safe to run twice, returning a short summary."""

from __future__ import annotations

import logging

from django_q.tasks import async_task

from energydash.balances import alerts, passes

logger = logging.getLogger("energydash.balances")
CHECK_TASK = "energydash.balances.tasks.check_balances"


def queue_alert_pass(reason: str) -> None:
    """Queue one alert pass; a broker hiccup is logged, never allowed to undo a refresh."""
    try:
        async_task(CHECK_TASK, task_name=f"balances: check after {reason}")
    except Exception:
        logger.exception("could not queue the alert pass after %s", reason)


def refresh_balances() -> str:
    """Refresh every enabled account's balance, then queue one alert pass."""
    results = passes.refresh_all()
    queue_alert_pass("refresh")
    return passes.summarise_refresh(results)


def refresh_account(account_id: int) -> str:
    result = passes.refresh_one(account_id)
    return passes.summarise_refresh([result] if result else [])


def check_balances() -> str:
    sent = alerts.check_all()
    return f"{len(sent)} alert(s) sent" if sent else "no alerts"


def notify_alert(alert_id: int) -> str:
    """Send a new alert to its channels (queued when the alert is recorded)."""
    from energydash.balances import channels

    results = channels.notify(alert_id)
    if results is None:
        return f"alert {alert_id}: already notified"
    return f"alert {alert_id}: " + (
        ", ".join(f"{k}: {v}" for k, v in results.items()) or "no channel"
    )


def renotify_alerts() -> str:
    """Send again every alert nobody acknowledged within ENERGYDASH_ALERT_RENOTIFY_MINUTES."""
    from energydash.balances import channels

    return f"{channels.renotify_due()} alert(s) sent again"
