"""ABI encoding of the one contract call the reader makes: TRC-20 `transfer(address,uint256)`.

An address argument is its 20-byte body (the 21-byte Base58Check payload without the 0x41
prefix), left-padded to 32 bytes; the amount is a 32-byte big-endian unsigned integer.
"""

from __future__ import annotations

from energydash.lib.tron import InvalidAddress, validate_address

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # USDT-TRC20 on mainnet
TRANSFER = "transfer(address,uint256)"
UINT256_MAX = 2**256 - 1


def address_bytes(address: str) -> bytes:
    """The 21-byte form (0x41 + 20 bytes) of a T-address; raises InvalidAddress.

    lib.tron validates the checksum; this only turns the validated text into bytes.
    """
    text = validate_address(address)
    number = 0
    for ch in text:
        number = number * 58 + _ALPHABET.index(ch)
    raw = number.to_bytes(25, "big")  # 21 bytes of payload + 4 of checksum, validated above
    if raw[0] != 0x41:
        raise InvalidAddress("it does not decode to a TRON address")
    return raw[:21]


def address_word(address: str) -> str:
    """The address as one 32-byte ABI word, in hex."""
    return address_bytes(address)[1:].rjust(32, b"\0").hex()


def uint_word(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT256_MAX:
        raise ValueError(f"{value!r} is not a uint256")
    return value.to_bytes(32, "big").hex()


def transfer_parameter(to: str, amount: int) -> str:
    """The `parameter` of triggerconstantcontract for transfer(to, amount): 64 bytes in hex."""
    return address_word(to) + uint_word(amount)
