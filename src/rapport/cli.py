"""The ``rapport`` command: Rapport's own commands, and every Django management command.

``rapport import contacts FILE`` and friends are Typer commands wrapping the services;
anything Typer does not know (``rapport migrate``, ``rapport createsuperuser``) goes to
Django's ``manage.py``, so there is one command for everything.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from rapport.cli_bounces import bounces_app
from rapport.cli_campaigns import campaign_app
from rapport.cli_common import console, fail
from rapport.cli_content import recommend_command, template_app
from rapport.cli_domains import domain_app
from rapport.cli_journeys import journey_app, tick_command
from rapport.cli_suppressions import suppression_app

app = typer.Typer(
    help="Rapport: customer email for businesses.", no_args_is_help=True, add_completion=False
)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
segment_app = typer.Typer(help="Segments: count rules, list, export members.", no_args_is_help=True)
app.add_typer(segment_app, name="segment")
app.add_typer(template_app, name="template")
app.add_typer(campaign_app, name="campaign")
app.add_typer(domain_app, name="domain")
app.add_typer(bounces_app, name="bounces")
app.add_typer(suppression_app, name="suppression")
app.command("recommend")(recommend_command)
app.add_typer(journey_app, name="journey")
app.command("tick")(tick_command)


@app.command("import")
def import_command(
    kind: Annotated[str, typer.Argument(help="contacts, products or orders")],
    path: Annotated[Path, typer.Argument(help="CSV file (UTF-8, GB18030/GBK or UTF-16)")],
    map_file: Annotated[
        Path | None, typer.Option("--map", help="JSON mapping: columns, date_format, status")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    list_name: Annotated[
        str | None, typer.Option("--list", help="also add the contacts to this static list")
    ] = None,
) -> None:
    """Import a CSV file; bad rows go to a rejects CSV, good rows are upserted."""
    from rapport.crm.imports import import_file  # noqa: PLC0415 - Django must be set up first
    from rapport.errors import RapportError  # noqa: PLC0415

    mapping: dict[str, Any] = {}
    if map_file is not None:
        try:
            mapping = json.loads(map_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            fail(f"cannot read the mapping {map_file}: {error}")
    if list_name:
        mapping["list"] = list_name
    with Progress(
        TextColumn(f"importing {kind}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[rows]} rows"),
        console=console,
        disable=as_json,
        transient=as_json,
    ) as bar:
        task_id = bar.add_task("import", total=path.stat().st_size if path.is_file() else 0, rows=0)

        def progress(done: int, total: int, result: Any) -> None:
            bar.update(task_id, completed=done, total=total, rows=result.rows)

        try:
            result = import_file(kind, path, mapping=mapping, acting_user=None, progress=progress)
        except RapportError as error:
            fail(error.message)
    payload = result.as_json()
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    console.print(
        f"{payload['rows']} rows: {payload['created']} created, {payload['updated']} updated, "
        f"{payload['unchanged']} unchanged, {payload['rejected']} rejected"
    )
    if payload["ignored_columns"]:
        console.print(f"columns not imported: {', '.join(payload['ignored_columns'])}")
    if payload["rejects_path"]:
        console.print(f"rejected rows and reasons: {payload['rejects_path']}")


@app.command("export")
def export_command(
    what: Annotated[str, typer.Argument(help="contacts")],
    path: Annotated[Path, typer.Argument(help="where to write the CSV")],
) -> None:
    """Export contacts to CSV (formula-like cells neutralised for spreadsheets)."""
    from rapport.accounts.services import record_audit  # noqa: PLC0415
    from rapport.crm.exporting import export_contacts  # noqa: PLC0415
    from rapport.crm.models import Contact  # noqa: PLC0415

    if what != "contacts":
        fail(f"cannot export {what!r}; only contacts for now.")
    count = export_contacts(Contact.objects.all(), path)
    record_audit(
        None, "export.contacts", target_type="file", target_id=path.name, detail={"count": count}
    )
    console.print(f"{count} contacts written to {path}")


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="the user the token acts as")],
    name: Annotated[str, typer.Option(help="a label, e.g. the integration's name")] = "cli",
) -> None:
    """Create an API token; it is printed once and cannot be shown again."""
    from rapport.accounts.services import create_api_token, find_user  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        issued = create_api_token(find_user(username), name, acting_user=None)
    except RapportError as error:
        fail(error.message)
    typer.echo(issued.token)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="owner, admin, marketer, support or viewer")],
    email: Annotated[str, typer.Option(help="the person's email")] = "",
    language: Annotated[str, typer.Option(help="en or zh-hans")] = "en",
) -> None:
    """Create a staff account; the password is asked for (or read from RAPPORT_PASSWORD)."""
    from rapport.accounts.services import create_user  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    password = os.environ.get("RAPPORT_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        user = create_user(
            username=username,
            email=email,
            role=role,
            password=password,
            language=language,
            acting_user=None,
        )
    except RapportError as error:
        fail(error.message)
    console.print(f"created {user.username} ({user.role})")


@segment_app.command("count")
def segment_count(
    rules_file: Annotated[Path, typer.Argument(help="a JSON file with the rule tree")],
    as_json: Annotated[bool, typer.Option("--json", help="print {count, ms} as JSON")] = False,
) -> None:
    """Count the contacts a rule matches (exit code 2 names the place of a rule error)."""
    from rapport.errors import RapportError  # noqa: PLC0415
    from rapport.segments.queries import count_rules  # noqa: PLC0415

    try:
        rules = json.loads(rules_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        fail(f"cannot read the rules in {rules_file}: {error}")
    try:
        result = count_rules(rules)
    except RapportError as error:
        fail(error.message)
    if as_json:
        typer.echo(json.dumps({"count": result.count, "ms": result.ms}))
    else:
        console.print(f"{result.count} contacts ({result.ms} ms)")


@segment_app.command("list")
def segment_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List the saved segments with their ids."""
    from rapport.segments.models import Segment  # noqa: PLC0415

    segments = list(Segment.objects.order_by("name").values("id", "name", "kind", "builtin"))
    if as_json:
        typer.echo(json.dumps(segments, ensure_ascii=False))
        return
    for item in segments:
        badge = " (built in)" if item["builtin"] else ""
        typer.echo(f"{item['id']:>5}  {item['name']}  [{item['kind']}]{badge}")


@segment_app.command("export")
def segment_export(
    segment: Annotated[str, typer.Argument(help="segment id or name")],
    path: Annotated[Path, typer.Argument(help="where to write the CSV")],
) -> None:
    """Export a segment's contacts to CSV (spreadsheet-safe)."""
    from rapport.accounts.services import record_audit  # noqa: PLC0415
    from rapport.crm.exporting import export_contacts  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415
    from rapport.segments.queries import segment_queryset  # noqa: PLC0415
    from rapport.segments.services import get_segment_for  # noqa: PLC0415

    try:
        found = get_segment_for(None, segment)
        count = export_contacts(segment_queryset(found), path)
    except RapportError as error:
        fail(error.message)
    record_audit(
        None,
        "export.segment",
        target_type="segment",
        target_id=found.pk,
        detail={"count": count, "file": path.name},
    )
    console.print(f"{count} contacts of {found.name} written to {path}")


@app.command("demo")
def demo_command(
    contacts: Annotated[int, typer.Option(help="how many customers")] = 2000,
    seed: Annotated[int, typer.Option(help="random seed: same seed, same shop")] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="add the demo even if there are contacts already")
    ] = False,
) -> None:
    """Build the demo shop: customers, a catalogue, two years of orders and email events."""
    from rapport.demo.shop import build_demo_shop  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    with Progress(
        TextColumn("building demo shop"),
        BarColumn(),
        TextColumn("{task.description}"),
        console=console,
    ) as bar:
        task_id = bar.add_task("", total=100)

        def progress(percent: int, step: str) -> None:
            bar.update(task_id, completed=percent, description=step)

        try:
            summary = build_demo_shop(contacts=contacts, seed=seed, progress=progress, force=force)
        except RapportError as error:
            bar.stop()
            fail(error.message)
    console.print(summary.describe())


@app.command("web")
def web_command() -> None:
    """Serve the web app (waitress) on RAPPORT_LISTEN."""
    from django.conf import settings  # noqa: PLC0415
    from waitress import serve  # noqa: PLC0415

    from rapport.tracking.recorder import recorder  # noqa: PLC0415
    from rapport.wsgi import application  # noqa: PLC0415

    # SIGTERM (how `rapport serve` stops its children) ends waitress's loop like Ctrl-C, so
    # that the opens and clicks still buffered are written before the process exits.
    signal.signal(signal.SIGTERM, _interrupt)
    # "Task queue depth is N" for every request that waits for a thread: at thousands of hits
    # a second that is noise, and its cost shows.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        serve(application, listen=settings.LISTEN, threads=8, ident="rapport")
    finally:
        recorder.stop()


@app.command("mailcatcher")
def mailcatcher_command() -> None:
    """Run the local mail catcher (SMTP on RAPPORT_MAILCATCHER_LISTEN)."""
    from django.conf import settings  # noqa: PLC0415

    from rapport.delivery.mailcatcher import serve  # noqa: PLC0415

    host, _, port = settings.MAILCATCHER_LISTEN.rpartition(":")
    serve(host or "127.0.0.1", int(port))


@app.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler that enqueues periodic work."""
    from rapport.automation.scheduler import serve  # noqa: PLC0415

    serve()


@app.command("serve")
def serve_command(
    demo_contacts: Annotated[int, typer.Option(help="demo size on an empty database")] = 2000,
) -> None:
    """Set up and start everything: web app, worker, scheduler, mail catcher (Ctrl-C stops)."""
    from django.conf import settings  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415

    from rapport.accounts.services import ensure_owner_account  # noqa: PLC0415
    from rapport.crm.models import Contact  # noqa: PLC0415

    call_command("migrate", interactive=False, verbosity=0)
    created = ensure_owner_account()
    if created:
        console.print(
            f"[bold green]Admin account created[/] (shown once): user [bold]{created[0]}[/], "
            f"password [bold]{created[1]}[/]"
        )
    if demo_contacts and not Contact.objects.exists():
        demo_command(contacts=demo_contacts, seed=1)
    children = {
        "web": [sys.executable, "-m", "rapport.cli", "web"],
        "worker": [
            sys.executable,
            "-m",
            "rapport.cli",
            "db_worker",
            "--queue-name",
            "*",
            "--interval",
            "0.5",
        ],
        "scheduler": [sys.executable, "-m", "rapport.cli", "scheduler"],
        "mailcatcher": [sys.executable, "-m", "rapport.cli", "mailcatcher"],
    }
    # Ctrl-C and SIGTERM stop everything even when SIGINT was inherited as ignored (a shell's
    # background job): Python installs no KeyboardInterrupt handler in that case.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupt)
    processes = {name: subprocess.Popen(cmd) for name, cmd in children.items()}  # noqa: S603
    console.print(
        f"Rapport is running on [bold]http://{settings.LISTEN}[/] "
        f"(mail catcher on {settings.MAILCATCHER_LISTEN}); Ctrl-C stops it."
    )
    exit_code = 0
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        dead = [n for n, p in processes.items() if p.poll() is not None]
        console.print(f"[red]{', '.join(dead)} stopped; stopping the rest.[/]")
        exit_code = 1
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        _stop_all(processes)
    raise typer.Exit(exit_code)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_all(processes: dict[str, subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    """Ask every child to stop at once, give them ``grace`` seconds in all (not each: the
    worker finishes its current task first), then kill whoever is still there."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            console.print(f"[yellow]{name} did not stop in time; killing it.[/]")
            process.kill()
            process.wait()


def _typer_commands() -> set[str]:
    names = {group.name for group in app.registered_groups if group.name}
    for command in app.registered_commands:
        if command.name:
            names.add(command.name)
    return names


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    import django  # noqa: PLC0415

    django.setup()
    if args and args[0] not in _typer_commands() and not args[0].startswith("-"):
        from django.core.management import execute_from_command_line  # noqa: PLC0415

        execute_from_command_line(["rapport", *args])
        return
    app(args=args, prog_name="rapport")


if __name__ == "__main__":
    main()
