"""The one request/response path every adapter uses: send, time, record, and map failures.

Transport is the part of an adapter that speaks HTTP. An adapter (base.Adapter, a Transport)
builds its provider's URL path, headers and body, calls `_request`, and applies its provider's
envelope rules to the decoded answer; everything else is here:

* sending, on the process-wide clients of providers/http.py unless the caller gave its own;
* retries: a placing (order-creating) request is sent exactly once; a read is retried a bounded
  number of times on transport errors, 5xx and 429, with backoff (Retry-After honoured);
* timing and recording each attempt as an Exchange (providers/exchange.py), secrets redacted;
* mapping what went wrong to an outcome (providers/errors.py): a request that never left is
  UNAVAILABLE; a placing request whose answer was lost, or a 5xx / unreadable 2xx after it, is
  UNKNOWN (the provider may have charged); a read's is UNAVAILABLE; a 4xx is REJECTED.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Self

import httpx

from energydash.core import logcontext, outbound
from energydash.providers import exchange as recording
from energydash.providers import http, static_cache
from energydash.providers.credentials import DEFAULT_BASE_URLS, Credentials
from energydash.providers.errors import NAMES, REJECTED, UNAVAILABLE, UNKNOWN, ProviderError
from energydash.providers.exchange import Exchange

# Raised before any request byte leaves this machine, so even a placing request cannot have charged.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Transport:
    """HTTP for one provider account: the clients, the exchanges sent so far, and the errors."""

    kind: str = ""

    def __init__(
        self,
        credentials: Credentials,
        client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        read_retries: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        # Without a client of the caller's, the process-wide ones (providers/http.py): creating
        # an adapter then costs no CA-bundle load. Their timeouts are set per request.
        # A base URL typed into the account (not the provider's own address) is dialled only
        # after the outbound guard vetted the address it resolves to, at each connection.
        self._owns_client = False
        typed = credentials.base_url.rstrip("/") != DEFAULT_BASE_URLS.get(credentials.provider)
        if typed:
            self.client = client or http.guarded_shared_client()
            self._placing_client = client or http.guarded_placing_client()
        else:
            self.client = client or http.shared_client()
            self._placing_client = client or http.placing_client()
        self._timeout: Any = (
            httpx.Timeout(credentials.timeout, connect=credentials.connect_timeout)
            if client is None
            else httpx.USE_CLIENT_DEFAULT
        )
        self._sleep = sleep
        self._clock = clock
        self.read_retries = max(0, read_retries)
        self.exchanges: list[Exchange] = []
        self._redacted: set[str] = set()  # per-request secrets (signatures) sent so far

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Secrets --------------------------------------------------------------------------------

    def _key(self) -> str:
        return _reveal(self.credentials.api_key)

    def _secret(self) -> str:
        return _reveal(self.credentials.api_secret)

    def _scrub(self, text: str) -> str:
        """Replace the key, the secret and any signature we sent, wherever they are echoed."""
        return recording.scrub(text, [self._key(), self._secret(), *self._redacted])

    # Sending --------------------------------------------------------------------------------

    def _remembered(self, what: str, load: Callable[[], Any]) -> Any:
        """load() as kept for this account for a few minutes (static_cache.py): limits only."""
        cache_key = static_cache.key(
            self.credentials.provider, self.credentials.base_url, self._key(), what
        )
        return static_cache.kept(cache_key, load)

    def _url(self, path: str) -> str:
        return self.credentials.base_url.rstrip("/") + path

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str],
        placing: bool,
        redact: tuple[str, ...] = (),
    ) -> tuple[httpx.Response, Any]:
        """One placing attempt, or a read with bounded retries on transport errors, 5xx and 429.

        Returns the final response whatever its status, and its JSON body (None when it is not
        JSON); raises ProviderError when no response came. `redact` lists per-request secrets
        (signatures) to keep out of recorded bodies.
        """
        self._redacted.update(redact)
        attempts = 1 if placing else self.read_retries + 1
        for attempt in range(attempts):
            client = self._placing_client if placing else self.client
            request = client.build_request(
                method,
                self._url(path),
                params=params,
                content=content,
                headers=dict(headers),
                timeout=self._timeout,
            )
            started = time.monotonic()
            try:
                response = client.send(request)
            except outbound.Refused:
                exchange = self._record(request, content, started, error="Refused")
                raise self._error(
                    UNAVAILABLE,
                    f"{outbound.REFUSED_PRIVATE}: the account's base URL resolves to a "
                    "loopback, private or reserved address; nothing was sent",
                    code="refused_private_address",
                    transient=False,
                    exchange=exchange,
                ) from None
            except httpx.HTTPError as exc:
                exchange = self._record(request, content, started, error=type(exc).__name__)
                last_try = attempt == attempts - 1 or not isinstance(exc, _RETRYABLE)
                if last_try:
                    raise self._transport_error(exc, exchange, placing, attempt + 1) from None
                self._backoff(attempt, None)
                continue
            logcontext.note_provider_response(response.headers)
            self._record(request, content, started, response=response)
            retry = response.status_code == 429 or response.status_code >= 500
            if retry and attempt < attempts - 1:
                self._backoff(attempt, response)
                continue
            return response, self._decode(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(
        self,
        request: httpx.Request,
        content: bytes | None,
        started: float,
        *,
        response: httpx.Response | None = None,
        error: str = "",
    ) -> Exchange:
        exchange = recording.record(
            self.kind, request, content, response, started, error, self._scrub
        )
        self.exchanges.append(exchange)
        return exchange

    def _backoff(self, attempt: int, response: httpx.Response | None) -> None:
        delay = min(0.5 * 2**attempt, 4.0)
        retry_after = response.headers.get("retry-after", "") if response is not None else ""
        if retry_after.isdigit():
            delay = min(float(retry_after), 10.0)
        self._sleep(delay)

    def _decode(self, response: httpx.Response) -> Any:
        """The JSON body, or None when it is not JSON."""
        try:
            return json.loads(response.content)
        except ValueError:
            return None

    # Failures -------------------------------------------------------------------------------

    def _error(self, outcome: str, message: str, **kw: Any) -> ProviderError:
        return ProviderError(outcome, self._scrub(message), provider=self.kind, **kw)

    def _unsupported(self, message: str) -> ProviderError:
        return self._error(REJECTED, message, transient=False)

    def _answer_error(
        self, outcome: str, message: str, *, status: int, code: str | None = None, **kw: Any
    ) -> ProviderError:
        """An error about the answer just received: its HTTP status and its exchange attached."""
        return self._error(
            outcome, message, code=code, http_status=status, exchange=self.exchanges[-1], **kw
        )

    def _auth_failed(
        self, status: int, detail: Any = None, *, hint: str = "", code: str | None = None
    ) -> ProviderError:
        """The provider refused our key (or IP). Every adapter says "authentication failed"
        first, with the provider's detail and a hint when there are; code is "http <status>"
        unless the provider gave its own."""
        words = f"authentication failed: {detail}" if detail else "authentication failed"
        if hint:
            words = f"{words} ({hint})"
        return self._answer_error(REJECTED, words, status=status, code=code or f"http {status}")

    def _unexpected_reply(
        self, response: httpx.Response, data: Any, *, placing: bool, detail: str = ""
    ) -> ProviderError:
        """An answer in no shape the provider documents (or not JSON at all)."""
        what = "an unreadable reply" if data is None else "an unexpected reply"
        message = f"{NAMES.get(self.kind, self.kind)} sent {what}{detail}"
        return self._http_failure(response, placing=placing, message=message)

    def _http_failure(
        self, response: httpx.Response, *, placing: bool, message: str, code: str | None = None
    ) -> ProviderError:
        """Outcome for a failure the provider did not explain in its own terms."""
        status = response.status_code
        code = code or f"http {status}"
        exchange = self.exchanges[-1] if self.exchanges else None
        if status == 429:
            return self._error(
                UNAVAILABLE, message, code=code, http_status=status, exchange=exchange
            )
        if status >= 500 or 200 <= status < 300:
            # A 5xx or an unreadable 2xx after a placing request: the order may exist.
            outcome = UNKNOWN if placing else UNAVAILABLE
            return self._error(
                outcome, message, code=code, http_status=status, transient=True, exchange=exchange
            )
        return self._error(REJECTED, message, code=code, http_status=status, exchange=exchange)

    def _transport_error(
        self, exc: httpx.HTTPError, exchange: Exchange, placing: bool, tries: int
    ) -> ProviderError:
        name = type(exc).__name__
        if placing and not isinstance(exc, _NOT_SENT):
            return self._error(
                UNKNOWN,
                "the order request was sent but no answer came back",
                code=name,
                transient=True,
                exchange=exchange,
            )
        where = "nothing was sent" if isinstance(exc, _NOT_SENT) else "no answer"
        return self._error(
            UNAVAILABLE,
            f"could not reach the provider after {tries} attempt(s): {where}",
            code=name,
            transient=True,
            exchange=exchange,
        )


def _reveal(value: object) -> str:
    """A Secret's value; tolerates a plain str (a model instance not yet reloaded from the DB)."""
    reveal = getattr(value, "reveal", None)
    return reveal() if callable(reveal) else str(value or "")
