"""The analytics app's facade: access-checked reads for views, the API and other apps, the
one write it makes (the workspace's send window from the audience's opening hours), and the
scheduler's job."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from rapport.accounts.access import require
from rapport.accounts.models import User
from rapport.accounts.roles import Perm
from rapport.accounts.services import record_audit
from rapport.analytics.absorb import absorb_events
from rapport.analytics.dashboard import WindowSuggestion, suggest_window
from rapport.analytics.reports import Report, build_report
from rapport.analytics.snapshot import refresh_live_snapshots
from rapport.automation.models import Journey, JourneyEmail
from rapport.automation.services import get_journey_for
from rapport.campaigns.models import Campaign
from rapport.campaigns.services import get_campaign_for
from rapport.content.models import Workspace
from rapport.errors import Conflict


def get_report_for(user: User | None, campaign_ref: int | str) -> tuple[Campaign, Report]:
    """A campaign's report, for a user who may read reports."""
    if user is not None:
        require(user, Perm.VIEW_REPORTS)
    campaign = get_campaign_for(user, campaign_ref)
    return campaign, build_report([campaign.pk])


def get_journey_report_for(user: User | None, journey_ref: int | str) -> tuple[Journey, Report]:
    """An automation's report: its email steps' campaigns together (contract item 3), with a
    row per email, and no comparison with broadcasts (a welcome series is not a newsletter)."""
    if user is not None:
        require(user, Perm.VIEW_REPORTS)
    journey = get_journey_for(user, journey_ref)
    campaign_ids = list(
        JourneyEmail.objects.filter(journey=journey)
        .order_by("pk")
        .values_list("campaign_id", flat=True)
    )
    return journey, build_report(campaign_ids, compare=False)


@transaction.atomic
def use_suggested_window(*, acting_user: User, now: dt.datetime | None = None) -> Workspace:
    """Make the heatmap's best window the workspace's default sending window."""
    require(acting_user, Perm.MANAGE_SENDING)
    suggestion: WindowSuggestion | None = suggest_window(now=now)
    if suggestion is None:
        raise Conflict("There are not enough opens yet to suggest a sending window.")
    workspace = Workspace.current()
    workspace.window_days = list(suggestion.days)
    workspace.window_start, workspace.window_end = suggestion.start, suggestion.end
    workspace.save(update_fields=["window_days", "window_start", "window_end", "updated_at"])
    record_audit(
        acting_user,
        "workspace.window_from_opens",
        target_type="workspace",
        target_id=workspace.pk,
        detail={
            "days": list(suggestion.days),
            "start": suggestion.start.isoformat(),
            "end": suggestion.end.isoformat(),
            "openers": suggestion.openers,
        },
    )
    return workspace


def refresh_analytics(now: dt.datetime) -> None:
    """The scheduler's job: take in new events, retake the snapshots of live campaigns."""
    absorb_events(now=now)
    refresh_live_snapshots(now)
