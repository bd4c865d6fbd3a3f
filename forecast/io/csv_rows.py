"""A CSV a user writes (the evidence, the resolutions) as (line number, row) pairs, located the
way a spreadsheet shows lines (the header is line 1). The header must name exactly the known
columns; a bad row is one problem (io/problems.py) and reading goes on at the next record.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import fail, one_of, problem
from .problems import Problems
from .text import CONTROL_CHARACTERS

MAX_FIELD = 5000


def csv_header(columns) -> str:
    """The header line of a new CSV with these columns."""
    return ",".join(columns) + "\n"


def read_rows(text: str, path: Path, columns: tuple[str, ...],
              optional: tuple[str, ...] = ()) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a CSV whose header must be exactly `columns`, in any order,
    plus any of the `optional` columns; a row lacks the optional columns its file lacks. The
    first problem is raised."""
    problems = Problems()
    rows = csv_rows(text, path, columns, optional, problems)
    problems.raise_first()
    return rows


def csv_rows(text: str, path: Path, columns: tuple[str, ...], optional: tuple[str, ...],
             problems: Problems) -> list[tuple[int, dict[str, str]]]:
    """`read_rows`, noting a bad row (its fields, or its CSV) and reading on from the next
    record (past a malformed one, from the line after its end); a bad header is raised, since
    no row can be read without it."""
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise problem(path, 1, "header", f"malformed CSV: {e}") from e
    if header is None:
        raise fail(path, 1, "header", "a header row: " + ",".join(columns), "an empty file")
    header = [h.strip() for h in header]
    known = columns + optional
    if len(header) == 1:
        _refuse_other_delimiter(header[0], path, known)
    for name in header:
        if name not in known:
            raise fail(path, 1, name or "header", f"a known column ({one_of(known)})", name)
    for name in columns:
        if name not in header:
            raise fail(path, 1, name, "this column in the header", "no such column")
    if len(set(header)) != len(header):
        twice = next(h for h in header if header.count(h) > 1)
        raise fail(path, 1, twice, "each column once", "a repeated column")
    rows = []
    offset = 0                          # lines before the ones `reader` reads
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            problems.note(problem(path, start, "row", f"malformed CSV: {e}"))
            offset = _record_end(lines, start)
            if offset is None:
                break
            reader, start = csv.reader(iter(lines[offset:]), strict=True), offset + 1
            continue
        line, start = start, offset + reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        row = problems.attempt(_row, header, record, path, line)
        if row is not None:
            rows.append((line, row))
    return rows


def _record_end(lines: list[str], start: int) -> int | None:
    """The last line of the malformed record that starts on line `start`, as a lenient reader
    sees it (a quoted field may run over lines): reading goes on after it. None if even a
    lenient reader cannot read it."""
    reader = csv.reader(iter(lines[start - 1:]))
    try:
        next(reader)
    except (csv.Error, StopIteration):
        return None
    return start - 1 + reader.line_num


def _row(header: list[str], record: list[str], path: Path, line: int) -> dict[str, str]:
    """One record as {column: stripped cell}: as many fields as the header, none too long, no
    control characters."""
    if len(record) != len(header):
        raise fail(path, line, "row", f"{len(header)} fields", f"{len(record)} fields")
    for name, cell in zip(header, record, strict=True):
        if len(cell) > MAX_FIELD:
            raise fail(path, line, name, f"at most {MAX_FIELD} characters", f"{len(cell)} characters")
        if control := CONTROL_CHARACTERS.search(cell):
            raise fail(path, line, name, "text without control characters",
                       f"character U+{ord(control.group()):04X}")
    return {name: cell.strip() for name, cell in zip(header, record, strict=True)}


def _refuse_other_delimiter(header: str, path: Path, known: tuple[str, ...]) -> None:
    """A one-column header that splits into known columns on `;` or a tab is a file saved with
    another delimiter (Excel does this in locales whose decimal mark is a comma). It is refused
    with that diagnosis rather than read: in those files `1,5` means 1.5, so reading them as
    commas would silently misread numbers, and rows added later would mix two delimiters."""
    for delimiter, name in ((";", "semicolons"), ("\t", "tabs")):
        cells = [cell.strip().strip('"') for cell in header.split(delimiter)]
        if len(cells) > 1 and sum(cell in known for cell in cells) >= 2:
            raise problem(path, 1, "header",
                          f"this file is separated by {name}, expected commas: save it as "
                          "\"CSV UTF-8 (Comma delimited)\" (or export with a comma delimiter "
                          "and a point as decimal mark)")
