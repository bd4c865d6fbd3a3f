"""Self-contained HTML report (jinja2 with autoescape: evidence text is data, never markup).

Charts are SVG data URIs and the styles are inline, so the file opens anywhere, offline, and
fetches nothing."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from . import as_of_words, engine_words, overdue_banner, pct_or_dash, trust_words
from .evidence import INFLUENCE_SHOWN, evidence_log, influence_rows
from .graph_layout import structure_layers
from .history import current_point
from .pages import code_spans, template_environment
from .team import analyst_colour, disagreement_items, recalibration_sentence, team_sentence

if TYPE_CHECKING:
    from ..analysis.report_document import ReportDocument

# The page's Content-Security-Policy: nothing is fetched (images are data: URIs, styles inline)
# and the one script runs only if its text hashes to the value given here; no eval, no inline
# handlers, no other script.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {script}; "
       "base-uri 'none'; form-action 'none'")
_ISLAND_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                   ("\u2029", "\\u2029"))


def json_island(value) -> str:
    """JSON for a <script type="application/json"> element: no text in it can close the
    element or open a comment (<, >, & escaped as \\u003c...), nor break a JS string
    (U+2028/9). JSON.parse reads it back unchanged."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in _ISLAND_ESCAPES:
        text = text.replace(raw, escaped)
    return text


@cache
def whatif_script() -> str:
    """The page's what-if script (templates/whatif.js), exactly as it is hashed."""
    env = template_environment()
    return env.loader.get_source(env, "whatif.js")[0].replace("\r\n", "\n")


def script_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def page_parts(document: ReportDocument) -> dict:
    """The page's what-if: its data island, script and CSP, or why it is not there."""
    page = document.get("whatif_page") or {}
    if page.get("available"):
        script = whatif_script()
        return {"available": True, "island": Markup(json_island(page["model"])),
                "script": Markup(script), "csp": CSP.format(script=script_hash(script))}
    return {"available": False, "csp": CSP.format(script="'none'"),
            "reason": page.get("reason") or "this report was made without the model data the page needs; "
            "run `forecast report` again, or `forecast whatif --given NODE=yes`"}


def tornadoes(document: ReportDocument) -> list[dict]:
    """One tornado chart per open consequence (report.json's `sensitivity`), drawn in HTML."""
    from .decisions import hangs_on_sentence, tornado_rows

    by_id = {n["id"]: n for n in document["nodes"]}
    charts = []
    for target, rows in ((document.get("sensitivity") or {}).get("targets") or {}).items():
        if not rows or target not in by_id:
            continue
        forecast = rows[0]["forecast"]
        charts.append({"node": by_id[target], "forecast": forecast, "state": rows[0].get("state"),
                       "sentence": hangs_on_sentence(target, rows[:1]),
                       **tornado_rows(rows, forecast)})
    return charts


def watch_rows(document: ReportDocument) -> list[dict]:
    """The page's watch table: each question's forecast and what it moves most, in words."""
    from .decisions import moves_most, watch_forecast

    labels = {n["id"]: n.get("label") or n["id"] for n in document["nodes"]}
    return [{"node": w["node"], "value": w["value"], "forecast": watch_forecast(w),
             "moves": moves_most(w, labels=labels)} for w in document.get("watch") or []]


def prior_term(prior: dict, states, labels: dict) -> Markup:
    """What a prior row of a question's "Why these priors" says before its rationale: where it
    applies, its numbers and its strength (escaped). Written here rather than in the template:
    a 441-node network has 2,809 rows, which the template's loops took a quarter second over."""
    if prior["when"]:
        where = ", ".join(f"{escape(labels.get(k, ''))} {escape(v)}" for k, v in prior["when"].items())
        head = f"Given {where}"
    else:
        head = escape(prior["cause"]) if prior["cause"] else "Base rate"
    value = pct_or_dash(prior["mean"]) if prior["mean"] is not None else ", ".join(
        f"{escape(state)} {pct_or_dash(q)}" for state, q in zip(states, prior["row_mean"], strict=True))
    strength = (f" (strength {prior['strength']:g})" if prior["strength"] is not None
                else " (a constant)")
    return Markup(f"{head}:\n{value}{strength}")


def _percent(q: float) -> int:
    return int(round(100 * q))


def render_html(document: ReportDocument, charts: dict | None = None) -> str:
    """The report page; `charts` (from `charts.report_charts`) may come from a cache."""
    if charts is None:
        from .charts import report_charts

        charts = report_charts(document)
    return template_environment().get_template("report.html.j2").render(
        doc=document, charts=charts, influence=influence_rows(document),
        evidence_log=evidence_log(document),
        history=document.get("history") or [], history_skipped=document.get("history_skipped", 0),
        influence_shown=INFLUENCE_SHOWN, overdue_banner=code_spans(overdue_banner(document)),
        as_of_words=as_of_words(document), current=current_point(document),
        engine_words=engine_words(document),
        structure=structure_layers(document["nodes"]), trust=trust_words(document),
        page=page_parts(document), tornadoes=tornadoes(document), watch=watch_rows(document),
        prior_term=prior_term,
        labels={n["id"]: n.get("label") or n["id"] for n in document["nodes"]},
        team_items=disagreement_items(document), team_sentence=team_sentence(document),
        recalibration_sentence=recalibration_sentence(document),
        colours={a: analyst_colour(document, a) for a in document.get("analysts", [])},
        sens_low=_percent((document.get("sensitivity") or {}).get("quantiles", [0.05])[0]),
        sens_high=_percent((document.get("sensitivity") or {}).get("quantiles", [0, 0.95])[-1]))
