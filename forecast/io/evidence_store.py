"""Writing the evidence CSV. Every change is a read-modify-write under the file's lock: the
new text is built from what is on disk *now*, checked whole by the caller, then renamed into
place, so concurrent writers lose no row and a bad row leaves the file as it was."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from .atomic import atomic_write_bytes, file_lock
from .csv_rows import csv_header
from .evidence import ALL_EVIDENCE_COLUMNS, OPTIONAL_EVIDENCE_COLUMNS
from .text import encode_like, line_ending, read_user_text

HEADER = csv_header(ALL_EVIDENCE_COLUMNS)


def current_text(path: Path) -> str:
    """The evidence file as it is; a missing or empty file counts as a bare header."""
    if not path.exists():
        return HEADER
    text = read_user_text(path, "an evidence CSV")
    return text if text.strip() else HEADER


def header_of(text: str, default=ALL_EVIDENCE_COLUMNS) -> list[str]:
    """The file's own column order (new rows follow it, so a reordered header is kept);
    `default` for a file with no header yet."""
    try:
        first = next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error:
        first = None
    return [name.strip() for name in first] if first else list(default)


def format_rows(rows: Iterable[Mapping[str, str]], columns: list[str], newline: str = "\n") -> str:
    """CSV lines with standard quoting (commas, quotes and line breaks inside cells survive)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([row.get(name, "") for name in columns])
    return buffer.getvalue()


def with_columns(text: str, extra: list[str], newline: str) -> str:
    """`text` with the optional columns `extra` added at the end of its header and left empty
    in every existing row (cell contents unchanged; quoting normalised)."""
    records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if not records:
        return text
    header, *rows = records
    widened = [dict(zip(header, record, strict=False)) for record in rows if record]
    columns = [name.strip() for name in header] + extra
    head = format_rows([dict(zip(columns, columns, strict=True))], columns, newline)
    return head + format_rows(
        [{name.strip(): cell for name, cell in row.items()} for row in widened], columns, newline)


def with_rows_appended(text: str, rows: Iterable[Mapping[str, str]]) -> str:
    """`text` unchanged byte for byte, then the new rows in its column order and line ending.
    A new row that fills an optional column the file lacks (a `quote`) first adds that column
    to the file, so nothing the analyst gave is dropped."""
    rows = list(rows)
    newline = line_ending(text)
    columns = header_of(text)
    missing = [name for name in OPTIONAL_EVIDENCE_COLUMNS
               if name not in columns and any(row.get(name) for row in rows)]
    if missing:
        text = with_columns(text, missing, newline)
        columns = header_of(text)
    if text and not text.endswith(("\n", "\r")):
        text += newline
    return text + format_rows(rows, columns, newline)


def edit_records(text: str, select: Callable[[dict[str, str]], bool],
                 replace: Callable[[dict[str, str]], Mapping[str, str] | None],
                 ) -> tuple[str, list[dict[str, str]]]:
    """`text` with each data record that `select`s (a row as header -> stripped cell) replaced
    by `replace(row)` in the file's column order and line ending, or deleted when that is None.
    Every other byte stays as it was. Returns the new text and the selected rows (as they were)."""
    newline = line_ending(text)
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines), strict=True)
    header = [name.strip() for name in next(reader, [])]
    out, selected, start = lines[:reader.line_num], [], reader.line_num
    for record in reader:
        end = reader.line_num
        row = {name: cell.strip() for name, cell in zip(header, record, strict=False)}
        if any(cell.strip() for cell in record) and select(row):
            selected.append(row)
            new = replace(row)
            if new is not None:
                out.append(format_rows([new], header, newline))
        else:
            out.extend(lines[start:end])
        start = end
    return "".join(out), selected


def change_evidence(path: Path, change: Callable[[str], str]) -> str:
    """Apply `change` (current text -> new text; it raises to refuse) to the evidence file."""
    return change_csv(path, current_text, change)


def change_csv(path: Path, current: Callable[[Path], str], change: Callable[[str], str]) -> str:
    """The one read-modify-write of a CSV (evidence, resolutions): under the file's lock, read
    `current(path)`, apply `change` (current text -> new text; it raises to refuse, and checks
    the whole new text), and write the result atomically in the file's own encoding. Returns
    the text now on disk."""
    with file_lock(path):
        text = current(path)
        new_text = change(text)
        if new_text != text:
            atomic_write_bytes(path, encode_like(path, new_text))
        return new_text
