"""Charts of the track record and the self-check: a reliability diagram and SBC rank
histograms, as SVG data URIs so the HTML embeds them and fetches nothing.

matplotlib (Agg, via `Figure` without pyplot) is imported inside the functions only.
"""

from __future__ import annotations

import io
import math

from .plots import svg_data_uri

INK = "#1d2330"
NAVY = "#1f4e79"
BAND = "#dbe5f1"
BAD = "#b23b3b"
MUTED = "#5b6475"

STYLE = {
    "svg.fonttype": "path",
    "svg.hashsalt": "forecast-calibration",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg_uri(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight",
                   pad_inches=0.08)
    return svg_data_uri(buffer.getvalue().decode("utf-8"))


def reliability_diagram(bins: list[dict]) -> str:
    """Observed frequency against mean forecast per bin, the diagonal, and the band of
    +-2 binomial standard errors a calibrated forecaster stays inside; counts below."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(5.2, 5.6), dpi=100)
        top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1]})
        top.plot([0, 1], [0, 1], color=MUTED, lw=1, ls="--", label="perfect calibration")
        filled = [b for b in bins if b["count"]]
        if filled:
            x = [b["mean_forecast"] for b in filled]
            se = [b["se"] for b in filled]
            top.errorbar(x, x, yerr=[2 * s for s in se], fmt="none", ecolor="#9dbbdc", elinewidth=6,
                         alpha=0.8, label="calibrated ±2 SE")
            top.plot(x, [b["observed"] for b in filled], "o-", color=NAVY, ms=6, label="observed")
        top.set_xlim(0, 1)
        top.set_ylim(-0.02, 1.02)
        top.set_ylabel("observed frequency of yes")
        top.legend(loc="upper left", frameon=False)
        top.set_title("Reliability diagram", loc="left", color=INK)
        centres = [(b["low"] + b["high"]) / 2 for b in bins]
        widths = [0.9 * (b["high"] - b["low"]) for b in bins]
        bottom.bar(centres, [b["count"] for b in bins], width=widths, color=NAVY)
        bottom.set_ylabel("forecasts")
        bottom.set_xlabel("forecast probability")
        return _svg_uri(figure)


def rank_histograms(quantities: list[dict], n_ranks: int) -> str:
    """One SBC rank histogram per quantity with the central 99% band of a uniform histogram's
    bin counts (Binomial(N, 1/bins)); bars of quantities that fail their test are red."""
    import matplotlib
    from matplotlib.figure import Figure
    from scipy import stats

    columns = 4
    rows = max(1, math.ceil(len(quantities) / columns))
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(11, 2.0 * rows), dpi=100)
        axes = figure.subplots(rows, columns, squeeze=False)
        for ax in axes.ravel()[len(quantities):]:
            ax.set_visible(False)
        for ax, q in zip(axes.ravel(), quantities, strict=False):
            counts = q["counts"]
            bins, total = len(counts), sum(counts)
            low, high = stats.binom.ppf([0.005, 0.995], total, 1 / bins)
            ax.axhspan(low, high, color=BAND, lw=0)
            ax.axhline(total / bins, color=MUTED, lw=0.8)
            width = n_ranks / bins
            ax.bar([width * (k + 0.5) for k in range(bins)], counts, width=0.9 * width,
                   color=BAD if not q["passed"] else NAVY)
            ax.set_xlim(0, n_ranks)
            ax.set_title(f"{q['name']}\np = {q['p_value']:.3f}", fontsize=7.5, loc="left")
            ax.tick_params(labelsize=7)
        figure.tight_layout()
        return _svg_uri(figure)
