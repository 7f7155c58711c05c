"""The API's contract: only JSON bodies, and an OpenAPI document that lists every answer.

Every error the API gives is an RFC 9457 problem document (problems.py). DocumentedAPI adds each
operation's error statuses to the generated document with the Problem schema and the
`application/problem+json` media type, so a client generated from it (and Schemathesis) knows
every response; tests/api/test_contract.py holds the API to it.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser

from energydash.api.problems import CONTENT_TYPE, Problem, is_json, unsupported_media_type


class JsonOnly(Parser):
    """Bodies are JSON, said so by their Content-Type: anything else is a 415, unread."""

    def parse_body(self, request: HttpRequest) -> Any:
        if not is_json(request):
            raise unsupported_media_type(request)
        try:
            return json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Problem(
                400,
                "invalid_json",
                f"The body is not valid JSON ({type(exc).__name__}); nothing was done.",
            ) from None


# What each error status means, and the codes it carries (README "API" lists them too).
ERRORS: dict[int, str] = {
    400: "Malformed request: the body is not JSON (`invalid_json`), or a NUL character "
    "(`bad_request`).",
    401: "No valid token (`unauthenticated`), or a revoked one (`token_revoked`).",
    403: "The token may not do this: a viewer token cannot place (`viewer_token`); the token "
    "lacks the scope (`insufficient_scope`, with `required_scope`), has expired "
    "(`token_expired`), is used from outside its allowed networks (`ip_not_allowed`), or its "
    "daily spending cap would be exceeded (`token_cap_exceeded`; nothing was sent).",
    404: "No such object (`order_not_found`, `batch_not_found`, `no_such_endpoint`).",
    409: "An earlier request with this Idempotency-Key is still being placed "
    "(`request_in_progress`); retry after Retry-After seconds. Resuming a batch a live worker "
    "runs, or a finished one: `batch_not_resumable`.",
    413: "The body is too large (`request_too_large`); nothing was done.",
    415: "The body is not JSON (`unsupported_media_type`); nothing was done.",
    422: "Refused, nothing was done or sent: `invalid_request` (with `errors` per field), "
    "`invalid_address`, `invalid_amount`, `invalid_status`, `invalid_limit`, `invalid_since`, "
    "`invalid_cursor`, `unknown_account`, `no_route` (with `attempts`; nothing was charged), "
    "`idempotency_key_reused`, `invalid_lines` (with `errors` per line).",
    429: "Too many requests for this token (`rate_limited`); retry after Retry-After seconds.",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document with a stable `code`.",
    "type": "object",
    "required": ["type", "title", "status", "code", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the problem's code."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "description": "Stable; what a client branches on."},
        "detail": {"type": "string", "description": "What happened, in words."},
        "instance": {"type": "string", "description": "The request path."},
        "errors": {
            "type": "array",
            "description": "invalid_request: {field, message}; invalid_lines: {line, error}.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "line": {"type": "integer"},
                    "error": {"type": "string"},
                },
            },
        },
        "attempts": {
            "type": "array",
            "description": "no_route: every account routing tried.",
            "items": {"$ref": "#/components/schemas/AttemptOut"},
        },
    },
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


def _statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses one operation can answer with."""
    found = [400]
    secured = bool(operation.get("security"))
    if secured:
        found += [401, 403, 429]
    if operation.get("parameters") or operation.get("requestBody"):
        found.append(422)
    if "{" in path:
        found.append(404)
    if method in ("post", "patch"):  # a body: JSON only, size-limited
        found += [413, 415]
    if method == "post" and path.endswith(("/orders", "/resume")):
        found.append(409)
    return sorted(set(found))


class DocumentedAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document carries every operation's problem responses."""

    def get_openapi_operation_id(self, operation: Any) -> str:
        return operation.view_func.__name__  # create_order, not energydash_api_api_create_order

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        problem = {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in _statuses(method, path, operation):
                    answer: dict[str, Any] = {"description": ERRORS[status], "content": problem}
                    if status == 429 or (status == 409 and path.endswith("/orders")):
                        answer["headers"] = RETRY_AFTER
                    responses[status] = answer
                if "requestBody" in operation:
                    operation["requestBody"]["content"] = {
                        "application/json": operation["requestBody"]["content"]["application/json"]
                    }
        return schema
