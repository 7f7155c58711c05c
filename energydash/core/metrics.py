"""Prometheus metrics (README "Monitoring"), through prometheus-client.

Two kinds of figure:

* Events (counters and histograms) are counted in the process where they happen: a web process
  placing an order, a worker polling one. With PROMETHEUS_MULTIPROC_DIR set (production: every
  gunicorn and qcluster process on a host sets the same empty directory), prometheus-client
  writes them to files there and /metrics adds every process's files up (multiprocess mode);
  without it, each process counts for itself (one process: the same thing).
* States (open orders, balances, needs-review, ...) are read from the database when /metrics is
  scraped, by collectors the layers above register here (`register_collector`): the database is
  the one truth shared by every process, so no process ever reports a stale copy.

Label values are bounded: provider kinds, account names (a handful, set by admins), order kinds
and statuses, fixed outcome words. Never an order code, an address or a URL.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger("energydash.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST

ORDERS_PLACED = Counter(
    "energydash_orders_placed",
    "Orders sent to a provider, by the state the placement left them in "
    "(submitted/completed: accepted; failed: refused; unknown/needs_review: answer lost).",
    ["provider", "account", "kind", "outcome"],
)
ORDERS_SETTLED = Counter(
    "energydash_orders_settled",
    "Orders that reached a final state or needs_review, by that state.",
    ["provider", "account", "kind", "outcome"],
)
PROVIDER_REQUEST_SECONDS = Histogram(
    "energydash_provider_request_seconds",
    "Time of one provider operation (retries included), by provider and operation.",
    ["provider", "operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PROVIDER_ERRORS = Counter(
    "energydash_provider_errors",
    "Provider operations that failed, by kind: refused (nothing charged), unavailable (no "
    "usable answer, nothing charged), unknown (a placing request whose answer was lost).",
    ["provider", "operation", "kind"],
)
WEBHOOK_DELIVERIES = Counter(
    "energydash_webhook_deliveries",
    "Webhook tries, by outcome: delivered, failed (will retry), gave_up (endpoint disabled).",
    ["outcome"],
)
CHAIN_VERIFICATIONS = Counter(
    "energydash_chain_verifications",
    "On-chain delivery verdicts, by outcome (verified, short, missing, reclaimed_early).",
    ["provider", "outcome"],
)
CHAIN_VERIFICATION_SECONDS = Histogram(
    "energydash_chain_verification_seconds",
    "From the provider's done to the chain verdict, per order.",
    ["provider"],
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
for _outcome in ("delivered", "failed", "gave_up"):
    WEBHOOK_DELIVERIES.labels(outcome=_outcome)  # reported from 0, so a first failure is a rise
TASK_FAILURES = Counter(
    "energydash_task_failures",
    "Background tasks that raised, by task function.",
    ["task"],
)

# The provider error outcomes (providers/errors.py) under the names operators use.
ERROR_KINDS = {"rejected": "refused", "unavailable": "unavailable", "unknown": "unknown"}

_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add a scrape-time collector (a function yielding metric families); once per function."""
    if collect not in _collectors:
        _collectors.append(collect)


class _Scraped(Collector):
    def collect(self) -> Iterable[Metric]:
        for collect in list(_collectors):
            try:
                yield from collect()
            except Exception:  # one failing reading must not blank the whole scrape
                logger.exception("metrics collector %s failed", getattr(collect, "__name__", ""))


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition() -> bytes:
    """The text format: every process's events (multiprocess mode) or this one's, plus the
    database readings."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_Everything())
    registry.register(_Scraped())
    return generate_latest(registry)


class _Everything(Collector):
    """This process's default registry (single-process mode)."""

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()


def count(counter: Counter, **labels: str) -> None:
    """Add one; a metrics failure never breaks the work being counted."""
    try:
        counter.labels(**labels).inc()
    except Exception:
        logger.exception("metric %s not counted", counter._name)


def observe(histogram: Histogram, value: float, **labels: str) -> None:
    try:
        histogram.labels(**labels).observe(value)
    except Exception:
        logger.exception("metric %s not observed", histogram._name)


def count_failed_task(sender: object, task: dict, **kwargs: object) -> None:
    """django-q2's post_execute: a task that raised counts once, by its function."""
    if not task.get("success", True):
        func = task.get("func")
        name = func if isinstance(func, str) else getattr(func, "__name__", "unknown")
        count(TASK_FAILURES, task=str(name)[:100])


def connect() -> None:
    from django_q.signals import post_execute

    post_execute.connect(count_failed_task, dispatch_uid="energydash.metrics.task_failures")
