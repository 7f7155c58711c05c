"""itrx GET /api/v1/frontend/userapi/summary simulated (providers.md 2.8).

Figures are computed from this sandbox account's own orders (one sandbox account is one API
key), so they are what a console that recorded every order should find. itrx's "today" and
"yesterday" are taken as calendar days in China Standard Time (UTC+8): itrx stamps orders with
a +08:00 offset (2.5 create_time) and documents no other zone; the console makes the same
assumption (energydash.balances.summary).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone as dj_timezone

from energydash.sandbox import faults
from energydash.sandbox.http import endpoint, json_response
from energydash.sandbox.itrx_auth import account_for, detail, forbidden
from energydash.sandbox.models import SandboxAccount, SandboxOrder

ITRX_ZONE = timezone(timedelta(hours=8), "UTC+08:00")


def _server_error() -> HttpResponse:
    return HttpResponse("<h1>Server Error (500)</h1>", status=500, content_type="text/html")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of an itrx calendar day as aware datetimes."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=ITRX_ZONE)
    return start, start + timedelta(days=1)


def _figures(account: SandboxAccount, start: datetime | None, end: datetime | None) -> dict:
    orders = SandboxOrder.objects.filter(account=account)
    if start is not None and end is not None:
        orders = orders.filter(created_at__gte=start, created_at__lt=end)
    totals = orders.aggregate(count=Count("pk"), energy=Sum("energy"), sun=Sum("cost_sun"))
    return {"count": totals["count"], "energy": totals["energy"] or 0, "sun": totals["sun"] or 0}


def summary_body(account: SandboxAccount, now: datetime) -> dict:
    today = now.astimezone(ITRX_ZONE).date()
    total = _figures(account, None, None)
    current = _figures(account, *day_bounds(today))
    previous = _figures(account, *day_bounds(today - timedelta(days=1)))
    return {
        "name": account.name,
        "create_time": account.created.astimezone(ITRX_ZONE).strftime("%Y-%m-%d %H:%M:%S"),
        "total_count": total["count"],
        "total_sum_energy": total["energy"],
        "total_sum_trx": total["sun"],  # sun, despite the name (as documented)
        "today_count": current["count"],
        "today_sum_energy": current["energy"],
        "today_sum_trx": current["sun"],
        "yesterday_count": previous["count"],
        "yesterday_sum_energy": previous["energy"],
        "yesterday_sum_trx": previous["sun"],
    }


@endpoint("GET", lambda method: detail(f'Method "{method}" not allowed.', 405))
def summary(request: HttpRequest) -> HttpResponse:
    account = account_for(request)
    if account is None:
        return forbidden()  # documented: a wrong key gets HTTP 403
    if failed := faults.before_handling(account, _server_error):
        return failed
    return json_response(summary_body(account, dj_timezone.now()))
