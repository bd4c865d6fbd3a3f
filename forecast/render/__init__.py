"""Renderers: the report document as a terminal table, Markdown, HTML, JSON or CSV. No I/O."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING

from ..model.calendar import overdue_warning

if TYPE_CHECKING:
    from ..analysis.report_document import ReportDocument


def pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def pct_or_dash(p: float | None) -> str:
    return "–" if p is None else pct(p)


def engine_words(document: ReportDocument) -> str:
    """Which engine made the numbers, in words a reader without statistics can use."""
    sampler = document.get("sampler") or {}
    if document.get("engine") == "exact":
        draws = sampler.get("draws")
        interval = ("exact intervals" if not isinstance(draws, int) else
                    "point intervals (every CPT entry is fixed: nothing to draw)" if draws == 0
                    else f"intervals from {draws:,} exact draws")
        return f"exact engine: exact means (no sampling, no Monte Carlo error), {interval}"
    backend = sampler.get("backend", "")
    shape = (f"{sampler['chains']} chains x {sampler['draws']} draws"
             if "chains" in sampler and "draws" in sampler else "")
    detail = ", ".join(part for part in (backend, shape) if part)
    return "NUTS engine: PyMC's sampler" + (f" ({detail})" if detail else "")


def num(value, digits: int = 4) -> str:
    """A score to `digits` decimals, or a dash where there is none."""
    return "–" if value is None else f"{value:.{digits}f}"


def signed_pp(value: float) -> str:
    return f"{value:+.1f} pp"


def timestamp(value: str) -> str:
    """An ISO timestamp as a reader writes it: '2025-03-11 14:05 UTC'."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    if moment.utcoffset() is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if moment.tzinfo else "")


def natural_key(text: str) -> list:
    """Sort key that orders E999 before E1000 (digits compare as numbers)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", text)]


def id_list(ids, limit: int = 10) -> str:
    """Item ids for one terminal line: all of them when few, else the count, the first three
    and the last (an import of 23,000 items is not 23,000 ids on a line)."""
    ids = sorted(ids, key=natural_key)
    if len(ids) <= limit:
        return ", ".join(ids) or "none"
    return f"{len(ids):,} ({', '.join(ids[:3])}, ..., {ids[-1]})"


def sbc_divergences(sbc: dict, engine: str = "nuts") -> str:
    """What the divergent transitions in simulation-based calibration mean, in a sentence; on
    the exact engine no sampler runs, so there is nothing to count."""
    fits, total, simulations = sbc["fits_with_divergences"], sbc["divergences"], sbc["simulations"]
    if engine == "exact":
        return (f"The {simulations} SBC fits are exact iid draws: no sampler ran, so there are no "
                "divergent transitions to count.")
    if not fits:
        return f"No divergent transitions in any of the {simulations} SBC fits."
    return (f"{fits} of {simulations} SBC fits had divergent transitions ({total} in all): NUTS "
            "struggled in some simulated worlds. A passing SBC says the forecasts are calibrated "
            "all the same; a failing one may be why (rerun check with more --tune).")


def trust_words(document: ReportDocument) -> tuple[bool, str]:
    """Whether the computation behind the numbers can be trusted, in words for a reader who has
    never heard of R-hat: (trusted, sentence). The sentence never claims more than the
    computation: the forecasts are only as sound as the priors and the coded evidence."""
    d = document.get("diagnostics") or {}
    basis = "They are as sound as the priors and the coded evidence behind them, no more."
    if d.get("warnings"):
        return False, ("Not yet. The random sampling that computed these forecasts reported "
                       "problems, so the numbers may be off by more than their rounding: treat "
                       "them as provisional until the analyst reruns as the warnings below advise.")
    if str(document.get("engine", "")).startswith("exact"):
        return True, ("Yes, as computation goes. These forecasts were computed exactly, without "
                      "random sampling, so a rerun gives the same numbers. " + basis)
    errors = [mcse for n in document.get("nodes", []) if (mcse := n.get("mcse")) is not None]
    margin = (f" by more than about {max(0.1, 200 * max(errors)):.1f} percentage points"
              if errors else " noticeably")
    return True, ("Yes, as computation goes. These forecasts come from random sampling and every "
                  "check on it passed (independent runs agree, and there are enough independent "
                  f"draws), so a rerun would not move any forecast{margin}. " + basis)


def ess_text(min_ess) -> str:
    """The smallest ESS, or n/a when nothing was sampled (every CPT entry fixed)."""
    return "n/a" if min_ess is None else str(min_ess)


def render_json(document: ReportDocument) -> str:
    from .json_text import indented_json

    return indented_json(document) + "\n"


def json_lines(value: list | dict) -> str:
    """JSON with one list item per line: readable, and written by the C encoder (a 60-node
    sensitivity has thousands of rows, which the indenting encoder spends seconds on)."""
    if isinstance(value, dict):
        body = ",\n".join(f"  {json.dumps(key)}: " + _rows(rows, "  ") for key, rows in value.items())
        return "{\n" + body + "\n}" if value else "{}"
    return _rows(value, "")


def _rows(rows: list, indent: str) -> str:
    if not rows:
        return "[]"
    inner = ",\n".join(f"{indent}  " + json.dumps(row, ensure_ascii=False) for row in rows)
    return "[\n" + inner + "\n" + indent + "]"


def render(document: ReportDocument, fmt: str) -> str:
    if fmt == "json":
        return render_json(document)
    if fmt == "md":
        from .markdown import render_markdown
        return render_markdown(document)
    if fmt == "html":
        from .html import render_html
        return render_html(document)
    if fmt == "csv":
        from .csv import render_csv
        return render_csv(document)
    from .terminal import render_table_text
    return render_table_text(document)


# -- time: what every rendering of a report says at the top ------------------------------------
AS_OF_BASIS = {
    "resolution": "the date of the latest resolution it takes into account",
    "evidence": "the date of the latest evidence item it uses",
    "scenario": "when the scenario was written (no evidence or resolution is dated later)",
}


def as_of_words(document: ReportDocument) -> str:
    """What "as of" means for this report, in a sentence."""
    if document.get("replay"):
        return (f"Replay as of {document['as_of']}: only the evidence and resolutions dated on or "
                "before that day count, as the tool would have forecast then.")
    basis = AS_OF_BASIS.get(document.get("as_of_basis", ""), "")
    words = f"As of {document['as_of']}" + (f", {basis}" if basis else "")
    if document.get("evaluated_on"):
        words += f"; evaluated on {document['evaluated_on']}"
    return words + "."


def overdue_banner(document: ReportDocument) -> str:
    """The overdue questions (past their deadline on the evaluation date, unresolved), or ''."""
    return overdue_warning((n["id"], n["deadline"]) for n in document["nodes"] if n.get("overdue"))


def term_of(probability: float, terms) -> str:
    """The ICD 203 phrase whose range holds `probability` (the document's `terms`): how a
    k-state question's most likely outcome is put in words."""
    ordered = sorted(terms.items(), key=lambda kv: kv[1][0])
    return next((name for name, (_low, high) in ordered if probability < high), ordered[-1][0])
