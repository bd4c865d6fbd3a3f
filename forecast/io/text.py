"""Reading user files as text, with encoding problems reported as user errors."""

from __future__ import annotations

from pathlib import Path

from ..errors import fail, problem


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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise fail(path, line, "encoding", "UTF-8 text", f"byte 0x{data[e.start]:02x}") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise fail(path, line, "encoding", "text", "a NUL byte (binary file?)")
    return text
