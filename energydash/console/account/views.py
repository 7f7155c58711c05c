"""Logging in with a second factor, enrolling one, recovery codes and re-authentication (sudo).

The logic lives in energydash.core.second_factor; these views are its pages.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from energydash.core import second_factor as mfa
from energydash.core.lockout import lockout_response

WRONG_CODE = _("That code is not right. Type the 6 digits your app shows now, or a recovery code.")
TOO_MANY = _("Too many wrong codes: wait %(seconds)s seconds, then type the current code.")


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label=_("Code"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class ReauthForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    code = forms.CharField(
        max_length=32,
        required=False,
        label=_("Code from your authenticator app (or a recovery code)"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )


class LoginView(auth_views.LoginView):
    """The password step. A user with a second factor is not logged in here: the session keeps a
    pending login for a few minutes and the code step finishes it."""

    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not mfa.enrolled(user):
            return super().form_valid(form)
        mfa.begin_pending(self.request, user, self.get_success_url())
        return redirect("login_code")


def _safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return "/"


def _locked(request: HttpRequest, credentials: dict[str, str]) -> bool:
    return AxesProxyHandler.is_locked(request, credentials)


def _count_failure(request: HttpRequest, credentials: dict[str, str]) -> bool:
    """A wrong code is a failed login for django-axes; True when that locked the login."""
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return bool(getattr(request, "axes_locked_out", False)) or _locked(request, credentials)


def _recovery_notice(request: HttpRequest, device: Any) -> None:
    if isinstance(device, StaticDevice):
        left = mfa.recovery_codes_left(device.user)
        messages.warning(
            request,
            ngettext(
                "You logged in with a recovery code; it cannot be used again (%(left)s left). "
                "Lost your authenticator? Ask an admin to reset your second factor, then enrol "
                "anew.",
                "You logged in with a recovery code; it cannot be used again (%(left)s left). "
                "Lost your authenticator? Ask an admin to reset your second factor, then enrol "
                "anew.",
                left,
            )
            % {"left": left},
        )


@login_not_required
@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """The code step: a TOTP code or a recovery code finishes the pending login."""
    found = mfa.pending(request)
    if found is None:
        messages.info(request, gettext("Log in with your username and password first."))
        return redirect("login")
    user, backend, next_url = found
    credentials = {"username": user.get_username()}
    if _locked(request, credentials):
        mfa.clear_pending(request)
        return lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        wait = mfa.throttle_seconds(user)
        if wait:
            error = TOO_MANY % {"seconds": wait}
        elif (device := mfa.verify(user, form.cleaned_data["code"])) is not None:
            mfa.clear_pending(request)
            auth_login(request, user, backend=backend or None)
            mfa.verified_session(request, device)
            _recovery_notice(request, device)
            return redirect(_safe_next(request, next_url))
        elif _count_failure(request, credentials):
            mfa.clear_pending(request)
            return lockout_response(request, None, credentials)
        else:
            error = WRONG_CODE
    status = 400 if error else 200
    return render(request, "account/login_code.html", {"form": form, "error": error}, status=status)


@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    """Sudo mode: the password (and the code when enrolled) again, then back to `next`."""
    user = request.user
    needs_code = mfa.enrolled(user)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    credentials = {"username": user.get_username()}
    form = ReauthForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if _locked(request, credentials):
            auth_logout(request)
            return lockout_response(request, None, credentials)
        data = form.cleaned_data
        checked = authenticate(request, username=user.get_username(), password=data["password"])
        device = None
        if checked is None or checked.pk != user.pk:
            error = gettext("That password is not right.")
        elif needs_code:
            if wait := mfa.throttle_seconds(user):
                error = TOO_MANY % {"seconds": wait}
            elif (device := mfa.verify(user, data.get("code", ""))) is None:
                error = WRONG_CODE
                if _count_failure(request, credentials):
                    auth_logout(request)
                    return lockout_response(request, None, credentials)
        if getattr(request, "axes_locked_out", False):
            auth_logout(request)
            return lockout_response(request, None, credentials)
        if not error:
            mfa.mark_authenticated(request)
            if device is not None:
                mfa.verified_session(request, device)
                _recovery_notice(request, device)
            return redirect(next_url)
    context = {"form": form, "error": error, "needs_code": needs_code, "next": next_url}
    return render(request, "account/reauth.html", context, status=400 if error else 200)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    """The user's second factor: enrol an authenticator app, or see what is set up."""
    user = request.user
    context: dict[str, Any] = {"required": mfa.required_for(user)}
    if mfa.enrolled(user):
        context.update(device=mfa.authenticator(user), codes_left=mfa.recovery_codes_left(user))
        return render(request, "account/security.html", context)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST":
        if refused := mfa.sudo_refusal(request):
            return refused
        device = mfa.pending_authenticator(user)
        if wait := mfa.device_wait(device):
            error = TOO_MANY % {"seconds": wait}
        elif form.is_valid():
            codes = mfa.confirm_enrolment(request, device, form.cleaned_data["code"])
            if codes is not None:
                return _show_codes(request, codes, enrolled_now=True)
        error = error or gettext("That code is not right: type the 6 digits the app shows now.")
    device = mfa.pending_authenticator(user)
    context.update(
        form=form,
        error=error,
        qr=mfa.qr_data_uri(device),
        setup_key=mfa.setup_key(device),
    )
    response = render(request, "account/security.html", context, status=400 if error else 200)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@mfa.sudo_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once."""
    if not mfa.enrolled(request.user):
        messages.error(request, gettext("Set up an authenticator app first; nothing was changed."))
        return redirect("security")
    return _show_codes(request, mfa.new_recovery_codes(request), enrolled_now=False)


def _show_codes(request: HttpRequest, codes: list[str], *, enrolled_now: bool) -> HttpResponse:
    response = render(
        request, "account/recovery_codes.html", {"codes": codes, "enrolled_now": enrolled_now}
    )
    response["Cache-Control"] = "no-store"
    return response
