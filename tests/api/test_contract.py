"""The API keeps the contract its OpenAPI document states (Schemathesis conformance checks).

Every operation, positive and negative data, 60 derandomized examples each, over real HTTP to a
live server with an operator token and the sandbox providers. Checks: no server error, status
codes, content types, response headers and schemas as documented, schema-invalid data refused,
a missing required header refused. Zero failures allowed.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from energydash.api.api import api
from tests.api.conftest import address, box, issue

EXAMPLES = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], database="none"
)


@pytest.fixture
def conformance_server(live_sandbox, settings) -> tuple[str, str]:
    settings.ENERGYDASH_API_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.ENERGYDASH_API_IDEMPOTENCY_WAIT_SECONDS = 0
    from django_q.models import Success

    now = timezone.now()  # a worker heartbeat, so /health answers 200 rather than 503
    Success.objects.create(id="f" * 32, name="hb", func="x", started=now, stopped=now, success=True)
    box("tronzap", "tz", base=live_sandbox, price="50")
    box("itrx", "itrx", base=live_sandbox, price="60")
    return live_sandbox, issue("conformance", "operator")[1]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_the_openapi_document(case, conformance_server):
    base, token = conformance_server
    case.call_and_validate(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )


def test_the_document_states_the_real_constraints(db):
    document = api.get_openapi_schema(path_prefix="/api/v1")
    bodies = document["components"]["schemas"]
    energy = bodies["EnergyOrderIn"]["properties"]
    assert energy["address"]["pattern"] == "^T[1-9A-HJ-NP-Za-km-z]{33}$"
    assert (energy["energy"]["minimum"], energy["energy"]["maximum"]) == (1, 100_000_000)
    assert energy["period"]["enum"] == ["1H", "1D", "3D", "30D"]
    kinds = document["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]
    assert [
        ref["$ref"].rsplit("/", 1)[1] for ref in kinds["application/json"]["schema"]["oneOf"]
    ] == [
        "EnergyOrderIn",
        "CollectionOrderIn",
        "ActivationOrderIn",
    ]
    post = document["paths"]["/api/v1/orders"]["post"]["responses"]
    assert {200, 201, 400, 401, 403, 409, 413, 415, 422, 429} <= set(post)
    problem = post[422]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert 404 in document["paths"]["/api/v1/orders/{order_id}"]["get"]["responses"]
    assert address("doc")  # the addresses tests mint match the documented pattern
