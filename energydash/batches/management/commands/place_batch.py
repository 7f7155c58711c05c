"""Place a bulk order from a file of address[,energy] lines, printing the plan and progress.

Running it again with the same file (and options) resumes the same batch: lines already placed
are skipped, never sent twice. `--resume BATCH` resumes any batch by its code (or the start of
it, as the console shows it), console and API batches included.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from energydash.batches import services
from energydash.batches.models import Batch, BatchLine
from energydash.lib.tron import exact_trx, parse_trx
from energydash.orders.routing import body_hash
from energydash.providers.base import PERIODS


class Command(BaseCommand):
    help = "Place one routed order per line of FILE (address or address,energy)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", default="", help="CSV or text file; '-' is not accepted."
        )
        parser.add_argument(
            "--resume",
            metavar="BATCH",
            default="",
            help="Resume this batch (its code or first characters) instead of reading a file.",
        )
        parser.add_argument("--energy", type=int, default=65_000, help="For lines without one.")
        parser.add_argument("--period", default="1H", choices=PERIODS)
        parser.add_argument("--max-cost-trx", default="", help="Skip accounts quoting more.")
        parser.add_argument("--activate", action="store_true")
        parser.add_argument("--plan-only", action="store_true", help="Show the plan, send nothing.")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["resume"]:
            if opts["file"]:
                raise CommandError("Give a file or --resume BATCH, not both.")
            self._run(self._find(opts["resume"]))
            return
        if not opts["file"]:
            raise CommandError("Give a file of addresses, or --resume BATCH.")
        path = Path(opts["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        if not 0 < opts["energy"] <= services.MAX_ENERGY:
            raise CommandError("--energy must be a positive whole number.")
        try:
            max_cost = parse_trx(opts["max_cost_trx"]) if opts["max_cost_trx"] else None
        except ValueError as exc:
            raise CommandError(f"--max-cost-trx: {exc}") from None
        lines, errors = services.parse(text, opts["energy"])
        if errors:
            for e in errors:
                self.stderr.write(f"line {e.number}: {e.error}  {e.text}")
            raise CommandError(f"{len(errors)} line(s) are not valid; nothing was placed.")
        if not lines:
            raise CommandError("No addresses in the file.")
        batch = self._batch(lines, opts, max_cost)
        if batch.status == Batch.Status.PLANNED or opts["plan_only"]:
            services.plan(batch)
            self._print_plan(batch)
        if opts["plan_only"]:
            return
        self._run(batch)

    def _batch(self, lines: list[services.ParsedLine], opts: dict, max_cost: int | None) -> Batch:
        settings = {
            "lines": [(x.address, x.energy) for x in lines],
            "period": opts["period"],
            "activate": opts["activate"],
            "max_cost_sun": max_cost,
        }
        digest = body_hash(settings)
        key = f"command:{digest}"
        existing = Batch.objects.filter(key=key).first()
        if existing is not None:
            self.stdout.write(f"Resuming batch {existing.short_code} ({existing.status}).")
            return existing
        return services.create_batch(
            lines,
            period=opts["period"],
            activate=opts["activate"],
            max_cost_sun=max_cost,
            via="command:place_batch",
            key=key,
            digest=hashlib.sha256(digest.encode()).hexdigest(),
        )

    def _find(self, code: str) -> Batch:
        code = code.strip().lower()
        if not 4 <= len(code) <= 36 or any(c not in "0123456789abcdef-" for c in code):
            raise CommandError(f"{code!r} is not a batch code.")
        found = list(Batch.objects.filter(code__startswith=code)[:2])
        if not found:
            raise CommandError(f"No batch with code {code}.")
        if len(found) > 1:
            raise CommandError(f"More than one batch starts with {code}; give more of it.")
        batch = found[0]
        if batch.status == Batch.Status.FINISHED:
            raise CommandError(f"Batch {batch.short_code} is finished; nothing to resume.")
        if batch.status == Batch.Status.PLANNED:
            raise CommandError(
                f"Batch {batch.short_code} was never confirmed; start it from its page first."
            )
        live = batch.lease_until is not None and batch.lease_owner
        if live and batch.lease_until >= timezone.now():
            raise CommandError(
                f"Batch {batch.short_code} is being run by a worker now; nothing to resume."
            )
        self.stdout.write(f"Resuming batch {batch.short_code} ({batch.status}).")
        return batch

    def _print_plan(self, batch: Batch) -> None:
        for line in batch.lines.select_related("plan_account"):
            where = (
                line.plan_account.name if line.plan_account else f"no account: {line.plan_error}"
            )
            price = exact_trx(line.plan_price_sun) or "-"
            self.stdout.write(
                f"{line.number:>5} {line.address} {line.energy:>9,} {price:>14} {where}"
            )
        self.stdout.write(f"Planned total: {exact_trx(batch.planned_total_sun)} TRX")

    def _run(self, batch: Batch) -> None:
        unfinished = (BatchLine.Status.PENDING, BatchLine.Status.CANCELLED)
        if batch.lines.filter(status__in=unfinished).exists():
            batch.lines.filter(status=BatchLine.Status.CANCELLED).update(
                status=BatchLine.Status.PENDING
            )
            # A running batch keeps its status: its lease says whether a live worker has it.
            idle = (Batch.Status.PLANNED, Batch.Status.CANCELLED, Batch.Status.FINISHED)
            Batch.objects.filter(pk=batch.pk, status__in=idle).update(
                status=Batch.Status.QUEUED,
                cancel_requested=False,
                finished_at=None,
                queued_at=timezone.now(),
            )
        batch = services.run_batch(batch.pk) or batch
        if not getattr(batch, "slice_ran", False) and batch.active:
            raise CommandError(
                f"Batch {batch.short_code} is being run by a worker now; try again when it "
                "stops, or once its lease lapses if that worker died."
            )
        figures = services.progress(batch)
        self.stdout.write(
            f"Batch {batch.short_code} {batch.status}: {figures['placed']} placed, "
            f"{figures['failed']} failed, {figures['review']} to review, "
            f"{figures['remaining']} remaining; {exact_trx(figures['spent_sun'])} TRX spent."
        )
        for row in services.result_rows(batch):
            self.stdout.write(",".join(row))
