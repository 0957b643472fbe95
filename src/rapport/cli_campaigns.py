"""``rapport campaign …``: create a campaign, send it (or be the worker that sends it with
``--wait``), pause, resume, cancel, and print its status."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from rapport.cli_common import fail

campaign_app = typer.Typer(help="Campaigns: create, send, pause, resume, cancel, status.",
                           no_args_is_help=True)  # fmt: skip


@campaign_app.command("create")
def campaign_create(
    audience: Annotated[list[str], typer.Option("--audience", help="segment or list, id or name")],
    template: Annotated[str, typer.Option("--template", help="template id or name")],
    name: Annotated[str | None, typer.Option("--name", help="default: template and date")] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="segment or list to leave out")
    ] = None,
) -> None:
    """Create a draft campaign and print its id."""
    from django.utils import timezone  # noqa: PLC0415

    from rapport.campaigns.services import create_campaign  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    label = name or f"{template} {timezone.now():%Y-%m-%d %H:%M}"
    try:
        campaign = create_campaign(
            name=label, template=template, audience=audience, exclude=exclude or [],
            acting_user=None,
        )  # fmt: skip
    except RapportError as error:
        fail(error.message)
    typer.echo(campaign.pk)


@campaign_app.command("send")
def campaign_send(
    campaign: Annotated[str, typer.Argument(help="campaign id or name")],
    wait: Annotated[bool, typer.Option("--wait", help="send here and return when done")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """Start sending (a worker does it), or with --wait do the sending in this process."""
    from rapport.campaigns.models import CampaignState  # noqa: PLC0415
    from rapport.campaigns.services import get_campaign_for, start_campaign  # noqa: PLC0415
    from rapport.delivery.pipeline import CampaignSender, default_pool  # noqa: PLC0415
    from rapport.delivery.tasks import send_campaign  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        found = get_campaign_for(None, campaign)
        if found.state in (CampaignState.DRAFT,):
            found = start_campaign(found.pk, acting_user=None)
        found = get_campaign_for(None, found.pk)
    except RapportError as error:
        fail(error.message)
    if wait:
        with default_pool() as pool:
            report = CampaignSender(found, pool).run()
        # On stderr, so that --json stays the status alone: what this process did.
        typer.echo(
            f"this process: {report.sent} sent, {report.failed} failed, "
            f"{report.deferred} deferred ({report.stopped_because})",
            err=True,
        )
    elif found.state == CampaignState.SENDING:
        send_campaign.enqueue(found.pk)
    _print_status(found.pk, as_json)


@campaign_app.command("resend-unknown")
def campaign_resend_unknown(
    campaign: Annotated[str, typer.Argument(help="campaign id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """Send again to recipients left unknown by a crash (some may get a second copy)."""
    from rapport.campaigns import services  # noqa: PLC0415
    from rapport.delivery.tasks import send_campaign  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        found = services.get_campaign_for(None, campaign)
        count = services.resend_unknown(found.pk, acting_user=None)
    except RapportError as error:
        fail(error.message)
    typer.echo(f"{count} queued again", err=True)
    if count:
        send_campaign.enqueue(found.pk)
    _print_status(found.pk, as_json)


def _move(action: str, campaign: str, as_json: bool) -> None:
    from rapport.campaigns import services  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    moves = {
        "pause": services.pause_campaign,
        "resume": services.resume_campaign,
        "cancel": services.cancel_campaign,
    }
    try:
        found = services.get_campaign_for(None, campaign)
        moves[action](found.pk, acting_user=None)
    except RapportError as error:
        fail(error.message)
    if action == "resume":
        from rapport.delivery.tasks import send_campaign  # noqa: PLC0415

        send_campaign.enqueue(found.pk)
    _print_status(found.pk, as_json)


@campaign_app.command("pause")
def campaign_pause(
    campaign: Annotated[str, typer.Argument(help="campaign id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """Stop handing messages over; nothing queued is lost."""
    _move("pause", campaign, as_json)


@campaign_app.command("resume")
def campaign_resume(
    campaign: Annotated[str, typer.Argument(help="campaign id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """Carry on from where the campaign was paused."""
    _move("resume", campaign, as_json)


@campaign_app.command("cancel")
def campaign_cancel(
    campaign: Annotated[str, typer.Argument(help="campaign id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """Stop for good; what was not handed over yet is skipped."""
    _move("cancel", campaign, as_json)


@campaign_app.command("status")
def campaign_status_command(
    campaign: Annotated[str, typer.Argument(help="campaign id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """State and counts: audience, sent, failed, deferred, unknown, skipped, capped."""
    from rapport.campaigns.services import get_campaign_for  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        found = get_campaign_for(None, campaign)
    except RapportError as error:
        fail(error.message)
    _print_status(found.pk, as_json)


def _print_status(campaign_id: int, as_json: bool) -> None:
    from rapport.campaigns.services import campaign_status, get_campaign_for  # noqa: PLC0415

    status = campaign_status(get_campaign_for(None, campaign_id))
    if as_json:
        typer.echo(json.dumps(status))
        return
    typer.echo("  ".join(f"{key}: {value}" for key, value in status.items()))
