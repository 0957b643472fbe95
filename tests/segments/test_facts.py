"""Purchase facts: kept fresh on every order write, equal to a full recomputation."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.accounts.roles import Role
from rapport.crm.importing.runner import run_import
from rapport.crm.models import Contact
from rapport.crm.services import OrderLineInput, create_order, delete_order
from rapport.segments.compiler import RuleCompiler
from rapport.segments.facts import compute_facts, rebuild_all_facts, rescore, score
from rapport.segments.models import ContactFacts, LifecycleSettings
from tests.factories import make_user

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _facts_table() -> list[tuple[object, ...]]:
    return list(
        ContactFacts.objects.order_by("contact_id").values_list(
            "contact_id",
            "first_order_at",
            "last_order_at",
            "order_count",
            "total_spent",
            "usual_interval_days",
            "lapses_at",
            "r_score",
            "f_score",
            "m_score",
        )
    )


def _buyers() -> list[int]:
    return list(
        Contact.objects.filter(has_ordered=True).order_by("pk").values_list("pk", flat=True)
    )


def test_incremental_facts_equal_a_full_recomputation_after_random_order_streams(tmp_path):
    rng = random.Random(11)
    user = make_user(Role.OWNER)
    emails = [f"buyer{i}@example.com" for i in range(25)]
    made: list[int] = []
    rescore(T0)  # start with cut points so incremental scoring is exercised too
    for step in range(120):
        action = rng.random()
        if action < 0.55:
            order = create_order(
                external_id=f"api-{step}",
                email=rng.choice(emails),
                placed_at=T0 + dt.timedelta(days=rng.randrange(400), hours=rng.randrange(24)),
                currency="CNY",
                lines=[OrderLineInput("SKU", rng.randint(1, 3), Decimal("19.90"))],
                acting_user=user,
            )
            made.append(order.pk)
        elif action < 0.75 and made:
            delete_order(made.pop(rng.randrange(len(made))), acting_user=user)
        elif action < 0.9:
            rows = "".join(
                f"imp-{step}-{n},{rng.choice(emails)},"
                f"{(T0 + dt.timedelta(days=rng.randrange(400))).isoformat()},"
                f"SKU,1,{rng.randint(5, 500)}\n"
                for n in range(rng.randint(1, 6))
            )
            path = tmp_path / f"orders-{step}.csv"
            path.write_text("order_id,email,placed_at,sku,quantity,unit_price\n" + rows)
            run_import("orders", path, batch_size=2, parallel=False)
        else:
            rescore(T0 + dt.timedelta(days=step))
    incremental, buyers = _facts_table(), _buyers()

    rebuild_all_facts()

    assert incremental == _facts_table()
    assert len(incremental) > 10
    # The "potential" stage reads has_ordered: it must name exactly the contacts with facts.
    assert buyers == _buyers() == [row[0] for row in incremental]


def test_a_contact_whose_only_order_is_deleted_is_potential_again():
    user = make_user(Role.OWNER)
    order = create_order(
        external_id="only-one",
        email="once@example.com",
        placed_at=T0,
        currency="CNY",
        lines=[OrderLineInput("SKU", 1, Decimal("9.90"))],
        acting_user=user,
    )
    assert Contact.objects.get(email="once@example.com").has_ordered

    delete_order(order.pk, acting_user=user)

    assert not Contact.objects.get(email="once@example.com").has_ordered


def test_a_buyers_usual_interval_sets_when_they_lapse():
    settings = LifecycleSettings.current()
    cuts = {"r": [], "f": [], "m": []}
    few = compute_facts(
        1, [(T0, Decimal(10)), (T0 + dt.timedelta(days=10), Decimal(5))], settings, cuts
    )
    assert few.usual_interval_days is None  # two orders are too few to know
    assert few.lapses_at == T0 + dt.timedelta(days=10 + 113)

    regular = [(T0 + dt.timedelta(days=d), Decimal(10)) for d in (0, 20, 40, 70)]
    facts = compute_facts(2, regular, settings, cuts)
    assert facts.usual_interval_days == 20
    assert facts.lapses_at == T0 + dt.timedelta(days=70 + 30)  # 1.5 x their interval
    assert (facts.order_count, facts.total_spent) == (4, Decimal(40))


def test_quintile_scores():
    assert [score(v, [10, 20, 30, 40]) for v in (5, 10, 11, 35, 99)] == [1, 1, 2, 4, 5]
    # Ties: most buyers have one order, so a single order scores lowest.
    assert score(1, [1, 1, 1, 2]) == 1
    assert score(2, [1, 1, 1, 2]) == 4


def test_rescore_spreads_buyers_over_five_scores_and_vip_picks_the_best():
    user = make_user(Role.OWNER)
    for i in range(50):
        for n in range(1 + i // 10):
            create_order(
                external_id=f"o{i}-{n}",
                email=f"c{i}@example.com",
                placed_at=T0 + dt.timedelta(days=i * 3 + n),
                currency="USD",
                lines=[OrderLineInput("X", 1, Decimal(10 + i))],
                acting_user=user,
            )
    rescore(T0 + dt.timedelta(days=200))
    m_scores = sorted(ContactFacts.objects.values_list("m_score", flat=True))
    assert set(m_scores) == {1, 2, 3, 4, 5}
    assert m_scores.count(5) == 9
    vip_rule = {"all": [{"field": f"rfm.{k}", "op": "gte", "value": 4} for k in "rfm"]}
    from rapport.segments.queries import rule_queryset  # noqa: PLC0415

    vips = set(rule_queryset(vip_rule, now=T0).values_list("email", flat=True))
    assert vips and all(int(e[1:].split("@")[0]) >= 30 for e in vips)


def test_lifecycle_stages_with_a_fixed_clock():
    user = make_user(Role.OWNER)
    now = T0 + dt.timedelta(days=300)
    Contact.objects.create(email="prospect@example.com", status="subscribed")
    Contact.objects.create(email="quiet@example.com", status="not_subscribed")
    plan = {
        "new@example.com": [290],
        "once@example.com": [250],
        "loyal@example.com": [100, 200, 280],
        "gone@example.com": [10, 20, 30],
    }
    for email, days in plan.items():
        for n, day in enumerate(days):
            create_order(
                external_id=f"{email}-{n}",
                email=email,
                placed_at=T0 + dt.timedelta(days=day),
                currency="USD",
                lines=[OrderLineInput("X", 1, Decimal(1))],
                acting_user=user,
            )
    compiler = RuleCompiler(now)

    def stage(name: str) -> set[str]:
        return set(Contact.objects.filter(compiler.stage(name)).values_list("email", flat=True))

    assert stage("potential") == {"prospect@example.com"}
    assert stage("new") == {"new@example.com"}
    assert stage("one_time") == {"once@example.com"}
    assert stage("returning") == {"loyal@example.com"}
    assert stage("lapsed") == {"gone@example.com"}
    # The thresholds are the workspace's to change.
    settings = LifecycleSettings.current()
    settings.new_days = 60
    settings.save()
    assert "once@example.com" in {
        e
        for e in Contact.objects.filter(RuleCompiler(now).stage("new")).values_list(
            "email", flat=True
        )
    }
    assert timezone.is_aware(now)
