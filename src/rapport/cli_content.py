"""``rapport template …`` and ``rapport recommend``: content commands, kept apart from cli.py
so that each file stays about one area."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Annotated

import typer

from rapport.cli_common import fail

template_app = typer.Typer(help="Email templates: list, render.", no_args_is_help=True)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@template_app.command("render")
def template_render(
    file: Annotated[Path, typer.Option("--file", help="the template's HTML")],
    contact: Annotated[
        str | None, typer.Option("--contact", help="render as this contact (email)")
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="subject template (default: the <title>)")
    ] = None,
    text: Annotated[
        Path | None, typer.Option("--text", help="a plain-text template to use instead")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print {subject, html, text}")] = False,
) -> None:
    """Check a template file and render it as a contact (a sample contact without --contact).
    A template error exits with code 2 and names the part and line."""
    from rapport.content.services import render_source  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        html = file.read_text(encoding="utf-8")
        text_source = text.read_text(encoding="utf-8") if text else ""
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {error}")
    title = _TITLE.search(html)
    subject_source = subject if subject is not None else (title.group(1).strip() if title else "")
    try:
        message = render_source(
            html=html, subject=subject_source, text=text_source, contact_email=contact
        )
    except RapportError as error:
        if as_json:
            typer.echo(json.dumps({"error": error.message}, ensure_ascii=False))
        fail(error.message)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(message), ensure_ascii=False))
    else:
        typer.echo(f"Subject: {message.subject}\n\n{message.text}")


@template_app.command("list")
def template_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List the templates with their ids and current version."""
    from rapport.content.services import template_summaries  # noqa: PLC0415

    templates = template_summaries()
    if as_json:
        typer.echo(json.dumps(templates, ensure_ascii=False, default=str))
        return
    for item in templates:
        version = item["current__number"] or "-"
        typer.echo(f"{item['id']:>5}  {item['name']}  [{item['kind']}] v{version}")


def recommend_command(
    email: Annotated[str, typer.Argument(help="the contact's email")],
    count: Annotated[int, typer.Option("--count", "-n", help="how many products")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show the products a contact's emails would recommend."""
    from rapport.content.recommend import recommend_for_contact  # noqa: PLC0415

    try:
        products = recommend_for_contact(email, count)
    except LookupError as error:
        fail(str(error.args[0]) if error.args else str(error))
    rows = [{**dataclasses.asdict(p), "price": str(p.price)} for p in products]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        typer.echo(f"{row['sku']:<16} {row['name']}  ({row['category']}, {row['price']})")
