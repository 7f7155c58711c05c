"""How a provider call can fail, and the two exception types adapters raise.

Every failure has one of three outcomes, and the outcome answers the operator's question "was
anything charged?":

* REJECTED: the provider refused the request (or we refused it before sending): nothing charged.
* UNAVAILABLE: no usable answer to a read, or a request that never left: nothing charged.
* UNKNOWN: an order-creating request went out and its answer was lost or unreadable: the provider
  may have charged, so the order must be reconciled before anything is retried.

ProviderError is the one error an adapter operation raises; CallbackRejected is what verifying a
callback raises when the callback must not be trusted.
"""

from __future__ import annotations

from typing import Any

from energydash.providers.exchange import Exchange

REJECTED = "rejected"
UNAVAILABLE = "unavailable"
UNKNOWN = "unknown"

NAMES = {"itrx": "itrx", "tronzap": "TronZap", "netts": "Netts"}


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
