"""The outbox: what the local mail catcher caught, one message with its parts, the .eml, and
a button that empties it.

A caught message's HTML is shown as the template preview shows a template: only in a sandboxed
iframe, from a signed, short-lived URL (no session needed or touched), with a
Content-Security-Policy that allows no script at all, whatever the message holds.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from rapport.delivery import outbox
from rapport.errors import NotFound
from rapport.web.decorators import acting_user, page
from rapport.web.frames import frame_response

_FRAME_SALT = "rapport.web.outbox-frame"
FRAME_SECONDS = 600
# As the template preview's frame, but images over HTTPS only and no fonts: a caught message
# is not ours to trust, and plain-http images (our own open pixel on a default install) stay out.
FRAME_CSP: dict[str, Any] = {
    "default-src": ["'none'"],
    "img-src": ["https:", "data:"],
    "style-src": ["'unsafe-inline'"],
    "frame-ancestors": ["'self'"],
    "form-action": ["'none'"],
    "base-uri": ["'none'"],
    "sandbox": True,  # no scripts, no forms, no popups, an opaque origin
}


@page
@require_GET
def outbox_index(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    before = request.GET.get("before", "")
    listing = outbox.list_caught(
        acting_user(request), q=q, before=int(before) if before.isdigit() else None
    )
    return render(
        request, "web/outbox/list.html", {"listing": listing, "q": q, "paged": bool(before)}
    )


@page
@require_GET
def outbox_message(request: HttpRequest, message_id: int) -> HttpResponse:
    caught = outbox.get_caught_for(acting_user(request), message_id)
    raw = outbox.raw_of(caught)
    parsed = outbox.parse_message(raw)
    source, cut = outbox.raw_for_display(raw)
    token = signing.dumps({"m": caught.pk}, salt=_FRAME_SALT)
    return render(
        request,
        "web/outbox/detail.html",
        {
            "caught": caught,
            "parsed": parsed,
            "source": source,
            "source_cut": cut,
            "frame_url": reverse("outbox_frame", args=[token]) if parsed.html else None,
        },
    )


@page
@require_GET
def outbox_download(request: HttpRequest, message_id: int) -> HttpResponse:
    caught = outbox.get_caught_for(acting_user(request), message_id)
    response = HttpResponse(outbox.raw_of(caught), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{caught.pk}.eml"'
    return response


@page
@require_POST
def outbox_clear(request: HttpRequest) -> HttpResponse:
    up_to = request.POST.get("up_to", "")
    deleted = outbox.clear_outbox(
        up_to=int(up_to) if up_to.isdigit() else None, acting_user=acting_user(request)
    )
    messages.success(
        request,
        ngettext(
            "%(count)s message deleted from the outbox.",
            "%(count)s messages deleted from the outbox.",
            deleted,
        )
        % {"count": deleted},
    )
    return redirect("outbox")


@require_GET
@xframe_options_sameorigin
@csp_override(FRAME_CSP)
def outbox_frame(request: HttpRequest, token: str) -> HttpResponse:
    """A caught message's HTML part alone, for the sandboxed iframe; see the module docstring."""
    try:
        data = signing.loads(token, salt=_FRAME_SALT, max_age=FRAME_SECONDS)
        html = outbox.html_of_caught(int(data["m"]))
        body, status = (html, 200) if html is not None else (_("No HTML part."), 404)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        body, status = _("This view has expired; reload the page."), 404
    except NotFound as error:
        body, status = error.message, 404
    return frame_response(body, status)
