"""Provider replies as documented in /work/shared/providers.md (section numbers in comments)."""

from __future__ import annotations

ADDRESS = "TExWKszFWYTKZH8LYiovAPKzS3L9MLZ4kw"
OTHER_ADDRESS = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"

# itrx's official worked example (2.2)
ITRX_KEY = "B433BFF1CDE7450AA38A56BEAC690DD4"
ITRX_SECRET = "0285A2741D0E76E2E187260EB23E51851D48403A756333E7D0CF845406ABF3E8"
ITRX_EXAMPLE_TS = 1686796826
ITRX_EXAMPLE_BODY = (
    '{"callback_url":"http://{mydomain}/callback","energy_amount":32000,"out_trade_no":"123456",'
    '"period":"1D","receive_address":"TExWKszFWYTKZH8LYiovAPKzS3L9MLZ4kw"}'
)
ITRX_EXAMPLE_SIGNATURE = "07c125cabfe006614a02131f927cca9e7a654f7644a817b155fad591e1c50f7b"

# 2.7
ITRX_INDEX_DATA = {
    "platform_avail_energy": 603249,
    "platform_max_energy": 329009,
    "minimum_order_energy": 32000,
    "maximum_order_energy": 100000000,
    "small_amount": 50000,
    "small_addition": 0.6,
    "usdt_energy_need_old": 32000,
    "usdt_energy_need_new": 65000,
    "tiered_pricing": [
        {"period": 0, "price": 100},
        {"period": 1, "price": 200},
        {"period": 3, "price": 152},
        {"period": 30, "price": 124},
    ],
    "balance": 813892429257,
}
# 2.6
ITRX_PRICE = {
    "period": "3D",
    "energy_amount": 32000,
    "price": 100,
    "total_price": 10192000,
    "addition": 600000,
}
# 2.4
ITRX_ORDER = {
    "errno": 0,
    "serial": "7297a8a2a9e39b86fc5bad0d2e9edda2",
    "amount": 3120000,
    "balance": 813900029257,
}
# 2.9
ITRX_COLLECT = {
    "errno": 0,
    "serial": "5a1f0c2b9d8e7f6a5b4c3d2e1f0a9b8c",
    "scene": 1,
    "amount": 4000000,
    "balance": 813900029257,
}
# 2.5
ITRX_QUERY = {
    "errno": 0,
    "receive_address": ADDRESS,
    "order_no": "58b451473d290f92443eabf0322b9907",
    "energy_amount": 32000,
    "pay_amount": 32170.005048646104,
    "amount": 3800000,
    "details": [
        {
            "delegate_hash": "e2e7aa0113f3",
            "delegate_time": "2023-10-09T10:21:07.840478Z",
            "reclaim_hash": "f467bb02c900",
            "reclaim_time": "2023-10-12T10:21:07.840478Z",
            "reclaim_time_real": "2023-10-09T10:26:12.617456Z",
            "status": 30,
        }
    ],
    "create_time": "2023-06-15T21:42:13.200565+08:00",
    "api_name": "MY API",
    "period": 0,
    "status": 40,
    "refund_amount": 0,
}
ITRX_NOT_FOUND = {"errno": 404, "message": "Order not found"}
ITRX_FIELD_ERRORS = {
    "energy_amount": ["Please make sure the value is greater than or equal to 10000."],
    "period": ["'1X' is not a legal option."],
}
# 2.12, with the full hashes of the published page and source "api"
ITRX_CALLBACK = {
    "active_hash": "",
    "bandwidth_hash": "5e342a821de72542d7b341039c34af631d0551cfcd4b67c272",
    "energy_amount": 32000,
    "out_trade_no": "123456",
    "pay_amount": 32170.005048646104,
    "serial": "886294f5204ac2fc1430f5a7d9215a80",
    "txid": "2610c200efc8a90601758715405fa6be4597469e854591975d113b720a762ec2",
    "status": 40,
    "type": "energy",
    "receive_address": "Txxxxxx",
    "source": "api",
}
ITRX_CALLBACK_COMPACT_SIG = "69016824e9fbe67a37f6289f26a20d3237296657461e931653059835f12f7b63"
ITRX_CALLBACK_SPACED_SIG = "b2d9150d35b71bb7d48547aadf96d8f8e2bd515060173a8edd65a6e1cf25dc2f"

# TronZap (3.2 worked example; 3.4 SDK test data)
TZ_TOKEN = "tz-token-0001-abcdef"
TZ_SECRET = "tz-secret-0001-abcdef"
TZ_EXAMPLE_BODY = (
    '{"service":"energy","params":{"address":"TRX_ADDRESS","energy_amount":32000,"duration":1}}'
)
TZ_EXAMPLE_SECRET = "your_api_secret"
TZ_EXAMPLE_SIGNATURE = "827dc18f7ccf4a9b3e653cc09a206577b037407a86345b6d30ed141d74cb349b"
TZ_SERVICES = {
    "energy": [
        {
            "duration": 1,
            "min_amount": 50000,
            "max_amount": 131000,
            "price": 0.0523,
            "price_32k": 1.67,
            "price_65k": 3.4,
            "price_131k": 6.85,
        }
    ],
    "bandwidth": [{"duration": 1, "min_amount": 1000, "max_amount": 50000, "price": 1}],
    "activate_address": {"price": 1.4},
}
TZ_BALANCE = {"balance": 100.50, "address": "TDepositAddressForTronZapAccount1"}
TZ_CALCULATE = {
    "address": ADDRESS,
    "type": "energy",
    "amount": 65000,
    "duration": 1,
    "price": 3.4,
    "activation_fee": 1.4,
    "total": 4.8,
}
TZ_TRANSACTION = {
    "id": "tz-7f3a9c",
    "external_id": "ord-42",
    "service": "energy",
    "params": {
        "address": ADDRESS,
        "amounts": {"energy": 65000},
        "duration": 1,
        "activate_address": True,
    },
    "status": "new",
    "amount": 3.4,
    "created_at": "2026-08-07T10:42:12+00:00",
    "hash": "",
}
TZ_CHECK = {
    "id": "tz-7f3a9c",
    "external_id": "ord-42",
    "service": "energy",
    "params": {"address": ADDRESS, "energy_amount": 65000, "duration": 1},
    "status": "success",
    "amount": "3.40",
    "created_at": "2026-08-07 10:42:12",
    "hash": "ab12cd34ef56",
}


def tz_ok(result: object) -> dict:
    return {"code": 0, "result": result}


def tz_error(code: int, key: str, error: str) -> dict:
    return {"code": code, "key": key, "request_id": "99d8b507-0bca", "error": error}


# Netts (4.2, 4.4, 4.5, 4.6)
NETTS_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
EGRESS_IP = "203.0.113.7"
NETTS_USERINFO = {
    "status": "success",
    "timestamp": "2025-09-02 05:56:11",
    "user_id": 6,
    "user_info": {"email": "ops@example.com", "name": "User Name", "deposit_address": "TDeposit"},
    "stats": {"balance": 28361.15, "total_delegations": 96756},
    "network_info": {"trx_price": 0.34, "network_energy_fee": 100},
}
# GET /apiv2/pricing?services=energy_1h: the shape a public client reads (4.6): the current
# period's price in sun per energy.
NETTS_PRICING = {
    "success": True,
    "version": "2",
    "data": {
        "trx_rate_usd": 0.3,
        "services": {
            "energy_1h": {
                "pricing_type": "time_based",
                "periods": [
                    {"period": "04:00-06:00", "is_current": False, "price": 30},
                    {"period": "06:00-08:00", "is_current": True, "price": 18},
                ],
            }
        },
    },
}

NETTS_PRICES = {
    "status": "success",
    "current_utc_time": "2025-09-02 06:00:00",
    "current_utc_hour": 6,
    "active_period": "05:00-07:00",
    "last_update": "2025-09-02 05:59:00",
    "host_price": 2.989,
    "periods": [
        {
            "label": "night",
            "period": "03:00-05:00",
            "is_active": False,
            "prices": {
                "less_than_200k": {"price_sun": 30},
                "equal_131k": {"price_sun": 30},
                "more_than_200k": {"price_sun": 30},
            },
        },
        {
            "label": "morning",
            "period": "05:00-07:00",
            "is_active": True,
            "prices": {
                "less_than_200k": {"price_sun": 19},
                "equal_131k": {"price_sun": 17},
                "more_than_200k": {"price_sun": 16},
            },
        },
    ],
}
NETTS_ORDER = {
    "detail": {
        "code": 10000,
        "msg": "Successful, 2.23 TRX deducted",
        "data": {
            "orderId": "1H123456",
            "paidTRX": 2.23,
            "hash": "a1b2c3d4",
            "delegateAddress": "TDelegatePool",
            "energy": 131050,
        },
    }
}
NETTS_ORDER_CHECK = {
    "success": True,
    "code": 10000,
    "order": {
        "id": "1H123456",
        "cost": 2.535,
        "energy": 131050,
        "rate_sun": 17,
        "target_address": ADDRESS,
        "duration": "1h",
        "tx_hashes": ["d1e2f3"],
        "timestamp": "2025-09-02 06:01:00",
        "comments": "",
    },
}
