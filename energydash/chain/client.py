"""The HTTP side of the chain reader: the request budget, bounded retries with backoff, and the
record of every exchange (never its headers, so never the API key).

All node reads are safe to repeat, so each is retried on rate limits (403, 429, 503: TronGrid's
answers over its limits), other 5xx, timeouts and connection failures: exponential backoff from
0.5 s, or the node's Retry-After when it sends one. A Retry-After longer than we are willing to
hold a worker ends the read at once as "unavailable"; so does the last failed attempt.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from energydash.chain import http, vetting
from energydash.chain.budget import RequestBudget
from energydash.chain.outcomes import (
    NOT_VERIFIED,
    OK,
    REFUSED,
    UNAVAILABLE,
    UNREADABLE,
    Exchange,
    Reading,
)
from energydash.lib.crypto import Secret

logger = logging.getLogger("energydash.chain")

KEY_HEADER = "TRON-PRO-API-KEY"
REDACTED = "[redacted]"
RETRY_STATUSES = frozenset({403, 429, 500, 502, 503, 504})
_RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
MAX_BODY = 1_000_000  # bytes; node answers the reader asks for are a few hundred
MAX_RECORDED = 20_000  # characters of a body kept in an exchange
NOT_CONFIGURED = "no TRON node is configured (ENERGYDASH_TRON_API_URL is empty)"


class NodeClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | Secret = "",
        *,
        budget: RequestBudget,
        client: httpx.Client | None = None,
        retries: int = 3,
        timeout: float = 10.0,
        max_retry_after: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = (base_url or "").strip().rstrip("/")
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key or "")
        self.budget = budget
        self.client = client or http.shared_client()
        self._timeout: Any = (
            httpx.Timeout(timeout, connect=min(timeout, 5.0))
            if client is None
            else httpx.USE_CLIENT_DEFAULT
        )
        self.retries = max(0, retries)
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._clock = clock
        self.exchanges: list[Exchange] = []

    def __repr__(self) -> str:
        key = "set" if self._key.reveal() else "none"
        return f"NodeClient({self.base_url!r}, key={key}, qps={self.budget.qps})"

    @property
    def configured(self) -> bool:
        return bool(self.base_url)

    def post(self, path: str, body: Mapping[str, Any]) -> Reading[Any]:
        """The decoded JSON answer (outcome OK), or the failure as a Reading; never raises."""
        if not self.configured:
            return Reading(NOT_VERIFIED, message=NOT_CONFIGURED)
        first = len(self.exchanges)
        response, failure = self._send(path, json.dumps(body, separators=(",", ":")).encode())
        done = tuple(self.exchanges[first:])
        if failure is not None:
            outcome, message, status = failure
            return Reading(outcome, message=message, http_status=status, exchanges=done)
        assert response is not None
        status = response.status_code
        data = _decode(response)
        if 200 <= status < 300:
            if data is _NOT_JSON:
                return Reading(
                    UNREADABLE,
                    message=f"the node's answer is not JSON ({_kind(response)})",
                    http_status=status,
                    exchanges=done,
                )
            return Reading(OK, value=data, http_status=status, exchanges=done)
        return Reading(
            REFUSED, message=self._refusal(status, data), http_status=status, exchanges=done
        )

    # Sending --------------------------------------------------------------------------------

    def _send(
        self, path: str, content: bytes
    ) -> tuple[httpx.Response | None, tuple[str, str, int | None] | None]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key.reveal():
            headers[KEY_HEADER] = self._key.reveal()
        attempts = self.retries + 1
        for attempt in range(attempts):
            if not self.budget.acquire():
                return None, (
                    UNAVAILABLE,
                    f"the chain reader's request budget ({self.budget.qps} a second) is used "
                    "up; nothing was sent",
                    None,
                )
            started = time.monotonic()
            try:
                request = self.client.build_request(
                    "POST",
                    self.base_url + path,
                    content=content,
                    headers=headers,
                    timeout=self._timeout,
                )
                response = self.client.send(request)
                response.read()
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                name = type(exc).__name__
                self._record(path, content, None, "", started, name)
                if attempt == attempts - 1 or not isinstance(exc, _RETRYABLE):
                    return None, (
                        UNAVAILABLE,
                        f"could not reach the node after {attempt + 1} attempt(s) ({name})",
                        None,
                    )
                self._sleep(self._backoff(attempt))
                continue
            status = response.status_code
            self._record(path, content, status, _text(response), started, "")
            if status not in RETRY_STATUSES:
                return response, None
            wait = self._retry_after(response)
            if wait is not None and wait > self.max_retry_after:
                return None, (
                    UNAVAILABLE,
                    f"the node answered HTTP {status} and asks to wait {wait:.0f} s "
                    f"({_why(status)})",
                    status,
                )
            if attempt == attempts - 1:
                return None, (
                    UNAVAILABLE,
                    f"the node answered HTTP {status} {attempts} time(s) ({_why(status)})",
                    status,
                )
            self._sleep(self._backoff(attempt) if wait is None else wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return min(0.5 * 2**attempt, 8.0)

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the node asks us to wait (Retry-After in seconds or as an HTTP date)."""
        raw = response.headers.get("retry-after", "").strip()
        if not raw:
            return None
        if raw.isdigit():
            return float(raw)
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - datetime.fromtimestamp(self._clock(), tz=UTC)).total_seconds(), 0.0)

    def _record(
        self, path: str, content: bytes, status: int | None, text: str, started: float, error: str
    ) -> None:
        elapsed_ms = int((time.monotonic() - started) * 1000)
        url = httpx.URL(self.base_url + path).raw_path.decode("ascii", "replace")
        self.exchanges.append(
            Exchange(
                method="POST",
                url=self.scrub(url),
                request_body=self.scrub(content.decode("utf-8", "replace")),
                status_code=status,
                response_body=self.scrub(text)[:MAX_RECORDED],
                elapsed_ms=elapsed_ms,
                error=error,
            )
        )
        log = logger.info if status is not None and status < 400 else logger.warning
        log("chain POST %s -> %s in %d ms", path, status or error, elapsed_ms)

    def scrub(self, text: str) -> str:
        key = self._key.reveal()
        return text.replace(key, REDACTED) if key and len(key) >= 4 else text

    def _refusal(self, status: int, data: Any) -> str:
        if isinstance(data, dict):
            for name in ("Error", "error", "message"):
                if isinstance(data.get(name), str):
                    return self.scrub(f"HTTP {status}: {vetting.text(data[name])}")
        if status == 401:
            return "HTTP 401: the node refused the API key (ENERGYDASH_TRON_API_KEY)"
        if status == 404:
            return "HTTP 404: no such path (is ENERGYDASH_TRON_API_URL the node's base URL?)"
        if 300 <= status < 400:
            return f"HTTP {status}: a redirect (set the node's final URL)"
        return f"HTTP {status}"


_NOT_JSON = object()


def _decode(response: httpx.Response) -> Any:
    if len(response.content) > MAX_BODY:
        return _NOT_JSON
    try:
        return json.loads(response.content)
    except ValueError:
        return _NOT_JSON


def _text(response: httpx.Response) -> str:
    return response.content[:MAX_RECORDED].decode("utf-8", "replace")


def _kind(response: httpx.Response) -> str:
    size = len(response.content)
    if size > MAX_BODY:
        return f"{size:,} bytes, more than a node answer"
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    return f"{kind}, {size:,} bytes"


def _why(status: int) -> str:
    if status in (403, 429):
        return "over the node's rate limit"
    if status == 503:
        return "overloaded or over its rate limit"
    return "a server error"
