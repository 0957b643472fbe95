from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaughtMessage(models.Model):
    """A message the local mail catcher received; shown in the UI's outbox."""

    mail_from = models.CharField(max_length=320)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=500, blank=True)
    raw = models.BinaryField()
    size = models.IntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.subject}"


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    CLAIMED = "claimed", _("Taken by a worker")  # in a worker's batch, not handed over yet
    SENDING = "sending", _("Handed to the server")  # becomes sent on the server's 250
    SENT = "sent", _("Sent")
    DEFERRED = "deferred", _("Deferred")  # a 4xx or a dropped line: retried with backoff
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown")  # found claimed after a crash: never resent unasked
    SKIPPED = "skipped", _("Skipped")  # suppressed or unsubscribed before its turn
    CAPPED = "capped", _("Capped")  # over the contact's frequency cap


class Delivery(models.Model):
    """One message of one campaign to one contact (per occurrence); the unique triple is what
    keeps every recipient to one message, whatever the number of workers or crashes.

    ``occurrence`` is 0 for broadcasts (one message per contact) and the journey entry's id
    for an automation campaign's message, so that a contact may get a journey's email once
    per time they go through the journey (a yearly birthday), still exactly once each time."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="deliveries"
    )
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    occurrence = models.BigIntegerField(default=0, db_default=0)
    state = models.CharField(max_length=8, choices=DeliveryState.choices, default="queued")
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    was_capped = models.BooleanField(default=False)  # held back by a frequency cap at least once
    # The A/B test variant this message carries ("" without a test); ``after_test``: sent to
    # the rest of the audience after the decision, so not part of the test's comparison.
    variant = models.CharField(max_length=1, blank=True, default="")
    after_test = models.BooleanField(default=False)
    message_id = models.CharField(max_length=200, blank=True)
    response = models.CharField(max_length=500, blank=True)  # the server's last answer
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact", "occurrence"], name="delivery_once_per_occurrence"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "state", "due_at"], name="delivery_work"),
            models.Index(fields=["contact", "sent_at"], name="delivery_contact_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.contact_id} {self.state}"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    HARD_BOUNCE = "bounced", _("Hard bounce")
    COMPLAINED = "complained", _("Complained")
    BLOCKED = "blocked", _("Blocked by staff")
    ERASED = "erased", _("Erased on request")


class Suppression(models.Model):
    """The one global do-not-send list, by address: it outlives the contact row (an erased
    contact must not come back through the next import).

    ``email`` is a normalised address, or ``@domain`` for a whole domain blocked by staff: the
    send-time check probes the unique index with both the address and its ``@domain``."""

    email = models.CharField(max_length=254, unique=True)  # normalised, lower case
    reason = models.CharField(max_length=12, choices=SuppressionReason.choices)
    source = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)  # why staff blocked it by hand
    added_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class SendingDomain(models.Model):
    """A domain we send as, with its DKIM keys (RSA-2048 and Ed25519, RFC 8463 dual signing).
    Keys are made by ``rapport domain add``; the DNS records to publish are derived from them."""

    domain = models.CharField(max_length=253, unique=True)
    selector = models.CharField(max_length=63, default="rapport")
    rsa_private_key = models.BinaryField()
    ed25519_private_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.domain


class BounceKind(models.TextChoices):
    HARD = "hard", _("Hard bounce")
    SOFT = "soft", _("Soft bounce")
    COMPLAINT = "complaint", _("Complaint")
    DELAYED = "delayed", _("Delay warning")
    UNRECOGNISED = "unrecognised", _("Unrecognised")


class Bounce(models.Model):
    """One report that came back (by IMAP or a provider's webhook), kept as the evidence
    behind a suppression and a campaign's bounce rate. ``key`` makes reading the same report
    twice (a crash before it was moved, a webhook retried) count once."""

    key = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=12, choices=BounceKind.choices)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="bounces"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.CharField(max_length=254, blank=True, db_index=True)
    status = models.CharField(max_length=16, blank=True)  # 5.1.1, 550, …
    diagnostic = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=40)  # imap, webhook:amazon_ses, …
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "kind"], name="bounce_campaign_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.email}"


class BouncePolicy(models.Model):
    """When bounces suppress an address and pause a campaign; one row, edited in the UI.

    Defaults follow what mailbox providers tolerate: Google asks senders to stay under 0.3 %
    complaints, and a campaign that bounces more than 5 % is sending to a stale list."""

    soft_bounces_to_suppress = models.PositiveSmallIntegerField(_("soft bounces"), default=3)
    soft_bounce_days = models.PositiveSmallIntegerField(_("within days"), default=30)
    pause_bounce_rate = models.FloatField(_("pause above bounce rate"), default=0.05)
    pause_complaint_rate = models.FloatField(_("pause above complaint rate"), default=0.003)
    minimum_sent = models.PositiveIntegerField(_("judge rates after sending"), default=100)

    def __str__(self) -> str:
        return "bounce policy"

    @classmethod
    def current(cls) -> BouncePolicy:
        return cls.objects.first() or cls()


class SmtpSecurity(models.TextChoices):
    STARTTLS = "starttls", _("STARTTLS (port 587)")
    TLS = "tls", _("TLS from the start (port 465)")
    NONE = "none", _("None (a relay on this machine only)")


class SmtpServer(models.Model):
    """A server campaigns are handed to, added in the UI; the one marked ``active`` takes over
    from ``RAPPORT_SMTP_URL``. The password is stored encrypted with a key derived from the
    secret key (``delivery.servers``), never shown again once saved."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("host"), max_length=253)
    port = models.PositiveIntegerField(_("port"), default=587)
    security = models.CharField(
        _("security"), max_length=8, choices=SmtpSecurity.choices, default=SmtpSecurity.STARTTLS
    )
    username = models.CharField(_("user name"), max_length=200, blank=True)
    password_encrypted = models.BinaryField(blank=True, default=b"")
    connections = models.PositiveSmallIntegerField(_("connections per worker"), default=4)
    per_domain = models.PositiveSmallIntegerField(_("at once per recipient domain"), default=4)
    rate = models.FloatField(_("messages a second per worker (0: no limit)"), default=0)
    active = models.BooleanField(_("in use"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_smtp_server"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"
