"""``rapport campaign …``: create a campaign, send it (or be the worker that sends it with
``--wait``), pause, resume, cancel, and print its status; set up and read its A/B test, learn
send hours, and run frequency tests (``rapport campaign frequency-test …``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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


# -- experiments -----------------------------------------------------------------------------


@campaign_app.command("ab-test")
def campaign_ab_test(
    campaign: Annotated[str, typer.Argument(help="campaign id or name (a draft)")],
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            help='JSON as the API takes: {"variants": [{}, {"subject": …}], '
            '"test_share": 20, "metric": "click", "confidence": 0.95, "wait_hours": 4}',
        ),
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="remove the draft's test")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the test as JSON")] = False,
) -> None:
    """Set up (or with --remove drop) the A/B test of a draft campaign; without --spec, show
    the test and its numbers: each variant's value with its interval, each challenger's
    difference from A with its interval and p-value, and the decision."""
    from pydantic import ValidationError  # noqa: PLC0415

    from rapport.api.experiments import ABTestIn, set_up_from  # noqa: PLC0415 - the API's own
    from rapport.campaigns import experiments  # noqa: PLC0415
    from rapport.campaigns.models import ABTest  # noqa: PLC0415
    from rapport.campaigns.services import get_campaign_for  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        found = get_campaign_for(None, campaign)
        if remove:
            experiments.remove_test(found.pk, acting_user=None)
            typer.echo("removed", err=True)
            return
        if spec is not None:
            try:
                payload = ABTestIn.model_validate_json(spec.read_text(encoding="utf-8"))
            except (OSError, ValidationError) as error:
                fail(f"cannot use {spec}: {error}")
            set_up_from(found.pk, payload, None)
        test = ABTest.objects.filter(campaign=found).first()
        if test is None:
            fail(f"The campaign {found.name!r} has no A/B test (set one up with --spec).")
    except RapportError as error:
        fail(error.message)
    _print_ab_test(test, as_json)


def _print_ab_test(test: Any, as_json: bool) -> None:
    from rapport.api.experiments import ABTestOut, _ab_out  # noqa: PLC0415
    from rapport.campaigns.experiments import outcome_text  # noqa: PLC0415

    shown = ABTestOut.model_validate(_ab_out(test)).model_dump(mode="json")
    if as_json:
        typer.echo(json.dumps(shown))
        return
    typer.echo(f"A/B test: {shown['state']}, {shown['test_share']} % of the audience, "
               f"metric {shown['metric']}, confidence {shown['confidence']}, "
               f"decided {shown['decide_at'] or 'when started'}")  # fmt: skip
    result = shown["result"]
    for row in result.get("variants", []):
        typer.echo(f"  {row['label']}: {row['value']:.4f} [{row['low']:.4f}, {row['high']:.4f}] "
                   f"({row['successes']} of {row['recipients']})")  # fmt: skip
    for row in result.get("comparisons", []):
        low, high = row["low"], row["high"]
        interval = f"[{low:+.4f}, {high:+.4f}]" if low is not None and high is not None else ""
        typer.echo(f"  {row['label']} - A: {row['difference']:+.4f} {interval} "
                   f"p={row['p_value']:.4g}{' significant' if row['significant'] else ''}"
                   f"{' (' + row['note'] + ')' if row['note'] else ''}")  # fmt: skip
    if outcome := outcome_text(test):
        typer.echo(outcome)


@campaign_app.command("learn-hours")
def campaign_learn_hours(
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Learn each contact's best send hour from their opens and clicks now (the scheduler does
    it daily); campaigns use it with the "best_hour" schedule."""
    from django.utils import timezone  # noqa: PLC0415

    from rapport.campaigns.send_times import learn  # noqa: PLC0415

    report = learn(timezone.now())
    shown = {"contacts": report.contacts, "removed": report.removed, "ms": report.ms}
    typer.echo(json.dumps(shown) if as_json else
               f"{report.contacts} contacts with a best hour ({report.removed} removed, "
               f"{report.ms} ms)")  # fmt: skip


frequency_app = typer.Typer(
    help="Frequency tests: random groups held at different caps, compared on revenue and "
    "unsubscribes per contact.",
    no_args_is_help=True,
)
campaign_app.add_typer(frequency_app, name="frequency-test")


@frequency_app.command("start")
def frequency_start(  # noqa: PLR0917 - Typer reads options from the parameters
    segment: Annotated[str, typer.Option("--segment", help="segment or list, id or name")],
    caps: Annotated[list[str], typer.Option("--cap", help="MESSAGES/DAYS, group A first")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    weeks: Annotated[int, typer.Option("--weeks")] = 6,
    share: Annotated[int, typer.Option("--share", help="percent of the segment")] = 100,
    confidence: Annotated[float, typer.Option("--confidence")] = 0.95,
    as_json: Annotated[bool, typer.Option("--json", help="print the test as JSON")] = False,
) -> None:
    """Start a frequency test; prints its id (or the test as JSON)."""
    from django.utils import timezone  # noqa: PLC0415

    from rapport.campaigns import frequency  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    parsed = []
    for cap in caps:
        group_cap = frequency.GroupCap.parse(cap)
        if group_cap is None:
            fail(f"--cap {cap!r}: write MESSAGES/DAYS, e.g. 2/7 for two emails a week.")
        parsed.append(group_cap)
    try:
        test = frequency.start_frequency_test(
            name=name or f"{segment} {timezone.now():%Y-%m-%d %H:%M}", segment=segment,
            caps=parsed, weeks=weeks, share=share, confidence=confidence, acting_user=None,
        )  # fmt: skip
    except RapportError as error:
        fail(error.message)
    if as_json:
        _print_frequency(test.pk, True)
    else:
        typer.echo(test.pk)


@frequency_app.command("result")
def frequency_result(
    test: Annotated[str, typer.Argument(help="frequency test id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Per group: contacts, emails, revenue and unsubscribes per contact; the recommended cap."""
    _print_frequency(test, as_json)


@frequency_app.command("cancel")
def frequency_cancel(
    test: Annotated[str, typer.Argument(help="frequency test id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Stop holding the groups at their caps; the result so far is kept."""
    from rapport.campaigns import frequency  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        found = frequency.get_frequency_test_for(None, test)
        frequency.cancel_frequency_test(found.pk, acting_user=None)
    except RapportError as error:
        fail(error.message)
    _print_frequency(found.pk, as_json)


def _print_frequency(test: int | str, as_json: bool) -> None:
    from rapport.campaigns import frequency  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        found = frequency.get_frequency_test_for(None, test)
    except RapportError as error:
        fail(error.message)
    result = frequency.result_of(found)
    if as_json:
        typer.echo(json.dumps({"id": found.pk, "name": found.name, "state": found.state,
                               "result": result}))  # fmt: skip
        return
    typer.echo(f"{found.name}: {found.state}, {result['from'][:10]} to {result['until'][:10]}")
    for row in result["groups"]:
        typer.echo(
            f"  {row['label']} (cap {row['cap']}): {row['contacts']} contacts, "
            f"{row['emails_per_contact']:.2f} emails, {row['revenue_per_contact']:.2f} "
            f"revenue and {row['unsubscribe_rate']:.2%} unsubscribed per contact"
        )
    typer.echo(f"recommended: group {result['recommended']} ({result['verdict']})")
