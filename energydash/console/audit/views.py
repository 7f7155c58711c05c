"""The audit trail in the console, for the admin role: filter by user, order, API token, action
and date, newest first, in keyset pages.

The audit table grows with every order, so nothing here counts it or lists its distinct values:
a page is one indexed walk from a cursor (orders/paging.py); the filter choices come from the
small tables (users, tokens), and an action is matched by prefix ("order." finds every order
action) on the indexed action column.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from energydash.api.models import ApiToken
from energydash.core.models import AuditEvent
from energydash.core.roles import ADMIN, has_role
from energydash.lib.zones import zone_label
from energydash.orders.models import Order
from energydash.orders.paging import DEFAULT_PAGE_SIZE, SORTS, BadCursor, keyset_page

ORDER_TYPE = Order._meta.label_lower
TOKEN_TYPE = ApiToken._meta.label_lower


def _date(raw: str, label: str, problems: list[str]) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(
            gettext("%(field)s must be a date like 2026-12-03; it was left out.") % {"field": label}
        )
        return None


def _order_filter(raw: str, problems: list[str]) -> Q | None:
    """An order by its code, whole or its first 8 characters as the console shows them (a
    prefix match on the indexed object_code column)."""
    text = (raw or "").strip().lower()
    if not text:
        return None
    if len(text) >= 8 and len(text) <= 36 and all(c in "0123456789abcdef-" for c in text):
        return Q(object_type=ORDER_TYPE, object_code__startswith=text)
    problems.append(
        gettext(
            "An order is given by its code (at least its first 8 characters, as shown on its "
            "page); that filter was left out."
        )
    )
    return None


def filtered(params: Any) -> tuple[QuerySet[AuditEvent], dict[str, Any], list[str]]:
    """The events matching the request's filters, the filters as understood, and problems."""
    problems: list[str] = []
    qs = AuditEvent.objects.select_related("actor")
    chosen: dict[str, Any] = {}
    user_raw = (params.get("user") or "").strip()
    if user_raw:
        if user_raw.isdigit() and len(user_raw) < 12:
            qs = qs.filter(actor_id=int(user_raw))
            chosen["user"] = int(user_raw)
        else:
            problems.append(gettext("Choose a user from the list; that filter was left out."))
    order_raw = (params.get("order") or "").strip()
    order_q = _order_filter(order_raw, problems)
    if order_q is not None:
        qs = qs.filter(order_q)
        chosen["order"] = order_raw[:40]
    token_raw = (params.get("token") or "").strip()
    if token_raw:
        token = (
            ApiToken.objects.filter(pk=int(token_raw)).first()
            if token_raw.isdigit() and len(token_raw) < 12
            else None
        )
        if token is None:
            problems.append(gettext("Choose a token from the list; that filter was left out."))
        else:
            # Events about the token (admin changes) and events done through it (orders).
            qs = qs.filter(
                Q(object_type=TOKEN_TYPE, object_code=token.code) | Q(actor_label=token.placed_via)
            )
            chosen["token"] = token.pk
    action = (params.get("action") or "").strip()[:64]
    if action:
        qs = qs.filter(action__startswith=action)
        chosen["action"] = action
    tz = timezone.get_current_timezone()
    since = _date(params.get("since", ""), gettext("From"), problems)
    until = _date(params.get("until", ""), gettext("To"), problems)
    if since is not None:
        qs = qs.filter(created__gte=datetime.combine(since, time.min, tzinfo=tz))
        chosen["since"] = since.isoformat()
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
        qs = qs.filter(created__lt=end)
        chosen["until"] = until.isoformat()
    return qs, chosen, problems


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, ADMIN):
        raise PermissionDenied(gettext("The audit trail is for the admin role."))
    qs, chosen, problems = filtered(request.GET)
    try:
        page = keyset_page(
            qs,
            SORTS["-created"],
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
            size=DEFAULT_PAGE_SIZE,
        )
    except BadCursor as exc:
        problems.append(str(exc))
        page = keyset_page(qs, SORTS["-created"], size=DEFAULT_PAGE_SIZE)
    query = urlencode(chosen)
    context = {
        "page": page,
        "chosen": chosen,
        "query": query,
        "problems": problems,
        "users": get_user_model().objects.order_by("username").only("id", "username"),
        "tokens": ApiToken.objects.order_by("name").only("id", "name"),
        "time_zone": zone_label(timezone.get_current_timezone_name()),
    }
    return render(request, "core/audit.html", context)
