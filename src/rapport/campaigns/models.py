"""Campaign tables: the campaign with its audience, the transitions it went through, frequency
caps, and the experiments run on campaigns (A/B tests, frequency tests, learned send hours)."""

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
    BEST_HOUR = "best_hour", _("At each contact's best hour (learned from their opens and clicks)")


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
        _("when"), max_length=12, choices=ScheduleMode.choices, default=ScheduleMode.NOW
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


# -- experiments -----------------------------------------------------------------------------


class Metric(models.TextChoices):
    OPEN = "open", _("Unique human open rate")
    CLICK = "click", _("Click rate")
    CONVERSION = "conversion", _("Conversion rate")
    REVENUE = "revenue", _("Revenue per recipient")


class ABTestState(models.TextChoices):
    DRAFT = "draft", _("Set up")  # the campaign has not started
    TESTING = "testing", _("Testing")  # the test share is out; the rest waits for the decision
    DECIDED = "decided", _("Decided")
    CANCELLED = "cancelled", _("Cancelled")


class ABTest(models.Model):
    """An A/B test of a campaign: ``test_share`` percent of the audience is split evenly and at
    random between the variants; ``wait_hours`` after the last of them is due, the variant that
    is best on ``metric`` goes to the rest if it is significant at ``confidence``, else A."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="ab_test")
    test_share = models.PositiveSmallIntegerField(_("test share (%)"), default=20)
    metric = models.CharField(_("winning metric"), max_length=10, choices=Metric.choices,
                              default=Metric.CLICK)  # fmt: skip
    confidence = models.FloatField(_("confidence level"), default=0.95)
    wait_hours = models.PositiveSmallIntegerField(_("hours before the winner is chosen"),
                                                  default=4)  # fmt: skip
    seed = models.BigIntegerField()  # of the random assignment: the same audience, the same split
    state = models.CharField(max_length=10, choices=ABTestState.choices,
                             default=ABTestState.DRAFT)  # fmt: skip
    decide_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    winner = models.CharField(max_length=1, blank=True)  # the variant the rest was sent
    significant = models.BooleanField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)  # the numbers the decision was made on

    def __str__(self) -> str:
        return f"A/B test of {self.campaign_id}"


class Variant(models.Model):
    """One arm of an A/B test; A is the control and the default. Blank fields keep the
    campaign's own (its template's subject, preheader, content and sender name, its schedule)."""

    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=1)  # A, B, C, D
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    preheader = models.CharField(_("preheader"), max_length=500, blank=True)
    template = models.ForeignKey("content.Template", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")  # fmt: skip
    # Fixed when the campaign starts, like the campaign's own version.
    version = models.ForeignKey("content.TemplateVersion", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")  # fmt: skip
    from_name = models.CharField(_("from name"), max_length=200, blank=True)
    local_time = models.TimeField(_("send at local time"), null=True, blank=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["test", "label"], name="campaigns_variant_once")
        ]

    def __str__(self) -> str:
        return self.label


class FrequencyTestState(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class FrequencyTest(models.Model):
    """Random groups of a segment's contacts held at different frequency caps for ``weeks``,
    then compared on revenue and unsubscribes per contact. The result recommends a cap; it
    changes nothing by itself."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    segment = models.ForeignKey("segments.Segment", on_delete=models.PROTECT, related_name="+")
    share = models.PositiveSmallIntegerField(_("share of the segment (%)"), default=100)
    weeks = models.PositiveSmallIntegerField(_("weeks"), default=6)
    confidence = models.FloatField(_("confidence level"), default=0.95)
    seed = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=FrequencyTestState.choices,
                             default=FrequencyTestState.RUNNING)  # fmt: skip
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField(db_index=True)
    result = models.JSONField(default=dict, blank=True)  # kept when the test ends
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL)  # fmt: skip

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.name


class FrequencyGroup(models.Model):
    """One group of a frequency test and the cap its members are held at (A is the control)."""

    test = models.ForeignKey(FrequencyTest, on_delete=models.CASCADE, related_name="groups")
    label = models.CharField(max_length=1)
    cap_messages = models.PositiveSmallIntegerField(_("at most"))
    cap_days = models.PositiveSmallIntegerField(_("emails in days"))

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["test", "label"], name="campaigns_freq_group_once")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.cap_messages}/{self.cap_days}d"


class FrequencyMember(models.Model):
    """A contact's group in a frequency test; a contact is in at most one running test."""

    test = models.ForeignKey(FrequencyTest, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["test", "contact"], name="campaigns_freq_member_once")
        ]
        indexes = [models.Index(fields=["contact", "test"], name="campaigns_freq_member_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.group}"


class SendHour(models.Model):
    """A contact's best local hour to receive email, learned from their own human opens and
    clicks (``send_times.learn``); only contacts with enough of them have a row."""

    contact = models.OneToOneField("crm.Contact", on_delete=models.CASCADE, primary_key=True,
                                   related_name="+")  # fmt: skip
    hour = models.PositiveSmallIntegerField()  # 0-23 in the contact's timezone
    weight = models.FloatField()  # the recency-weighted opens and clicks behind it
    learned_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.hour}h"
