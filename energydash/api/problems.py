"""RFC 9457 problem details: every API error is application/problem+json with a stable `code`."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

logger = logging.getLogger("energydash.api")
CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Request refused",
    429: "Too many requests",
    500: "Internal error",
    503: "Unavailable",
}


class Problem(Exception):
    """Raise from an endpoint to answer with a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = headers or {}
        self.extra = extra


JSON_TYPE = re.compile(r"^application/(json|[\w.+-]+\+json)$")


def is_json(request: HttpRequest) -> bool:
    """Whether the request says its body is JSON (application/json or application/*+json)."""
    return bool(JSON_TYPE.match((request.content_type or "").lower()))


def unsupported_media_type(request: HttpRequest) -> Problem:
    sent = request.content_type or "no Content-Type"
    return Problem(
        415,
        "unsupported_media_type",
        f"Send the body as JSON with 'Content-Type: application/json' (not {sent}); "
        "nothing was done.",
    )


def problem_response(
    request: HttpRequest,
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body = {
        "type": f"https://energydash.invalid/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.path,
        **extra,
    }
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# Error types our own validators raise (api/schemas.py), answered with their own code.
OWN_CODES = ("invalid_address", "invalid_amount")
# A query parameter whose only fault is its value has its own code.
PARAMETER_CODES = {
    "status": "invalid_status",
    "limit": "invalid_limit",
    "since": "invalid_since",
    "address": "invalid_address",  # GET /quotes
}
# Pydantic's tags for the branches of a union (OrderIn's kinds) are not fields.
UNION_TAGS = ("energy", "collection", "activation")


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        if loc[:1] == ["body"]:
            loc = loc[2:] if loc[1:2] == ["payload"] else loc[1:]
            if len(loc) > 1 and loc[0] in UNION_TAGS:
                loc = loc[1:]
        else:
            loc = loc[1:]  # "query", "header", "path"
        errors.append({"field": ".".join(map(str, loc)), "message": str(error.get("msg", ""))})
    return errors


def _code(exc: ValidationError, errors: list[dict[str, Any]]) -> str:
    types = {str(error.get("type", "")) for error in exc.errors}
    if len(types) == 1 and next(iter(types)) in OWN_CODES:
        return next(iter(types))
    fields = {e["field"] for e in errors}
    sources = {str(error.get("loc", ("",))[0]) for error in exc.errors}
    if sources == {"query"} and len(fields) == 1 and next(iter(fields)) in PARAMETER_CODES:
        return PARAMETER_CODES[next(iter(fields))]
    return "invalid_request"


def install(api: NinjaAPI) -> None:
    """Route every error the API can raise through problem_response."""

    @api.exception_handler(Problem)
    def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
        return problem_response(
            request, exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra
        )

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        try:
            empty = not request.body
        except RawPostDataException:  # a form body a middleware already read: not empty
            empty = False
        if empty and not is_json(request):
            if any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors):
                return _problem(request, unsupported_media_type(request))  # no body, no type
        errors = _validation_errors(exc)
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]})) or "the request"
        return problem_response(
            request,
            422,
            _code(exc, errors),
            f"Check {fields}: see `errors` for what each field needs.",
            errors=errors,
        )

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            request,
            401,
            "unauthenticated",
            "Send an API token as 'Authorization: Bearer <token>'. Tokens are created in admin "
            "or with `manage.py create_api_token`.",
            headers={"WWW-Authenticate": 'Bearer realm="energydash"'},
        )

    @api.exception_handler(RequestDataTooBig)
    def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem_response(
            request,
            413,
            "request_too_large",
            f"The request body is over {limit:,} bytes; nothing was done. Send fewer lines per "
            "request.",
        )

    @api.exception_handler(RawPostDataException)
    def _form_body(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
        # A form or multipart body, already read as a form by a middleware: not JSON.
        return _problem(request, unsupported_media_type(request))

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(request, 404, "not_found", str(exc) or "No such object.")

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, Problem):  # raised while parsing the body (contract.py)
            return _problem(request, exc.__cause__)
        return problem_response(request, exc.status_code, f"http_{exc.status_code}", str(exc))

    @api.exception_handler(Exception)
    def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return problem_response(
            request,
            500,
            "internal_error",
            "energydash failed to handle this request; the error is in the server log. "
            "For POST orders, retry with the same Idempotency-Key: nothing is sent twice.",
        )


def only_params(request: HttpRequest, *known: str) -> None:
    """Refuse query parameters the operation does not have: a typo is not silently ignored."""
    unknown = sorted(set(request.GET) - set(known))
    if unknown:
        raise Problem(
            422,
            "invalid_request",
            f"Unknown query parameter(s): {', '.join(map(repr, unknown))}.",
            errors=[
                {"field": name, "message": "Not a parameter of this operation."} for name in unknown
            ],
        )
