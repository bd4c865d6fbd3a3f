"""Several analysts and the recalibration in words: one helper per phrase, shared by the
terminal, Markdown and HTML renderers so the three say the same thing. No I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import pct

if TYPE_CHECKING:
    from ..analysis.report_document import NodeReport, ReportDocument

# the dots of the analysts on the forecast chart, in the document's analyst order
ANALYST_COLOURS = ("#c0392b", "#e67e22", "#8e44ad", "#16a085", "#2c3e50", "#b7950b", "#d35400",
                   "#7f8c8d")


def analyst_colour(document: ReportDocument, analyst: str) -> str:
    return ANALYST_COLOURS[document["analysts"].index(analyst) % len(ANALYST_COLOURS)]


def analyst_number(node: NodeReport, analyst: str) -> str:
    """One analyst's forecast of a question: P(yes), or their most likely outcome and its chance."""
    value = node["by_analyst"][analyst]
    if isinstance(value, list):
        best = max(value, key=lambda row: row["mean"])
        return f"{best['state']} {pct(best['mean'])}"
    return pct(value)


def analysts_words(node: NodeReport, names: bool = True) -> str:
    """'base-rates 18.3% · mediator 32.5%; spread 14.2 pp' (empty without analysts); without
    `names`, the numbers alone in the analysts' order ('18.3% · 32.5% (14.2 pp)')."""
    if "by_analyst" not in node:
        return ""
    if not names:
        return (" · ".join(analyst_number(node, a) for a in node["by_analyst"])
                + f" ({100 * node['spread']:.1f} pp)")
    numbers = " · ".join(f"{a} {analyst_number(node, a)}" for a in node["by_analyst"])
    return f"{numbers}; spread {100 * node['spread']:.1f} pp"


def team_sentence(document: ReportDocument) -> str:
    """What the forecast is, said once: the pool of which analysts, or one analyst alone."""
    if document.get("analyst"):
        return (f"One analyst alone: {document['analyst']}'s priors (the team's pooled forecast "
                "is the report without --analyst).")
    if not document.get("analysts"):
        return ""
    names = document.get("analyst_names", {})
    who = ", ".join(a if names.get(a, a) == a else f"{a} ({names[a]})" for a in document["analysts"])
    return (f"The team's forecast: the logarithmic pool (the mean of the log-odds; over more "
            f"outcomes the normalised geometric mean) of {len(document['analysts'])} analysts' "
            f"forecasts, each made with their own priors and the shared evidence: {who}.")


def prior_number(value) -> str:
    return " / ".join(pct(v) for v in value) if isinstance(value, list) else pct(value)


def disagreement_items(document: ReportDocument) -> list[dict]:
    """The questions the team splits on most, each with its driving priors as
    {"where", "views": [(analyst, number, own, rationale)]} (what every renderer shows)."""
    out = []
    for split in document.get("disagreement", []):
        node = next(n for n in document["nodes"] if n["id"] == split["node"])
        rows = [{"where": f"{row['node']} ({row['when']})",
                 "views": [(a, prior_number(v["mean"]), v["own"], v["rationale"])
                           for a, v in row["by_analyst"].items()]}
                for row in split["priors"]]
        out.append({"id": split["node"], "label": split["label"],
                    "spread_pp": f"{100 * split['spread']:.1f} pp",
                    "numbers": " · ".join(f"{a} {analyst_number(node, a)}"
                                          for a in split["by_analyst"]),
                    "rows": rows})
    return out


def recalibration_sentence(document: ReportDocument) -> str:
    """Where the report shows recalibrated forecasts: what they are learned from."""
    basis = document.get("recalibration")
    if not basis:
        return ""
    before, after = basis.get("raw_brier"), basis.get("recalibrated_brier")
    check = (f"; on held-out questions the Brier score went from {before:.3f} to {after:.3f}"
             if before is not None and after is not None else "")
    return (f"Recalibrated forecasts (logit p' = a + b logit p, group {basis['group']}) are learned "
            f"from {basis['n']} resolved forecast{'s' if basis['n'] != 1 else ''} by "
            f"`forecast recalibrate` (fitted on {basis['fitted_on']}){check}.")


def recalibrated_words(node: NodeReport) -> str:
    value = node.get("recalibrated")
    if not value:
        return ""
    low, high = value["interval"]
    return f"{pct(value['mean'])} ({pct(low)} – {pct(high)})"
