"""One refresh pass over the enabled accounts, as the task, the command and the button run it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from energydash.balances.errors import INTERNAL
from energydash.balances.models import REFRESH
from energydash.balances.services import record_refresh_failure, refresh_account, state_for
from energydash.lib.tron import format_trx
from energydash.providers.models import ProviderAccount

logger = logging.getLogger("energydash.balances")


@dataclass(frozen=True)
class RefreshResult:
    account: ProviderAccount
    balance_sun: int | None
    error: str

    @property
    def line(self) -> str:
        if self.error:
            return f"{self.account.name}: error: {self.error}"
        return f"{self.account.name}: {format_trx(self.balance_sun)} TRX"


def refresh(account: ProviderAccount, *, source: str = REFRESH) -> RefreshResult:
    """Refresh one account; an unexpected failure is recorded on it and does not stop a pass."""
    try:
        snapshot = refresh_account(account, source=source)
    except Exception as exc:
        logger.exception("balance refresh of %s crashed", account.name)
        record_refresh_failure(account, INTERNAL, f"{type(exc).__name__}: {exc}")
        return RefreshResult(account, None, INTERNAL)
    if snapshot is None:
        return RefreshResult(account, None, state_for(account).last_error or "refresh failed")
    return RefreshResult(account, snapshot.balance_sun, "")


def refresh_all(*, source: str = REFRESH) -> list[RefreshResult]:
    return [refresh(a, source=source) for a in ProviderAccount.objects.filter(enabled=True)]


def refresh_one(account_id: int, *, source: str = REFRESH) -> RefreshResult | None:
    account = ProviderAccount.objects.filter(pk=account_id, enabled=True).first()
    return refresh(account, source=source) if account else None


def summarise_refresh(results: list[RefreshResult]) -> str:
    failed = sum(1 for r in results if r.error)
    return f"{len(results) - failed} refreshed, {failed} failed"
