"""Markdown mirror of the HTML report, section for section, in text: key judgements,
forecasts beside priors, history, influential evidence, structure, evidence log, diagnostics.
Evidence text is escaped so it cannot inject markup."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ..model.calendar import overdue_sentence
from . import as_of_words, engine_words, ess_text, pct, term_of, timestamp, trust_words
from .decisions import sensitivity_markdown
from .evidence import INFLUENCE_SHOWN, evidence_log, influence_rows
from .graph_layout import depths
from .history import (
    current_point,
    group_probabilities,
    history_series,
    leader,
    state_groups,
    state_series,
)
from .team import (
    analysts_words,
    disagreement_items,
    recalibrated_words,
    recalibration_sentence,
    team_sentence,
)

if TYPE_CHECKING:
    from ..analysis.report_document import NodeReport, ReportDocument

# What Markdown (CommonMark plus GFM tables and strikethrough) needs escaped in running text,
# and no more, so `Reuters (Mar 2025)` reads as written in a terminal: code, emphasis, links and
# images (`[` `]`), raw HTML and autolinks (`<`), table cells (`|`), strikethrough (`~`) and the
# escape itself; `_` only at a word's edge (snake_case never emphasises); `&` only where it
# would start an entity; `#` `>` `+` `-` and `1.` only where they would open a block.
_MD_ALWAYS = re.compile(r"([\\`*\[\]<|~])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_MD_BLOCK_START = re.compile(r"^(?:([#>+=-])|(\d+)([.)]))")
_MD_CLOSING_HASHES = re.compile(r"(\s)(#+)$")
# any character one of the patterns above acts on: text without one is only re-spaced
_MD_ANY = re.compile(r"[\\`*\[\]<|~_&#]|^[>+=\-0-9]")


@lru_cache(maxsize=4096)    # a network's rows repeat their node's rationale and reference class
def md_escape(text: str) -> str:
    """`text` on one line, shown as written by any Markdown reader and by a terminal."""
    text = " ".join(str(text).split())
    return _md_escaped(text) if _MD_ANY.search(text) else text


def _md_escaped(text: str) -> str:
    """Every escape of `md_escape` applied to one line of text."""
    text = _MD_ALWAYS.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_ENTITY.sub(r"\\&", text)
    text = _MD_CLOSING_HASHES.sub(r"\1\\\2", text)
    return _MD_BLOCK_START.sub(lambda m: "\\" + m.group(1) if m.group(1)
                               else m.group(2) + "\\" + m.group(3), text)


def _label(node: NodeReport) -> str:
    return md_escape(node.get("label") or node["id"])


def _change(node: NodeReport) -> str:
    change = 100 * (node["mean"] - node["prior_mean"])
    return "unchanged" if abs(change) < 0.05 else f"{change:+.1f} pp"


def most_likely(node: NodeReport):
    """The state of a k-state question with the largest forecast (its distribution row)."""
    return max(node["distribution"], key=lambda row: row["mean"])


def _distribution(node: NodeReport) -> str:
    """Each state's forecast and its prior, in the node's order, cumulative when ordered."""
    parts = [f"{row['state']} {pct(row['mean'])} (prior {pct(row['prior_mean'])})"
             for row in node["distribution"]]
    text = " · ".join(parts)
    if node["ordered"]:
        total, cumulative = 0.0, []
        for row in node["distribution"][:-1]:
            total += row["mean"]
            cumulative.append(f"up to {row['state']} {pct(total)}")
        text += "; " + ", ".join(cumulative)
    return text


def _range(bounds) -> str:
    return f"{pct(bounds[0])} – {pct(bounds[1])}" if bounds else ""


def render_markdown(document: ReportDocument) -> str:
    nodes = document["nodes"]
    prob = int(round(100 * nodes[0]["interval_prob"]))
    lines = [f"# {md_escape(document['title'])}", ""]
    overdue = [n for n in document["nodes"] if n.get("overdue")]
    if overdue:
        lines += [f"> **Overdue:** {overdue_sentence(len(overdue))}: " + ", ".join(
            f"`{n['id']}` (deadline {n['deadline']})" for n in overdue), ""]
    lines += [f"*Trigger:* {md_escape(document['trigger'])}", ""]
    lines += [f"Forecast as of **{document['as_of']}** · generated "
              f"{timestamp(document['generated_at'])} · model {document['model_version']} · "
              f"{engine_words(document)} · seed {document['seed']}", "",
              as_of_words(document), ""]
    lines += [sentence + "\n" for sentence in (md_escape(team_sentence(document)),
                                               recalibration_sentence(document)) if sentence]
    if document.get("given"):
        lines += ["**Conditional forecast**, given " + ", ".join(
            f"`{k}` = {v}" for k, v in document["given"].items()), ""]

    lines += _briefing_lines(document)
    lines += ["## Key judgements", ""]
    for n in nodes:
        resolved = f", resolved {n['resolved']}" if n["resolved"] else ""
        if n["mean"] is None:
            best = most_likely(n)
            lines.append(f"- **{_label(n)}** ({n['role']}): most likely {best['state']}, "
                         f"{term_of(best['mean'], document['terms'])}, {pct(best['mean'])} "
                         f"({_distribution(n)}{resolved})")
            continue
        lines.append(f"- **{_label(n)}** ({n['role']}): {n['term']}, {pct(n['mean'])} "
                     f"({prob}% interval {_range(n['interval'])}; prior {pct(n['prior_mean'])}, "
                     f"{_change(n)}{resolved})")

    team = bool(document.get("analysts"))
    recalibrated = "recalibration" in document
    extra_head = (" recalibrated |" if recalibrated else "") + (" analysts |" if team else "")
    extra_rule = ("---:|" if recalibrated else "") + ("---|" if team else "")

    def extra(n) -> str:
        return ((f" {recalibrated_words(n)} |" if recalibrated else "")
                + (f" {analysts_words(n)} |" if team else ""))

    blank = " |" * ((1 if recalibrated else 0) + (1 if team else 0))
    lines += ["", "## Forecasts beside their priors", "",
              f"| node | role | prior | prior {prob}% | forecast | {prob}% interval | term | resolved |"
              + extra_head, "|---|---|---:|---:|---:|---:|---|---|" + extra_rule]
    for n in nodes:
        if n["mean"] is None:
            lines.append(f"| `{n['id']}` | {n['role']} | | | | | most likely {n['most_likely']} | "
                         f"{n['resolved'] or ''} |" + extra(n))
            lines += [f"| `{n['id']}` · {row['state']} | | {pct(row['prior_mean'])} | | "
                      f"{pct(row['mean'])} | {_range(row['interval'])} | | |" + blank
                      for row in n["distribution"]]
            continue
        lines.append(f"| `{n['id']}` | {n['role']} | {pct(n['prior_mean'])} | "
                     f"{_range(n.get('prior_interval'))} | {pct(n['mean'])} | {_range(n['interval'])} | "
                     f"{n['term']} | {n['resolved'] or ''} |" + extra(n))
    lines += _disagreement_lines(document)
    lines += ["", "## Questions", ""]
    for n in nodes:
        lines.append(f"- `{n['id']}`: {md_escape(n['question'])} (deadline {n['deadline']})")

    lines += ["", "## How the forecasts have moved", ""]
    lines += _history_lines(document)

    lines += ["", "## Evidence that moved each forecast most", "",
              f"Top {INFLUENCE_SHOWN} items or whole clusters per forecast; effect = how far it would move, "
              "in percentage points, if the item were left out. A cluster counts once, so a cluster line "
              "leaves all its items out together."
              + (" The forecast is the team's pool, and so is each effect: the pool of every "
                 "analyst's forecast without the item." if document.get("analysts") else ""), ""]
    for group in influence_rows(document):
        if group["entries"]:
            shown = group["node"]["mean"]
            if shown is None:
                best = most_likely(group["node"])
                headline = f"{best['state']} {pct(best['mean'])}"
            else:
                headline = pct(shown)
            lines.append(f"- **{_label(group['node'])}** ({headline}):")
            for e in group["entries"]:
                lines.append(f"  - {md_escape(e['label'])} ({e['effect_pp']:+.1f} pp, {e['date']}, "
                             f"{md_escape(e['source'])}, {e['grade']}): {md_escape(e['summary'])}")
        else:
            lines.append(f"- **{_label(group['node'])}**: no evidence has moved it.")

    lines += sensitivity_markdown(document)

    lines += ["", "## Structure of the scenario", ""]
    level = depths(nodes)
    for n in sorted(nodes, key=lambda n: level[n["id"]]):
        parents = ", ".join(f"`{p}`" for p in n["parents"]) or "none (a root)"
        cpt_text = n.get("cpt_text")
        form = f"; {md_escape(cpt_text)}" if cpt_text else ""
        lines.append(f"- `{n['id']}` ({n['role']}, depth {level[n['id']]}): depends on {parents}{form}")

    lines += ["", "## Evidence log", ""]
    log = evidence_log(document)
    if log:
        lines += ["| item | date | source | grade | cluster | bears on (LR) | summary |",
                  "|---|---|---|---|---|---|---|"]
        for e in log:
            bears = ", ".join(f"`{b['node']}`" + (f" = {b['state']}" if b.get("state") else "")
                              + " " + (b["lr_text"] if b.get("lrs") else f"{b['lr']:g}")
                              for b in e["bears_on"])
            lines.append(f"| {md_escape(e['item_id'])} | {e['date']} | {md_escape(e['source'])} | "
                         f"{e['grade']} | {md_escape(e['cluster'] or '')} | {bears} | "
                         f"{md_escape(e['summary'])} |")
    else:
        lines.append("No evidence has been coded yet.")
    if document.get("resolutions"):
        lines += ["", "Resolutions:", ""]
        lines += [f"- `{r['node']}`: {r['outcome']} on {r['date']} ({md_escape(r['source'])})"
                  for r in document["resolutions"]]

    d = document["diagnostics"]
    lines += ["", "## Diagnostics and reproducibility", "",
              f"**Can these numbers be trusted?** {trust_words(document)[1]}", "",
              f"- divergences: {d['divergences']}", f"- max R-hat: {d['max_rhat']}",
              f"- min ESS: {ess_text(d['min_ess'])}",
              "- warnings: " + ("; ".join(d["warnings"]) if d["warnings"] else "none"),
              f"- evidence hash: `{document['evidence_hash']}`",
              "- versions: " + ", ".join(f"{k} {v}" for k, v in document["versions"].items()),
              ""]
    return "\n".join(lines)


def _briefing_lines(document: ReportDocument) -> list[str]:
    """Bottom line, key assumptions and the questions with their criteria, confidence, main
    driver and the reasoning behind their priors: what a reader needs before the tables."""
    labels = {n["id"]: n.get("label") or n["id"] for n in document["nodes"]}
    lines = ["## Bottom line", ""]
    lines += [" ".join(md_escape(s) for s in document.get("bottom_line") or [])
              or "No forecast to summarise.", ""]
    lines += ["## Key assumptions", "",
              "The judgements the forecasts hang on most: priors (analysts' base rates), not evidence.", ""]
    for a in document.get("key_assumptions") or []:
        lines += [f"1. {md_escape(a['sentence'])}",
                  f"   *Why:* {md_escape(a['rationale'])} "
                  f"*Reference class:* {md_escape(a['reference_class'])}"]
    if not document.get("key_assumptions"):
        lines.append("None to show: every consequence is resolved, or every prior the open "
                     "consequences hang on is fixed (a fixed number has no range to swing over).")
    lines += ["", "## The questions", ""]
    for n in document["nodes"]:
        said = (f"resolved {n['resolved']}" if n["resolved"] else
                f"most likely {n['most_likely']}" if n["mean"] is None else f"{pct(n['mean'])}, {n['term']}")
        lines += [f"### {_label(n)} ({n['role']}): {said}", "",
                  f"{md_escape(n['question'])} (deadline {n['deadline']}"
                  + (", overdue)" if n.get("overdue") else ")"), "",
                  f"*Resolution:* {md_escape(n['resolution_criteria'])}", ""]
        if n.get("confidence"):
            lines += [f"*Confidence:* {md_escape(n['confidence']['statement'])}", ""]
        if n.get("conditional"):
            c = n["conditional"]
            lines += [f"*If {md_escape(labels[c['driver']])} happens* ({pct(c['driver_p'])} now): "
                      f"{pct(c['if_yes'])}; *if it does not:* {pct(c['if_no'])}.", ""]
        for p in n.get("priors") or []:
            given = ", ".join(f"{labels.get(k, k)} {v}" for k, v in p["when"].items())
            head = f"Given {given}" if given else (p["cause"] or "Base rate")
            strength = f"strength {p['strength']:g}" if p["strength"] is not None else "a constant"
            value = pct(p["mean"]) if p["mean"] is not None else ", ".join(
                f"{state} {pct(q)}" for state, q in zip(n["states"], p["row_mean"], strict=True))
            lines.append(f"- {md_escape(head)}: {value} ({strength}). "
                         f"{md_escape(p['rationale'])} *Reference class:* {md_escape(p['reference_class'])}")
        lines.append("")
    return lines


def _history_lines(document: ReportDocument) -> list[str]:
    """The history as tables: one row per as-of date, one column per yes/no question (the
    mean); then, per question of more outcomes, a table of its states' probabilities."""
    nodes = document["nodes"]
    history = document.get("history") or []
    series = history_series(history, [n["id"] for n in nodes])
    by_states = [(n, points) for n in nodes if n["mean"] is None and n.get("distribution")
                 for points in [state_series(history, n["id"], n["states"])] if points]
    now = current_point(document)
    pending = now is not None and not now["is_snapshot"]
    lines = []
    if not any(series.values()) and not by_states:
        lines.append(f"There is no forecast history yet: each `forecast update` adds a snapshot to "
                     f"`reports/{document['scenario']}/history.jsonl`.")
    elif any(series.values()):
        dates = sorted({point[0] for points in series.values() for point in points})
        means = {node_id: {point[0]: point[1] for point in points} for node_id, points in series.items()}
        # questions with more outcomes have a table each, below
        nodes = [n for n in nodes if n["mean"] is not None]
        lines += ["| as of | " + " | ".join(f"`{n['id']}`" for n in nodes) + " |",
                  "|---|" + "---:|" * len(nodes)]
        for day in dates:
            cells = [pct(means[n["id"]][day]) if day in means[n["id"]] else "" for n in nodes]
            lines.append(f"| {day.isoformat()} | " + " | ".join(cells) + " |")
        if pending:
            cells = [pct(now["means"].get(n["id"])) for n in nodes]
            lines.append(f"| {now['as_of'].isoformat()} (this report, not yet a snapshot) | "
                         + " | ".join(cells) + " |")
    for node, points in by_states:
        lines += _state_history_lines(node, points, now if pending else None, first=not lines)
    skipped = document.get("history_skipped", 0)
    if skipped:
        lines += ["", f"{skipped} unreadable line(s) of the history were left out."]
    return lines


def _state_history_lines(node: NodeReport, points, now: dict | None, first: bool) -> list[str]:
    """One question of more outcomes through the history: a row per as-of date, a column per
    state (its probability; past 12 states, the chart's groups) and the most likely state."""
    states = node["states"]
    rows = [(day.isoformat(), probabilities) for day, probabilities in points]
    if now is not None:
        rows.append((f"{now['as_of'].isoformat()} (this report, not yet a snapshot)",
                     now["distributions"][node["id"]]))
    groups = state_groups(states, node["ordered"], [p for _, p in rows])
    order = "ordered, lowest first" if node["ordered"] else "unordered"
    if len(groups) < len(states):
        order += (f"; in {len(groups)} runs of neighbours" if node["ordered"]
                  else f"; the {len(groups) - 1} likeliest, the rest together")
    named = node.get("label") not in (None, node["id"])
    name = f"**{_label(node)}** (`{node['id']}`)" if named else f"`{node['id']}`"
    lines = ([] if first else [""]) + [
        f"{name}: each outcome's probability ({len(states)} outcomes, {order})", "",
        "| as of | " + " | ".join(md_escape(group) for group, _ in groups) + " | most likely |",
        "|---|" + "---:|" * len(groups) + "---|"]
    for day, probabilities in rows:
        lines.append(f"| {day} | " + " | ".join(pct(p) for p in group_probabilities(groups, probabilities))
                     + f" | {md_escape(leader(probabilities, states)[0])} |")
    return lines


def _disagreement_lines(document: ReportDocument) -> list[str]:
    """The questions the team splits on most, and each analyst's prior and rationale behind it."""
    items = disagreement_items(document)
    if not items:
        return []
    lines = ["", "## Where the team disagrees most", ""]
    for item in items:
        lines += [f"### {md_escape(item['label'])} (`{item['id']}`): spread {item['spread_pp']}", "",
                  item["numbers"], ""]
        for row in item["rows"]:
            lines.append(f"- prior `{row['where']}`:")
            lines += [f"  - **{analyst}** {number}{'' if own else ' (the scenario’s prior)'}: "
                      f"{md_escape(rationale)}" for analyst, number, own, rationale in row["views"]]
        lines.append("")
    return lines
