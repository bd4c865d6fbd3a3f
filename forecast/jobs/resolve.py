"""Record what happened: a resolution is hard evidence in every fit from then on, until a
retraction (an appended row: the resolutions file is append-only) takes it back."""

from __future__ import annotations

from ..io.priors import load_scenario
from ..io.project import ScenarioPaths
from ..io.resolutions import record_resolution, retract_resolution
from ..model.spec import Resolution


def resolve(paths: ScenarioPaths, node: str, outcome: str, date: str, source: str) -> Resolution:
    """Record `node` resolved as `outcome`; unknown node, bad outcome, a malformed date, one
    before the node opens or after today, a second resolution of the node: one-line errors,
    nothing written."""
    scenario = load_scenario(paths.priors)
    return record_resolution(paths.resolutions, paths.display(paths.resolutions), scenario,
                             node, outcome, date, source)


def undo(paths: ScenarioPaths, node: str, date: str, reason: str) -> Resolution:
    """Retract `node`'s resolution (returned) by appending a `retracted` row dated `date`."""
    scenario = load_scenario(paths.priors)
    return retract_resolution(paths.resolutions, paths.display(paths.resolutions), scenario,
                              node, date, reason)

