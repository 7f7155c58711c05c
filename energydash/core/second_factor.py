"""Second factor and sudo mode (README "Users and roles").

Second factor: a TOTP authenticator app (django-otp's TOTPDevice) with one-time recovery codes
(a StaticDevice named "recovery"). Required for the admin role (superusers included) and, with
ENERGYDASH_MFA_REQUIRED_FOR_ALL_ROLES, for every role. The password step (the console's login
view) does not log a user with a device in: it leaves a pending login in the session, and only
the code step logs in. A wrong code counts as a failed login for django-axes, so the same limit
locks both steps. API tokens never pass through here.

Sudo mode: the most dangerous actions need a login or a re-authentication (password, and the
code when enrolled) within ENERGYDASH_SUDO_MINUTES. The time is kept in the session; every
login sets it (user_logged_in), the re-authentication page sets it again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from energydash.core.models import AuditEvent
from energydash.core.roles import ADMIN, has_role, role_of

RECOVERY_DEVICE_NAME = "recovery"
AUTHENTICATOR_NAME = "authenticator"
PENDING_KEY = "energydash_mfa_pending"
AUTH_AT_KEY = "energydash_auth_at"
# A password step older than this needs doing again before the code step.
PENDING_SECONDS = 300


# --- who needs what ---------------------------------------------------------------------------


def required_for(user: Any) -> bool:
    """Whether this user must have a second factor before using the console."""
    if not getattr(user, "is_authenticated", False):
        return False
    if settings.ENERGYDASH_MFA_REQUIRED_FOR_ALL_ROLES:
        return role_of(user) is not None
    return has_role(user, ADMIN)


def enrolled(user: Any) -> bool:
    """A confirmed authenticator app. Recovery codes alone do not count."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_energydash_mfa_enrolled", None)
    if cached is None:
        cached = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        user._energydash_mfa_enrolled = cached
    return cached


def authenticator(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


# --- enrolment --------------------------------------------------------------------------------


def pending_authenticator(user: Any) -> TOTPDevice:
    """The unconfirmed device being enrolled: the same one on every visit until confirmed, so a
    reload does not invalidate what the user already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def setup_key(device: TOTPDevice) -> str:
    """The secret in the base32 form authenticator apps accept when typed in, in groups of 4."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (the CSP allows data: images)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def confirm_enrolment(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the pending device with a code from the app. On success the device replaces any
    earlier one, new recovery codes are made (returned, shown once), the session counts as
    verified and the enrolment is audited. None when the code is wrong (nothing changes)."""
    user = request.user
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user).first()
        if locked is None or locked.confirmed or not locked.verify_token(_normalize(code)):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=locked.pk).delete()
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        codes = _replace_recovery_codes(user)
        AuditEvent.record("user.second_factor_enrolled", user, actor=user)
    verified_session(request, locked)
    return codes


def new_recovery_codes(request: HttpRequest) -> list[str]:
    """Replace the user's recovery codes (the old ones stop working); audited."""
    with transaction.atomic():
        codes = _replace_recovery_codes(request.user)
        AuditEvent.record("user.recovery_codes_replaced", request.user, actor=request.user)
    return codes


def _replace_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.ENERGYDASH_MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def reset(user: Any, actor: Any = None, actor_label: str = "") -> int:
    """Remove every second-factor device of the user (a lost phone): they enrol again at their
    next login. Audited as core.AuditEvent "user.second_factor_reset"; returns devices removed."""
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            removed += model.objects.filter(user=user).count()
            model.objects.filter(user=user).delete()
        AuditEvent.record(
            "user.second_factor_reset",
            user,
            actor=actor,
            actor_label=actor_label,
            details={"devices_removed": removed},
        )
    return removed


# --- verifying a code -------------------------------------------------------------------------


def _normalize(code: str) -> str:
    return "".join((code or "").split()).lower()


def verify(user: Any, code: str) -> Device | None:
    """The device (authenticator or recovery codes) that accepts this code, or None. A recovery
    code is used up by the check itself (deleted under a row lock: once only, even at once)."""
    token = _normalize(code)
    if not token or len(token) > 16:
        return None
    with transaction.atomic():
        devices: list[Device] = []
        if token.isdigit():
            devices += list(
                TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
            )
        devices += list(
            StaticDevice.objects.select_for_update().filter(
                user=user, confirmed=True, name=RECOVERY_DEVICE_NAME
            )
        )
        for device in devices:
            if device.verify_token(token):
                return device
    return None


def throttle_seconds(user: Any) -> int:
    """Seconds until django-otp lets this user's devices check a code again after wrong codes
    (it doubles the wait after each one); 0 when a code may be tried now."""
    devices = [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]
    return max((device_wait(d) for d in devices), default=0)


def device_wait(device: Device) -> int:
    allowed, info = device.verify_is_allowed()
    if allowed or not info or not info.get("locked_until"):
        return 0
    return max(1, int((info["locked_until"] - timezone.now()).total_seconds()) + 1)


def verified_session(request: HttpRequest, device: Device) -> None:
    """Record in the session that this device verified the (logged-in) user."""
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.user.otp_device = device  # type: ignore[union-attr]
    request.user._energydash_mfa_enrolled = isinstance(device, TOTPDevice) or enrolled(request.user)


# --- the pending login between the password and the code ---------------------------------------


def begin_pending(request: HttpRequest, user: Any, next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "uid": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "at": int(timezone.now().timestamp()),
        "next": next_url,
    }


def pending(request: HttpRequest) -> tuple[Any, str, str] | None:
    """(user, backend, next) of a password step in the last PENDING_SECONDS, else None."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if timezone.now().timestamp() - data.get("at", 0) > PENDING_SECONDS:
        clear_pending(request)
        return None
    user = get_user_model().objects.filter(pk=data.get("uid"), is_active=True).first()
    if user is None:
        clear_pending(request)
        return None
    return user, str(data.get("backend", "")), str(data.get("next", ""))


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


# --- sudo mode --------------------------------------------------------------------------------


def mark_authenticated(request: HttpRequest) -> None:
    request.session[AUTH_AT_KEY] = int(timezone.now().timestamp())


@receiver(user_logged_in)
def _login_is_authentication(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        mark_authenticated(request)


def is_recent(request: HttpRequest) -> bool:
    at = request.session.get(AUTH_AT_KEY)
    if not isinstance(at, int):
        return False
    age = timezone.now().timestamp() - at
    return 0 <= age <= settings.ENERGYDASH_SUDO_MINUTES * 60


def reauth_url(next_url: str) -> str:
    return reverse("reauth") + "?" + urlencode({"next": next_url})


def sudo_refusal(request: HttpRequest, next_url: str | None = None) -> HttpResponse | None:
    """None when the user authenticated recently; else a redirect to the re-authentication page,
    which brings them back to next_url (default: this page) afterwards."""
    if is_recent(request):
        return None
    minutes = settings.ENERGYDASH_SUDO_MINUTES
    messages.info(
        request,
        gettext(
            "Confirm it is you: this action needs your password (and your code) from the last "
            "%(minutes)s minutes. Nothing was changed."
        )
        % {"minutes": minutes},
    )
    return redirect(reauth_url(next_url or request.get_full_path()))


def sudo_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For a console view: re-authentication first unless it happened recently."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if refused := sudo_refusal(request):
            return refused
        return view(request, *args, **kwargs)

    return wrapper


class SudoAdminMixin:
    """For a ModelAdmin: its add, change and delete pages need recent authentication."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if refused := sudo_refusal(request):
            return refused
        return super().changeform_view(request, *args, **kwargs)  # type: ignore[misc]

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if refused := sudo_refusal(request):
            return refused
        return super().delete_view(request, *args, **kwargs)  # type: ignore[misc]


# --- enforcement ------------------------------------------------------------------------------

# Paths a logged-in user without a verified second factor may still reach: logging in and out,
# and the paths with their own authentication (README "Users and roles"; the API's tokens).
EXEMPT_PREFIXES: tuple[str, ...] = (
    "/login/",
    "/logout/",
    "/callbacks/",
    "/sandbox/",
    "/api/v1/",
    "/" + settings.STATIC_URL.lstrip("/"),
)


class SecondFactorMiddleware:
    """After authentication: a session of an enrolled user that no device verified (it skipped
    the code step, e.g. a login from before enrolment) is logged out; a user whose role needs a
    second factor and has none may only reach the enrolment page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, *args: Any) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        path = request.path_info
        if path.startswith(EXEMPT_PREFIXES):
            return None
        if getattr(user, "otp_device", None) is not None:
            return None
        if enrolled(user):
            logout(request)
            return redirect(f"{reverse('login')}?{urlencode({'next': path})}")
        if required_for(user) and path not in (reverse("security"), reverse("reauth")):
            messages.warning(
                request,
                gettext("Your role needs a second factor: set up an authenticator app to go on."),
            )
            return redirect("security")
        return None
