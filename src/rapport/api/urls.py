"""The API object: authentication, error shapes, and the routers of each area."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from rapport.api.auth import AUTH
from rapport.errors import InvalidInput, RapportError

api = NinjaAPI(
    title="Rapport API",
    version="1",
    auth=AUTH,
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(RapportError)
def rapport_error(request: HttpRequest, error: RapportError) -> HttpResponse:
    body: dict[str, object] = {"error": error.message}
    if isinstance(error, InvalidInput) and error.field:
        body["field"] = error.field
    return api.create_response(request, body, status=error.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"error": "Authentication required: send 'Authorization: Bearer <token>'."},
        status=401,
    )


@api.exception_handler(ValidationError)
def invalid_request(request: HttpRequest, error: ValidationError) -> HttpResponse:
    problems = [
        f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'body'}: {e.get('msg', 'invalid')}"
        for e in error.errors
    ]
    return api.create_response(
        request, {"error": "; ".join(problems), "details": error.errors}, status=422
    )
