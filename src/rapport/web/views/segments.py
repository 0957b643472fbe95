"""Segment pages: the list with lazy counts, the builder with its live preview, static lists."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from rapport.accounts.access import require
from rapport.accounts.roles import Perm
from rapport.errors import Conflict, InvalidInput, NotFound
from rapport.segments import queries, services
from rapport.segments.models import Segment, SegmentKind
from rapport.segments.rules import RuleError
from rapport.web import segment_builder
from rapport.web.decorators import acting_user, page
from rapport.web.forms import MembersForm, SegmentForm
from rapport.web.segment_fields import Catalogue
from rapport.web.segments import RuleInput, list_members, load_preview, read_rule_input


@page
def segment_index(request: HttpRequest) -> HttpResponse:
    segments = queries.segment_list_for(acting_user(request))
    return render(request, "web/segments/list.html", {"segments": segments})


@page
def segment_count(request: HttpRequest, segment_id: int) -> HttpResponse:
    """One segment's live count, loaded by the list page after it has drawn."""
    segment = services.get_segment_for(acting_user(request), segment_id)
    return render(request, "web/segments/count.html", {"count": queries.count_segment(segment)})


@page
def segment_new(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Perm.VIEW_CONTACTS)
    kind = SegmentKind.STATIC if request.GET.get("kind") == "static" else SegmentKind.RULES
    initial: dict[str, Any] = {}
    rules: Any = None
    if "copy" in request.GET:
        original = services.get_segment_for(user, request.GET["copy"])
        initial = {"name": _("Copy of %(name)s") % {"name": original.name}}
        initial["description"] = original.description
        rules = original.rules
    return _editor(request, None, kind, rules, initial)


@page
def segment_page(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = services.get_segment_for(acting_user(request), segment_id)
    if segment.kind == SegmentKind.STATIC and request.method != "POST":
        return _static_page(request, segment, MembersForm())
    initial = {"name": segment.name, "description": segment.description}
    return _editor(request, segment, segment.kind, segment.rules, initial)


def _editor(
    request: HttpRequest,
    segment: Segment | None,
    kind: str,
    rules: Any,
    initial: dict[str, Any],
) -> HttpResponse:
    """The builder page; a POST saves through ``services.save_segment``."""
    catalogue = Catalogue()
    form = SegmentForm(request.POST or None, initial=initial)
    flagged = None
    if request.method == "POST":
        rule_input = read_rule_input(request.POST, catalogue)
        if form.is_valid():
            try:
                saved = services.save_segment(
                    name=form.cleaned_data["name"],
                    kind=kind,
                    rules=rule_input.rules if kind == SegmentKind.RULES else None,
                    description=form.cleaned_data["description"],
                    segment_id=segment.pk if segment else None,
                    acting_user=acting_user(request),
                )
            except (InvalidInput, Conflict) as error:
                if isinstance(error, RuleError) and rule_input.built:
                    flagged = rule_input.built.place_of(error.path)
                form.add_error(None, _incomplete_message(rule_input) or error.message)
            else:
                messages.success(request, _("Segment %(name)s saved.") % {"name": saved.name})
                return redirect("segment", saved.pk)
        flagged = flagged or rule_input.incomplete
    else:
        builder = segment_builder.from_rules(rules, catalogue)
        text = json.dumps(rules, indent=2, ensure_ascii=False) if builder is None else ""
        rule_input = RuleInput("json" if builder is None else "builder", builder, None, rules, text)
    read_only = bool(segment and segment.builtin)
    return render(
        request,
        "web/segments/editor.html",
        {
            "segment": segment,
            "kind": kind,
            "form": form,
            "read_only": read_only,
            "rules_json": json.dumps(rules, ensure_ascii=False) if read_only else "",
            **_builder_context(rule_input, catalogue, flagged),
        },
    )


def _incomplete_message(rule_input: RuleInput) -> str:
    if rule_input.incomplete is None:
        return ""
    place = segment_builder.describe_place(rule_input.incomplete)
    return _("%(place)s needs a value.") % {"place": place}


def _builder_context(
    rule_input: RuleInput, catalogue: Catalogue, flagged: tuple[int, int] | None = None
) -> dict[str, Any]:
    builder = rule_input.builder
    return {
        "mode": rule_input.mode,
        "json_text": rule_input.json_text,
        "groups": segment_builder.view(builder, catalogue, flagged) if builder else [],
        "field_groups": catalogue.groups(),
    }


@page
@require_POST
def segment_builder_part(request: HttpRequest) -> HttpResponse:
    """The builder redrawn after a field, operator, row or group changed."""
    require(acting_user(request), Perm.VIEW_CONTACTS)
    catalogue = Catalogue()
    builder = segment_builder.from_form(request.POST, catalogue)
    segment_builder.apply_action(builder, request.POST.get("action", ""))
    rule_input = RuleInput("builder", builder, None, None)
    context = _builder_context(rule_input, catalogue)
    return render(request, "web/segments/builder.html", context)


@page
@require_POST
def segment_preview(request: HttpRequest) -> HttpResponse:
    """Count, sample, overlaps and advice for the rule the form holds now."""
    require(acting_user(request), Perm.VIEW_CONTACTS)
    rule_input = read_rule_input(request.POST, Catalogue())
    segment_id = request.POST.get("segment_id", "")
    exclude_id = int(segment_id) if segment_id.isdigit() else None
    preview = load_preview(rule_input, exclude_id=exclude_id)
    return render(request, "web/segments/preview.html", {"preview": preview})


def _static_page(request: HttpRequest, segment: Segment, members_form: MembersForm) -> HttpResponse:
    after = request.GET.get("after", "")
    members = list_members(segment, after=int(after) if after.isdigit() else None)
    context = {"segment": segment, "members": members, "members_form": members_form}
    return render(request, "web/segments/static.html", context)


@page
@require_POST
def segment_members(request: HttpRequest, segment_id: int) -> HttpResponse:
    """Add pasted emails to a static list, or remove one member."""
    user = acting_user(request)
    segment = services.get_segment_for(user, segment_id)
    remove = request.POST.get("remove", "")
    if remove.isdigit():
        services.remove_members(segment.pk, contact_ids=[int(remove)], acting_user=user)
        messages.success(request, _("Removed from the list."))
        return redirect("segment", segment.pk)
    form = MembersForm(request.POST)
    if form.is_valid():
        emails = form.cleaned_data["emails"]
        try:
            added = services.add_members(segment.pk, emails=emails, source="web", acting_user=user)
        except (InvalidInput, NotFound) as error:
            form.add_error("emails", error.message)
        else:
            text = ngettext(
                "%(count)s contact added to the list.",
                "%(count)s contacts added to the list.",
                added,
            )
            messages.success(request, text % {"count": added})
            return redirect("segment", segment.pk)
    return _static_page(request, segment, form)


@page
@require_POST
def segment_delete(request: HttpRequest, segment_id: int) -> HttpResponse:
    user = acting_user(request)
    segment = services.get_segment_for(user, segment_id)
    try:
        services.delete_segment(segment.pk, acting_user=user)
    except Conflict as error:
        messages.error(request, error.message)
        return redirect("segment", segment.pk)
    messages.success(request, _("Segment %(name)s deleted.") % {"name": segment.name})
    return redirect("segments")
