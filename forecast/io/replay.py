"""The inputs as they stood on a past date: `--as-of DATE` replays a forecast from only the
evidence and resolutions dated on or before DATE (README, "Time: overdue questions, replays
and backtests").

`inputs_as_of` is pure: it filters the rows and recomputes the evidence hash of what remains, so
a replay is keyed (and cached) exactly as a fit of files truncated to that date would be."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ..errors import fail
from ..model.calendar import scenario_opens
from ..model.spec import Inputs, Scenario
from .evidence import evidence_hash, parse_date

AS_OF_OPTION = "--as-of"


def parse_as_of(value: str | None) -> dt.date | None:
    """`--as-of` as a date, None when not given; a malformed date is a located user error."""
    if value is None or value == "":
        return None
    return parse_date(value.strip(), AS_OF_OPTION, None, None)


def check_as_of(scenario: Scenario, day: dt.date, shown: str = AS_OF_OPTION) -> dt.date:
    """`day`, if the scenario had opened by then (its first question opens); else a user error.
    The scenario's own `as_of` (when the analysis was written) does not limit a replay."""
    opens = scenario_opens(scenario)
    if day < opens:
        raise fail(shown, None, None,
                   f"a date on or after {scenario.id} opens ({opens.isoformat()})", day.isoformat())
    return day


def inputs_as_of(inputs: Inputs, day: dt.date) -> Inputs:
    """The inputs with only the evidence rows and resolutions dated on or before `day`."""
    evidence = tuple(it for it in inputs.evidence if it.date <= day)
    resolutions = tuple(r for r in inputs.resolutions if r.date <= day)
    return dataclasses.replace(inputs, evidence=evidence, resolutions=resolutions,
                               evidence_hash=evidence_hash(evidence, resolutions))


def replay_dates(inputs: Inputs) -> list[dt.date]:
    """The dates a backtest replays: each distinct evidence date, where evidence dated before
    the scenario opens counts from the day it opens (no forecast exists before that)."""
    opens = scenario_opens(inputs.scenario)
    return sorted({max(it.date, opens) for it in inputs.evidence})
