from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from energydash.console.http import HtmxHttpRequest
from energydash.providers.models import ProviderAccount


@require_GET
def account_list(request: HtmxHttpRequest) -> HttpResponse:
    accounts = ProviderAccount.objects.select_related("balance_state")
    return render(request, "providers/list.html", {"accounts": accounts})
