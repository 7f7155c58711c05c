"""Log correlation (README "Monitoring", Logs): who asked, about which order, at which provider.

Every log record gets the fields below from context variables, set where the work starts:

* request_id: per web request (an incoming X-Request-ID when it is sane, else a new one; sent
  back as X-Request-ID), carried into every django-q2 task the request queues (pre_enqueue puts
  it in the task; pre_execute sets it in the worker); a scheduled task gets its own.
* order_code, account, provider: while an order is placed or polled.
* provider_request_id: the provider's own request id, when its answer carries one.
* task: the task function, in a worker.

With LOG_FORMAT=json the records are JSON lines (python-json-logger), one object per record with
these fields; otherwise the plain format, with request_id. RedactSecretsFilter masks what must
never reach a log whatever code logs it: configured secrets (SECRET_KEY, field keys, the
TronGrid key, the metrics token, the SMTP password), bearer tokens, API tokens and webhook
secrets by their prefixes.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("energydash.tasks")

FIELDS = ("request_id", "order_code", "account", "provider", "provider_request_id", "task")
_vars: dict[str, ContextVar[str]] = {name: ContextVar(name, default="") for name in FIELDS}
TASK_KEY = "energydash_request_id"  # the key in a django-q2 task dict
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
PROVIDER_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")


def get(name: str) -> str:
    return _vars[name].get()


def set_fields(**fields: str) -> None:
    for name, value in fields.items():
        _vars[name].set(str(value or "")[:100])


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    tokens = [(name, _vars[name].set(str(value or "")[:100])) for name, value in fields.items()]
    try:
        yield
    finally:
        for name, token in reversed(tokens):
            _vars[name].reset(token)


def bind_order(order: Any) -> contextlib.AbstractContextManager[None]:
    """order_code, account and provider of an order (its account loaded or not)."""
    account = getattr(order, "account", None)
    return bound(
        order_code=str(getattr(order, "code", "") or getattr(order, "pk", "")),
        account=getattr(account, "name", ""),
        provider=getattr(account, "provider", ""),
        provider_request_id="",
    )


def note_provider_response(headers: Any) -> None:
    """Remember the provider's own request id from its answer's headers, when it sent one."""
    for name in PROVIDER_REQUEST_ID_HEADERS:
        value = headers.get(name, "") if headers is not None else ""
        if value and SANE_REQUEST_ID.match(value):
            _vars["provider_request_id"].set(value)
            return


def new_request_id() -> str:
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds the correlation fields to every record (empty strings when unset)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, _vars[name].get())
        return True


_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\b(edk_)[A-Za-z0-9_-]{8,}"),
    re.compile(r"\b(whsec_)[A-Za-z0-9_+/=-]{8,}"),
]


def _configured_secrets() -> list[str]:
    from django.conf import settings

    values = [
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "ENERGYDASH_TRON_API_KEY", ""),
        getattr(settings, "ENERGYDASH_METRICS_TOKEN", ""),
        *getattr(settings, "ENERGYDASH_FIELD_KEYS", []),
    ]
    smtp = getattr(settings, "MAILERS", {}).get("default", {}).get("OPTIONS", {})
    values.append(smtp.get("password", ""))
    return [v for v in values if isinstance(v, str) and len(v) >= 8]


def redact(text: str) -> str:
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, "[redacted]")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Masks secrets in the rendered message and the exception text of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            clean_exc = redact(text)
            if clean_exc != text:
                record.exc_info = None
                record.exc_text = clean_exc
        return True


class RequestIdMiddleware:
    """A request_id for each request: a sane incoming X-Request-ID, else a new one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if SANE_REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        with bound(
            request_id=request_id,
            order_code="",
            account="",
            provider="",
            provider_request_id="",
            task="",
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


# django-q2 -------------------------------------------------------------------------------------


def carry_into_task(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
    """pre_enqueue: the queuing request's id travels in the task (a schedule has none)."""
    request_id = _vars["request_id"].get()
    if request_id:
        task[TASK_KEY] = request_id


def enter_task(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
    """pre_execute, in the worker process: the carried request id, or a new one per task."""
    carried = str(task.get(TASK_KEY, ""))
    func = task.get("func")
    set_fields(
        request_id=carried if SANE_REQUEST_ID.match(carried) else new_request_id(),
        task=func if isinstance(func, str) else getattr(func, "__name__", ""),
        order_code="",
        account="",
        provider="",
        provider_request_id="",
    )
    logger.info("task %s started", get("task"))


def leave_task(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
    set_fields(**dict.fromkeys(FIELDS, ""))


def connect() -> None:
    from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

    pre_enqueue.connect(carry_into_task, dispatch_uid="energydash.logcontext.carry")
    pre_execute.connect(enter_task, dispatch_uid="energydash.logcontext.enter")
    post_execute_in_worker.connect(leave_task, dispatch_uid="energydash.logcontext.leave")
