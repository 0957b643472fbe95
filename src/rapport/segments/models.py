"""Segments (rules or static lists) and the per-contact purchase facts that rules read.

``ContactFacts`` is narrow on purpose: one row per buyer, only what segments filter on,
refreshed for the contacts whose orders changed (``facts.refresh_facts``), never rebuilt
wholesale on each order.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.crm.models import Contact


class SegmentKind(models.TextChoices):
    RULES = "rules", _("Rules")
    STATIC = "static", _("Static list")


class Segment(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(max_length=10, choices=SegmentKind.choices, default=SegmentKind.RULES)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    builtin = models.BooleanField(default=False)
    # Its own frequency cap for campaigns sent to it (both set, or neither).
    cap_messages = models.PositiveSmallIntegerField(_("at most"), null=True, blank=True)
    cap_days = models.PositiveSmallIntegerField(_("emails in days"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A member of a static list."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="list_memberships")
    added_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "contact"], name="segment_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.contact_id}"


class ContactFacts(models.Model):
    """Purchase facts of one buyer; contacts who never bought have no row."""

    contact = models.OneToOneField(
        Contact, primary_key=True, on_delete=models.CASCADE, related_name="facts"
    )
    first_order_at = models.DateTimeField()
    last_order_at = models.DateTimeField(db_index=True)
    order_count = models.PositiveIntegerField(db_index=True)
    total_spent = models.DecimalField(max_digits=16, decimal_places=2, db_index=True)
    # Median days between this buyer's orders; None until they have enough orders to know.
    usual_interval_days = models.FloatField(null=True, blank=True)
    # When the buyer counts as lapsed if no order arrives: last order + their usual interval
    # (scaled), or + the default (113 days) for buyers with too few orders.
    lapses_at = models.DateTimeField(db_index=True)
    # Quintile scores 1-5 (5 best), from thresholds over all buyers (see ``facts.rescore``).
    r_score = models.PositiveSmallIntegerField(default=0)
    f_score = models.PositiveSmallIntegerField(default=0)
    m_score = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"facts of {self.contact_id}"


class LifecycleSettings(models.Model):
    """The workspace's lifecycle thresholds and current RFM cut points (one row)."""

    new_days = models.PositiveIntegerField(default=30)
    default_lapse_days = models.PositiveIntegerField(default=113)
    min_orders_for_interval = models.PositiveIntegerField(default=3)
    # A buyer lapses after this multiple of their own usual interval without an order.
    lapse_factor = models.FloatField(default=1.5)
    # Quintile cut points: {"r": [days...], "f": [counts...], "m": [amounts...]}.
    rfm_cuts = models.JSONField(default=dict, blank=True)
    rfm_scored_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "lifecycle settings"

    @classmethod
    def current(cls) -> LifecycleSettings:
        return cls.objects.get_or_create(pk=1)[0]
