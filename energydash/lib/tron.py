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


def format_trx(sun: int | None, places: int = 6) -> str:
    """'12.345678 TRX'-style text for templates and commands; '—' for unknown."""
    if sun is None:
        return "—"
    quant = Decimal(1).scaleb(-places)
    return f"{sun_to_trx(sun).quantize(quant):,}"
