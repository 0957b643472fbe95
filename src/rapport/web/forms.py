"""Forms of the UI: they parse and validate input, and nothing else."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapport.campaigns.models import CapAction, ScheduleMode
from rapport.content.models import Template, TemplateKind
from rapport.crm.models import Audience, ContactStatus, ImportKind
from rapport.crm.queries import ContactFilters
from rapport.delivery.models import SmtpSecurity
from rapport.segments.models import Segment


def _with_any(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("Any")), *choices]


class ContactFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_with_any(ContactStatus.choices)
    )
    audience = forms.ChoiceField(
        label=_("Audience"), required=False, choices=_with_any(Audience.choices)
    )
    country = forms.CharField(label=_("Country"), required=False, max_length=2)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self) -> ContactFilters:
        """The valid filters; invalid parts are dropped rather than failing the page."""
        data = self.cleaned_data if self.is_valid() else {}
        return ContactFilters(
            q=(data.get("q") or "").strip(),
            status=data.get("status") or "",
            audience=data.get("audience") or "",
            country=(data.get("country") or "").strip().upper(),
        )

    def cursor(self) -> int | None:
        return self.cleaned_data.get("after") if self.is_valid() else None


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(label=_("CSV file"))
    mapping = forms.CharField(
        label=_("Column mapping (JSON, optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"columns": {"手机": "phone"}}'}),
    )

    def clean_mapping(self) -> dict[str, Any]:
        text = self.cleaned_data.get("mapping", "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(
                _("This is not valid JSON: %(error)s"), params={"error": error}
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_('The mapping must be a JSON object: {"columns": …}.'))
        return value


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Segment name"), max_length=120)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "prose"}),
    )


class MembersForm(forms.Form):
    emails = forms.CharField(
        label=_("Email addresses"),
        help_text=_("One per line, or separated by commas."),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "wei.zhang@example.cn"}),
    )

    def clean_emails(self) -> list[str]:
        text = self.cleaned_data["emails"]
        emails = [e.strip() for e in re.split(r"[\s,，;；]+", text) if e.strip()]
        if not emails:
            raise forms.ValidationError(_("Paste at least one email address."))
        return emails


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=TemplateKind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=500)
    preheader = forms.CharField(
        label=_("Preheader"),
        max_length=500,
        required=False,
        help_text=_("The line inbox lists show after the subject."),
    )
    from_name = forms.CharField(label=_("From name"), max_length=200, required=False)
    from_email = forms.CharField(label=_("From address"), max_length=254, required=False)
    reply_to = forms.CharField(label=_("Reply-to"), max_length=254, required=False)
    html = forms.CharField(
        label=_("HTML"),
        widget=forms.Textarea(attrs={"rows": 24, "class": "code", "spellcheck": "false"}),
    )
    text = forms.CharField(
        label=_("Plain-text part (optional)"),
        required=False,
        help_text=_("Left empty, it is made from the HTML."),
        widget=forms.Textarea(attrs={"rows": 6, "class": "code", "spellcheck": "false"}),
    )


class TestSendForm(forms.Form):
    to = forms.EmailField(label=_("Send a test to"))
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    template = forms.ModelChoiceField(label=_("Template"), queryset=Template.objects.none())
    audience = forms.ModelMultipleChoiceField(
        label=_("Send to"), queryset=Segment.objects.none(), widget=forms.SelectMultiple
    )
    exclude = forms.ModelMultipleChoiceField(
        label=_("Leave out"), queryset=Segment.objects.none(), required=False
    )
    schedule_mode = forms.ChoiceField(label=_("When"), choices=ScheduleMode.choices)
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    local_time = forms.TimeField(
        label=_("Local time"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    avoid_quiet_hours = forms.BooleanField(
        label=_("Never at night (21:00-08:00 local time)"), required=False, initial=True
    )
    avoid_holidays = forms.BooleanField(
        label=_("Skip public holidays in each contact's country"), required=False, initial=True
    )
    cap_action = forms.ChoiceField(label=_("Contacts at their cap"), choices=CapAction.choices)
    transactional = forms.BooleanField(label=_("Transactional (no caps)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = Template.objects.filter(archived=False, current__isnull=False)
        self.fields["template"].queryset = templates  # type: ignore[attr-defined]
        self.fields["audience"].queryset = Segment.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["exclude"].queryset = Segment.objects.order_by("name")  # type: ignore[attr-defined]


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class WorkspaceForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    postal_address = forms.CharField(
        label=_("Postal address (shown in every marketing email)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    from_name = forms.CharField(label=_("Default from name"), max_length=200, required=False)
    from_email = forms.CharField(label=_("Default from address"), max_length=254)
    reply_to = forms.CharField(label=_("Default reply-to"), max_length=254, required=False)
    locale = forms.ChoiceField(
        label=_("Default language"), choices=[("en", "English"), ("zh-hans", "简体中文")]
    )
    window_days = forms.TypedMultipleChoiceField(
        label=_("Best sending window: days (none: Tuesday to Thursday)"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    window_start = forms.TimeField(
        label=_("Window opens (local time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    window_end = forms.TimeField(
        label=_("Window closes (local time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )


class SmtpServerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    host = forms.CharField(label=_("Host"), max_length=253)
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=587)
    security = forms.ChoiceField(label=_("Security"), choices=SmtpSecurity.choices)
    username = forms.CharField(label=_("User name"), max_length=200, required=False)
    password = forms.CharField(
        label=_("Password"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    connections = forms.IntegerField(
        label=_("Connections per worker"), min_value=1, max_value=50, initial=4
    )
    per_domain = forms.IntegerField(
        label=_("At once per recipient domain"), min_value=1, max_value=50, initial=4
    )
    rate = forms.FloatField(
        label=_("Messages a second per worker (0: no limit)"), min_value=0, initial=0
    )


class BouncePolicyForm(forms.Form):
    soft_bounces_to_suppress = forms.IntegerField(
        label=_("Suppress after this many soft bounces"), min_value=1, max_value=100
    )
    soft_bounce_days = forms.IntegerField(label=_("within days"), min_value=1, max_value=365)
    pause_bounce_rate = forms.FloatField(
        label=_("Pause a campaign above this bounce rate (%)"), min_value=0.1, max_value=100
    )
    pause_complaint_rate = forms.FloatField(
        label=_("Pause a campaign above this complaint rate (%)"), min_value=0.01, max_value=100
    )
    minimum_sent = forms.IntegerField(
        label=_("Judge rates once this many were sent"), min_value=1, max_value=1_000_000
    )


class DomainForm(forms.Form):
    domain = forms.CharField(label=_("Domain you send from"), max_length=253)
