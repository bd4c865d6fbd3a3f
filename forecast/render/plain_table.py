"""A long rich table written line by line, as rich lays it out, without rich's layout.

rich measures, wraps and pads every cell through its renderer, about 1.5 ms a row: 2.5 s for
the 1,300 rows of a 441-node network's full table. When every cell fits on one line and the
table fits the console (rich then gives each column its widest cell and wraps nothing), the same
characters follow from string lengths alone: `table_text` writes them as one `Text`, the styles
(bold header, italic title, the cells' own markup) as spans. Where rich would wrap or shrink
anything it returns None and the caller lets rich lay the table out.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Span, Text


def table_text(table: Table, console: Console) -> Text | None:
    """`table` as rich would print it on `console`, or None where rich would wrap something."""
    plain_box = _plain_layout_box(table, console)
    if plain_box is None:
        return None
    columns = [[_cell(column.header, console), *(_cell(cell, console) for cell in column._cells)]
               for column in table.columns]
    widths = []
    for column, cells in zip(table.columns, columns, strict=True):
        if any("\n" in cell.plain or "\t" in cell.plain
               or cell.justify not in (None, "left", "right", "center") for cell in cells):
            return None
        widths.append(max(column.min_width or 0, max(cell_len(cell.plain) for cell in cells)) + 2)
    table_width = sum(widths) + len(widths) + 1
    title = _cell(table.title, console) if table.title else None
    if table_width > console.width or (title and cell_len(title.plain) > table_width):
        return None
    out = _Lines()
    if title:
        # rich styles a title given as a string, and leaves a Text's own styles alone
        out.add(title, table_width, table.title_justify,
                "table.title" if isinstance(table.title, str) else None)
    out.plain(plain_box.get_top(widths))
    rows = list(zip(*columns, strict=True))
    out.row(rows[0], table.columns, widths, (plain_box.head_left, plain_box.head_vertical,
                                           plain_box.head_right), "table.header")
    out.plain(plain_box.get_row(widths, "head"))
    for row in rows[1:]:
        out.row(row, table.columns, widths, (plain_box.mid_left, plain_box.mid_vertical,
                                            plain_box.mid_right))
    out.plain(plain_box.get_bottom(widths))
    return out.text()


def _plain_layout_box(table: Table, console: Console):
    """The box rich would draw, where the table is one this module writes exactly as rich does:
    rich's defaults (a header, edges, padding one space a side, no lines between rows, no row
    styles, no footer or caption, not expanded), else None."""
    if (not table.box or not table.show_header or not table.show_edge or table.show_lines
            or table.show_footer or table.caption or table.expand or table.width is not None
            or table.padding != (0, 1, 0, 1) or table.leading
            or console.get_style(table.style or "") or console.get_style(table.border_style or "")
            or table.row_styles or table.header_style != "table.header"
            or table.title_justify not in ("left", "right", "center")
            or any(row.style or row.end_section for row in table.rows)
            or any(console.get_style(column.style or "") or column.header_style or column.width is not None
                   or column.max_width is not None or column.vertical != "top"
                   or column.justify not in ("left", "right", "center")
                   for column in table.columns)):
        return None
    return table.box.substitute(console.options, safe=console.safe_box)


def _cell(renderable, console: Console) -> Text:
    """A cell as rich reads it: a Text as it is, a string through the console (markup, emoji
    codes; table cells are not highlighted)."""
    if isinstance(renderable, Text):
        return renderable
    if not isinstance(renderable, str):
        raise TypeError(f"a plain table cell is text, not {type(renderable).__name__}")
    return console.render_str(renderable, highlight=False)


def _trimmed(cell: Text, justify: str) -> Text:
    """`cell` as rich justifies it: centred or right-aligned without its trailing spaces."""
    if justify in ("center", "right") and cell.plain[-1:].isspace():
        cell = cell.copy()
        cell.rstrip()
    return cell


class _Lines:
    """The table's characters and style spans, line by line."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[Span] = []
        self.length = 0

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def _styled(self, cell: Text, style: str | None = None) -> None:
        start = self.length
        if style:
            self.spans.append(Span(start, start + len(cell.plain), style))
        if cell.style:
            self.spans.append(Span(start, start + len(cell.plain), cell.style))
        self.spans.extend(Span(start + span.start, start + span.end, span.style)
                          for span in cell.spans)
        self._append(cell.plain)

    def plain(self, line: str) -> None:
        self._append(line + "\n")

    def add(self, cell: Text, width: int, justify: str, style: str | None) -> None:
        """A line of `width` holding `cell`, justified as rich justifies a table's title."""
        cell = _trimmed(cell, justify)
        room = width - cell_len(cell.plain)
        left = {"left": 0, "right": room, "center": room // 2}.get(justify, 0)
        self._append(" " * left)
        self._styled(cell, style)
        self._append(" " * (room - left) + "\n")

    def row(self, cells, columns, widths, edges, style: str | None = None) -> None:
        left, vertical, right = edges
        self._append(left)
        for k, (cell, column, width) in enumerate(zip(cells, columns, widths, strict=True)):
            if k:
                self._append(vertical)
            justify = cell.justify or column.justify
            cell = _trimmed(cell, justify)
            room = width - 2 - cell_len(cell.plain)
            before = {"right": room, "center": room // 2}.get(justify, 0)
            start = self.length
            self._append(" " * (1 + before))
            self._styled(cell)
            self._append(" " * (room - before + 1))
            if style:       # the row's style covers the cell's padding too, as rich's does
                self.spans.append(Span(start, self.length, style))
        self._append(right + "\n")

    def text(self) -> Text:
        return Text("".join(self.parts).removesuffix("\n"), spans=self.spans)
