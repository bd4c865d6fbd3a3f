"""What to watch and what each forecast hangs on, for people: terminal tables, the short list
in report.md and the tornado rows of report.html. No I/O; node ids and numbers only (no
evidence text reaches these)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import pct

if TYPE_CHECKING:
    from ..analysis.report_document import ReportDocument, SensitivityRow, WatchRow

WATCH_NOTE = (
    "value: the expected reduction of the targets' summed Brier uncertainty if the question were "
    "resolved next (the variance, over its outcome, of each target's forecast). {prob}% over CPT "
    "draws: that value across what we do not know about the mechanism; best in: the share of "
    "draws under which the question ranks first (low shares: a fragile ranking).")
WATCH_FIXED_NOTE = (
    "value: the expected reduction of the targets' summed Brier uncertainty if the question were "
    "resolved next (the variance, over its outcome, of each target's forecast). Every CPT entry "
    "is fixed, so the values are exact: there is no spread over CPT draws to show.")


def entry_label(node: str, when: dict, cause: str | None = None, cpt: str = "table",
                state: str = "yes") -> str:
    """'P(node | parent = yes)' or 'P(node)' for a yes/no table entry, 'P(node = state | ...)'
    for a state of a question with other outcomes; a parametric CPT's base or a parent's
    number in words."""
    if cause == "base":
        return f"base of {node} ({cpt}: P({node}) with no parent yes)"
    if cause:
        return f"{cause}'s number on {node} ({cpt})"
    event = node if state == "yes" else f"{node} = {state}"
    if not when:
        return f"P({event})"
    return f"P({event} | " + ", ".join(f"{k} = {v}" for k, v in when.items()) + ")"


def row_label(row: SensitivityRow) -> str:
    return entry_label(row["node"], row["when"], row.get("cause"), row.get("cpt", "table"),
                       row.get("entry_state", "yes"))


def forecast_words(value) -> str:
    """A forecast in a watch row: P(yes) as a percentage, or a distribution ({state: p}) as
    its most likely state and that state's percentage."""
    if isinstance(value, dict):
        state = max(value, key=lambda s: value[s])
        return f"{state} {pct(value[state])}"
    return pct(value)


def watch_forecast(item: WatchRow) -> str:
    """The question's own forecast: P(yes), or its most likely outcome."""
    if item.get("p_yes") is not None:
        return pct(item["p_yes"])
    return forecast_words(item.get("distribution") or {})


def _console(buffer: io.StringIO, width: int) -> Console:
    return Console(file=buffer, width=width, force_terminal=False, color_system=None)


def moves_most(item: WatchRow, code: bool = False, labels: dict | None = None) -> str:
    """The target whose forecast the question's outcome moves most, in words (its label from
    `labels` where given)."""
    if not item["per_target"]:
        return ""
    target = max(item["per_target"], key=lambda t: (item["per_target"][t], t))
    name = f"`{target}`" if code else (labels or {}).get(target, target)
    if item.get("if_state") is None:
        return f"{name}: {pct(item['if_yes'][target])} if yes, {pct(item['if_no'][target])} if no"
    return f"{name}: " + ", ".join(f"{forecast_words(given[target])} if {state}"
                                   for state, given in item["if_state"].items())


def team_words(document: dict, how: str) -> str:
    """Whose priors a decision document is on: the team's (and how its numbers combine the
    analysts'), one analyst's, or "" for a scenario without analysts."""
    if document.get("analyst"):
        return f"Analyst {document['analyst']} alone (their priors, the shared evidence)."
    if document.get("analysts"):
        return (f"The team of {len(document['analysts'])} analysts ("
                + ", ".join(document["analysts"]) + f"): {how}; --analyst NAME for one alone.")
    return ""


def render_watch_text(document: dict, width: int = 120) -> str:
    buffer = io.StringIO()
    console = _console(buffer, width)
    prob = int(round(100 * document["interval_prob"]))
    title = f"What to watch — {document['scenario']}, as of {document['as_of']}"
    console.print(Text(title + (" (replay)" if document["replay"] else "")))
    whose = team_words(document, "each question's forecasts are the pool of the analysts', its "
                       "value the mean of their own values")
    if whose:
        console.print(Text(whose), soft_wrap=True)
    if not document["targets"]:
        console.print(Text("No unresolved consequence to forecast: name targets with --target NODE."))
        return buffer.getvalue()
    console.print(Text("Targets: " + ", ".join(document["targets"])), soft_wrap=True)
    if not document["watch"]:
        console.print(Text("Every question is resolved: nothing left to watch."))
        return buffer.getvalue()
    spread = document["cpt_draws"] > 0     # none: every entry fixed, each value a point
    table = Table(title_justify="left")
    columns = [("rank", "right"), ("question", "left"), ("forecast", "right"), ("value", "right")]
    if spread:
        columns += [(f"{prob}% over CPT draws", "right"), ("best in", "right")]
    for name, justify in columns + [("moves most", "left")]:
        table.add_column(name, justify=justify)
    for rank, item in enumerate(document["watch"], start=1):
        cells = [str(rank), Text(item["node"]), watch_forecast(item), f"{item['value']:.4f}"]
        if spread:
            low, high = item["interval"]
            cells += [f"{low:.4f} – {high:.4f}", f"{100 * item['top_share']:.0f}%"]
        table.add_row(*cells, Text(moves_most(item)))
    console.print(table)
    console.print(Text((WATCH_NOTE if spread else WATCH_FIXED_NOTE).format(prob=prob)),
                  soft_wrap=True)
    console.print(Text(f"engine {document['engine']} · {document['cpt_draws']} CPT draws"))
    return buffer.getvalue()


def render_sensitivity_text(document: dict, top: int = 10, width: int = 120) -> str:
    buffer = io.StringIO()
    console = _console(buffer, width)
    low_q, high_q = (int(round(100 * q)) for q in document["quantiles"])
    title = f"What each forecast hangs on — {document['scenario']}, as of {document['as_of']}"
    console.print(Text(title + (" (replay)" if document["replay"] else "")))
    whose = team_words(document, "each forecast is the pool of the analysts' forecasts with the "
                       "number at each one's own quantile (the quantiles shown are pooled too)")
    if whose:
        console.print(Text(whose), soft_wrap=True)
    if not document["targets"]:
        console.print(Text("No unresolved consequence to forecast: name targets with --target NODE."))
        return buffer.getvalue()
    for target in document["targets"]:
        rows = document["sensitivity"][target]
        state = (document.get("states") or {}).get(target)
        forecast = pct(document["forecasts"][target])
        table = Table(title=Text(f"{target}: forecast {f'{state} {forecast}' if state else forecast}"),
                      title_justify="left")
        for name, justify in (("CPT number", "left"), (f"at its {low_q}% quantile", "right"),
                              (f"at its {high_q}% quantile", "right"), ("swing", "right")):
            table.add_column(name, justify=justify)
        for row in rows[:top]:
            table.add_row(Text(row_label(row)),
                          f"{pct(row['low'])} (at {row['entry_low']:.2f})",
                          f"{pct(row['high'])} (at {row['entry_high']:.2f})",
                          f"{row['swing_pp']:.1f} pp")
        console.print(table)
        if len(rows) > top:
            console.print(Text(f"  ... and {len(rows) - top} more entries (--top, or --format json)"))
    console.print(Text(f"Each row: the forecast with that one CPT number (a table entry, or a "
                       f"parametric CPT's base or parent number) at its prior's {low_q}% and "
                       f"{high_q}% quantiles (the number in brackets), every other number at its "
                       "prior mean."), soft_wrap=True)
    return buffer.getvalue()


def hangs_on_sentence(target: str, rows: list[SensitivityRow], code: bool = False) -> str:
    """'hangs mostly on P(x | y = yes) (swing 23.1 pp: ...), then P(...) (9.0 pp)' (`code`:
    each entry in Markdown backticks)."""
    def label(row: SensitivityRow) -> str:
        return f"`{row_label(row)}`" if code else row_label(row)

    if not rows or rows[0]["swing_pp"] < 0.05:
        return "hangs on no single prior: no CPT entry moves it by 0.1 pp"
    first = rows[0]
    words = (f"hangs mostly on {label(first)} (swing {first['swing_pp']:.1f} pp: "
             f"{pct(first['low'])} to {pct(first['high'])})")
    rest = [r for r in rows[1:3] if r["swing_pp"] >= 0.05]
    if rest:
        words += ", then " + ", ".join(f"{label(r)} ({r['swing_pp']:.1f} pp)" for r in rest)
    return words


def sensitivity_markdown(document: ReportDocument) -> list[str]:
    """The short lists in report.md: which open question to watch, and per unresolved
    consequence, what its forecast hangs on."""
    sens = document.get("sensitivity")
    if not sens:
        return []
    low_q, high_q = (int(round(100 * q)) for q in sens["quantiles"])
    lines = ["", "## What to watch, and what each forecast hangs on", ""]
    if document.get("watch"):
        lines += ["Open questions whose answer would sharpen the open consequences' forecasts most "
                  "(expected reduction of their summed Brier uncertainty; `forecast watch` gives all, "
                  "with each value's range over the CPT uncertainty):", ""]
        for w in document["watch"]:
            lines.append(f"- `{w['node']}` ({watch_forecast(w)}): value {w['value']:.4f}"
                         + (f"; moves most {moves_most(w, code=True)}" if w["per_target"] else ""))
        lines.append("")
    lines += [f"One-way sensitivity: each forecast with one CPT entry at its prior's {low_q}% and "
             f"{high_q}% quantiles, every other entry at its prior mean (`forecast sensitivity` "
             "lists them all).", ""]
    for target, rows in sens["targets"].items():
        lines.append(f"- `{target}`: this forecast {hangs_on_sentence(target, rows, code=True)}")
    return lines


def tornado_rows(rows: list[SensitivityRow], forecast: float) -> dict:
    """Geometry of one tornado chart, in percent of its width: a shared axis from the lowest
    to the highest forecast any entry gives (padded), each bar from the entry-low forecast to
    the entry-high one, and the forecast itself as the centre line."""
    values = [forecast] + [r[k] for r in rows for k in ("low", "high")]
    lo, hi = min(values), max(values)
    pad = max(0.02, 0.08 * (hi - lo))
    lo, hi = max(0.0, lo - pad), min(1.0, hi + pad)
    span = (hi - lo) or 1.0

    def x(p: float) -> float:
        return round(100 * (p - lo) / span, 2)

    bars = []
    for r in rows:
        left, right = sorted((r["low"], r["high"]))
        bars.append({**r, "label": row_label(r), "left": x(left),
                     "width": max(0.4, round(x(right) - x(left), 2)),
                     "rises": r["high"] >= r["low"]})
    return {"axis_low": lo, "axis_high": hi, "centre": x(forecast), "bars": bars}
