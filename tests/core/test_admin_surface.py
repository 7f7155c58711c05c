"""What the admin role (staff, not superuser) may write in Django admin, model by model (security
issue: "audit every admin model the admin role can change for the same class of hole").

The list below is the audited one: each entry was checked for a way from a form or an action to
code execution, an outbound request to an address of the operator's choosing, or a rise above
the role (the reasons are in the comments). A model that becomes writable, or an action that
appears, fails this test until it is audited and added here.
"""

from __future__ import annotations

from django.contrib import admin
from django.test import RequestFactory

# model: (what the admin role may do, its change-list actions). Why each is safe:
AUDITED = {
    # Name, role (viewer/operator only), scopes, expiry, networks, daily cap, webhook URL
    # (public addresses only, on save and at connection time); the secret is only hashed.
    # Sudo mode gates adding and changing. Revoked, never deleted.
    "api.apitoken": (
        {"add", "change"},
        {"revoke", "rotate_webhook_secret", "reenable_webhook", "send_test_event"},
    ),
    # Read-only; Resend re-sends the stored body to the stored URL through the guarded client.
    "api.webhookdelivery": (set(), {"resend"}),
    # Users: no superuser flag, no direct permissions, one of the three groups; sudo mode;
    # only a superuser resets a superuser's second factor. Audited.
    "auth.user": ({"add", "change", "delete"}, {"reset_second_factor", "delete_selected"}),
    # django-axes records: names and addresses only, every field read-only in axes's admin
    # ("change" opens a page with nothing to save); deleting an attempt unlocks a login.
    "axes.accessattempt": (
        {"change", "delete"},
        {"delete_selected", "cleanup_expired_attempts"},
    ),
    "axes.accessfailurelog": ({"change", "delete"}, {"delete_selected"}),
    "axes.accesslog": ({"change", "delete"}, {"delete_selected"}),
    # Chat/webhook channels: the URL is checked on save, and Apprise's sockets are vetted at
    # connection time (outbound.guarded_sockets); the secret is encrypted and never shown.
    "balances.alertchannel": ({"add", "change", "delete"}, {"delete_selected"}),
    # Provider accounts: base URL public (or the sandbox on loopback while it is on) on save and
    # at connection time (guarded pools); credentials encrypted and masked; sudo mode.
    "providers.provideraccount": ({"add", "change", "delete"}, {"delete_selected"}),
    # The simulated providers and chain: data only, served only with ENERGYDASH_SANDBOX on.
    # A callback's URL is checked at send time: only this console's own /callbacks/.
    "sandbox.chainaccount": ({"add", "change", "delete"}, {"delete_selected"}),
    # Simulated transfers and the addresses that send them: numbers and addresses, no URL.
    "sandbox.chainconsumer": ({"add", "change", "delete"}, {"delete_selected"}),
    "sandbox.chaintransfer": ({"add", "change", "delete"}, {"delete_selected"}),
    "sandbox.chaindelegation": ({"add", "change", "delete"}, {"delete_selected"}),
    "sandbox.chainnetwork": ({"add", "change", "delete"}, {"delete_selected"}),
    "sandbox.sandboxaccount": ({"add", "change", "delete"}, {"delete_selected"}),
    "sandbox.sandboxaddress": ({"add", "change", "delete"}, {"delete_selected"}),
    "sandbox.sandboxcallback": ({"add", "change", "delete"}, {"delete_selected"}),
    "sandbox.sandboxorder": ({"add", "change", "delete"}, {"delete_selected", "refund_orders"}),
}


def _surface(user) -> dict[str, tuple[set[str], set[str]]]:
    request = RequestFactory().get("/admin/")
    request.user = user
    seen = {}
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_or_change_permission(request):
            continue
        may = {
            what
            for what, allowed in (
                ("add", model_admin.has_add_permission(request)),
                ("change", model_admin.has_change_permission(request)),
                ("delete", model_admin.has_delete_permission(request)),
            )
            if allowed
        }
        actions = set(model_admin.get_actions(request))
        if may or actions:
            seen[model._meta.label_lower] = (may, actions)
    return seen


def test_the_admin_roles_writable_admin_models_are_the_audited_ones(admin_user):
    assert _surface(admin_user) == AUDITED


def test_the_admin_role_writes_nothing_of_django_q_orders_batches_or_the_audit_log(admin_user):
    surface = _surface(admin_user)
    for label in surface:
        assert not label.startswith(("django_q.", "orders.", "batches.", "core.", "otp_")), label


def test_axes_records_have_no_editable_field_for_the_admin_role(admin_user):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.admin.utils import flatten_fieldsets

    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model_admin = admin.site._registry[model]
        shown = flatten_fieldsets(model_admin.get_fieldsets(request))
        form_fields = set(shown) - set(model_admin.get_readonly_fields(request))
        assert form_fields == set(), (model, form_fields)
