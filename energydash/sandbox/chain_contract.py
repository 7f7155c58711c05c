"""/wallet/triggerconstantcontract simulated for the one call energydash makes: an estimate of a
USDT-TRC20 `transfer(address,uint256)`. The energy is the figure providers quote: 65,000 to an
address that holds USDT (ChainAccount.holds_usdt), 131,000 to one that never did."""

from __future__ import annotations

import re
from datetime import datetime

from energydash.lib.tron import address_from_payload
from energydash.sandbox.chain_models import ChainAccount, ChainNetwork
from energydash.sandbox.chain_views import Answer, body_address, chain_endpoint
from energydash.sandbox.itrx_orders import USDT_ENERGY_NEW, USDT_ENERGY_OLD
from energydash.sandbox.models import SandboxAddress

USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
TRANSFER = "transfer(address,uint256)"
WORDS = re.compile(r"^[0-9a-fA-F]{128}$")


def _failure(code: str, words: str) -> Answer:
    # The node hex-encodes its message.
    return {"result": {"code": code, "message": words.encode().hex()}}


@chain_endpoint
def triggerconstantcontract(body: Answer, now: datetime, network: ChainNetwork) -> Answer:
    owner = body_address(body, "owner_address")
    contract = body_address(body, "contract_address")
    if contract != USDT_CONTRACT:
        return _failure("CONTRACT_VALIDATE_ERROR", "No contract or not a valid smart contract")
    if not SandboxAddress.is_activated(owner):
        return _failure("CONTRACT_VALIDATE_ERROR", f"Account[{owner}] does not exist")
    parameter = body.get("parameter")
    if body.get("function_selector") != TRANSFER or not (
        isinstance(parameter, str) and WORDS.match(parameter)
    ):
        return _failure("OTHER_ERROR", "REVERT opcode executed")
    word = bytes.fromhex(parameter[:64])
    if any(word[:12]):
        return _failure("OTHER_ERROR", "REVERT opcode executed")
    recipient = address_from_payload(word[12:])
    holds = ChainAccount.objects.filter(address=recipient, holds_usdt=True).exists()
    return {
        "result": {"result": True},
        "energy_used": USDT_ENERGY_OLD if holds else USDT_ENERGY_NEW,
        "constant_result": ["0" * 63 + "1"],
    }
