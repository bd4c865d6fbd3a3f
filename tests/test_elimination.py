"""Variable elimination (used above ENUMERATION_MAX_NODES nodes) sums the same joint states out
as enumeration: same log-density, same gradient, same P(node = yes); and NUTS on it agrees
with the exact numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import cached_fit
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.inference import exact
from forecast.inference.elimination import build_structure
from forecast.inference.problem import prepare
from forecast.io.priors import parse_scenario
from forecast.io.project import load_inputs, scenario_paths
from forecast.model.generate import evidence_csv, scenario_toml


def generated(root, scenario_id, n_nodes, n_items=12, seed=0):
    (root / "priors").mkdir(parents=True, exist_ok=True)
    (root / "evidence").mkdir(exist_ok=True)
    text = scenario_toml(scenario_id, n_nodes, seed=seed)
    (root / "priors" / f"{scenario_id}.toml").write_text(text)
    nodes = list(parse_scenario(text, f"{scenario_id}.toml").node_ids)
    (root / "evidence" / f"{scenario_id}.csv").write_text(evidence_csv(nodes, n_items, seed=seed))
    resolved = nodes[n_nodes // 2]
    (root / "evidence" / f"{scenario_id}.resolutions.csv").write_text(
        f"node,outcome,date,source\n{resolved},no,2025-06-01,Generated\n")
    return root


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), max_size=3), min_size=1, max_size=14))
def test_elimination_order_is_a_permutation_with_bounded_factors(raw):
    """The one elimination order (the exact engine's Structure, which NUTS sums states out in
    too): a permutation whose largest table is no wider than the network."""
    parents = tuple(tuple(sorted({p % v for p in ps})) if v else () for v, ps in enumerate(raw))
    structure = build_structure(parents, merge_up_to=1)
    assert sorted(structure.order) == list(range(len(parents)))
    assert structure.largest_clique <= len(parents)
    # a chain never needs a factor over more than two variables
    chain = tuple(() if v == 0 else (v - 1,) for v in range(len(parents)))
    assert build_structure(chain, merge_up_to=1).largest_clique <= 2


@pytest.mark.slow
def test_elimination_equals_enumeration_in_logp_gradient_and_p_yes(tmp_path):
    from forecast.inference.pymc_model import build_model

    root = generated(tmp_path, "ve7", 7, seed=3)
    problem = prepare(load_inputs(scenario_paths(root, "ve7")))
    models = [build_model(problem.net, problem.node_log_weights, problem.hard_mask, method)
              for method in ("enumerate", "eliminate")]
    functions = []
    for model in models:
        p_yes = model.replace_rvs_by_values([model["p_yes"]])[0]
        functions.append((model.compile_logp(), model.compile_dlogp(),
                          model.compile_fn(p_yes, inputs=model.value_vars, point_fn=True)))
    rng = np.random.default_rng(0)
    start = models[0].initial_point()
    for _ in range(5):
        point = {k: rng.normal(scale=2.0, size=v.shape) for k, v in start.items()}
        (logp_a, dlogp_a, p_a), (logp_b, dlogp_b, p_b) = (
            (f[0](point), f[1](point), f[2](point)) for f in functions)
        assert logp_b == pytest.approx(logp_a, abs=1e-9)
        np.testing.assert_allclose(dlogp_b, dlogp_a, atol=1e-9)
        np.testing.assert_allclose(p_b, p_a, atol=1e-12)


@pytest.mark.slow
def test_nuts_on_a_12_node_network_by_elimination_matches_exact(tmp_path):
    root = generated(tmp_path, "ve12", 12, seed=12)
    inputs, posterior = cached_fit(root, "ve12")
    assert posterior.engine == "nuts"                  # elimination on the C backend
    problem = prepare(inputs)
    means = exact.exact_means(problem.net, problem.state_log_evidence)
    nuts_means = posterior.p_yes.reshape(-1, 12).mean(axis=0)
    resolved = problem.net.index(inputs.resolutions[0].node)
    assert nuts_means[resolved] == pytest.approx(0.0, abs=1e-9) and means[resolved] == 0.0
    free = np.arange(12) != resolved
    assert np.all(posterior.mcse[free] < 0.01)
    z = np.abs(nuts_means - means)[free] / posterior.mcse[free]
    # 11 free nodes: a 1% family-wise error rate needs |z| < 3.3
    assert np.all(z < 3.3), z
