"""The what-if inside report.html, in a real browser (Debian's chromium over the DevTools pipe
of tests/test_html_browser.py): clicking yes / no / clear on a card makes every card's
`data-mean` the exact conditional forecast, equal to the exact engine's to 1e-9; the page stays
self-contained (no request), quiet (no console error) and safe (a CSP-pinned script, a JSON data
island that cannot close its element, hostile evidence text inert); a scenario the page cannot
compute says so and carries no script."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import cached_fit
from test_html_browser import HOSTILE, DevTools
from test_html_browser import chromium as chromium  # noqa: F401  (the session fixture)

from forecast.analysis import decisions
from forecast.analysis.decisions import report_decisions
from forecast.analysis.document import build_report
from forecast.inference import exact
from forecast.inference.problem import fit, prepare
from forecast.inference.settings import SamplerSettings
from forecast.io.project import load_inputs, scenario_paths
from forecast.model.generate import evidence_csv, scenario_toml
from forecast.render import render
from forecast.render.html import CSP, json_island, script_hash, whatif_script

CARDS = """JSON.stringify([...document.querySelectorAll('[data-node]')].map(card => ({
  node: card.getAttribute('data-node'),
  mean: card.querySelector('[data-mean]').getAttribute('data-mean'),
  big: card.querySelector('.big').textContent,
  pressed: [...card.querySelectorAll('[data-clamp]')].filter(b => b.getAttribute('aria-pressed') === 'true')
             .map(b => b.getAttribute('data-clamp'))})))"""


class Page:
    """One page in headless chromium: evaluate expressions, click clamps, collect errors and
    requests."""

    def __init__(self, html: Path, tmp_path: Path):
        self.browser = DevTools(tmp_path / "profile")
        target = self.browser.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.browser.call(f"{domain}.enable", self.session)
        self.browser.events.clear()
        self.browser.call("Page.navigate", self.session, url=html.resolve().as_uri())
        self.browser.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        reply = self.browser.call("Runtime.evaluate", self.session, expression=expression,
                                  returnByValue=True)
        if "exceptionDetails" in reply:
            raise AssertionError(reply["exceptionDetails"])
        return reply["result"].get("value")

    def cards(self) -> dict[str, dict]:
        return {card["node"]: card for card in json.loads(self.evaluate(CARDS))}

    def click(self, node: str, clamp: str) -> float:
        """Click a card's button; the milliseconds the click took (the update is synchronous)."""
        return self.evaluate(f"""(() => {{
          const card = [...document.querySelectorAll('[data-node]')].find(c => c.getAttribute('data-node') === {json.dumps(node)});
          const button = card.querySelector('[data-clamp="{clamp}"]');
          const start = performance.now();
          button.click();
          return performance.now() - start;
        }})()""")

    def close(self) -> tuple[list[str], list[str]]:
        self.browser.close()
        return self.browser.problems()


def fitted_document(data_root: Path) -> dict:
    """The burglary network (john_calls and mary_calls resolved yes) with two evidence items,
    one of them hostile markup, fitted by the exact engine."""
    csv = data_root / "evidence" / "burglary.csv"
    csv.write_text(csv.read_text() + "E1,alarm,2025-01-02,Blog,C,3,2,,\"" + HOSTILE.replace('"', '""')
                   + "\",\nE2,burglary,2025-01-03,Police,B,2,moderately_for,,A break-in was reported,\n")
    inputs, posterior = cached_fit(data_root, "burglary", engine="exact")
    return build_report(inputs, posterior, seed=1)


def exact_means(inputs, clamps: dict[str, bool]) -> dict[str, float]:
    problem = prepare(inputs, clamps)
    means = exact.posterior_means(problem.net, problem.node_log_weights, problem.conditions)
    return dict(zip(problem.net.node_ids, means, strict=True))


def assert_cards_equal(cards: dict[str, dict], expected: dict[str, float]) -> None:
    assert set(cards) == set(expected)
    for node, card in cards.items():
        assert abs(float(card["mean"]) - expected[node]) <= 1e-9, (node, card["mean"], expected[node])


def generated_inputs(root: Path, scenario_id: str, n_nodes: int, resolved: str = ""):
    (root / "priors").mkdir(parents=True, exist_ok=True)
    (root / "evidence").mkdir(parents=True, exist_ok=True)
    (root / "priors" / f"{scenario_id}.toml").write_text(
        scenario_toml(scenario_id, n_nodes, seed=n_nodes, max_parents=3, window=4))
    ids = [f"n{v:02d}" for v in range(n_nodes)]
    (root / "evidence" / f"{scenario_id}.csv").write_text(evidence_csv(ids, 2 * n_nodes, seed=3))
    if resolved:
        (root / "evidence" / f"{scenario_id}.resolutions.csv").write_text(
            "node,outcome,date,source\n" + resolved)
    return load_inputs(scenario_paths(root, scenario_id))


def exact_document(inputs) -> dict:
    posterior = fit(prepare(inputs), "exact", 1, SamplerSettings(progress=False))
    return build_report(inputs, posterior, seed=1)


def test_clicks_give_the_exact_conditional_forecasts_with_hostile_text_inert(chromium, data_root, tmp_path):
    """burglary (john_calls and mary_calls resolved yes) with a hostile evidence summary:
    clamps on a driver, on a resolved node the other way (a what-if overrides a resolution, as
    `forecast whatif` does), then clears: every card equals the exact engine to 1e-9."""
    document = fitted_document(data_root)
    html = tmp_path / "report.html"
    html.write_text(render(document, "html"), encoding="utf-8")
    inputs, _posterior = cached_fit(data_root, "burglary", engine="exact")
    page = Page(html, tmp_path)
    try:
        assert page.evaluate("document.body.classList.contains('whatif-ready')")
        cards = page.cards()
        assert {n: float(c["mean"]) for n, c in cards.items()} == {n["id"]: n["mean"] for n in document["nodes"]}
        assert all(c["pressed"] == ["none"] for c in cards.values())
        steps = [("earthquake", "yes", {"earthquake": True}),
                 ("john_calls", "no", {"earthquake": True, "john_calls": False}),
                 ("earthquake", "none", {"john_calls": False}),
                 ("burglary", "no", {"john_calls": False, "burglary": False})]
        for node, clamp, clamps in steps:
            page.click(node, clamp)
            cards = page.cards()
            assert_cards_equal(cards, exact_means(inputs, clamps))
            for name, state in clamps.items():
                assert cards[name]["pressed"] == ["yes" if state else "no"]
                assert cards[name]["big"] == ("Yes" if state else "No")
        status = page.evaluate("document.getElementById('whatif-status').textContent")
        assert "forecast whatif --given burglary=no --given john_calls=no" in status   # scenario order
        page.evaluate("document.getElementById('whatif-clear').click()")
        cards = page.cards()
        assert {n: float(c["mean"]) for n, c in cards.items()} == {n["id"]: n["mean"] for n in document["nodes"]}
        assert cards["john_calls"]["big"] == "Yes"                        # resolved again
        text = page.evaluate("document.body.innerText")
        assert HOSTILE in text                                            # shown as text, never run
        assert page.evaluate("document.scripts.length") == 2              # the island and the pinned script
        assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    finally:
        errors, requests = page.close()
    assert errors == []
    assert [url for url in requests if not url.startswith(("file://", "data:"))] == []


LARGE = 120                     # nodes of the large generated scenario (treewidth, not count, bounds it)


def test_a_clamp_on_a_large_scenario_is_exact_and_its_time_is_printed(chromium, tmp_path, capsys):
    """120 nodes (far past what enumeration could do; the junction tree's tables are small):
    two clamps, every card equal to the exact engine to 1e-9. The time of each click is
    printed (measured in the page)."""
    inputs = generated_inputs(tmp_path / "root", "g120", LARGE, "n07,yes,2025-06-01,Test\n")
    document = exact_document(inputs)
    assert document["whatif_page"]["available"]
    html = tmp_path / "report.html"
    html.write_text(render(document, "html"), encoding="utf-8")
    page = Page(html, tmp_path)
    try:
        times, inference = [], []
        for node, clamp, clamps in (("n03", "yes", {"n03": True}),
                                    ("n95", "no", {"n03": True, "n95": False})):
            times.append(page.click(node, clamp))
            inference.append(float(page.evaluate(
                "document.getElementById('whatif-status').getAttribute('data-ms')")))
            expected = exact_means(inputs, clamps)
            assert_cards_equal(page.cards(), expected)
            # the structure section's layered cards (past 12 questions) follow the clamps too
            mirrors = json.loads(page.evaluate("JSON.stringify(Object.fromEntries([...document.querySelectorAll("
                                               "'[data-mirror]')].map(m => [m.getAttribute('data-mirror'), "
                                               "m.querySelector('.pct').textContent])))"))
            assert len(mirrors) == LARGE
            for name, text in mirrors.items():
                assert text == ("100.0%" if clamps.get(name) else "0.0%" if name in clamps
                                else f"{100 * expected[name]:.1f}%"), name
        setup = float(page.evaluate("document.getElementById('whatif-status').getAttribute('data-init-ms')"))
    finally:
        errors, _requests = page.close()
    assert errors == []
    net = prepare(inputs).net
    cells = decisions.page_cells(net, exact.structure_of(net).order)
    with capsys.disabled():
        print(f"\nin-page clamp on {LARGE} nodes ({cells} clique-table entries): clicks took "
              f"{times[0]:.0f} ms and {times[1]:.0f} ms (inference alone {inference[0]:.0f} and "
              f"{inference[1]:.0f} ms; building the junction tree on load {setup:.0f} ms)")


def test_past_the_page_limit_the_page_says_so_and_carries_no_script(chromium, tmp_path, monkeypatch):
    monkeypatch.setattr(decisions, "PAGE_CELLS", 100)
    inputs = generated_inputs(tmp_path / "root", "g24", 24)
    document = exact_document(inputs)
    assert document["whatif_page"]["available"] is False and document["whatif_page"]["model"] is None
    text = render(document, "html")
    assert "<script" not in text and "<button" not in text
    assert CSP.format(script="'none'").replace("'", "&#39;") in text
    html = tmp_path / "report.html"
    html.write_text(text, encoding="utf-8")
    page = Page(html, tmp_path)
    try:
        words = page.evaluate("document.getElementById('whatif-unavailable').innerText")
        cards = page.cards()
        assert page.evaluate("document.scripts.length + document.querySelectorAll('[data-clamp]').length") == 0
    finally:
        errors, _requests = page.close()
    assert errors == []
    assert "table entries" in words and "up to 100" in words
    assert "forecast whatif --given NODE=STATE" in words
    assert len(cards) == 24                                             # data-node and data-mean still there


def test_a_parametric_scenario_is_not_computed_in_the_page(data_root):
    inputs = load_inputs(scenario_paths(data_root, "noisy-or-four"))
    page = report_decisions(inputs.scenario, prepare(inputs), {"likely": [0.55, 0.8]})["whatif_page"]
    assert page["available"] is False and "parametric" in page["reason"]
    assert "forecast whatif" in page["reason"]


def test_a_tampered_script_does_not_run(chromium, data_root, tmp_path):
    """The CSP is enforced: the same page with one character of the script changed runs
    nothing (the browser reports the refused script) and the clamps do nothing."""
    text = render(fitted_document(data_root), "html")
    script = whatif_script()
    assert text.count(script) == 1
    html = tmp_path / "report.html"
    html.write_text(text.replace(script, script.replace('"use strict";', '"use strict"; ')), encoding="utf-8")
    page = Page(html, tmp_path)
    try:
        before = page.cards()
        page.click("earthquake", "yes")
        after = page.cards()
        ready = page.evaluate("document.body.classList.contains('whatif-ready')")
    finally:
        errors, _requests = page.close()
    assert not ready and after == before
    assert any("Content Security Policy" in e for e in errors), errors


def test_the_script_is_pinned_by_its_hash_and_uses_no_eval_or_markup_sinks(data_root):
    text = render(fitted_document(data_root), "html")
    script = whatif_script()
    digest = "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
    assert script_hash(script) == digest
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1)
    policy = policy.replace("&#39;", "'")
    assert f"script-src {digest};" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "unsafe-eval" not in policy
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(",
                 "setTimeout(\"", "fetch(", "XMLHttpRequest"):
        assert sink not in script, sink
    assert "textContent" in script


@pytest.mark.parametrize("hostile", ["</script><script>alert(1)</script>", "<!--", "a & b > c",
                                     "line\u2028separator\u2029", "</SCRIPT >", "\"quoted\" \\ back"])
def test_the_data_island_cannot_close_its_element(hostile):
    value = {"nodes": [hostile], "terms": [[hostile, 0.0, 1.0]], "n": [0.1, 1e-300]}
    island = json_island(value)
    assert not set(island) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(island) == value


def test_the_island_holds_numbers_and_ids_only(data_root):
    """No evidence or analyst text reaches the page's model: ids, numbers and ICD 203 terms."""
    document = fitted_document(data_root)
    model = document["whatif_page"]["model"]
    assert set(model) == {"nodes", "states", "parents", "order", "cpt", "log_weights", "conditions",
                          "terms"}
    island = json_island(model)
    for item in document["evidence"]:
        assert item["summary"] not in island and item["source"] not in island
    assert all(np.isfinite(row).all() for row in model["log_weights"])


K_CARDS = """JSON.stringify([...document.querySelectorAll('[data-node]')].map(card => ({
  node: card.getAttribute('data-node'),
  mean: card.querySelector('[data-mean]') && card.querySelector('[data-mean]').getAttribute('data-mean'),
  p: Object.fromEntries([...card.querySelectorAll('[data-state]')].map(r => [r.getAttribute('data-state'), r.getAttribute('data-p')])),
  big: card.querySelector('.big').textContent,
  pressed: [...card.querySelectorAll('[data-clamp], [data-unclamp]')].filter(b => b.getAttribute('aria-pressed') === 'true')
             .map(b => b.getAttribute('data-clamp'))})))"""


def k_state_inputs(root: Path):
    from test_k_states import EVIDENCE

    (root / "priors").mkdir(parents=True)
    (root / "evidence").mkdir(parents=True)
    data = Path(__file__).parent / "data"
    (root / "priors" / "k-state.toml").write_text((data / "k_state_scenario.toml").read_text())
    (root / "evidence" / "k-state.csv").write_text(EVIDENCE)
    (root / "evidence" / "k-state.resolutions.csv").write_text(
        "node,outcome,date,source\nmediator,qatar,2025-06-01,Test\n")
    return load_inputs(scenario_paths(root, "k-state"))


def exact_states(inputs, clamps: dict[str, str]) -> dict[str, dict[str, float]]:
    problem = prepare(inputs, clamps)
    net = problem.net
    probs = exact.state_means(net, problem.state_log_weights, problem.conditions)
    return {node: {state: float(probs[net.state_offsets[v] + s])
                   for s, state in enumerate(net.states_of(v))}
            for v, node in enumerate(net.node_ids)}


def test_every_state_of_every_question_clamps_to_the_exact_state_probabilities(chromium, tmp_path):
    """The k-state scenario (mediator resolved qatar): clamping a state of a three-state
    question (one named "none", whose clear button is data-unclamp), a yes/no question, and
    the resolved question the other way makes every card's data-p per state, and the yes/no
    card's data-mean, equal to `forecast whatif`'s exact numbers to 1e-9; clear restores."""
    inputs = k_state_inputs(tmp_path / "root")
    document = exact_document(inputs)
    html = tmp_path / "report.html"
    html.write_text(render(document, "html"), encoding="utf-8")
    page = Page(html, tmp_path)

    def cards():
        return {c["node"]: c for c in json.loads(page.evaluate(K_CARDS))}

    try:
        assert page.evaluate("document.body.classList.contains('whatif-ready')")
        first = cards()
        buttons = json.loads(page.evaluate("JSON.stringify([...document.querySelectorAll("
                                           "'[data-node=\"attacks\"] [data-clamp]')].map(b => b.getAttribute('data-clamp')))"))
        assert buttons == ["none", "sporadic", "sustained"]
        steps = [("attacks", "none", {"attacks": "none"}),
                 ("talks", "no", {"attacks": "none", "talks": False}),
                 ("attacks", "sustained", {"attacks": "sustained", "talks": False}),
                 ("mediator", "turkey", {"attacks": "sustained", "talks": False, "mediator": "turkey"}),
                 ("talks", "none", {"attacks": "sustained", "mediator": "turkey"})]
        for node, clamp, clamps in steps:
            page.click(node, clamp)
            shown = cards()
            expected = exact_states(inputs, clamps)
            for name, card in shown.items():
                if name == "talks":
                    assert abs(float(card["mean"]) - expected[name]["yes"]) <= 1e-9
                    assert card["p"] == {}
                else:
                    assert set(card["p"]) == set(expected[name])
                    for state, p in card["p"].items():
                        assert abs(float(p) - expected[name][state]) <= 1e-9, (name, state, p)
            for name, state in clamps.items():
                want = state if isinstance(state, str) else ("yes" if state else "no")
                assert shown[name]["pressed"] == [want]
            assert shown["mediator"]["big"] == clamps.get("mediator", "qatar")
        status = page.evaluate("document.getElementById('whatif-status').textContent")
        assert "forecast whatif --given attacks=sustained --given mediator=turkey" in status
        page.evaluate("document.querySelector('[data-node=\"attacks\"] [data-unclamp]').click()")
        assert cards()["attacks"]["pressed"] == [None]
        page.evaluate("document.getElementById('whatif-clear').click()")
        assert cards() == first
    finally:
        errors, requests = page.close()
    assert errors == []
    assert [url for url in requests if not url.startswith(("file://", "data:"))] == []


@pytest.mark.parametrize("name", ["alarm", pytest.param("andes", marks=pytest.mark.slow)])
def test_a_published_network_clamps_exactly_in_the_page_and_its_time_is_printed(chromium, tmp_path,
                                                                                  capsys, name):
    """bnlearn's alarm (37 nodes, up to 4 states) and andes (223 nodes, treewidth 17), imported
    as scenarios: a state of a node a third of the way in, then one two thirds in; every
    state's data-p (and a yes/no card's data-mean) equals the exact engine to 1e-9."""
    import gzip
    import subprocess
    import sys

    bif = tmp_path / f"{name}.bif"
    bif.write_bytes(gzip.decompress((Path(__file__).parent / "data" / "bnlearn" / f"{name}.bif.gz")
                                    .read_bytes()))
    # pyAgrum reads the file in its own process (imported into this test process it crashed)
    subprocess.run([sys.executable, "-m", "forecast", "network", "import", str(bif), "--root",
                    str(tmp_path)], check=True, capture_output=True)
    inputs = load_inputs(scenario_paths(tmp_path, name))
    document = exact_document(inputs)
    html = tmp_path / "report.html"
    html.write_text(render(document, "html"), encoding="utf-8")
    page = Page(html, tmp_path)
    nodes = document["nodes"]
    try:
        clamps, times = {}, []
        for node in (nodes[len(nodes) // 3], nodes[2 * len(nodes) // 3]):
            state = node["distribution"][-1]["state"]
            clamps[node["id"]] = state if node["mean"] is None else state == "yes"
            times.append(page.click(node["id"], state))
            expected = exact_states(inputs, clamps)
            shown = {c["node"]: c for c in json.loads(page.evaluate(K_CARDS))}
            assert set(shown) == set(expected)
            for name_, card in shown.items():
                got = {s: float(p) for s, p in card["p"].items()} or {"yes": float(card["mean"])}
                for state_, p in got.items():
                    assert abs(p - expected[name_][state_]) <= 1e-9, (name_, state_, p)
        setup = float(page.evaluate("document.getElementById('whatif-status').getAttribute('data-init-ms')"))
    finally:
        errors, _requests = page.close()
    assert errors == []
    with capsys.disabled():
        print(f"\nin-page clamp on {name} ({len(nodes)} nodes): clicks took {times[0]:.0f} ms and "
              f"{times[1]:.0f} ms (building the junction tree on load {setup:.0f} ms)")


def pooled(values: list[float]) -> float:
    """The logarithmic pool of yes/no forecasts written out (each held in [1e-9, 1 - 1e-9], as
    analysis/pooling.py holds them): the logistic of the mean log-odds."""
    clipped = [min(1 - 1e-9, max(1e-9, p)) for p in values]
    mean = sum(np.log(p) - np.log1p(-p) for p in clipped) / len(clipped)
    return float(1 / (1 + np.exp(-mean)))


def test_a_teams_page_pools_each_analysts_exact_whatif_as_forecast_whatif_does(chromium, repo_root,
                                                                                tmp_path):
    """The shipped Turkey scenario with its two analysts' files: the report page's what-ifs
    are the team's, each card the logarithmic pool of every analyst's exact conditional
    forecast (enumerated by the exact engine on each analyst's priors) to 1e-9, and `forecast
    whatif` states the same numbers (to its rounding)."""
    from forecast.api import Project

    scenario = "turkey-peacekeeping"
    project = Project(repo_root)
    report = project.report(scenario, write=True)
    analysts = report.document["analysts"]
    assert len(analysts) >= 2 and len(report.document["whatif_page"]["model"]["team_cpt"]) == len(analysts)
    views = [load_inputs(scenario_paths(repo_root, scenario), analyst=a) for a in analysts]
    page = Page(repo_root / "reports" / scenario / "report.html", tmp_path)
    try:
        assert page.evaluate("document.body.classList.contains('whatif-ready')")
        for node, clamp, clamps in (("ceasefire", "yes", {"ceasefire": True}),
                                    ("direct_talks", "no", {"ceasefire": True, "direct_talks": False})):
            page.click(node, clamp)
            each = [exact_means(inputs, clamps) for inputs in views]
            expected = {n: pooled([means[n] for means in each]) for n in each[0]}
            assert_cards_equal(page.cards(), expected)
            status = page.evaluate("document.getElementById('whatif-status').textContent")
            assert f"the team's, the logarithmic pool of each of the {len(analysts)} analysts'" in status
            whatif = project.whatif(clamps, scenario).document
            for n in whatif["nodes"]:
                assert n["mean"] == pytest.approx(expected[n["id"]], abs=1e-6), n["id"]
                assert n["by_analyst"] == pytest.approx(
                    {a: means[n["id"]] for a, means in zip(analysts, each, strict=True)}, abs=1e-6)
    finally:
        errors, _requests = page.close()
    assert errors == []


def test_a_teams_page_pools_the_states_of_questions_with_more_outcomes(chromium, tmp_path):
    """The k-state scenario with two analysts (grim: attacks mostly sustained; same: the
    scenario's priors): clamping talks makes every state's data-p the normalised geometric
    mean of the two analysts' exact state probabilities, to 1e-9."""
    from forecast.jobs.report import make_report

    root = tmp_path / "root"
    k_state_inputs(root)
    (root / "priors" / "k-state").mkdir()
    (root / "priors" / "k-state" / "grim.toml").write_text(
        '[[node]]\nid = "attacks"\n  [[node.prior]]\n  dirichlet = [1, 2, 7]\n'
        '  rationale = "Sustained attacks are the norm."\n  reference_class = "test"\n')
    (root / "priors" / "k-state" / "same.toml").write_text("")
    paths = scenario_paths(root, "k-state")
    make_report(paths, seed=1)
    views = [load_inputs(paths, analyst=a) for a in ("grim", "same")]
    page = Page(paths.reports / "report.html", tmp_path)
    try:
        page.click("talks", "yes")
        shown = {c["node"]: c for c in json.loads(page.evaluate(K_CARDS))}
        each = [exact_states(inputs, {"talks": True}) for inputs in views]
        for name, card in shown.items():
            if name == "talks":
                continue
            geometric = {s: np.sqrt(max(1e-9, each[0][name][s]) * max(1e-9, each[1][name][s]))
                         for s in each[0][name]}
            total = sum(geometric.values())
            for state, p in card["p"].items():
                assert abs(float(p) - geometric[state] / total) <= 1e-9, (name, state)
    finally:
        errors, _requests = page.close()
    assert errors == []
