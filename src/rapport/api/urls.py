"""The API object: authentication, error shapes, and the routers of each area."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from rapport.analytics import api as reports
from rapport.api import (
    campaigns,
    contacts,
    coupons,
    events,
    experiments,
    imports,
    journeys,
    orders,
    products,
    segments,
    suppressions,
    templates,
)
from rapport.api.auth import AUTH
from rapport.errors import InvalidInput, RapportError

api = NinjaAPI(
    title="Rapport API",
    version="1",
    auth=AUTH,
    urls_namespace="api",
    docs_url="/docs",
)
api.add_router("/contacts", contacts.router)
api.add_router("/products", products.router)
api.add_router("/orders", orders.router)
api.add_router("/events", events.router)
api.add_router("/imports", imports.router)
api.add_router("/segments", segments.router)
api.add_router("/templates", templates.router)
api.add_router("/coupon-series", coupons.router)
api.add_router("/campaigns", campaigns.router)
api.add_router("/campaigns", experiments.ab_router)
api.add_router("/frequency-tests", experiments.frequency_router)
api.add_router("/send-hours", experiments.send_hours_router)
api.add_router("/campaigns", reports.router)
api.add_router("/journeys", journeys.router)
api.add_router("/suppressions", suppressions.router)


@api.exception_handler(RapportError)
def rapport_error(request: HttpRequest, error: RapportError) -> HttpResponse:
    body: dict[str, object] = {"error": error.message}
    if isinstance(error, InvalidInput) and error.field:
        body["field"] = error.field
    return api.create_response(request, body, status=error.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"error": "Authentication required: send 'Authorization: Bearer <token>'."},
        status=401,
    )


def _where(loc: Sequence[object]) -> str:
    """The input an error is about, as the client wrote it: ``lines.0.quantity``."""
    source, *parts = [str(part) for part in loc] or ["body"]
    if source == "body":
        parts = parts[1:]  # the handler's parameter name, which the client never sees
    return ".".join(parts) or source


@api.exception_handler(ValidationError)
def invalid_request(request: HttpRequest, error: ValidationError) -> HttpResponse:
    places = [_where(e.get("loc", ())) for e in error.errors]
    problems = [
        f"{place}: {e.get('msg', 'invalid')}" for place, e in zip(places, error.errors, strict=True)
    ]
    body: dict[str, object] = {"error": "; ".join(problems), "details": error.errors}
    if len(set(places)) == 1:
        body["field"] = places[0]
    return api.create_response(request, body, status=422)
