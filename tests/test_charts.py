"""The charts (render/charts/): the graph layout's geometry, the history series, SVGs that are
self-contained (no external reference) and reproducible, and the score's reliability diagram and
the self-check's rank histograms drawn where their numbers say."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.render import graph_layout
from forecast.render.charts import report_charts
from forecast.render.charts.history import history_chart
from forecast.render.history import history_series

TURKEY = [
    {"id": "ceasefire", "parents": []},
    {"id": "turkish_deployment", "parents": ["ceasefire"]},
    {"id": "russia_ties_strained", "parents": ["turkish_deployment"]},
    {"id": "mediation_stalemate", "parents": ["turkish_deployment", "ceasefire"]},
]


def document(nodes=TURKEY, history=()):
    full = []
    for k, n in enumerate(nodes):
        mean = 0.1 + 0.8 * k / max(1, len(nodes) - 1)
        full.append({**n, "label": n["id"].replace("_", " "), "role": "consequence" if n["parents"] else "driver",
                     "mean": mean, "interval": [mean / 2, (1 + mean) / 2], "prior_mean": 0.3,
                     "prior_interval": [0.1, 0.6], "interval_prob": 0.9, "term": "unlikely",
                     "resolved": "yes" if k == 0 else None})
    return {"nodes": full, "terms": {"unlikely": [0.2, 0.45], "likely": [0.55, 0.8]},
            "history": list(history)}


def svg_of(uri: str) -> ET.Element:
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    return ET.fromstring(base64.b64decode(uri[len(prefix):]))


def test_layers_follow_depth_and_roots_come_first():
    positions = graph_layout.dag_layout(TURKEY)
    assert graph_layout.depths(TURKEY) == {"ceasefire": 0, "turkish_deployment": 1, "russia_ties_strained": 2,
                                    "mediation_stalemate": 2}
    assert positions["ceasefire"][0] == 0
    assert positions["turkish_deployment"][0] == graph_layout.LAYER_GAP
    assert positions["russia_ties_strained"][0] == positions["mediation_stalemate"][0] == 2 * graph_layout.LAYER_GAP


@st.composite
def random_dags(draw):
    n = draw(st.integers(1, 9))
    nodes = []
    for i in range(n):
        parents = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=min(i, 3))) if i else []
        nodes.append({"id": f"n{i}", "parents": [f"n{p}" for p in parents]})
    return nodes


@settings(max_examples=60, deadline=None)
@given(random_dags())
def test_every_edge_points_right_and_no_two_boxes_overlap(nodes):
    positions = graph_layout.dag_layout(nodes)
    assert set(positions) == {n["id"] for n in nodes}
    for node in nodes:
        for parent in node["parents"]:
            assert positions[parent][0] < positions[node["id"]][0]
    boxes = list(positions.values())
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1:]:
            assert abs(x1 - x2) >= graph_layout.BOX_WIDTH or abs(y1 - y2) >= graph_layout.BOX_HEIGHT


def test_history_series_orders_by_date_and_keeps_the_last_snapshot_of_a_day():
    history = [
        {"as_of": "2025-03-11", "nodes": [{"id": "a", "mean": 0.5, "interval": [0.4, 0.6]}]},
        {"as_of": "2025-03-06", "nodes": [{"id": "a", "mean": 0.2, "interval": None}]},
        {"as_of": "2025-03-11", "nodes": [{"id": "a", "mean": 0.55, "interval": [0.45, 0.65]},
                                          {"id": "gone", "mean": 0.1, "interval": None}]},
    ]
    series = history_series(history, ["a", "b"])
    assert [(d.isoformat(), m) for d, m, _ in series["a"]] == [("2025-03-06", 0.2), ("2025-03-11", 0.55)]
    assert series["b"] == []


def test_charts_are_svg_with_no_external_reference_and_reproducible():
    doc = document(history=[{"as_of": "2025-03-06", "nodes": [{"id": "ceasefire", "mean": 0.4,
                                                                "interval": [0.2, 0.6]}]}])
    charts = report_charts(doc)
    assert set(charts) == {"forecast", "history", "structure", "state_history"}
    assert charts["state_history"] == {}                     # a yes/no scenario has none
    for uri in (uri for name, uri in charts.items() if name != "state_history"):
        root = svg_of(uri)
        assert root.tag.endswith("svg")
        for element in root.iter():
            for name, value in element.attrib.items():
                if name.endswith("href"):
                    assert value.startswith("#"), (name, value)     # only internal references
    assert report_charts(doc) == charts                      # same input, same bytes


def test_no_history_means_no_history_chart():
    assert history_chart(document()) is None
    assert history_chart(document(history=[{"as_of": "2025-01-01", "nodes": [
        {"id": "not_in_scenario", "mean": 0.5, "interval": None}]}])) is None


def test_drawing_the_report_charts_never_imports_a_plotting_library():
    code = ("import sys, json, forecast.render.charts as charts, forecast.render.html, "
            "forecast.render.markdown, forecast.cli\n"
            "doc = {'nodes': [{'id': 'a', 'label': 'A', 'role': 'driver', 'parents': [], "
            "'prior_mean': 0.3, 'prior_interval': [0.1, 0.5], 'mean': 0.4, 'interval': [0.2, 0.6], "
            "'interval_prob': 0.9, 'term': 'unlikely', 'resolved': None}], 'terms': {}, "
            "'as_of': '2025-03-01', 'history': [{'as_of': '2025-02-01', 'nodes': [{'id': 'a', "
            "'mean': 0.35, 'interval': [0.2, 0.5]}]}]}\n"
            "assert all(v for k, v in charts.report_charts(doc).items() if k != 'state_history')\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'pymc', 'pytensor', 'arviz'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def _bins(counts_observed):
    edges = [k / len(counts_observed) for k in range(len(counts_observed) + 1)]
    return [{"low": lo, "high": hi, "count": n, "mean_forecast": (lo + hi) / 2,
             "observed": obs, "se": 0.05 if n else 0.0}
            for lo, hi, (n, obs) in zip(edges, edges[1:], counts_observed, strict=False)]


def test_the_reliability_diagram_puts_each_filled_bin_at_its_forecast_and_frequency():
    from forecast.render.charts import reliability as chart

    bins = _bins([(3, 0.0), (0, 0.0), (5, 0.6), (2, 1.0)])
    root = svg_of(chart.reliability_diagram(bins))
    ns = "{http://www.w3.org/2000/svg}"
    points = {(round(float(c.get("cx")), 1), round(float(c.get("cy")), 1))
              for c in root.iter(f"{ns}circle")}

    def at(forecast, observed):
        x = chart.LEFT + chart.WIDTH * forecast
        y = chart.TOP + chart.HEIGHT * (chart.Y_HIGH - observed) / (chart.Y_HIGH - chart.Y_LOW)
        return round(x, 1), round(y, 1)

    for b in bins:
        assert (at(b["mean_forecast"], b["observed"]) in points) == bool(b["count"])
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "Reliability diagram" in texts and "5" in texts          # the largest bin's count


def test_rank_histograms_colour_a_failing_quantity_red_and_escape_its_name():
    from forecast.render.charts.sbc_ranks import rank_histograms
    from forecast.render.svg import NO, POSTERIOR

    quantities = [{"name": "theta[<a>&b]", "counts": [5, 0, 7, 8], "p_value": 0.5, "passed": True},
                  {"name": "p_yes", "counts": [20, 0, 0, 0], "p_value": 1e-6, "passed": False}]
    root = svg_of(rank_histograms(quantities, 100))
    ns = "{http://www.w3.org/2000/svg}"
    fills = [r.get("fill") for r in root.iter(f"{ns}rect")]
    assert fills.count(POSTERIOR) == 3 and fills.count(NO) == 1      # one bar per non-empty bin
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "theta[<a>&b]" in texts and "p = 0.000" in texts


def test_the_history_is_drawn_as_steps_so_a_jump_reads_as_a_jump():
    """Snapshots a year apart: the forecast holds, then moves at the second snapshot's date."""
    snapshot = {"as_of": "2025-03-11", "nodes": [{"id": "ceasefire", "mean": 0.4,
                                                  "interval": [0.2, 0.6]}]}
    later = {"as_of": "2026-03-11", "nodes": [{"id": "ceasefire", "mean": 0.0,
                                               "interval": [0.0, 0.0]}]}
    root = svg_of(history_chart(document(history=[snapshot, later])))
    line = next(e for e in root.iter() if e.tag.endswith("polyline"))
    corners = [tuple(map(float, p.split(","))) for p in line.attrib["points"].split()]
    assert len(corners) == 3
    (x0, y0), (x1, y1), (x2, y2) = corners
    assert y1 == y0 and x1 == x2 and x1 > x0 and y2 > y1     # flat for a year, then down at once


def test_the_readme_says_which_shipped_scenario_gets_the_structure_diagram(shipped_root):
    """README: "a diagram up to N questions in L layers, as for the shipped us-tariffs-2025; past
    that, as for the shipped Turkey scenario, linked layered cards"."""
    import re
    from pathlib import Path

    from forecast.io.priors import load_scenario

    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    found = re.search(r"a diagram up to (\d+) questions in (\d+) layers, as for the shipped "
                      r"`([\w-]+)`; past that, as for the shipped Turkey scenario", readme)
    assert found, "README no longer states the diagram's limits"
    assert (int(found[1]), int(found[2])) == (graph_layout.DIAGRAM_MAX_NODES,
                                              graph_layout.DIAGRAM_MAX_LAYERS)

    def nodes(scenario_id):
        scenario = load_scenario(shipped_root / "priors" / f"{scenario_id}.toml")
        return [{"id": n.id, "parents": list(n.parents)} for n in scenario.nodes]

    assert graph_layout.diagram_fits(nodes(found[3]))
    assert not graph_layout.diagram_fits(nodes("turkey-peacekeeping"))


def _circle_xs(root: ET.Element, radius: str) -> list[float]:
    return [float(c.get("cx")) for c in root.iter("{http://www.w3.org/2000/svg}circle")
            if c.get("r") == radius]


def test_the_forecast_chart_draws_each_state_of_a_question_with_more_outcomes_beside_its_prior():
    """Every state gets a row: its forecast's dot at its mean on the same axis as the yes/no
    questions' (x = left + width * p), its percentage, and an ordered question a cumulative strip
    whose segments end at the running sums of the means; past STATE_ROWS states the likeliest."""
    from forecast.render.charts.forecast import CHART_LEFT, CHART_WIDTH, STATE_ROWS, forecast_chart

    doc = document(TURKEY[:1])
    states = [("none", 0.5, 0.3), ("some", 0.2, 0.3), ("<lots>", 0.3, 0.4)]
    doc["nodes"].append({
        "id": "attacks", "label": "Attacks & raids", "role": "consequence", "parents": [],
        "mean": None, "interval": None, "prior_mean": None, "prior_interval": None,
        "interval_prob": 0.9, "resolved": None, "ordered": True, "states": [s for s, _, _ in states],
        "distribution": [{"state": s, "mean": m, "prior_mean": p, "interval": [m / 2, (1 + m) / 2],
                          "prior_interval": [p / 2, (1 + p) / 2]} for s, m, p in states]})
    root = svg_of(forecast_chart(doc))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"none", "some", "<lots>", "50%", "20%", "30%"} <= set(texts)
    assert "Attacks & raids (consequence)" in texts
    dots = _circle_xs(root, "5.5")[:4]      # the legend's own dot comes last
    expected = [CHART_LEFT + CHART_WIDTH * p for p in (doc["nodes"][0]["mean"], 0.5, 0.2, 0.3)]
    assert all(abs(a - b) < 0.05 for a, b in zip(dots, expected, strict=True)), (dots, expected)
    ends = sorted({round(float(r.get("x")) + float(r.get("width")), 1)
                   for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("height") == "8"})
    assert [round(CHART_LEFT + CHART_WIDTH * c, 1) for c in (0.5, 0.7, 1.0)] == ends[-3:]
    many = [{"state": f"s{k}", "mean": (k + 1) / 210, "prior_mean": 1 / 20,
             "interval": [0.0, 0.5], "prior_interval": [0.0, 0.2]} for k in range(20)]
    doc["nodes"][-1] = {**doc["nodes"][-1], "ordered": False, "distribution": many,
                        "states": [s["state"] for s in many]}
    texts = [t.text for t in svg_of(forecast_chart(doc)).iter("{http://www.w3.org/2000/svg}text")]
    assert [t for t in texts if t.startswith("s") and t[1:].isdigit()] == [
        f"s{k}" for k in range(20 - STATE_ROWS, 20)]
    assert any(f"{STATE_ROWS} likeliest of 20" in t for t in texts)


def test_report_json_gives_each_state_its_prior_interval_from_the_dirichlet(k_root):
    """The k-state test scenario's root question has a Dirichlet(5, 3, 2) prior (p = [.5, .3, .2],
    strength 10): each state's prior interval is its Beta marginal's 5% and 95% quantiles, within
    the Monte Carlo error of the 4,000 prior draws."""
    import numpy as np
    from scipy import stats
    from typer.testing import CliRunner

    from forecast.cli import app

    result = CliRunner().invoke(app, ["report", "--root", str(k_root), "--scenario", "k-state",
                                      "--format", "json", "--no-cache"])
    assert result.exit_code == 0, result.output
    attacks = next(n for n in json.loads(result.stdout)["nodes"] if n["id"] == "attacks")
    for row, a in zip(attacks["distribution"], (5, 3, 2), strict=True):
        marginal = stats.beta(a, 10 - a)
        for q, got in zip((0.05, 0.95), row["prior_interval"], strict=True):
            x = marginal.ppf(q)
            se = np.sqrt(q * (1 - q) / 4000) / marginal.pdf(x)
            assert abs(got - x) <= 4.5 * se, (row["state"], q, got, x, se)
        assert row["prior_interval"][0] <= row["prior_mean"] <= row["prior_interval"][1]
