"""Where a scenario's files live under the project root, and loading them all at once."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .. import DEFAULT_SCENARIO
from ..errors import fail, one_of, problem
from ..model.spec import Inputs, Scenario
from .analysts import ANALYST_PATTERN, Analyst, analyst_ids, load_analyst
from .evidence import evidence_hash, load_evidence, load_resolutions
from .priors import load_scenario, parse_scenario
from .replay import check_as_of, inputs_as_of
from .text import read_user_text

SCENARIO_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


def resolve_root(root: Path | str | None) -> Path:
    """`--root`, else $FORECAST_ROOT, else the current directory."""
    if root is None or str(root) == "":
        root = os.environ.get("FORECAST_ROOT") or "."
    return Path(root)


@dataclass(frozen=True)
class ScenarioPaths:
    root: Path
    scenario_id: str

    @property
    def priors(self) -> Path:
        return self.root / "priors" / f"{self.scenario_id}.toml"

    @property
    def analysts(self) -> Path:
        """The analysts' own priors, one `<analyst>.toml` each (io/analysts.py)."""
        return self.root / "priors" / self.scenario_id

    def analyst_priors(self, analyst: str) -> Path:
        return self.analysts / f"{analyst}.toml"

    @property
    def evidence(self) -> Path:
        return self.root / "evidence" / f"{self.scenario_id}.csv"

    @property
    def resolutions(self) -> Path:
        return self.root / "evidence" / f"{self.scenario_id}.resolutions.csv"

    @property
    def reports(self) -> Path:
        return self.root / "reports" / self.scenario_id

    @property
    def cache(self) -> Path:
        """Fitted posteriors keyed by the content of their inputs (io/posterior_cache.py)."""
        return self.reports / ".cache"

    @property
    def history(self) -> Path:
        return self.reports / "history.jsonl"

    @property
    def shown(self) -> Path:
        """The snapshot of the forecast the last report showed (io/history.py `write_shown`)."""
        return self.reports / ".last-report.json"

    def display(self, path: Path) -> str:
        """A path as the user should see it: relative to the root where possible."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def scenario_ids(root: Path) -> list[str]:
    """Ids of the scenario files in `root/priors`, sorted; files whose name is not a valid
    scenario id are not scenarios and are left out."""
    folder = root / "priors"
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml")
                  if p.is_file() and re.match(SCENARIO_ID_PATTERN, p.stem))


def default_scenario(root: Path) -> str:
    """The scenario a command without --scenario works on: the only one under the root, or
    the shipped turkey-peacekeeping where it is one of several; with several others, or none,
    a one-line error that lists them (or says how to start one)."""
    ids = scenario_ids(root)
    if len(ids) == 1:
        return ids[0]
    if DEFAULT_SCENARIO in ids:
        return DEFAULT_SCENARIO
    if not ids:
        raise problem(root / "priors", None, None,
                      "no scenario here (no priors/<id>.toml): `forecast new ID` starts one, "
                      "--root DIR points at another project")
    where = "here" if str(root) == "." else f"under {root}"
    raise problem("--scenario", None, None, f"needed: {len(ids)} scenarios {where}, none of them "
                  f"{DEFAULT_SCENARIO}; give one of {', '.join(ids)}")


def scenario_paths(root: Path | str | None, scenario_id: str | None = None) -> ScenarioPaths:
    """Where the scenario's files are; without `scenario_id`, the root's default scenario."""
    if scenario_id is None:
        root = resolve_root(root)
        return ScenarioPaths(root, default_scenario(root))
    if not re.match(SCENARIO_ID_PATTERN, scenario_id or ""):
        raise fail("--scenario", None, "scenario",
                   "a scenario id of lowercase letters, digits, - and _", scenario_id)
    return ScenarioPaths(resolve_root(root), scenario_id)


def load_scenario_of(paths: ScenarioPaths) -> Scenario:
    """The scenario, with errors named by the path as the user sees it (relative to the root)."""
    return parse_scenario(read_user_text(paths.priors, "a scenario TOML file"),
                          paths.display(paths.priors))


def load_inputs(paths: ScenarioPaths, as_of: dt.date | None = None,
                analyst: str | None = None) -> Inputs:
    """The scenario's files, whole; with `as_of`, only the evidence and resolutions dated on or
    before it (a replay: `--as-of`), and a user error if the scenario had not opened by then.
    With `analyst`, the scenario carries that analyst's priors (io/analysts.py)."""
    scenario = load_scenario(paths.priors)
    if analyst is not None:
        scenario = load_analyst_of(paths, scenario, analyst).scenario
    evidence = load_evidence(paths.evidence, scenario)
    resolutions = load_resolutions(paths.resolutions, scenario)
    inputs = Inputs(
        scenario=scenario,
        evidence=evidence,
        resolutions=resolutions,
        evidence_hash=evidence_hash(evidence, resolutions),
    )
    if as_of is None:
        return inputs
    return inputs_as_of(inputs, check_as_of(scenario, as_of))


def load_analyst_of(paths: ScenarioPaths, scenario, analyst: str) -> Analyst:
    """`analyst`'s view of the scenario, or a one-line error listing the analysts there are."""
    if not ANALYST_PATTERN.match(analyst or ""):
        raise fail("--analyst", None, "analyst", "an analyst id of lowercase letters, digits, "
                   "- and _", analyst)
    path = paths.analyst_priors(analyst)
    if not path.is_file():
        ids = analyst_ids(paths.analysts)
        raise fail("--analyst", None, "analyst",
                   one_of(ids) if ids else f"an analyst's file (none in {paths.display(paths.analysts)})",
                   analyst)
    return load_analyst(path, scenario)


def load_team(paths: ScenarioPaths, scenario) -> list[Analyst]:
    """Every analyst of the scenario (priors/<scenario>/*.toml), sorted by id; [] for none."""
    return [load_analyst(paths.analyst_priors(a), scenario) for a in analyst_ids(paths.analysts)]

