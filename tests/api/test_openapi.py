"""The generated OpenAPI document: served, complete, and in step with the role matrix."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.api.test_roles import ENDPOINTS

pytestmark = pytest.mark.django_db

EXPECTED_PATHS = {
    "/api/v1/contacts", "/api/v1/contacts/{contact_id}",
    "/api/v1/products", "/api/v1/products/{product_id}",
    "/api/v1/orders", "/api/v1/orders/{order_id}",
    "/api/v1/events", "/api/v1/events/{event_id}",
    "/api/v1/imports", "/api/v1/imports/{job_id}", "/api/v1/imports/{job_id}/rejects",
    "/api/v1/segments", "/api/v1/segments/{segment_id}", "/api/v1/segments/count",
    "/api/v1/segments/{segment_id}/members",
    "/api/v1/templates", "/api/v1/templates/{template_id}", "/api/v1/templates/render",
    "/api/v1/templates/{template_id}/versions",
    "/api/v1/coupon-series", "/api/v1/coupon-series/{name}/codes",
    "/api/v1/campaigns", "/api/v1/campaigns/{campaign_id}",
    "/api/v1/campaigns/{campaign_id}/send", "/api/v1/campaigns/{campaign_id}/pause",
    "/api/v1/campaigns/{campaign_id}/resume", "/api/v1/campaigns/{campaign_id}/cancel",
    "/api/v1/campaigns/{campaign_id}/ab-test",
    "/api/v1/frequency-tests", "/api/v1/frequency-tests/{test_id}",
    "/api/v1/frequency-tests/{test_id}/cancel", "/api/v1/send-hours/learn",
    "/api/v1/campaigns/{campaign_id}/report",
    "/api/v1/journeys", "/api/v1/journeys/recipes", "/api/v1/journeys/{journey_id}",
    "/api/v1/journeys/{journey_id}/enable", "/api/v1/journeys/{journey_id}/disable",
    "/api/v1/suppressions", "/api/v1/suppressions/{email}",
}  # fmt: skip


@pytest.fixture
def document() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def test_lists_every_path(document: dict[str, Any]) -> None:
    assert set(document["paths"]) == EXPECTED_PATHS


def test_every_operation_is_in_the_role_matrix(document: dict[str, Any]) -> None:
    def shape(path: str) -> str:
        return re.sub(r"\{\w+\}", "{id}", path)

    documented = {
        (method.upper(), shape(path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    tested = {(e.method, shape(e.path)) for e in ENDPOINTS.values()}
    assert len(tested) == len(ENDPOINTS)
    assert documented == tested


def test_every_operation_requires_authentication(document: dict[str, Any]) -> None:
    schemes = set(document["components"]["securitySchemes"])
    assert {"TokenAuth", "StaffSessionAuth"} <= schemes
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), (method, path)
            assert "401" in operation["responses"], (method, path)


def test_documents_the_error_body_and_the_rejects_csv(document: dict[str, Any]) -> None:
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {
        "error",
        "field",
        "details",
    }
    rejects = document["paths"]["/api/v1/imports/{job_id}/rejects"]["get"]["responses"]["200"]
    assert "text/csv" in rejects["content"]
    upload = document["paths"]["/api/v1/imports"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
