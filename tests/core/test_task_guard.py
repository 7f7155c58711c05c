"""No path from the admin role to code execution through django-q2 (security issue, finding 1).

An admin (not a superuser) used to add a Schedule with func=os.system in Django admin, and the
worker ran it. Now: the django-q2 admin is read-only below superuser, the admin group holds only
the view permissions of django_q, and a schedule or task whose function is not one of the
project's own task functions is refused when it is saved and again when it is queued.
"""

from __future__ import annotations

import pydoc

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django_q.models import Schedule
from django_q.tasks import async_task

from energydash.core.task_guard import TASK_FUNCTIONS, UnknownTaskFunction
from tests.signin import sign_in

ADD_URL = "/admin/django_q/schedule/add/"


def _schedule_form(func: str, name: str = "evil") -> dict[str, str]:
    return {
        "name": name,
        "func": func,
        "hook": "",
        "args": "'touch /tmp/pwned'",
        "kwargs": "",
        "schedule_type": Schedule.ONCE,
        "minutes": "",
        "repeats": "-1",
        "cron": "",
        "cluster": "",
        "intended_date_kwarg": "",
        "next_run_0": "2026-01-01",
        "next_run_1": "00:00:00",
    }


def test_the_admin_role_cannot_add_a_schedule_with_an_arbitrary_function(admin_client_):
    response = admin_client_.post(ADD_URL, _schedule_form("os.system"))
    assert response.status_code == 403
    assert not Schedule.objects.filter(func="os.system").exists()
    # The changelist stays readable, so an admin can still see what runs.
    assert admin_client_.get("/admin/django_q/schedule/").status_code == 200


def test_the_admin_role_cannot_edit_an_existing_schedule(admin_client_):
    schedule = Schedule.objects.create(
        name="poll", func="energydash.orders.tasks.poll_orders", schedule_type=Schedule.MINUTES
    )
    url = f"/admin/django_q/schedule/{schedule.pk}/change/"
    response = admin_client_.post(url, _schedule_form("os.system", name="poll"))
    assert response.status_code == 403
    schedule.refresh_from_db()
    assert schedule.func == "energydash.orders.tasks.poll_orders"
    assert (
        admin_client_.post(
            f"/admin/django_q/schedule/{schedule.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert Schedule.objects.filter(pk=schedule.pk).exists()


def test_the_admin_role_holds_only_view_permissions_on_django_q(admin_user):
    admin_group = Group.objects.get(name="admin")
    codenames = set(
        admin_group.permissions.filter(content_type__app_label="django_q").values_list(
            "codename", flat=True
        )
    )
    assert codenames
    assert {c for c in codenames if not c.startswith("view_")} == set()


def test_even_a_hand_granted_permission_does_not_open_the_schedule_admin(client, admin_user):
    admin_user.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_q"))
    sign_in(client, admin_user)
    response = client.post(ADD_URL, _schedule_form("os.system"))
    assert response.status_code == 403
    assert not Schedule.objects.filter(func="os.system").exists()


def test_a_superuser_cannot_save_a_schedule_with_a_function_outside_the_allowlist(
    client, django_user_model
):
    root = django_user_model.objects.create_superuser("root", password="pw-root")
    sign_in(client, root)
    response = client.post(ADD_URL, _schedule_form("os.system"))
    assert response.status_code == 200  # the form again, with the error
    assert "not one of energydash&#x27;s task functions" in response.content.decode()
    assert not Schedule.objects.filter(name="evil").exists()
    ok = client.post(ADD_URL, _schedule_form("energydash.orders.tasks.poll_orders", name="p"))
    assert ok.status_code == 302
    assert Schedule.objects.get(name="p").func == "energydash.orders.tasks.poll_orders"


@pytest.mark.parametrize(
    "func",
    ["os.system", "subprocess.run", "builtins.eval", "energydash.orders.tasks", "", "  "],
)
def test_a_schedule_saved_through_the_orm_with_another_function_is_refused(db, func):
    with pytest.raises(ValidationError):
        Schedule.objects.create(name="x", func=func, schedule_type=Schedule.ONCE)
    assert not Schedule.objects.filter(name="x").exists()
    schedule = Schedule.objects.create(
        name="ok", func="energydash.orders.tasks.poll_orders", schedule_type=Schedule.ONCE
    )
    schedule.func = "os.system"
    with pytest.raises(ValidationError):
        schedule.save()
    assert Schedule.objects.get(name="ok").func == "energydash.orders.tasks.poll_orders"


def test_queueing_a_function_outside_the_allowlist_is_refused(db):
    """The scheduler queues through async_task too: a row written behind the ORM's back
    (raw SQL, an old database) is refused there, and the scheduler logs and skips it."""
    with pytest.raises(UnknownTaskFunction):
        async_task("os.system", "touch /tmp/pwned")
    import os

    with pytest.raises(UnknownTaskFunction):
        async_task(os.system, "touch /tmp/pwned")


def test_every_allowlisted_function_is_a_function_of_the_project():
    for path in TASK_FUNCTIONS:
        assert path.startswith("energydash."), path
        assert callable(pydoc.locate(path)), path


def test_every_schedule_the_project_creates_is_allowlisted(db):
    from energydash.api.schedules import ensure_schedules as api_schedules
    from energydash.balances.ledger_checks import ensure_ledger_schedules
    from energydash.balances.schedules import ensure_schedules as balance_schedules
    from energydash.orders.schedules import ensure_schedules as order_schedules
    from energydash.sandbox.schedules import ensure_schedules as sandbox_schedules

    for ensure in (
        order_schedules,
        balance_schedules,
        api_schedules,
        sandbox_schedules,
        ensure_ledger_schedules,
    ):
        ensure()
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert len(funcs) >= 5
    assert funcs <= TASK_FUNCTIONS
