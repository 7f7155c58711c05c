"""Only the project's own task functions ever run on the worker.

django-q2 runs whatever dotted path a Schedule's `func` names, with the arguments stored beside
it, so whoever may write a Schedule may run code on the worker host. Three locks:

1. The django-q2 admin is read-only below superuser (core/admin.py), and the admin role holds
   only django-q2's view permissions (core/roles.py).
2. A Schedule whose `func` is not in TASK_FUNCTIONS is refused when it is saved, through admin
   (a form error) or the ORM (ValidationError), by anyone, superusers included.
3. Queueing a task for any other function is refused (`pre_enqueue`). The scheduler queues
   through the same call, so a row written behind the ORM's back (raw SQL, an old database) is
   refused there too: django-q2 logs "Could not create task from schedule" and runs nothing.

The list names functions by their dotted path; a new task function is added here on purpose.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

TASK_FUNCTIONS: frozenset[str] = frozenset(
    {
        "energydash.api.tasks.deliver_due_webhooks",
        "energydash.api.tasks.deliver_webhook",
        "energydash.balances.ledger_checks.check_itrx_summaries",
        "energydash.balances.ledger_checks.check_ledger",
        "energydash.balances.tasks.check_balances",
        "energydash.balances.tasks.notify_alert",
        "energydash.balances.tasks.refresh_balances",
        "energydash.batches.tasks.resume_stalled_batches",
        "energydash.balances.tasks.renotify_alerts",
        "energydash.batches.tasks.run_batch",
        "energydash.orders.tasks.check_late_refunds",
        "energydash.orders.tasks.check_watch_rules",
        "energydash.orders.tasks.expire_approvals",
        "energydash.orders.tasks.poll_orders",
        "energydash.orders.tasks.refresh_price_board",
        "energydash.orders.tasks.reweigh_reviews",
        "energydash.orders.tasks.run_ready_check",
        "energydash.orders.tasks.verify_deliveries",
        "energydash.sandbox.tasks.deliver_due_callbacks",
        "energydash.sandbox.tasks.simulate_transfers",
    }
)


class UnknownTaskFunction(ValidationError):
    """A task or schedule names a function that is not one of the project's task functions."""


def dotted_path(func: Any) -> str:
    if isinstance(func, str):
        return func.strip()
    module = getattr(func, "__module__", None) or ""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", "")
    return f"{module}.{name}"


def check_task_function(func: Any) -> str:
    path = dotted_path(func)
    if path not in TASK_FUNCTIONS:
        raise UnknownTaskFunction(
            f"{path or 'An empty name'} is not one of energydash's task functions.",
            code="unknown_task_function",
        )
    return path


def refuse_unknown_schedule(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_save of django_q.Schedule."""
    check_task_function(instance.func)


def refuse_unknown_task(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
    """django_q's pre_enqueue: every async_task, the scheduler's included."""
    check_task_function(task.get("func"))


def connect() -> None:
    from django.db.models.signals import pre_save
    from django_q.models import Schedule
    from django_q.signals import pre_enqueue

    pre_save.connect(refuse_unknown_schedule, sender=Schedule, dispatch_uid="energydash.task_guard")
    pre_enqueue.connect(refuse_unknown_task, dispatch_uid="energydash.task_guard")
