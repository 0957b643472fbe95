"""Template writes and renders: every caller (UI, API, CLI, campaigns) comes through here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.content.checks import TemplateProblem, Usage, check_source, merge_usage
from rapport.content.context import ContextBuilder, Sender, sample_context
from rapport.content.coupons import active_series_names, existing_code
from rapport.content.derive import derive
from rapport.content.models import Template, TemplateKind, TemplateVersion, Workspace
from rapport.content.recommend import Recommender
from rapport.content.rendering import (
    HTML_ENVIRONMENT,
    TEXT_ENVIRONMENT,
    CompiledTemplate,
    RenderedMessage,
    RenderError,
    header_text,
)
from rapport.crm.fields import FieldError, normalise_email
from rapport.crm.models import Contact, CustomField
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.lookup import by_id_or_name

MAX_TEMPLATE_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class TemplateContent:
    """What a marketer writes; a saved version adds what is derived from it."""

    subject: str
    html: str
    preheader: str = ""
    text: str = ""
    from_name: str = ""
    from_email: str = ""
    reply_to: str = ""


def content_of(version: TemplateVersion) -> TemplateContent:
    return TemplateContent(**{f.name: getattr(version, f.name) for f in fields(TemplateContent)})


def check_content(content: TemplateContent) -> Usage:
    """Everything that would make the template fail, found before it is saved."""
    if not content.subject.strip():
        raise TemplateProblem("subject", None, "is empty; every email needs a subject")
    if not content.html.strip():
        raise TemplateProblem("html", None, "is empty")
    for part in ("html", "text"):
        if len(getattr(content, part)) > MAX_TEMPLATE_CHARS:
            raise TemplateProblem(part, None, f"is longer than {MAX_TEMPLATE_CHARS:,} characters")
    for part in ("from_email", "reply_to"):
        value = getattr(content, part)
        if value:
            try:
                normalise_email(value)
            except FieldError as error:
                raise TemplateProblem(part, None, str(error)) from None
    custom_keys = frozenset(CustomField.objects.values_list("key", flat=True))
    series = active_series_names()
    usages = [
        check_source(environment, part, getattr(content, part), custom_keys=custom_keys,
                     coupon_series=series)
        for part, environment in (
            ("subject", TEXT_ENVIRONMENT),
            ("preheader", TEXT_ENVIRONMENT),
            ("html", HTML_ENVIRONMENT),
            ("text", TEXT_ENVIRONMENT),
        )
    ]  # fmt: skip
    usage = merge_usage(usages)
    # Rendered as written (not CSS-inlined) so that an error's line is the line the user sees.
    compiled = CompiledTemplate.compile(
        subject=content.subject, html=content.html, text=content.text or "-"
    )
    for locale in ("en", "zh-Hans"):
        try:
            compiled.render(sample_context(usage, locale))
        except RenderError as error:
            raise TemplateProblem(
                error.part, error.line, error.message.split(": ", 1)[-1]
            ) from None
    return usage


def compile_content(content: TemplateContent) -> CompiledTemplate:
    derived = derive(content.html, content.preheader, content.text)
    return CompiledTemplate.compile(subject=content.subject, html=derived.html, text=derived.text)


def compile_version(version: TemplateVersion) -> CompiledTemplate:
    return CompiledTemplate.compile(
        subject=version.subject, html=version.compiled_html, text=version.compiled_text
    )


def usage_of(version: TemplateVersion) -> Usage:
    """What a saved version needs at send time (checked again: cheap, and never stale)."""
    return check_content(content_of(version))


# -- templates ------------------------------------------------------------------------------


def get_template_for(user: User | None, ref: int | str) -> Template:
    if user is not None:
        require(user, Perm.VIEW_CONTACTS)
    return by_id_or_name(Template.objects.select_related("current"), ref, "template")


@transaction.atomic
def create_template(
    *,
    name: str,
    content: TemplateContent,
    kind: str = TemplateKind.OTHER,
    language: str = "",
    library_key: str = "",
    acting_user: User | None,
) -> Template:
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    name = name.strip()
    if not name:
        raise InvalidInput("A template needs a name.", field="name")
    if kind not in TemplateKind.values:
        raise InvalidInput(f"{kind!r} is not a kind of template.", field="kind")
    if Template.objects.filter(name=name).exists():
        raise Conflict(f"There is already a template called {name!r}.")
    template = Template.objects.create(
        name=name, kind=kind, language=language, library_key=library_key
    )
    save_version(template.pk, content, acting_user=acting_user)
    record_audit(acting_user, "template.create", target_type="template", target_id=template.pk)
    return Template.objects.select_related("current").get(pk=template.pk)


@transaction.atomic
def save_version(
    template_id: int, content: TemplateContent, *, acting_user: User | None
) -> TemplateVersion:
    """Check, derive and store a new version, and make it the current one."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    template = Template.objects.select_for_update().filter(pk=template_id).first()
    if template is None:
        raise NotFound(f"There is no template {template_id}.")
    check_content(content)
    derived = derive(content.html, content.preheader, content.text)
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    try:
        version = TemplateVersion.objects.create(
            template=template,
            number=number,
            compiled_html=derived.html,
            compiled_text=derived.text,
            warnings=list(derived.warnings),
            created_by=acting_user,
            **{f.name: getattr(content, f.name) for f in fields(TemplateContent)},
        )
    except IntegrityError:
        raise Conflict("Someone saved this template at the same moment; try again.") from None
    template.current = version
    template.save(update_fields=["current", "updated_at"])
    record_audit(
        acting_user,
        "template.save",
        target_type="template",
        target_id=template.pk,
        detail={"version": number},
    )
    return version


def current_version(template: Template) -> TemplateVersion:
    if template.current is None:
        raise NotFound(f"The template {template.name!r} has no saved version yet.")
    return template.current


# -- rendering one contact ------------------------------------------------------------------


def _preview_coupon(series: str, contact_id: int) -> str:
    return existing_code(series, contact_id) or f"{series}-PREVIEW"


def render_for_contact(
    compiled: CompiledTemplate,
    usage: Usage,
    contact_id: int | None,
    *,
    now: dt.datetime | None = None,
) -> RenderedMessage:
    """A preview: the message as ``contact_id`` would get it (a sample contact when None).
    Coupons are shown, never issued, so previewing has no side effects."""
    if contact_id is None:
        return compiled.render(sample_context(usage, Workspace.current().locale))
    builder = ContextBuilder(
        sender=Sender(key="preview", name=""),
        usage=usage,
        now=now or timezone.now(),
        recommender=Recommender.load() if usage.recommendations else None,
        coupons=_preview_coupon,
    )
    contexts = builder.build([contact_id])
    if not contexts:
        raise NotFound(f"There is no contact {contact_id}.")
    return compiled.render(contexts[0])


def find_contact_id(email: str) -> int:
    try:
        address = normalise_email(email)
    except FieldError as error:
        raise InvalidInput(f"{email!r}: {error}", field="contact") from None
    contact_id = Contact.objects.filter(email=address).values_list("pk", flat=True).first()
    if contact_id is None:
        raise NotFound(f"There is no contact with the address {address}.")
    return contact_id


def render_source(
    *, html: str, subject: str, contact_email: str | None, preheader: str = "", text: str = ""
) -> RenderedMessage:
    """Check and render unsaved content: ``rapport template render`` and the editor preview."""
    content = TemplateContent(subject=subject, html=html, preheader=preheader, text=text)
    usage = check_content(content)
    contact_id = find_contact_id(contact_email) if contact_email else None
    return render_for_contact(compile_content(content), usage, contact_id)


def send_test(
    template: Template, *, contact_id: int | None, to_address: str, acting_user: User | None
) -> RenderedMessage:
    """Send the rendered message to one address, marked as a test, through the default SMTP
    server. A test never counts as a send to the contact it was rendered for."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    try:
        recipient = normalise_email(to_address)
    except FieldError as error:
        raise InvalidInput(f"{to_address!r}: {error}", field="to") from None
    version = current_version(template)
    message = render_for_contact(compile_version(version), usage_of(version), contact_id)
    workspace = Workspace.current()
    from_name = header_text(version.from_name or workspace.from_name or workspace.name)
    email = EmailMultiAlternatives(
        subject=f"[Test] {message.subject}",
        body=message.text,
        from_email=f"{from_name} <{version.from_email or workspace.from_email}>",
        to=[recipient],
        reply_to=[version.reply_to or workspace.reply_to]
        if (version.reply_to or workspace.reply_to)
        else None,
        headers={"X-Rapport-Test": "1"},
    )
    email.attach_alternative(message.html, "text/html")
    email.send()
    record_audit(
        acting_user,
        "template.test_send",
        target_type="template",
        target_id=template.pk,
        detail={"to": recipient, "version": version.number},
    )
    return message


def template_summaries() -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in Template.objects.filter(archived=False)
        .order_by("name")
        .values("id", "name", "kind", "language", "current__number", "updated_at")
    ]


_ADDRESS = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+")


def save_workspace(
    *,
    name: str,
    postal_address: str,
    website: str = "",
    from_name: str = "",
    from_email: str,
    reply_to: str = "",
    locale: str = "en",
    window_days: Sequence[int] = (),
    window_start: dt.time | None = None,
    window_end: dt.time | None = None,
    acting_user: User,
) -> Workspace:
    """Who is sending: checked here so that a header can never be broken by what is typed."""
    require(acting_user, Perm.MANAGE_SENDING)
    for field, value in (("name", name), ("from_name", from_name)):  # they go in headers
        if "\r" in value or "\n" in value:
            raise InvalidInput("Line breaks are not allowed here.", field=field)
    if not name.strip():
        raise InvalidInput("The organisation needs a name.", field="name")
    for field, address in (("from_email", from_email), ("reply_to", reply_to)):
        if (address or field == "from_email") and not _ADDRESS.fullmatch(address.strip()):
            raise InvalidInput(f"{address!r} is not an email address.", field=field)
    if website and not website.startswith(("https://", "http://")):
        raise InvalidInput("The website starts with https://.", field="website")
    days = sorted({int(day) for day in window_days})
    if days and (window_start is None or window_end is None or window_start >= window_end):
        raise InvalidInput(
            "A sending window needs an opening time before its closing time.",
            field="window_start",
        )
    if any(not 0 <= day <= 6 for day in days):
        raise InvalidInput("Days are 0 (Monday) to 6 (Sunday).", field="window_days")
    workspace = Workspace.current()
    workspace.window_days = days
    workspace.window_start, workspace.window_end = (
        (window_start, window_end) if days else (None, None)
    )
    workspace.name, workspace.postal_address = name.strip(), postal_address.strip()
    workspace.website, workspace.from_name = website.strip(), from_name.strip()
    workspace.from_email, workspace.reply_to = from_email.strip().lower(), reply_to.strip().lower()
    workspace.locale = locale
    workspace.save()
    record_audit(acting_user, "workspace.update", target_type="workspace", target_id=1)
    return workspace
