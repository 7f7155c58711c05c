"""TRON addresses and money units, without Django."""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

SUN_PER_TRX = 1_000_000
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(_ALPHABET)}


class InvalidAddress(ValueError):
    """The string is not a TRON mainnet address; the message says why, for the operator."""


def _b58decode(text: str) -> bytes:
    number = 0
    for ch in text:
        if ch not in _INDEX:
            raise InvalidAddress(f"contains {ch!r}, which is not a Base58 character")
        number = number * 58 + _INDEX[ch]
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    leading_zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading_zeros + raw


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _ALPHABET[rem] + out
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading_zeros + out


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def validate_address(text: str) -> str:
    """Return the address stripped of surrounding spaces, or raise InvalidAddress saying why."""
    address = (text or "").strip()
    if not address:
        raise InvalidAddress("an address is required")
    if len(address) != 34:
        raise InvalidAddress(f"a TRON address has 34 characters, this one has {len(address)}")
    if not address.startswith("T"):
        raise InvalidAddress("a TRON address starts with T")
    raw = _b58decode(address)
    if len(raw) != 25 or raw[0] != 0x41:
        raise InvalidAddress("it does not decode to a 21-byte TRON address (prefix 0x41)")
    if _checksum(raw[:21]) != raw[21:]:
        raise InvalidAddress("its checksum does not match; check for a mistyped character")
    return address


def is_valid_address(text: str) -> bool:
    try:
        validate_address(text)
    except InvalidAddress:
        return False
    return True


def address_from_payload(payload: bytes) -> str:
    """Build a valid address from 20 bytes (used by the sandbox and tests to mint addresses)."""
    if len(payload) != 20:
        raise ValueError("payload must be 20 bytes")
    body = b"\x41" + payload
    return _b58encode(body + _checksum(body))


def trx_to_sun(value: object) -> int:
    """Convert a TRX amount given as number or string to integer sun, exactly.

    Floats go through str() so 2.23 becomes Decimal("2.23"), not its binary approximation.
    Sub-sun fractions are rounded half-up (providers never send them in practice).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a TRX amount: {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not a TRX amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a TRX amount: {value!r}")
    return int((amount * SUN_PER_TRX).to_integral_value(rounding=ROUND_HALF_UP))


def sun_to_trx(sun: int) -> Decimal:
    return Decimal(int(sun)) / SUN_PER_TRX


def exact_trx(sun: int | None) -> str | None:
    """Integer sun as an exact TRX string ("1.500000") for JSON and CSV; None stays None."""
    if sun is None:
        return None
    return str(sun_to_trx(sun).quantize(Decimal("0.000001")))


def format_trx(sun: int | None, places: int = 6) -> str:
    """'1,234.345678'-style TRX text for templates and commands; '—' for unknown.

    Always grouped in thousands; 2 places in tables, 6 where the exact amount matters.
    """
    if sun is None:
        return "—"
    quant = Decimal(1).scaleb(-places)
    return f"{sun_to_trx(sun).quantize(quant, rounding=ROUND_HALF_UP):,}"


def format_energy(energy: int | None) -> str:
    """Energy (or any whole count, such as sun) grouped in thousands: 50,000,000; '—' unknown."""
    if energy is None or energy == "":
        return "—"
    return f"{int(energy):,}"


def format_unit_price(sun_per_energy: object) -> str:
    """Sun per energy with a fixed two places (65.00), so columns of prices line up."""
    if sun_per_energy is None or sun_per_energy == "":
        return "—"
    try:
        value = Decimal(str(sun_per_energy))
    except InvalidOperation:
        return "—"
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


MAX_TRX_INPUT = Decimal(10) ** 12  # far above any real prepaid balance, far below BigInteger


def parse_trx(text: object) -> int:
    """TRX typed by a person ('1,000.5', '0.000001') to integer sun, refusing anything inexact.

    Unlike trx_to_sun (for provider answers) nothing is rounded: a seventh decimal place,
    a negative amount or text that is not a number raises ValueError with words for the
    operator. Thousands separators (',', '_', spaces) are accepted.
    """
    raw = str(text if text is not None else "").strip()
    cleaned = raw.replace(",", "").replace("_", "").replace(" ", "").removesuffix("TRX")
    cleaned = cleaned.strip()
    if not cleaned:
        raise ValueError("Enter an amount in TRX.")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount in TRX (for example 500 or 12.5).") from None
    if not amount.is_finite():
        raise ValueError(f"{raw!r} is not an amount in TRX (for example 500 or 12.5).")
    if amount < 0:
        raise ValueError("The amount cannot be negative.")
    if amount >= MAX_TRX_INPUT:
        raise ValueError(f"{raw} TRX is more than this console accepts.")
    sun = amount * SUN_PER_TRX
    if sun != sun.to_integral_value():
        raise ValueError(
            "TRX has at most 6 decimal places (1 sun = 0.000001 TRX); "
            f"{raw} has more. Round it to whole sun."
        )
    return int(sun)
