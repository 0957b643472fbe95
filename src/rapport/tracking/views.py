"""Pages a recipient reaches from an email, without an account: signed links, no cookies.

One-click unsubscribe follows RFC 8058: a POST (what Gmail and Yahoo send from their
"Unsubscribe" button, or the button on our page) unsubscribes at once and answers 200 with no
redirect; a GET never unsubscribes (link scanners and prefetchers follow every link in a
message) but shows the page with the button.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from rapport.content.formatting import language_of
from rapport.content.links import read_token
from rapport.content.models import Workspace
from rapport.crm.models import Contact
from rapport.tracking.hits import answer
from rapport.tracking.services import unsubscribe

PAGE_CSP = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
}


@csrf_exempt  # the signed token is the credential; mail providers post without cookies
@csp_override(PAGE_CSP)
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    found = read_token("unsubscribe", token)
    contact = Contact.objects.filter(pk=found[0]).first() if found else None
    if found is None or contact is None:
        raise Http404("This unsubscribe link is not valid.")
    done = False
    if request.method == "POST":
        unsubscribe(contact.pk, source=found[1], how="one-click")
        done = True
    language = "zh-hans" if language_of(contact.locale) == "zh" else "en"
    with translation.override(language):
        response = render(
            request,
            "tracking/unsubscribe.html",
            {
                "done": done,
                "email": contact.email,
                "workspace": Workspace.current(),
                "action": request.path,
                "language": language,
            },
        )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def hit_view(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    """An open or a click through Django (tests, ``runserver``); ``rapport web`` answers the
    same URLs on its lean path (``tracking.wsgi``) with the same ``answer``."""
    result = answer(
        request.method or "GET",
        kind,
        token,
        request.headers.get("user-agent", ""),
        request.META.get("REMOTE_ADDR", ""),
    )
    response = HttpResponse(result.body, status=result.status)
    for name, value in result.headers:
        response[name] = value
    return response
