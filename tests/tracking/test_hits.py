"""The open pixel and the click redirect: signed tokens, the right events, no open redirect,
machines told apart from people, and tracking off when the workspace or the contact says so."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.crm.models import Contact, Event, EventType
from rapport.tracking.hits import PIXEL
from rapport.tracking.models import TrackingSettings
from rapport.tracking.recorder import Recorder
from rapport.tracking.tokens import OPEN, HitToken, make_token
from tests.factories import make_contact
from tests.tracking.builders import (
    BROWSER,
    click_path,
    make_campaign,
    make_delivery,
    make_link,
    open_path,
)

pytestmark = pytest.mark.django_db

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)


def _get(path: str, agent: str = BROWSER, **extra: Any) -> Any:
    return Client().get(path, HTTP_USER_AGENT=agent, **extra)


def _events(kind: str) -> list[Event]:
    return list(Event.objects.filter(type=kind).order_by("pk"))


def test_the_pixel_answers_a_gif_and_records_one_open_with_device_and_client(
    recorder: Recorder,
) -> None:
    contact = make_contact()
    campaign = make_campaign()
    delivery = make_delivery(campaign, contact)

    response = _get(open_path(delivery), IPHONE)
    assert recorder.flush() == 1

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == PIXEL
    assert "no-store" in response["Cache-Control"]
    (opened,) = _events(EventType.OPENED)
    assert (opened.contact_id, opened.campaign_id) == (contact.pk, campaign.pk)
    assert opened.data == {
        "delivery": delivery.pk, "machine": False, "device": "mobile", "client": "Apple Mail",
    }  # fmt: skip
    contact.refresh_from_db()
    assert contact.last_opened_at == opened.occurred_at


def test_a_click_redirects_to_the_stored_target_and_records_it(recorder: Recorder) -> None:
    contact = make_contact()
    campaign = make_campaign()
    delivery = make_delivery(campaign, contact)
    link = make_link(campaign, "https://shop.example.com/p/1?utm=x&y=2")

    response = _get(click_path(delivery, link))
    recorder.flush(everything=True)

    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/p/1?utm=x&y=2"
    assert response["Referrer-Policy"] == "no-referrer"
    (clicked,) = _events(EventType.CLICKED)
    assert clicked.campaign_id == campaign.pk
    assert clicked.data == {
        "delivery": delivery.pk, "link": link.pk, "url": link.url, "scanner": False,
        "device": "desktop", "client": "Chrome",
    }  # fmt: skip
    # A click means the message was opened (its images were blocked): one implied open.
    (implied,) = _events(EventType.OPENED)
    assert implied.data["implied"] is True
    assert implied.data["machine"] is False
    contact.refresh_from_db()
    assert contact.last_clicked_at == clicked.occurred_at
    assert contact.last_opened_at == implied.occurred_at


def test_totals_and_uniques_an_open_then_two_clicks_add_no_implied_open(
    recorder: Recorder,
) -> None:
    campaign = make_campaign()
    delivery = make_delivery(campaign, make_contact())
    link = make_link(campaign, "https://shop.example.com/")

    _get(open_path(delivery))
    _get(open_path(delivery))
    recorder.flush()
    _get(click_path(delivery, link))
    recorder.flush(everything=True)
    _get(click_path(delivery, link))
    recorder.flush(everything=True)

    assert len(_events(EventType.OPENED)) == 2  # total opens; unique: one delivery
    assert len(_events(EventType.CLICKED)) == 2
    assert not [e for e in _events(EventType.OPENED) if e.data.get("implied")]


def test_forged_altered_and_cross_contact_tokens_are_refused(recorder: Recorder) -> None:
    campaign = make_campaign()
    mine = make_delivery(campaign, make_contact())
    theirs = make_delivery(campaign, make_contact())
    link = make_link(campaign, "https://shop.example.com/")
    genuine = open_path(mine).rsplit("/", 1)[1]
    numbers, _, signature = genuine.rpartition(".")
    first, rest = numbers.split(".", 1)

    refused = [
        f"/t/o/{theirs.pk}.{rest}.{signature}",  # my signature on their delivery
        f"/t/o/{numbers}.{'A' * len(signature)}",  # a made-up signature
        f"/t/o/{numbers}",  # none at all
        f"/t/c/{genuine}",  # an open token used as a click
        "/t/o/not-a-token",
        f"/t/x/{genuine}",
    ]
    # A token signed with another key is refused too.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.SECRET_KEY", "another key")
        foreign = make_token(OPEN, HitToken(mine.pk, mine.contact_id, campaign.pk, 0, 1))
    refused.append(f"/t/o/{foreign}")
    # Reusing one contact's click token for another contact breaks the signature.
    click = click_path(mine, link).rsplit("/", 1)[1]
    parts = click.split(".")
    parts[1] = str(theirs.contact_id)
    refused.append(f"/t/c/{'.'.join(parts)}")

    for path in refused:
        assert _get(path).status_code == 404, path
    recorder.flush(everything=True)
    assert not Event.objects.exists()
    assert first == str(mine.pk)


def test_no_open_redirect_from_other_campaigns_links_or_the_url(recorder: Recorder) -> None:
    campaign = make_campaign()
    other = make_campaign()
    delivery = make_delivery(campaign, make_contact())
    foreign_link = make_link(other, "https://elsewhere.example.net/")
    # A genuine signature over a link of another campaign (e.g. a leaked key or a bug that
    # signed the wrong id) still does not redirect: the link must belong to the campaign.
    path = click_path(delivery, foreign_link)
    assert _get(path).status_code == 404
    # Nothing in the URL can name a target: query strings and extra path parts are ignored or
    # break the token.
    link = make_link(campaign, "https://shop.example.com/")
    good = click_path(delivery, link)
    assert _get(f"{good}?url=https://evil.example/")["Location"] == "https://shop.example.com/"
    assert _get(f"{good}/https://evil.example/").status_code == 404
    assert _get("/t/c/https%3A%2F%2Fevil.example%2F").status_code == 404
    # A link that no longer exists (its campaign was deleted) is a 404, not a guess.
    missing = click_path(delivery, link).replace(f".{link.pk}.", f".{link.pk + 1000}.")
    assert _get(missing).status_code == 404
    recorder.flush(everything=True)
    assert Event.objects.filter(type=EventType.CLICKED).count() == 1


def test_machine_opens_are_recorded_apart_and_do_not_move_last_opened(
    recorder: Recorder,
) -> None:
    contact = make_contact()
    campaign = make_campaign()
    delivery = make_delivery(campaign, contact)

    _get(open_path(delivery), "Mozilla/5.0")  # Apple Mail Privacy Protection's proxy
    _get(open_path(delivery), IPHONE, REMOTE_ADDR="17.58.0.1")  # Apple's network, Mail's UA
    _get(open_path(delivery, sent_ago=2))  # fetched on arrival by a gateway
    _get(open_path(delivery), "python-requests/2.32")
    gmail = (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    )
    _get(open_path(delivery), gmail)  # a person opening in Gmail
    Client().head(open_path(delivery), HTTP_USER_AGENT=BROWSER)
    recorder.flush()

    reasons = [
        (e.data["machine"], e.data.get("reason"), e.data["client"]) for e in _events("opened")
    ]
    assert reasons == [
        (True, "apple-privacy-proxy", "Apple Mail"),
        (True, "apple-privacy-proxy", "Apple Mail"),
        (True, "prefetch-on-arrival", "Chrome"),
        (True, "robot-agent", "unknown"),
        (False, None, "Gmail"),
        (True, "head-request", "Chrome"),
    ]
    contact.refresh_from_db()
    assert contact.last_opened_at == _events("opened")[-2].occurred_at


def test_scanner_clicks_are_recorded_apart_and_imply_no_open(recorder: Recorder) -> None:
    contact = make_contact()
    campaign = make_campaign()
    delivery = make_delivery(campaign, contact)
    links = [make_link(campaign, f"https://shop.example.com/{n}") for n in range(4)]

    Client().head(click_path(delivery, links[0]), HTTP_USER_AGENT=BROWSER)
    _get(click_path(delivery, links[0], sent_ago=3))  # on arrival
    _get(click_path(delivery, links[0]), "Mozilla/5.0 (compatible; Barracuda Sentinel)")
    for link in links[1:]:  # three different links in one go: a scanner's burst
        _get(click_path(delivery, link))
    recorder.flush(everything=True)

    reasons = [e.data.get("reason") for e in _events("clicked")]
    assert reasons == [
        "head-request", "clicked-on-arrival", "robot-agent",
        "many-links-at-once", "many-links-at-once", "many-links-at-once",
    ]  # fmt: skip
    assert all(e.data["scanner"] for e in _events("clicked"))
    assert not _events("opened")
    contact.refresh_from_db()
    assert contact.last_clicked_at is None


def test_tracking_off_for_the_workspace_records_nothing_but_links_still_work(
    recorder: Recorder,
) -> None:
    TrackingSettings.objects.create(enabled=False)
    campaign = make_campaign()
    delivery = make_delivery(campaign, make_contact())
    link = make_link(campaign, "https://shop.example.com/")

    assert _get(open_path(delivery)).status_code == 200
    assert _get(click_path(delivery, link))["Location"] == "https://shop.example.com/"
    recorder.flush(everything=True)

    assert not Event.objects.exists()


def test_tracking_off_for_a_contact_records_nothing_of_theirs(recorder: Recorder) -> None:
    campaign = make_campaign()
    private = make_delivery(campaign, make_contact(tracking=False))
    public = make_delivery(campaign, make_contact())

    _get(open_path(private))
    _get(open_path(public))
    recorder.flush()

    assert [e.contact_id for e in _events("opened")] == [public.contact_id]
    assert Contact.objects.get(pk=private.contact_id).last_opened_at is None


def test_hits_of_a_deleted_contact_are_dropped_without_holding_back_the_others(
    recorder: Recorder,
) -> None:
    campaign = make_campaign()
    gone = make_delivery(campaign, make_contact())
    kept = make_delivery(campaign, make_contact())
    _get(open_path(gone))
    _get(open_path(kept))
    Contact.objects.filter(pk=gone.contact_id).delete()
    recorder.flush()
    assert [e.contact_id for e in _events("opened")] == [kept.contact_id]


def test_clicks_wait_out_the_burst_window_then_are_written(recorder: Recorder) -> None:
    campaign = make_campaign()
    delivery = make_delivery(campaign, make_contact())
    link = make_link(campaign, "https://shop.example.com/")
    _get(click_path(delivery, link))

    assert recorder.flush() == 0  # held: a burst of other links may still follow
    assert recorder.pending() == 1
    assert recorder.flush(everything=True) == 1
    assert recorder.pending() == 0
    assert Event.objects.filter(type=EventType.CLICKED).count() == 1


def test_campaign_engagement_counts_unique_and_total_and_machines_apart(
    recorder: Recorder,
) -> None:
    from rapport.tracking.queries import campaign_engagement  # noqa: PLC0415

    campaign = make_campaign()
    first = make_delivery(campaign, make_contact())
    second = make_delivery(campaign, make_contact())
    link = make_link(campaign, "https://shop.example.com/a")
    _get(open_path(first))
    _get(open_path(first))
    _get(open_path(second), "Mozilla/5.0")  # Apple's proxy only
    recorder.flush()
    _get(click_path(second, link))  # clicked with images blocked: an implied open
    recorder.flush(everything=True)
    _get(click_path(second, link))
    Client().head(click_path(first, link), HTTP_USER_AGENT=BROWSER)
    recorder.flush(everything=True)

    counts = campaign_engagement(campaign.pk)

    assert (counts.unique_opens, counts.total_opens, counts.machine_opens) == (2, 3, 1)
    assert (counts.unique_clicks, counts.total_clicks, counts.scanner_clicks) == (1, 2, 1)
    assert counts.clicks_by_url == {"https://shop.example.com/a": 2}


def test_machine_events_never_move_the_engagement_columns_even_when_refreshed() -> None:
    from rapport.crm.engagement import refresh_engagement  # noqa: PLC0415

    contact = make_contact()
    campaign = make_campaign()
    when = timezone.now()
    person = Event.objects.create(contact=contact, type="opened", campaign_id=campaign.pk,
                                  occurred_at=when - dt.timedelta(days=2), data={})  # fmt: skip
    Event.objects.create(contact=contact, type="opened", campaign_id=campaign.pk,
                         occurred_at=when, data={"machine": True})  # fmt: skip
    Event.objects.create(contact=contact, type="clicked", campaign_id=campaign.pk,
                         occurred_at=when, data={"scanner": True})  # fmt: skip
    contact.refresh_from_db()
    assert (contact.last_opened_at, contact.last_clicked_at) == (person.occurred_at, None)

    Contact.objects.update(last_opened_at=None)
    refresh_engagement()
    contact.refresh_from_db()
    assert (contact.last_opened_at, contact.last_clicked_at) == (person.occurred_at, None)


def test_reports_count_a_click_only_reader_once_as_an_opener_by_click(
    recorder: Recorder,
) -> None:
    from rapport.analytics.metrics import metrics_for  # noqa: PLC0415

    campaign = make_campaign()
    delivery = make_delivery(campaign, make_contact())
    link = make_link(campaign, "https://shop.example.com/")
    _get(click_path(delivery, link))  # images blocked: no pixel, only the click
    recorder.flush(everything=True)
    assert Event.objects.filter(type=EventType.OPENED, data__implied=True).count() == 1

    counts = metrics_for([campaign.pk]).counts

    assert (counts.openers, counts.openers_by_click, counts.opens) == (1, 1, 0)
    assert (counts.clickers, counts.clicks) == (1, 1)
