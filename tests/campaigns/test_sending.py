"""A campaign end to end against a real SMTP server that accepts, refuses and defers."""

from __future__ import annotations

import datetime as dt
import email
import email.message
import email.policy
import re
from collections.abc import Iterator
from typing import Any

import dkim
import pytest
from django.utils import timezone

from rapport.campaigns.models import Campaign, CampaignState
from rapport.campaigns.services import (
    campaign_status,
    create_campaign,
    dispatch_due,
    get_campaign_for,
    pause_campaign,
    resend_unknown,
    start_campaign,
)
from rapport.content.models import Workspace
from rapport.content.services import TemplateContent, create_template, get_template_for
from rapport.crm.models import Contact, ContactStatus
from rapport.delivery.domains import add_domain, records_to_publish
from rapport.delivery.models import Bounce, Delivery, DeliveryState, Suppression
from rapport.delivery.pipeline import LEASE, CampaignSender, claim
from rapport.delivery.pool import SendPool
from rapport.delivery.transport import SmtpTransport
from rapport.delivery.verp import delivery_of
from rapport.errors import Conflict, InvalidInput
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact
from tests.smtp_server import ScriptedHandler, smtp_server

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def server() -> Iterator[tuple[ScriptedHandler, int]]:
    with smtp_server() as running:
        yield running


def _campaign(count: int = 4, **contact: Any) -> int:
    workspace = Workspace.current()
    workspace.postal_address = "1 Nanjing Road, Shanghai"
    workspace.save()
    people = [make_contact(email=f"p{n}@example.com", status="subscribed", **contact)
              for n in range(count)]  # fmt: skip
    listing = Segment.objects.create(name="Everyone", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(SegmentMember(segment=listing, contact=p) for p in people)
    create_template(
        name="Hello",
        content=TemplateContent(
            subject="Hi {{ contact.first_name }}",
            html='<p>Hello {{ contact.first_name }}</p><a href="{{ unsubscribe_url }}">Leave</a>',
        ),
        acting_user=None,
    )
    campaign = create_campaign(
        name="Spring", template="Hello", audience=["Everyone"], acting_user=None
    )
    return campaign.pk


def _send(campaign_id: int, port: int, clock: Clock | None = None) -> None:
    campaign = get_campaign_for(None, campaign_id)
    url = f"smtp://127.0.0.1:{port}"
    with SendPool(lambda: SmtpTransport(url)) as pool:
        CampaignSender(campaign, pool, clock=clock or timezone.now).run()


def test_everyone_gets_one_personal_message_and_the_campaign_ends_sent(
    server: Any, settings: Any
) -> None:
    settings.BASE_URL = "https://mail.example.com"  # one-click needs https (RFC 8058)
    handler, port = server
    campaign_id = _campaign(given_name="Mei")
    start_campaign(campaign_id, acting_user=None)

    _send(campaign_id, port)

    assert sorted(r.recipient for r in handler.received) == [f"p{n}@example.com" for n in range(4)]
    assert len({r.message_id for r in handler.received}) == 4
    message = email.message_from_bytes(handler.received[0].raw, policy=email.policy.default)
    assert message["Subject"] == "Hi Mei"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<https://mail.example.com/e/unsubscribe/")
    # …and a mailto alternative that names this delivery, signed (RFC 2369).
    mailto = re.search(r"<mailto:([^>?]+)>", message["List-Unsubscribe"])
    assert mailto is not None
    row = Delivery.objects.get(contact__email=handler.received[0].recipient)
    assert delivery_of(mailto.group(1), "unsubscribe") == row.pk
    assert delivery_of(mailto.group(1)) is None  # it is not a bounce address
    status = campaign_status(get_campaign_for(None, campaign_id))
    assert status == {
        "state": "sent", "audience": 4, "sent": 4, "failed": 0, "deferred": 0, "unknown": 0,
        "skipped": 0, "capped": 0,
    }  # fmt: skip
    _send(campaign_id, port)  # a second worker, or the same one again: nothing more
    assert len(handler.received) == 4


def test_refusals_fail_and_suppress_and_soft_errors_retry_later(server: Any) -> None:
    handler, port = server
    handler.answers["p0@example.com"] = "550 5.1.1 no such user"
    handler.answers["p1@example.com"] = "451 4.7.1 try later"
    handler.answers["p2@example.com"] = "drop"
    clock = Clock()
    campaign_id = _campaign()
    start_campaign(campaign_id, acting_user=None, now=clock.now)

    _send(campaign_id, port, clock)

    states = dict(Delivery.objects.values_list("contact__email", "state"))
    assert states == {
        "p0@example.com": "failed",
        "p1@example.com": "deferred",
        "p2@example.com": "deferred",
        "p3@example.com": "sent",
    }
    assert Suppression.objects.filter(email="p0@example.com", reason="bounced").exists()
    # …as a hard bounce like any reported later: the contact's status and the campaign's count.
    assert Contact.objects.get(email="p0@example.com").status == ContactStatus.BOUNCED
    assert Bounce.objects.get(email="p0@example.com").status == "550"
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENDING

    handler.answers.clear()
    _send(campaign_id, port, clock)  # not due yet
    assert len(handler.received) == 1
    clock.now += dt.timedelta(minutes=6)
    _send(campaign_id, port, clock)

    assert sorted(r.recipient for r in handler.received) == [
        "p1@example.com", "p2@example.com", "p3@example.com"
    ]  # fmt: skip
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENT


def test_an_unsubscribe_during_the_campaign_counts_for_the_rest_of_it(server: Any) -> None:
    handler, port = server
    campaign_id = _campaign()
    start_campaign(campaign_id, acting_user=None)
    Contact.objects.filter(email="p1@example.com").update(status=ContactStatus.UNSUBSCRIBED)
    Suppression.objects.create(email="p2@example.com", reason="complained")

    _send(campaign_id, port)

    assert sorted(r.recipient for r in handler.received) == ["p0@example.com", "p3@example.com"]
    status = campaign_status(get_campaign_for(None, campaign_id))
    assert (status["sent"], status["skipped"]) == (2, 2)


def test_after_a_crash_claimed_rows_are_requeued_and_the_one_in_flight_is_unknown(
    server: Any,
) -> None:
    handler, port = server
    clock = Clock()
    campaign_id = _campaign()
    start_campaign(campaign_id, acting_user=None, now=clock.now)
    taken = claim(campaign_id, now=clock.now, limit=2)  # a worker took two rows …
    in_flight = taken[0][0]
    Delivery.objects.filter(pk=in_flight).update(state=DeliveryState.SENDING)  # … and died

    clock.now += LEASE + dt.timedelta(seconds=1)
    _send(campaign_id, port, clock)

    assert len(handler.received) == 3
    assert Delivery.objects.get(pk=in_flight).state == DeliveryState.UNKNOWN
    status = campaign_status(get_campaign_for(None, campaign_id))
    assert (status["state"], status["sent"], status["unknown"]) == ("sent", 3, 1)


def test_a_paused_campaign_sends_nothing_until_resumed(server: Any) -> None:
    handler, port = server
    campaign_id = _campaign()
    start_campaign(campaign_id, acting_user=None)
    pause_campaign(campaign_id, acting_user=None, reason="checking the links")

    _send(campaign_id, port)

    assert handler.received == []
    assert Delivery.objects.filter(state=DeliveryState.QUEUED).count() == 4
    with pytest.raises(Conflict):
        start_campaign(campaign_id, acting_user=None)


def test_sending_is_refused_until_the_postal_address_is_set() -> None:
    campaign_id = _campaign()
    Workspace.objects.update(postal_address="")
    with pytest.raises(InvalidInput, match="postal address"):
        start_campaign(campaign_id, acting_user=None)
    assert get_campaign_for(None, campaign_id).state == CampaignState.DRAFT


def test_messages_from_a_set_up_domain_carry_both_dkim_signatures(
    server: Any, settings: Any
) -> None:
    settings.BASE_URL = "https://mail.example.com"
    handler, port = server
    campaign_id = _campaign(count=1)
    Workspace.objects.update(from_email="news@shop.example.com")
    domain = add_domain("shop.example.com", acting_user=None)
    published = {
        f"{record.name}.".encode(): record.value.encode() for record in records_to_publish(domain)
    }
    start_campaign(campaign_id, acting_user=None)

    _send(campaign_id, port)

    raw = handler.received[0].raw
    assert raw.count(b"DKIM-Signature:") == 2
    verifier = dkim.DKIM(raw)
    lookups = lambda name, timeout=5: published.get(name)  # noqa: E731
    assert verifier.verify(idx=0, dnsfunc=lookups)
    assert verifier.verify(idx=1, dnsfunc=lookups)
    signed = {
        h.strip().lower()
        for h in re.search(rb"h=([^;]+);", raw.replace(b"\r\n ", b"")).group(1).decode().split(":")
    }
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= signed


def test_the_scheduler_starts_a_scheduled_campaign_at_its_time_and_queues_sends(
    server: Any, settings: Any
) -> None:
    handler, port = server
    settings.SMTP_URL = f"smtp://127.0.0.1:{port}"
    started = timezone.now() - dt.timedelta(hours=3)  # scheduled three hours ago, for 2 h later
    campaign_id = _campaign(count=2)
    Campaign.objects.filter(pk=campaign_id).update(
        schedule_mode="at", send_at=started + dt.timedelta(hours=2)
    )
    start_campaign(campaign_id, acting_user=None, now=started)
    assert get_campaign_for(None, campaign_id).state == CampaignState.SCHEDULED

    assert dispatch_due(started + dt.timedelta(hours=1)) == []
    assert handler.received == []
    assert dispatch_due(timezone.now()) == [campaign_id]

    assert len(handler.received) == 2  # the test task backend runs the send at once
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENT


def _sent_before(contact_email: str, when: dt.datetime, *, transactional: bool = False) -> None:
    """A delivery of an earlier campaign, sent at ``when``."""
    earlier = Campaign.objects.create(
        name=f"Earlier {Campaign.objects.count()}",
        template=Campaign.objects.first().template,  # type: ignore[union-attr]
        state=CampaignState.SENT,
        transactional=transactional,
    )
    Delivery.objects.create(
        campaign=earlier,
        contact=Contact.objects.get(email=contact_email),
        state=DeliveryState.SENT,
        due_at=when,
        sent_at=when,
    )


def test_frequency_caps_hold_back_contacts_until_their_next_allowed_time(server: Any) -> None:
    handler, port = server
    clock = Clock()
    campaign_id = _campaign(count=4, audience="b2c")  # b2c default: 2 a week
    Contact.objects.filter(email="p1@example.com").update(audience="b2b")  # 1 a week
    Contact.objects.filter(email="p2@example.com").update(cap_messages=1, cap_days=30)
    for days_ago in (2, 3):
        _sent_before("p0@example.com", clock.now - dt.timedelta(days=days_ago))  # at its cap
    _sent_before("p1@example.com", clock.now - dt.timedelta(days=6))  # b2b: at its cap
    _sent_before("p2@example.com", clock.now - dt.timedelta(days=20))  # own choice: at it
    _sent_before("p3@example.com", clock.now - dt.timedelta(days=1), transactional=True)
    start_campaign(campaign_id, acting_user=None, now=clock.now)

    _send(campaign_id, port, clock)

    assert [r.recipient for r in handler.received] == ["p3@example.com"]  # receipts don't count
    due = dict(
        Delivery.objects.filter(campaign_id=campaign_id).values_list("contact__email", "due_at")
    )
    assert due["p0@example.com"] == clock.now + dt.timedelta(days=4)  # oldest of two ages out
    assert due["p1@example.com"] == clock.now + dt.timedelta(days=1)
    assert due["p2@example.com"] == clock.now + dt.timedelta(days=10)
    status = campaign_status(get_campaign_for(None, campaign_id))
    assert (status["sent"], status["capped"], status["deferred"]) == (1, 3, 3)

    clock.now += dt.timedelta(days=4, minutes=1)
    _send(campaign_id, port, clock)
    assert sorted(r.recipient for r in handler.received) == [
        "p0@example.com", "p1@example.com", "p3@example.com"
    ]  # fmt: skip


def test_a_campaign_that_skips_capped_contacts_finishes_without_them(server: Any) -> None:
    handler, port = server
    campaign_id = _campaign(count=2, audience="b2b")
    Campaign.objects.filter(pk=campaign_id).update(cap_action="skip")
    _sent_before("p0@example.com", timezone.now() - dt.timedelta(days=1))
    start_campaign(campaign_id, acting_user=None)

    _send(campaign_id, port)

    assert [r.recipient for r in handler.received] == ["p1@example.com"]
    status = campaign_status(get_campaign_for(None, campaign_id))
    assert (status["state"], status["sent"], status["capped"]) == ("sent", 1, 1)


def test_a_window_campaign_reaches_each_timezone_in_its_own_window(server: Any) -> None:
    handler, port = server
    monday_noon = dt.datetime(2027, 2, 8, 12, 0, tzinfo=dt.UTC)
    clock = Clock()
    clock.now = monday_noon
    campaign_id = _campaign(count=4)
    Contact.objects.filter(email__in=["p0@example.com", "p1@example.com"]).update(
        timezone="Asia/Shanghai"
    )
    Contact.objects.filter(email__in=["p2@example.com", "p3@example.com"]).update(
        timezone="America/New_York"
    )
    # (9 February 2027 is a Spring Festival day off in China: holidays have their own tests.)
    Campaign.objects.filter(pk=campaign_id).update(schedule_mode="window", avoid_holidays=False)
    start_campaign(campaign_id, acting_user=None, now=clock.now)
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENDING

    _send(campaign_id, port, clock)
    assert handler.received == []  # Monday: nobody's window
    clock.now = dt.datetime(2027, 2, 9, 6, 30, tzinfo=dt.UTC)  # Tue 14:30 Shanghai, 01:30 NY
    _send(campaign_id, port, clock)
    assert sorted(r.recipient for r in handler.received) == ["p0@example.com", "p1@example.com"]
    clock.now = dt.datetime(2027, 2, 9, 19, 30, tzinfo=dt.UTC)  # Tue 14:30 in New York
    _send(campaign_id, port, clock)
    assert len(handler.received) == 4
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENT


def test_the_return_path_names_the_delivery_and_cannot_be_forged(server: Any) -> None:
    handler, port = server
    campaign_id = _campaign(count=1)
    start_campaign(campaign_id, acting_user=None)

    _send(campaign_id, port)

    delivery = Delivery.objects.get(campaign_id=campaign_id)
    mail_from = handler.received[0].mail_from
    assert mail_from.startswith(f"bounces+{delivery.pk}-")
    assert delivery_of(mail_from) == delivery.pk
    forged = mail_from.replace(f"+{delivery.pk}-", f"+{delivery.pk + 1}-")
    assert delivery_of(forged) is None


def test_unknown_rows_are_resent_only_when_asked(server: Any) -> None:
    handler, port = server
    campaign_id = _campaign(count=3)
    start_campaign(campaign_id, acting_user=None)
    _send(campaign_id, port)
    lost = Delivery.objects.filter(campaign_id=campaign_id).order_by("pk").first()
    assert lost is not None
    Delivery.objects.filter(pk=lost.pk).update(state=DeliveryState.UNKNOWN)  # as after a crash
    handler.received.clear()

    _send(campaign_id, port)  # a worker on its own never resends it
    assert handler.received == []

    assert resend_unknown(campaign_id, acting_user=None) == 1
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENDING
    _send(campaign_id, port)

    assert [r.recipient for r in handler.received] == [lost.contact.email]
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENT
    assert resend_unknown(campaign_id, acting_user=None) == 0


def _body_parts(raw: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    return html_part.get_content(), text_part.get_content()


def test_a_template_without_unsubscribe_link_or_address_gets_the_legal_footer(
    server: Any, settings: Any
) -> None:
    settings.BASE_URL = "https://mail.example.com"
    handler, port = server
    campaign_id = _campaign(count=2)
    Contact.objects.filter(email="p1@example.com").update(locale="zh-CN")
    create_template(
        name="Bare",
        content=TemplateContent(subject="Hi", html="<html><body><p>Just news</p></body></html>"),
        acting_user=None,
    )
    Campaign.objects.filter(pk=campaign_id).update(
        template=get_template_for(None, "Bare"), name="Bare news"
    )
    start_campaign(campaign_id, acting_user=None)

    _send(campaign_id, port)

    received = {r.recipient: _body_parts(r.raw) for r in handler.received}
    html, text = received["p0@example.com"]
    assert re.search(r'<a href="https://mail\.example\.com/e/unsubscribe/[^"]+"', html)
    assert "1 Nanjing Road, Shanghai" in html and html.rstrip().endswith("</html>")
    assert html.index("Just news") < html.index("Unsubscribe") < html.index("</body>")
    assert "Unsubscribe: https://mail.example.com/e/unsubscribe/" in text
    assert "退订" in received["p1@example.com"][0]


def test_a_template_that_shows_both_keeps_its_own_footer(server: Any) -> None:
    handler, port = server
    campaign_id = _campaign(count=1)
    create_template(
        name="Own footer",
        content=TemplateContent(
            subject="Hi",
            html="<p>News</p><p>{{ workspace.address }}</p>"
            '<a href="{{ unsubscribe_url }}">Leave</a>',
        ),
        acting_user=None,
    )
    Campaign.objects.filter(pk=campaign_id).update(template=get_template_for(None, "Own footer"))
    start_campaign(campaign_id, acting_user=None)

    _send(campaign_id, port)

    html, _ = _body_parts(handler.received[0].raw)
    assert html.count("/e/unsubscribe/") == 1 and "Unsubscribe" not in html
