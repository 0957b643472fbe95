"""What tracking stores besides events: the workspace's choices, and each campaign's links.

A link row holds a target URL of one campaign, created once when the first message that shows
it is built and cached by the sender; messages carry only its id inside a signed token. So the
redirect target always comes from here, never from the URL a recipient (or an attacker) sends,
and a link that differs per contact (a recommended product) costs one row per distinct URL, not
one per message.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

LONGEST_WINDOW_HOURS = 366 * 24  # an attribution window: a year at most


class TrackingSettings(models.Model):
    """One row, edited on the Sending page: whether opens and clicks are tracked at all, and
    how orders are credited to emails (last touch within a window)."""

    enabled = models.BooleanField(_("track opens and clicks"), default=True)
    click_window_hours = models.PositiveIntegerField(
        _("credit an order to a click within hours"), default=7 * 24
    )
    attribute_opens = models.BooleanField(
        _("credit an open when no click led to the order"), default=True
    )
    open_window_hours = models.PositiveIntegerField(
        _("credit an order to an open within hours"), default=24
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "tracking settings"

    @classmethod
    def current(cls) -> TrackingSettings:
        return cls.objects.first() or cls()


class Link(models.Model):
    """One distinct target URL of one campaign. ``digest`` (SHA-256 of the URL) carries the
    uniqueness: URLs can be longer than PostgreSQL's b-tree accepts as a key."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    url = models.TextField()
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "digest"], name="tracking_link_once")
        ]

    def __str__(self) -> str:
        return self.url
