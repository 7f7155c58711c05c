"""Bearer-token authentication with per-token rate limits (core.ratelimit: one-minute window)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from energydash.api.models import ApiToken, hash_token
from energydash.api.problems import Problem
from energydash.core import ratelimit

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
        _rate_limit(found)
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        return found


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


def require_operator(token: ApiToken) -> None:
    if not token.can_place:
        raise Problem(
            403,
            "viewer_token",
            f"The token {token.prefix}… is a viewer token: it can read, not place. Use an "
            "operator token.",
        )
