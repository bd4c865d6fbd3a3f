"""Record what happened: a resolution is hard evidence in every fit from then on."""

from __future__ import annotations

from ..io.priors import load_scenario
from ..io.project import ScenarioPaths
from ..io.resolutions import record_resolution
from ..model.spec import Resolution


def resolve(paths: ScenarioPaths, node: str, outcome: str, date: str, source: str) -> Resolution:
    """Record `node` resolved as `outcome`; unknown node, bad outcome, a malformed date or one
    before the node opens, a second resolution of the node: one-line errors, nothing written."""
    scenario = load_scenario(paths.priors)
    return record_resolution(paths.resolutions, paths.display(paths.resolutions), scenario,
                             node, outcome, date, source)
