"""Template pages: the list, the editor with its preview as any contact, and the preview frame.

The frame is the only page that shows user-written HTML. It is served from a signed,
short-lived URL (no session needed, none touched, no cookie set), framed only by our own pages,
and with a Content-Security-Policy that sandboxes it and allows no script at all, whatever the
template holds; the iframe that shows it is sandboxed too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.content import services
from rapport.content.models import Template, TemplateKind, TemplateVersion
from rapport.crm.models import Contact
from rapport.crm.queries import ContactFilters, contacts_matching
from rapport.errors import Conflict, InvalidInput, NotFound, RapportError
from rapport.web.decorators import acting_user, page
from rapport.web.forms import TemplateForm, TestSendForm
from rapport.web.frames import frame_response

_PREVIEW_SALT = "rapport.web.template-preview"
PREVIEW_SECONDS = 600
FRAME_CSP: dict[str, Any] = {
    "default-src": ["'none'"],
    "img-src": ["https:", "http:", "data:"],
    "style-src": ["'unsafe-inline'"],
    "font-src": ["https:", "data:"],
    "frame-ancestors": ["'self'"],
    "form-action": ["'none'"],
    "base-uri": ["'none'"],
    "sandbox": True,  # no scripts, no forms, no popups, an opaque origin
}


@page
def template_index(request: HttpRequest) -> HttpResponse:
    require(acting_user(request), Perm.VIEW_CONTACTS)
    templates = Template.objects.filter(archived=False).select_related("current")
    return render(request, "web/templates/list.html", {"templates": templates})


@page
def template_new(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Perm.EDIT_CONTENT)
    initial: dict[str, Any] = {"kind": TemplateKind.NEWSLETTER, "html": _BLANK_HTML}
    if "copy" in request.GET:
        original = services.get_template_for(user, request.GET["copy"])
        version = services.current_version(original)
        initial = {
            **dataclasses.asdict(services.content_of(version)),
            "kind": original.kind,
            "name": _("Copy of %(name)s") % {"name": original.name},
        }
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.create_template(
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                content=_content(form),
                acting_user=user,
            )
        except (InvalidInput, Conflict) as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Template %(name)s saved.") % {"name": template.name})
            return redirect("template", template.pk)
    return render(request, "web/templates/editor.html", {"form": form, "template": None})


@page
def template_page(request: HttpRequest, template_id: int) -> HttpResponse:
    user = acting_user(request)
    template = services.get_template_for(user, template_id)
    version = services.current_version(template)
    initial = {**dataclasses.asdict(services.content_of(version)), "name": template.name}
    initial["kind"] = template.kind
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            require(user, Perm.EDIT_CONTENT)
            _rename(template, form.cleaned_data["name"], form.cleaned_data["kind"])
            services.save_version(template.pk, _content(form), acting_user=user)
        except (InvalidInput, Conflict) as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Template %(name)s saved.") % {"name": template.name})
            return redirect("template", template.pk)
    contact = _preview_contact(request)
    return render(
        request,
        "web/templates/editor.html",
        {
            "form": form,
            "template": template,
            "version": version,
            "preview_contact": contact,
            "frame_url": _frame_url(version.pk, contact.pk if contact else None),
            "test_form": TestSendForm(initial={"to": user.email}),
        },
    )


def _content(form: TemplateForm) -> services.TemplateContent:
    data = form.cleaned_data
    return services.TemplateContent(
        subject=data["subject"],
        html=data["html"],
        preheader=data["preheader"],
        text=data["text"],
        from_name=data["from_name"],
        from_email=data["from_email"],
        reply_to=data["reply_to"],
    )


def _rename(template: Template, name: str, kind: str) -> None:
    if name != template.name and Template.objects.filter(name=name).exists():
        raise Conflict(_("There is already a template called %(name)s.") % {"name": name})
    if (name, kind) != (template.name, template.kind):
        template.name, template.kind = name, kind
        template.save(update_fields=["name", "kind", "updated_at"])


def _preview_contact(request: HttpRequest) -> Contact | None:
    contact_id = request.GET.get("contact", "")
    if not contact_id.isdigit():
        return None
    return Contact.objects.filter(pk=int(contact_id)).first()


def _frame_url(version_id: int, contact_id: int | None) -> str:
    token = signing.dumps({"v": version_id, "c": contact_id}, salt=_PREVIEW_SALT, compress=True)
    return reverse("template_frame", args=[token])


@page
@require_GET
def template_contact_search(request: HttpRequest, template_id: int) -> HttpResponse:
    """Contacts to preview as, found by name, email or phone as the user types."""
    require(acting_user(request), Perm.VIEW_CONTACTS)
    term = request.GET.get("q", "").strip()
    found = list(contacts_matching(ContactFilters(q=term)).order_by("-pk")[:8]) if term else []
    return render(
        request,
        "web/templates/contact_choices.html",
        {"contacts": found, "template_id": template_id, "term": term},
    )


@page
@require_POST
def template_test_send(request: HttpRequest, template_id: int) -> HttpResponse:
    user = acting_user(request)
    template = services.get_template_for(user, template_id)
    form = TestSendForm(request.POST)
    target = reverse("template", args=[template.pk])
    if not form.is_valid():
        messages.error(request, _("Enter the address to send the test to."))
        return redirect(target)
    contact_id = form.cleaned_data.get("contact")
    try:
        services.send_test(
            template, contact_id=contact_id, to_address=form.cleaned_data["to"], acting_user=user
        )
    except RapportError as error:
        messages.error(request, error.message)
    except OSError as error:  # the SMTP server refused or is not there
        messages.error(request, _("The test could not be sent: %(error)s") % {"error": error})
    else:
        messages.success(request, _("Test sent to %(to)s.") % {"to": form.cleaned_data["to"]})
    return redirect(f"{target}?contact={contact_id}" if contact_id else target)


@require_GET
@xframe_options_sameorigin
@csp_override(FRAME_CSP)
def template_frame(request: HttpRequest, token: str) -> HttpResponse:
    """The rendered email alone, for the preview iframes; see the module docstring."""
    try:
        data = signing.loads(token, salt=_PREVIEW_SALT, max_age=PREVIEW_SECONDS)
        version = TemplateVersion.objects.select_related("template").get(pk=data["v"])
        message = services.render_for_contact(
            services.compile_version(version), services.usage_of(version), data["c"]
        )
        body = message.html
        status = 200
    except (signing.BadSignature, KeyError, TypeError, TemplateVersion.DoesNotExist):
        body, status = _("This preview has expired; reload the page."), 404
    except NotFound as error:
        body, status = error.message, 404
    except RapportError as error:
        body, status = error.message, 422
    return frame_response(body, status)


_BLANK_HTML = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { margin: 0; background: #f3f4f6;
         font-family: -apple-system, "Segoe UI", Roboto, "PingFang SC", sans-serif; }
  .card { max-width: 600px; margin: 0 auto; background: #ffffff; padding: 32px; color: #1f2937; }
  .footer { color: #6b7280; font-size: 12px; }
</style>
</head>
<body>
<div class="card">
  <p>{{ contact.salutation }},</p>
  <p></p>
  <p class="footer">{{ workspace.name }} · {{ workspace.address }}<br>
    <a href="{{ preferences_url }}">Preferences</a> ·
    <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</div>
</body>
</html>
"""
