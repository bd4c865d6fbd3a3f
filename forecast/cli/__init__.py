"""The `forecast` command line: a thin typer layer over `forecast.jobs`."""

from __future__ import annotations

from .app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
