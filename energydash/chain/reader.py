"""The chain reader's questions, each answered as a vetted, typed Reading.

    reader = ChainReader.from_settings()
    reading = reader.account_resource("T...")
    if reading.ok: reading.value.energy_limit

Requests are the node's documented HTTP API with `"visible": true` (Base58 addresses both ways),
against `/wallet/...` (the latest block; `/walletsolidity/...` would lag about a minute).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings

from energydash.chain import abi, answers, vetting
from energydash.chain.budget import KEY_PREFIX, RequestBudget, ShareOf
from energydash.chain.client import NodeClient
from energydash.chain.outcomes import INVALID, OK, REFUSED, UNREADABLE, Exchange, Reading
from energydash.lib.tron import InvalidAddress, validate_address


def settings_margin(qps: int) -> int:
    """Requests a second kept in hand under the node's limit (a late node counts late)."""
    return qps * settings.ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT // 100


# Parsing a shape nobody documented may trip on anything; it is an unreadable answer, not a crash.
_PARSE_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError)


class ChainReader:
    def __init__(
        self,
        base_url: str,
        api_key: str = "",
        *,
        qps: int = 10,
        client: httpx.Client | None = None,
        budget: RequestBudget | None = None,
        retries: int = 3,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node = NodeClient(
            base_url,
            api_key,
            budget=budget or RequestBudget(qps, clock=clock, sleep=sleep),
            client=client,
            retries=retries,
            timeout=timeout,
            sleep=sleep,
            clock=clock,
        )

    @classmethod
    def from_settings(cls, **kwargs: Any) -> ChainReader:
        """A reader of the configured node (ENERGYDASH_TRON_API_URL, _KEY, _QPS), its budget
        keeping ENERGYDASH_TRON_API_QPS_MARGIN_PERCENT in hand."""
        qps = settings.ENERGYDASH_TRON_API_QPS
        if "budget" not in kwargs:
            kwargs["budget"] = RequestBudget(
                qps,
                margin=settings_margin(qps),
                clock=kwargs.get("clock", time.time),
                sleep=kwargs.get("sleep", time.sleep),
            )
        return cls(
            settings.ENERGYDASH_TRON_API_URL, settings.ENERGYDASH_TRON_API_KEY, qps=qps, **kwargs
        )

    @classmethod
    def for_evidence(cls, **kwargs: Any) -> ChainReader:
        """A reader for reconciliation's chain evidence: it draws on its share of the budget
        (ENERGYDASH_CHAIN_EVIDENCE_QPS_PERCENT of what goes a second) as well as on the whole,
        and waits little for it: an uncertain order is weighed again at its next poll."""
        qps = settings.ENERGYDASH_TRON_API_QPS
        whole = RequestBudget(qps, margin=settings_margin(qps))
        part = max(1, whole.limit * settings.ENERGYDASH_CHAIN_EVIDENCE_QPS_PERCENT // 100)
        share = RequestBudget(part, key_prefix=f"{KEY_PREFIX}-evidence", max_wait=0.5)
        return cls.from_settings(budget=ShareOf(share, whole), **kwargs)

    def __repr__(self) -> str:
        return f"ChainReader({self.node!r})"

    @property
    def configured(self) -> bool:
        return self.node.configured

    @property
    def exchanges(self) -> list[Exchange]:
        """Every attempt this reader made, oldest first, without headers or the key."""
        return self.node.exchanges

    # Questions ------------------------------------------------------------------------------

    def account_resource(self, address: str) -> Reading[answers.AccountResource]:
        """Energy and bandwidth of `address`, and the network's energy totals."""
        return self._ask(
            "/wallet/getaccountresource",
            {"address": address, "visible": True},
            vetting.account_resource,
            addresses=(address,),
        )

    def account(self, address: str) -> Reading[answers.Account]:
        """Whether `address` is activated, its balance and creation time."""
        return self._ask(
            "/wallet/getaccount",
            {"address": address, "visible": True},
            lambda data: vetting.account(data, address),
            addresses=(address,),
        )

    def delegation_index(self, address: str) -> Reading[answers.DelegationIndex]:
        """Who delegates to `address` (Stake 2.0), and whom it delegates to."""
        return self._ask(
            "/wallet/getdelegatedresourceaccountindexv2",
            {"value": address, "visible": True},
            lambda data: vetting.delegation_index(data, address),
            addresses=(address,),
        )

    def delegated_resources(
        self, delegator: str, receiver: str
    ) -> Reading[tuple[answers.DelegatedResource, ...]]:
        """What `delegator` gives `receiver`: staked sun and lock end, per resource."""
        return self._ask(
            "/wallet/getdelegatedresourcev2",
            {"fromAddress": delegator, "toAddress": receiver, "visible": True},
            lambda data: vetting.delegated_resources(data, delegator, receiver),
            addresses=(delegator, receiver),
        )

    def transaction_info(self, txid: str) -> Reading[answers.TransactionInfo]:
        """Block and receipt of a transaction; `on_chain` is False when the node has none."""
        if not isinstance(txid, str) or not vetting.TXID.match(txid):
            return Reading(INVALID, message="a transaction id is 64 hex digits; nothing was sent")
        return self._ask(
            "/wallet/gettransactioninfobyid",
            {"value": txid.lower()},
            lambda data: vetting.transaction_info(data, txid),
        )

    def estimate_transfer(
        self, owner: str, to: str, amount: int, contract: str = abi.USDT_CONTRACT
    ) -> Reading[answers.TransferEstimate]:
        """Energy a TRC-20 transfer of `amount` (token units) from `owner` to `to` would use now."""
        try:
            parameter = abi.transfer_parameter(to, amount)
        except (InvalidAddress, ValueError) as exc:
            return Reading(INVALID, message=f"cannot encode the transfer: {exc}; nothing was sent")
        return self._ask(
            "/wallet/triggerconstantcontract",
            {
                "owner_address": owner,
                "contract_address": contract,
                "function_selector": abi.TRANSFER,
                "parameter": parameter,
                "visible": True,
            },
            vetting.transfer_estimate,
            addresses=(owner, contract),
        )

    def chain_parameters(self) -> Reading[answers.ChainParameters]:
        """The network's parameters: getEnergyFee, the sun burned per missing energy."""
        return self._ask("/wallet/getchainparameters", {}, vetting.chain_parameters)

    # Plumbing -------------------------------------------------------------------------------

    def _ask[T](
        self,
        path: str,
        body: dict[str, Any],
        parse: Callable[[Any], T],
        *,
        addresses: tuple[str, ...] = (),
    ) -> Reading[T]:
        for address in addresses:
            try:
                validate_address(address)
            except InvalidAddress as exc:
                return Reading(INVALID, message=f"invalid TRON address: {exc}; nothing was sent")
            except (TypeError, AttributeError):
                return Reading(INVALID, message="a TRON address is text; nothing was sent")
        raw = self.node.post(path, body)
        if not raw.ok:
            return raw  # type: ignore[return-value]  # a failure carries no value
        try:
            value = parse(raw.value)
        except vetting.Refused as exc:
            return self._failed(raw, REFUSED, f"the node refused: {exc.text}")
        except vetting.Unreadable as exc:
            return self._failed(raw, UNREADABLE, "; ".join(exc.problems))
        except _PARSE_ERRORS as exc:
            why = f"could not read the answer ({type(exc).__name__})"
            return self._failed(raw, UNREADABLE, why)
        return Reading(OK, value=value, http_status=raw.http_status, exchanges=raw.exchanges)

    def _failed[T](self, raw: Reading[Any], outcome: str, message: str) -> Reading[T]:
        return Reading(
            outcome,
            message=self.node.scrub(message),
            http_status=raw.http_status,
            exchanges=raw.exchanges,
        )
