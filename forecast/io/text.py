"""Reading user files as text, with encoding problems reported as user errors."""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import fail, problem

# Control characters other than tab and line breaks: a NUL makes a file unreadable, an ESC
# rewrites the terminal that lists its text.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# What a spreadsheet runs as a formula when a cell starts with it.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

UTF8_BOM = b"\xef\xbb\xbf"
# Byte-order marks of encodings a spreadsheet may offer instead of UTF-8 ("Unicode text").
FOREIGN_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe, which
    spreadsheets read as "this is text" (OWASP's advice for CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def encode_like(path: Path, text: str) -> bytes:
    """`text` as UTF-8, with a leading BOM if the file it replaces has one (Excel writes it, and
    without it Excel reads the file as a legacy code page and garbles non-ASCII text)."""
    try:
        with path.open("rb") as fh:
            bom = fh.read(len(UTF8_BOM)) == UTF8_BOM
    except OSError:
        bom = False
    return (UTF8_BOM if bom else b"") + text.encode("utf-8")


def line_ending(text: str) -> str:
    """The file's own line break, as its first line ends: "\r\n" (Windows Excel), "\r" (old Mac
    Excel, "CSV (Macintosh)") or "\n"; "\n" for a file of one unterminated line. Rows a command
    adds use it, so a file never ends up with mixed line endings."""
    for index, char in enumerate(text):
        if char == "\n":
            return "\n"
        if char == "\r":
            return "\r\n" if text[index + 1: index + 2] == "\n" else "\r"
    return "\n"


def read_user_text(path: Path, what: str) -> str:
    """The file's text as UTF-8 (a leading BOM, as spreadsheets write it, is accepted)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise problem(path, None, None, f"file not found ({what})") from None
    except IsADirectoryError:
        raise problem(path, None, None, f"is a directory, expected {what}") from None
    except OSError as e:
        raise problem(path, None, None, f"cannot read: {e.strerror}") from None
    for bom, encoding in FOREIGN_BOMS:
        if data.startswith(bom):
            raise fail(path, 1, "encoding", "UTF-8 text (save the file as UTF-8 CSV or text)",
                       f"{encoding} (byte-order mark)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise fail(path, line, "encoding", "UTF-8 text", f"byte 0x{data[e.start]:02x}") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise fail(path, line, "encoding", "text", "a NUL byte (binary file?)")
    return text


def is_finite_number(value) -> bool:
    """A parsed TOML/JSON number that is finite as a float (a bool is not a number, and an
    integer too large for a float is not finite)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
