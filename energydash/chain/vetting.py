"""Every node answer is checked before use: a JSON object, the fields of the documented types,
whole non-negative numbers within int64 (sun within the TRX that exist), valid Base58 addresses.

Why: a node (or a proxy in front of it) can answer anything: HTML, a truncated body, numbers as
strings, 1e30, an error envelope with status 200. A verdict about delivered energy rests on these
figures, so one that does not fit is never guessed at: the whole answer is unreadable and says
why. Fields the node leaves out are 0 (java-tron omits zero values from its JSON).
"""

from __future__ import annotations

import json
import re
from typing import Any

from energydash.chain import answers
from energydash.lib.tron import is_valid_address

INT64_MAX = 2**63 - 1
# More than every TRX in existence (about 9 x 10^16 sun): no real balance or stake is near it.
MAX_SUN = 10**17
MAX_LIST = 1_000  # delegators or entries in one answer; more is not an answer we can use
MAX_TEXT = 200
TXID = re.compile(r"^[0-9a-fA-F]{64}$")


class Unreadable(Exception):
    """The answer does not fit what the node documents; `problems` says how, in words."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class Refused(Exception):
    """The node's error envelope: {"Error": "..."}."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(text)


def shown(value: Any, limit: int = 60) -> str:
    """A value as bounded, printable text for a message."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


def text(value: Any, limit: int = MAX_TEXT) -> str:
    raw = value if isinstance(value, str) else shown(value, limit)
    raw = "".join(ch if ch.isprintable() else "?" for ch in raw)
    return raw if len(raw) <= limit else raw[:limit] + "…"


def _readable(value: Any) -> Any:
    """The node hex-encodes its messages unless visible=true; show words either way."""
    if isinstance(value, str) and value and len(value) % 2 == 0:
        try:
            decoded = bytes.fromhex(value).decode("utf-8")
        except ValueError:
            return value
        if decoded.isprintable():
            return decoded
    return value or ""


def json_object(data: Any) -> dict[str, Any]:
    """The answer as a dict; the node's error envelope raises Refused, anything else Unreadable."""
    if not isinstance(data, dict):
        kind = "nothing" if data is None else type(data).__name__
        raise Unreadable([f"the answer is {kind}, not a JSON object"])
    for key in ("Error", "error"):
        if key in data:
            raise Refused(text(data[key]))
    return data


def whole(data: dict[str, Any], key: str, problems: list[str], *, sun: bool = False) -> int:
    """A non-negative int64 field; a missing field is 0. Problems are collected, 0 returned."""
    if key not in data:
        return 0
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{key} {shown(value)} is not a whole number")
        return 0
    if value < 0:
        problems.append(f"{key} is negative ({value:,})")
        return 0
    if value > INT64_MAX:
        problems.append(f"{key} {float(value):.3g} is beyond a 64-bit integer")
        return 0
    if sun and value > MAX_SUN:
        problems.append(f"{key} {float(value):.3g} sun is more TRX than exist")
        return 0
    return value


def chain_time(data: dict[str, Any], key: str, problems: list[str]) -> int:
    value = whole(data, key, problems)
    if value > answers.MAX_TIME_MS:
        problems.append(f"{key} {value:,} ms is after the year 9999")
        return 0
    return value


def address(value: Any, name: str, problems: list[str]) -> str:
    if isinstance(value, str) and is_valid_address(value):
        return value
    problems.append(f"{name} {shown(value)} is not a Base58 TRON address")
    return ""


def address_list(data: dict[str, Any], key: str, problems: list[str]) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key} {shown(value)} is not a list")
        return ()
    if len(value) > MAX_LIST:
        problems.append(f"{key} lists {len(value):,} addresses (at most {MAX_LIST:,})")
        return ()
    found = [address(item, f"an entry of {key}", problems) for item in value]
    return tuple(dict.fromkeys(a for a in found if a))


def _done[T](value: T, problems: list[str]) -> T:
    if problems:
        raise Unreadable(problems)
    return value


def account_resource(data: Any) -> answers.AccountResource:
    raw = json_object(data)
    problems: list[str] = []
    fields = {
        "energy_limit": "EnergyLimit",
        "energy_used": "EnergyUsed",
        "net_limit": "NetLimit",
        "net_used": "NetUsed",
        "free_net_limit": "freeNetLimit",
        "free_net_used": "freeNetUsed",
        "total_energy_limit": "TotalEnergyLimit",
        "total_energy_weight": "TotalEnergyWeight",
    }
    values = {name: whole(raw, key, problems) for name, key in fields.items()}
    return _done(answers.AccountResource(**values), problems)


def account(data: Any, asked: str) -> answers.Account:
    raw = json_object(data)
    if not raw:
        return answers.Account(asked, activated=False, balance_sun=0, create_time_ms=None)
    problems: list[str] = []
    if "address" in raw:
        answered = address(raw["address"], "address", problems)
        if answered and answered != asked:
            problems.append(f"the answer is about {answered}, not {asked}")
    balance = whole(raw, "balance", problems, sun=True)
    created = chain_time(raw, "create_time", problems) or None
    return _done(answers.Account(asked, True, balance, created), problems)


def delegation_index(data: Any, asked: str) -> answers.DelegationIndex:
    raw = json_object(data)
    problems: list[str] = []
    if "account" in raw:
        answered = address(raw["account"], "account", problems)
        if answered and answered != asked:
            problems.append(f"the answer is about {answered}, not {asked}")
    index = answers.DelegationIndex(
        asked,
        address_list(raw, "fromAccounts", problems),
        address_list(raw, "toAccounts", problems),
    )
    return _done(index, problems)


def delegated_resources(
    data: Any, delegator: str, receiver: str
) -> tuple[answers.DelegatedResource, ...]:
    raw = json_object(data)
    items = raw.get("delegatedResource", [])
    if not isinstance(items, list):
        raise Unreadable([f"delegatedResource {shown(items)} is not a list"])
    if len(items) > MAX_LIST:
        raise Unreadable([f"delegatedResource has {len(items):,} entries"])
    problems: list[str] = []
    found = []
    for item in items:
        if not isinstance(item, dict):
            problems.append(f"an entry of delegatedResource {shown(item)} is not an object")
            continue
        entry = answers.DelegatedResource(
            delegator=address(item.get("from"), "from", problems),
            receiver=address(item.get("to"), "to", problems),
            energy_sun=whole(item, "frozen_balance_for_energy", problems, sun=True),
            energy_expire_ms=chain_time(item, "expire_time_for_energy", problems),
            bandwidth_sun=whole(item, "frozen_balance_for_bandwidth", problems, sun=True),
            bandwidth_expire_ms=chain_time(item, "expire_time_for_bandwidth", problems),
        )
        if (
            entry.delegator
            and entry.receiver
            and (entry.delegator, entry.receiver)
            != (
                delegator,
                receiver,
            )
        ):
            problems.append(
                f"an entry is from {entry.delegator} to {entry.receiver}, not the pair asked"
            )
        found.append(entry)
    return _done(tuple(found), problems)


def transaction_info(data: Any, txid: str) -> answers.TransactionInfo:
    raw = json_object(data)
    if not raw:
        return answers.TransactionInfo(txid, None, None, None, failed=False)
    problems: list[str] = []
    answered = raw.get("id")
    if not (isinstance(answered, str) and answered.lower() == txid.lower()):
        problems.append(f"the answer is about transaction {shown(answered)}, not the one asked")
    if "blockNumber" not in raw:
        problems.append("blockNumber is missing")
    block = whole(raw, "blockNumber", problems)
    stamp = chain_time(raw, "blockTimeStamp", problems)
    receipt = raw.get("receipt", {})
    result = None
    if not isinstance(receipt, dict):
        problems.append(f"receipt {shown(receipt)} is not an object")
    elif "result" in receipt:
        if isinstance(receipt["result"], str) and len(receipt["result"]) <= 40:
            result = receipt["result"]
        else:
            problems.append(f"receipt.result {shown(receipt['result'])} is not a result name")
    failed = raw.get("result") == "FAILED"
    return _done(answers.TransactionInfo(txid, block, stamp or None, result, failed), problems)


def transfer_estimate(data: Any) -> answers.TransferEstimate:
    raw = json_object(data)
    result = raw.get("result")
    if not isinstance(result, dict):
        raise Unreadable([f"result {shown(result)} is not an object"])
    succeeded = result.get("result") is True
    message = "" if succeeded else text(_readable(result.get("message") or result.get("code")))
    problems: list[str] = []
    if succeeded and "energy_used" not in raw:
        problems.append("energy_used is missing")
    energy = whole(raw, "energy_used", problems)
    penalty = whole(raw, "energy_penalty", problems)
    return _done(answers.TransferEstimate(energy, penalty, succeeded, message), problems)


# The sun burned per missing energy has been 100 to 420 on mainnet; a figure outside this band is
# not one a fee_limit should rest on.
ENERGY_FEE_RANGE = (1, 10_000)


def chain_parameters(data: Any) -> answers.ChainParameters:
    raw = json_object(data)
    entries = raw.get("chainParameter")
    if not isinstance(entries, list) or len(entries) > MAX_LIST:
        raise Unreadable([f"chainParameter {shown(entries)} is not a list"])
    fees = [e for e in entries if isinstance(e, dict) and e.get("key") == "getEnergyFee"]
    if len(fees) != 1:
        raise Unreadable([f"getEnergyFee appears {len(fees)} times, not once"])
    problems: list[str] = []
    if "value" not in fees[0]:
        problems.append("getEnergyFee has no value")
    fee = whole(fees[0], "value", problems)
    low, high = ENERGY_FEE_RANGE
    if not problems and not low <= fee <= high:
        problems.append(f"getEnergyFee {fee:,} sun is outside {low:,} to {high:,}")
    return _done(answers.ChainParameters(fee), problems)
