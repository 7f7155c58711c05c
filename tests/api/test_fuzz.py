"""Schemathesis fuzzes the API from its own OpenAPI document: whatever it sends, no 5xx.

Bounded (a few examples per operation, derandomized) so it runs in the normal suite; requests
go over real HTTP to a live server.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from energydash.api.api import api
from tests.api.conftest import issue

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))


@pytest.fixture
def fuzz_server(live_sandbox, settings) -> tuple[str, str]:
    settings.ENERGYDASH_API_RATE_LIMIT_PER_MINUTE = 1_000_000
    from django_q.models import Success

    now = timezone.now()  # a worker heartbeat, so /health answers 200 rather than 503
    Success.objects.create(id="f" * 32, name="hb", func="x", started=now, stopped=now, success=True)
    return live_sandbox, issue("fuzzer", "operator")[1]


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_never_answers_a_server_error(case, fuzz_server):
    base, token = fuzz_server
    case.call_and_validate(
        base_url=base,
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error],
    )
