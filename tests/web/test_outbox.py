"""The outbox: what the real mail catcher caught, listed, searched, shown safely, deleted."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import AuditEntry
from rapport.accounts.roles import Role
from rapport.content.services import TemplateContent, create_template
from rapport.delivery.mailcatcher import make_controller
from rapport.delivery.models import CaughtMessage
from rapport.delivery.outbox import PAGE_SIZE, parse_message
from tools.with_postgres import free_port

ClientFor = Callable[..., Client]

HOSTILE_HTML = """<html><head><title>t</title></head><body>
<p id="greeting">Spring sale for Mei</p>
<script>document.body.setAttribute("data-pwned", "script"); top.document.title = "pwned";</script>
</body></html>"""


@pytest.fixture
def catcher(settings: pytest.FixtureRequest) -> Iterator[int]:
    """A real mail catcher on a free loopback port, and Django's mail pointed at it."""
    port = free_port()
    settings.MAILERS = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    controller = make_controller("127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def _newsletter() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Shop <shop@example.com>"
    message["To"] = "李娜 <li.na@example.com>"
    message["Subject"] = "春节快乐 — spring sale"
    message["Date"] = "Mon, 09 Feb 2026 10:00:00 +0800"
    message["Message-ID"] = "<spring.1@example.com>"
    message["List-Unsubscribe"] = "<https://shop.example.com/u/abc>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["DKIM-Signature"] = (
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rapport; h=from:to; bh=x; b=y"
    )
    message.set_content("Hello 李娜 <b>not bold</b>")
    message.add_alternative(HOSTILE_HTML, subtype="html")
    return message


def _send(port: int, message: EmailMessage, *, sender: str = "bounce+1@example.com") -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        assert client.send_message(message, from_addr=sender) == {}


def _catch(subject: str = "Hello", to: str = "a@example.com", raw: bytes | None = None) -> int:
    """A caught row made directly, for tests about the list rather than about SMTP."""
    raw = raw or f"From: shop@example.com\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nHi\r\n".encode()
    row = CaughtMessage.objects.create(
        mail_from="shop@example.com", recipients=[to], subject=subject, raw=raw, size=len(raw)
    )
    return row.pk


def _frame_url(page: str) -> str:
    match = re.search(r'<iframe class="frame-desktop" src="([^"]+)"', page)
    assert match, "the page shows the HTML part in a frame"
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_a_message_caught_over_smtp_is_listed_and_shown_with_its_parts(
    catcher: int, client_for: ClientFor
) -> None:
    _send(catcher, _newsletter())
    caught = CaughtMessage.objects.get()
    client = client_for(Role.VIEWER)

    listing = client.get("/outbox/").content.decode()
    assert "春节快乐 — spring sale" in listing
    assert "li.na@example.com" in listing and "bounce+1@example.com" in listing
    assert f"/outbox/{caught.pk}/" in listing

    page = client.get(f"/outbox/{caught.pk}/").content.decode()
    for shown in (
        "Shop &lt;shop@example.com&gt;",
        "李娜 &lt;li.na@example.com&gt;",
        "&lt;spring.1@example.com&gt;",
        "&lt;https://shop.example.com/u/abc&gt;",
        "List-Unsubscribe=One-Click",
        "d=example.com s=rapport",
        "Hello 李娜 &lt;b&gt;not bold&lt;/b&gt;",  # the text part, escaped
        "&lt;script&gt;document.body",  # the raw source, escaped
        "bounce+1@example.com",  # the envelope sender: the Return-Path a server would add
    ):
        assert shown in page, shown
    assert "<script>document" not in page
    assert re.search(r'<iframe class="frame-desktop" src="[^"]+" sandbox="" credentialless', page)

    eml = client.get(f"/outbox/{caught.pk}/message.eml")
    assert eml["Content-Type"] == "message/rfc822"
    assert eml["Content-Disposition"] == f'attachment; filename="message-{caught.pk}.eml"'
    assert eml.content == bytes(caught.raw)


@pytest.mark.django_db(transaction=True)
def test_the_html_part_is_served_sandboxed_with_no_script_allowed(
    catcher: int, client_for: ClientFor
) -> None:
    _send(catcher, _newsletter())
    caught = CaughtMessage.objects.get()
    page = client_for(Role.VIEWER).get(f"/outbox/{caught.pk}/").content.decode()

    frame = Client().get(_frame_url(page))  # no session: the signed URL is the key

    assert frame.status_code == 200
    assert 'id="greeting"' in frame.content.decode()
    assert not frame.cookies
    directives = {d.strip() for d in frame["Content-Security-Policy"].split(";")}
    for needed in ("default-src 'none'", "img-src https: data:", "style-src 'unsafe-inline'"):
        assert needed in directives
    assert "sandbox" in directives  # the script is served, but the browser runs none of it
    assert not any(d.startswith("script-src") for d in directives)
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert frame["Cache-Control"] == "no-store"
    assert frame["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.django_db(transaction=True)
def test_a_test_send_from_the_template_editor_lands_in_the_outbox(
    catcher: int, client_for: ClientFor
) -> None:
    client = client_for(Role.MARKETER)
    template = create_template(
        name="Outbox check",
        content=TemplateContent(
            subject="Hello from the editor",
            html="<p>Rendered for the outbox</p>",
            from_email="shop@example.com",
        ),
        acting_user=None,
    )
    response = client.post(f"/templates/{template.pk}/test", {"to": "me@example.com"})
    assert response.status_code == 302

    listing = client.get("/outbox/").content.decode()
    assert "[Test] Hello from the editor" in listing and "me@example.com" in listing
    caught = CaughtMessage.objects.get()
    page = client.get(f"/outbox/{caught.pk}/").content.decode()
    assert "Rendered for the outbox" in page  # the text part
    assert "Rendered for the outbox" in Client().get(_frame_url(page)).content.decode()


def test_newest_first_fifty_a_page_and_the_raw_bytes_never_loaded(
    client_for: ClientFor,
) -> None:
    ids = [_catch(subject=f"Message {n:03}") for n in range(PAGE_SIZE + 20)]
    client = client_for(Role.VIEWER)

    with CaptureQueriesContext(connection) as queries:
        first = client.get("/outbox/").content.decode()
    assert first.count("<tr><td") == PAGE_SIZE
    assert first.index("Message 069") < first.index("Message 020")
    assert "Message 019" not in first
    assert "70 messages caught" in first
    assert not any('"raw"' in q["sql"] and "SELECT" in q["sql"] for q in queries.captured_queries)

    match = re.search(r'rel="next" href="\?before=(\d+)"', first)
    assert match and int(match.group(1)) == ids[20]
    second = client.get(f"/outbox/?before={match.group(1)}").content.decode()
    assert second.count("<tr><td") == 20
    assert "Message 019" in second and "Message 000" in second
    assert 'rel="next"' not in second


def test_the_list_costs_the_same_queries_for_three_rows_or_fifty(client_for: ClientFor) -> None:
    client = client_for(Role.VIEWER)
    for n in range(3):
        _catch(subject=f"a{n}")
    with CaptureQueriesContext(connection) as few:
        client.get("/outbox/")
    for n in range(50):
        _catch(subject=f"b{n}")
    with CaptureQueriesContext(connection) as many:
        client.get("/outbox/")
    assert len(many) == len(few)


def test_search_by_recipient_or_subject(client_for: ClientFor) -> None:
    _catch(subject="Autumn sale", to="li.na@example.com")
    _catch(subject="春节快乐", to="wang@example.com")
    _catch(subject="Receipt", to="zhang@example.com")
    client = client_for(Role.VIEWER)

    by_recipient = client.get("/outbox/?q=LI.NA@").content.decode()
    assert "Autumn sale" in by_recipient and "Receipt" not in by_recipient
    by_subject = client.get("/outbox/?q=春节").content.decode()
    assert "春节快乐" in by_subject and "Autumn sale" not in by_subject
    nothing = client.get("/outbox/?q=nobody").content.decode()
    assert "No caught message matches this search." in nothing


def test_an_empty_outbox_explains_where_mail_goes(client_for: ClientFor) -> None:
    page = client_for(Role.MARKETER).get("/outbox/").content.decode()
    assert "It is not delivered to anyone." in page
    assert "RAPPORT_SMTP_URL" in page
    assert "Delete all" not in page  # nothing to delete


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        (
            b"From: a@example.com\r\nMessage-ID: <<<>\r\nSubject: odd\r\n\r\n<b>body</b>\r\n",
            "The Message-ID header could not be read",
        ),
        (
            b"From: a@example.com\r\nSubject: odd\r\nContent-Type: text/html; charset=x-nope\r\n"
            b"\r\n<b>body</b>\r\n",
            "could not be decoded",
        ),
        (b"\x00\xff<b>body</b> no headers at all", "The message is malformed"),
    ],
)
def test_a_malformed_message_shows_its_raw_source_with_a_note(
    client_for: ClientFor, raw: bytes, note: str
) -> None:
    pk = _catch(subject="odd", raw=raw)
    response = client_for(Role.VIEWER).get(f"/outbox/{pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="parse-problems"' in page and note in page
    assert "&lt;b&gt;body&lt;/b&gt;" in page
    assert "<b>body</b>" not in page


def test_a_message_that_cannot_be_parsed_at_all_still_has_its_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("boom")

    # No known bytes break the standard library's parser outright; stand in for the day one does.
    monkeypatch.setattr("rapport.delivery.outbox.email.message_from_bytes", broken)
    parsed = parse_message(b"Subject: x\r\n\r\nbody")
    assert not parsed.parsed
    assert parsed.problems == (
        "This message could not be parsed (ValueError: boom); its raw source is shown below.",
    )


def test_only_roles_that_edit_content_may_delete_all(client_for: ClientFor) -> None:
    pk = _catch()
    for role in (Role.VIEWER, Role.SUPPORT):
        client = client_for(role)
        assert client.get("/outbox/").status_code == 200
        assert client.get(f"/outbox/{pk}/").status_code == 200
        assert "Delete all" not in client.get("/outbox/").content.decode()
        assert client.post("/outbox/delete-all", {"up_to": pk}).status_code == 403
    assert CaughtMessage.objects.count() == 1
    assert "Delete all" in client_for(Role.MARKETER).get("/outbox/").content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, db: None) -> None:
    pk = _catch()
    for url in ("/outbox/", f"/outbox/{pk}/", f"/outbox/{pk}/message.eml"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    assert client.post("/outbox/delete-all").status_code == 302
    assert CaughtMessage.objects.count() == 1


def test_the_navigation_links_to_the_outbox(client_for: ClientFor) -> None:
    page = client_for(Role.VIEWER).get("/").content.decode()
    assert 'href="/outbox/"' in page


def test_delete_all_keeps_what_arrived_after_the_page_was_shown(client_for: ClientFor) -> None:
    shown = [_catch(subject="old 1"), _catch(subject="old 2")]
    client = client_for(Role.MARKETER)
    page = client.get("/outbox/").content.decode()
    assert f'name="up_to" value="{shown[-1]}"' in page
    later = _catch(subject="arrived later")

    assert client.get("/outbox/delete-all").status_code == 405
    response = client.post("/outbox/delete-all", {"up_to": shown[-1]}, follow=True)

    assert list(CaughtMessage.objects.values_list("pk", flat=True)) == [later]
    assert "2 messages deleted from the outbox." in response.content.decode()
    audit = AuditEntry.objects.get(action="outbox.clear")
    assert audit.detail == {"deleted": 2, "up_to": shown[-1]}


def test_delete_all_needs_the_csrf_token(client_for: ClientFor) -> None:
    _catch()
    user = client_for(Role.OWNER).user  # type: ignore[attr-defined]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/outbox/delete-all").status_code == 403
    assert CaughtMessage.objects.count() == 1


def test_a_tampered_or_stale_frame_url_shows_nothing(client_for: ClientFor) -> None:
    raw = b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<p>secret</p>\r\n"
    pk = _catch(raw=raw)
    url = _frame_url(client_for(Role.VIEWER).get(f"/outbox/{pk}/").content.decode())
    token = url.split("/")[-2]
    forged = Client().get(url.replace(token, token[:-3] + "abc"))
    assert forged.status_code == 404 and "secret" not in forged.content.decode()

    CaughtMessage.objects.all().delete()
    gone = Client().get(url)
    assert gone.status_code == 404
    assert "no longer in the outbox" in gone.content.decode()


def test_the_outbox_in_chinese(client_for: ClientFor) -> None:
    pk = _catch(subject="你好")
    client = client_for(Role.OWNER, language="zh-hans")
    assert "发件箱" in client.get("/outbox/").content.decode()
    assert "原始邮件" in client.get(f"/outbox/{pk}/").content.decode()
