"""The one error type for user mistakes.

Everything the user can get wrong (a file, a row, a field) is reported as a
`ForecastError`; the CLI renders it as one line and exits 1. Anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def _short(value: object, limit: int = 80) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class ForecastError(Exception):
    """A user mistake located by file, row (or TOML key) and field."""

    path: str | Path | None
    row: int | str | None
    field: str | None
    expected: str
    found: object = None
    show_found: bool = True

    def __str__(self) -> str:
        where = str(self.path) if self.path is not None else "forecast"
        if self.row is not None and self.row != "":
            where += f":{self.row}"
        parts = [where]
        if self.field:
            parts.append(self.field)
        message = f"expected {self.expected}" if self.show_found else self.expected
        if self.show_found:
            message += f", found {_short(self.found)}"
        parts.append(message)
        return ": ".join(parts)


def one_of(choices) -> str:
    """Valid choices for an `expected` text, sorted: "one of a, b, c"."""
    return "one of " + ", ".join(sorted(choices))


def fail(path, row, field, expected, found=None) -> ForecastError:
    """Build an error whose message is `expected ..., found ...`."""
    return ForecastError(path, row, field, expected, found)


def problem(path, row, field, message) -> ForecastError:
    """Build an error whose message is free text (no expected/found pair)."""
    return ForecastError(path, row, field, message, None, show_found=False)
