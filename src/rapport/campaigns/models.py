"""Campaign tables: the campaign with its audience, and the transitions it went through."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class ScheduleMode(models.TextChoices):
    NOW = "now", _("As soon as it is started")
    AT = "at", _("At a time")
    LOCAL_TIME = "local", _("At a local time in each contact's timezone")
    BEST_WINDOW = "window", _("In the best window of each contact's week")


class CapAction(models.TextChoices):
    DEFER = "defer", _("Send at the next allowed time")
    SKIP = "skip", _("Skip the contact")


class CampaignKind(models.TextChoices):
    BROADCAST = "broadcast", _("Broadcast")
    # One per email step of a journey: it stays "sending" while its journey is on, and each
    # contact's message is queued by the journey engine (``automation``), not by an audience.
    AUTOMATION = "automation", _("Automation")


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=CampaignKind.choices,
        default=CampaignKind.BROADCAST,
        db_default=CampaignKind.BROADCAST,
    )
    template = models.ForeignKey(
        "content.Template", on_delete=models.PROTECT, related_name="campaigns"
    )
    # Fixed when sending starts, so later edits of the template never change what was sent.
    version = models.ForeignKey(
        "content.TemplateVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CampaignState.choices, default=CampaignState.DRAFT
    )
    schedule_mode = models.CharField(
        _("when"), max_length=8, choices=ScheduleMode.choices, default=ScheduleMode.NOW
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    local_time = models.TimeField(_("local time"), null=True, blank=True)
    # The campaign's own sending window (weekdays 0=Monday…6, and hours); empty: the default
    # Tuesday to Thursday 10:00-14:00.
    window_days = models.JSONField(_("window days"), default=list, blank=True)
    window_start = models.TimeField(_("window opens"), null=True, blank=True)
    window_end = models.TimeField(_("window closes"), null=True, blank=True)
    avoid_quiet_hours = models.BooleanField(_("never send 21:00-08:00 local time"), default=True)
    avoid_holidays = models.BooleanField(
        _("skip public holidays in the contact's country"), default=True
    )
    cap_action = models.CharField(
        _("when a contact is at their cap"),
        max_length=6,
        choices=CapAction.choices,
        default=CapAction.DEFER,
    )
    transactional = models.BooleanField(_("transactional (exempt from caps)"), default=False)
    from_name = models.CharField(_("from name"), max_length=200, blank=True)
    from_email = models.CharField(_("from address"), max_length=254, blank=True)
    reply_to = models.CharField(_("reply-to"), max_length=254, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CampaignAudience(models.Model):
    """A segment or list the campaign goes to, or one it leaves out (``exclude``)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="audience")
    segment = models.ForeignKey("segments.Segment", on_delete=models.PROTECT, related_name="+")
    exclude = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "segment"], name="campaigns_audience_once")
        ]

    def __str__(self) -> str:
        return f"{'-' if self.exclude else '+'}{self.segment_id}"


class CampaignTransition(models.Model):
    """The history of a campaign's state: who moved it, when, and why."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=10)
    to_state = models.CharField(max_length=10)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} -> {self.to_state}"


class FrequencyCap(models.Model):
    """The workspace's default cap for one audience type: at most ``messages`` marketing emails
    in ``days``. A segment's or a contact's own cap takes over from it."""

    audience = models.CharField(_("audience"), max_length=10, unique=True)
    messages = models.PositiveSmallIntegerField(_("at most"))
    days = models.PositiveSmallIntegerField(_("emails in days"))

    def __str__(self) -> str:
        return f"{self.audience}: {self.messages} in {self.days} days"
