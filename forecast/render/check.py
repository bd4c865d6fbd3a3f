"""The self-check (`forecast check`): on the terminal, the engine against its reference, then
simulation-based calibration, then the verdict; as HTML (jinja2 with autoescape), the same with
the rank histograms embedded as a data URI."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from . import sbc_divergences
from .pages import template_environment
from .terminal import columns_table, wrote_line


def print_check(document: dict, written, console: Console) -> None:
    a, s = document["agreement"], document["sbc"]
    tested, reference = a["columns"]["tested"], a["columns"]["reference"]
    states = a.get("states")            # a network with questions of more than two outcomes
    rows = states or a["nodes"]
    head = ("node", "state") if states else ("node",)
    table = columns_table(f"{document['engine']} engine against its reference on "
                          f"{document['scenario']} (z limit {a['z_limit']:.2f})",
                          (*head, tested.replace("_", " "), reference.replace("_", " "), "MCSE",
                           "reference SE", "z"))
    for n in rows:
        first = (escape(n["id"]), escape(n["state"])) if states else (escape(n["id"]),)
        table.add_row(*first, f"{n[tested]:.4f}", f"{n[reference]:.4f}", f"{n['mcse']:.4f}",
                      f"{n.get('reference_se') or 0:.4f}", f"{n['z']:.2f}")
    console.print(table)
    if s["quantities"]:
        sbc = columns_table(f"SBC: {s['simulations']} simulations, {s['bins']} rank bins, "
                            f"p limit {s['p_limit']:.5f}", ("quantity", "chi-square", "p-value"))
        for q in s["quantities"]:
            sbc.add_row(escape(q["name"]), f"{q['chi2']:.2f}", f"{q['p_value']:.4f}")
        console.print(sbc)
        console.print(sbc_divergences(s, document["engine"]), markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(f"SBC: {s['note']}", markup=False)
    verdict = "PASSED" if document["passed"] else "FAILED"
    console.print(f"Self-check {verdict}: agreement {'passed' if a['passed'] else 'failed'}, "
                  f"SBC {'passed' if s['passed'] else 'failed'}", markup=False, highlight=False)
    if written:
        console.print(wrote_line(written), markup=False, highlight=False)


def render_check_html(document: dict) -> str:
    from .charts.sbc_ranks import rank_histograms

    sbc = document["sbc"]
    quantities = [{**q, "passed": q["p_value"] >= sbc["p_limit"]} for q in sbc["quantities"]]
    chart = rank_histograms(quantities, sbc["ranks"]) if quantities else None
    words = (sbc_divergences(sbc, document.get("engine", "nuts"))
             if "fits_with_divergences" in sbc else "")
    return template_environment().get_template("check.html.j2").render(doc=document, quantities=quantities,
                                                                       chart=chart, sbc_divergences=words)
