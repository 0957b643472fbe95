"""``rapport suppression list|add|remove|export``: the do-not-send list from the shell. The
CLI acts as the system (shell access to the server is already full access), so only the
rules that bind everyone apply: an erased entry is never removed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rapport.cli_common import fail, failing_clearly

suppression_app = typer.Typer(
    help="The suppression list: addresses and domains that get no mail.", no_args_is_help=True
)


@suppression_app.command("list")
def suppression_list(
    reason: Annotated[
        str, typer.Option(help="unsubscribed, bounced, complained, blocked or erased")
    ] = "",
    q: Annotated[str, typer.Option("--q", help="part of an address, or @domain")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="print the entries as JSON")] = False,
) -> None:
    """Every matching entry, newest first."""
    from rapport.delivery.suppressions import list_suppressions  # noqa: PLC0415

    entries = []
    after: int | None = None
    with failing_clearly():
        while True:
            page = list_suppressions(None, q=q, reason=reason, after=after, limit=1000)
            entries.extend(page.entries)
            if page.next_after is None:
                break
            after = page.next_after
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "email": e.email,
                        "reason": e.reason,
                        "source": e.source,
                        "note": e.note,
                        "added_by": e.added_by,
                        "created_at": e.created_at.isoformat(),
                    }
                    for e in entries
                ]
            )
        )
        return
    for e in entries:
        typer.echo(f"{e.email}\t{e.reason}\t{e.created_at:%Y-%m-%d %H:%M}\t{e.note or e.source}")


@suppression_app.command("add")
def suppression_add(
    email: Annotated[str, typer.Argument(help="an address, or @example.com for a whole domain")],
    note: Annotated[str, typer.Option(help="why it is blocked")] = "",
) -> None:
    """Block an address or a whole domain by hand."""
    from rapport.delivery.suppressions import add_suppression  # noqa: PLC0415

    with failing_clearly():
        entry = add_suppression(email, note=note, acting_user=None)
    typer.echo(f"{entry.email} blocked")


@suppression_app.command("remove")
def suppression_remove(
    email: Annotated[str, typer.Argument(help="the address or @domain on the list")],
    reason: Annotated[str, typer.Option(help="why it goes; written to the audit log")] = "",
) -> None:
    """Take an entry off the list; the contact is not subscribed again by this."""
    from rapport.delivery.suppressions import remove_suppression  # noqa: PLC0415

    with failing_clearly():
        removed = remove_suppression(email, reason=reason, acting_user=None)
    typer.echo(f"{removed.email} removed; the contact's status and consent are unchanged")


@suppression_app.command("export")
def suppression_export(
    path: Annotated[Path, typer.Argument(help="the CSV file to write (UTF-8 with BOM)")],
    reason: Annotated[str, typer.Option(help="only entries with this reason")] = "",
) -> None:
    """Write the list to a CSV file that spreadsheets open safely."""
    from rapport.delivery.suppressions import export_suppressions  # noqa: PLC0415

    try:
        with failing_clearly():
            count = export_suppressions(path, reason=reason)
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror}")
    typer.echo(f"{count} entries written to {path}")
