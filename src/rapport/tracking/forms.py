"""The tracking section of Settings → Sending."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.tracking.models import LONGEST_WINDOW_HOURS


class TrackingSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Track opens and clicks"), required=False)
    click_window_hours = forms.IntegerField(
        label=_("Credit an order to the last click within (hours)"),
        min_value=1,
        max_value=LONGEST_WINDOW_HOURS,
    )
    attribute_opens = forms.BooleanField(
        label=_("When no click led to an order, credit the last open"), required=False
    )
    open_window_hours = forms.IntegerField(
        label=_("Credit an order to the last open within (hours)"),
        min_value=1,
        max_value=LONGEST_WINDOW_HOURS,
    )
