"""How every CLI command reports a failure: one plain Vietnamese line on stderr, an exit code."""

from __future__ import annotations

import typer
from rich.console import Console

from duyet.messages import CLI


def say_error(message: str) -> None:
    Console(stderr=True).print(f"[bold red]{CLI['error']}[/] {message}", highlight=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as an error and return the exit to raise (`raise fail(...)`)."""
    say_error(message)
    return typer.Exit(code)
