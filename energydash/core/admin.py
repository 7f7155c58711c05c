from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success

from energydash.core import second_factor
from energydash.core.admin_base import CappedCountPaginator, GrowingTable, PrefixFilter
from energydash.core.models import AuditEvent
from energydash.core.roles import ROLES
from energydash.core.second_factor import SudoAdminMixin, sudo_refusal
from energydash.core.task_guard import check_task_function


class ActionArea(PrefixFilter):
    """Audit actions by area: fixed prefixes, no DISTINCT over the audit table."""

    title = "action"
    parameter_name = "area"
    field = "action"
    prefixes = (
        ("order.", "orders"),
        ("provider_account.", "provider accounts"),
        ("api_token.", "API tokens"),
        ("user.", "users and roles"),
        ("field_keys.", "credential keys"),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(GrowingTable):
    """A row per order and per operator action: a table that grows with orders (GrowingTable)."""

    list_display = ("created", "who", "action", "object_repr")
    list_filter = (ActionArea,)
    list_select_related = ("actor",)
    search_fields = ("action", "object_repr", "object_code", "actor__username", "actor_label")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Users and roles: the admin role manages both from Django admin without being a superuser.
# Guard rails so that role cannot make itself (or anyone) more than an admin: only superusers
# see or set is_superuser and direct user permissions, touch superuser accounts, or edit groups;
# everyone else assigns the three role groups only.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class ConsoleUserAdmin(SudoAdminMixin, UserAdmin):
    """Adding a user, changing one (roles included) and deleting one need sudo mode."""

    list_display = (
        "username",
        "email",
        "roles",
        "two_factor",
        "is_staff",
        "is_active",
        "last_login",
    )
    list_filter = ("groups", "is_staff", "is_active")
    actions = ["reset_second_factor"]

    @admin.display(description="roles")
    def roles(self, obj: Any) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all())) or "none"

    @admin.display(description="second factor", boolean=True)
    def two_factor(self, obj: Any) -> bool:
        return bool(getattr(obj, "has_second_factor", False))

    def get_queryset(self, request: HttpRequest) -> Any:
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return (
            super()
            .get_queryset(request)
            .prefetch_related("groups")
            .annotate(has_second_factor=Exists(enrolled))
        )

    def user_change_password(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if refused := sudo_refusal(request):
            return refused
        return super().user_change_password(request, *args, **kwargs)

    @admin.action(description="Reset second factor (lost device)", permissions=["change"])
    def reset_second_factor(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        """A user who lost their authenticator enrols again at their next login. Audited per
        user (core.AuditEvent "user.second_factor_reset"); never a superuser's, unless by one."""
        if refused := sudo_refusal(request):
            return refused
        done, skipped = [], []
        for user in queryset:
            if self._touches_superuser(request, user):
                skipped.append(user.get_username())
                continue
            second_factor.reset(user, actor=request.user)
            done.append(user.get_username())
        if done:
            self.message_user(
                request,
                f"Second factor reset for {', '.join(done)}: they enrol again at their next "
                "login (their recovery codes no longer work).",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                f"Not reset (only a superuser may): {', '.join(skipped)}.",
                messages.ERROR,
            )
        return None

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        hidden = {"is_superuser", "user_permissions"}
        return tuple(
            (name, {**opts, "fields": tuple(f for f in opts["fields"] if f not in hidden)})
            for name, opts in fieldsets
        )

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLES).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _touches_superuser(self, request: HttpRequest, obj: Any) -> bool:
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self._touches_superuser(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self._touches_superuser(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not request.user.is_superuser:
            if obj.is_superuser:
                raise PermissionDenied("Only a superuser can make a superuser.")
            if change and obj.pk and User.objects.filter(pk=obj.pk, is_superuser=True).exists():
                raise PermissionDenied("Only a superuser can change a superuser.")
        super().save_model(request, obj, form, change)
        AuditEvent.record(
            "user.changed" if change else "user.created",
            obj,
            actor=request.user,
            details={"fields": sorted(form.changed_data)} if form is not None else {},
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        roles = sorted(form.instance.groups.values_list("name", flat=True))
        if "groups" in form.changed_data:
            AuditEvent.record(
                "user.roles_changed", form.instance, actor=request.user, details={"roles": roles}
            )


@admin.register(Group)
class ConsoleGroupAdmin(SudoAdminMixin, GroupAdmin):
    """Groups are the roles; their permissions are set by migrations, so only superusers edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


# django-q2's admin: whoever may write a Schedule may run code on the worker host (a Schedule
# names a function and its arguments). Below superuser it is read-only: no add, change, delete
# or resubmit action, whatever permissions a user holds; the admin role holds only the view
# permissions (core/roles.py). Every schedule's function is checked against the task allowlist
# (core/task_guard.py) on save, superusers included; the form shows that as a field error.
class _SuperuserWritesOnly:
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_actions(
        self, request: HttpRequest, action_location: Any = ActionLocation.CHANGE_LIST
    ) -> Any:
        if not request.user.is_superuser:
            return {}
        return super().get_actions(request, action_location=action_location)


class _ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = (
            *("name", "func", "hook", "args", "kwargs", "schedule_type", "minutes"),
            *("repeats", "next_run", "cron", "cluster", "intended_date_kwarg"),
        )

    def clean_func(self) -> str:
        try:
            return check_task_function(self.cleaned_data.get("func") or "")
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


class _TaskList:
    """django-q2's task lists without their DISTINCT filters (group, cluster) and with capped
    counts (core.admin_base.GrowingTable): task rows come and go with orders."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_filter = ()


class _ScheduleAdmin(_SuperuserWritesOnly, q_admin.ScheduleAdmin):
    form = _ScheduleForm


for _model, _admin in (
    (Schedule, _ScheduleAdmin),
    (Success, type("TaskAdmin", (_SuperuserWritesOnly, _TaskList, q_admin.TaskAdmin), {})),
    (Failure, type("FailAdmin", (_SuperuserWritesOnly, _TaskList, q_admin.FailAdmin), {})),
    (OrmQ, type("QueueAdmin", (_SuperuserWritesOnly, _TaskList, q_admin.QueueAdmin), {})),
):
    if admin.site.is_registered(_model):  # OrmQ only with the ORM broker
        admin.site.unregister(_model)
        admin.site.register(_model, _admin)
