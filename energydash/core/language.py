"""The console's language: a signed-in user's own choice, else the browser's (Accept-Language).

Django's LocaleMiddleware picks the language from the language cookie or Accept-Language
(English when neither names one of settings.LANGUAGES). UserLanguageMiddleware, after the
authentication middleware, then applies the language the user chose (core.UserPreferences), so
the choice follows the user to any browser from the first page after login on. The choice is
copied into the session at login (and when it changes), so a page costs no extra query.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from energydash.core.models import UserPreferences

SESSION_KEY = "energydash_language"
MACHINE_PATH_PREFIXES = ("/api/", "/callbacks/", "/sandbox/", "/livez", "/readyz", "/metrics")


def language_codes() -> tuple[str, ...]:
    return tuple(code for code, _name in settings.LANGUAGES)


def stored_language(user: object) -> str:
    """The language `user` chose ("" when none, or when the choice is no longer offered)."""
    language = (
        UserPreferences.objects.filter(user=user).values_list("language", flat=True).first() or ""
    )
    return language if language in language_codes() else ""


def choose_language(request: HttpRequest, language: str) -> None:
    """Store the signed-in user's choice and use it from now on; "" goes back to the browser's
    language. Refuses a code that is not one of settings.LANGUAGES (ValueError)."""
    if language and language not in language_codes():
        raise ValueError(f"unknown language {language!r}")
    UserPreferences.objects.update_or_create(user=request.user, defaults={"language": language})
    request.session[SESSION_KEY] = language


def _on_login(sender: object, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = stored_language(user)


def connect() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="energydash.core.language")


class UserLanguageMiddleware:
    """Activate the signed-in user's chosen language for the rest of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(MACHINE_PATH_PREFIXES):
            # The API and the provider callbacks answer machines: always in English, whatever
            # the client's Accept-Language (their codes and field names never change anyway).
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            if SESSION_KEY not in session:  # a session from before this setting existed
                session[SESSION_KEY] = stored_language(user)
            language = session[SESSION_KEY]
            if language in language_codes():
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
