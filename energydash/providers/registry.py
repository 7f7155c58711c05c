"""Pick the adapter class for an account's provider kind."""

from __future__ import annotations

from typing import Any

import httpx

from energydash.providers.base import Adapter
from energydash.providers.credentials import ITRX, NETTS, TRONZAP, Credentials
from energydash.providers.errors import REJECTED, ProviderError
from energydash.providers.itrx import ItrxAdapter
from energydash.providers.netts import NettsAdapter
from energydash.providers.tronzap import TronZapAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    ITRX: ItrxAdapter,
    TRONZAP: TronZapAdapter,
    NETTS: NettsAdapter,
}


def adapter_for(credentials: Credentials, client: httpx.Client | None = None, **kw: Any) -> Adapter:
    try:
        cls = ADAPTERS[credentials.provider]
    except KeyError:
        raise ProviderError(
            REJECTED,
            f"no adapter for provider kind {credentials.provider!r}",
            provider=credentials.provider,
            transient=False,
        ) from None
    return cls(credentials, client, **kw)
