"""Rollups of the Event table and snapshots of the Delivery table, which reports read.

A campaign report over ten million events cannot scan them per request. Opens and clicks are
absorbed incrementally (``absorb.py``) into narrow tables keyed the way reports ask: one row
per campaign, per campaign and hour, per link, per device/client/domain, and per local
weekday and hour. Unique counts need to know whether an event is a contact's first of its
kind, so one ``EngagementFact`` per (campaign, contact) keeps that state.

Deliveries are not append-only (a row moves from queued to sent or failed), so their counts
are snapshots (``snapshot.py``), refreshed while they can still change.

Campaign and contact ids are plain integers, not foreign keys: a report keeps what happened
even after a contact is erased, and absorbing never waits on those tables' locks.
"""

from __future__ import annotations

from django.db import models


class AbsorbState(models.Model):
    """One row: every event with ``id <= absorbed_through`` is in the rollups, except ids in
    a ``PendingGap`` (not visible when their range was read; they may still commit)."""

    absorbed_through = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"absorbed through {self.absorbed_through}"


class PendingGap(models.Model):
    """Event ids ``first_id..last_id`` that were missing when absorbed past. Tracking writes
    events in batches from several processes, so a lower id can commit after a higher one;
    the gap is re-read on every run until it fills or is older than the patience."""

    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.first_id}..{self.last_id}"


class EngagementFact(models.Model):
    """What one contact did with one campaign's email: the state behind unique counts."""

    campaign_id = models.BigIntegerField()
    contact_id = models.BigIntegerField()
    first_open_at = models.DateTimeField(null=True)  # human opens only
    first_click_at = models.DateTimeField(null=True)  # human clicks only
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    machine_opens = models.PositiveIntegerField(default=0)
    scanner_clicks = models.PositiveIntegerField(default=0)
    # Of the first human open or click: unique openers are counted where they first engaged.
    device = models.CharField(max_length=16, blank=True)
    client = models.CharField(max_length=60, blank=True)
    # Copied from the contact when the fact is made, so that moving counts stays exact.
    domain = models.CharField(max_length=253, blank=True)
    timezone = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "contact_id"], name="analytics_fact_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.contact_id}"


class CampaignRollup(models.Model):
    """A campaign's engagement totals (humans only unless the name says otherwise)."""

    campaign_id = models.BigIntegerField(unique=True)
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    machine_opens = models.PositiveIntegerField(default=0)
    scanner_clicks = models.PositiveIntegerField(default=0)
    openers = models.PositiveIntegerField(default=0)  # opened, or clicked (images blocked)
    clickers = models.PositiveIntegerField(default=0)
    openers_by_click = models.PositiveIntegerField(default=0)  # clicked with no open seen

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}"


class HourlyRollup(models.Model):
    """The same per campaign and UTC hour; openers and clickers count in the hour of the
    contact's first open (or click) and first click."""

    campaign_id = models.BigIntegerField()
    hour = models.DateTimeField()
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    machine_opens = models.PositiveIntegerField(default=0)
    scanner_clicks = models.PositiveIntegerField(default=0)
    openers = models.PositiveIntegerField(default=0)
    clickers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign_id", "hour"], name="analytics_hour_once")
        ]
        indexes = [models.Index(fields=["hour"], name="analytics_hour_time")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.hour:%Y-%m-%d %H}"


class LinkRollup(models.Model):
    """Clicks per tracked link (its Link id, else a hash of the URL)."""

    campaign_id = models.BigIntegerField()
    key = models.CharField(max_length=40)
    url = models.TextField()
    clicks = models.PositiveIntegerField(default=0)
    scanner_clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign_id", "key"], name="analytics_link_once")
        ]

    def __str__(self) -> str:
        return self.url


class Dimension(models.TextChoices):
    DEVICE = "device"
    CLIENT = "client"
    DOMAIN = "domain"


class BreakdownRollup(models.Model):
    """Engagement per device, mail client or recipient domain. ``opens``/``clicks`` count
    events where they happened; ``openers``/``clickers`` count contacts where they first
    engaged (device and client) or by their address (domain)."""

    campaign_id = models.BigIntegerField()
    dimension = models.CharField(max_length=8, choices=Dimension.choices)
    value = models.CharField(max_length=253)
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    openers = models.PositiveIntegerField(default=0)
    clickers = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "dimension", "value"], name="analytics_breakdown_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.dimension}={self.value}"


class LocalOpenHour(models.Model):
    """First human opens (or clicks) by UTC day and the contact's local weekday and hour: the
    dashboard's "when the audience opens", over any window of days."""

    day = models.DateField()
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday
    hour = models.PositiveSmallIntegerField()
    openers = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "weekday", "hour"], name="analytics_local_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.weekday} {self.hour}h"


class DeliverySnapshot(models.Model):
    """A campaign's delivery counts as of ``computed_at``. ``final`` once nothing can move
    them any more (the campaign finished, nothing in flight, the bounce count unchanged)."""

    campaign_id = models.BigIntegerField(unique=True)
    computed_at = models.DateTimeField()
    final = models.BooleanField(default=False)
    recipients = models.PositiveIntegerField(default=0)  # every Delivery row
    sent = models.PositiveIntegerField(default=0)  # accepted (250), whatever came back later
    failed = models.PositiveIntegerField(default=0)  # refused, or given up
    skipped = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)  # queued, claimed, sending, deferred
    capped = models.PositiveIntegerField(default=0)  # held by a frequency cap at least once
    bounce_reports = models.PositiveIntegerField(default=0)  # the signature of late bounces

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} at {self.computed_at:%Y-%m-%d %H:%M}"


class SnapshotRow(models.Model):
    """Per-campaign counts that need a join of deliveries with contacts: sent and bounced
    per recipient domain, per audience segment (with its opens and clicks), sent per day."""

    campaign_id = models.BigIntegerField()
    dimension = models.CharField(max_length=8)  # domain, segment, day
    key = models.CharField(max_length=253)
    label = models.CharField(max_length=200, blank=True)
    sent = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    openers = models.PositiveIntegerField(default=0)
    clickers = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["campaign_id", "dimension"], name="analytics_snap_dim")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.dimension}={self.key}"
