"""``rapport bounces fetch``: read the bounce mailbox now (the scheduler does it every five
minutes), and ``rapport bounces classify FILE`` to see what Rapport makes of one message."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer

from rapport.cli_common import fail

bounces_app = typer.Typer(help="Bounce and complaint reports.", no_args_is_help=True)


@bounces_app.command("fetch")
def bounces_fetch(
    url: Annotated[
        str, typer.Option(help="imap://user:pass@host:port/FOLDER; default RAPPORT_BOUNCE_IMAP_URL")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Read new messages in the bounce mailbox: suppress, count, pause, file them."""
    from django.conf import settings  # noqa: PLC0415

    from rapport.delivery.mailbox import MailboxSettings, read_bounces  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415
    from rapport.settings.env import ConfigError, imap_mailbox  # noqa: PLC0415

    try:
        mailbox = imap_mailbox(url) if url else settings.BOUNCE_MAILBOX
    except ConfigError as error:
        fail(str(error))
        return
    if not mailbox:
        fail("no bounce mailbox: set RAPPORT_BOUNCE_IMAP_URL or pass --url")
        return
    try:
        report = read_bounces(MailboxSettings(**mailbox))
    except RapportError as error:
        fail(error.message)
        return
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.kinds.items())) or "nothing new"
    typer.echo(f"read {report.read}: {kinds}; {report.suppressed} addresses suppressed")
    for campaign in report.paused_campaigns:
        typer.echo(f"campaign {campaign} paused: too many bounces or complaints")
    for problem in report.errors:
        typer.echo(f"error: {problem}", err=True)


@bounces_app.command("classify")
def bounces_classify(
    path: Annotated[Path, typer.Argument(help="a message as a .eml file", exists=True)],
) -> None:
    """Print what a message is (hard, soft, complaint, auto-reply, …) as JSON; changes nothing."""
    from rapport.delivery.bounces import classify  # noqa: PLC0415

    typer.echo(json.dumps(dataclasses.asdict(classify(path.read_bytes()))))
