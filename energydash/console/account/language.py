"""The language switch in the top bar (and on the login page).

Signed in, the choice is stored on the user (core.UserPreferences) and follows them to any
browser; the language cookie carries it too, so the login page after a logout speaks it.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from energydash.core import language as languages


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("As the browser asks")), *settings.LANGUAGES],
    )
    next = forms.CharField(required=False)


def _safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return "/"


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the console's language, then back to the page the switch was on.

    An unknown language changes nothing and says so. With htmx, answers HX-Redirect so the
    whole page (menu included) is drawn again in the new language.
    """
    form = LanguageForm(request.POST)
    next_url = _safe_next(request, request.POST.get("next", ""))
    if not form.is_valid():
        messages.error(request, gettext("That language is not offered; nothing was changed."))
        response: HttpResponse = HttpResponseRedirect(next_url)
        if request.htmx:
            response = HttpResponse(status=204, headers={"HX-Redirect": next_url})
        return response
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        languages.choose_language(request, language)
    if language:
        translation.activate(language)
    if request.htmx:
        response = HttpResponse(status=204, headers={"HX-Redirect": next_url})
    else:
        response = HttpResponseRedirect(next_url)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
