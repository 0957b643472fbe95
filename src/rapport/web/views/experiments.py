"""The A/B test panel of a campaign's page (set up while a draft, its numbers after) and the
frequency tests' pages. Numbers are formatted here so the templates only show them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts.access import can, require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.campaigns import experiments, frequency, stats
from rapport.campaigns.models import ABTest, ABTestState, Campaign, CampaignState, FrequencyTest
from rapport.campaigns.services import get_campaign_for
from rapport.errors import Conflict, InvalidInput
from rapport.web.decorators import acting_user, page
from rapport.web.experiment_forms import ABTestForm, FrequencyTestForm


def _note(note: str) -> str:
    """The statistics' notes (English, from ``stats``) in the reader's language."""
    notes = {
        "no recipients yet": _("no recipients yet"),
        f"fewer than {stats.MIN_NONZERO} buyers in an arm": _(
            "fewer than %(count)s buyers in a variant: too few to judge revenue"
        )
        % {"count": stats.MIN_NONZERO},
    }
    return notes.get(note, note)


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _signed(value: float | None, show: Any) -> str:
    if value is None:
        return "–"
    text = show(value)
    return text if text.startswith("-") else f"+{text}"


def ab_panel(campaign: Campaign, user: User, form: ABTestForm | None = None) -> dict[str, Any]:
    """What the campaign page shows of its A/B test."""
    test = ABTest.objects.filter(campaign=campaign).prefetch_related("variants").first()
    editable = campaign.state == CampaignState.DRAFT and can(user, Perm.EDIT_CONTENT)
    panel: dict[str, Any] = {"test": test, "editable": editable}
    if editable:
        panel["form"] = form or ABTestForm.for_test(test)
    if test is None or test.state == ABTestState.DRAFT:
        return panel
    result = experiments.result_of(test)
    show = _money if test.metric == "revenue" else _rate
    by_label = {c["label"]: c for c in result.get("comparisons", [])}
    panel["rows"] = [
        {
            "label": row["label"], "recipients": row["recipients"],
            "successes": row["successes"], "value": show(row["value"]),
            "interval": f"{show(row['low'])} – {show(row['high'])}",
            "difference": _signed(by_label[row["label"]]["difference"], show)
            if row["label"] in by_label else "",
            "difference_interval": (
                f"{_signed(by_label[row['label']]['low'], show)} – "
                f"{_signed(by_label[row['label']]['high'], show)}"
            ) if row["label"] in by_label else "",
            "p_value": f"{by_label[row['label']]['p_value']:.3g}" if row["label"] in by_label
            else "",
            "significant": by_label.get(row["label"], {}).get("significant", False),
            "note": _note(by_label.get(row["label"], {}).get("note", "")),
        }
        for row in result.get("variants", [])
    ]  # fmt: skip
    panel["alpha"] = f"{result.get('alpha_per_comparison', 1 - test.confidence):.3g}"
    panel["outcome"] = experiments.outcome_text(test)
    return panel


@page
@require_POST
def campaign_ab_test(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Save (or remove) the A/B test of a draft campaign."""
    user = acting_user(request)
    campaign = get_campaign_for(user, campaign_id)
    require(user, Perm.EDIT_CONTENT)
    try:
        if request.POST.get("remove"):
            experiments.remove_test(campaign.pk, acting_user=user)
            messages.success(request, _("The A/B test was removed."))
            return redirect("campaign", campaign.pk)
        form = ABTestForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            experiments.set_up_test(
                campaign.pk, variants=form.variants(), test_share=data["test_share"],
                metric=data["metric"], confidence=data["confidence"],
                wait_hours=data["wait_hours"], acting_user=user,
            )  # fmt: skip
            messages.success(request, _("The A/B test is set up."))
            return redirect("campaign", campaign.pk)
    except (InvalidInput, Conflict) as error:
        form = ABTestForm(request.POST)
        form.is_valid()
        form.add_error(None, error.message)
    from rapport.web.views.campaigns import detail_context  # noqa: PLC0415 - a sibling page

    context = detail_context(campaign, user)
    context["ab"] = ab_panel(campaign, user, form)
    return render(request, "web/campaigns/detail.html", context, status=400)


@page
def frequency_index(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Perm.VIEW_CONTACTS)
    form = FrequencyTestForm(request.POST or None)
    if request.method == "POST":
        require(user, Perm.EDIT_CONTENT)
        if form.is_valid():
            data = form.cleaned_data
            try:
                test = frequency.start_frequency_test(
                    name=data["name"], segment=data["segment"].pk, caps=data["caps"],
                    weeks=data["weeks"], share=data["share"], confidence=data["confidence"],
                    acting_user=user,
                )  # fmt: skip
            except (InvalidInput, Conflict) as error:
                form.add_error(None, error.message)
            else:
                return redirect("frequency_test", test.pk)
    tests = FrequencyTest.objects.select_related("segment")[:200]
    return render(request, "web/campaigns/frequency_list.html", {"tests": tests, "form": form})


def _difference(compared: dict[str, Any] | None, metric: str, show: Any) -> str:
    """ "+1.20 (+0.40 – +2.00), p = 0.003" for one metric of a group against A."""
    if compared is None:
        return ""
    return (
        f"{_signed(compared[f'{metric}_difference'], show)} "
        f"({_signed(compared[f'{metric}_low'], show)} – {_signed(compared[f'{metric}_high'], show)}"
        f"), p = {compared[f'{metric}_p']:.3g}"
    )


@page
def frequency_page(request: HttpRequest, test_id: int) -> HttpResponse:
    test = frequency.get_frequency_test_for(acting_user(request), test_id)
    result = frequency.result_of(test)
    by_label = {c["label"]: c for c in result["comparisons"]}
    rows = []
    for group in result["groups"]:
        compared = by_label.get(group["label"])
        rows.append({
            **group,
            "emails": f"{group['emails_per_contact']:.2f}",
            "revenue": _money(group["revenue_per_contact"]),
            "unsubscribed": _rate(group["unsubscribe_rate"]),
            "revenue_difference": _difference(compared, "revenue", _money),
            "revenue_significant": bool(compared and compared["revenue_significant"]),
            "unsubscribe_difference": _difference(compared, "unsubscribe", _rate),
            "unsubscribe_significant": bool(compared and compared["unsubscribe_significant"]),
        })  # fmt: skip
    recommended = next(g for g in result["groups"] if g["label"] == result["recommended"])
    return render(request, "web/campaigns/frequency_detail.html", {
        "test": test, "result": result, "rows": rows, "recommended": recommended,
    })  # fmt: skip


@page
@require_POST
def frequency_cancel(request: HttpRequest, test_id: int) -> HttpResponse:
    user = acting_user(request)
    try:
        frequency.cancel_frequency_test(test_id, acting_user=user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The frequency test was stopped."))
    return redirect("frequency_test", test_id)
