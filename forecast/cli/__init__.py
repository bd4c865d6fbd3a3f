"""The `forecast` command line: a thin typer layer over `forecast.api` and `forecast.jobs`
(options in options.py, the commands registered in app.py, one module per command)."""

from __future__ import annotations

from .app import app
from .memory import keep_freed_memory


def main() -> None:
    keep_freed_memory()
    app()


__all__ = ["app", "main"]
