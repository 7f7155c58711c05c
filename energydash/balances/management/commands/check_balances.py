from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from energydash.balances import alerts


class Command(BaseCommand):
    help = "Run one low-balance / failing-refresh alert pass and print the alerts sent."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = alerts.check_all()
        for alert in sent:
            if alert.delivered:
                line = f"{alert.subject} -> {', '.join(alert.recipients)}"
                self.stdout.write(self.style.WARNING(line))
            else:
                self.stdout.write(self.style.ERROR(f"{alert.subject}: {alert.delivery_error}"))
        self.stdout.write(f"{len(sent)} alert(s)" if sent else "No alerts to send.")
