"""Forms of the A/B test panel on a campaign's page and of the frequency tests' page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.campaigns.experiments import LABELS, VariantSpec
from rapport.campaigns.frequency import GroupCap
from rapport.campaigns.models import ABTest, Metric
from rapport.content.models import Template
from rapport.segments.models import Segment

CONFIDENCE_LEVELS = [("0.9", "90 %"), ("0.95", "95 %"), ("0.99", "99 %")]
VARIANT_FIELDS = ("subject", "preheader", "template", "from_name", "local_time")


class ABTestForm(forms.Form):
    variant_count = forms.TypedChoiceField(
        label=_("Variants"), choices=[(n, str(n)) for n in (2, 3, 4)], coerce=int, initial=2
    )
    test_share = forms.IntegerField(
        label=_("Test share (%)"), min_value=2, max_value=100, initial=20,
        help_text=_("Split evenly between the variants; the rest gets the winner."),
    )  # fmt: skip
    metric = forms.ChoiceField(label=_("Winning metric"), choices=Metric.choices,
                               initial=Metric.CLICK)  # fmt: skip
    confidence = forms.TypedChoiceField(label=_("Confidence level"), choices=CONFIDENCE_LEVELS,
                                        coerce=float, initial="0.95")  # fmt: skip
    wait_hours = forms.IntegerField(
        label=_("Hours before the winner is chosen"), min_value=1, max_value=720, initial=4
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        templates = Template.objects.filter(archived=False, current__isnull=False)
        for label in LABELS:
            self.fields[f"subject_{label}"] = forms.CharField(
                label=_("Subject"), required=False, max_length=500
            )
            self.fields[f"preheader_{label}"] = forms.CharField(
                label=_("Preheader"), required=False, max_length=500
            )
            self.fields[f"template_{label}"] = forms.ModelChoiceField(
                label=_("Content"),
                queryset=templates,
                required=False,
                empty_label=_("the campaign's template"),
            )
            self.fields[f"from_name_{label}"] = forms.CharField(
                label=_("From name"), required=False, max_length=200
            )
            self.fields[f"local_time_{label}"] = forms.TimeField(
                label=_("Send at local time"),
                required=False,
                widget=forms.TimeInput(attrs={"type": "time"}),
            )

    @classmethod
    def for_test(cls, test: ABTest | None) -> ABTestForm:
        """Filled in with a test already set up."""
        if test is None:
            return cls()
        initial: dict[str, Any] = {
            "variant_count": test.variants.count(), "test_share": test.test_share,
            "metric": test.metric, "confidence": str(test.confidence),
            "wait_hours": test.wait_hours,
        }  # fmt: skip
        for variant in test.variants.all():
            for name in VARIANT_FIELDS:
                key = "template_id" if name == "template" else name
                initial[f"{name}_{variant.label}"] = getattr(variant, key)
        return cls(initial=initial)

    def variant_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(label, [self[f"{name}_{label}"] for name in VARIANT_FIELDS])
                for label in LABELS]  # fmt: skip

    def variants(self) -> list[VariantSpec]:
        data = self.cleaned_data
        return [
            VariantSpec(
                subject=data[f"subject_{label}"],
                preheader=data[f"preheader_{label}"],
                template=data[f"template_{label}"].pk if data[f"template_{label}"] else None,
                from_name=data[f"from_name_{label}"],
                local_time=data[f"local_time_{label}"],
            )
            for label in LABELS[: data["variant_count"]]
        ]


class FrequencyTestForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    segment = forms.ModelChoiceField(label=_("Contacts"), queryset=Segment.objects.none())
    caps = forms.CharField(
        label=_("Caps, group A first"), initial="1/7, 2/7",
        help_text=_("Emails/days for each group, separated by commas: 1/7, 3/7 is one email "
                    "a week against three."),
    )  # fmt: skip
    weeks = forms.IntegerField(label=_("Weeks"), min_value=1, max_value=26, initial=6)
    share = forms.IntegerField(label=_("Share of the segment (%)"), min_value=2, max_value=100,
                               initial=100)  # fmt: skip
    confidence = forms.TypedChoiceField(label=_("Confidence level"), choices=CONFIDENCE_LEVELS,
                                        coerce=float, initial="0.95")  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.order_by("name")  # type: ignore[attr-defined]

    def clean_caps(self) -> list[GroupCap]:
        caps = []
        for part in str(self.cleaned_data["caps"]).split(","):
            cap = GroupCap.parse(part)
            if cap is None:
                raise forms.ValidationError(
                    _("%(part)s is not a cap: write emails/days, such as 2/7.")
                    % {"part": part.strip() or "''"}
                )
            caps.append(cap)
        return caps
