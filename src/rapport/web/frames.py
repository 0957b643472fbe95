"""Pages shown only inside a sandboxed iframe (a template preview, a caught message): what
they send back besides their own Content-Security-Policy."""

from __future__ import annotations

from django.http import HttpResponse


def frame_response(body: str, status: int) -> HttpResponse:
    """Never cached, never telling the next site where it came from, never embeddable
    elsewhere: the HTML in it is someone's email, not our page."""
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
