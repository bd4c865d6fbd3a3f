"""Jobs on the set of scenarios: scaffold a new one, list those under a root. Neither fits a
model, so neither imports PyMC."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ForecastError, fail
from ..io.catalog import create_scenario_files, read_chart_history, scenario_ids
from ..io.evidence import load_evidence, load_resolutions
from ..io.priors import load_scenario, parse_scenario
from ..io.project import SCENARIO_ID_PATTERN, ScenarioPaths, resolve_root, scenario_paths
from ..io.scaffold import scaffold_toml
from ..model.calendar import overdue_nodes


@dataclass(frozen=True)
class NewScenario:
    paths: ScenarioPaths
    written: list[Path]

    def as_json(self) -> dict:
        return {"scenario": self.paths.scenario_id,
                "created": [self.paths.display(p) for p in self.written]}


def new_scenario(root: Path | str | None, scenario_id: str, today: dt.date,
                 title: str | None = None, trigger: str | None = None) -> NewScenario:
    """Write priors/ID.toml (a network that fits as it stands) and header-only evidence and
    resolutions CSVs. An existing scenario is never overwritten."""
    if not re.match(SCENARIO_ID_PATTERN, scenario_id):
        raise fail("ID", None, None, "a scenario id of lowercase letters, digits, - and _ "
                   "(e.g. red-sea-shipping)", scenario_id)
    paths = scenario_paths(root, scenario_id)
    text = scaffold_toml(scenario_id, today, title, trigger)
    parse_scenario(text, paths.display(paths.priors))
    return NewScenario(paths, create_scenario_files(paths, text))


def summarise(paths: ScenarioPaths, today: dt.date | None = None) -> dict:
    """One scenario's row: counts from its files, the last snapshot from its history, and the
    questions overdue on `today` (past their deadline, unresolved); a file that does not read
    is reported in `error` (the first problem, as one line)."""
    row = {"id": paths.scenario_id, "title": None, "nodes": None, "evidence_items": None,
           "evidence_rows": None, "resolutions": None, "overdue": None, "overdue_nodes": None,
           "snapshots": 0, "last_snapshot": None, "last_snapshot_generated_at": None,
           "error": None}
    history, _skipped = read_chart_history(paths.history)
    row["snapshots"] = len(history)
    if history:
        row["last_snapshot"] = history[-1]["as_of"]
        row["last_snapshot_generated_at"] = history[-1]["generated_at"] or None
    try:
        scenario = load_scenario(paths.priors)
        row.update(title=scenario.title, nodes=len(scenario.nodes))
        evidence = load_evidence(paths.evidence, scenario)
        row.update(evidence_items=len({item.item_id for item in evidence}), evidence_rows=len(evidence))
        resolutions = load_resolutions(paths.resolutions, scenario)
        row["resolutions"] = len(resolutions)
        late = overdue_nodes(scenario, resolutions, today or dt.date.today())
        row.update(overdue=len(late), overdue_nodes=[
            {"id": n.id, "deadline": n.deadline.isoformat()} for n in late])
    except ForecastError as error:
        row["error"] = str(error)
    return row


def list_scenarios(root: Path | str | None, today: dt.date | None = None) -> dict:
    """Every scenario under the root, sorted by id, with its questions overdue on `today`."""
    base = resolve_root(root)
    today = today or dt.date.today()
    return {"root": str(base), "evaluated_on": today.isoformat(),
            "scenarios": [summarise(ScenarioPaths(base, sid), today) for sid in scenario_ids(base)]}
