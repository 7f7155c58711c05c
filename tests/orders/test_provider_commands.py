from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from energydash.lib.tron import SUN_PER_TRX
from energydash.orders.models import Order
from tests.orders.conftest import address, make_box


@pytest.fixture
def live_box(live_sandbox):
    return make_box("itrx", base=live_sandbox, balance_sun=1234 * SUN_PER_TRX + 5)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_provider_balance_prints_trx_and_sun(live_box):
    assert run("provider_balance", "Sandbox itrx") == (
        "Sandbox itrx: 1,234.000005 TRX (1234000005 sun)\n"
    )


def test_provider_quote_prints_the_price_and_limits(live_box):
    output = run("provider_quote", "Sandbox itrx", "--energy", "65000", "--period", "1H")
    assert "65,000 energy for 1H" in output and "sun/energy" in output and "periods" in output


def test_provider_commands_exit_with_a_one_line_reason(live_box):
    live_box.account.api_key = "WRONGKEY000000000000000000000000"
    live_box.account.save()
    with pytest.raises(CommandError) as failed:
        run("provider_balance", "Sandbox itrx")
    assert "\n" not in str(failed.value) and "nothing was charged" in str(failed.value)
    with pytest.raises(CommandError, match="no provider account"):
        run("provider_quote", "nope", "--energy", "1")


def test_place_order_prints_code_status_and_cost(live_box):
    output = run(
        "place_order",
        "--account",
        "Sandbox itrx",
        "--address",
        address("cli"),
        "--energy",
        "65000",
        "--period",
        "1H",
    )
    order = Order.objects.get()
    assert output.startswith(f"{order.code} {order.status} ")
    assert f"({order.cost_sun} sun)" in output


def test_place_order_exits_non_zero_with_the_reason(live_box):
    with pytest.raises(CommandError, match="Invalid TRON address"):
        run("place_order", "--account", "Sandbox itrx", "--address", "Tnope", "--energy", "65000")
    live_box.sandbox.balance_sun = 0
    live_box.sandbox.save()
    with pytest.raises(CommandError, match="failed"):
        run(
            "place_order",
            "--account",
            "Sandbox itrx",
            "--address",
            address("poor"),
            "--energy",
            "65000",
        )
