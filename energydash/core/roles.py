"""The three console roles, as Django groups.

viewer   sees every page, changes nothing;
operator also places and reviews orders;
admin    also manages provider accounts, users and their roles in Django admin (members need
         staff status; `create_user --role admin` sets it).
Superusers count as admin. The groups are created by migration core 0002; their model
permissions are (re)assigned after every migrate, once all permissions exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.db.models.signals import post_migrate
from django.dispatch import receiver

VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
ROLES = (VIEWER, OPERATOR, ADMIN)
RANK = {VIEWER: 1, OPERATOR: 2, ADMIN: 3}

# Django-admin permissions the admin group holds: the vault, the read-only audit trail, users
# and groups (guarded in core/admin.py: no superuser, no direct permissions, no group edits)
# and django-axes's access attempts (deleting one unlocks a locked-out login). Of django-q2 it
# holds only the view permissions: a Schedule names a function the worker runs, so writing one is
# running code (core/task_guard.py); post_migrate takes back any other django_q permission.
ADMIN_APP_LABELS = (
    *("providers", "core", "sandbox", "auth", "axes"),
    *("api", "batches"),
)
# Single models of other apps, as (app label, model): the routes moved from api to orders and
# stay in the admin role's hands; the rest of orders stays out of it.
ADMIN_MODELS = (
    ("orders", "route"),
    ("orders", "routeattempt"),
    ("balances", "alertchannel"),  # alert channels (balances/channels.py)
)
ADMIN_VIEW_ONLY_APP_LABELS = ("django_q",)
# Orders are only viewed in the admin (support work: the read-only orders changelist); the
# console and the API are where they change.
ADMIN_VIEW_ONLY_MODELS = (("orders", "order"),)


def role_of(user: Any) -> str | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_energydash_role", "unset")
    if cached != "unset":
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((r for r in (ADMIN, OPERATOR, VIEWER) if r in names), None)
    user._energydash_role = role
    return role


def has_role(user: Any, minimum: str) -> bool:
    role = role_of(user)
    return role is not None and RANK[role] >= RANK[minimum]


def can_operate(user: Any) -> bool:
    return has_role(user, OPERATOR)


@receiver(post_migrate)
def assign_role_permissions(sender: Any, **kwargs: Any) -> None:
    # Runs after each app's migrations; permissions of apps migrated later are added on their turn.
    # Create this app's permissions first: receivers run in no guaranteed order, and the last
    # app (axes) would otherwise have none yet when its turn comes.
    create_permissions(sender, verbosity=0, using=kwargs.get("using", "default"))
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    for name in (VIEWER, OPERATOR):
        Group.objects.get_or_create(name=name)
    single = Q()
    for app_label, model in ADMIN_MODELS:
        single |= Q(content_type__app_label=app_label, content_type__model=model)
    perms = Permission.objects.filter(Q(content_type__app_label__in=ADMIN_APP_LABELS) | single)
    admin.permissions.add(*perms)
    view_only = Permission.objects.filter(content_type__app_label__in=ADMIN_VIEW_ONLY_APP_LABELS)
    admin.permissions.add(*view_only.filter(codename__startswith="view_"))
    admin.permissions.remove(*view_only.exclude(codename__startswith="view_"))
    for app_label, model in ADMIN_VIEW_ONLY_MODELS:
        admin.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename=f"view_{model}")
        )
