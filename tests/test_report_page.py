"""report.html for readers: whether the numbers can be trusted, said in words without jargon,
and a structure view that scales (a diagram while it stays legible, linked layers past that)."""

from __future__ import annotations

import pytest
from conftest import run_cli


def generated_root(tmp_path, n_nodes: int):
    from forecast.model.generate import evidence_csv, scenario_toml

    root = tmp_path / f"gen{n_nodes}"
    (root / "priors").mkdir(parents=True)
    (root / "evidence").mkdir()
    (root / "priors" / f"gen{n_nodes}.toml").write_text(scenario_toml(f"gen{n_nodes}", n_nodes, seed=3))
    (root / "evidence" / f"gen{n_nodes}.csv").write_text(
        evidence_csv([f"n{i:02d}" for i in range(n_nodes)], 30, seed=1))
    return root


def html_report(root, scenario: str) -> str:
    import re

    result = run_cli(root, ["report", "--scenario", scenario, "--engine", "exact", "--format", "html"])
    assert result.exit_code == 0, result.output
    return re.sub(r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+", "data:", result.stdout)


def test_a_large_network_is_shown_as_linked_layers_not_a_shrunken_diagram(tmp_path):
    import re

    page = html_report(generated_root(tmp_path, 24), "gen24")
    assert 'id="structure-chart"' not in page and 'id="structure-layers"' in page
    cards = re.findall(r'<li id="node-(n\d\d)"', page)
    assert sorted(cards) == [f"n{i:02d}" for i in range(24)]
    targets = set(re.findall(r'<a href="#node-(n\d\d)"', page))
    assert targets and targets <= set(cards)                 # every link lands on a card
    assert "24 questions in 5 layers, too many for a legible diagram" in " ".join(page.split())


def test_the_diagram_is_kept_while_it_fits():
    from forecast.render.graph_layout import diagram_fits

    chain = [{"id": f"n{i}", "parents": [f"n{i - 1}"] if i else []} for i in range(5)]
    assert diagram_fits(chain[:4]) and not diagram_fits(chain)                   # layers
    wide = [{"id": f"r{i}", "parents": []} for i in range(13)]
    assert diagram_fits(wide[:12]) and not diagram_fits(wide)                   # nodes


def test_the_report_says_in_words_whether_the_numbers_can_be_trusted(data_root):
    page = html_report(data_root, "burglary")
    assert "<h2 id=\"diagnostics-title\"><span class=\"num\">11</span>Can these numbers be trusted?</h2>" in page
    trust = page[page.index('<p id="trust"'):page.index('<details id="technical">')]
    assert "Yes, as computation goes. These forecasts were computed exactly" in trust
    assert "R-hat" not in trust and "ESS" not in trust                          # jargon kept below
    start = page.index('<details id="technical">')
    technical = page[start:page.index("</details>", start)]
    assert "<dt>max R-hat</dt>" in technical and "<dt>min ESS</dt>" in technical
    assert 'id="structure-chart"' in page                                       # five nodes: a diagram


@pytest.mark.parametrize("diagnostics, engine, trusted, start", [
    ({"warnings": ["ESS 120 < 400: ..."]}, "nuts", False, "Not yet."),
    ({"warnings": []}, "nuts", True, "Yes, as computation goes. These forecasts come from random"),
    ({"warnings": []}, "exact", True, "Yes, as computation goes. These forecasts were computed exactly"),
])
def test_trust_words(diagnostics, engine, trusted, start):
    from forecast.render import trust_words

    document = {"diagnostics": diagnostics, "engine": engine,
                "nodes": [{"mcse": 0.002}, {"mcse": 0.004}]}
    ok, words = trust_words(document)
    assert ok is trusted and words.startswith(start)
    if engine == "nuts" and trusted:
        assert "would not move any forecast by more than about 0.8 percentage points" in words
