"""Mounted at /sandbox/ only when ENERGYDASH_SANDBOX is on (energydash/urls.py).

Each provider lives under its own prefix with its real API paths, so a client whose base URL is
http://HOST/sandbox/itrx talks to it exactly as to https://itrx.io.
"""

from __future__ import annotations

from django.urls import path

from energydash.sandbox import chain_contract, itrx_summary
from energydash.sandbox import chain_views as chain
from energydash.sandbox import itrx_views as itrx
from energydash.sandbox import netts_views as netts
from energydash.sandbox import tronzap_views as tronzap

ITRX = "itrx/api/v1/frontend/"
TRONZAP = "tronzap/v1/"
NETTS = "netts/apiv2/"
CHAIN = "chain/wallet/"  # the simulated TRON chain: base URL http://HOST/sandbox/chain

urlpatterns = [
    path(ITRX + "index-data", itrx.index_data, name="sandbox-itrx-index-data"),
    path(ITRX + "order/price", itrx.order_price, name="sandbox-itrx-order-price"),
    path(ITRX + "order", itrx.order, name="sandbox-itrx-order"),
    path(ITRX + "order/collect-manual", itrx.collect_manual, name="sandbox-itrx-collect"),
    path(ITRX + "order/query", itrx.order_query, name="sandbox-itrx-order-query"),
    path(ITRX + "order/reclaim", itrx.order_reclaim, name="sandbox-itrx-order-reclaim"),
    path(ITRX + "userapi/summary", itrx_summary.summary, name="sandbox-itrx-summary"),
    path(TRONZAP + "services", tronzap.services, name="sandbox-tronzap-services"),
    path(TRONZAP + "balance", tronzap.balance, name="sandbox-tronzap-balance"),
    path(TRONZAP + "calculate", tronzap.calculate, name="sandbox-tronzap-calculate"),
    path(TRONZAP + "transaction/new", tronzap.transaction_new, name="sandbox-tronzap-new"),
    path(TRONZAP + "transaction/check", tronzap.transaction_check, name="sandbox-tronzap-check"),
    path(TRONZAP + "address-info", tronzap.address_info, name="sandbox-tronzap-address-info"),
    path(NETTS + "userinfo", netts.userinfo, name="sandbox-netts-userinfo"),
    path(NETTS + "prices", netts.prices, name="sandbox-netts-prices"),
    path(NETTS + "pricing", netts.pricing, name="sandbox-netts-pricing"),
    path(NETTS + "order1h", netts.order1h, name="sandbox-netts-order1h"),
    path(NETTS + "order_check", netts.order_check, name="sandbox-netts-order-check"),
    path(
        CHAIN + "getaccountresource",
        chain.getaccountresource,
        name="sandbox-chain-getaccountresource",
    ),
    path(CHAIN + "getaccount", chain.getaccount, name="sandbox-chain-getaccount"),
    path(
        CHAIN + "getchainparameters",
        chain.getchainparameters,
        name="sandbox-chain-chain-parameters",
    ),
    path(
        CHAIN + "getdelegatedresourceaccountindexv2",
        chain.getdelegatedresourceaccountindexv2,
        name="sandbox-chain-delegation-index",
    ),
    path(
        CHAIN + "getdelegatedresourcev2",
        chain.getdelegatedresourcev2,
        name="sandbox-chain-delegated-resource",
    ),
    path(
        CHAIN + "gettransactioninfobyid",
        chain.gettransactioninfobyid,
        name="sandbox-chain-transaction-info",
    ),
    path(
        CHAIN + "triggerconstantcontract",
        chain_contract.triggerconstantcontract,
        name="sandbox-chain-trigger-constant",
    ),
]
