"""``rapport journey …`` (list, create from JSON or a recipe, enable, disable, status) and
``rapport tick [--at TIME]``, which runs whatever is due at that instant."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from rapport.cli_common import fail

journey_app = typer.Typer(
    help="Automation journeys: list, create, enable, disable, status.", no_args_is_help=True
)


def _emit(data: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        for line in lines:
            typer.echo(line)


@journey_app.command("list")
def journey_list(
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Journeys with their state, trigger and how many contacts are in them."""
    from rapport.automation.queries import journey_list_for  # noqa: PLC0415

    rows = journey_list_for(None)
    _emit(
        rows,
        as_json,
        [
            f"{r['id']:>4}  {r['state']:<8} {r['trigger']:<16} {r['active']:>7}  {r['name']}"
            for r in rows
        ],
    )


@journey_app.command("recipes")
def journey_recipes(
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """The recipes a journey can be created from."""
    from rapport.automation.recipes import recipe_list  # noqa: PLC0415

    rows = recipe_list()
    _emit(rows, as_json, [f"{r['key']:<16} {r['name']}: {r['description']}" for r in rows])


@journey_app.command("create")
def journey_create(
    file: Annotated[Path | None, typer.Argument(help="the journey as JSON")] = None,
    recipe: Annotated[str | None, typer.Option("--recipe", help="welcome, birthday, …")] = None,
    name: Annotated[str | None, typer.Option("--name", help="the journey's name")] = None,
    enable: Annotated[bool, typer.Option("--enable", help="switch it on at once")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print its status as JSON")] = False,
) -> None:
    """Create a journey from FILE.json or from --recipe; prints its id."""
    from rapport.automation.queries import journey_status  # noqa: PLC0415
    from rapport.automation.services import (  # noqa: PLC0415
        create_from_recipe,
        enable_journey,
        save_journey,
    )
    from rapport.errors import RapportError  # noqa: PLC0415

    if (file is None) == (recipe is None):
        fail("give a JSON file or --recipe (one of the two)")
    try:
        if recipe is not None:
            journey = create_from_recipe(recipe, name=name or "", acting_user=None)
        else:
            assert file is not None
            try:
                definition = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                fail(f"cannot read {file}: {error}")
            journey = save_journey(definition, name=name or "", acting_user=None)
        if enable:
            journey = enable_journey(journey.pk, acting_user=None)
    except RapportError as error:
        fail(error.message)
    _emit(journey_status(journey), as_json, [str(journey.pk)])


def _switch(ref: str, on: bool, as_json: bool) -> None:
    from rapport.automation.queries import journey_status  # noqa: PLC0415
    from rapport.automation.services import disable_journey, enable_journey  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        journey = (enable_journey if on else disable_journey)(ref, acting_user=None)
    except RapportError as error:
        fail(error.message)
    _emit(journey_status(journey), as_json, [f"{journey.name}: {journey.state}"])


@journey_app.command("enable")
def journey_enable(
    journey: Annotated[str, typer.Argument(help="journey id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print its status as JSON")] = False,
) -> None:
    """Switch a journey on: its trigger starts watching from now."""
    _switch(journey, True, as_json)


@journey_app.command("disable")
def journey_disable(
    journey: Annotated[str, typer.Argument(help="journey id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print its status as JSON")] = False,
) -> None:
    """Switch a journey off: contacts stay where they are, its queued emails wait."""
    _switch(journey, False, as_json)


@journey_app.command("status")
def journey_status_command(
    journey: Annotated[str, typer.Argument(help="journey id or name")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Contacts at each step, emails sent, conversions and revenue."""
    from rapport.automation.queries import journey_status  # noqa: PLC0415
    from rapport.automation.services import get_journey_for  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        status = journey_status(get_journey_for(None, journey))
    except RapportError as error:
        fail(error.message)
    lines = [
        f"{status['name']} ({status['state']}, trigger {status['trigger']}, {status['reentry']})",
        "entries: " + ", ".join(f"{k} {v}" for k, v in status["entries"].items()),
    ]
    lines += [
        f"{'  ' * s['depth']}{s['id']:<5} {s['type']:<9} {s['summary']:<40} "
        f"waiting {s['waiting']:>6}  done {s['done']:>7}"
        + (f"  sent {s['sent']}" if s["type"] == "email" else "")
        for s in status["steps"]
    ]
    lines.append(
        f"emails sent {status['emails_sent']}, conversions {status['conversions']}, "
        f"revenue {status['revenue']}"
    )
    _emit(status, as_json, lines)


def parse_instant(text: str) -> dt.datetime:
    """ISO 8601 with an offset (``2027-02-10T10:00:00+08:00``, or ``Z``); a time without one is
    refused, since it would mean a different instant on every machine."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time like 2027-02-10T10:00:00+08:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; add one, e.g. +08:00 or Z")
    return moment


def tick_command(
    at: Annotated[
        str | None, typer.Option("--at", help="the instant, ISO 8601 with offset (default: now)")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="also send the journey emails due then, in this process")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print what ran as JSON")] = False,
) -> None:
    """Run whatever is due at that instant: journey triggers and steps, then the campaigns'
    due sends are queued (or, with --wait, sent here with the same clock)."""
    from django.utils import timezone  # noqa: PLC0415

    from rapport.automation.engine import tick  # noqa: PLC0415
    from rapport.automation.sending import send_journey_emails  # noqa: PLC0415
    from rapport.campaigns.services import dispatch_due  # noqa: PLC0415

    try:
        now = parse_instant(at) if at else timezone.now()
    except ValueError as error:
        fail(str(error))
    report = tick(now)
    data = report.as_dict()
    if wait:
        data["sent"] = send_journey_emails(now)
    else:
        data["campaigns_queued"] = dispatch_due(now)
    _emit(
        data,
        as_json,
        [
            f"at {data['at']}: {sum(report.entered.values())} entered, {report.entries} entries "
            f"moved, {report.steps} steps run"
        ],
    )
