"""The values of a TOML file a user writes (a scenario, an analyst's priors), each read or
refused with the file, the table and the key: the document itself, unknown keys, text, dates
and numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

from ..errors import ForecastError, fail, one_of, problem
from .text import CONTROL_CHARACTERS, is_finite_number

BARE_YES_NO = re.compile(r'=\s*(yes|no|Yes|No|YES|NO)\s*[,}#\n]')
MAX_TEXT = 5000


def load_toml(text: str, path: Path) -> dict:
    """The parsed document, or its syntax error at its line (with a hint for a bare yes/no)."""
    try:
        doc = tomllib.loads(text)
    except RecursionError:
        raise problem(path, None, "toml", "invalid TOML: arrays or tables nested too deeply") from None
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", str(e))
        if found:
            message, line = f"{found.group(1)} (column {found.group(3)})", int(found.group(2))
        else:
            message, line = str(e), None
        if line is not None and BARE_YES_NO.search(text.splitlines()[line - 1] + "\n"):
            message += ('; TOML has no bare yes/no: write true/false, or "yes"/"no" in quotes, '
                        'e.g. when = { ceasefire = "yes" }')
        raise problem(path, line, "toml", f"invalid TOML: {message}") from e
    return doc


def control_character(text: str) -> str | None:
    """The first control character other than tab and line breaks, as U+XXXX, if any."""
    found = CONTROL_CHARACTERS.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def unknown_keys(path: Path, table: dict, allowed: set, where: str) -> list[ForecastError]:
    """One problem per key of `table` not in `allowed`, sorted: a misspelled key silently
    ignored would be a wrong forecast."""
    return [fail(path, where, extra, f"a known key ({one_of(allowed)})", extra)
            for extra in sorted(set(table) - allowed)]


def text_field(path: Path, table: dict, key: str, where: str, required: bool = True) -> str:
    """A text value, stripped: at most MAX_TEXT characters, no control characters; "" for an
    optional key that is absent."""
    if key not in table:
        if required:
            raise fail(path, where, key, "a value", "nothing (missing)")
        return ""
    value = table[key]
    if not isinstance(value, str) or (required and not value.strip()):
        raise fail(path, where, key, "a non-empty string", value)
    if len(value) > MAX_TEXT:
        raise fail(path, where, key, f"at most {MAX_TEXT} characters", f"{len(value)} characters")
    if control := control_character(value):
        raise fail(path, where, key, "text without control characters", f"character {control}")
    return value.strip()


def date_field(path: Path, table: dict, key: str, where: str) -> dt.date:
    if key not in table:
        raise fail(path, where, key, "a date (YYYY-MM-DD)", "nothing (missing)")
    value = table[key]
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise fail(path, where, key, "a TOML date like 2025-03-11", value)
    return value


def number(path: Path, value, where: str, key: str, what: str) -> float:
    """A finite number (not a bool), as a float."""
    if not is_finite_number(value):
        raise fail(path, where, key, what, value)
    return float(value)
