"""What every ``rapport`` command module shares: the error console and the exit on a failure
the person can act on (exit code 2, the message on stderr)."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
