"""`forecast evidence validate`: every problem in a scenario's files at once (the priors, then
the evidence and the resolutions against them), where every other command stops at the first.
Each reader lists its problems the one way they all collect them (io/problems.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ForecastError, problem
from ..io.csv_rows import read_rows
from ..io.evidence import (
    RESOLUTION_COLUMNS,
    RETRACTED,
    evidence_problems,
    parse_evidence,
    parse_resolutions,
    resolution_problems,
)
from ..io.priors import scenario_problems
from ..io.project import ScenarioPaths, load_scenario_of
from ..io.text import read_user_text
from ..model.placeholders import PLACEHOLDER, unwritten


@dataclass
class Validation:
    """The outcome of `evidence validate`: every problem, and what was checked."""

    problems: list[ForecastError] = field(default_factory=list)
    checked: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_scenario(paths: ScenarioPaths) -> Validation:
    """Check the priors, the evidence and the resolutions of a scenario and collect every
    problem. Evidence can only be checked against readable priors (nodes, LR scale)."""
    result = Validation()
    shown_priors = paths.display(paths.priors)
    try:
        found = scenario_problems(read_user_text(paths.priors, "a scenario TOML file"),
                                  shown_priors)
    except ForecastError as error:
        found = [error]
    if found:
        result.problems.extend(found)
        result.problems.append(problem(paths.display(paths.evidence), None, None,
                                       "not checked: the priors must be valid first"))
        return result
    scenario = load_scenario_of(paths)
    result.checked[shown_priors] = f"{len(scenario.nodes)} nodes"
    result.problems.extend(
        problem(shown_priors, where, key, f"still to be written (replace the placeholder that "
                f"starts with '{PLACEHOLDER}')") for where, key in unwritten(scenario))
    files = ((paths.evidence, parse_evidence, evidence_problems, "an evidence CSV", "rows"),
             (paths.resolutions, parse_resolutions, resolution_problems, "a resolutions CSV",
              "resolutions"))
    for path, parse, problems_in, what, noun in files:
        shown = paths.display(path)
        if parse is parse_resolutions and not path.exists():
            continue
        try:
            text = read_user_text(path, what)
        except ForecastError as error:
            result.problems.append(error)
            continue
        found = problems_in(text, shown, scenario)
        result.problems.extend(found)
        if not found:
            parsed = parse(text, shown, scenario)
            extra = ""
            if parse is parse_evidence:
                extra = f", {len({it.item_id for it in parsed})} items"
            elif retracted := sum(row["outcome"].lower() == RETRACTED
                                  for _line, row in read_rows(text, shown, RESOLUTION_COLUMNS)):
                extra = f" in force, {retracted} retracted"
            result.checked[shown] = f"{len(parsed)} {noun}{extra}"
    return result
