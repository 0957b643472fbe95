"""``rapport domain add|check DOMAIN``: DKIM keys and the DNS records that make mail from a
domain trusted."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from rapport.cli_common import fail

domain_app = typer.Typer(help="Sending domains: DKIM keys and DNS checks.", no_args_is_help=True)


@domain_app.command("add")
def domain_add(
    domain: Annotated[str, typer.Argument(help="the domain in the From address")],
    as_json: Annotated[bool, typer.Option("--json", help="print the records as JSON")] = False,
) -> None:
    """Make DKIM keys (RSA-2048 and Ed25519) and print the DNS records to publish."""
    from rapport.delivery.domains import add_domain, records_to_publish  # noqa: PLC0415
    from rapport.errors import RapportError  # noqa: PLC0415

    try:
        created = add_domain(domain, acting_user=None)
    except RapportError as error:
        fail(error.message)
    records = records_to_publish(created)
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(r) for r in records]))
        return
    typer.echo(f"Publish these TXT records for {created.domain}:\n")
    for record in records:
        typer.echo(f"{record.name}\n  {record.type}  {record.value}\n")


@domain_app.command("check")
def domain_check(
    domain: Annotated[str, typer.Argument(help="a domain added with rapport domain add")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Report the SPF, DKIM and DMARC records found in DNS."""
    from rapport.delivery.domains import check_domain  # noqa: PLC0415
    from rapport.delivery.models import SendingDomain  # noqa: PLC0415

    found = SendingDomain.objects.filter(domain=domain.strip().lower()).first()
    if found is None:
        fail(f"{domain} is not set up; run: rapport domain add {domain}")
        return
    report = check_domain(found)
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(f"SPF:   {report['spf'] or 'missing'}")
    dkim = report["dkim"]
    assert isinstance(dkim, dict)
    for name, state in dkim.items():
        label = (
            "ok"
            if state["matches"]
            else "published, different key"
            if state["published"]
            else "missing"
        )
        typer.echo(f"DKIM:  {name}: {label}")
    typer.echo(f"DMARC: {report['dmarc'] or 'missing'}")
