"""A/B tests of campaigns: set one up, send its share, measure, decide, send the winner.

The life of a test:

1. **Set up** on a draft campaign (``set_up_test``): 2 to 4 variants, A being the control and
   the default; each may change the subject, the preheader, the content (another template's
   version), the sender name or the send time (a local wall-clock time). ``test_share`` percent
   of the audience takes part, split evenly between the variants.
2. **Start** (``start_test``, called when the campaign starts): the audience is streamed and
   assigned by seeded blocked randomisation (``assignment``); only the test's contacts get a
   ``Delivery`` row now, marked with their variant. The rest is held back: no row yet.
3. **Decide** (``decide_due``, a scheduler job; ``decide_test``): ``wait_hours`` after the last
   test message was due, each variant's metric is measured on the test's sent rows, and the
   decision is made by ``stats.decide`` at the test's confidence (two-sided, Bonferroni over
   the comparisons with A). A significant winner is sent to the rest; otherwise A is, and the
   person who made the campaign is told either way (an email in their language, and the
   campaign page). The numbers the decision was made on are kept (``ABTest.result``).

Every recipient gets exactly one message: the rest's rows are added with the unique
(campaign, contact) pair, so nobody in the test is queued again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm, Role
from rapport.accounts.services import record_audit
from rapport.campaigns import stats
from rapport.campaigns.assignment import BlockedAssignment, new_seed
from rapport.campaigns.models import (
    ABTest,
    ABTestState,
    Campaign,
    CampaignState,
    Metric,
    ScheduleMode,
    Variant,
)
from rapport.campaigns.services import (
    Split,
    finish_if_done,
    get_campaign_for,
    queue_deliveries,
    schedule_of,
)
from rapport.campaigns.timing import Schedule
from rapport.content.checks import TemplateProblem
from rapport.content.models import TemplateVersion
from rapport.content.services import (
    TemplateContent,
    check_content,
    content_of,
    current_version,
    get_template_for,
)
from rapport.crm.engagement import human_clicks, human_opens
from rapport.crm.models import Event, EventType
from rapport.delivery.models import Delivery, DeliveryState
from rapport.errors import Conflict, InvalidInput

log = logging.getLogger(__name__)

LABELS = "ABCD"
MOST_WAIT_HOURS = 24 * 30


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """What a variant changes; blank keeps the campaign's own."""

    subject: str = ""
    preheader: str = ""
    template: int | str | None = None  # another template's current version as the content
    from_name: str = ""
    local_time: dt.time | None = None


# -- setting up ------------------------------------------------------------------------------


@transaction.atomic
def set_up_test(
    campaign_id: int,
    *,
    variants: Sequence[VariantSpec],
    test_share: int = 20,
    metric: str = Metric.CLICK,
    confidence: float = 0.95,
    wait_hours: int = 4,
    acting_user: User | None,
) -> ABTest:
    """Create or replace the A/B test of a draft campaign."""
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    campaign = campaign or get_campaign_for(None, campaign_id)  # names the missing campaign
    if campaign.state != CampaignState.DRAFT:
        raise Conflict(
            f"The campaign {campaign.name!r} is {campaign.state}; an A/B test is set up "
            "before it starts."
        )
    if not 2 <= len(variants) <= len(LABELS):
        raise InvalidInput("An A/B test has 2 to 4 variants (A, B, C, D).", field="variants")
    if metric not in Metric.values:
        raise InvalidInput(
            f"{metric!r} is not a metric; use one of {', '.join(Metric.values)}.", field="metric"
        )
    if not 0.8 <= confidence <= 0.999:
        raise InvalidInput(
            f"A confidence level of {confidence} is outside 0.80-0.999 (0.95 is usual).",
            field="confidence",
        )
    if not len(variants) <= test_share <= 100:
        raise InvalidInput(
            f"A test share of {test_share} % is outside {len(variants)}-100 % (at least 1 % "
            "per variant).",
            field="test_share",
        )
    if not 1 <= wait_hours <= MOST_WAIT_HOURS:
        raise InvalidInput(
            f"Wait 1 to {MOST_WAIT_HOURS} hours before choosing the winner, not {wait_hours}.",
            field="wait_hours",
        )
    rows = [_variant_row(campaign, label, spec) for label, spec in zip(LABELS, variants,
                                                                       strict=False)]  # fmt: skip
    ABTest.objects.filter(campaign=campaign).delete()
    test = ABTest.objects.create(
        campaign=campaign,
        test_share=test_share,
        metric=metric,
        confidence=confidence,
        wait_hours=wait_hours,
        seed=new_seed(),
    )
    for row in rows:
        row.test = test
    Variant.objects.bulk_create(rows)
    record_audit(
        acting_user,
        "campaign.ab_test",
        target_type="campaign",
        target_id=campaign.pk,
        detail={"variants": len(rows), "share": test_share, "metric": metric},
    )
    return test


def _variant_row(campaign: Campaign, label: str, spec: VariantSpec) -> Variant:
    """Check one variant: its template exists and is saved, and its subject and preheader
    render for a sample contact (the same checks as saving a template)."""
    template = get_template_for(None, spec.template) if spec.template not in (None, "") else None
    content = _with_texts(
        current_version(template or campaign.template), spec.subject.strip(), spec.preheader.strip()
    )
    try:
        check_content(content)
    except TemplateProblem as problem:
        raise InvalidInput(
            f"Variant {label}: {problem.message}", field=f"variants[{label}]"
        ) from None
    return Variant(
        label=label,
        subject=spec.subject.strip(),
        preheader=spec.preheader.strip(),
        template=template,
        from_name=spec.from_name.strip(),
        local_time=spec.local_time,
    )


@transaction.atomic
def remove_test(campaign_id: int, *, acting_user: User | None) -> None:
    if acting_user is not None:
        require(acting_user, Perm.EDIT_CONTENT)
    campaign = get_campaign_for(None, campaign_id)
    if campaign.state != CampaignState.DRAFT:
        raise Conflict(f"The campaign {campaign.name!r} has started; its A/B test stays.")
    ABTest.objects.filter(campaign=campaign).delete()
    record_audit(acting_user, "campaign.ab_test_removed", target_type="campaign",
                 target_id=campaign.pk)  # fmt: skip


# -- starting --------------------------------------------------------------------------------


def start_test(campaign: Campaign, *, due_at: dt.datetime, now: dt.datetime) -> ABTest:
    """Fix each variant's version, queue the test's share with its variants, and set when the
    decision is due: ``wait_hours`` after the last test message is due."""
    test = ABTest.objects.select_for_update().get(campaign=campaign)
    variants = list(test.variants.select_related("template"))
    for variant in variants:
        if variant.template is not None:
            variant.version = current_version(variant.template)
            variant.save(update_fields=["version"])
    split = Split(
        assign=BlockedAssignment(
            [v.label for v in variants], share_percent=test.test_share, seed=test.seed
        ).assign,
        schedules=_variant_schedules(campaign, variants, due_at),
    )
    queue_deliveries(campaign, due_at=due_at, now=now, split=split)
    last_due = Delivery.objects.filter(campaign=campaign).aggregate(last=Max("due_at"))["last"]
    test.state = ABTestState.TESTING
    test.decide_at = (last_due or due_at) + dt.timedelta(hours=test.wait_hours)
    test.save(update_fields=["state", "decide_at"])
    return test


def _variant_schedules(
    campaign: Campaign, variants: Sequence[Variant], start: dt.datetime
) -> dict[str, Schedule]:
    """A send-time variant goes at its local time in each contact's timezone."""
    base = schedule_of(campaign, start)
    return {
        v.label: dataclasses.replace(base, mode=ScheduleMode.LOCAL_TIME, local_time=v.local_time)
        for v in variants
        if v.local_time is not None
    }


# -- what the pipeline sends -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantMessage:
    """What one variant's messages are made of: a saved version, changed or not."""

    label: str
    version: TemplateVersion
    content: TemplateContent | None  # None: the version exactly as saved (derived already)
    from_name: str  # "" keeps the campaign's


def _with_texts(version: TemplateVersion, subject: str, preheader: str) -> TemplateContent:
    """The version's content with a variant's subject and preheader (blank keeps its own)."""
    return dataclasses.replace(
        content_of(version),
        subject=subject or version.subject,
        preheader=preheader or version.preheader,
    )


def variant_messages(campaign: Campaign) -> list[VariantMessage]:
    """The variants of a started campaign's test (none without a test)."""
    assert campaign.version is not None
    messages = []
    for variant in Variant.objects.filter(test__campaign=campaign).select_related("version"):
        version = variant.version or campaign.version
        content = None
        if variant.subject or variant.preheader:
            content = _with_texts(version, variant.subject, variant.preheader)
        messages.append(VariantMessage(variant.label, version, content, variant.from_name))
    return messages


# -- measuring -------------------------------------------------------------------------------


def _test_rows(campaign_id: int) -> Any:
    return Delivery.objects.filter(
        campaign_id=campaign_id, after_test=False, state=DeliveryState.SENT
    ).exclude(variant="")


def measure(test: ABTest, labels: Sequence[str]) -> list[stats.Arm]:
    """Each variant's data on the test's metric, from its sent test rows (in ``labels``
    order): unique recipients with a human open / a human click / an attributed order, or the
    attributed revenue per recipient."""
    campaign_id = test.campaign_id
    rows = _test_rows(campaign_id)
    if test.metric == Metric.REVENUE:
        return _revenue_arms(campaign_id, rows, labels)
    happened = {
        Metric.OPEN: human_opens(),
        Metric.CLICK: human_clicks(),
        Metric.CONVERSION: Q(type=EventType.ORDERED),
    }[Metric(test.metric)]
    engaged = Event.objects.filter(
        happened, campaign_id=campaign_id, contact_id=OuterRef("contact_id")
    )
    counts = {
        row["variant"]: (row["hits"], row["n"])
        for row in rows.values("variant").annotate(
            n=Count("pk"), hits=Count("pk", filter=Exists(engaged))
        )
    }
    return [stats.Arm(label, rate=counts.get(label, (0, 0))) for label in labels]


def _revenue_arms(campaign_id: int, rows: Any, labels: Sequence[str]) -> list[stats.Arm]:
    sizes = dict(rows.values_list("variant").annotate(n=Count("pk")).values_list("variant", "n"))
    revenue: dict[int, Decimal] = {}
    for contact_id, total in Event.objects.filter(
        type=EventType.ORDERED, campaign_id=campaign_id, order__isnull=False
    ).values_list("contact_id", "order__total"):
        revenue[contact_id] = revenue.get(contact_id, Decimal(0)) + (total or Decimal(0))
    values: dict[str, list[float]] = {label: [] for label in labels}
    buyers = list(revenue)
    for start in range(0, len(buyers), 5000):
        for contact_id, label in rows.filter(
            contact_id__in=buyers[start : start + 5000]
        ).values_list("contact_id", "variant"):
            values.setdefault(label, []).append(float(revenue[contact_id]))
    return [
        stats.Arm(label, sample=stats.Sample.of(values[label], n=sizes.get(label, 0)))
        for label in labels
    ]


def evaluate(test: ABTest) -> dict[str, Any]:
    """The test's numbers now, as stored and shown: each variant's value with its interval,
    each challenger's difference from A with its interval and p-value, and the decision."""
    labels = list(test.variants.values_list("label", flat=True))
    arms = measure(test, labels)
    decision = stats.decide(arms, confidence=test.confidence)
    variants = []
    for arm in arms:
        if arm.sample is not None:
            interval = stats.mean_interval(arm.sample, test.confidence)
            recipients, successes = arm.sample.n, arm.sample.nonzero
            extra = {"revenue": round(arm.sample.total, 2)}
        else:
            assert arm.rate is not None
            successes, recipients = arm.rate
            interval = stats.wilson_interval(successes, recipients, test.confidence)
            extra = {}
        variants.append({
            "label": arm.label, "recipients": recipients, "successes": successes,
            "value": arm.value, "low": interval.low, "high": interval.high, **extra,
        })  # fmt: skip
    comparisons = [
        {
            "label": label,
            "difference": c.difference,
            "low": c.interval.low,
            "high": c.interval.high,
            "p_value": c.p_value,
            "significant": c.significant,
            "note": c.note,
        }
        for label, c in decision.comparisons.items()
    ]
    safe: dict[str, Any] = stats.json_safe({
        "metric": test.metric,
        "confidence": test.confidence,
        "alpha_per_comparison": decision.adjusted_alpha,
        "variants": variants,
        "comparisons": comparisons,
        "winner": decision.winner,
        "significant": decision.significant,
        "measured_at": timezone.now().isoformat(),
    })  # fmt: skip
    return safe


def result_of(test: ABTest) -> dict[str, Any]:
    """The numbers of a running test now; the kept ones otherwise (none before it starts)."""
    if test.state == ABTestState.TESTING:
        return evaluate(test)
    return dict(test.result)


# -- deciding --------------------------------------------------------------------------------


def decide_due(now: dt.datetime) -> list[int]:
    """The scheduler's job: decide every test whose time has come while its campaign sends
    (a paused campaign's test waits for it). Returns the tests decided."""
    due = ABTest.objects.filter(
        state=ABTestState.TESTING, decide_at__lte=now, campaign__state=CampaignState.SENDING
    ).values_list("pk", flat=True)
    decided = []
    for test_id in list(due):
        if decide_test(test_id, now=now) is not None:
            decided.append(test_id)
    return decided


@transaction.atomic
def decide_test(test_id: int, *, now: dt.datetime) -> ABTest | None:
    """Choose the winner, keep the numbers, queue the rest with it, and tell the campaign's
    owner. None when the test was decided meanwhile (another scheduler) or is not testing."""
    test = (
        ABTest.objects.select_for_update()
        .filter(pk=test_id, state=ABTestState.TESTING)
        .select_related("campaign")
        .first()
    )
    if test is None:
        return None
    test.result = evaluate(test)
    test.winner = test.result["winner"]
    test.significant = test.result["significant"]
    test.state = ABTestState.DECIDED
    test.decided_at = now
    rest = 0
    if test.test_share < 100:
        winner = test.variants.get(label=test.winner)
        split = Split(
            assign=lambda ids: dict.fromkeys(ids, winner.label),
            schedules=_variant_schedules(test.campaign, [winner], now),
        )
        rest = queue_deliveries(test.campaign, due_at=now, now=now, split=split,
                                after_test=True)  # fmt: skip
    test.result["rest"] = rest
    test.save(update_fields=["result", "winner", "significant", "state", "decided_at"])
    record_audit(
        None,
        "campaign.ab_decided",
        target_type="campaign",
        target_id=test.campaign_id,
        detail={"winner": test.winner, "significant": test.significant, "rest": rest},
    )
    transaction.on_commit(lambda: _notify(test.pk))
    if not rest:  # a test of the whole audience: done once its own messages are
        finish_if_done(test.campaign_id)
    else:
        from rapport.delivery.tasks import send_campaign  # noqa: PLC0415 - delivery builds on us

        transaction.on_commit(lambda: send_campaign.enqueue(test.campaign_id))
    return test


def outcome_text(test: ABTest) -> str:
    """One sentence on what was decided, in the active language."""
    if test.state != ABTestState.DECIDED:
        return ""
    if test.significant and test.winner != "A":
        text = _("Variant %(winner)s won the A/B test of %(campaign)s significantly.")
    elif test.significant:
        text = _("Variant A (the default) won the A/B test of %(campaign)s significantly.")
    else:
        text = _(
            "The A/B test of %(campaign)s found no significant difference; the default "
            "variant A was kept."
        )
    if test.test_share < 100:
        text += " " + _("The rest of the audience is sent variant %(winner)s.")
    return text % {"campaign": test.campaign.name, "winner": test.winner}


def _notify(test_id: int) -> None:
    """An email to whoever made the campaign (else the owners), in their language; a mail
    server that is down must not undo the decision, so failures are only logged."""
    test = ABTest.objects.select_related("campaign", "campaign__created_by").get(pk=test_id)
    creator = test.campaign.created_by
    people = [creator] if creator is not None and creator.email else list(
        User.objects.filter(role=Role.OWNER, is_active=True).exclude(email="")
    )  # fmt: skip
    for person in people:
        with translation.override(person.language or settings.LANGUAGE_CODE):
            subject = _("A/B test decided: %(campaign)s") % {"campaign": test.campaign.name}
            body = (
                outcome_text(test) + "\n\n" + f"{settings.BASE_URL}/campaigns/{test.campaign_id}/"
            )
        try:
            send_mail(subject, body, None, [person.email])
        except OSError:
            log.exception("could not tell %s about the A/B test of campaign %s", person.email,
                          test.campaign_id)  # fmt: skip
