"""/api/v1/templates: email templates with versions, and rendering as a contact."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.api.common import ERRORS, acting_user
from rapport.content import services
from rapport.content.models import Template, TemplateKind, TemplateVersion

router = Router(tags=["templates"])


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ContentIn(_Strict):
    subject: str = Field(min_length=1, max_length=500)
    html: str = Field(min_length=1, max_length=services.MAX_TEMPLATE_CHARS)
    preheader: str = Field("", max_length=500)
    text: str = Field("", max_length=services.MAX_TEMPLATE_CHARS, description="empty: from HTML")
    from_name: str = Field("", max_length=200)
    from_email: str = Field("", max_length=254)
    reply_to: str = Field("", max_length=254)

    def content(self) -> services.TemplateContent:
        fields = {f.name for f in dataclasses.fields(services.TemplateContent)}
        return services.TemplateContent(**self.model_dump(include=fields))


class TemplateIn(ContentIn):
    name: str = Field(min_length=1, max_length=120)
    kind: TemplateKind = TemplateKind.OTHER
    language: str = Field("", max_length=16)


class VersionOut(Schema):
    number: int
    subject: str
    preheader: str
    html: str
    text: str
    from_name: str
    from_email: str
    reply_to: str
    warnings: list[str]
    created_at: dt.datetime


class TemplateOut(Schema):
    id: int
    name: str
    kind: str
    language: str
    updated_at: dt.datetime
    current: VersionOut | None


class RenderIn(ContentIn):
    contact_email: str | None = Field(None, description="render as this contact; empty: sample")


class RenderedOut(Schema):
    subject: str
    html: str
    text: str


@router.get("", response={200: list[TemplateOut], **ERRORS})
def list_templates(request: HttpRequest) -> list[Template]:
    """Every template that is not archived, by name, with its current version."""
    require(acting_user(request), Perm.VIEW_CONTACTS)
    return list(Template.objects.filter(archived=False).select_related("current"))


@router.get("/{int:template_id}", response={200: TemplateOut, **ERRORS})
def get_template(request: HttpRequest, template_id: int) -> Template:
    return services.get_template_for(acting_user(request), template_id)


@router.post("", response={201: TemplateOut, **ERRORS})
def create_template(request: HttpRequest, payload: TemplateIn) -> Status[Template]:
    """A template error is a 400 naming the part and line: ``html, line 3: …``."""
    template = services.create_template(
        name=payload.name,
        kind=payload.kind,
        language=payload.language,
        content=payload.content(),
        acting_user=acting_user(request),
    )
    return Status(201, template)


@router.post("/{int:template_id}/versions", response={201: VersionOut, **ERRORS})
def save_version(
    request: HttpRequest, template_id: int, payload: ContentIn
) -> Status[TemplateVersion]:
    """Save new content as the next version; earlier versions stay as they were."""
    user = acting_user(request)
    services.get_template_for(user, template_id)
    return Status(201, services.save_version(template_id, payload.content(), acting_user=user))


@router.post("/render", response={200: RenderedOut, **ERRORS})
def render_template(request: HttpRequest, payload: RenderIn) -> dict[str, Any]:
    """Check and render content without saving it, as a contact or a sample contact."""
    require(acting_user(request), Perm.VIEW_CONTACTS)
    content = payload.content()
    message = services.render_source(
        html=content.html,
        subject=content.subject,
        preheader=content.preheader,
        text=content.text,
        contact_email=payload.contact_email,
    )
    return dataclasses.asdict(message)
