"""The send loop of one worker: claim due rows, check them again, render, hand over, record.

Crash safety rests on the order of writes. A worker takes a batch of rows (``claimed``), then
marks each one ``sending`` in its own committed write right before handing it to the server,
and ``sent`` only after the server's 250. When a worker dies, its lease runs out: rows it had
only claimed go back to the queue (they never left), and a row still ``sending`` becomes
``unknown``, is reported, and is never sent again unless someone asks. So a crash costs at most
the message in flight, visibly, and never sends one twice. The ``claimed`` to ``sending`` step
is conditional, so a pause or cancel takes effect between two messages of a batch.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from rapport.campaigns.audience import may_receive_marketing
from rapport.campaigns.caps import apply_caps
from rapport.campaigns.experiments import variant_messages
from rapport.campaigns.models import Campaign, CampaignKind, CampaignState, CapAction
from rapport.campaigns.services import finish_if_done
from rapport.content.checks import Usage, merge_usage
from rapport.content.context import ContextBuilder, Sender
from rapport.content.models import TemplateVersion, Workspace
from rapport.content.recommend import Recommender
from rapport.content.rendering import CompiledTemplate, RenderError
from rapport.content.services import (
    TemplateContent,
    check_content,
    compile_content,
    compile_version,
    usage_of,
)
from rapport.crm.models import Contact
from rapport.crm.names import display_name
from rapport.delivery.bounces import Finding, Kind
from rapport.delivery.bouncing import handle
from rapport.delivery.compose import Envelope, compose, message_id
from rapport.delivery.dkim import sign
from rapport.delivery.domains import signing_keys
from rapport.delivery.footer import Footer, footer_for
from rapport.delivery.models import Delivery, DeliveryState
from rapport.delivery.pool import PoolLimits, SendPool
from rapport.delivery.servers import sending_url
from rapport.delivery.transport import Answer, Outcome, SmtpTransport
from rapport.delivery.verp import return_path, unsubscribe_address
from rapport.perf import fewer_gc_pauses
from rapport.settings.env import smtp_limits
from rapport.tracking.rewrite import tracker_for

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=10)  # far longer than any hand-off takes
MAX_ATTEMPTS = 8
GIVE_UP_AFTER = dt.timedelta(days=3)
_FIRST_RETRY = dt.timedelta(minutes=5)
_LONGEST_RETRY = dt.timedelta(hours=6)


def retry_delay(attempts: int) -> dt.timedelta:
    """5 min, 10, 20, … up to 6 h: a domain that keeps failing gets fewer tries, not a storm."""
    delay: dt.timedelta = _FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, _LONGEST_RETRY)


@dataclass(slots=True)
class SendReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    capped: int = 0
    stopped_because: str = ""
    errors: list[str] = field(default_factory=list)


def recover_abandoned(campaign_id: int, *, now: dt.datetime) -> int:
    """Rows of a worker that died: back to the queue when it had only claimed them; ``unknown``
    (never resent without the user) when it was handing them over. Returns the unknown."""
    expired = Delivery.objects.filter(campaign_id=campaign_id, updated_at__lt=now - LEASE)
    expired.filter(state=DeliveryState.CLAIMED).update(
        state=DeliveryState.QUEUED, attempts=F("attempts") - 1, updated_at=now
    )
    return expired.filter(state=DeliveryState.SENDING).update(
        state=DeliveryState.UNKNOWN, response="the worker stopped during the hand-off"
    )


def claim(campaign_id: int, *, now: dt.datetime, limit: int) -> list[tuple[int, int]]:
    """Take up to ``limit`` due rows for this worker, committed before any hand-off.
    ``skip_locked`` lets workers on PostgreSQL share a campaign without waiting on each other;
    SQLite serialises writers, which gives the same guarantee."""
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                campaign_id=campaign_id,
                state__in=[DeliveryState.QUEUED, DeliveryState.DEFERRED],
                due_at__lte=now,
            )
            .order_by("due_at", "pk")
            .values_list("pk", "contact_id")[:limit]
        )
        Delivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            state=DeliveryState.CLAIMED, attempts=F("attempts") + 1, updated_at=now
        )
    return rows


@dataclass(frozen=True, slots=True)
class _Content:
    compiled: CompiledTemplate
    usage: Usage
    footers: dict[str, Footer] | None
    from_name: str


@dataclass(frozen=True, slots=True)
class _Outgoing:
    pk: int
    message_id: str
    mail_from: str
    recipient: str
    data: bytes


class _HotWrites:
    """The two writes every message makes, as parameterised SQL prepared once: building them
    through the ORM cost about four times the write itself, a fifth of a message's time."""

    def __init__(self) -> None:
        table = connection.ops.quote_name(Delivery._meta.db_table)
        column = {
            f.name: connection.ops.quote_name(f.column or f.name) for f in Delivery._meta.fields
        }
        self._hand_over = (
            f"UPDATE {table} SET {column['state']} = %s, {column['message_id']} = %s, "  # noqa: S608 - names from the model
            f"{column['updated_at']} = %s WHERE {column['id']} = %s AND {column['state']} = %s"
        )
        self._sent = (
            f"UPDATE {table} SET {column['state']} = %s, {column['response']} = %s, "  # noqa: S608 - names from the model
            f"{column['sent_at']} = %s WHERE {column['id']} IN "
        )

    def hand_over(self, pk: int, identifier: str, now: dt.datetime) -> bool:
        """``claimed`` to ``sending``; False when the row is no longer ours (paused, …)."""
        with connection.cursor() as cursor:
            cursor.execute(
                self._hand_over,
                [DeliveryState.SENDING, identifier, _stamp(now), pk, DeliveryState.CLAIMED],
            )
            return bool(cursor.rowcount == 1)

    def sent(self, pks: list[int], response: str, now: dt.datetime) -> None:
        marks = ", ".join(["%s"] * len(pks))
        with connection.cursor() as cursor:
            cursor.execute(
                f"{self._sent}({marks})", [DeliveryState.SENT, response, _stamp(now), *pks]
            )


def _stamp(moment: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _still_allowed(contact_ids: list[int]) -> set[int]:
    """Checked right before hand-off: an unsubscribe mid-campaign counts for the rest of it."""
    return set(
        Contact.objects.filter(pk__in=contact_ids)
        .filter(may_receive_marketing())
        .values_list("pk", flat=True)
    )


class CampaignSender:
    """Sends one campaign's due rows through a pool of connections."""

    def __init__(
        self,
        campaign: Campaign,
        pool: SendPool,
        *,
        clock: Callable[[], dt.datetime] = timezone.now,
    ) -> None:
        assert campaign.version is not None, "a campaign is started before it is sent"
        self.campaign = campaign
        self.pool = pool
        self.group = pool.limits.connections  # messages marked ``sending`` per commit
        self.writes = _HotWrites()
        self.clock = clock
        self.version = campaign.version
        workspace = Workspace.current()
        # What each A/B variant's messages are made of; "" is the campaign's own content.
        self.contents = {"": self._content(self.version, None, "", workspace)}
        for variant in variant_messages(campaign):
            self.contents[variant.label] = self._content(
                variant.version, variant.content, variant.from_name, workspace
            )
        default = self.contents[""]
        self.compiled, self.footers, self.from_name = (
            default.compiled,
            default.footers,
            default.from_name,
        )
        usage = merge_usage(content.usage for content in self.contents.values())
        self.builder = ContextBuilder(
            sender=Sender(f"campaign:{campaign.pk}", campaign.name),
            usage=usage,
            now=clock(),
            recommender=Recommender.load() if usage.recommendations else None,
            issue_coupons=True,
            links=frozenset({"unsubscribe_url"}),  # the List-Unsubscribe header's, always
        )
        self.from_email = campaign.from_email or self.version.from_email or workspace.from_email
        self.reply_to = campaign.reply_to or self.version.reply_to or workspace.reply_to
        self.domain = self.from_email.rpartition("@")[2] or "rapport.localhost"
        self.keys = signing_keys(self.domain)
        self.tracker = tracker_for(campaign.pk)  # None: the workspace tracks nothing
        self.bounce_domain = settings.BOUNCE_DOMAIN or self.domain

    def _content(
        self,
        version: TemplateVersion,
        content: TemplateContent | None,
        from_name: str,
        workspace: Workspace,
    ) -> _Content:
        """One variant's compiled template, its footers and sender name. The unsubscribe link
        and postal address go in a footer where the template does not show them."""
        campaign = self.campaign
        usage = usage_of(version) if content is None else check_content(content)
        compiled = compile_version(version) if content is None else compile_content(content)
        name = from_name or campaign.from_name or version.from_name or workspace.from_name
        lacks_link = "unsubscribe_url" not in usage.names
        lacks_address = "workspace" not in usage.names
        footers: dict[str, Footer] | None = None
        if (lacks_link or lacks_address) and not campaign.transactional:
            footers = {
                language: footer_for(
                    language,
                    organisation=workspace.name,
                    postal_address=workspace.postal_address,
                    with_link=lacks_link,
                    with_address=lacks_address,
                )
                for language in ("en", "zh")
            }
        return _Content(compiled, usage, footers, name or workspace.name)

    def run(self, *, max_batches: int | None = None) -> SendReport:
        """Send until nothing is due, the campaign leaves ``sending``, or ``max_batches``."""
        with fewer_gc_pauses():
            return self._run(max_batches)

    def _run(self, max_batches: int | None) -> SendReport:
        report = SendReport()
        recover_abandoned(self.campaign.pk, now=self.clock())
        batches = 0
        while max_batches is None or batches < max_batches:
            state = Campaign.objects.filter(pk=self.campaign.pk).values_list("state", flat=True)
            if state.first() != CampaignState.SENDING:
                report.stopped_because = f"campaign is {state.first()}"
                return report
            rows = claim(self.campaign.pk, now=self.clock(), limit=settings.SEND_BATCH)
            if not rows:
                finish_if_done(self.campaign.pk)
                report.stopped_because = "nothing due"
                return report
            self._send_batch(rows, report)
            batches += 1
        report.stopped_because = "batch limit"
        return report

    def _send_batch(self, rows: list[tuple[int, int]], report: SendReport) -> None:
        allowed = _still_allowed([contact for _, contact in rows])
        refused = [pk for pk, contact in rows if contact not in allowed]
        if refused:
            Delivery.objects.filter(pk__in=refused).update(
                state=DeliveryState.SKIPPED, response="unsubscribed or suppressed before sending"
            )
            report.skipped += len(refused)
        wanted = [(pk, contact) for pk, contact in rows if contact in allowed]
        wanted = self._within_caps(wanted, report)
        if self.tracker is not None:
            self.tracker.prepare(wanted)
        contexts = self._contexts(wanted)
        variants = self._variants_of([pk for pk, _ in wanted])
        group: list[_Outgoing] = []
        for pk, _contact_id in wanted:
            context = contexts.get(pk)
            if context is None:  # the contact was deleted since the row was queued
                self._record_failure(pk, Answer(Outcome.REFUSED, None, "contact deleted"), report)
                continue
            outgoing = self._build(pk, context, report, self.contents[variants.get(pk, "")])
            if outgoing is not None:
                group.append(outgoing)
            if len(group) >= self.group:
                self._hand_over(group)
                group = []
                self._record(self.pool.finished(), report)
        self._hand_over(group)
        self._record(self.pool.drain(), report)

    def _variants_of(self, pks: list[int]) -> dict[int, str]:
        """Which A/B variant each row carries: one query per batch, only for a tested campaign."""
        if len(self.contents) == 1 or not pks:
            return {}
        return dict(
            Delivery.objects.filter(pk__in=pks).exclude(variant="").values_list("pk", "variant")
        )

    def _contexts(self, rows: list[tuple[int, int]]) -> dict[int, dict[str, object]]:
        """Each row's template context, by delivery id. A journey's coupon codes are per entry
        (the delivery's ``occurrence``), so that a yearly birthday brings a new code each year:
        those rows are built per entry when the template hands out coupons."""
        groups: dict[str, list[tuple[int, int]]] = {"": rows}
        if self.campaign.kind == CampaignKind.AUTOMATION and self.builder.usage.coupon_series:
            contact_of = dict(rows)
            groups = {}
            for pk, occurrence in Delivery.objects.filter(pk__in=list(contact_of)).values_list(
                "pk", "occurrence"
            ):
                groups.setdefault(f"journey-entry:{occurrence}", []).append((pk, contact_of[pk]))
        contexts: dict[int, dict[str, object]] = {}
        for coupon_key, members in groups.items():
            built = self.builder.build(
                [contact for _, contact in members], coupon_key=coupon_key or None
            )
            for (pk, _), context in zip(members, built, strict=False):
                contexts[pk] = context
        return contexts

    def _within_caps(
        self, rows: list[tuple[int, int]], report: SendReport
    ) -> list[tuple[int, int]]:
        """Hold back contacts over their frequency cap: until they are under it again, or for
        good when the campaign says to skip them."""
        decision = apply_caps(self.campaign, rows, now=self.clock())
        skip = self.campaign.cap_action == CapAction.SKIP
        waiting: dict[dt.datetime, list[int]] = {}
        for pk, until in decision.held.items():
            waiting.setdefault(until, []).append(pk)
        for until, pks in waiting.items():  # one write per next slot, not per contact
            Delivery.objects.filter(pk__in=pks).update(
                state=DeliveryState.CAPPED if skip else DeliveryState.DEFERRED,
                due_at=until,
                attempts=F("attempts") - 1,  # waiting for a cap is not a failed attempt
                was_capped=True,
                response=f"over the contact's frequency cap until {until:%Y-%m-%d %H:%M} UTC",
            )
        report.capped += len(decision.held)
        allowed = set(decision.allowed)
        return [(pk, contact) for pk, contact in rows if pk in allowed]

    def _build(
        self, pk: int, context: dict[str, object], report: SendReport, content: _Content
    ) -> _Outgoing | None:
        """Render, compose and sign one message; None (and the row failed) if it cannot be."""
        contact = context["contact"]
        assert isinstance(contact, dict)
        try:
            rendered = content.compiled.render(context)
        except RenderError as error:
            self._record_failure(pk, Answer(Outcome.REFUSED, None, error.message[:300]), report)
            return None
        now = self.clock()
        if self.tracker is not None:  # before the footer: its unsubscribe link stays as it is
            rendered = self.tracker.apply(rendered, delivery=pk, sent_at=int(now.timestamp()))
        if content.footers is not None:
            language = "zh" if str(contact.get("locale") or "").startswith("zh") else "en"
            unsubscribe = str(context.get("unsubscribe_url") or "")
            rendered = content.footers[language].add_to(rendered, unsubscribe)
        identifier = message_id(pk, self.domain)
        envelope = Envelope(
            from_name=content.from_name,
            from_email=self.from_email,
            to_email=str(contact["email"]),
            to_name=display_name(
                str(contact.get("first_name") or ""),
                str(contact.get("last_name") or ""),
                str(contact.get("locale") or ""),
            ),
            reply_to=self.reply_to,
            unsubscribe_url=str(context.get("unsubscribe_url") or ""),
            delivery_id=pk,
            date=now,
            unsubscribe_mailto=unsubscribe_address(pk, self.bounce_domain),
        )
        try:
            data = compose(rendered, envelope, identifier)
        except ValueError as error:  # an address only SMTPUTF8 could carry, a broken value
            refusal = Answer(Outcome.REFUSED, None, f"cannot be sent: {error}")
            self._record_failure(pk, refusal, report)
            return None
        if self.keys:
            data = sign(data, self.keys)
        return _Outgoing(
            pk, identifier, return_path(pk, self.bounce_domain), envelope.to_email, data
        )

    def _hand_over(self, group: list[_Outgoing]) -> None:
        """Mark a few built messages ``sending`` in one commit, then give them to the pool.
        One commit per group instead of per message: SQLite's writers queue for the lock,
        and a crash now costs at most a group plus what the pool holds, never a repeat."""
        now = self.clock()
        with transaction.atomic():
            # A row no longer claimed was paused, cancelled or taken back since its batch.
            ours = [m for m in group if self.writes.hand_over(m.pk, m.message_id, now)]
        for message in ours:
            self.pool.submit(message.pk, message.mail_from, message.recipient, message.data)

    def _record(self, answers: list[tuple[int, Answer]], report: SendReport) -> None:
        """Write the servers' answers in one commit: the accepted ones together, an UPDATE per
        answer text (a relay that names its queue id makes that one per message)."""
        if not answers:
            return
        accepted: dict[str, list[int]] = {}
        now = self.clock()
        with transaction.atomic():
            for pk, answer in answers:
                if answer.outcome is Outcome.ACCEPTED:
                    accepted.setdefault(_response(answer), []).append(pk)
                else:
                    self._record_failure(pk, answer, report)
            for response, pks in accepted.items():
                self.writes.sent(pks, response, now)
                report.sent += len(pks)

    def _record_failure(self, pk: int, answer: Answer, report: SendReport) -> None:
        now = self.clock()
        rows = Delivery.objects.filter(pk=pk)
        response = _response(answer)
        delivery = rows.values_list(
            "attempts", "contact__email", "campaign__started_at", "campaign__kind"
        ).get()
        attempts, email, started, kind = delivery
        if kind == CampaignKind.AUTOMATION:  # on for years: its start says nothing of this row
            started = None
        gave_up = attempts >= MAX_ATTEMPTS or (started and now - started > GIVE_UP_AFTER)
        if answer.outcome is Outcome.RETRY and not gave_up:
            rows.update(
                state=DeliveryState.DEFERRED, due_at=now + retry_delay(attempts), response=response
            )
            report.deferred += 1
            return
        rows.update(state=DeliveryState.FAILED, response=response)
        report.failed += 1
        if answer.outcome is Outcome.REFUSED and answer.code in (550, 551, 553):
            # No such mailbox, said during the hand-off: the same hard bounce as one reported
            # later (suppression, the contact's status and timeline, the campaign's rate).
            refusal = Finding(Kind.HARD, pk, email, str(answer.code), response)
            handle(refusal, source="smtp", key=f"smtp:{pk}")


def _response(answer: Answer) -> str:
    return f"{answer.code or ''} {answer.text}".strip()[:500]


def default_pool() -> SendPool:
    """The pool for ``RAPPORT_EMAIL_PROVIDER`` when one is set, else for the SMTP server in
    use (the one chosen in the UI, or ``RAPPORT_SMTP_URL``), with the limits its URL sets."""
    url = sending_url()
    limits = PoolLimits(**smtp_limits(url))
    if settings.EMAIL_PROVIDER:
        from rapport.delivery.providers import AnymailTransport  # noqa: PLC0415

        provider = settings.EMAIL_PROVIDER
        return SendPool(lambda: AnymailTransport(provider), limits)
    return SendPool(lambda: SmtpTransport(url), limits)
