from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from energydash.lib.tron import format_trx
from energydash.orders.models import Kind, Status
from energydash.orders.placement import place_order
from energydash.orders.spec import OrderSpec, PlacementRefused
from energydash.providers.models import ProviderAccount


class Command(BaseCommand):
    help = "Place one order at a provider account and print its code, status and cost."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--account", required=True, help="Provider account name")
        parser.add_argument("--address", required=True, help="Receive address (T...)")
        parser.add_argument("--energy", type=int, help="Energy amount (energy orders)")
        parser.add_argument("--period", default="1H")
        parser.add_argument("--kind", choices=Kind.values, default=Kind.ENERGY)
        parser.add_argument("--to-address", default="", help="USDT destination (collection orders)")
        parser.add_argument(
            "--activate", action="store_true", help="Activate the address if needed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            account = ProviderAccount.objects.get(name=options["account"])
        except ProviderAccount.DoesNotExist:
            raise CommandError(f"no provider account named {options['account']!r}") from None
        if options["kind"] == Kind.ENERGY and not options["energy"]:
            raise CommandError("--energy is required for energy orders")
        spec = OrderSpec(
            account=account,
            kind=options["kind"],
            receive_address=options["address"],
            energy=options["energy"],
            period=options["period"],
            activate=options["activate"],
            to_address=options["to_address"],
        )
        try:
            order = place_order(spec, via="command:place_order")
        except PlacementRefused as exc:
            raise CommandError(f"refused, nothing sent: {exc}") from None
        cost = order.cost_sun if order.cost_sun is not None else order.quoted_cost_sun
        line = f"{order.code} {order.status} {format_trx(cost)} TRX ({cost} sun)"
        if order.status == Status.FAILED:
            raise CommandError(f"{line}: {order.last_error}")
        if order.status in (Status.UNKNOWN, Status.NEEDS_REVIEW):
            raise CommandError(f"{line}: {order.last_error or 'the provider answer was lost'}")
        self.stdout.write(line)
