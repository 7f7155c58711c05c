"""The TRON chain simulated: a full node's /wallet/... reads, at /sandbox/chain/wallet/...

POST JSON with `"visible": true` (Base58 addresses in and out), TronGrid's field names and units
(sun, ms since the epoch). As java-tron does, an unknown address answers `{}`, fields that would
be zero or empty are left out, and errors are `{"Error": "..."}` with HTTP 200. Over the
ChainNetwork's rate limit, requests get its status (429 by default) as TronGrid's limits do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from energydash.lib.tron import InvalidAddress, validate_address
from energydash.sandbox import chain_consumption
from energydash.sandbox.chain_models import ChainAccount, ChainDelegation, ChainNetwork
from energydash.sandbox.http import endpoint, json_response, parse_json
from energydash.sandbox.models import SandboxAddress

Answer = dict[str, Any]
Handler = Callable[[Answer, datetime, ChainNetwork], Answer]
RATE_KEY = "sandbox-chain-rate"


class ChainError(Exception):
    """Answered as the node's error envelope: {"Error": message}, HTTP 200."""


def _not_allowed(method: str) -> HttpResponse:
    return json_response({"Error": f"HTTP method {method} is not supported"}, status=405)


def chain_endpoint(handler: Handler) -> Callable[[HttpRequest], HttpResponse]:
    @endpoint("POST", _not_allowed)
    @wraps(handler)
    def view(request: HttpRequest) -> HttpResponse:
        network = ChainNetwork.current()
        if limited := _rate_limited(network):
            return limited
        try:
            body = parse_json(request.body)
            if not isinstance(body, dict):
                raise ChainError("the request body must be a JSON object")
            return json_response(handler(body, timezone.now(), network))
        except ValueError:
            return json_response({"Error": "the request body is not JSON"})
        except ChainError as exc:
            return json_response({"Error": str(exc)})

    return view


def _rate_limited(network: ChainNetwork) -> HttpResponse | None:
    if not network.rate_limit_qps:
        return None
    key = f"{RATE_KEY}:{int(time.time())}"
    try:
        cache.add(key, 0, timeout=5)
        count = cache.incr(key)
    except Exception:  # a simulation without its counter simply does not limit
        return None
    if count <= network.rate_limit_qps:
        return None
    ChainNetwork.objects.filter(pk=network.pk).update(
        rate_limited_answers=F("rate_limited_answers") + 1
    )
    response = json_response(
        {"Error": f"over the sandbox chain's limit of {network.rate_limit_qps} requests a second"},
        status=network.rate_limit_status,
    )
    if network.rate_limit_retry_after:
        response["Retry-After"] = str(network.rate_limit_retry_after)
    return response


def body_address(body: Answer, key: str) -> str:
    if body.get("visible") is not True:
        raise ChainError("the sandbox chain speaks visible=true only (Base58 addresses)")
    value = body.get(key)
    try:
        return validate_address(value if isinstance(value, str) else "")
    except InvalidAddress:
        raise ChainError(f"Invalid {key}") from None


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _received_sun(address: str, now: datetime) -> int:
    return sum(
        ChainDelegation.objects.on_chain(now)
        .filter(receiver=address)
        .values_list("staked_sun", flat=True)
    )


def _without_zeros(answer: Answer) -> Answer:
    """java-tron leaves zero numbers and empty lists out of its JSON."""
    return {k: v for k, v in answer.items() if v not in (0, [], "", None)}


@chain_endpoint
def getaccountresource(body: Answer, now: datetime, network: ChainNetwork) -> Answer:
    address = body_address(body, "address")
    if not SandboxAddress.is_activated(address):
        return {}
    resources = chain_consumption.energy(address, now, network)
    return _without_zeros(
        {
            "freeNetLimit": network.free_net_limit,
            "EnergyLimit": resources.limit,
            "EnergyUsed": resources.used,
            "TotalNetLimit": network.total_net_limit,
            "TotalNetWeight": network.total_net_weight,
            "TotalEnergyLimit": network.total_energy_limit,
            "TotalEnergyWeight": network.total_energy_weight,
        }
    )


@chain_endpoint
def getchainparameters(body: Answer, now: datetime, network: ChainNetwork) -> Answer:
    """A few of mainnet's parameters, getEnergyFee from the network row."""
    return {
        "chainParameter": [
            {"key": "getMaintenanceTimeInterval", "value": 21_600_000},
            {"key": "getTransactionFee", "value": 1000},
            {"key": "getEnergyFee", "value": network.energy_fee_sun},
            {"key": "getCreateAccountFee", "value": 100_000},
            {"key": "getAllowTvmTransferTrc10"},  # java-tron leaves zero values out
        ]
    }


# A fixed creation time for activated addresses the sandbox has no ChainAccount for.
DEFAULT_CREATE_TIME_MS = 1_600_000_000_000


@chain_endpoint
def getaccount(body: Answer, now: datetime, network: ChainNetwork) -> Answer:
    address = body_address(body, "address")
    if not SandboxAddress.is_activated(address):
        return {}
    details = ChainAccount.objects.filter(address=address).first()
    delegated_out = ChainDelegation.objects.on_chain(now).filter(delegator=address)
    answer = _without_zeros(
        {
            "address": address,
            "balance": details.balance_sun if details else 0,
            "acquired_delegated_frozenV2_balance_for_energy": _received_sun(address, now),
            "delegated_frozenV2_balance_for_energy": sum(
                delegated_out.values_list("staked_sun", flat=True)
            ),
        }
    )
    activated_at = (
        SandboxAddress.objects.filter(address=address)
        .values_list("activated_at", flat=True)
        .first()
    )
    if details:
        answer["create_time"] = ms(details.created_at)
    elif activated_at:  # activated by a sandbox order: created then, as the real chain says
        answer["create_time"] = ms(activated_at)
    else:
        answer["create_time"] = DEFAULT_CREATE_TIME_MS
    return answer


@chain_endpoint
def getdelegatedresourceaccountindexv2(
    body: Answer, now: datetime, network: ChainNetwork
) -> Answer:
    address = body_address(body, "value")
    on_chain = ChainDelegation.objects.on_chain(now)
    delegators = on_chain.filter(receiver=address).values_list("delegator", flat=True)
    receivers = on_chain.filter(delegator=address).values_list("receiver", flat=True)
    from_accounts = list(dict.fromkeys(delegators))
    to_accounts = list(dict.fromkeys(receivers))
    if not from_accounts and not to_accounts:
        return {}
    return _without_zeros(
        {"account": address, "fromAccounts": from_accounts, "toAccounts": to_accounts}
    )


@chain_endpoint
def getdelegatedresourcev2(body: Answer, now: datetime, network: ChainNetwork) -> Answer:
    delegator = body_address(body, "fromAddress")
    receiver = body_address(body, "toAddress")
    rows = list(
        ChainDelegation.objects.on_chain(now).filter(delegator=delegator, receiver=receiver)
    )
    if not rows:
        return {}
    # The chain keeps one locked record per pair: several delegations add up, and the lock ends
    # with the latest of them.
    entry = {
        "from": delegator,
        "to": receiver,
        "frozen_balance_for_energy": sum(r.staked_sun for r in rows),
        "expire_time_for_energy": max(ms(r.expires_at) for r in rows),
    }
    return {"delegatedResource": [entry]}


GENESIS_MS = 1_529_891_469_000  # mainnet's first block; a block every 3 s since
BLOCK_MS = 3_000


@chain_endpoint
def gettransactioninfobyid(body: Answer, now: datetime, network: ChainNetwork) -> Answer:
    txid = body.get("value")
    if not isinstance(txid, str) or len(txid) != 64:
        raise ChainError("Invalid transaction id")
    row = ChainDelegation.objects.filter(txid=txid.lower(), lands_at__lte=now).first()
    if row is None:
        return {}
    block = -(-(ms(row.lands_at) - GENESIS_MS) // BLOCK_MS)  # the first block at or after it
    return {
        "id": row.txid,
        "blockNumber": block,
        "blockTimeStamp": GENESIS_MS + block * BLOCK_MS,
        "contractResult": [""],
        "receipt": {"net_usage": 282},  # a system contract: no receipt.result
    }
