"""What every provider adapter shares: normalised results, one error type, and the HTTP handling.

Adapters are framework-free: they take Credentials and an optional httpx.Client and know nothing of
Django models. Money is integer sun everywhere in the results.

The one rule that matters most: a placing (order-creating) request is sent exactly once. If its
answer is lost (timeout, reset, 5xx, garbage) the outcome is UNKNOWN — the provider may have charged
— and the caller must reconcile before retrying. Reads are retried a bounded number of times.
"""

from __future__ import annotations

import abc
import functools
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from energydash.lib.tron import InvalidAddress, validate_address
from energydash.providers import http
from energydash.providers.credentials import Credentials

logger = logging.getLogger("energydash.providers")

SUBMITTED = "submitted"
DELEGATING = "delegating"
COMPLETED = "completed"
FAILED = "failed"
REFUNDED = "refunded"
FINAL_STATUSES = frozenset({COMPLETED, FAILED, REFUNDED})

PERIODS = ("1H", "1D", "3D", "30D")  # canonical spelling (itrx's)

REJECTED = "rejected"
UNAVAILABLE = "unavailable"
UNKNOWN = "unknown"

NAMES = {"itrx": "itrx", "tronzap": "TronZap", "netts": "Netts"}
MAX_RECORDED_BODY = 20_000
REDACTED = "[redacted]"
# Raised before any request byte leaves this machine, so even a placing request cannot have charged.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


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


class ProviderError(Exception):
    """A provider call that did not succeed, with what the operator needs: was anything charged?"""

    def __init__(
        self,
        outcome: str,
        message: str,
        *,
        provider: str = "",
        code: str | None = None,
        http_status: int | None = None,
        transient: bool | None = None,
        exchange: Exchange | None = None,
        not_found: bool = False,
    ) -> None:
        if outcome not in (REJECTED, UNAVAILABLE, UNKNOWN):
            raise ValueError(f"unknown outcome {outcome!r}")
        self.outcome = outcome
        self.message = message
        self.provider = provider
        self.code = code
        self.http_status = http_status
        self.transient = outcome != REJECTED if transient is None else transient
        self.exchange = exchange
        self.not_found = not_found  # the provider said the order does not exist
        super().__init__(str(self))

    @property
    def charged(self) -> str:
        if self.outcome == UNKNOWN:
            return "it may have been charged; reconcile before retrying"
        return "nothing was charged"

    def __str__(self) -> str:
        name = NAMES.get(self.provider, self.provider or "the provider")
        verb = {
            REJECTED: "rejected the request",
            UNAVAILABLE: "is unavailable",
            UNKNOWN: "gave no usable answer",
        }[self.outcome]
        # The provider's own code (errno, HTTP status, exception name) stays out of the words an
        # operator reads; it is kept on the error (`code`) and in the raw exchange on the timeline.
        return f"{name} {verb}: {self.message} — {self.charged}"

    def __repr__(self) -> str:
        return (
            f"ProviderError(outcome={self.outcome!r}, provider={self.provider!r}, "
            f"code={self.code!r}, http_status={self.http_status!r}, message={self.message!r})"
        )

    def __reduce__(self) -> Any:
        kwargs = {
            "provider": self.provider,
            "code": self.code,
            "http_status": self.http_status,
            "transient": self.transient,
            "exchange": self.exchange,
            "not_found": self.not_found,
        }
        return (_rebuild_error, (self.outcome, self.message, kwargs))


def _rebuild_error(outcome: str, message: str, kwargs: dict[str, Any]) -> ProviderError:
    return ProviderError(outcome, message, **kwargs)


class CallbackRejected(Exception):
    """A callback that must not be trusted; status_code is what the receiving view should answer."""

    def __init__(self, status_code: int, reason: str) -> None:
        self.status_code = status_code
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Balance:
    balance_sun: int
    raw: dict


@dataclass(frozen=True)
class Limits:
    min_energy: int | None
    max_energy: int | None
    periods: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    """total_sun is everything the provider says it will charge, activation included when the
    provider reports it (activation_sun); unit_price_sun is the energy-only price per unit."""

    provider: str
    energy: int
    period: str
    total_sun: int
    unit_price_sun: Decimal  # sun per energy
    limits: Limits
    activation_sun: int | None
    raw: dict
    price_source: str = ""  # which provider endpoint the price came from, when there is a choice


@dataclass(frozen=True)
class PlacedOrder:
    provider_ref: str
    status: str
    raw_status: str
    cost_sun: int | None
    balance_after_sun: int | None
    energy: int | None  # energy the provider said it will delegate; None when it did not say
    tx_hashes: tuple[str, ...]
    raw: dict


@dataclass(frozen=True)
class OrderState:
    provider_ref: str
    reference: str | None
    status: str
    raw_status: str
    cost_sun: int | None
    energy_ordered: int | None
    energy_delivered: int | None
    tx_hashes: tuple[str, ...]
    refund_sun: int | None
    raw: dict


@dataclass(frozen=True)
class CallbackEvent:
    provider_ref: str
    reference: str | None
    status: str
    raw_status: str
    energy_delivered: int | None
    tx_hashes: tuple[str, ...]
    raw: dict
    matched_form: str  # "compact" | "spaced" | "raw": which serialization the signature matched


def unit_price(total_sun: int, energy: int) -> Decimal:
    return (Decimal(total_sun) / Decimal(energy)).quantize(Decimal("0.001"))


# Operations whose answers adapters parse, and what an answer that cannot be parsed means: for a
# read, the figure is simply unavailable; after a placing request the order may exist (UNKNOWN).
_READS = ("balance", "quote", "activation_price", "get_order", "summary")
_PLACING = ("place_energy_order", "place_collection_order", "activate_address")
# What parsing an unexpected shape raises: a list where a number was, a missing key, NaN, ...
_UNREADABLE = (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError)


def _guarded(method: Callable[..., Any], outcome: str) -> Callable[..., Any]:
    """Turn a parsing crash inside an operation into the adapter's one error type."""

    @functools.wraps(method)
    def operation(self: Adapter, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ProviderError:
            raise
        except _UNREADABLE as exc:
            name = NAMES.get(self.kind, self.kind)
            raise self._error(
                outcome,
                f"unreadable answer from {name} ({type(exc).__name__} reading it)",
                code="unreadable answer",
                exchange=self.exchanges[-1] if self.exchanges else None,
            ) from exc

    return operation


def _guarded_callback(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def verify(self: Adapter, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (CallbackRejected, ProviderError):
            raise
        except _UNREADABLE as exc:
            raise CallbackRejected(400, f"unreadable callback ({type(exc).__name__})") from exc

    return verify


class Adapter(abc.ABC):
    kind: str = ""
    periods: tuple[str, ...] = ("1H",)
    supports_reference_lookup = False
    supports_collection = False
    supports_activation_order = False
    supports_callbacks = False

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
        self._owns_client = False
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every operation an adapter defines raises nothing but ProviderError (or, verifying a
        callback, CallbackRejected), whatever shape of answer a provider sends."""
        super().__init_subclass__(**kwargs)
        for name, outcome in [(n, UNAVAILABLE) for n in _READS] + [(n, UNKNOWN) for n in _PLACING]:
            if name in cls.__dict__:
                setattr(cls, name, _guarded(cls.__dict__[name], outcome))
        if "verify_callback" in cls.__dict__:
            cls.verify_callback = _guarded_callback(cls.__dict__["verify_callback"])

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Operations -----------------------------------------------------------------------------

    @abc.abstractmethod
    def balance(self) -> Balance: ...

    @abc.abstractmethod
    def quote(
        self, energy: int, period: str, address: str | None = None, *, activate: bool = False
    ) -> Quote:
        """The price of an energy order. With activate=True the total includes what activating
        the address would cost, so a budget checked against it is never understated."""

    @abc.abstractmethod
    def place_energy_order(
        self,
        address: str,
        energy: int,
        period: str,
        reference: str,
        activate: bool = False,
        callback_url: str | None = None,
    ) -> PlacedOrder: ...

    @abc.abstractmethod
    def place_collection_order(
        self,
        address: str,
        reference: str,
        to_address: str | None = None,
        scene: int = 0,
        callback_url: str | None = None,
    ) -> PlacedOrder: ...

    @abc.abstractmethod
    def activate_address(self, address: str, reference: str) -> PlacedOrder: ...

    def activation_price(self, address: str | None = None) -> int:
        """Sun the provider charges to activate an address (a read; nothing is charged)."""
        name = NAMES.get(self.kind, self.kind)
        raise self._unsupported(f"{name} publishes no separate activation price")

    @abc.abstractmethod
    def get_order(
        self, provider_ref: str | None = None, reference: str | None = None
    ) -> OrderState: ...

    @abc.abstractmethod
    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> CallbackEvent: ...

    # Helpers for subclasses -----------------------------------------------------------------

    def _error(self, outcome: str, message: str, **kw: Any) -> ProviderError:
        return ProviderError(outcome, self._scrub(message), provider=self.kind, **kw)

    def _check_order_args(self, address: str | None, energy: int | None, period: str | None) -> str:
        """Validate what we can before any HTTP call; returns the cleaned address ("" if None)."""
        if period is not None and period not in self.periods:
            allowed = ", ".join(self.periods)
            raise self._error(REJECTED, f"period {period!r} is not offered; use one of {allowed}")
        if energy is not None and (
            isinstance(energy, bool) or not isinstance(energy, int) or energy <= 0
        ):
            raise self._error(REJECTED, f"energy must be a positive whole number, got {energy!r}")
        if address is None:
            return ""
        try:
            return validate_address(address)
        except InvalidAddress as exc:
            raise self._error(REJECTED, f"invalid TRON address: {exc}") from None

    def _key(self) -> str:
        return _reveal(self.credentials.api_key)

    def _secret(self) -> str:
        return _reveal(self.credentials.api_secret)

    def _scrub(self, text: str) -> str:
        """Replace the key, the secret and any signature we sent, wherever they are echoed."""
        values = [self._key(), self._secret()]
        for value in (*values, *self._redacted):
            if value and len(value) >= 4:
                text = text.replace(value, REDACTED)
        return text

    def _url(self, path: str) -> str:
        return self.credentials.base_url.rstrip("/") + path

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str],
        placing: bool,
        redact: tuple[str, ...] = (),
    ) -> httpx.Response:
        """One placing attempt, or a read with bounded retries on transport errors, 5xx and 429.

        Returns the final response whatever its status; raises ProviderError when no response came.
        `redact` lists per-request secrets (signatures) to keep out of recorded bodies.
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
            except httpx.HTTPError as exc:
                exchange = self._record(request, content, None, "", started, type(exc).__name__)
                last_try = attempt == attempts - 1 or not isinstance(exc, _RETRYABLE)
                if last_try:
                    raise self._transport_error(exc, exchange, placing, attempt + 1) from None
                self._backoff(attempt, None)
                continue
            exchange = self._record(
                request, content, response.status_code, response.text, started, ""
            )
            retry = response.status_code == 429 or response.status_code >= 500
            if retry and attempt < attempts - 1:
                self._backoff(attempt, response)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(
        self,
        request: httpx.Request,
        content: bytes | None,
        status: int | None,
        text: str,
        started: float,
        error: str,
    ) -> Exchange:
        elapsed_ms = int((time.monotonic() - started) * 1000)
        exchange = Exchange(
            method=request.method,
            url=self._scrub(request.url.raw_path.decode("ascii", "replace")),
            request_body=self._scrub((content or b"").decode("utf-8", "replace")),
            status_code=status,
            response_body=self._scrub(text)[:MAX_RECORDED_BODY],
            elapsed_ms=elapsed_ms,
            error=error,
        )
        self.exchanges.append(exchange)
        outcome = status if status is not None else error
        log = logger.info if status is not None and status < 400 else logger.warning
        log(
            "%s %s %s -> %s in %d ms",
            self.kind,
            request.method,
            request.url.path,
            outcome,
            elapsed_ms,
        )
        return exchange

    def _backoff(self, attempt: int, response: httpx.Response | None) -> None:
        delay = min(0.5 * 2**attempt, 4.0)
        retry_after = response.headers.get("retry-after", "") if response is not None else ""
        if retry_after.isdigit():
            delay = min(float(retry_after), 10.0)
        self._sleep(delay)

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

    def _decode(self, response: httpx.Response) -> Any:
        """The JSON body, or None when it is not JSON."""
        try:
            return json.loads(response.content)
        except ValueError:
            return None

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

    def _unsupported(self, message: str) -> ProviderError:
        return self._error(REJECTED, message, transient=False)


def _reveal(value: object) -> str:
    """A Secret's value; tolerates a plain str (a model instance not yet reloaded from the DB)."""
    reveal = getattr(value, "reveal", None)
    return reveal() if callable(reveal) else str(value or "")


def lookup_header(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive header lookup that also accepts Django's META spelling (HTTP_NAME)."""
    wanted = {name.lower(), "http_" + name.lower().replace("-", "_")}
    for key, value in headers.items():
        if str(key).lower() in wanted:
            return str(value).strip()
    return ""
