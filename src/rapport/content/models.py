"""Content tables: templates and their immutable versions, coupon series and codes, and the
trained recommendation model."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TemplateKind(models.TextChoices):
    NEWSLETTER = "newsletter", _("Newsletter")
    WELCOME = "welcome", _("Welcome")
    BIRTHDAY = "birthday", _("Birthday")
    PROMOTION = "promotion", _("Promotion")
    WINBACK = "winback", _("Win-back")
    OTHER = "other", _("Other")


class Template(models.Model):
    """A named email; its content lives in versions so that a sent campaign keeps pointing at
    exactly what it sent while the marketer goes on editing."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=TemplateKind.choices, default=TemplateKind.OTHER
    )
    language = models.CharField(_("language"), max_length=16, blank=True)
    library_key = models.CharField(max_length=40, blank=True)  # "welcome.zh-hans" when seeded
    current = models.ForeignKey(
        "TemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """One saved state of a template: what the marketer wrote plus what is derived from it once
    (CSS inlined into the HTML, the plain-text template), so that sending never redoes it."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    subject = models.CharField(_("subject"), max_length=500)
    preheader = models.CharField(_("preheader"), max_length=500, blank=True)
    html = models.TextField(_("HTML body"))
    text = models.TextField(_("plain-text override"), blank=True)
    from_name = models.CharField(_("from name"), max_length=200, blank=True)
    from_email = models.CharField(_("from address"), max_length=254, blank=True)
    reply_to = models.CharField(_("reply-to"), max_length=254, blank=True)
    compiled_html = models.TextField()  # CSS inlined, preheader placed
    compiled_text = models.TextField()  # the override, or derived from the HTML once
    warnings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="content_version_number")
        ]
        ordering = ["template", "-number"]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number}"


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    AMOUNT = "amount", _("Amount off")
    FREE_SHIPPING = "shipping", _("Free shipping")


class CouponSeries(models.Model):
    """A family of codes with one offer, e.g. "BDAY10": one unique code per contact."""

    name = models.SlugField(_("name"), max_length=40, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    prefix = models.CharField(_("code prefix"), max_length=12, blank=True)
    kind = models.CharField(
        _("discount"), max_length=10, choices=DiscountKind.choices, default=DiscountKind.PERCENT
    )
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    valid_days = models.PositiveIntegerField(_("valid for days after issue"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    usage_limit = models.PositiveIntegerField(_("uses per code"), default=1)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Coupon(models.Model):
    series = models.ForeignKey(CouponSeries, on_delete=models.CASCADE, related_name="coupons")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="coupons")
    # What the code was issued for ("campaign:12", "journey:3"), so one contact gets one code per
    # campaign or automation and the same render twice shows the same code.
    issued_for = models.CharField(max_length=40, blank=True)
    code = models.CharField(max_length=40, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["series", "contact", "issued_for"], name="content_coupon_once"
            )
        ]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(models.Model):
    """An order that used a code; kept even when the code was expired or used up, with the
    reason, so the shop can see who tried."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="redemptions")
    order = models.OneToOneField(
        "crm.Order", on_delete=models.CASCADE, related_name="coupon_redemption"
    )
    accepted = models.BooleanField(default=True)
    reason = models.CharField(max_length=100, blank=True)
    redeemed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.coupon_id} on {self.order_id}"


class RecommendationModel(models.Model):
    """A trained recommender: item-to-item scores and popularity, as one JSON document so that a
    retrain replaces it atomically and a campaign loads it in one query."""

    data = models.JSONField()
    orders = models.PositiveIntegerField(default=0)
    products = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"recommendations {self.created_at:%Y-%m-%d %H:%M}"


class Workspace(models.Model):
    """Who is sending: the name and postal address every marketing email must show, and the
    default sender. One row, edited in the UI."""

    name = models.CharField(_("organisation name"), max_length=200, default="Rapport Demo Shop")
    postal_address = models.CharField(_("postal address"), max_length=500, blank=True)
    website = models.URLField(_("website"), blank=True)
    from_name = models.CharField(_("default from name"), max_length=200, blank=True)
    from_email = models.CharField(
        _("default from address"), max_length=254, default="news@rapport.localhost"
    )
    reply_to = models.CharField(_("default reply-to"), max_length=254, blank=True)
    locale = models.CharField(_("default language"), max_length=16, default="en")
    # The best sending window for campaigns that do not set their own (weekdays 0=Monday);
    # empty: Tuesday to Thursday 10:00-14:00, when people read marketing mail.
    window_days = models.JSONField(_("window days"), default=list, blank=True)
    window_start = models.TimeField(_("window opens"), null=True, blank=True)
    window_end = models.TimeField(_("window closes"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> Workspace:
        workspace, _created = cls.objects.get_or_create(pk=1)
        return workspace
