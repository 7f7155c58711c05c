"""What every chain read answers: an outcome, the vetted value when there is one, and the
exchanges it took. Readers never raise to their callers; the outcome says what happened."""

from __future__ import annotations

from dataclasses import dataclass, field

OK = "ok"
# No node configured (ENERGYDASH_TRON_API_URL empty): nothing was asked, nothing is known.
NOT_VERIFIED = "not_verified"
# The question itself was wrong (an invalid address or transaction id); nothing was sent.
INVALID = "invalid"
# The node answered and refused: its error envelope ({"Error": ...}) or a 4xx it explained.
REFUSED = "refused"
# No usable answer in time: rate limits (403/429/503) or transport errors after the bounded
# retries, or our own request budget used up.
UNAVAILABLE = "unavailable"
# An answer came but cannot be trusted: not JSON, wrong types, negative or absurd numbers.
UNREADABLE = "unreadable"
OUTCOMES = frozenset({OK, NOT_VERIFIED, INVALID, REFUSED, UNAVAILABLE, UNREADABLE})

WORDS = {
    OK: "read from the chain",
    NOT_VERIFIED: "not verified",
    INVALID: "not asked",
    REFUSED: "refused by the node",
    UNAVAILABLE: "chain unavailable",
    UNREADABLE: "unreadable answer",
}


@dataclass(frozen=True)
class Exchange:
    """One HTTP attempt to the node, as recorded. Headers (the API key) are never recorded."""

    method: str
    url: str  # path only
    request_body: str
    status_code: int | None
    response_body: str
    elapsed_ms: int
    error: str = ""


@dataclass(frozen=True)
class Reading[T]:
    """The answer to one question put to the chain.

    `value` is set only when `outcome` is OK. `message` says, in words for an operator, why not.
    `calls` counts the node requests the question took (retries included).
    """

    outcome: str
    value: T | None = None
    message: str = ""
    http_status: int | None = None
    exchanges: tuple[Exchange, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    @property
    def calls(self) -> int:
        return len(self.exchanges)

    @property
    def words(self) -> str:
        return WORDS[self.outcome]

    def __str__(self) -> str:
        return f"{self.words}: {self.message}" if self.message else self.words
