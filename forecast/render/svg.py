"""SVG written by hand: the primitives every chart draws with and the one palette.

No plotting library: a chart is a few hundred rectangles, lines and labels, which these
functions write directly, in microseconds, so a new `forecast` process pays nothing to draw
(matplotlib cost seconds per report). Labels are SVG text in the system's sans-serif font,
escaped as XML. A chart is returned as a data URI, so a page embeds it and fetches nothing.
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Sequence
from xml.sax.saxutils import escape as _xml_escape

# The palette of every chart (the pages' CSS uses the same colours).
POSTERIOR = "#1f4e79"
POSTERIOR_BAND = "#9dbbdc"
PRIOR = "#8a8f98"
INK = "#1d2330"
MUTED = "#5b6475"
GRID = "#e3e6eb"
BAND = "#f3f5f8"
EDGE = "#6b7685"
DRIVER_FILL = "#dde7f3"
CONSEQUENCE_FILL = "#f4efe4"
YES = "#2e7d32"
NO = "#b23b3b"
NULL_BAND = "#dbe5f1"           # where a calibrated forecaster or a uniform rank histogram stays
FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""


def esc(text: object) -> str:
    return _xml_escape(str(text), {'"': "&quot;"})


def fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


class Svg:
    """A list of SVG elements with a size; `uri()` gives the data URI the report embeds."""

    def __init__(self, width: float, height: float):
        self.width, self.height = width, height
        self.parts: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def rect(self, x, y, w, h, fill, stroke="none", rx=0.0, width=1.0, extra="") -> None:
        self.add(f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" '
                 f'rx="{fmt(rx)}" fill="{fill}" stroke="{stroke}" stroke-width="{fmt(width)}"{extra}/>')

    def line(self, x1, y1, x2, y2, stroke, width=1.0, dash="", extra="") -> None:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{fmt(x1)}" y1="{fmt(y1)}" x2="{fmt(x2)}" y2="{fmt(y2)}" '
                 f'stroke="{stroke}" stroke-width="{fmt(width)}"{dashed}{extra}/>')

    def circle(self, x, y, r, fill, stroke="none", width=1.0) -> None:
        self.add(f'<circle cx="{fmt(x)}" cy="{fmt(y)}" r="{fmt(r)}" fill="{fill}" '
                 f'stroke="{stroke}" stroke-width="{fmt(width)}"/>')

    def text(self, x, y, content, size=12.0, fill=INK, anchor="start", weight="normal",
             baseline="middle", rotate=0.0) -> None:
        turn = f' transform="rotate({fmt(rotate)} {fmt(x)} {fmt(y)})"' if rotate else ""
        self.add(f'<text x="{fmt(x)}" y="{fmt(y)}" font-size="{fmt(size)}" fill="{fill}" '
                 f'text-anchor="{anchor}" font-weight="{weight}" dominant-baseline="{baseline}" '
                 f'{FONT}{turn}>{esc(content)}</text>')

    def lines_of_text(self, x, y, lines: Sequence[str], size=12.0, **kwargs) -> None:
        step = size * 1.15
        top = y - step * (len(lines) - 1) / 2
        for i, line in enumerate(lines):
            self.text(x, top + i * step, line, size=size, **kwargs)

    def document(self) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{fmt(self.width)}" '
                f'height="{fmt(self.height)}" viewBox="0 0 {fmt(self.width)} {fmt(self.height)}">'
                + "".join(self.parts) + "</svg>")

    def uri(self) -> str:
        return svg_data_uri(self.document())


def svg_data_uri(svg_text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode("utf-8")).decode("ascii")


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [text]
