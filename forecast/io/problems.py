"""Problems in a user's file, collected one way by every reader that can list them all.

A reader reads on past a problem wherever the rest can still be read (the next key, row, node
or table) and notes it here. A command that needs the file raises the first (`raise_first`);
`forecast evidence validate` lists them all. Reading on never changes which problem is first:
up to it, a reader does the same whether anyone will ask for the rest or not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from ..errors import ForecastError

T = TypeVar("T")


class Problems:
    """The located errors found so far, in the order they were found."""

    def __init__(self) -> None:
        self.found: list[ForecastError] = []

    def __bool__(self) -> bool:
        return bool(self.found)

    def __len__(self) -> int:
        return len(self.found)

    def note(self, error: ForecastError) -> None:
        self.found.append(error)

    def extend(self, errors: Iterable[ForecastError]) -> None:
        self.found.extend(errors)

    def attempt(self, read: Callable[..., T], *args, default=None) -> T | None:
        """`read(*args)`, or `default` once its problem is noted."""
        try:
            return read(*args)
        except ForecastError as error:
            self.found.append(error)
            return default

    def raise_first(self) -> None:
        """Stop at the first problem, for a caller that needs the whole file."""
        if self.found:
            raise self.found[0]

    def unique(self) -> list[ForecastError]:
        """Every problem once (a check two parts of a reader make is one problem), in order."""
        first: dict[str, ForecastError] = {}
        for error in self.found:
            first.setdefault(str(error), error)
        return list(first.values())
