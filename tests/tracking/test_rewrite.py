"""Links rewritten at send time, end to end: a campaign sent to a real SMTP server, its
message parsed, its links followed, the events checked."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from rapport.campaigns.services import create_campaign, get_campaign_for, start_campaign
from rapport.content.models import Workspace
from rapport.content.rendering import RenderedMessage
from rapport.content.services import TemplateContent, create_template
from rapport.crm.models import Contact, Event, EventType
from rapport.delivery.models import Delivery
from rapport.delivery.pipeline import CampaignSender
from rapport.delivery.pool import SendPool
from rapport.delivery.transport import SmtpTransport
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from rapport.tracking.models import Link, TrackingSettings
from rapport.tracking.recorder import Recorder
from rapport.tracking.rewrite import MessageTracker
from tests.factories import make_contact
from tests.smtp_server import ScriptedHandler, smtp_server
from tests.tracking.builders import BROWSER, make_campaign

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "https://mail.example.com"
HTML = """<html><body>
<p>Hello {{ contact.first_name }}</p>
<a href="https://shop.example.com/new?a=1&amp;b=2">New in</a>
<a class="x" href='https://shop.example.com/p/{{ contact.first_name | lower }}'>For you</a>
<a href="mailto:help@shop.example.com">Write</a> <a href="tel:+8621555">Call</a>
<a href="#top">Top</a>
<a href="{{ view_online_url }}">View online</a>
<a href="{{ unsubscribe_url }}">Leave</a>
</body></html>"""


@pytest.fixture
def server() -> Iterator[tuple[ScriptedHandler, int]]:
    with smtp_server() as running:
        yield running


def _send_campaign(port: int, people: list[Contact]) -> int:
    workspace = Workspace.current()
    workspace.postal_address = "1 Nanjing Road, Shanghai"
    workspace.save()
    listing = Segment.objects.create(name="Everyone", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(SegmentMember(segment=listing, contact=p) for p in people)
    create_template(
        name="Links", content=TemplateContent(subject="News", html=HTML), acting_user=None
    )
    campaign = create_campaign(
        name="Links", template="Links", audience=["Everyone"], acting_user=None
    )
    start_campaign(campaign.pk, acting_user=None)
    with SendPool(lambda: SmtpTransport(f"smtp://127.0.0.1:{port}")) as pool:
        CampaignSender(get_campaign_for(None, campaign.pk), pool).run()
    return campaign.pk


def _parts(raw: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    return html_part.get_content(), text_part.get_content()


def _path(url: str) -> str:
    assert url.startswith(f"{BASE}/t/"), url
    return urlsplit(url).path


def test_a_sent_campaign_tracks_opens_and_clicks_end_to_end(
    server: Any, settings: Any, recorder: Recorder
) -> None:
    settings.BASE_URL = BASE
    handler, port = server
    mei = make_contact(email="mei@example.com", given_name="Mei", status="subscribed")
    campaign_id = _send_campaign(port, [mei, make_contact(given_name="Li", status="subscribed")])

    raw = next(r.raw for r in handler.received if r.recipient == "mei@example.com")
    html, text = _parts(raw)
    tracked = re.findall(r"""href=["']([^"']+)["']""", html)
    assert tracked[:2] == [u for u in tracked[:2] if u.startswith(f"{BASE}/t/c/")]
    assert "mailto:help@shop.example.com" in tracked
    assert "tel:+8621555" in tracked
    assert "#top" in tracked
    assert any(u.startswith(f"{BASE}/e/view/") for u in tracked)  # ours stay as they are
    assert any(u.startswith(f"{BASE}/e/unsubscribe/") for u in tracked)
    assert "https://shop.example.com" not in html  # no target is left in the clear…
    assert "https://shop.example.com" not in text  # …in either part
    text_links = re.findall(rf"{re.escape(BASE)}/t/c/\S+", text)
    assert sorted(text_links) == sorted(tracked[:2])  # the same tracked URLs in both parts
    pixel = re.search(r'<img src="([^"]+)" width="1" height="1"', html)
    assert pixel is not None

    client = Client(HTTP_USER_AGENT=BROWSER)
    assert client.get(_path(pixel.group(1))).status_code == 200
    targets = [client.get(_path(u))["Location"] for u in tracked[:2]]
    recorder.flush(everything=True)

    assert targets == ["https://shop.example.com/new?a=1&b=2", "https://shop.example.com/p/mei"]
    delivery = Delivery.objects.get(contact=mei)
    opened = Event.objects.get(type=EventType.OPENED)
    assert (opened.contact_id, opened.campaign_id) == (mei.pk, campaign_id)
    assert opened.data["delivery"] == delivery.pk
    clicks = Event.objects.filter(type=EventType.CLICKED).order_by("pk")
    assert [c.data["url"] for c in clicks] == targets
    assert {c.data["delivery"] for c in clicks} == {delivery.pk}
    # One row per distinct URL of the campaign: the shared link once, a personal one each.
    assert sorted(Link.objects.filter(campaign_id=campaign_id).values_list("url", flat=True)) == [
        "https://shop.example.com/new?a=1&b=2",
        "https://shop.example.com/p/li",
        "https://shop.example.com/p/mei",
    ]


def test_no_pixel_and_no_rewritten_links_when_tracking_is_off(server: Any, settings: Any) -> None:
    settings.BASE_URL = BASE
    handler, port = server
    private = make_contact(email="private@example.com", status="subscribed", tracking=False)
    public = make_contact(email="public@example.com", status="subscribed")
    _send_campaign(port, [private, public])

    by_recipient = {r.recipient: _parts(r.raw) for r in handler.received}
    assert "/t/" not in "".join(by_recipient["private@example.com"])
    assert "https://shop.example.com/new?a=1&amp;b=2" in by_recipient["private@example.com"][0]
    assert "/t/o/" in by_recipient["public@example.com"][0]


def test_workspace_off_sends_untracked_mail(server: Any, settings: Any) -> None:
    settings.BASE_URL = BASE
    TrackingSettings.objects.create(enabled=False)
    handler, port = server
    _send_campaign(port, [make_contact(status="subscribed")])
    html, text = _parts(handler.received[0].raw)
    assert "/t/" not in html + text
    assert not Link.objects.exists()


def test_the_tracker_keeps_trailing_punctuation_and_reuses_links() -> None:
    campaign = make_campaign()
    tracker = MessageTracker(campaign.pk, base_url=BASE)
    message = RenderedMessage(
        subject="s",
        html='<p><A HREF="https://a.example/x">x</A></p>',
        text="See https://a.example/x. Or (https://b.example/y)!",
    )
    tracker.prepare([(1, 2), (4, 5)])
    first = tracker.apply(message, delivery=1, sent_at=3)
    again = tracker.apply(message, delivery=4, sent_at=3)

    assert re.fullmatch(
        rf"See {re.escape(BASE)}/t/c/[^ ]+\. Or \({re.escape(BASE)}/t/c/\S+\)!", first.text
    )
    # No </body> to put it before: the pixel goes last, after the rewritten link.
    base = re.escape(BASE)
    pixel = rf'<img src="{base}/t/o/[^"]+" [^>]*>'
    assert re.fullmatch(rf'<p><A HREF="{base}/t/c/[^"]+">x</A></p>{pixel}', first.html)
    assert Link.objects.count() == 2
    assert first.text != again.text  # each delivery signs its own tokens
