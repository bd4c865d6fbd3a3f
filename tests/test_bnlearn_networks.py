"""Published networks of the bnlearn repository, end to end: imported as scenarios (fixed rows,
and Dirichlet rows around the published CPTs), given hard evidence (resolutions naming a state)
and soft evidence in both forms (an LR on one state, a vector LR), fitted through the one seam,
and every state's posterior mean held to pyAgrum's LazyPropagation to 1e-9 (by conjugacy the
Dirichlet scenario's means are the fixed network's). report.json agrees to its rounding."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

gum = pytest.importorskip("pyagrum")

from forecast.analysis.state_decisions import sensitivity_calibrations  # noqa: E402
from forecast.analysis.summaries import state_view  # noqa: E402
from forecast.inference.problem import fit, prepare  # noqa: E402
from forecast.inference.settings import SamplerSettings  # noqa: E402
from forecast.io.project import load_inputs, scenario_paths  # noqa: E402
from forecast.jobs.network import import_network  # noqa: E402

NETWORKS = Path(__file__).parent / "data" / "bnlearn"
# yes/no (asia), 3 states (sachs), up to 4 and 37 nodes (alarm), named two-state (win95pts),
# up to 5 states (insurance): a few seconds in all
CHOSEN = ("asia", "sachs", "alarm", "win95pts", "insurance")


def peer_network(name: str, folder: Path):
    """pyAgrum's network with its rows normalised as CPTs (pyAgrum reads a BIF's numbers as
    float32, so its rows sum to 1 only to about 1e-8; a scenario's rows are distributions)."""
    bif = folder / f"{name}.bif"
    bif.write_bytes(gzip.decompress((NETWORKS / f"{name}.bif.gz").read_bytes()))
    bn = gum.loadBN(str(bif))
    for n in bn.nodes():
        bn.cpt(n).normalizeAsCPT()
    return bn, bif


def evidence(bn, rng) -> tuple[dict[str, int], dict[str, list[float]], dict[str, list[float]]]:
    """Hard evidence on 10% of the nodes (one forward sample's states: possible evidence),
    an LR on one state on 6% and a vector LR on another 6%."""
    sample: dict[str, int] = {}
    for n in bn.topologicalOrder():
        parents = {bn.variable(p).name(): sample[bn.variable(p).name()] for p in bn.parents(n)}
        row = np.asarray(bn.cpt(n)[parents] if parents else bn.cpt(n)[:], dtype=float).ravel()
        sample[bn.variable(n).name()] = int(rng.choice(len(row), p=row / row.sum()))
    names = [bn.variable(n).name() for n in bn.nodes()]
    order = [names[i] for i in rng.permutation(len(names))]
    k = max(1, round(0.06 * len(names)))
    hard = {name: sample[name] for name in order[:max(1, round(0.10 * len(names)))]}
    rest = order[len(hard):]
    one, vector = {}, {}
    for name in rest[:k]:
        likelihood = [1.0] * bn.variable(name).domainSize()
        likelihood[int(rng.integers(len(likelihood)))] = 4.0
        one[name] = likelihood
    for name in rest[k:2 * k]:
        vector[name] = [float(x) for x in rng.uniform(0.5, 3.0, bn.variable(name).domainSize())]
    return hard, one, vector


def write_evidence(paths, scenario, hard, one, vector) -> None:
    by_label = {(node.label or node.id): node for node in scenario.nodes}
    day = scenario.as_of.isoformat()
    resolutions = ["node,outcome,date,source"] + [
        f"{by_label[name].id},{by_label[name].states[state]},{day},test" for name, state in hard.items()]
    paths.resolutions.write_text("\n".join(resolutions) + "\n")
    rows = ["item_id,node,date,source,reliability,credibility,lr,cluster,summary,url,state"]
    for k, (name, likelihood) in enumerate(one.items()):
        node = by_label[name]
        at = int(np.argmax(likelihood))
        rows.append(f"S{k},{node.id},{day},test,A,1,{likelihood[at]!r},,one state,,{node.states[at]}")
    for k, (name, likelihood) in enumerate(vector.items()):
        node = by_label[name]
        if node.binary:              # a yes/no question takes one LR, for yes (the contract)
            yes, no = (likelihood[node.states.index(s)] for s in ("yes", "no"))
            rows.append(f"V{k},{node.id},{day},test,A,1,{yes / no!r},,vector,,")
            continue
        lr = ":".join(repr(x) for x in likelihood)
        rows.append(f"V{k},{node.id},{day},test,A,1,{lr},,vector,,")
    paths.evidence.write_text("\n".join(rows) + "\n")


def peer_means(bn, hard, one, vector) -> dict[str, list[float]]:
    engine = gum.LazyPropagation(bn)
    for name, state in hard.items():
        engine.addEvidence(name, state)
    for name, likelihood in {**one, **vector}.items():
        engine.addEvidence(name, likelihood)
    engine.makeInference()
    return {bn.variable(n).name(): engine.posterior(n).tolist() for n in bn.nodes()}


def wide_network(folder: Path):
    """Nodes of as many states as the largest published ones (bnlearn's barley 67, mildew
    100) with binary and 21-state neighbours, as a BIF pyAgrum wrote, rows normalised."""
    bn = gum.BayesNet("wide")
    for name, k in (("crop", 67), ("yield", 100), ("frost", 2), ("soil", 21), ("sale", 3)):
        bn.add(gum.LabelizedVariable(name, name, [f"s{i}" for i in range(k)]))
    for parent, child in (("frost", "crop"), ("crop", "yield"), ("frost", "soil"),
                          ("yield", "sale"), ("soil", "sale")):
        bn.addArc(parent, child)
    gum.initRandom(11)
    bn.generateCPTs()
    bif = folder / "wide.bif"
    gum.saveBN(bn, str(bif))
    bn = gum.loadBN(str(bif))
    for n in bn.nodes():
        bn.cpt(n).normalizeAsCPT()
    return bn, bif


@pytest.mark.parametrize("name", CHOSEN + ("wide",))
@pytest.mark.parametrize("strength", [None, 20.0])
def test_every_state_mean_equals_pyagrum_with_hard_and_soft_evidence(tmp_path, name, strength):
    bn, bif = wide_network(tmp_path) if name == "wide" else peer_network(name, tmp_path)
    imported = import_network(tmp_path, bif, dt.date(2025, 1, 1), name, strength)
    inputs = load_inputs(imported.paths)
    hard, one, vector = evidence(bn, np.random.default_rng(7))
    write_evidence(imported.paths, inputs.scenario, hard, one, vector)
    inputs = load_inputs(scenario_paths(tmp_path, name))
    problem = prepare(inputs)
    posterior = fit(problem, "exact", seed=0, settings=SamplerSettings(draws=50, chains=1))
    expected = peer_means(bn, hard, one, vector)
    means, _draws = state_view(problem.net, posterior)
    worst = 0.0
    for v, node in enumerate(inputs.scenario.nodes):
        lo = problem.net.state_offsets[v]
        ours = [means[lo + node.engine_index(s)] for s in node.states]
        worst = max(worst, float(np.max(np.abs(np.array(ours) - expected[node.label or node.id]))))
    assert worst < 1e-9
    if strength is None:
        assert posterior.settings["draws"] == 0        # every entry fixed: no draws at all
        if problem.net.multistate:                     # and no sensitivity to cost
            assert sensitivity_calibrations(problem.net, problem.conditions) == 0


def test_report_json_gives_pyagrums_distribution_to_its_rounding(tmp_path):
    from forecast.jobs.report import make_report

    bn, bif = peer_network("alarm", tmp_path)
    imported = import_network(tmp_path, bif, dt.date(2025, 1, 1), "alarm")
    scenario = load_inputs(imported.paths).scenario
    hard, one, vector = evidence(bn, np.random.default_rng(3))
    write_evidence(imported.paths, scenario, hard, one, vector)
    document = make_report(imported.paths, seed=0).document
    written = json.loads((tmp_path / "reports" / "alarm" / "report.json").read_text())
    assert written["nodes"] == json.loads(json.dumps(document["nodes"]))
    expected = peer_means(bn, hard, one, vector)
    labels = {node.id: node.label or node.id for node in scenario.nodes}
    for node in written["nodes"]:
        means = [row["mean"] for row in node["distribution"]]
        assert np.max(np.abs(np.array(means) - expected[labels[node["id"]]])) <= 5.1e-7
        for row in node["distribution"]:
            assert row["interval"][0] == row["interval"][1] == row["mean"]   # fixed: a point


def test_watch_on_a_network_whose_entries_are_all_fixed_draws_no_cpt_and_gives_exact_values(
        tmp_path):
    """Every CPT draw of a fixed network is the same table: watch makes none (its work counts
    none, so a large imported network is not refused for them), its rows are the exact values
    with point intervals, and the terminal table says why it shows no spread."""
    from typer.testing import CliRunner

    from forecast.analysis.state_decisions import state_value_of_information
    from forecast.cli import app
    from forecast.jobs.watch import watch_document, watch_work

    bn, bif = peer_network("alarm", tmp_path)
    imported = import_network(tmp_path, bif, dt.date(2025, 1, 1), "alarm")
    scenario = load_inputs(imported.paths).scenario
    hard, one, vector = evidence(bn, np.random.default_rng(3))
    write_evidence(imported.paths, scenario, hard, one, vector)
    problem = prepare(load_inputs(imported.paths))
    net = problem.net
    open_states = sum(net.cards[v] for v in range(net.n_nodes)
                      if net.node_ids[v] not in problem.conditions)
    assert watch_work(problem, 200).inferences == open_states + 1
    runner = CliRunner()
    result = runner.invoke(app, ["watch", "--root", str(tmp_path), "--scenario", "alarm",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    document = watch_document(imported.paths)
    assert json.loads(result.stdout) == json.loads(json.dumps(document["watch"]))
    assert document["cpt_draws"] == 0 and document["watch"]
    targets = [net.index(t) for t in document["targets"]]
    exact = state_value_of_information(net, problem.state_log_weights, problem.conditions, targets)
    values = dict(zip((net.node_ids[v] for v in exact.candidates), exact.value, strict=True))
    for rank, row in enumerate(document["watch"]):
        assert row["value"] == pytest.approx(values[row["node"]], abs=1e-9)
        assert row["interval"] == [row["value"], row["value"]]          # a point
        assert row["top_share"] == (1.0 if rank == 0 else 0.0)
    text = runner.invoke(app, ["watch", "--root", str(tmp_path), "--scenario", "alarm"])
    assert text.exit_code == 0, text.output
    assert "% over CPT draws" not in text.output and "Every CPT entry" in text.output
