"""The reliability diagram of the track record (`forecast score`): observed frequency against
mean forecast per bin, beside the diagonal and the +-2 binomial standard errors a calibrated
forecaster stays inside, with the forecasts per bin below."""

from __future__ import annotations

from ..svg import GRID, INK, MUTED, POSTERIOR, POSTERIOR_BAND, Svg

LEFT, WIDTH = 62.0, 420.0               # the plot area, in pixels
TOP, HEIGHT = 40.0, 330.0               # the diagram
COUNTS_TOP, COUNTS_HEIGHT = 400.0, 80.0  # the counts below it
Y_LOW, Y_HIGH = -0.02, 1.02


def _ticks(svg: Svg, x_of) -> None:
    for k in range(6):
        p = k / 5
        svg.line(x_of(p), COUNTS_TOP + COUNTS_HEIGHT, x_of(p), COUNTS_TOP + COUNTS_HEIGHT + 4, INK)
        svg.text(x_of(p), COUNTS_TOP + COUNTS_HEIGHT + 15, f"{p:.1f}", size=9, fill=MUTED,
                 anchor="middle")


def reliability_diagram(bins: list[dict]) -> str:
    """The diagram as a data URI; bins without forecasts show no point."""
    svg = Svg(LEFT + WIDTH + 20, COUNTS_TOP + COUNTS_HEIGHT + 46)

    def x_of(p: float) -> float:
        return LEFT + WIDTH * min(max(p, 0.0), 1.0)

    def y_of(p: float) -> float:
        return TOP + HEIGHT * (Y_HIGH - p) / (Y_HIGH - Y_LOW)

    svg.text(LEFT, TOP - 18, "Reliability diagram", size=12, weight="bold")
    for k in range(6):
        p = k / 5
        svg.line(LEFT, y_of(p), LEFT + WIDTH, y_of(p), GRID, 0.8)
        svg.text(LEFT - 6, y_of(p), f"{p:.1f}", size=9, fill=MUTED, anchor="end")
    svg.line(LEFT, TOP, LEFT, TOP + HEIGHT, INK, 0.8)
    svg.line(LEFT, TOP + HEIGHT, LEFT + WIDTH, TOP + HEIGHT, INK, 0.8)
    svg.text(16, TOP + HEIGHT / 2, "observed frequency of yes", size=10, anchor="middle",
             rotate=-90)
    svg.line(x_of(0), y_of(0), x_of(1), y_of(1), MUTED, 1, dash="5 3")
    filled = [b for b in bins if b["count"]]
    for b in filled:
        x = b["mean_forecast"]
        low, high = max(x - 2 * b["se"], Y_LOW), min(x + 2 * b["se"], Y_HIGH)
        svg.rect(x_of(x) - 3, y_of(high), 6, max(y_of(low) - y_of(high), 1.0), POSTERIOR_BAND,
                 extra=' opacity="0.8"')
    if filled:
        points = " ".join(f"{x_of(b['mean_forecast']):.1f},{y_of(b['observed']):.1f}" for b in filled)
        svg.add(f'<polyline points="{points}" fill="none" stroke="{POSTERIOR}" stroke-width="1.5"/>')
        for b in filled:
            svg.circle(x_of(b["mean_forecast"]), y_of(b["observed"]), 4, POSTERIOR)
    legend = TOP + 16
    svg.line(LEFT + 12, legend, LEFT + 36, legend, MUTED, 1, dash="5 3")
    svg.text(LEFT + 42, legend, "perfect calibration", size=9.5)
    svg.rect(LEFT + 21, legend + 10, 6, 12, POSTERIOR_BAND, extra=' opacity="0.8"')
    svg.text(LEFT + 42, legend + 16, "calibrated ±2 SE", size=9.5)
    svg.line(LEFT + 12, legend + 32, LEFT + 36, legend + 32, POSTERIOR, 1.5)
    svg.circle(LEFT + 24, legend + 32, 4, POSTERIOR)
    svg.text(LEFT + 42, legend + 32, "observed", size=9.5)

    most = max((b["count"] for b in bins), default=0) or 1
    for b in bins:
        height = COUNTS_HEIGHT * b["count"] / most
        width = 0.9 * (b["high"] - b["low"]) * WIDTH
        centre = x_of((b["low"] + b["high"]) / 2)
        if b["count"]:
            svg.rect(centre - width / 2, COUNTS_TOP + COUNTS_HEIGHT - height, width, height, POSTERIOR)
    svg.line(LEFT, COUNTS_TOP, LEFT, COUNTS_TOP + COUNTS_HEIGHT, INK, 0.8)
    svg.line(LEFT, COUNTS_TOP + COUNTS_HEIGHT, LEFT + WIDTH, COUNTS_TOP + COUNTS_HEIGHT, INK, 0.8)
    svg.text(LEFT - 6, COUNTS_TOP, str(most), size=9, fill=MUTED, anchor="end")
    svg.text(LEFT - 6, COUNTS_TOP + COUNTS_HEIGHT, "0", size=9, fill=MUTED, anchor="end")
    svg.text(16, COUNTS_TOP + COUNTS_HEIGHT / 2, "forecasts", size=10, anchor="middle", rotate=-90)
    _ticks(svg, x_of)
    svg.text(LEFT + WIDTH / 2, COUNTS_TOP + COUNTS_HEIGHT + 32, "forecast probability", size=10,
             anchor="middle")
    return svg.uri()
