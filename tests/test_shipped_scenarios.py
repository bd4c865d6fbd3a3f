"""The shipped scenarios meet the analysis standard (docs/analysis-standard.md): they validate;
every Turkey item quotes its source verbatim and carries a date that is in the source or says it
is not; no prior rationale cites an evidence item; tables stay elicitable; us-tariffs-2025 has a
sourced resolution for every question whose deadline has passed. Exact inference only (no NUTS).
The scenarios are read as shipped (committed at HEAD, see conftest.shipped_data), so an analyst's
own evidence and resolutions in the live files do not fail these checks."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from typer.testing import CliRunner

from forecast.cli import app
from forecast.inference.exact import exact_means
from forecast.inference.problem import prepare
from forecast.io.project import load_inputs, scenario_paths
from forecast.model.calendar import overdue_nodes

TURKEY = "turkey-peacekeeping"
TARIFFS = "us-tariffs-2025"
UNDATED = "Date not in the source"


def normalised(text: str) -> str:
    return " ".join(text.split())


def sources_dir() -> Path | None:
    """The two March 2025 articles the Turkey scenario codes: ../shared/sources beside the
    checkout (DESIGN.md), also found from a worktree one level deeper, or $FORECAST_SOURCES."""
    candidates = [Path(os.environ["FORECAST_SOURCES"])] if os.environ.get("FORECAST_SOURCES") else []
    candidates += [REPO.parent / "shared" / "sources", REPO.parent.parent / "shared" / "sources"]
    return next((path for path in candidates if path.is_dir() and any(path.glob("*.txt"))), None)


def turkey(root):
    return load_inputs(scenario_paths(root, TURKEY))


@pytest.mark.parametrize("scenario", [TURKEY, TARIFFS])
def test_shipped_scenario_validates(scenario, shipped_root):
    result = CliRunner().invoke(app, ["evidence", "validate", "--root", str(shipped_root), "--scenario", scenario])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ")


def test_every_turkey_item_quotes_a_source_sentence_verbatim(shipped_root):
    folder = sources_dir()
    if folder is None:
        pytest.skip("the source articles (../shared/sources) are not beside this checkout")
    texts = [normalised(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.txt"))]
    items = turkey(shipped_root).evidence
    assert items
    for it in items:
        assert it.quote, f"{it.item_id} on {it.node} has no quote"
        assert any(normalised(it.quote) in text for text in texts), f"{it.item_id}: {it.quote!r}"


def test_every_turkey_item_date_is_in_its_source_or_its_summary_says_it_is_not(shipped_root):
    folder = sources_dir()
    if folder is None:
        pytest.skip("the source articles (../shared/sources) are not beside this checkout")
    texts = [normalised(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.txt"))]
    for it in turkey(shipped_root).evidence:
        source = next(text for text in texts if normalised(it.quote) in text)
        written = f"{it.date:%B} {it.date.day}, {it.date.year}"        # "March 6, 2025"
        assert written in source or UNDATED in it.summary, (it.item_id, written)


def test_turkey_items_are_graded_as_unknown_outlets_and_restatements_share_a_cluster(shipped_root):
    items = turkey(shipped_root).evidence
    assert {it.reliability for it in items} == {"F"}         # both outlets are unknown
    by_quote: dict[str, set[str]] = {}
    for it in items:
        by_quote.setdefault(it.quote, set()).add(it.cluster or it.item_id)
    # E004 and E005 quote one sentence but are two events (two visits); E007 and E008 quote one
    # sentence that reports two things (a condemnation and an acknowledgement): so one quote may
    # carry two clusters, never more.
    assert all(len(clusters) <= 2 for clusters in by_quote.values())
    offer = {it.item_id for it in items if it.cluster == "c-offer"}
    assert offer == {"E001", "E002"}


# Things the Turkey evidence reports (names, dates, figures): a prior rationale that mentions one
# of them counts the item twice (once in the prior, once as evidence).
EVIDENCE_MARKERS = ["Lavrov", "Zelensky", "Erdogan", "Erdoğan", "Fidan", "17 February", "23 February",
                    "6 March", "7 March", "$10 billion", "300 projects", "Saudi", "Jeddah", "wheat",
                    "peacekeeping offer", "summit", "rejects foreign", "rejection of"]


def test_no_turkey_prior_rationale_cites_an_evidence_item(shipped_root):
    scenario = turkey(shipped_root).scenario
    for node in scenario.nodes:
        for prior in node.priors:
            for marker in EVIDENCE_MARKERS:
                assert marker not in prior.rationale + prior.reference_class, (node.id, prior.when, marker)


def test_turkey_network_carries_the_argument_with_elicitable_tables(shipped_root):
    scenario = turkey(shipped_root).scenario
    ids = set(scenario.node_ids)
    assert 10 <= len(ids) <= 14
    assert {"ceasefire", "turkish_deployment", "european_force", "russia_consents", "us_backstop",
            "russia_ties_strained", "f35_reinstatement", "mediation_stalemate", "kyiv_partnership",
            "turkey_hosts_talks", "eu_concessions", "reconstruction_contracts"} <= ids
    parents = {node.id: set(node.parents) for node in scenario.nodes}
    assert all(len(p) <= 3 for p in parents.values())
    assert {"ceasefire", "turkish_deployment"} <= parents["kyiv_partnership"]
    assert {"ceasefire", "turkish_deployment"} <= parents["russia_ties_strained"]
    assert {"european_force", "russia_consents", "us_backstop"} == parents["turkish_deployment"]
    for node in scenario.nodes:
        for prior in node.priors:
            assert prior.rationale.strip() and prior.reference_class.strip(), node.id
    # A March 2025 analysis: nothing resolved, whatever the date today.
    assert not turkey(shipped_root).resolutions and scenario.as_of == dt.date(2025, 3, 11)


def test_turkey_questions_past_their_deadline_stay_unresolved_and_are_overdue(shipped_root):
    inputs = turkey(shipped_root)
    late = [n.id for n in overdue_nodes(inputs.scenario, inputs.resolutions, dt.date(2026, 12, 1))]
    assert late == ["ceasefire", "us_backstop", "russia_consents", "european_force",
                    "turkish_deployment", "turkey_hosts_talks"]
    assert overdue_nodes(inputs.scenario, inputs.resolutions, dt.date(2026, 3, 11)) == []


@pytest.mark.parametrize("scenario", [TURKEY, TARIFFS])
def test_shipped_scenario_has_exact_forecasts(scenario, shipped_root):
    inputs = load_inputs(scenario_paths(shipped_root, scenario))
    problem = prepare(inputs)
    means = exact_means(problem.net, problem.state_log_evidence)
    assert means.shape == (len(inputs.scenario.nodes),)
    assert np.all((means >= 0) & (means <= 1))


def test_tariffs_resolve_every_question_past_its_deadline_with_a_dated_named_source(shipped_root):
    inputs = load_inputs(scenario_paths(shipped_root, TARIFFS))
    resolved = {r.node: r for r in inputs.resolutions}
    for node in inputs.scenario.nodes:
        if node.deadline < dt.date.today():
            assert node.id in resolved, f"{node.id} is past its deadline and unresolved"
        if node.id in resolved:
            r = resolved[node.id]
            assert node.opens <= r.date <= node.deadline, node.id
            assert re.search(r"\b20\d\d\b", r.source) and len(r.source) > 40, node.id
    # The corrected row: 125% reciprocal + 20% = 145% from 10 April (104% from 9 April).
    escalation = resolved["china_escalation"].source
    assert "145%" in escalation and "10 April" in escalation and "104%" in escalation
