"""/livez, /readyz and /metrics, answered by the first middleware (README "Monitoring").

They come before the host check (SecurityMiddleware, CommonMiddleware), sessions and logins, so
an orchestrator's probe on a pod address and a Prometheus scrape cost no session, no CSRF
cookie and no login redirect.

* /livez: the process answers. Nothing else is touched (no database): a database outage must
  not get every web process restarted.
* /readyz: database, migrations applied, cache, a worker seen recently. 200 when all pass, else
  503; the body is JSON naming each check and what failed.
* /metrics: Prometheus text format (core/metrics.py), only to a bearer token
  (ENERGYDASH_METRICS_TOKEN) or a client address inside ENERGYDASH_METRICS_NETWORKS. Neither set:
  closed to everyone (403).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from energydash.core import metrics

logger = logging.getLogger("energydash.ops")

LIVEZ, READYZ, METRICS = "/livez", "/readyz", "/metrics"


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, sort_keys=True), status=status, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def check_migrations() -> str:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return f"{len(plan)} migration(s) not applied: {names}"
    return "ok"


def check_cache() -> str:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    ok = cache.get(key) == "1"
    cache.delete(key)
    return "ok" if ok else "the cache did not return what was just written"


def last_worker_activity():
    """When a django-q2 worker was last seen: a cluster's live stats (shared through the cache
    with Redis), else the newest finished task (the schedules run every minute)."""
    from django_q.models import Task
    from django_q.status import Stat

    if Stat.get_all():
        return timezone.now()
    return Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()


def check_worker() -> str:
    seen = last_worker_activity()
    if seen is None:
        return "no worker has run a task"
    stale = timedelta(minutes=settings.ENERGYDASH_HEALTH_WORKER_STALE_MINUTES)
    if timezone.now() - seen > stale:
        return f"no worker seen since {seen.isoformat()}"
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "migrations": check_migrations,
    "cache": check_cache,
    "worker": check_worker,
}


def readiness() -> tuple[bool, dict[str, str]]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name != "database" and results.get("database", "ok") != "ok":
            results[name] = "not checked: no database"
            continue
        try:
            results[name] = check()
        except Exception as exc:  # a probe reports, never raises (and never the detail)
            results[name] = f"error: {type(exc).__name__}"
    return all(v == "ok" for v in results.values()), results


def _in_networks(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.ENERGYDASH_METRICS_NETWORKS)


def metrics_allowed(request: HttpRequest) -> bool:
    token = settings.ENERGYDASH_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    return _in_networks(request.META.get("REMOTE_ADDR", ""))


class OpsEndpointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in (LIVEZ, READYZ, METRICS):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return _json(405, {"error": "GET only"})
        if path == LIVEZ:
            return _json(200, {"status": "ok"})
        if path == READYZ:
            ok, checks = readiness()
            return _json(200 if ok else 503, {"status": "ok" if ok else "failing", **checks})
        if not metrics_allowed(request):
            return _json(
                403,
                {
                    "error": "metrics are served only to the configured token "
                    "or networks (ENERGYDASH_METRICS_TOKEN, ENERGYDASH_METRICS_NETWORKS)"
                },
            )
        response = HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
        response["Cache-Control"] = "no-store"
        return response
