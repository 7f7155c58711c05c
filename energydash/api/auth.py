"""Bearer-token authentication with per-token rate limits (core.ratelimit: one-minute window)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from energydash.api.models import ApiToken, Scope, hash_token
from energydash.api.problems import Problem
from energydash.core import ratelimit
from energydash.core.lockout import client_ip

# last_used_at is written at most this often per token, so busy clients do not write every call.
LAST_USED_RESOLUTION = timedelta(seconds=30)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if not token or len(token) > 200:
            return None
        found = ApiToken.objects.filter(token_hash=hash_token(token)).first()
        if found is None:
            return None
        if found.revoked_at is not None:
            raise Problem(
                401,
                "token_revoked",
                f"The token {found.prefix}… was revoked; ask an admin for a new one.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        now = timezone.now()
        if found.expired(now):
            raise Problem(
                403,
                "token_expired",
                f"The token {found.prefix}… expired at {found.expires_at:%Y-%m-%d %H:%M:%S} UTC; "
                "ask an admin for a new one.",
            )
        address = client_ip(request)
        if not found.allows_ip(address):
            raise Problem(
                403,
                "ip_not_allowed",
                f"The token {found.prefix}… may not be used from {address or 'this address'}: "
                "it is limited to the networks an admin listed for it.",
            )
        _rate_limit(found)
        _note_use(found, now, address)
        return found


def _note_use(token: ApiToken, now: datetime, address: str) -> None:
    """last_used_at (and last_used_from), at most every LAST_USED_RESOLUTION per token unless
    the address changed."""
    try:  # a forwarded address may be anything; the column (PostgreSQL inet) takes only IPs
        address = str(ipaddress.ip_address(address))
    except ValueError:
        address = None
    stale = token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION
    if stale or address != token.last_used_from:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_from=address)
        token.last_used_at, token.last_used_from = now, address


def _rate_limit(token: ApiToken) -> None:
    limit = settings.ENERGYDASH_API_RATE_LIMIT_PER_MINUTE
    if not ratelimit.allow("api", token.pk, limit):
        wait = ratelimit.seconds_to_next_window()
        raise Problem(
            429,
            "rate_limited",
            f"This token may make {limit} requests a minute; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )


def require_scope(token: ApiToken, scope: Scope) -> None:
    """403 insufficient_scope unless the token was given `scope`."""
    if scope not in token.scope_set:
        have = ", ".join(sorted(token.scope_set)) or "none"
        raise Problem(
            403,
            "insufficient_scope",
            f"The token {token.prefix}… lacks the '{scope}' scope (it has: {have}); nothing was "
            "done. An admin can widen it or issue another.",
            required_scope=str(scope),
        )


def require_operator(token: ApiToken) -> None:
    if not token.can_place:
        raise Problem(
            403,
            "viewer_token",
            f"The token {token.prefix}… is a viewer token: it can read, not place. Use an "
            "operator token.",
        )
