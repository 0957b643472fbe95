"""What every ``rapport`` command module shares: the error console and the exit on a failure
the person can act on (exit code 2, the message on stderr)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

from rapport.errors import RapportError

console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@contextmanager
def failing_clearly() -> Iterator[None]:
    """A ``RapportError`` raised inside becomes ``fail(its message)``: exit code 2."""
    try:
        yield
    except RapportError as error:
        fail(error.message)
