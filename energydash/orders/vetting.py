"""Bounds for every value a provider sends, checked before it reaches the database.

Why: a provider's answer arrives after it may have charged. An order id longer than our column,
NaN or 1e30 as an amount, a negative refund or a status nobody documented would, written as-is,
raise a database error (leaving the order stuck in `draft` with a 500) or store garbage in a
money field. So each value is checked here: a good one is returned for the update, a bad one is
left out and described in words, and its raw text is kept for the order's timeline. Callers send
an order with any problem to `needs_review` with those words.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from energydash.lib.tron import format_trx
from energydash.providers import base

MAX_REF = 100  # Order.provider_ref
MAX_RAW_STATUS = 40  # Order.raw_status
# More than every TRX in existence (about 9 x 10^16 sun): no real amount is ever near it.
MAX_SUN = 10**17
MAX_ENERGY = 2_000_000_000  # fits PositiveIntegerField on every database
MAX_TX_HASHES = 20
TX_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
PRINTABLE_REF = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces or control characters
# A raw number in a provider's JSON this large (or NaN/infinite) is no amount, id or time.
MAX_RAW_NUMBER = 10**18
RAW_TEXT_LIMIT = 4_000
KNOWN_STATUSES = frozenset(
    {base.SUBMITTED, base.DELEGATING, base.COMPLETED, base.FAILED, base.REFUNDED}
)


@dataclass
class Vetted:
    """Fields safe to write, and the problems found, in words."""

    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def reason(self) -> str:
        return "; ".join(self.problems)


def raw_text(value: Any, limit: int = RAW_TEXT_LIMIT) -> str:
    """A provider value as text for the timeline: JSON where possible, bounded, no NUL bytes."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = text.replace("\x00", "\\u0000")
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters in all)"
    return text


def _shown(value: Any, limit: int = 60) -> str:
    return raw_text(value, limit)


def vet_ref(value: Any, vetted: Vetted, name: str = "provider order id") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        value = str(value)
    if len(value) > MAX_REF:
        vetted.problems.append(f"the {name} is {len(value):,} characters long (at most {MAX_REF})")
        return None
    if not PRINTABLE_REF.match(value):
        vetted.problems.append(f"the {name} {_shown(value)} has spaces or unprintable characters")
        return None
    return value


def vet_sun(value: Any, vetted: Vetted, name: str) -> int | None:
    """A sun amount: a whole number from 0 to MAX_SUN, or None (and a problem) otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        vetted.problems.append(f"the {name} {_shown(value)} is not a number")
        return None
    if isinstance(value, float | Decimal) and not _finite(value):
        vetted.problems.append(f"the {name} is {value} (not a number)")
        return None
    if value != int(value):
        vetted.problems.append(f"the {name} {value} sun is not a whole number of sun")
        return None
    amount = int(value)
    if amount < 0:
        vetted.problems.append(f"the {name} is negative ({amount:,} sun)")
        return None
    if amount > MAX_SUN:
        vetted.problems.append(
            f"the {name} of {_magnitude(amount)} sun is more TRX than exist (at most "
            f"{format_trx(MAX_SUN, 0)} TRX)"
        )
        return None
    return amount


def vet_energy(value: Any, vetted: Vetted, name: str = "energy delivered") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        vetted.problems.append(f"the {name} {_shown(value)} is not a number")
        return None
    if isinstance(value, float | Decimal) and not _finite(value):
        vetted.problems.append(f"the {name} is {value} (not a number)")
        return None
    amount = int(value)
    if amount < 0 or amount > MAX_ENERGY:
        vetted.problems.append(f"the {name} of {_magnitude(amount)} is out of range")
        return None
    return amount


def vet_raw_status(value: Any, vetted: Vetted) -> str:
    text = "" if value is None else str(value)
    if len(text) > MAX_RAW_STATUS:
        vetted.problems.append(
            f"the provider's status text is {len(text):,} characters long (at most "
            f"{MAX_RAW_STATUS})"
        )
        return text[:MAX_RAW_STATUS].replace("\x00", "")
    return text.replace("\x00", "")


def vet_tx_hashes(values: Iterable[Any] | None, vetted: Vetted) -> list[str] | None:
    """Transaction ids are 64 hex digits; anything else is junk, and so is a list of hundreds."""
    if values is None:
        return None
    items = list(values) if isinstance(values, list | tuple) else [values]
    if len(items) > MAX_TX_HASHES:
        vetted.problems.append(
            f"the provider listed {len(items):,} transaction ids (at most {MAX_TX_HASHES})"
        )
        return None
    junk = [v for v in items if not (isinstance(v, str) and TX_HASH.match(v))]
    if junk:
        vetted.problems.append(
            f"{len(junk)} transaction id(s) are not 64 hex digits: {_shown(junk, 120)}"
        )
    good = [v.lower() for v in items if isinstance(v, str) and TX_HASH.match(v)]
    return list(dict.fromkeys(good))


def vet_status(status: Any, raw_status: str, provider: str, vetted: Vetted) -> str | None:
    """The normalised status, or None when the provider sent one energydash does not know."""
    if status not in KNOWN_STATUSES or not recognised_raw_status(provider, raw_status):
        vetted.problems.append(
            f"the provider reported status {_shown(raw_status, 60)}, which energydash does not "
            "know, so it cannot tell whether the order was delivered"
        )
        return None
    return str(status)


def recognised_raw_status(provider: str, raw_status: str) -> bool:
    """Whether the adapter's status table knows this raw status (itrx and TronZap have one;
    Netts has none: its adapter derives the status from transaction ids)."""
    known = _raw_statuses(provider)
    if known is None:
        return True
    return _normal(raw_status) in known


def _raw_statuses(provider: str) -> frozenset[str] | None:
    from energydash.providers import itrx, tronzap

    modules = {"itrx": itrx, "tronzap": tronzap}
    module = modules.get(provider)
    if module is None:
        return None
    tables = (getattr(module, "STATUS", {}), getattr(module, "CALLBACK_STATUS", {}))
    return frozenset(_normal(code) for table in tables for code in table)


def _normal(value: Any) -> str:
    text = str(value).strip().lower()
    if re.fullmatch(r"-?\d+(\.0+)?", text):
        return str(int(Decimal(text)))
    return text


def odd_numbers(raw: Any, *, depth: int = 0) -> list[str]:
    """Numbers anywhere in a provider's JSON that cannot be amounts, ids or times: NaN,
    infinities, or beyond 10^18. Adapters may quietly turn these into None; this keeps them
    visible."""
    found: list[str] = []
    if depth > 8:
        return found
    if isinstance(raw, dict):
        for key, value in raw.items():
            for item in odd_numbers(value, depth=depth + 1):
                found.append(f"{key}: {item}" if ":" not in item else f"{key}.{item}")
    elif isinstance(raw, list):
        for value in raw[:100]:
            found.extend(odd_numbers(value, depth=depth + 1))
    elif isinstance(raw, float) and not math.isfinite(raw):
        found.append("NaN" if math.isnan(raw) else ("Infinity" if raw > 0 else "-Infinity"))
    elif isinstance(raw, int | float) and not isinstance(raw, bool) and abs(raw) > MAX_RAW_NUMBER:
        found.append(_magnitude(raw))
    return found


def vet_raw(raw: Any, vetted: Vetted, provider: str = "") -> None:
    odd = odd_numbers(raw)
    if odd:
        vetted.problems.append(f"the answer holds numbers that are not amounts: {', '.join(odd)}")
    for key, value in _amounts(raw, AMOUNT_KEYS.get(provider, {})):
        problem = _amount_problem(value, AMOUNT_KEYS[provider][key])
        if problem:
            vetted.problems.append(f"the {key} {_shown(value)} {problem}")


# The raw money fields of each provider's answers and their unit. Adapters quietly read an
# unreadable amount as "no figure" (and round a fraction of a sun); a provider that sends one
# is not behaving, so the orders layer checks the raw value too.
AMOUNT_KEYS: dict[str, dict[str, str]] = {
    "itrx": {"amount": "sun", "refund_amount": "sun", "balance": "sun"},
    "tronzap": {"amount": "trx"},
    "netts": {"paidTRX": "trx", "cost": "trx"},
}


def _amounts(raw: Any, keys: dict[str, str], depth: int = 0) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if not isinstance(raw, dict) or depth > 3:
        return found
    for key, value in raw.items():
        if key in keys and value not in (None, ""):
            found.append((key, value))
        elif isinstance(value, dict):
            found.extend(_amounts(value, keys, depth + 1))
    return found


def _amount_problem(value: Any, unit: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return "is not a number"
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        return "is not a number"
    if not amount.is_finite():
        return "is not a number"
    if abs(amount) > MAX_SUN:  # in sun or TRX: more than exist (also keeps quantize in range)
        return "is more TRX than exist"
    if unit == "sun" and amount != amount.to_integral_value():
        return "is not a whole number of sun"
    if unit == "trx" and amount != amount.quantize(Decimal("0.000001"), rounding="ROUND_DOWN"):
        return "has a fraction of a sun"
    return ""


def _finite(value: float | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


def _magnitude(value: float | int) -> str:
    if abs(value) >= 10**12:
        return f"{float(value):.3g}"
    return f"{int(value):,}"
