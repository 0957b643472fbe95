"""The demo shop: deterministic, valid, and shaped like a real shop's history."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, F, Sum
from typer.testing import CliRunner

from rapport.accounts.models import User
from rapport.cli import app
from rapport.crm import fields as f
from rapport.crm.models import Contact, Event, Order, OrderLine, Product
from rapport.crm.names import search_key
from rapport.demo.generate import BatchSpec, generate_batch
from rapport.demo.loading import _secondary_indexes, indexes_dropped
from rapport.demo.shop import DemoSummary, build_demo_shop
from rapport.errors import Conflict

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
SIZE = 300
EMAIL_TYPES = ("sent", "delivered", "bounced", "opened", "clicked", "unsubscribed", "complained")


@pytest.fixture
def shop(db: None) -> DemoSummary:
    return build_demo_shop(contacts=SIZE, seed=7, now=NOW)


def _snapshot() -> tuple[list[str], list[tuple[str, str, str, Decimal]]]:
    emails = list(Contact.objects.order_by("id").values_list("email", flat=True))
    orders = list(
        Order.objects.order_by("id").values_list(
            "external_id", "contact__email", "currency", "total"
        )
    )
    return emails, orders


def test_same_seed_same_shop(shop: DemoSummary) -> None:
    first = _snapshot()
    Contact.objects.all().delete()
    build_demo_shop(contacts=SIZE, seed=7, now=NOW)
    assert _snapshot() == first
    spec = BatchSpec(seed=7, batch=3, first_number=1, size=50, anchor=1_770_000_000, time_suffix="")
    assert generate_batch(spec) == generate_batch(spec)
    assert generate_batch(spec) != generate_batch(spec._replace(seed=8))


def test_summary_counts_what_was_written(shop: DemoSummary) -> None:
    assert shop.contacts == Contact.objects.count() == SIZE
    assert shop.orders == Order.objects.count()
    assert shop.order_lines == OrderLine.objects.count()
    assert shop.events == Event.objects.count()
    assert shop.products == Product.objects.count() >= 60
    assert f"{SIZE:,} contacts" in shop.describe()
    assert 2 <= shop.orders / SIZE <= 4.5  # about three orders per contact
    email_events = Event.objects.filter(type__in=EMAIL_TYPES).count()
    assert 6 <= email_events / SIZE <= 15  # about ten email events per contact
    assert not User.objects.exists()


def test_refuses_a_database_with_contacts_unless_forced(shop: DemoSummary) -> None:
    with pytest.raises(Conflict, match="--force"):
        build_demo_shop(contacts=10, seed=7, now=NOW)
    more = build_demo_shop(contacts=10, seed=7, now=NOW, force=True)
    assert more.contacts == 10
    assert Contact.objects.count() == SIZE + 10
    assert Contact.objects.values("email").distinct().count() == SIZE + 10


def test_every_contact_field_passes_the_validators(shop: DemoSummary) -> None:
    two_years_ago = NOW - dt.timedelta(days=731)
    for c in Contact.objects.all():
        assert f.normalise_email(c.email) == c.email
        assert c.email.split("@")[1].rsplit(".", 2)[-2:][0] in {"example"}
        assert f.normalise_phone(c.phone) == c.phone
        assert f.normalise_locale(c.locale) == c.locale
        assert f.normalise_timezone(c.timezone) == c.timezone
        assert f.normalise_country(c.country) == c.country
        assert f.normalise_audience(c.audience) == c.audience
        assert f.normalise_status(c.status) == c.status
        assert f.normalise_honorific(c.honorific) == c.honorific
        assert f.split_list(",".join(c.interests)) == c.interests
        assert f.split_list(",".join(c.tags)) == c.tags
        assert c.search_name == search_key(c.given_name, c.family_name)
        if c.birthday is not None:
            parsed = f.parse_birthday(c.birthday.isoformat())
            assert parsed is not None
            assert (c.birthday.year != 1904) == c.birthday_year_known
        assert two_years_ago <= c.created_at <= NOW
        assert (c.company_id is not None) <= (c.audience in {"b2b", "nonprofit"})
        if c.country == "CN":
            assert (c.locale, c.timezone) == ("zh-CN", "Asia/Shanghai")
            assert c.city in {"上海", "北京", "深圳", "杭州", "成都", "广州"}
            assert len(c.family_name + c.given_name) <= 4


def test_mix_of_people(shop: DemoSummary) -> None:
    countries = dict(Contact.objects.values_list("country").annotate(n=Count("id")))
    assert 0.35 < countries["CN"] / SIZE < 0.65
    assert {"US", "GB", "SG", "AU", "DE", "CA"} <= set(countries)
    audiences = dict(Contact.objects.values_list("audience").annotate(n=Count("id")))
    assert audiences["b2c"] > audiences["b2b"] > 0 and audiences["nonprofit"] > 0
    statuses = dict(Contact.objects.values_list("status").annotate(n=Count("id")))
    assert statuses["subscribed"] > SIZE * 0.6
    assert {"unsubscribed", "bounced", "not_subscribed"} <= set(statuses)
    assert Contact.objects.filter(birthday_year_known=False).exists()


def test_order_totals_lines_and_events_agree(shop: DemoSummary) -> None:
    sums = dict(
        OrderLine.objects.values_list("order_id").annotate(s=Sum(F("quantity") * F("unit_price")))
    )
    ordered = {e.order_id: e for e in Event.objects.filter(type="ordered")}
    assert len(ordered) == Event.objects.filter(type="ordered").count()
    for order in Order.objects.select_related("contact"):
        assert Decimal(sums[order.id]).quantize(Decimal("0.01")) == order.total
        assert order.currency == ("CNY" if order.contact.country == "CN" else "USD")
        event = ordered[order.id]
        assert event.contact_id == order.contact_id
        assert event.occurred_at == order.placed_at
        assert event.data == {"total": str(order.total), "currency": order.currency}
        assert order.contact.created_at <= order.placed_at <= NOW
    assert Order.objects.exclude(coupon_code="").exists()
    assert set(ordered) == set(Order.objects.values_list("id", flat=True))


def test_buying_patterns(shop: DemoSummary) -> None:
    placed: dict[int, list[dt.datetime]] = defaultdict(list)
    for contact_id, when in Order.objects.values_list("contact_id", "placed_at"):
        placed[contact_id].append(when)
    counts = [len(placed.get(c, [])) for c in Contact.objects.values_list("id", flat=True)]
    assert counts.count(0) > SIZE * 0.1  # potential customers
    assert counts.count(1) > SIZE * 0.15  # one-time buyers
    assert sum(1 for n in counts if n >= 4) > SIZE * 0.1  # repeat buyers
    lapsed = [
        c
        for c, times in placed.items()
        if len(times) >= 2 and max(times) < NOW - dt.timedelta(days=120)
    ]
    assert len(lapsed) > SIZE * 0.03


def test_camera_buyers_come_back_for_lenses_and_tripods(shop: DemoSummary) -> None:
    bought: dict[int, set[str]] = defaultdict(set)
    for contact_id, category in OrderLine.objects.values_list(
        "order__contact_id", "product__category"
    ):
        bought[contact_id].add(category)
    everyone = list(bought.values())

    def rate(group: list[set[str]], wanted: set[str]) -> float:
        return sum(1 for cats in group if cats & wanted) / len(group)

    camera = [cats for cats in everyone if "camera" in cats]
    assert len(camera) >= 10
    assert rate(camera, {"lens", "tripod"}) > 1.5 * rate(everyone, {"lens", "tripod"})
    machine = [cats for cats in everyone if "coffee-machine" in cats]
    assert rate(machine, {"coffee-beans"}) > 1.5 * rate(everyone, {"coffee-beans"})


def test_statuses_agree_with_email_events(shop: DemoSummary) -> None:
    events: dict[int, list[Event]] = defaultdict(list)
    for event in Event.objects.exclude(type="ordered").order_by("occurred_at", "id"):
        events[event.contact_id].append(event)
    for contact in Contact.objects.all():
        history = events.get(contact.id, [])
        kinds = [e.type for e in history]
        hard = [e for e in history if e.type == "bounced" and e.data["kind"] == "hard"]
        assert bool(hard) == (contact.status == "bounced")
        assert ("unsubscribed" in kinds) == (contact.status == "unsubscribed")
        assert ("complained" in kinds) == (contact.status == "complained")
        if contact.status in {"not_subscribed", "pending"}:
            assert not history
            assert contact.consent_at is None
        if contact.status in {"bounced", "unsubscribed", "complained"}:
            assert kinds[-1] == contact.status  # nothing is sent after the change
        for event in history:
            assert event.occurred_at <= NOW
            if event.type in {"sent", "delivered", "opened", "clicked"}:
                assert 1 <= (event.campaign_id or 0) <= 24


def test_open_and_click_rates_look_real(shop: DemoSummary) -> None:
    per_type = dict(Event.objects.values_list("type").annotate(n=Count("id")))
    unique_opens = (
        Event.objects.filter(type="opened").values("contact_id", "campaign_id").distinct().count()
    )
    assert 0.2 < unique_opens / per_type["delivered"] < 0.5
    assert 0.01 < per_type["clicked"] / per_type["delivered"] < 0.15
    clicks = Event.objects.filter(type="clicked").first()
    assert clicks is not None and json.dumps(clicks.data).startswith('{"url"')


def test_cli_refuses_a_second_demo_without_force(db: None) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--contacts", "20"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["demo", "--contacts", "20"])
    assert second.exit_code == 2
    assert "--force" in second.output
    forced = runner.invoke(app, ["demo", "--contacts", "20", "--force"])
    assert forced.exit_code == 0, forced.output
    assert Contact.objects.count() == 40


def test_event_indexes_come_back_after_a_bulk_load(db: None) -> None:
    before = sorted(_secondary_indexes(Event))
    assert len(before) >= 5
    with (
        pytest.raises(RuntimeError),
        indexes_dropped(Event, ["type", "occurred_at", "contact"], enabled=True),
    ):
        assert len(_secondary_indexes(Event)) == len(before) - 1
        raise RuntimeError("the load failed half way")
    assert sorted(_secondary_indexes(Event)) == before


@pytest.mark.django_db
def test_the_demo_fills_purchase_facts_so_lifecycle_segments_have_members():
    from rapport.segments.models import ContactFacts  # noqa: PLC0415
    from rapport.segments.queries import count_rules  # noqa: PLC0415

    build_demo_shop(contacts=300, seed=5)
    buyers = Contact.objects.filter(orders__isnull=False).distinct().count()
    assert ContactFacts.objects.count() == buyers > 0
    for stage in ("potential", "new", "returning", "lapsed"):
        assert count_rules({"field": "lifecycle", "op": "eq", "value": stage}).count > 0, stage


@pytest.mark.django_db(transaction=True)
def test_a_demo_of_several_batches_builds_through_the_command(tmp_path):
    """More than one batch means a spawned generator process, which must set Django up."""
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from rapport.demo.shop import BATCH_SIZE  # noqa: PLC0415
    from tests.helpers import current_database_url  # noqa: PLC0415

    done = subprocess.run(
        [sys.executable, "-m", "rapport.cli", "demo", "--contacts", str(BATCH_SIZE + 10)],
        env=dict(
            os.environ, RAPPORT_DATA_DIR=str(tmp_path), RAPPORT_DATABASE_URL=current_database_url()
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert Contact.objects.count() == BATCH_SIZE + 10
