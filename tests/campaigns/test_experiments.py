"""A/B tests end to end: the test share goes through the real pipeline to a real SMTP server,
events arrive as the tracking endpoints write them (the contract's shape), the scheduler's job
decides at the set time and the rest gets the winner, or the default when nothing is
significant; each recipient gets exactly one message."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from rapport.accounts.roles import Role
from rapport.campaigns.experiments import (
    VariantSpec,
    decide_due,
    evaluate,
    outcome_text,
    remove_test,
    set_up_test,
)
from rapport.campaigns.models import ABTest, ABTestState, CampaignState
from rapport.campaigns.services import (
    cancel_campaign,
    create_campaign,
    get_campaign_for,
    pause_campaign,
    resume_campaign,
    start_campaign,
)
from rapport.content.models import Workspace
from rapport.content.services import TemplateContent, create_template
from rapport.crm.models import Contact, Event, EventType
from rapport.delivery.models import Delivery
from rapport.delivery.pipeline import CampaignSender
from rapport.delivery.pool import SendPool
from rapport.delivery.transport import SmtpTransport
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact, make_order, make_user
from tests.smtp_server import ScriptedHandler, smtp_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server() -> Iterator[tuple[ScriptedHandler, int]]:
    with smtp_server() as running:
        yield running


def _campaign(count: int, *, name: str = "Spring", **contact: Any) -> int:
    workspace = Workspace.current()
    workspace.postal_address = "1 Nanjing Road, Shanghai"
    workspace.save()
    people = [make_contact(email=f"{name.lower()}{n}@example.com", **contact)
              for n in range(count)]  # fmt: skip
    listing = Segment.objects.create(name=f"{name} list", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(SegmentMember(segment=listing, contact=p) for p in people)
    if not Segment.objects.filter(name="unused").exists():
        Segment.objects.create(name="unused", kind=SegmentKind.STATIC)
    template = f"{name} mail"
    create_template(
        name=template,
        content=TemplateContent(
            subject="Hi {{ contact.first_name }}",
            html='<p>Hello</p><a href="{{ unsubscribe_url }}">Leave</a>',
        ),
        acting_user=None,
    )
    owner = make_user(Role.MARKETER, language="zh-hans")
    return create_campaign(
        name=name, template=template, audience=[f"{name} list"], acting_user=owner
    ).pk


def _send(campaign_id: int, port: int, at: dt.datetime) -> None:
    campaign = get_campaign_for(None, campaign_id)
    with SendPool(lambda: SmtpTransport(f"smtp://127.0.0.1:{port}")) as pool:
        CampaignSender(campaign, pool, clock=lambda: at).run()


def _events(contact_ids: list[int], campaign_id: int, kind: str, **data: Any) -> None:
    """Opens or clicks as the tracking branch records them (contract §1)."""
    rows = Delivery.objects.filter(campaign_id=campaign_id, contact_id__in=contact_ids)
    Event.objects.bulk_create(
        Event(
            contact_id=row.contact_id, type=kind, campaign_id=campaign_id,
            occurred_at=timezone.now(),
            data={"delivery": row.pk, "device": "desktop", "client": "Gmail", **data},
        )
        for row in rows
    )  # fmt: skip


def _subjects(handler: ScriptedHandler) -> dict[str, str]:
    return {
        received.recipient: str(
            email.message_from_bytes(received.raw, policy=email.policy.default)["Subject"]
        )
        for received in handler.received
    }


def test_the_winner_goes_to_the_rest_and_everyone_gets_one_message(server: Any) -> None:
    handler, port = server
    campaign_id = _campaign(200, given_name="Mei")
    set_up_test(
        campaign_id,
        variants=[VariantSpec(), VariantSpec(subject="Sale for {{ contact.first_name }}",
                                             from_name="Mei at the shop")],
        test_share=50, metric="click", wait_hours=4, acting_user=None,
    )  # fmt: skip
    start = timezone.now()
    start_campaign(campaign_id, acting_user=None, now=start)
    rows = Delivery.objects.filter(campaign_id=campaign_id)
    assert Counter(rows.values_list("variant", flat=True)) == {"A": 50, "B": 50}
    test = ABTest.objects.get(campaign_id=campaign_id)
    assert test.state == ABTestState.TESTING
    assert test.decide_at == start + dt.timedelta(hours=4)

    _send(campaign_id, port, start)
    assert len(handler.received) == 100
    variant_of = dict(rows.values_list("contact__email", "variant"))
    subjects = _subjects(handler)
    assert {subjects[r] for r in subjects if variant_of[r] == "A"} == {"Hi Mei"}
    assert {subjects[r] for r in subjects if variant_of[r] == "B"} == {"Sale for Mei"}
    b_message = next(r for r in handler.received if variant_of[r.recipient] == "B")
    assert b"Mei at the shop" in b_message.raw
    # The test share is out, the rest waits for the decision: not "sent" yet.
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENDING

    a_ids = list(rows.filter(variant="A").values_list("contact_id", flat=True))
    b_ids = list(rows.filter(variant="B").values_list("contact_id", flat=True))
    _events(b_ids[:25], campaign_id, EventType.CLICKED, scanner=False, link=1, url="https://x.io")
    _events(a_ids[:4], campaign_id, EventType.CLICKED, link=1, url="https://x.io")
    # Security scanners clicked every A message: stored, never counted.
    _events(a_ids, campaign_id, EventType.CLICKED, scanner=True, link=1, url="https://x.io")

    assert decide_due(start + dt.timedelta(hours=3)) == []
    mail.outbox = []
    assert decide_due(start + dt.timedelta(hours=4, minutes=1)) == [test.pk]
    test.refresh_from_db()
    assert (test.state, test.winner, test.significant) == (ABTestState.DECIDED, "B", True)
    variants = {row["label"]: row for row in test.result["variants"]}
    assert (variants["A"]["successes"], variants["A"]["recipients"]) == (4, 50)
    assert (variants["B"]["successes"], variants["B"]["recipients"]) == (25, 50)
    assert variants["B"]["low"] < 0.5 < variants["B"]["high"]
    (comparison,) = test.result["comparisons"]
    assert comparison["significant"] and comparison["p_value"] < 0.001
    assert comparison["low"] < 0.42 < comparison["high"]
    assert test.result["rest"] == 100
    # The person who made the campaign is told, in their language.
    (notice,) = mail.outbox
    assert "A/B" in notice.subject and "Spring" in notice.subject
    assert "B" in notice.body and "/campaigns/" in notice.body

    _send(campaign_id, port, start + dt.timedelta(hours=4, minutes=2))
    counts = Counter(received.recipient for received in handler.received)
    assert len(counts) == 200 and set(counts.values()) == {1}
    rest = rows.filter(after_test=True)
    assert rest.count() == 100 and set(rest.values_list("variant", flat=True)) == {"B"}
    subjects = _subjects(handler)
    assert {subjects[email] for email in rest.values_list("contact__email", flat=True)} == {
        "Sale for Mei"
    }
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENT
    assert decide_due(start + dt.timedelta(days=1)) == []  # decided once


def test_without_a_significant_difference_the_default_goes_to_the_rest(server: Any) -> None:
    handler, port = server
    campaign_id = _campaign(60)
    set_up_test(campaign_id, variants=[VariantSpec(), VariantSpec(subject="Other")],
                test_share=50, metric="open", wait_hours=2, acting_user=None)  # fmt: skip
    start = timezone.now()
    start_campaign(campaign_id, acting_user=None, now=start)
    _send(campaign_id, port, start)
    rows = Delivery.objects.filter(campaign_id=campaign_id)
    a_ids = list(rows.filter(variant="A").values_list("contact_id", flat=True))
    b_ids = list(rows.filter(variant="B").values_list("contact_id", flat=True))
    _events(a_ids[:5], campaign_id, EventType.OPENED, machine=False)
    _events(b_ids[:7], campaign_id, EventType.OPENED)
    # Apple's privacy proxy "opened" every B message: not a person.
    _events(b_ids, campaign_id, EventType.OPENED, machine=True)

    decide_due(start + dt.timedelta(hours=3))
    test = ABTest.objects.get(campaign_id=campaign_id)
    assert (test.winner, test.significant) == ("A", False)
    assert {v["label"]: v["successes"] for v in test.result["variants"]} == {"A": 5, "B": 7}
    assert "no significant difference" in outcome_text(test)
    _send(campaign_id, port, start + dt.timedelta(hours=3))
    counts = Counter(received.recipient for received in handler.received)
    assert len(counts) == 60 and set(counts.values()) == {1}
    assert set(rows.filter(after_test=True).values_list("variant", flat=True)) == {"A"}


def test_revenue_and_conversion_count_attributed_orders_only() -> None:
    campaign_id = _campaign(40)
    set_up_test(campaign_id, variants=[VariantSpec(), VariantSpec(subject="B")],
                test_share=100, metric="revenue", acting_user=None)  # fmt: skip
    start_campaign(campaign_id, acting_user=None)
    rows = Delivery.objects.filter(campaign_id=campaign_id)
    rows.update(state="sent", sent_at=timezone.now())
    b_contact = Contact.objects.get(pk=rows.filter(variant="B").values("contact_id")[:1])
    for total in ("30.00", "12.50"):
        order = make_order(b_contact, total=Decimal(total))
        Event.objects.filter(order=order).update(
            campaign_id=campaign_id,
            data={"attribution": {"touch": "click", "touch_event": 1, "rule": "last_touch",
                                  "window_hours": 72}},
        )  # fmt: skip
    make_order(b_contact, total=Decimal("999"))  # not attributed to any email: not counted
    test = ABTest.objects.get(campaign_id=campaign_id)
    result = evaluate(test)
    b = next(v for v in result["variants"] if v["label"] == "B")
    assert b["revenue"] == 42.5 and b["successes"] == 1
    assert b["value"] == pytest.approx(42.5 / 20)
    assert not result["significant"]  # one buyer proves nothing
    test.metric = "conversion"
    assert {v["label"]: v["successes"] for v in evaluate(test)["variants"]} == {"A": 0, "B": 1}
    # The whole audience was in the test: deciding finishes the campaign, nothing more is sent.
    decide_due(test.decide_at)
    assert get_campaign_for(None, campaign_id).state == CampaignState.SENT
    assert rows.count() == 40


def test_send_time_variants_go_at_their_local_time() -> None:
    campaign_id = _campaign(20, timezone="Asia/Shanghai")
    set_up_test(
        campaign_id,
        variants=[VariantSpec(local_time=dt.time(9)), VariantSpec(local_time=dt.time(18))],
        test_share=100, metric="open", wait_hours=6, acting_user=None,
    )  # fmt: skip
    start = dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai, a Tuesday
    start_campaign(campaign_id, acting_user=None, now=start)
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    local = {
        (variant, due.astimezone(shanghai).hour)
        for variant, due in Delivery.objects.filter(campaign_id=campaign_id).values_list(
            "variant", "due_at"
        )
    }
    assert local == {("A", 9), ("B", 18)}
    test = ABTest.objects.get(campaign_id=campaign_id)
    # Decided six hours after the later send time, so both had their hours.
    assert test.decide_at == dt.datetime(2026, 3, 3, 16, 0, tzinfo=dt.UTC)


def test_assignment_is_random_balanced_and_reproducible() -> None:
    campaign_id = _campaign(101)
    set_up_test(campaign_id, variants=[VariantSpec(), VariantSpec(), VariantSpec()],
                test_share=30, acting_user=None)  # fmt: skip
    test = ABTest.objects.get(campaign_id=campaign_id)
    start_campaign(campaign_id, acting_user=None)
    first = dict(
        Delivery.objects.filter(campaign_id=campaign_id).values_list("contact_id", "variant")
    )
    assert len(first) == 30 and set(Counter(first.values()).values()) == {10}
    ids = list(Contact.objects.filter(email__startswith="spring").order_by("pk").values_list(
        "pk", flat=True))  # fmt: skip
    assert sorted(first) != ids[:30]  # not the first 30 of the list
    from rapport.campaigns.assignment import BlockedAssignment  # noqa: PLC0415

    again = BlockedAssignment("ABC", share_percent=30, seed=test.seed).assign(ids)
    assert again == first


def test_setting_up_a_test_checks_what_it_is_given() -> None:
    campaign_id = _campaign(3)
    with pytest.raises(InvalidInput, match="Variant B: subject"):
        set_up_test(campaign_id, variants=[VariantSpec(), VariantSpec(subject="{{ oops( }}")],
                    acting_user=None)  # fmt: skip
    with pytest.raises(InvalidInput, match="2 to 4 variants"):
        set_up_test(campaign_id, variants=[VariantSpec()], acting_user=None)
    with pytest.raises(InvalidInput, match="test share of 1 %"):
        set_up_test(campaign_id, variants=[VariantSpec()] * 2, test_share=1, acting_user=None)
    with pytest.raises(InvalidInput, match="confidence level"):
        set_up_test(campaign_id, variants=[VariantSpec()] * 2, confidence=0.5, acting_user=None)
    with pytest.raises(InvalidInput, match="metric"):
        set_up_test(campaign_id, variants=[VariantSpec()] * 2, metric="likes", acting_user=None)
    with pytest.raises(NotFound, match="no template 'missing'"):
        set_up_test(campaign_id, variants=[VariantSpec(), VariantSpec(template="missing")],
                    acting_user=None)  # fmt: skip
    set_up_test(campaign_id, variants=[VariantSpec()] * 2, acting_user=None)
    remove_test(campaign_id, acting_user=None)
    assert not ABTest.objects.filter(campaign_id=campaign_id).exists()
    set_up_test(campaign_id, variants=[VariantSpec()] * 2, acting_user=None)
    start_campaign(campaign_id, acting_user=None)
    with pytest.raises(Conflict, match="before it starts"):
        set_up_test(campaign_id, variants=[VariantSpec()] * 2, acting_user=None)
    with pytest.raises(Conflict):
        remove_test(campaign_id, acting_user=None)


def test_a_paused_campaign_waits_and_a_cancelled_one_cancels_its_test() -> None:
    campaign_id = _campaign(10)
    set_up_test(campaign_id, variants=[VariantSpec()] * 2, test_share=40, wait_hours=1,
                acting_user=None)  # fmt: skip
    start = timezone.now()
    start_campaign(campaign_id, acting_user=None, now=start)
    pause_campaign(campaign_id, acting_user=None)
    assert decide_due(start + dt.timedelta(hours=2)) == []
    resume_campaign(campaign_id, acting_user=None)
    assert len(decide_due(start + dt.timedelta(hours=2))) == 1

    other = _campaign(10, name="Autumn")
    set_up_test(other, variants=[VariantSpec()] * 2, acting_user=None)
    start_campaign(other, acting_user=None)
    cancel_campaign(other, acting_user=None)
    assert ABTest.objects.get(campaign_id=other).state == ABTestState.CANCELLED
