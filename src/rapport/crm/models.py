"""Contacts and their purchase and interaction history.

Interests and tags are JSON arrays on the contact: one row per contact keeps imports and
list pages to a single table, and segments read them with ``json_each`` (SQLite) or a GIN
index (PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

# A birthday given without a year (common in Chinese CRM exports: "3月8日") is kept on this
# leap year, so that 29 February fits; ``birthday_year_known`` says the year is not real.
BIRTHDAY_UNKNOWN_YEAR = 1904


class MonthDay(models.Func):
    """``month * 100 + day`` of a date (0308 for 8 March), in SQL that both databases accept
    in a stored generated column: birthday look-ups become an indexed integer range."""

    output_field = models.PositiveSmallIntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # %-signs are doubled twice: once for this template, once for the driver's params.
        template = "CAST(strftime('%%%%m%%%%d', %(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            "(EXTRACT(MONTH FROM %(expressions)s) * 100 "
            "+ EXTRACT(DAY FROM %(expressions)s))::smallint"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


class Audience(models.TextChoices):
    B2B = "b2b", _("Business (B2B)")
    B2C = "b2c", _("Consumer (B2C)")
    NONPROFIT = "nonprofit", _("Non-profit")


class ContactStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", _("Subscribed")
    PENDING = "pending", _("Awaiting confirmation")
    NOT_SUBSCRIBED = "not_subscribed", _("Customer, no marketing consent")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Complained")


# Statuses that only the person (or their mail server) can leave: an import or a staff edit
# never turns them back into "subscribed".
SUPPRESSED_STATUSES = frozenset(
    {ContactStatus.UNSUBSCRIBED, ContactStatus.BOUNCED, ContactStatus.COMPLAINED}
)


class Honorific(models.TextChoices):
    NONE = "", _("(none)")
    MR = "mr", _("Mr")
    MS = "ms", _("Ms")
    MX = "mx", _("Mx")
    DR = "dr", _("Dr")


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    domain = models.CharField(_("domain"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    email = models.CharField(_("email"), max_length=254, unique=True)  # normalised, lower case
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    honorific = models.CharField(
        _("honorific"), max_length=4, choices=Honorific.choices, blank=True, default=""
    )
    # Lower-cased full name in the contact's own order ("张伟", "john smith"), for prefix search.
    search_name = models.CharField(max_length=201, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=24, blank=True, db_index=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    birthday_year_known = models.BooleanField(default=True)
    birth_month_day = models.GeneratedField(
        expression=MonthDay("birthday"),
        output_field=models.PositiveSmallIntegerField(null=True),
        db_persist=True,
        db_index=True,
    )
    locale = models.CharField(_("locale"), max_length=16, blank=True)
    timezone = models.CharField(_("timezone"), max_length=64, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.B2C
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("company"),
    )
    interests = models.JSONField(_("interests"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ContactStatus.choices,
        default=ContactStatus.SUBSCRIBED,
    )
    consent_source = models.CharField(_("consent source"), max_length=200, blank=True)
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    personalisation = models.BooleanField(_("personalised content"), default=True)
    # Off: this contact's emails carry no open pixel and no tracked links, and no open or
    # click of theirs is recorded (the tracking app honours it at send and at record time).
    tracking = models.BooleanField(_("track opens and clicks"), default=True, db_default=True)
    # The contact's own choice of how often (preference centre); wins over every other cap.
    cap_messages = models.PositiveSmallIntegerField(_("at most"), null=True, blank=True)
    cap_days = models.PositiveSmallIntegerField(_("emails in days"), null=True, blank=True)
    source = models.CharField(max_length=100, blank=True)
    # Kept by segments.facts with the purchase facts: "potential" (subscribed, never bought)
    # is then read from a small partial index instead of an anti-join of every contact.
    has_ordered = models.BooleanField(_("has ordered"), db_default=False, editable=False)
    # The latest "opened" and "clicked" events, kept by crm.engagement as events arrive:
    # "has not opened in 30 days" is then a test of one column, not an anti-join of events.
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True, editable=False)
    last_clicked_at = models.DateTimeField(_("last clicked"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Only what search needs: low-cardinality columns (status, country, audience) are
        # read by scans that an index would not speed up, and every index slows imports.
        indexes = [
            models.Index(Lower("family_name"), name="crm_contact_family_lower"),
            models.Index(
                fields=["status"], condition=Q(has_ordered=False), name="crm_contact_non_buyers"
            ),
            models.Index(fields=["last_opened_at"], name="crm_contact_last_opened"),
            models.Index(fields=["last_clicked_at"], name="crm_contact_last_clicked"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        from rapport.crm.names import display_name  # noqa: PLC0415 - avoid a models<->names cycle

        return display_name(self.given_name, self.family_name, self.locale) or self.email


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice")


class CustomField(models.Model):
    """A user-defined, typed contact field; values live in ``Contact.custom[key]``."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=10, choices=CustomFieldType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    url = models.URLField(_("product page"), max_length=500, blank=True)
    image_url = models.URLField(_("image"), max_length=500, blank=True)
    # Consumables (ink, coffee, film) may be recommended again to people who bought them.
    consumable = models.BooleanField(_("consumable"), default=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Order(models.Model):
    external_id = models.CharField(_("order id"), max_length=64, unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="orders")
    placed_at = models.DateTimeField(_("placed at"), db_index=True)  # revenue over a period
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2)
    coupon_code = models.CharField(_("coupon code"), max_length=64, blank=True)
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "placed_at"])]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # The SKU is kept even when the product is not (yet) in the catalogue.
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL)
    sku = models.CharField(max_length=64, db_index=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"


class EventType(models.TextChoices):
    SENT = "sent", _("Email sent")
    DELIVERED = "delivered", _("Email delivered")
    BOUNCED = "bounced", _("Email bounced")
    OPENED = "opened", _("Email opened")
    CLICKED = "clicked", _("Link clicked")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    SUBSCRIBED = "subscribed", _("Subscribed")
    COMPLAINED = "complained", _("Complained")
    REPLIED = "replied", _("Replied")
    ORDERED = "ordered", _("Ordered")
    JOURNEY = "journey", _("Journey step")
    CUSTOM = "custom", _("Custom event")


class JourneyMoment(models.TextChoices):
    """What a journey event (``EventType.JOURNEY``) says happened; its ``data`` names the
    journey (``journey``, ``journey_name``) and, as they apply, ``points`` and ``reason``."""

    ENTERED = "entered", _("entered")
    COMPLETED = "completed", _("completed")
    CONVERTED = "converted", _("reached the goal")
    STOPPED = "stopped", _("stopped")
    POINTS = "points", _("points awarded")


class Event(models.Model):
    """One interaction, append-only: the contact's timeline and the source of engagement facts."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=16, choices=EventType.choices)
    name = models.CharField(max_length=100, blank=True)  # custom events: "webinar_attended"
    occurred_at = models.DateTimeField()
    campaign_id = models.BigIntegerField(null=True, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        indexes = [
            models.Index(fields=["contact", "occurred_at"]),
            # contact last: "who opened in the last 30 days" reads the index alone.
            models.Index(
                fields=["type", "occurred_at", "contact"], name="crm_event_type_time_contact"
            ),
            models.Index(fields=["campaign_id", "type"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.occurred_at:%Y-%m-%d}"

    @property
    def journey_moment(self) -> str:
        """A journey event's moment in the reader's language (the stored name otherwise)."""
        if self.name in JourneyMoment.values:
            return str(JourneyMoment(self.name).label)
        return self.name


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    PRODUCTS = "products", _("Products")
    ORDERS = "orders", _("Orders")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """A CSV import run as a background task, with its progress and its rejects file."""

    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    file_path = models.CharField(max_length=500)
    original_name = models.CharField(max_length=255)
    mapping = models.JSONField(default=dict, blank=True)
    total_bytes = models.BigIntegerField(default=0)
    processed_bytes = models.BigIntegerField(default=0)
    rows = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    rejects_path = models.CharField(max_length=500, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_bytes:
            return 0
        return min(99, int(self.processed_bytes * 100 / self.total_bytes))
