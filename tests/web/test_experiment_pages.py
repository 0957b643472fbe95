"""The A/B test panel of a campaign's page and the frequency tests' pages, in both languages,
with who may do what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.utils import timezone

from rapport.accounts.roles import Role
from rapport.campaigns.experiments import VariantSpec, decide_due, set_up_test
from rapport.campaigns.models import ABTest, Campaign, FrequencyTest, FrequencyTestState
from rapport.campaigns.services import create_campaign, start_campaign
from rapport.content.models import Workspace
from rapport.crm.models import Event, EventType
from rapport.delivery.models import Delivery, DeliveryState
from rapport.segments.models import Segment, SegmentKind, SegmentMember
from tests.factories import make_contact

ClientFor = Callable[..., Client]


def _draft(count: int = 20) -> Campaign:
    Workspace.objects.update_or_create(pk=1, defaults={"postal_address": "1 Bund, Shanghai"})
    listing = Segment.objects.create(name="Club", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(
        SegmentMember(segment=listing, contact=make_contact(email=f"m{n}@example.com"))
        for n in range(count)
    )
    return create_campaign(name="March news", template="Newsletter (English)",
                           audience=["Club"], acting_user=None)  # fmt: skip


FORM = {
    "variant_count": "2", "test_share": "50", "metric": "click", "confidence": "0.95",
    "wait_hours": "4", "subject_B": "Spring sale {{ contact.first_name }}", "from_name_B": "Mei",
}  # fmt: skip


def test_a_marketer_sets_up_an_ab_test_on_the_draft(client_for: ClientFor) -> None:
    campaign = _draft()
    client = client_for(Role.MARKETER)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="ab-form"' in page and "Save the A/B test" in page
    answer = client.post(f"/campaigns/{campaign.pk}/ab-test", FORM)
    assert answer.status_code == 302
    test = ABTest.objects.get(campaign=campaign)
    assert (test.test_share, test.metric) == (50, "click")
    assert list(test.variants.values_list("label", "subject", "from_name")) == [
        ("A", "", ""), ("B", "Spring sale {{ contact.first_name }}", "Mei")]  # fmt: skip
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'value="Spring sale {{ contact.first_name }}"' in page
    assert "Remove the A/B test" in page
    client.post(f"/campaigns/{campaign.pk}/ab-test", {"remove": "1"})
    assert not ABTest.objects.exists()


def test_a_bad_variant_is_named_and_what_was_typed_is_kept(client_for: ClientFor) -> None:
    campaign = _draft()
    client = client_for(Role.MARKETER)
    answer = client.post(f"/campaigns/{campaign.pk}/ab-test",
                         {**FORM, "subject_B": "Hi {{ contact.frist_name }}"})  # fmt: skip
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Variant B: subject" in page and "frist_name" in page
    assert 'value="Hi {{ contact.frist_name }}"' in page
    assert not ABTest.objects.exists()
    short = client.post(f"/campaigns/{campaign.pk}/ab-test", {**FORM, "test_share": "1"})
    assert short.status_code == 400 and "test_share" in short.content.decode()


def test_who_may_set_up_a_test(client_for: ClientFor) -> None:
    campaign = _draft()
    viewer = client_for(Role.VIEWER)
    page = viewer.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="ab-test"' in page and 'id="ab-form"' not in page
    assert viewer.post(f"/campaigns/{campaign.pk}/ab-test", FORM).status_code == 403
    assert viewer.post("/campaigns/frequency-tests/", {"name": "x"}).status_code == 403


def test_results_while_testing_and_the_decision_in_chinese(client_for: ClientFor) -> None:
    campaign = _draft()
    set_up_test(campaign.pk, variants=[VariantSpec(), VariantSpec(subject="B")], test_share=50,
                acting_user=None)  # fmt: skip
    start = timezone.now()
    start_campaign(campaign.pk, acting_user=None, now=start)
    rows = Delivery.objects.filter(campaign=campaign)
    rows.update(state=DeliveryState.SENT, sent_at=start)
    for row in rows.filter(variant="B")[:1]:
        Event.objects.create(contact_id=row.contact_id, type=EventType.CLICKED,
                             campaign_id=campaign.pk, occurred_at=start,
                             data={"delivery": row.pk, "scanner": False})  # fmt: skip
    client = client_for(Role.VIEWER)
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="ab-results"' in page and "Testing" in page
    assert "20.0 %" in page  # B: 1 of 5
    assert 'id="ab-form"' not in page

    decide_due(start + dt.timedelta(hours=5))
    chinese = client_for(Role.VIEWER, language="zh-hans")
    page = chinese.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "A/B 测试" in page
    assert 'id="ab-outcome"' in page and "没有显著差异" in page


def test_frequency_test_pages(client_for: ClientFor) -> None:
    _draft(10)
    client = client_for(Role.MARKETER)
    assert "Frequency tests" in client.get("/campaigns/").content.decode()
    bad = client.post("/campaigns/frequency-tests/", {
        "name": "Cadence", "segment": Segment.objects.get(name="Club").pk, "caps": "1/7, weekly",
        "weeks": "4", "share": "100", "confidence": "0.95"})  # fmt: skip
    assert bad.status_code == 200 and "weekly is not a cap" in bad.content.decode()
    answer = client.post("/campaigns/frequency-tests/", {
        "name": "Cadence", "segment": Segment.objects.get(name="Club").pk, "caps": "1/7, 3/7",
        "weeks": "4", "share": "100", "confidence": "0.95"})  # fmt: skip
    test = FrequencyTest.objects.get(name="Cadence")
    assert answer.status_code == 302 and answer["Location"].endswith(f"/{test.pk}/")
    page = client.get(f"/campaigns/frequency-tests/{test.pk}/").content.decode()
    assert 'id="frequency-results"' in page and "3/7" in page
    assert "No significant difference so far" in page
    assert "Cadence" in client.get("/campaigns/frequency-tests/").content.decode()
    client.post(f"/campaigns/frequency-tests/{test.pk}/cancel")
    test.refresh_from_db()
    assert test.state == FrequencyTestState.CANCELLED
    chinese = client_for(Role.VIEWER, language="zh-hans")
    assert "频率测试" in chinese.get("/campaigns/frequency-tests/").content.decode()
