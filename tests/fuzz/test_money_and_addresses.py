"""Money maths and address validation, against independent reference implementations."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from energydash.lib.tron import (
    MAX_TRX_INPUT,
    SUN_PER_TRX,
    InvalidAddress,
    address_from_payload,
    format_trx,
    parse_trx,
    sun_to_trx,
    trx_to_sun,
    validate_address,
)
from tests.fuzz.conftest import fuzz

# Reference Base58Check, written from the definition, digit by digit on a byte array (no big
# integers), so it shares no code or method with energydash.lib.tron.
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def ref_b58decode(text: str) -> bytes | None:
    out: list[int] = []  # little-endian base-256 digits
    for ch in text:
        carry = B58.find(ch)
        if carry < 0:
            return None
        for i, byte in enumerate(out):
            carry += byte * 58
            out[i] = carry & 0xFF
            carry >>= 8
        while carry:
            out.append(carry & 0xFF)
            carry >>= 8
    zeros = len(text) - len(text.lstrip("1"))
    return bytes(zeros) + bytes(reversed(out))


def ref_b58encode(data: bytes) -> str:
    digits: list[int] = []  # little-endian base-58 digits
    for byte in data:
        carry = byte
        for i, digit in enumerate(digits):
            carry += digit << 8
            digits[i] = carry % 58
            carry //= 58
        while carry:
            digits.append(carry % 58)
            carry //= 58
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(B58[d] for d in reversed(digits))


def ref_checksum(body: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4]


def ref_is_tron_address(text: str) -> bool:
    """Mainnet TRON: 34 Base58 characters decoding to 0x41 + 20 bytes + a valid checksum."""
    text = text.strip()
    if len(text) != 34:
        return False
    raw = ref_b58decode(text)
    return (
        raw is not None and len(raw) == 25 and raw[0] == 0x41 and ref_checksum(raw[:21]) == raw[21:]
    )


def ref_address(prefix: int, payload: bytes) -> str:
    body = bytes([prefix]) + payload
    return ref_b58encode(body + ref_checksum(body))


def accepts(text: str) -> bool:
    try:
        return validate_address(text) == text.strip()
    except InvalidAddress:
        return False


PAYLOADS = st.binary(min_size=20, max_size=20)


@fuzz(max_examples=300)
@given(PAYLOADS)
@example(bytes(20))
@example(b"\xff" * 20)
def test_every_mainnet_payload_makes_an_address_both_implementations_accept(payload):
    address = ref_address(0x41, payload)
    assert address_from_payload(payload) == address
    assert address.startswith("T") and len(address) == 34
    assert accepts(address) and ref_is_tron_address(address)
    assert ref_b58decode(address)[1:21] == payload


@fuzz(max_examples=300)
@given(PAYLOADS, st.integers(0, 33), st.sampled_from(B58))
def test_a_changed_character_is_judged_the_same_by_both(payload, position, char):
    address = ref_address(0x41, payload)
    typo = address[:position] + char + address[position + 1 :]
    assert accepts(typo) == ref_is_tron_address(typo)


@fuzz(max_examples=200)
@given(st.integers(0, 255), st.binary(min_size=18, max_size=22))
def test_other_prefixes_and_lengths_are_judged_the_same_by_both(prefix, payload):
    candidate = ref_address(prefix, payload)
    assert accepts(candidate) == ref_is_tron_address(candidate)
    if prefix != 0x41 or len(payload) != 20:
        assert not accepts(candidate)


@fuzz(max_examples=300)
@given(
    st.one_of(
        st.text(alphabet=B58, min_size=30, max_size=38).map(lambda s: "T" + s),
        st.text(max_size=40),
        st.text(alphabet=B58 + "0OIl \x00\t", min_size=34, max_size=34),
    )
)
def test_random_text_is_judged_the_same_by_both(text):
    assert accepts(text) == ref_is_tron_address(text)


SUN = st.integers(min_value=0, max_value=int(MAX_TRX_INPUT) * SUN_PER_TRX - 1)


@fuzz(max_examples=300)
@given(SUN)
@example(0)
@example(1)
@example(999_999)
@example(int(MAX_TRX_INPUT) * SUN_PER_TRX - 1)
def test_sun_to_trx_and_back_is_exact(sun):
    trx = sun_to_trx(sun)
    assert trx == Decimal(sun) / SUN_PER_TRX
    assert trx_to_sun(trx) == sun
    assert trx_to_sun(str(trx)) == sun
    assert trx_to_sun(format(trx, "f")) == sun


@fuzz(max_examples=300)
@given(SUN)
def test_what_the_console_shows_an_operator_types_back_to_the_same_sun(sun):
    shown = format_trx(sun)  # "1,234.567890", always six places
    assert parse_trx(shown) == sun
    assert parse_trx(shown + " TRX") == sun


@fuzz(max_examples=200)
@given(st.integers(min_value=-(10**18), max_value=10**18), st.integers(0, 6))
def test_trx_with_up_to_six_places_converts_exactly(units, places):
    trx = Decimal(units).scaleb(-places)
    assert trx_to_sun(trx) == units * 10 ** (6 - places)


@fuzz(max_examples=300)
@given(st.one_of(st.text(max_size=30), st.floats(), st.integers()))
def test_parse_trx_accepts_exactly_or_refuses_with_a_value_error(value):
    try:
        sun = parse_trx(value)
    except ValueError:
        return
    assert type(sun) is int and 0 <= sun < int(MAX_TRX_INPUT) * SUN_PER_TRX
    assert Decimal(sun) / SUN_PER_TRX == Decimal(
        str(value).replace(",", "").replace("_", "").replace(" ", "").removesuffix("TRX").strip()
    )
