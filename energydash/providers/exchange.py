"""Recording one HTTP attempt: the Exchange kept on an order's timeline, and its log line.

What is recorded is the method, the path and query, the exact request body, the status, the
response body (cut at MAX_RECORDED_BODY) and the time taken. Headers never are, and every secret
the adapter knows (API key, secret, per-request signatures) is replaced by REDACTED wherever the
provider echoes it back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

logger = logging.getLogger("energydash.providers")

MAX_RECORDED_BODY = 20_000
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Exchange:
    """One HTTP attempt as stored in the order's history. Headers are never recorded."""

    method: str
    url: str  # path + query
    request_body: str
    status_code: int | None
    response_body: str
    elapsed_ms: int
    error: str = ""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret of four characters or more replaced by REDACTED."""
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text


def record(
    kind: str,
    request: httpx.Request,
    content: bytes | None,
    response: httpx.Response | None,
    started: float,
    error: str,
    scrubbed: Callable[[str], str],
) -> Exchange:
    """The Exchange of one attempt started at `started` (time.monotonic()), logged as one line.

    `response` is None when none came; `error` then names the exception. `scrubbed` removes the
    adapter's secrets from a text.
    """
    status = response.status_code if response is not None else None
    text = response.text if response is not None else ""
    elapsed_ms = int((time.monotonic() - started) * 1000)
    exchange = Exchange(
        method=request.method,
        url=scrubbed(request.url.raw_path.decode("ascii", "replace")),
        request_body=scrubbed((content or b"").decode("utf-8", "replace")),
        status_code=status,
        response_body=scrubbed(text)[:MAX_RECORDED_BODY],
        elapsed_ms=elapsed_ms,
        error=error,
    )
    outcome = status if status is not None else error
    log = logger.info if status is not None and status < 400 else logger.warning
    log("%s %s %s -> %s in %d ms", kind, request.method, request.url.path, outcome, elapsed_ms)
    return exchange
