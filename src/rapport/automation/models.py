"""Journeys and where each contact is in them.

A ``Journey`` holds its definition as JSON (a trigger, then a tree of steps, each with a stable
id; see ``definition``). A ``JourneyEntry`` is one contact's pass through one journey: the step
it is at, when that step is due, and how it ended. ``StepRun`` records every step an entry
executed, unique per (entry, seq): it is written in the same transaction as the step's effect
and the entry's advance, so a step never runs twice, even across a crash.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class JourneyState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ENABLED = "enabled", _("On")
    DISABLED = "disabled", _("Off")


class Reentry(models.TextChoices):
    ONCE = "once", _("Once ever")
    YEARLY = "yearly", _("Once a year")
    ALWAYS = "always", _("Every time")


class Journey(models.Model):
    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=JourneyState.choices, default=JourneyState.DRAFT
    )
    recipe = models.CharField(max_length=40, blank=True)  # the recipe it was made from
    # {"trigger": {...}, "steps": [...], "reentry": "...", "cap": {...}}, checked on save.
    definition = models.JSONField(default=dict)
    reentry = models.CharField(
        _("re-entry"), max_length=6, choices=Reentry.choices, default=Reentry.ONCE
    )
    # Where the trigger's scans resume ({"since": ISO time, "floor_id", "high_id", …}); each
    # scan re-reads a trailing window, since rows may commit a little after their time or id.
    scan = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    enabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JourneyEmail(models.Model):
    """The automation campaign behind one email step: tracking, bounces, caps and reports
    work for journey mail exactly as for broadcasts."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="emails")
    step = models.CharField(max_length=32)
    campaign = models.OneToOneField(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="journey_email"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journey", "step"], name="journey_email_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.journey_id}:{self.step}"


class EntryState(models.TextChoices):
    ACTIVE = "active", _("In the journey")
    COMPLETED = "completed", _("Completed")
    CONVERTED = "converted", _("Reached the goal")
    STOPPED = "stopped", _("Stopped")  # unsubscribed, suppressed, or their step was removed


START = "start"  # the position of an entry that has not reached its first step yet


class JourneyEntry(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="entries")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    # What makes this pass unique under the journey's re-entry rule: "" (once ever), the year
    # (once a year), or the cause ("order:812", "event:90211") for every time.
    occurrence = models.CharField(max_length=64, blank=True)
    cause = models.CharField(max_length=64, blank=True)  # what fired the trigger
    state = models.CharField(max_length=9, choices=EntryState.choices, default=EntryState.ACTIVE)
    step = models.CharField(max_length=32, default=START)
    seq = models.PositiveIntegerField(default=0)  # steps executed so far
    due_at = models.DateTimeField()
    entered_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)  # when it met a goal
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "contact", "occurrence"], name="journey_entry_once"
            )
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="active"), name="journey_entry_due"),
            models.Index(fields=["journey", "state", "step"], name="journey_entry_position"),
            models.Index(fields=["contact", "journey"], name="journey_entry_contact"),
        ]
        verbose_name_plural = "journey entries"

    def __str__(self) -> str:
        return f"{self.journey_id}/{self.contact_id} {self.state} at {self.step}"


class StepRun(models.Model):
    """One executed step of one entry; the unique (entry, seq) is the idempotency key."""

    entry = models.ForeignKey(JourneyEntry, on_delete=models.CASCADE, related_name="runs")
    seq = models.PositiveIntegerField()
    step = models.CharField(max_length=32)
    outcome = models.CharField(max_length=40)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "seq"], name="step_run_once")]

    def __str__(self) -> str:
        return f"{self.entry_id}#{self.seq} {self.step}: {self.outcome}"


class AudienceSnapshot(models.Model):
    """Who was in a journey's trigger segment at the last look, for enter/leave triggers."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journey", "contact"], name="journey_snapshot_once")
        ]

    def __str__(self) -> str:
        return f"{self.journey_id}:{self.contact_id}"


class PointsEntry(models.Model):
    """The loyalty points ledger: a balance is the sum of a contact's rows. Minimal on purpose
    (no expiry, no redemption yet): journeys award points, nothing else spends them."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="points")
    points = models.IntegerField()
    reason = models.CharField(max_length=200, blank=True)
    entry = models.ForeignKey(JourneyEntry, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["contact", "created_at"], name="points_contact")]
        verbose_name_plural = "points entries"

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.points:+d}"


class NotificationChannel(models.TextChoices):
    APP = "app", _("In the app")
    EMAIL = "email", _("By email")


class StaffNotification(models.Model):
    """A message to staff from a journey's notify step. In-app ones are read on the Journeys
    page; email ones are an outbox, mailed after their step commits (``sent_at``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    channel = models.CharField(max_length=5, choices=NotificationChannel.choices)
    email = models.CharField(max_length=254, blank=True)
    text = models.CharField(max_length=500)
    journey = models.ForeignKey(Journey, null=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(channel="email", sent_at__isnull=True),
                name="notification_unsent",
            ),
            models.Index(fields=["user", "read_at"], name="notification_user"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.text[:40]}"
