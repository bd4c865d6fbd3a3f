"""The self-check's rank histograms (`forecast check`): one per quantity of simulation-based
calibration, inside the central 99% band of a uniform histogram's bin counts
(Binomial(N, 1/bins)); the bars of a quantity that fails its test are red."""

from __future__ import annotations

from ..svg import INK, MUTED, NO, NULL_BAND, POSTERIOR, Svg

COLUMNS = 4
CELL_W, CELL_H = 270.0, 190.0           # one quantity's panel, in pixels
LEFT, TOP, PLOT_W, PLOT_H = 40.0, 40.0, 215.0, 120.0


def rank_histograms(quantities: list[dict], n_ranks: int) -> str:
    """The histograms as a data URI; each quantity has `counts`, `name`, `p_value`, `passed`."""
    from scipy import stats

    columns = min(COLUMNS, max(1, len(quantities)))
    rows = max(1, -(-len(quantities) // COLUMNS))
    svg = Svg(columns * CELL_W + 10, rows * CELL_H)
    for index, q in enumerate(quantities):
        left = LEFT + (index % COLUMNS) * CELL_W
        top = TOP + (index // COLUMNS) * CELL_H
        counts = q["counts"]
        bins, total = len(counts), sum(counts)
        low, high = (float(v) for v in stats.binom.ppf([0.005, 0.995], total, 1 / bins))
        most = max(max(counts, default=0), high) * 1.05 or 1.0

        def y_of(count: float, top=top, most=most) -> float:
            return top + PLOT_H * (1 - count / most)

        svg.text(left - 30, top - 26, q["name"], size=9.5, weight="bold")
        svg.text(left - 30, top - 12, f"p = {q['p_value']:.3f}", size=9, fill=MUTED)
        svg.rect(left, y_of(high), PLOT_W, y_of(low) - y_of(high), NULL_BAND)
        width = PLOT_W / bins
        colour = POSTERIOR if q["passed"] else NO
        for k, count in enumerate(counts):
            if count:
                svg.rect(left + width * (k + 0.05), y_of(count), 0.9 * width, y_of(0) - y_of(count),
                         colour)
        svg.line(left, y_of(total / bins), left + PLOT_W, y_of(total / bins), MUTED, 0.8)
        svg.line(left, top + PLOT_H, left + PLOT_W, top + PLOT_H, INK, 0.8)
        svg.line(left, top, left, top + PLOT_H, INK, 0.8)
        for count in (0, round(most / 1.05)):
            svg.text(left - 4, y_of(count), str(count), size=8, fill=MUTED, anchor="end")
        for rank, anchor in ((0, "start"), (n_ranks, "end")):
            svg.text(left + PLOT_W * rank / n_ranks, top + PLOT_H + 10, str(rank), size=8,
                     fill=MUTED, anchor=anchor)
    return svg.uri()
