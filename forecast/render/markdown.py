"""Markdown mirror of the report. Evidence text is escaped so it cannot inject markup."""

from __future__ import annotations

import re

from . import pct

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(document: dict) -> str:
    lines = [f"# {md_escape(document['title'])}", ""]
    lines += [f"*Trigger:* {md_escape(document['trigger'])}", ""]
    lines += [f"As of **{document['as_of']}** · generated {document['generated_at']} · "
              f"model {document['model_version']} · engine {document['engine']} · seed "
              f"{document['seed']}", ""]
    if document.get("given"):
        lines += ["**Conditional forecast**, given " + ", ".join(
            f"`{k}` = {v}" for k, v in document["given"].items()), ""]
    prob = int(round(100 * document["nodes"][0]["interval_prob"]))
    lines += ["## Forecasts", "",
              f"| node | role | prior | posterior | {prob}% interval | term | resolved |",
              "|---|---|---:|---:|---:|---|---|"]
    for n in document["nodes"]:
        low, high = n["interval"]
        lines.append(f"| `{n['id']}` | {n['role']} | {pct(n['prior_mean'])} | {pct(n['mean'])} | "
                     f"{pct(low)} – {pct(high)} | {n['term']} | {n['resolved'] or ''} |")
    lines += ["", "## Questions", ""]
    for n in document["nodes"]:
        lines.append(f"- `{n['id']}`: {md_escape(n['question'])} (deadline {n['deadline']})")
    lines += ["", "## Evidence that moved each forecast most", ""]
    for n in document["nodes"]:
        if n["top_evidence"]:
            moves = ", ".join(f"{md_escape(e['item_id'])} ({e['effect_pp']:+.1f} pp)"
                              for e in n["top_evidence"])
            lines.append(f"- `{n['id']}`: {moves}")
    lines += ["", "## Evidence", "", "| item | node | date | grade | LR | cluster | summary |",
              "|---|---|---|---|---:|---|---|"]
    for e in document["evidence"]:
        lines.append(f"| {md_escape(e['item_id'])} | `{e['node']}` | {e['date']} | {e['grade']} | "
                     f"{e['lr']:g} | {md_escape(e['cluster'] or '')} | {md_escape(e['summary'])} |")
    d = document["diagnostics"]
    lines += ["", "## Diagnostics", "",
              f"- divergences: {d['divergences']}", f"- max R-hat: {d['max_rhat']}",
              f"- min ESS: {d['min_ess']}",
              "- warnings: " + ("; ".join(d["warnings"]) if d["warnings"] else "none"),
              f"- evidence hash: `{document['evidence_hash']}`",
              "- versions: " + ", ".join(f"{k} {v}" for k, v in document["versions"].items()),
              ""]
    return "\n".join(lines)
