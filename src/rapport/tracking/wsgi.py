"""The lean path for the tracking endpoints, in front of Django.

Django's middleware stack (sessions, CSRF, locale, CSP, authentication) costs far more than
an open or a click needs, and the endpoints must take thousands of hits a second on two cores.
So ``/t/…`` is answered here, straight from the WSGI environ, with the same ``hits.answer`` the
Django views use; everything else goes on to Django. ``/t/pixel.gif`` is a static transparent
GIF answered without recording (a spacer image, and the baseline ``bench/track.py`` measures
against on the same server).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rapport.tracking.hits import PIXEL_ANSWER, answer

_STATUS = {200: "200 OK", 302: "302 Found", 404: "404 Not Found"}
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def with_tracking(application: WsgiApp) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith("/t/"):
            return application(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/t/pixel.gif":
            result = PIXEL_ANSWER
        else:
            _, _, kind, token = path.split("/", 3) if path.count("/") >= 3 else ("", "", "", "")
            result = answer(
                method,
                kind,
                token,
                environ.get("HTTP_USER_AGENT", ""),
                environ.get("REMOTE_ADDR", ""),
            )
        start_response(_STATUS[result.status], result.headers)
        return [result.body]  # waitress sends no body for HEAD

    return app
