"""`forecast network import / export` against pyAgrum, the library that reads and writes the
formats: published bnlearn networks imported, reported and held to pyAgrum's own inference on
the original file, exported to every format and reloaded; files of every format written by
pyAgrum imported; bad files refused in one line with nothing written."""

from __future__ import annotations

import datetime as dt
import gzip
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, snapshot_files
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast import DEFAULT_SEED
from forecast.analysis.summaries import state_view
from forecast.cli import app
from forecast.inference.problem import prepare
from forecast.io.network_toml import imported_toml
from forecast.io.networks import exported_name, network_bytes, read_network
from forecast.io.priors import load_scenario, parse_scenario
from forecast.io.project import load_inputs, scenario_paths
from forecast.jobs.report import cached_fit
from forecast.model.placeholders import PLACEHOLDER
from forecast.model.tables import (
    TableNetwork,
    TableNode,
    configurations,
    identifier,
    scenario_tables,
)

gum = pytest.importorskip("pyagrum")

BNLEARN = DATA / "bnlearn"
TODAY = dt.date(2026, 12, 7)
runner = CliRunner()


def published(name: str, folder: Path) -> Path:
    """A bnlearn network as pgmpy ships it, gunzipped to `folder` (pyAgrum reads .bif)."""
    target = folder / f"{name}.bif"
    target.write_bytes(gzip.decompress((BNLEARN / f"{name}.bif.gz").read_bytes()))
    return target


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def pyagrum_marginals(bn, evidence: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """pyAgrum's posterior of every node, by name, each over its states in the file's order;
    every CPT row normalised first (pyAgrum keeps rows as read, and its BIF, NET and DSL readers
    read decimals in single precision, so a row sums to 1 only within about 1e-7)."""
    for node in bn.nodes():
        bn.cpt(node).normalizeAsCPT()
    engine = gum.LazyPropagation(bn)
    for name, label in (evidence or {}).items():
        engine.addEvidence(name, label)
    engine.makeInference()
    return {bn.variable(n).name(): engine.posterior(n).toarray() for n in bn.nodes()}


def our_distributions(root: Path, scenario_id: str) -> dict[str, np.ndarray]:
    """Every node's posterior over its states (declared order), unrounded, through the library:
    the fit `forecast report` made, from the posterior cache it wrote."""
    paths = scenario_paths(root, scenario_id)
    inputs = load_inputs(paths)
    posterior = cached_fit(paths, inputs, DEFAULT_SEED)
    net = prepare(inputs).net
    means, _draws = state_view(net, posterior)
    return {node.id: np.array([means[net.state_offsets[v] + node.engine_index(s)]
                               for s in node.states])
            for v, node in enumerate(inputs.scenario.nodes)}


# -- the file a user gets ---------------------------------------------------------------------
def test_import_writes_every_row_of_the_file_as_a_fixed_row_in_the_compact_form(tmp_path):
    source = published("asia", tmp_path)
    result = invoke("network", "import", source, "--root", tmp_path / "root")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported asia.bif: 8 nodes, 18 CPT rows (fixed). Created "
                                    "priors/asia.toml, evidence/asia.csv, evidence/asia.resolutions.csv\n")
    root = tmp_path / "root"
    assert (root / "evidence" / "asia.csv").read_text().strip().startswith("item_id,node,date")
    assert (root / "evidence" / "asia.resolutions.csv").read_text() == "node,outcome,date,source\n"
    doc = tomllib.loads((root / "priors" / "asia.toml").read_text())
    bn = gum.loadBN(str(source))
    nodes = {n["id"]: n for n in doc["node"]}
    assert list(nodes) == [bn.variable(v).name() for v in sorted(bn.nodes())]
    either = nodes["either"]
    assert either["parents"] == ["lung", "tub"] and either["label"] == "either"
    assert "states" not in either                     # yes, no: the binary form
    assert either["prior"] == [
        {"when": ["yes", "yes"], "p": 1.0, "fixed": True},
        {"when": ["no", "yes"], "p": 1.0, "fixed": True},
        {"when": ["yes", "no"], "p": 1.0, "fixed": True},
        {"when": ["no", "no"], "p": 0.0, "fixed": True},
    ]
    for node in doc["node"]:
        cpt = bn.cpt(node["id"])
        for row in node["prior"]:
            given = dict(zip(node["parents"], row.get("when", []), strict=True))
            values = cpt[given] if given else cpt.toarray()
            assert row["p"] == pytest.approx(values[0] / values.sum(), abs=1e-15)
        for key in ("question", "resolution", "rationale", "reference_class"):
            assert node[key].startswith(PLACEHOLDER)
    assert doc["scenario"]["trigger"].startswith(PLACEHOLDER)


def test_states_keep_the_files_order_and_names_are_lowercased_with_labels_kept(tmp_path):
    network = read_network(published("cancer", tmp_path))
    doc = tomllib.loads(imported_toml(network, "cancer", "cancer.bif", TODAY))
    nodes = {n["id"]: n for n in doc["node"]}
    assert nodes["pollution"]["label"] == "Pollution"
    assert nodes["pollution"]["states"] == ["low", "high"]
    assert nodes["smoker"]["states"] == ["true", "false"]
    cancer = nodes["cancer"]
    assert cancer["parents"] == ["pollution", "smoker"]
    assert [row["when"] for row in cancer["prior"]] == [
        ["low", "true"], ["high", "true"], ["low", "false"], ["high", "false"]]
    bn = gum.loadBN(str(tmp_path / "cancer.bif"))
    row = bn.cpt("Cancer")[{"Pollution": "high", "Smoker": "True"}]
    assert cancer["prior"][1]["p"] == pytest.approx(list(row / row.sum()), abs=1e-15)
    assert cancer["prior"][1]["fixed"] is True


def test_strength_makes_each_row_a_dirichlet_around_the_file_and_keeps_zeros_fixed(tmp_path):
    network = read_network(published("asia", tmp_path))
    doc = tomllib.loads(imported_toml(network, "asia", "asia.bif", TODAY, strength=20))
    nodes = {n["id"]: n for n in doc["node"]}
    assert nodes["smoke"]["prior"] == [{"p": 0.5, "strength": 20}]
    assert all(row["fixed"] is True for row in nodes["either"]["prior"])
    scenario = parse_scenario(imported_toml(network, "asia", "asia.bif", TODAY, strength=20),
                              "priors/asia.toml")
    smoke = scenario.node("smoke").priors[0]
    assert (smoke.alpha, smoke.beta) == (10.0, 10.0)


def test_validate_lists_every_placeholder_until_it_is_written(tmp_path):
    root = tmp_path / "root"
    assert invoke("network", "import", published("asia", tmp_path), "--root", root).exit_code == 0
    result = invoke("evidence", "validate", "--scenario", "asia", "--root", root)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 9                      # the trigger, and each of the 8 nodes once
    assert lines[0] == ("Error: priors/asia.toml:scenario: trigger: still to be written (replace "
                        f"the placeholder that starts with '{PLACEHOLDER}')")
    assert lines[1].startswith("Error: priors/asia.toml:node[asia]: question, resolution, "
                               "rationale, reference_class: still to be written")
    path = root / "priors" / "asia.toml"
    text = path.read_text()
    for _ in range(6):              # the trigger, asia's four texts and tub's question
        text = text.replace(f'"{PLACEHOLDER} ', '"Written. ', 1)
    path.write_text(text)
    lines = invoke("evidence", "validate", "--scenario", "asia", "--root", root).stderr.splitlines()
    assert len(lines) == 7
    assert lines[0].startswith("Error: priors/asia.toml:node[tub]: resolution, rationale, "
                               "reference_class: still to be written")
    path.write_text(text.replace(f'"{PLACEHOLDER} ', '"Written. '))
    result = invoke("evidence", "validate", "--scenario", "asia", "--root", root)
    assert result.exit_code == 0, result.output


# -- round trips on published networks --------------------------------------------------------
# Every bnlearn network pgmpy ships that pyAgrum reads and can answer (child does not parse in
# pyAgrum: a state named Asy/Patch; munin1 has a node of 21 states, refused below; link's
# junction tree does not fit in memory). Marked slow where the report takes seconds.
FAST = ["asia", "cancer", "earthquake", "survey", "sachs"]
SLOW = ["alarm", "insurance", "hailfinder", "hepar2", "water", "win95pts", "andes", "pigs"]
# pyAgrum writes XDSL and UAI numbers to 6 significant digits and reads BIF, NET and UAI numbers
# in single precision: a reloaded marginal moves by up to about 1e-6.
WRITTEN = 5e-6


def _round_trip(name: str, tmp_path: Path) -> None:
    """Import, report (every node's posterior, one node resolved, against pyAgrum on the
    original file to 1e-9), export to every format (reloaded by pyAgrum: the same marginals) and
    import each export again (the same prior means)."""
    source = published(name, tmp_path)
    network = read_network(source)
    root = tmp_path / "root"
    result = invoke("network", "import", source, "--root", root)
    assert result.exit_code == 0, result.output
    bn = gum.loadBN(str(source))
    reference = pyagrum_marginals(bn)
    last = network.nodes[-1]                       # resolve one node to its likeliest state
    name_of = {n.id: bn.variable(v).name() for n, v in zip(network.nodes, sorted(bn.nodes()),
                                                            strict=True)}
    state = int(np.argmax(reference[name_of[last.id]]))
    (root / "evidence" / f"{name}.resolutions.csv").write_text(
        f"node,outcome,date,source\n{last.id},{last.states[state]},{TODAY.isoformat()},test\n")
    result = invoke("report", "--scenario", name, "--root", root, "--format", "json")
    assert result.exit_code == 0, result.output
    ours = our_distributions(root, name)
    label = bn.variable(name_of[last.id]).label(state)
    expected = pyagrum_marginals(gum.loadBN(str(source)), {name_of[last.id]: label})
    for node in network.nodes:
        np.testing.assert_allclose(ours[node.id], expected[name_of[node.id]], rtol=0, atol=1e-9,
                                   err_msg=f"{name}: node {node.id}")
    imported = scenario_tables(load_scenario(root / "priors" / f"{name}.toml"))
    for fmt in ("bif", "xdsl", "net", "uai"):
        out = tmp_path / f"exported.{fmt}"
        result = invoke("network", "export", "--scenario", name, "--root", root,
                        "--format", fmt, "-o", out)
        assert result.exit_code == 0, result.output
        reloaded = gum.loadBN(str(out))
        marginals = pyagrum_marginals(reloaded)
        by_position = list(marginals.values())
        for index, node in enumerate(network.nodes):
            # UAI keeps no names: its variables are numbered in the written order
            got = by_position[index] if fmt == "uai" else marginals[exported_name(node)]
            np.testing.assert_allclose(got, reference[name_of[node.id]], rtol=0, atol=WRITTEN,
                                       err_msg=f"{name} as {fmt}: node {node.id}")
        # Import then export then import gives the same prior means (the scenario's, read back
        # from the second import's TOML).
        again = tmp_path / f"again-{fmt}"
        result = invoke("network", "import", out, "--root", again, "--id", "again")
        assert result.exit_code == 0, result.output
        tables = scenario_tables(load_scenario(again / "priors" / "again.toml"))
        ids = {n.id: n.id for n in imported.nodes}
        if fmt == "uai":                        # numbered in the written order
            ids = {n.id: m.id for n, m in zip(imported.nodes, tables.nodes, strict=True)}
        for node in imported.nodes:
            want = rows_by_when(imported, node.id)
            got = rows_by_when(tables, ids[node.id], ids)
            assert set(got) == set(want), f"{name} via {fmt}: {node.id}"
            for when, row in want.items():
                np.testing.assert_allclose(got[when], row, rtol=0, atol=WRITTEN,
                                           err_msg=f"{name} via {fmt}: {node.id} {when}")


def rows_by_when(network: TableNetwork, node_id: str, ids: dict[str, str] | None = None) -> dict:
    """A node's CPT keyed by its parents' states as (parent, state index) pairs, whatever order
    a file lists the parents in; `ids` maps the ids of another import to these."""
    back = {new: old for old, new in (ids or {}).items()}
    node = network.node(node_id)
    cards = [len(network.node(p).states) for p in node.parents]
    return {frozenset((back.get(p, p), i) for p, i in zip(node.parents, config, strict=True)):
            np.array(row) for config, row in zip(configurations(cards), node.rows, strict=True)}


@pytest.mark.parametrize("name", FAST)
def test_round_trip_matches_pyagrum_on_the_original_file(name, tmp_path):
    _round_trip(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_round_trip_matches_pyagrum_on_a_large_published_network(name, tmp_path):
    _round_trip(name, tmp_path)


# -- every format pyAgrum writes ---------------------------------------------------------------
def _genie_network():
    bn = gum.BayesNet("genie")
    bn.add(gum.LabelizedVariable("Smoker", "Smoker", ["yes", "no"]))
    bn.add(gum.LabelizedVariable("LungCancer", "LungCancer", ["yes", "no"]))
    bn.add(gum.LabelizedVariable("Xray_Result", "Xray_Result", ["yes", "no"]))
    bn.addArc("Smoker", "LungCancer")
    bn.addArc("LungCancer", "Xray_Result")
    bn.cpt("Smoker").fillWith([0.3, 0.7])
    bn.cpt("LungCancer")[{"Smoker": "yes"}] = [0.1, 0.9]
    bn.cpt("LungCancer")[{"Smoker": "no"}] = [0.01, 0.99]
    bn.cpt("Xray_Result")[{"LungCancer": "yes"}] = [0.9, 0.1]
    bn.cpt("Xray_Result")[{"LungCancer": "no"}] = [0.2, 0.8]
    return bn


@pytest.mark.parametrize("fmt", ["xdsl", "dsl", "net", "bif"])
def test_a_file_written_by_pyagrum_imports_with_its_labels(fmt, tmp_path):
    source = tmp_path / f"Lung Study.{fmt}"
    gum.saveBN(_genie_network(), str(source))
    root = tmp_path / "root"
    result = invoke("network", "import", source, "--root", root)
    assert result.exit_code == 0, result.output
    scenario = load_scenario(root / "priors" / "lung_study.toml")
    assert [(n.id, n.label) for n in scenario.nodes] == [
        ("smoker", "Smoker"), ("lungcancer", "LungCancer"), ("xray_result", "Xray_Result")]
    assert [p.mean for p in scenario.node("lungcancer").priors] == pytest.approx([0.01, 0.1],
                                                                                 abs=1e-7)
    assert scenario.node("xray_result").parents == ("lungcancer",)
    exported = invoke("network", "export", "--scenario", "lung_study", "--root", root,
                      "--format", "xdsl")
    assert exported.exit_code == 0
    assert '<cpt id="LungCancer">' in exported.stdout      # its own names go back to GeNIe


def test_a_uai_file_without_names_gets_ids_from_its_numbers(tmp_path):
    source = tmp_path / "lung.uai"
    gum.saveBN(_genie_network(), str(source))
    network = read_network(source)
    assert [(n.id, n.label, n.states) for n in network.nodes] == [
        ("n0", "0", ("s0", "s1")), ("n1", "1", ("s0", "s1")), ("n2", "2", ("s0", "s1"))]
    assert network.node("n1").parents == ("n0",)
    assert network.node("n1").rows[0] == pytest.approx((0.1, 0.9), abs=1e-7)


# -- export of what only scenarios have ----------------------------------------------------------
def test_export_writes_a_parametric_cpt_as_its_expanded_table_at_the_prior_means(data_root):
    from forecast.model.parametric import cpt_table

    scenario = load_scenario(data_root / "priors" / "noisy-or-four.toml")
    result = invoke("network", "export", "--scenario", "noisy-or-four", "--root", data_root,
                    "--format", "xdsl")
    assert result.exit_code == 0, result.output
    path = data_root / "exported.xdsl"
    path.write_bytes(result.stdout_bytes)
    bn = gum.loadBN(str(path))
    for node in scenario.nodes:
        cpt = bn.cpt(node.id)
        if node.parametric:
            base, *numbers = (p.mean for p in node.priors)
            expected = cpt_table(node.cpt, base, numbers)
        else:
            expected = [p.mean for p in node.priors]
        for config, p_yes in enumerate(expected):
            given = {parent: "yes" if config >> j & 1 else "no"
                     for j, parent in enumerate(node.parents)}
            row = cpt[given] if given else cpt.toarray()
            assert row[0] == pytest.approx(p_yes, abs=1e-6), (node.id, given)


def test_export_of_the_shipped_scenario_opens_in_pyagrum(repo_root, tmp_path):
    out = tmp_path / "turkey.net"
    result = invoke("network", "export", "--root", repo_root, "--format", "net", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {out} (net, ")
    scenario = load_scenario(repo_root / "priors" / "turkey-peacekeeping.toml")
    bn = gum.loadBN(str(out))
    assert bn.size() == len(scenario.nodes)
    names = sorted(identifier(bn.variable(n).name(), "n") for n in bn.nodes())
    assert names == sorted(scenario.node_ids)


def test_tables_of_a_scenario_list_configurations_first_parent_fastest():
    assert list(configurations([2, 3])) == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


# -- bad files: one line, exit 1, nothing written -------------------------------------------------
BIF_HEAD = 'network t {\n}\nvariable a {\n  type discrete [ 2 ] { yes, no };\n}\n'


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _bif(tmp_path: Path, body: str) -> Path:
    return _text(tmp_path / "bad.bif", BIF_HEAD + body)


@pytest.mark.parametrize("make, message", [
    (lambda d: published("child", d),
     'child.bif:16: does not parse as BIF: column 69: Syntax error : "}" expected'),
    (lambda d: _bif(d, "variable b {\n  type discrete [ 101 ] { "
                       + ", ".join(f"s{i}" for i in range(101)) + " };\n}\n"
                       "probability ( a ) {\n  table 0.5, 0.5;\n}\n"
                       "probability ( b ) {\n  table " + ", ".join(["0.01"] * 100) + ", 0;\n}\n"),
     "bad.bif:node[b]: states: 101 states; a node has 2 to 100 (nothing written)"),
    (lambda d: _bif(d, 'variable b {\n  type discrete [ 2 ] { yes, no };\n}\n'
                       'probability ( a ) {\n  table 0.5, 0.5;\n}\n'
                       'probability ( b | a ) {\n  (yes) 0.0, 0.0;\n  (no) 0.3, 0.7;\n}\n'),
     "bad.bif:node[b]: cpt: expected a row of probabilities summing to 1 (within 0.001) for "
     "a = yes, found '[0, 0]'"),
    (lambda d: _bif(d, 'variable A {\n  type discrete [ 2 ] { yes, no };\n}\n'
                       'probability ( a ) {\n  table 0.5, 0.5;\n}\n'
                       'probability ( A ) {\n  table 0.5, 0.5;\n}\n'),
     "bad.bif: node: 'a' and 'A' are both 'a' once lowercased (other characters as _): node "
     "names must stay distinct (nothing written)"),
    (lambda d: _text(d / "net.xdsl", "<smile><nodes><cpt id="),
     "net.xdsl: does not parse as XDSL (GeNIe)"),
    (lambda d: _text(d / "net.json", "{}"),
     "net.json: extension: expected a network file: .bif, .dsl, .net, .uai, .xdsl, found '.json'"),
    (lambda d: d / "missing.bif", "missing.bif: file not found (a network file)"),
])
def test_a_bad_network_file_is_one_line_and_nothing_is_written(make, message, tmp_path):
    source = make(tmp_path)
    root = tmp_path / "root"
    result = invoke("network", "import", source, "--root", root)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert not root.exists()


def test_import_never_overwrites_a_scenario(tmp_path):
    root = tmp_path / "root"
    source = published("asia", tmp_path)
    assert invoke("network", "import", source, "--root", root).exit_code == 0
    before = snapshot_files(root)
    result = invoke("network", "import", source, "--root", root, "--strength", "5")
    assert result.exit_code == 1
    assert result.stderr == ("Error: priors/asia.toml: already exists: scenario 'asia' is taken "
                             "(choose another id); nothing written\n")
    assert snapshot_files(root) == before
    bad = invoke("network", "import", source, "--root", root, "--id", "Asia Two")
    assert bad.exit_code == 1 and "--id: id: expected a scenario id" in bad.stderr
    assert invoke("network", "import", source, "--root", root, "--strength", "0").exit_code == 1
    assert snapshot_files(root) == before


def test_without_pyagrum_each_command_says_how_to_install_it(tmp_path, monkeypatch, repo_root):
    monkeypatch.setitem(sys.modules, "pyagrum", None)
    source = published("asia", tmp_path)
    hint = ('Error: forecast network: needs pyAgrum to read and write other tools\' files: '
            'pip install "forecast[networks]"\n')
    result = invoke("network", "import", source, "--root", tmp_path / "new")
    assert (result.exit_code, result.stderr) == (1, hint)
    assert not (tmp_path / "new").exists()
    result = invoke("network", "export", "--root", repo_root, "--format", "bif")
    assert (result.exit_code, result.stderr) == (1, hint)


def test_network_commands_never_import_pymc(tmp_path):
    import subprocess

    source = published("asia", tmp_path)
    code = ("import sys\nfrom forecast.cli import app\n"
            f"try:\n    app(['network', 'import', {str(source)!r}, '--root', {str(tmp_path)!r}])\n"
            "except SystemExit:\n    pass\n"
            f"try:\n    app(['network', 'export', '--scenario', 'asia', '--root', {str(tmp_path)!r}, "
            "'--format', 'xdsl', '-o', " + repr(str(tmp_path / 'a.xdsl')) + "])\n"
            "except SystemExit:\n    pass\n"
            "print('pymc' in sys.modules, 'pytensor' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"
    assert (tmp_path / "a.xdsl").is_file()


# -- properties of the writer, on random networks -------------------------------------------------
@st.composite
def table_networks(draw):
    """A random DAG of 1-5 nodes, each yes/no or of 2-4 named states, at most 2 parents (earlier
    nodes), every CPT row a distribution that may hold zeros."""
    nodes = []
    for index in range(draw(st.integers(1, 5))):
        k = draw(st.integers(2, 4))
        states = ("yes", "no") if k == 2 and draw(st.booleans()) else tuple(
            f"s{j}_{index}" for j in range(k))
        parents = tuple(draw(st.lists(st.sampled_from([n.id for n in nodes]), max_size=2,
                                      unique=True))) if nodes else ()
        n_rows = int(np.prod([len(next(n for n in nodes if n.id == p).states) for p in parents]))
        rows = []
        for _ in range(n_rows):
            weights = draw(st.lists(st.floats(0, 1) | st.just(0.0), min_size=k, max_size=k)
                           .filter(lambda w: sum(w) > 0.01))
            rows.append(tuple(w / sum(weights) for w in weights))
        nodes.append(TableNode(f"node_{index}", f"Node {index}", states, parents, tuple(rows)))
    return TableNetwork(tuple(nodes))


@settings(max_examples=30, deadline=None)
@given(table_networks(), st.sampled_from([None, 7, 0.5]))
def test_the_toml_holds_every_row_exactly_and_the_reader_reads_back_the_same_network(network,
                                                                                     strength):
    text = imported_toml(network, "random", "random.xdsl", TODAY, strength)
    doc = tomllib.loads(text)
    for node, table in zip(network.nodes, doc["node"], strict=True):
        assert table["id"] == node.id and table["label"] == node.label
        assert tuple(table.get("states", ("yes", "no"))) == node.states
        parents = [network.node(p) for p in node.parents]
        cards = [len(p.states) for p in parents]
        for config, row, prior in zip(configurations(cards), node.rows, table["prior"], strict=True):
            assert prior.get("when", []) == [p.states[i] for p, i in zip(parents, config, strict=True)]
            assert prior["p"] == (row[0] if node.yes_no else list(row))
            fixed = strength is None or min(row) == 0 or max(row) == 1
            assert prior.get("fixed") is (True if fixed else None)
            assert prior.get("strength") == (None if fixed else strength)
    back = scenario_tables(parse_scenario(text, "priors/random.toml"))
    for node, read in zip(network.nodes, back.nodes, strict=True):
        np.testing.assert_allclose(np.array(read.rows), np.array(node.rows), rtol=0, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(table_networks())
def test_what_export_writes_pyagrum_reads_back_as_the_same_network(network):
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "net.xdsl"
        path.write_bytes(network_bytes(network, "xdsl", "random"))
        back = read_network(path)
    assert {n.id: n.states for n in back.nodes} == {n.id: n.states for n in network.nodes}
    for node in network.nodes:
        want, got = rows_by_when(network, node.id), rows_by_when(back, node.id)
        assert set(got) == set(want)
        for when, row in want.items():
            np.testing.assert_allclose(got[when], row, rtol=0, atol=WRITTEN)
